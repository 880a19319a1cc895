//! The operators of vector calculus built on [`super::derivative`]:
//! `laplacian`, `divergence` and `curl` (2-d and 3-d), every argument
//! validated before any node is built.

use oxla_ir::Tensor;

use super::{AxisGrid, Derivative, FdError, FdSpec, build};

/// One grid per axis of a `ndim`-d array: `grid` itself, or its one entry
/// repeated.
fn per_axis<'a>(
    op: &'static str,
    grid: &'a [AxisGrid],
    ndim: usize,
) -> Result<Vec<&'a AxisGrid>, FdError> {
    match grid {
        [one] => Ok(vec![one; ndim]),
        many if many.len() == ndim => Ok(many.iter().collect()),
        _ => Err(FdError::InvalidArity {
            op,
            what: format!(
                "takes one grid for every axis or one per axis: {} grid(s) for {ndim} axes",
                grid.len()
            ),
        }),
    }
}

/// The `(field, spec)` pairs of a sum of derivatives, all validated.
fn specs(
    shape: &[usize],
    terms: &[(usize, i64, usize)],
    accuracy: i64,
    grids: &[&AxisGrid],
) -> Result<Vec<(usize, FdSpec)>, FdError> {
    terms
        .iter()
        .map(|&(field, order, axis)| {
            let d = Derivative::on(axis as i64, order, accuracy, grids[axis]);
            Ok((field, FdSpec::new(shape, &d)?))
        })
        .collect()
}

/// `Σ ± D fields[k]` over `terms` (field, order, axis, negated), summed left to right.
fn signed_sum(
    fields: &[Tensor],
    specs: &[(usize, FdSpec)],
    signs: &[bool],
) -> Result<Tensor, FdError> {
    let mut total: Option<Tensor> = None;
    for ((field, spec), &negative) in specs.iter().zip(signs) {
        let d = build(&fields[*field], spec)?;
        total = Some(match (total, negative) {
            (None, false) => d,
            (None, true) => d.neg()?,
            (Some(t), false) => t.add(&d)?,
            (Some(t), true) => t.sub(&d)?,
        });
    }
    total.ok_or_else(|| FdError::InvalidArity {
        op: "a vector operator",
        what: "has no terms".into(),
    })
}

/// The components of a vector field: `count` arrays of one shape and dtype.
fn check_field(op: &'static str, fields: &[Tensor], counts: &[usize]) -> Result<(), FdError> {
    if !counts.contains(&fields.len()) {
        return Err(FdError::InvalidArity {
            op,
            what: format!(
                "takes {} components, got {}",
                counts
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                fields.len()
            ),
        });
    }
    let describe = |t: &Tensor| format!("{}{:?}", t.dtype(), t.shape());
    for (index, t) in fields.iter().enumerate() {
        if t.shape() != fields[0].shape() || t.dtype() != fields[0].dtype() {
            return Err(FdError::FieldMismatch {
                index,
                expected: describe(&fields[0]),
                found: describe(t),
            });
        }
        if t.ndim() != fields.len() {
            return Err(FdError::InvalidArity {
                op,
                what: format!(
                    "takes one component per dimension: {} components of {}-d arrays",
                    fields.len(),
                    t.ndim()
                ),
            });
        }
    }
    Ok(())
}

/// The Laplacian `Σ_k ∂²f/∂x_k²` over every axis of `f`, each second
/// derivative with `accuracy` on its grid, summed in axis order.
///
/// `grid` has one entry per axis, or one for all.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{laplacian, AxisGrid};
/// // x^2 + y^2 on a 6x7 grid of unit steps: its Laplacian is 4 everywhere
/// let f = ndarray::Array2::from_shape_fn((6, 7), |(i, j)| (i * i + j * j) as f64);
/// let lap = laplacian(&Tensor::from_host(f.into_dyn())?, &[AxisGrid::step(1.0)], 2)?;
/// let v = evaluate(&[lap], &Bindings::new())?;
/// assert!(v[0].as_array::<f64>()?.iter().all(|&x| (x - 4.0).abs() < 1e-12));
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn laplacian(f: &Tensor, grid: &[AxisGrid], accuracy: i64) -> Result<Tensor, FdError> {
    let grids = per_axis("laplacian", grid, f.ndim())?;
    let terms: Vec<(usize, i64, usize)> = (0..f.ndim()).map(|axis| (0, 2, axis)).collect();
    let specs = specs(f.shape(), &terms, accuracy, &grids)?;
    signed_sum(std::slice::from_ref(f), &specs, &vec![false; terms.len()])
}

