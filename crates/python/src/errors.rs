//! oxla's errors as the exceptions NumPy raises for the same mistakes.
//!
//! | oxla error | Python exception |
//! | --- | --- |
//! | `GradientError::AxisOutOfBounds` | `numpy.exceptions.AxisError` (a `ValueError` and an `IndexError`) |
//! | `GradientError::InvalidSpacingCount` | `TypeError` |
//! | `GradientError::ZeroStep` | `ZeroDivisionError` |
//! | `IrError::BooleanInput` | `TypeError` (NumPy's boolean subtract) |
//! | `JitError::OutOfMemory` | `MemoryError` |
//! | every other argument error | `ValueError` |
//!
//! The message is always oxla's own (which starts with NumPy's wording
//! where NumPy has one), never reworded here.

use oxla::{Error, GradientError, IrError, JitError};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError, PyZeroDivisionError};
use pyo3::prelude::*;

/// The Python exception for an oxla error.
pub(crate) fn to_py(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    match err {
        Error::Gradient(GradientError::AxisOutOfBounds { axis, ndim }) => {
            axis_error(py, axis, ndim).unwrap_or_else(|| PyValueError::new_err(message))
        }
        Error::Gradient(GradientError::InvalidSpacingCount { .. }) => PyTypeError::new_err(message),
        Error::Gradient(GradientError::ZeroStep { .. }) => PyZeroDivisionError::new_err(message),
        Error::Gradient(GradientError::Ir(IrError::BooleanInput))
        | Error::Ir(IrError::BooleanInput) => PyTypeError::new_err(message),
        Error::Jit(JitError::OutOfMemory { .. }) => PyMemoryError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// `Result<T, oxla::Error>` to `PyResult<T>`.
pub(crate) trait OrRaise<T> {
    /// The value, or the error as its Python exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T, E: Into<Error>> OrRaise<T> for Result<T, E> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e.into()))
    }
}

/// `numpy.exceptions.AxisError(axis, ndim)`, whose message is NumPy's
/// "axis 3 is out of bounds for array of dimension 2" (oxla's too), with
/// its `axis` and `ndim` attributes set. `None` if NumPy cannot be
/// imported (it always can: the argument was a NumPy array).
fn axis_error(py: Python<'_>, axis: i64, ndim: usize) -> Option<PyErr> {
    let class = py
        .import("numpy.exceptions")
        .and_then(|m| m.getattr("AxisError"))
        .ok()?;
    let instance = class.call1((axis, ndim)).ok()?;
    Some(PyErr::from_value(instance))
}
