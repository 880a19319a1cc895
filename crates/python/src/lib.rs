//! `oxla._oxla`: the extension module behind the `oxla` Python package.
//!
//! Thin bindings over the `oxla` crate: NumPy arrays in ([`array`]),
//! `numpy.gradient`'s arguments mapped to [`oxla::Spacing`] and
//! [`oxla::Axes`] ([`args`]), the library's calls with the GIL released,
//! results handed to NumPy without copies, and oxla's errors raised as
//! NumPy's exception classes ([`errors`]). The user-facing functions, with
//! NumPy's argument handling and their documentation, are in
//! `python/oxla/` (`oxla.gradient`, `oxla.gradient_vjp`,
//! `oxla.dask.gradient`); this module's functions take arguments already
//! put in shape there.

mod args;
mod array;
mod errors;

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use oxla::half::f16;
use oxla::num_complex::{Complex32, Complex64};
use oxla::{ArrayElement, ArrayRef, ArrayValue, AxisWindow, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::args::Call;
use crate::array::Part;
use crate::errors::OrRaise;

/// `numpy.gradient(f, *spacing, axis=axis, edge_order=edge_order)` as a
/// list of arrays (one per axis), laid out as NumPy lays its results out
/// (`empty_like(f)`) in `f`'s computing dtype.
///
/// `f`: a NumPy array in native byte order. `spacing`: Python floats (weak
/// steps) and NumPy arrays (0-d: strong steps; 1-d: coordinates).
/// `axis`: `None` or a list of ints.
#[pyfunction]
#[pyo3(signature = (f, spacing, axis, edge_order))]
fn gradient<'py>(
    py: Python<'py>,
    f: &Bound<'py, PyUntypedArray>,
    spacing: Vec<Bound<'py, PyAny>>,
    axis: Option<Vec<i64>>,
    edge_order: i64,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let kind = array::kind(&f.dtype())?;
    let call = Call::new(&spacing, axis, edge_order)?;
    let axes = call.check(py, f.shape(), kind)?;
    if axes.is_empty() {
        return Ok(Vec::new());
    }
    // Differentiate the array in the order of its memory (no transposing
    // copy; NumPy's layout for the results), along the same axes there.
    let perm = array::memory_order(f);
    let inv = array::inverse(&perm);
    let memory_shape: Vec<usize> = perm.iter().map(|&p| f.shape()[p]).collect();
    let memory_axes: Vec<i64> = axes.iter().map(|&a| inv[a] as i64).collect();
    let Call {
        spacing,
        edge_order,
        ..
    } = call;
    let run = Run {
        memory_shape: &memory_shape,
        spacing: &spacing,
        axes: &memory_axes,
        edge_order,
    };
    macro_rules! in_place {
        ($($t:ty),*) => {$(
            if let Ok(typed) = f.cast::<PyArrayDyn<$t>>()
                && let Some(values) = run.in_place(typed, &perm)?
            {
                return results(py, values, &inv);
            }
        )*};
    }
    in_place!(f64, f32, f16, Complex64, Complex32);
    // Integers (converted to f64 on entry), and arrays whose memory is not
    // one contiguous block (views with gaps or negative strides): a copy.
    let whole = Part {
        array: f.clone(),
        offset: vec![0; perm.len()],
    };
    let value = array::gather(&[whole], &memory_shape, &perm)?;
    let values = py
        .detach(|| {
            let f = Tensor::literal(value);
            let outs = oxla::numpy::gradient(&f, run.spacing, run.axes.to_vec(), edge_order)?;
            oxla::eval(&outs)
        })
        .or_raise(py)?;
    results(py, values, &inv)
}

/// One `gradient` call on an array in the order of its memory.
struct Run<'a> {
    memory_shape: &'a [usize],
    spacing: &'a [oxla::Spacing],
    axes: &'a [i64],
    edge_order: i64,
}

