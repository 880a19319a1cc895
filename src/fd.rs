//! Finite differences beyond `numpy.gradient`: any derivative order, any
//! even accuracy, one-sided or periodic ends, uniform steps or coordinates;
//! differentiable (in `f` by an op-level transpose, in the coordinates
//! through the lowering) and fused by the jit with everything else that
//! reads the same array.
//!
//! Every function validates all of its arguments before building anything
//! (each bad one an [`FdError`]) and forwards to [`oxla_lower::fd`], where
//! the stencils and their weights (Fornberg's) are documented; see also
//! `docs/stencils.md`.
//!
//! ```
//! use oxla::fd::{self, Derivative};
//! use oxla::Tensor;
//! // f(x, y) = sin(x) cos(y) on a periodic 64 x 64 grid
//! let n = 64;
//! let h = std::f64::consts::TAU / n as f64;
//! let f = ndarray::Array2::from_shape_fn((n, n), |(i, j)| (i as f64 * h).sin() * (j as f64 * h).cos());
//! let f = Tensor::from_host(f.into_dyn())?;
//! // the second derivatives along both axes, 4th-order accurate: one pass over f
//! let d2 = fd::derivatives(&f, &[
//!     Derivative::new(0, 2).accuracy(4).spacing(h).periodic(),
//!     Derivative::new(1, 2).accuracy(4).spacing(h).periodic(),
//! ])?;
//! let v = oxla::eval(&d2)?;
//! let exact = -(h).sin() * (2.0 * h).cos(); // at (1, 2)
//! assert!((v[0].as_array::<f64>()?[[1, 2]] - exact).abs() < 1e-5);
//! # Ok::<(), oxla::Error>(())
//! ```

use oxla_ir::Tensor;

use crate::Error;

pub use oxla_lower::fd::{
    AxisGrid, Boundary, Derivative, FdError, FdOp, FdSpec, MAX_ACCURACY, MAX_COORD_ACCURACY,
    MAX_ORDER, uniform_weights, weights,
};

/// The derivative `d` of `f`, lazily (see [`oxla_lower::fd::derivative`]).
///
/// ```
/// use oxla::fd::{derivative, Derivative};
/// use oxla::Tensor;
/// let x: Vec<f64> = (0..8).map(|i| i as f64 * 0.5).collect();
/// let f = Tensor::from_host(ndarray::Array1::from_iter(x.iter().map(|x| x.powi(3))).into_dyn())?;
/// // (x^3)'' = 6x, exact with accuracy 2 inside and at the ends
/// let d2 = oxla::eval(&[derivative(&f, &Derivative::new(0, 2).spacing(0.5))?])?;
/// for (d, x) in d2[0].as_array::<f64>()?.iter().zip(&x) {
///     assert!((d - 6.0 * x).abs() < 1e-12);
/// }
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn derivative(f: &Tensor, d: &Derivative) -> Result<Tensor, Error> {
    Ok(oxla_lower::fd::derivative(f, d)?)
}

/// Several derivatives of one array (see [`oxla_lower::fd::derivatives`]);
/// evaluate them together to read `f` once.
///
/// ```
/// use oxla::fd::{derivatives, Derivative};
/// use oxla::Tensor;
/// let f = ndarray::Array2::from_shape_fn((8, 8), |(i, j)| (i * i + j * j * j) as f64);
/// let d = derivatives(&Tensor::from_host(f.into_dyn())?, &[Derivative::new(0, 2), Derivative::new(1, 3)])?;
/// let v = oxla::eval(&d)?; // one pass over f
/// assert!((v[0].as_array::<f64>()?[[4, 4]] - 2.0).abs() < 1e-12); // d2(i^2)/di2 = 2
/// assert!((v[1].as_array::<f64>()?[[4, 4]] - 6.0).abs() < 1e-12); // d3(j^3)/dj3 = 6
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn derivatives(f: &Tensor, ds: &[Derivative]) -> Result<Vec<Tensor>, Error> {
    Ok(oxla_lower::fd::derivatives(f, ds)?)
}