/// The divergence `Σ_k ∂F_k/∂x_k` of the field whose component `k` is
/// `fields[k]` (one component per axis), summed in axis order.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{divergence, AxisGrid};
/// // F = (x, y) on a unit grid: div F = 2
/// let x = ndarray::Array2::from_shape_fn((6, 6), |(i, _)| i as f64);
/// let y = ndarray::Array2::from_shape_fn((6, 6), |(_, j)| j as f64);
/// let fields = [Tensor::from_host(x.into_dyn())?, Tensor::from_host(y.into_dyn())?];
/// let div = divergence(&fields, &[AxisGrid::step(1.0)], 4)?;
/// let v = evaluate(&[div], &Bindings::new())?;
/// assert!(v[0].as_array::<f64>()?.iter().all(|&d| (d - 2.0).abs() < 1e-12));
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn divergence(fields: &[Tensor], grid: &[AxisGrid], accuracy: i64) -> Result<Tensor, FdError> {
    let ndim = fields.len();
    check_field("divergence", fields, &[ndim.max(1)])?;
    let grids = per_axis("divergence", grid, ndim)?;
    let terms: Vec<(usize, i64, usize)> = (0..ndim).map(|k| (k, 1, k)).collect();
    let specs = specs(fields[0].shape(), &terms, accuracy, &grids)?;
    signed_sum(fields, &specs, &vec![false; ndim])
}

/// The curl of a 2-d or 3-d field `(F_x, F_y[, F_z])`, axis `k` being
/// coordinate `k`: in 2-d the scalar `∂F_y/∂x - ∂F_x/∂y` (one tensor), in
/// 3-d the three components `(∂F_z/∂y - ∂F_y/∂z, ∂F_x/∂z - ∂F_z/∂x,
/// ∂F_y/∂x - ∂F_x/∂y)`, as findiff's `Curl` computes them.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{curl, AxisGrid};
/// // the rotation F = (-y, x): curl 2
/// let fx = ndarray::Array2::from_shape_fn((5, 6), |(_, j)| -(j as f64));
/// let fy = ndarray::Array2::from_shape_fn((5, 6), |(i, _)| i as f64);
/// let fields = [Tensor::from_host(fx.into_dyn())?, Tensor::from_host(fy.into_dyn())?];
/// let c = curl(&fields, &[AxisGrid::step(1.0)], 2)?;
/// let v = evaluate(&c, &Bindings::new())?;
/// assert!(v[0].as_array::<f64>()?.iter().all(|&w| (w - 2.0).abs() < 1e-12));
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn curl(fields: &[Tensor], grid: &[AxisGrid], accuracy: i64) -> Result<Vec<Tensor>, FdError> {
    check_field("curl", fields, &[2, 3])?;
    let ndim = fields.len();
    let grids = per_axis("curl", grid, ndim)?;
    // (component, axis) of each positive and negative part
    type Part = (usize, usize);
    let parts: &[(Part, Part)] = if ndim == 2 {
        &[((1, 0), (0, 1))]
    } else {
        &[((2, 1), (1, 2)), ((0, 2), (2, 0)), ((1, 0), (0, 1))]
    };
    let all: Vec<Vec<(usize, FdSpec)>> = parts
        .iter()
        .map(|&((fp, ap), (fm, am))| {
            specs(
                fields[0].shape(),
                &[(fp, 1, ap), (fm, 1, am)],
                accuracy,
                &grids,
            )
        })
        .collect::<Result<_, _>>()?;
    all.iter()
        .map(|s| signed_sum(fields, s, &[false, true]))
        .collect()
}