impl Run<'_> {
    /// The results, computed on `f`'s memory in place (no copy), or `None`
    /// if its memory, in the order `perm`, is not one row-major block.
    fn in_place<T: numpy::Element + ArrayElement>(
        &self,
        f: &Bound<'_, PyArrayDyn<T>>,
        perm: &[usize],
    ) -> PyResult<Option<Vec<ArrayValue>>> {
        let py = f.py();
        let guard = f
            .try_readonly()
            .map_err(|e| PyValueError::new_err(format!("oxla cannot read the array: {e}")))?;
        let view = guard.as_array().permuted_axes(perm);
        let Some(data) = view.as_slice() else {
            return Ok(None);
        };
        py.detach(|| {
            let f = Tensor::parameter(self.memory_shape, T::DTYPE);
            let outs =
                oxla::numpy::gradient(&f, self.spacing, self.axes.to_vec(), self.edge_order)?;
            let data = ArrayRef::new(self.memory_shape, data)?;
            oxla::eval_with(&outs, &[(&f, data)])
        })
        .or_raise(py)
        .map(Some)
    }
}

/// Check `numpy.gradient`'s arguments for an array of `shape` and `dtype`
/// without computing anything (what `oxla.dask.gradient` raises before
/// building a graph). Returns the selected axes, normalized, in output
/// order, and the name of the dtype the results have (in native byte
/// order).
#[pyfunction]
#[pyo3(signature = (shape, dtype, spacing, axis, edge_order))]
fn check<'py>(
    py: Python<'py>,
    shape: Vec<usize>,
    dtype: Bound<'py, numpy::PyArrayDescr>,
    spacing: Vec<Bound<'py, PyAny>>,
    axis: Option<Vec<i64>>,
    edge_order: i64,
) -> PyResult<(Vec<usize>, &'static str)> {
    let kind = array::kind(&dtype)?;
    let axes = Call::new(&spacing, axis, edge_order)?.check(py, &shape, kind)?;
    let computed = match kind {
        array::Kind::Number(d) => d,
        array::Kind::Bool => oxla::DType::F64,
    };
    Ok((axes, computed.numpy_name()))
}

