//! Finite differences beyond `numpy.gradient`: derivatives of any order
//! (1 to [`MAX_ORDER`]) and any even accuracy (2 to [`MAX_ACCURACY`] on
//! uniform axes, [`MAX_COORD_ACCURACY`] on coordinate axes), with one-sided
//! or periodic ends, as one differentiable stencil op per derivative
//! ([`FdOp`]).
//!
//! - [`Derivative`] holds the arguments; [`FdSpec::new`] validates them
//!   once, every bad one an [`FdError`].
//! - The weights are Fornberg's (1988): on a uniform axis computed exactly
//!   (rational arithmetic) at plan time and rounded to `f64` once; on a
//!   coordinate axis computed per row in `f64` as graph nodes from the
//!   coordinates, so they are differentiable.
//! - Stencil layouts follow findiff 0.16 ([`derivative`] has the rules).
//!   Order 1, accuracy 2 with one-sided ends is `numpy.gradient(...,
//!   edge_order=2)`, bit for bit.
//! - [`laplacian`], [`divergence`] and [`curl`] are sums of derivatives;
//!   mixed partials are compositions ([`mixed`]).
//!
//! ```
//! use oxla_ir::{evaluate, Bindings, Tensor};
//! use oxla_lower::fd::{derivative, Derivative};
//! // sin on a periodic grid of 64 points: the second derivative is -sin
//! let n = 64;
//! let h = std::f64::consts::TAU / n as f64;
//! let f = ndarray::Array1::from_shape_fn(n, |i| (i as f64 * h).sin());
//! let d2 = derivative(
//!     &Tensor::from_host(f.into_dyn())?,
//!     &Derivative::new(0, 2).accuracy(4).spacing(h).periodic(),
//! )?;
//! let v = evaluate(&[d2], &Bindings::new())?;
//! let err = v[0].as_array::<f64>()?.iter().enumerate()
//!     .map(|(i, d)| (d + (i as f64 * h).sin()).abs())
//!     .fold(0.0, f64::max);
//! assert!(err < 1e-5);
//! # Ok::<(), oxla_lower::fd::FdError>(())
//! ```

mod error;
mod fornberg;
mod groups;
mod op;
mod ratio;
mod rows;
mod scheme;
mod spec;
mod stencil;
mod vector;

use std::sync::Arc;

use oxla_ir::Tensor;

pub use error::FdError;
pub use fornberg::weights;
pub use op::FdOp;
pub use spec::{
    AxisGrid, Boundary, Derivative, FdSpec, MAX_ACCURACY, MAX_COORD_ACCURACY, MAX_ORDER,
};
pub use vector::{curl, divergence, laplacian};

/// The derivative `d` of `f`, lazily: one [`FdOp`] node.
///
/// Stencils (findiff 0.16's conventions), with `m` the order and `p` the
/// accuracy: on a uniform axis the centered stencil has
/// `2*floor((m+1)/2) - 1 + p` points and is used on every row it fits;
/// with one-sided ends the first and last rows it does not fit use one
/// forward (backward) stencil of the same accuracy starting at the row
/// itself, one point longer for even `m`. On a coordinate axis every
/// stencil has that one-sided size (no symmetry bonus), the centered one
/// rounded up to an odd count, and the rows near an end use the points
/// nearest it. Periodic axes use the centered stencil everywhere,
/// wrapping; a periodic coordinate axis needs its period length.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{derivative, Derivative};
/// let f = Tensor::from_host(ndarray::arr1(&[1.0, 2.0, 4.0, 7.0, 11.0, 16.0]).into_dyn())?;
/// let d = derivative(&f, &Derivative::new(0, 1).accuracy(4).spacing(0.5))?;
/// let v = evaluate(&[d], &Bindings::new())?;
/// assert_eq!(v[0].shape(), &[6]);
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn derivative(f: &Tensor, d: &Derivative) -> Result<Tensor, FdError> {
    build(f, &FdSpec::new(f.shape(), d)?)
}

