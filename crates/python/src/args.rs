//! `numpy.gradient`'s arguments as the library takes them.
//!
//! The Python layer has already sorted each spacing argument into a
//! Python float (a "weak" step: `Spacing::Scalar`) or a NumPy array (a 0-d
//! "strong" step or 1-d coordinates: `Spacing::Array`), and `axis` into
//! `None` or a list of ints. Every rule about them (counts, shapes, axis
//! ranges, repeats, edge order, zero steps) is the library's
//! (`GradientSpec`), checked by [`Call::check`].

use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use oxla::{Axes, DType, Error, GradientError, Spacing, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::array::{self, Kind, Part};
use crate::errors::to_py;

/// The arguments of one `gradient` call, other than `f`.
pub(crate) struct Call {
    /// The spacing arguments, in order.
    pub spacing: Vec<Spacing>,
    /// The axes, as given.
    pub axes: Axes,
    /// The edge order, as given.
    pub edge_order: i64,
}

impl Call {
    /// Convert the arguments (nothing is checked yet but their types).
    pub fn new(
        spacing: &[Bound<'_, PyAny>],
        axis: Option<Vec<i64>>,
        edge_order: i64,
    ) -> PyResult<Call> {
        Ok(Call {
            spacing: spacing.iter().map(one_spacing).collect::<PyResult<_>>()?,
            axes: axis.map_or(Axes::All, Axes::Some),
            edge_order,
        })
    }

    /// Check the arguments for an array of `shape` and `kind`, with
    /// NumPy's rules, in NumPy's order, and return the selected axes,
    /// normalized, in output order.
    ///
    /// Booleans: NumPy checks the arguments and then, axis by axis, the
    /// axis' length before computing it; its first subtraction of booleans
    /// fails. So a boolean array with at least one axis to differentiate
    /// is a `TypeError`, unless an argument error or the first axis'
    /// length comes first.
    pub fn check(&self, py: Python<'_>, shape: &[usize], kind: Kind) -> PyResult<Vec<usize>> {
        let dtype = match kind {
            Kind::Number(d) => d,
            Kind::Bool => DType::F64,
        };
        let f = Tensor::parameter(shape, dtype);
        let checked = oxla::numpy::gradient(&f, &self.spacing, self.axes.clone(), self.edge_order);
        let ndim = shape.len() as i64;
        let axes: Vec<usize> = match &self.axes {
            Axes::All => (0..shape.len()).collect(),
            // in range: every error that is not an axis error means so
            Axes::Some(given) => given
                .iter()
                .map(|&a| (if a < 0 { a + ndim } else { a }) as usize)
                .collect(),
        };
        let boolean = || PyTypeError::new_err(oxla::IrError::BooleanInput.to_string());
        match (kind, checked) {
            (_, Ok(outs)) if outs.is_empty() => Ok(Vec::new()),
            (Kind::Bool, Ok(_)) => Err(boolean()),
            (Kind::Bool, Err(Error::Gradient(GradientError::AxisTooShort { axis, .. })))
                if axes.first() != Some(&axis) =>
            {
                Err(boolean())
            }
            (Kind::Bool, Err(Error::Gradient(GradientError::ZeroStep { .. }))) => Err(boolean()),
            (_, Err(e)) => Err(to_py(py, e)),
            (Kind::Number(_), Ok(_)) => Ok(axes),
        }
    }
}

/// One spacing argument: an exact Python float is a weak step; a NumPy
/// array of numbers a strong step (0-d) or coordinates (1-d; other ranks
/// are refused by the library's rules).
fn one_spacing(item: &Bound<'_, PyAny>) -> PyResult<Spacing> {
    if item.is_exact_instance_of::<PyFloat>() {
        return Ok(Spacing::Scalar(item.extract::<f64>()?));
    }
    let Ok(a) = item.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "oxla: a spacing must be a float or a NumPy array, not {}",
            item.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        )));
    };
    if array::kind(&a.dtype())? == Kind::Bool {
        return Err(PyTypeError::new_err(
            "boolean spacing is not supported: distances must be numbers (convert with astype first)",
        ));
    }
    let identity: Vec<usize> = (0..a.ndim()).collect();
    let whole = Part {
        array: a.clone(),
        offset: vec![0; a.ndim()],
    };
    let value = array::gather(&[whole], a.shape(), &identity)?;
    Ok(Spacing::Array(Tensor::literal(value)))
}