/// `numpy.gradient` of one block of a larger array, as a list of arrays
/// (one per axis) over the block's own cells: bit for bit the whole
/// array's values there.
///
/// `parts`: `(array, offset)` pairs that tile the block's input (its cells
/// and their halo, of shape `box_shape`). `windows`: per dimension,
/// `(len, input_start, input_stop, own_start, own_stop)` in global rows.
/// `spacing`, `axis`, `edge_order`: the whole array's arguments, as for
/// [`gradient`].
#[pyfunction]
#[pyo3(signature = (parts, box_shape, windows, spacing, axis, edge_order))]
fn gradient_block<'py>(
    py: Python<'py>,
    parts: Vec<(Bound<'py, PyUntypedArray>, Vec<usize>)>,
    box_shape: Vec<usize>,
    windows: Vec<(usize, usize, usize, usize, usize)>,
    spacing: Vec<Bound<'py, PyAny>>,
    axis: Option<Vec<i64>>,
    edge_order: i64,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let windows = windows
        .into_iter()
        .map(|(len, i0, i1, o0, o1)| {
            AxisWindow::new(len, i0..i1, o0..o1).map_err(PyValueError::new_err)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let parts: Vec<Part<'py>> = parts
        .into_iter()
        .map(|(array, offset)| Part { array, offset })
        .collect();
    let identity: Vec<usize> = (0..box_shape.len()).collect();
    let value = array::gather(&parts, &box_shape, &identity)?;
    let Call {
        spacing,
        axes,
        edge_order,
    } = Call::new(&spacing, axis, edge_order)?;
    let values = py
        .detach(|| {
            let f = Tensor::literal(value);
            let outs = oxla::numpy::gradient_block(&f, &windows, &spacing, axes, edge_order)?;
            oxla::eval(&outs)
        })
        .or_raise(py)?;
    results(py, values, &identity)
}

/// The VJP of `numpy.gradient` for an array of `f_shape`: the adjoint
/// stencil `G^T` applied to one cotangent per output of the matching
/// `gradient` call and summed, in one fused pass. Returns an array of
/// `f_shape` in the cotangents' computing dtype (float64 if there are no
/// axes).
#[pyfunction]
#[pyo3(signature = (cotangents, f_shape, spacing, axis, edge_order))]
fn gradient_vjp<'py>(
    py: Python<'py>,
    cotangents: Vec<Bound<'py, PyUntypedArray>>,
    f_shape: Vec<usize>,
    spacing: Vec<Bound<'py, PyAny>>,
    axis: Option<Vec<i64>>,
    edge_order: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let call = Call::new(&spacing, axis, edge_order)?;
    let axes = call.check(py, &f_shape, array::Kind::Number(oxla::DType::F64))?;
    if cotangents.len() != axes.len() {
        return Err(PyValueError::new_err(format!(
            "gradient_vjp: {} cotangent(s) for {} output(s) of gradient (one per selected axis)",
            cotangents.len(),
            axes.len()
        )));
    }
    let identity: Vec<usize> = (0..f_shape.len()).collect();
    let mut cts: Vec<Tensor> = Vec::with_capacity(cotangents.len());
    for (k, ct) in cotangents.iter().enumerate() {
        if ct.shape() != f_shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "gradient_vjp: cotangent {k} has shape {:?}, but f_shape is {f_shape:?}",
                ct.shape()
            )));
        }
        let whole = Part {
            array: ct.clone(),
            offset: vec![0; f_shape.len()],
        };
        let value = array::gather(&[whole], &f_shape, &identity)?;
        if let Some(first) = cts.first()
            && first.dtype() != value.dtype()
        {
            return Err(PyTypeError::new_err(format!(
                "gradient_vjp: cotangent {k} computes in {}, cotangent 0 in {} (give them one dtype)",
                value.dtype(),
                first.dtype()
            )));
        }
        cts.push(Tensor::literal(value));
    }
    let Call {
        spacing,
        axes,
        edge_order,
    } = call;
    let values = py
        .detach(|| {
            if cts.is_empty() {
                return Ok(vec![ArrayValue::full(oxla::DType::F64, &f_shape, 0.0)]);
            }
            let vjp = oxla::numpy::gradient_vjp(&cts, &f_shape, &spacing, axes, edge_order)?;
            oxla::eval(&[vjp])
        })
        .or_raise(py)?;
    let mut out = results(py, values, &identity)?;
    out.pop()
        .ok_or_else(|| PyValueError::new_err("gradient_vjp: no result"))
}

/// The global input rows `(start, stop)` needed to compute rows
/// `start..stop` of an axis of `len` rows: one halo row on each side, and
/// `edge_order` rows inwards at a global edge.
#[pyfunction]
fn block_input_rows(
    py: Python<'_>,
    len: usize,
    edge_order: i64,
    start: usize,
    stop: usize,
) -> PyResult<(usize, usize)> {
    let order = oxla::EdgeOrder::try_from(edge_order).or_raise(py)?;
    let rows = oxla::numpy::block_input_rows(len, order, start..stop);
    Ok((rows.start, rows.end))
}

fn results<'py>(
    py: Python<'py>,
    values: Vec<ArrayValue>,
    axes: &[usize],
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    values
        .into_iter()
        .map(|v| array::to_numpy(py, v, axes))
        .collect()
}

/// The extension module.
#[pymodule]
fn _oxla(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gradient, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(gradient_block, m)?)?;
    m.add_function(wrap_pyfunction!(gradient_vjp, m)?)?;
    m.add_function(wrap_pyfunction!(block_input_rows, m)?)?;
    m.add_class::<array::Buffer>()?;
    Ok(())
}
