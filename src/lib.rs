//! oxla: a JAX-style lazy array framework in Rust whose flagship op is
//! `numpy.gradient`.
//!
//! Build lazy [`Tensor`]s (from `ndarray` arrays with [`Tensor::from_host`]),
//! call NumPy-shaped ops such as [`numpy::gradient`], and evaluate the
//! results with [`eval`]. Arguments are validated once, with NumPy's rules;
//! results are NumPy's bit for bit.
//!
//! ```
//! use oxla::{numpy, Axes, Tensor};
//! let f = Tensor::from_host(ndarray::array![1u8, 2, 4, 7, 11].into_dyn())?; // ints become f64
//! let df = numpy::gradient(&f, &[], Axes::All, 1)?;
//! let values = oxla::eval(&df)?;
//! assert_eq!(values[0].as_array::<f64>()?.as_slice().unwrap(), &[1.0, 1.5, 2.5, 3.5, 4.0]);
//! # Ok::<(), oxla::Error>(())
//! ```

mod error;
pub mod numpy;

pub use error::Error;
pub use oxla_ir::{ArrayElement, ArrayValue, DType, Element, HostArray, IrError, Tensor};
pub use oxla_lower::{Axes, EdgeOrder, GradientError, Spacing};

/// Evaluate tensors together, returning their values in order.
///
/// ```
/// use oxla::{DType, Tensor};
/// let x = Tensor::scalar(DType::F32, 1.5);
/// let v = oxla::eval(&[x.add(&x)?])?;
/// assert_eq!(v[0].as_array::<f32>()?.first(), Some(&3.0));
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn eval(outputs: &[Tensor]) -> Result<Vec<ArrayValue>, Error> {
    eval_reference(outputs)
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