/// Several derivatives of one array, every argument validated before any
/// node is built. Evaluated together, they read `f` once.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{derivatives, Derivative, FdError};
/// let f = Tensor::from_host(ndarray::Array2::<f64>::zeros((8, 12)).into_dyn())?;
/// let ds = [Derivative::new(0, 2), Derivative::new(1, 4).accuracy(4)];
/// assert_eq!(evaluate(&derivatives(&f, &ds)?, &Bindings::new())?.len(), 2);
/// // one bad derivative, and nothing is built
/// let bad = [Derivative::new(0, 2), Derivative::new(1, 0)];
/// assert!(matches!(derivatives(&f, &bad), Err(FdError::InvalidOrder { .. })));
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn derivatives(f: &Tensor, ds: &[Derivative]) -> Result<Vec<Tensor>, FdError> {
    let specs = ds
        .iter()
        .map(|d| FdSpec::new(f.shape(), d))
        .collect::<Result<Vec<_>, _>>()?;
    specs.iter().map(|s| build(f, s)).collect()
}

/// The mixed partial derivative `ds[n-1](... ds[0](f))`: each derivative
/// applied to the result of the one before (e.g. `∂²f/∂x∂y` from the
/// first derivatives along two axes), every argument validated first.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::{mixed, Derivative};
/// // f = x*y on a unit grid: d2f/dxdy = 1
/// let f = ndarray::Array2::from_shape_fn((5, 6), |(i, j)| (i * j) as f64);
/// let dxy = mixed(
///     &Tensor::from_host(f.into_dyn())?,
///     &[Derivative::new(0, 1), Derivative::new(1, 1)],
/// )?;
/// let v = evaluate(&[dxy], &Bindings::new())?;
/// assert!(v[0].as_array::<f64>()?.iter().all(|&x| (x - 1.0).abs() < 1e-12));
/// # Ok::<(), oxla_lower::fd::FdError>(())
/// ```
pub fn mixed(f: &Tensor, ds: &[Derivative]) -> Result<Tensor, FdError> {
    let specs = ds
        .iter()
        .map(|d| FdSpec::new(f.shape(), d))
        .collect::<Result<Vec<_>, _>>()?;
    specs.iter().try_fold(f.clone(), |g, s| build(&g, s))
}

/// The exact weights of the uniform stencil for the derivative of `order`
/// from the integer `offsets` (unit step), rounded once to `f64`: what the
/// op multiplies by (before dividing by `h^order`). `None` if the offsets
/// repeat, are too few, or their weights do not fit exact arithmetic.
///
/// ```
/// use oxla_lower::fd::uniform_weights;
/// assert_eq!(
///     uniform_weights(2, &[-2, -1, 0, 1, 2]).unwrap(),
///     vec![-1.0 / 12.0, 4.0 / 3.0, -2.5, 4.0 / 3.0, -1.0 / 12.0]
/// );
/// ```
pub fn uniform_weights(order: usize, offsets: &[isize]) -> Option<Vec<f64>> {
    let distinct = offsets
        .iter()
        .enumerate()
        .all(|(i, a)| !offsets[..i].contains(a));
    if offsets.len() <= order || !distinct {
        return None;
    }
    let w = groups::exact_weights(order, offsets).ok()?;
    Some(w.into_iter().map(ratio::Ratio::to_f64).collect())
}

/// An error of the lowering: an invariant broke (arguments are validated
/// before any node is built, so this is a bug in oxla).
pub(crate) fn lowering_error(reason: String) -> oxla_ir::IrError {
    oxla_ir::IrError::Composite { name: "fd", reason }
}

/// The one node of a validated derivative.
fn build(f: &Tensor, spec: &FdSpec) -> Result<Tensor, FdError> {
    let (op, input) = spec.op();
    let inputs: Vec<Tensor> = std::iter::once(f.clone()).chain(input).collect();
    Ok(Tensor::composite(Arc::new(op), &inputs)?)
}
