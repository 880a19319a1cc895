//! oxla: a JAX-style lazy array framework in Rust whose flagship op is
//! `numpy.gradient`.
//!
//! Build lazy [`Tensor`]s (from `ndarray` arrays with [`Tensor::from_host`]),
//! call NumPy-shaped ops such as [`numpy::gradient`], and evaluate the
//! results with [`eval`]. Arguments are validated once, with NumPy's rules;
//! results are NumPy's bit for bit.
//!
//! [`fd`] goes beyond `numpy.gradient`: derivatives of any order and even
//! accuracy, periodic axes, Laplacian, divergence and curl, all
//! differentiable and fused.
//!
//! Derivatives are program transformations, as in JAX: [`jvp`], [`vjp`],
//! [`grad`], [`value_and_grad`] and [`linear_transpose`] take a closure over
//! tensors and return lazy tensors; `gradient` is differentiable in `f` (its
//! transpose is one fused adjoint stencil) and in its coordinates.
//!
//! ```
//! use oxla::{numpy, Axes, Tensor};
//! let f = Tensor::from_host(ndarray::array![1u8, 2, 4, 7, 11].into_dyn())?; // ints become f64
//! let df = numpy::gradient(&f, &[], Axes::All, 1)?;
//! let values = oxla::eval(&df)?;
//! assert_eq!(values[0].as_array::<f64>()?.as_slice().unwrap(), &[1.0, 1.5, 2.5, 3.5, 4.0]);
//! # Ok::<(), oxla::Error>(())
//! ```
//!
//! A smoothness penalty `sum(|grad f|^2)` and its gradient with respect to `f`:
//!
//! ```
//! use oxla::{numpy, value_and_grad, Axes, Error, Tensor};
//! let f = Tensor::from_host(ndarray::array![[0.0, 1.0, 4.0], [1.0, 2.0, 5.0]].into_dyn())?;
//! let (loss, g) = value_and_grad(
//!     |xs: &[Tensor]| {
//!         let mut total: Option<Tensor> = None;
//!         for d in numpy::gradient(&xs[0], &[], Axes::All, 1)? {
//!             let s = d.mul(&d)?.reduce_sum(&[0, 1])?;
//!             total = Some(match total { Some(t) => t.add(&s)?, None => s });
//!         }
//!         Ok::<_, Error>(total.into_iter().collect())
//!     },
//!     &[f],
//! )?;
//! let v = oxla::eval(&[loss, g[0].clone()])?;
//! assert_eq!(v[1].shape(), &[2, 3]);
//! # Ok::<(), Error>(())
//! ```

mod error;
pub mod fd;
pub mod numpy;

pub use error::Error;
pub use oxla_autodiff::{
    AutodiffError, LinearTranspose, Pullback, Role, grad, grad_wrt, jvp, linear_transpose,
    value_and_grad, vjp, vjp_wrt,
};
pub use oxla_ir::broadcast::broadcast_shapes;
pub use oxla_ir::{
    ArrayElement, ArrayValue, BinaryFn, Compare, DType, Element, HostArray, IrError, Mask, Math,
    SplitMix64, Tensor, UnaryFn,
};
pub use oxla_ir::{cached_memory_bytes, half, ndarray, num_complex, pool, release_cached_memory};
pub use oxla_jit::{
    ArrayRef, Executable, Jit, JitError, KernelSummary, PlanSummary, compile, copy_streaming, jit,
    threads,
};
pub use oxla_lower::{Axes, AxisWindow, EdgeOrder, GradientError, Spacing};

/// Evaluate tensors together with fused kernels, returning their values in order.
///
/// The graph is compiled on first sight (see [`oxla_jit::eval`]) and the
/// plan is reused for later graphs of the same structure. Results are
/// bit-identical to [`eval_reference`]. Evaluate related outputs in one
/// call (all axes of a `gradient`, a loss and its gradient) so they share
/// one pass over memory.
///
/// ```
/// use oxla::{DType, Tensor};
/// let x = Tensor::scalar(DType::F32, 1.5);
/// let v = oxla::eval(&[x.add(&x)?])?;
/// assert_eq!(v[0].as_array::<f32>()?.first(), Some(&3.0));
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn eval(outputs: &[Tensor]) -> Result<Vec<ArrayValue>, Error> {
    Ok(oxla_jit::eval(outputs)?)
}

/// [`eval`], with parameters bound to arrays that kernels read in place
/// ([`ArrayRef`]: memory the caller owns, such as a NumPy array's), so a
/// large input is not copied first (see [`oxla_jit::eval_with`]).
///
/// ```
/// use oxla::{ArrayRef, Axes, DType, Tensor};
/// let f = Tensor::parameter(&[5], DType::F64);
/// let df = oxla::numpy::gradient(&f, &[], Axes::All, 1)?;
/// let data = [1.0, 2.0, 4.0, 7.0, 11.0];
/// let v = oxla::eval_with(&df, &[(&f, ArrayRef::new(&[5], &data)?)])?;
/// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[1.0, 1.5, 2.5, 3.5, 4.0]);
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn eval_with(
    outputs: &[Tensor],
    bound: &[(&Tensor, ArrayRef<'_>)],
) -> Result<Vec<ArrayValue>, Error> {
    Ok(oxla_jit::eval_with(outputs, bound)?)
}

/// Evaluate with the reference interpreter (one primitive at a time): the
/// oracle every faster path is tested against.
pub fn eval_reference(outputs: &[Tensor]) -> Result<Vec<ArrayValue>, Error> {
    let values = oxla_ir::evaluate(outputs, &oxla_ir::Bindings::new())?;
    Ok(values
        .into_iter()
        .map(|v| std::sync::Arc::try_unwrap(v).unwrap_or_else(|shared| (*shared).clone()))
        .collect())
}

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// docs/stencils.md's examples, run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../docs/stencils.md")]
pub struct StencilsDoctests;