/// A mixed partial derivative, `ds` applied in order (see [`oxla_lower::fd::mixed`]).
///
/// ```
/// use oxla::fd::{mixed, Derivative};
/// use oxla::Tensor;
/// let f = ndarray::Array2::from_shape_fn((6, 6), |(i, j)| (i * i * j) as f64);
/// let d = mixed(&Tensor::from_host(f.into_dyn())?, &[Derivative::new(0, 1).accuracy(4), Derivative::new(1, 1)])?;
/// let v = oxla::eval(&[d])?; // d2(x^2 y)/dxdy = 2x
/// assert!((v[0].as_array::<f64>()?[[3, 2]] - 6.0).abs() < 1e-12);
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn mixed(f: &Tensor, ds: &[Derivative]) -> Result<Tensor, Error> {
    Ok(oxla_lower::fd::mixed(f, ds)?)
}

/// The Laplacian of `f` (see [`oxla_lower::fd::laplacian`]).
///
/// ```
/// use oxla::fd::{laplacian, AxisGrid};
/// use oxla::Tensor;
/// let f = ndarray::Array2::from_shape_fn((8, 8), |(i, j)| (i * i) as f64 - (j * j) as f64);
/// let lap = laplacian(&Tensor::from_host(f.into_dyn())?, &[AxisGrid::step(1.0)], 4)?;
/// assert!(oxla::eval(&[lap])?[0].as_array::<f64>()?.iter().all(|x| x.abs() < 1e-12));
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn laplacian(f: &Tensor, grid: &[AxisGrid], accuracy: i64) -> Result<Tensor, Error> {
    Ok(oxla_lower::fd::laplacian(f, grid, accuracy)?)
}

/// The divergence of a vector field, one component per axis (see
/// [`oxla_lower::fd::divergence`]).
///
/// ```
/// use oxla::fd::{divergence, AxisGrid};
/// use oxla::Tensor;
/// // F = (x^2, -2xy) on a grid of step 0.5: div F = 2x - 2x = 0
/// let fx = ndarray::Array2::from_shape_fn((6, 6), |(i, _)| (0.5 * i as f64).powi(2));
/// let fy = ndarray::Array2::from_shape_fn((6, 6), |(i, j)| -2.0 * (0.5 * i as f64) * (0.5 * j as f64));
/// let fields = [Tensor::from_host(fx.into_dyn())?, Tensor::from_host(fy.into_dyn())?];
/// let div = divergence(&fields, &[AxisGrid::step(0.5)], 2)?;
/// assert!(oxla::eval(&[div])?[0].as_array::<f64>()?.iter().all(|d| d.abs() < 1e-12));
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn divergence(fields: &[Tensor], grid: &[AxisGrid], accuracy: i64) -> Result<Tensor, Error> {
    Ok(oxla_lower::fd::divergence(fields, grid, accuracy)?)
}

/// The curl of a 2-d (one scalar) or 3-d (three components) vector field
/// (see [`oxla_lower::fd::curl`]).
///
/// ```
/// use oxla::fd::{curl, AxisGrid};
/// use oxla::Tensor;
/// // F = (0, 0, x) in 3-d: curl F = (0, -1, 0)
/// let zero = Tensor::from_host(ndarray::Array3::<f64>::zeros((4, 4, 4)).into_dyn())?;
/// let x = Tensor::from_host(ndarray::Array3::from_shape_fn((4, 4, 4), |(i, _, _)| i as f64).into_dyn())?;
/// let c = oxla::eval(&curl(&[zero.clone(), zero, x], &[AxisGrid::step(1.0)], 2)?)?;
/// assert!(c[1].as_array::<f64>()?.iter().all(|&v| (v + 1.0).abs() < 1e-12));
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn curl(fields: &[Tensor], grid: &[AxisGrid], accuracy: i64) -> Result<Vec<Tensor>, Error> {
    Ok(oxla_lower::fd::curl(fields, grid, accuracy)?)
}
