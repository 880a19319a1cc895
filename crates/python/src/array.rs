//! NumPy arrays in and out.
//!
//! In: NumPy arrays of a numeric dtype in native byte order (the Python
//! layer byte-swaps others first), in any layout. Their elements are
//! copied once, with the GIL released, into a buffer from oxla's pool (no
//! fresh pages to fault in), in the order of the input's memory
//! ([`memory_order`]), and go through the library's entry rules
//! ([`oxla::HostArray`]: integers to f64). Several arrays can be gathered
//! into one (a dask block and its halo, [`gather`]).
//!
//! Out: each result is handed to NumPy without a copy. Its buffer stays
//! owned by a small Python object ([`Buffer`]), the NumPy array's base;
//! when NumPy drops the array, the buffer goes back to oxla's pool, so the
//! next call's outputs are not page-faulted in either.

use numpy::ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use numpy::{
    Element, PyArrayDescr, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use oxla::half::f16;
use oxla::num_complex::{Complex32, Complex64};
use oxla::{ArrayElement, ArrayValue, DType, HostArray};
use oxla_ir::with_array;
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;

/// What `gradient` makes of an array's dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `bool`: refused, where NumPy's subtraction would fail.
    Bool,
    /// An integer, float or complex type; the dtype oxla computes in.
    Number(DType),
}

/// The kind of `dtype`, or a `TypeError` naming it if `gradient` cannot
/// take it (objects, strings, datetimes, `longdouble`, ...).
pub(crate) fn kind(dtype: &Bound<'_, PyArrayDescr>) -> PyResult<Kind> {
    let py = dtype.py();
    let is = |other: Bound<'_, PyArrayDescr>| dtype.is_equiv_to(&other);
    if is(bool::get_dtype(py)) {
        return Ok(Kind::Bool);
    }
    for (other, computed) in [
        (f64::get_dtype(py), DType::F64),
        (f32::get_dtype(py), DType::F32),
        (f16::get_dtype(py), DType::F16),
        (Complex64::get_dtype(py), DType::C128),
        (Complex32::get_dtype(py), DType::C64),
    ] {
        if is(other) {
            return Ok(Kind::Number(computed));
        }
    }
    macro_rules! integer {
        ($($t:ty),*) => { false $(|| is(<$t>::get_dtype(py)))* };
    }
    if integer!(i8, i16, i32, i64, u8, u16, u32, u64) {
        return Ok(Kind::Number(DType::F64));
    }
    Err(PyTypeError::new_err(format!(
        "oxla.gradient needs an array of integers, floats or complex numbers, not of dtype {}",
        describe(dtype)
    )))
}

fn describe(dtype: &Bound<'_, PyArrayDescr>) -> String {
    dtype.str().map_or_else(|_| "?".into(), |s| s.to_string())
}

/// The axis permutation that lists `a`'s axes from the largest stride to
/// the smallest: the order of its memory. Axis `j` of the permuted array
/// is axis `perm[j]` of `a`. NumPy lays `empty_like(a)` out the same way
/// (C order if `a` is C-contiguous, else Fortran order if it is
/// F-contiguous, else strides sorted by absolute value, ties in axis
/// order), and `numpy.gradient`'s results are `empty_like(f)`.
pub(crate) fn memory_order(a: &Bound<'_, PyUntypedArray>) -> Vec<usize> {
    let ndim = a.ndim();
    if a.is_c_contiguous() {
        return (0..ndim).collect();
    }
    if a.is_fortran_contiguous() {
        return (0..ndim).rev().collect();
    }
    let strides = a.strides();
    let mut perm: Vec<usize> = (0..ndim).collect();
    // a stable sort: ties keep axis order, as NumPy's comparator does
    perm.sort_by_key(|&i| std::cmp::Reverse(strides[i].unsigned_abs()));
    perm
}

/// The inverse of a permutation.
pub(crate) fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (j, &p) in perm.iter().enumerate() {
        inv[p] = j;
    }
    inv
}

/// One piece of an array to gather: a NumPy array and where its first
/// element goes.
pub(crate) struct Part<'py> {
    /// The elements (any layout, native byte order).
    pub array: Bound<'py, PyUntypedArray>,
    /// The index of its first element in the gathered array.
    pub offset: Vec<usize>,
}

/// The array of `shape` made of `parts` (each with its axes permuted by
/// `perm` first), as a value of oxla's computing dtypes: the entry rules
/// applied. The parts must share one numeric dtype, in native byte order,
/// and tile the array exactly. The copy runs without the GIL.
pub(crate) fn gather(parts: &[Part<'_>], shape: &[usize], perm: &[usize]) -> PyResult<ArrayValue> {
    let Some(first) = parts.first() else {
        return Err(PyValueError::new_err("oxla: nothing to gather"));
    };
    macro_rules! try_types {
        ($($t:ty),*) => {$(
            if first.array.cast::<PyArrayDyn<$t>>().is_ok() {
                return gather_typed::<$t>(parts, shape, perm);
            }
        )*};
    }
    try_types!(
        f64, f32, f16, Complex64, Complex32, i64, i32, i16, i8, u64, u32, u16, u8
    );
    let dtype = first.array.dtype();
    Err(match kind(&dtype) {
        Ok(Kind::Bool) => PyTypeError::new_err(oxla::IrError::BooleanInput.to_string()),
        Ok(Kind::Number(_)) => PyValueError::new_err(format!(
            "oxla: the array of dtype {} must be in native byte order",
            describe(&dtype)
        )),
        Err(e) => e,
    })
}

/// The element types NumPy hands over, and how each enters oxla.
trait Entry: Element + Copy + Send + Sync {
    /// A buffer of `len` elements, every one of which will be overwritten.
    fn buffer(len: usize) -> Option<Vec<Self>>;
    /// The library's entry rule.
    fn enter(a: ArrayD<Self>) -> Result<ArrayValue, oxla::IrError>;
}

macro_rules! inexact_entry {
    ($($t:ty),*) => {$(
        impl Entry for $t {
            fn buffer(len: usize) -> Option<Vec<Self>> {
                oxla::pool::try_take(len)
            }
            fn enter(a: ArrayD<Self>) -> Result<ArrayValue, oxla::IrError> {
                Ok(<$t as ArrayElement>::wrap(a))
            }
        }
    )*};
}
inexact_entry!(f16, f32, f64, Complex32, Complex64);

macro_rules! integer_entry {
    ($($t:ty),*) => {$(
        impl Entry for $t {
            fn buffer(len: usize) -> Option<Vec<Self>> {
                let mut v = Vec::new();
                v.try_reserve_exact(len).ok()?;
                v.resize(len, 0);
                Some(v)
            }
            fn enter(a: ArrayD<Self>) -> Result<ArrayValue, oxla::IrError> {
                HostArray::from(a).into_value()
            }
        }
    )*};
}
integer_entry!(i8, i16, i32, i64, u8, u16, u32, u64);

fn gather_typed<T: Entry>(
    parts: &[Part<'_>],
    shape: &[usize],
    perm: &[usize],
) -> PyResult<ArrayValue> {
    let guards = parts
        .iter()
        .map(|p| {
            let typed = p
                .array
                .cast::<PyArrayDyn<T>>()
                .map_err(|_| PyTypeError::new_err("oxla: the pieces of a block differ in dtype"))?;
            typed
                .try_readonly()
                .map_err(|e| PyValueError::new_err(format!("oxla cannot read the array: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let len: usize = shape.iter().product();
    let mut covered = 0usize;
    let mut views: Vec<(ArrayViewD<'_, T>, &[usize])> = Vec::with_capacity(parts.len());
    for (guard, part) in guards.iter().zip(parts) {
        let view = guard.as_array().permuted_axes(perm);
        let fits = view.ndim() == shape.len()
            && part.offset.len() == shape.len()
            && (0..shape.len()).all(|d| part.offset[d] + view.shape()[d] <= shape[d]);
        if !fits {
            return Err(PyValueError::new_err(format!(
                "oxla: a piece of shape {:?} at {:?} does not fit in shape {shape:?}",
                view.shape(),
                part.offset
            )));
        }
        covered += view.len();
        views.push((view, &part.offset));
    }
    if covered != len {
        return Err(PyValueError::new_err(format!(
            "oxla: the pieces hold {covered} elements, the block {len}"
        )));
    }
    let py = parts[0].array.py();
    let gathered = py.detach(|| {
        let data = T::buffer(len)?;
        let mut out = ArrayD::from_shape_vec(IxDyn(shape), data).ok()?;
        for (view, offset) in &views {
            let mut dest = out.slice_each_axis_mut(|ax| {
                let start = offset[ax.axis.index()];
                Slice::from(start..start + view.shape()[ax.axis.index()])
            });
            dest.assign(view);
        }
        Some(T::enter(out))
    });
    match gathered {
        Some(value) => value.map_err(|e| PyTypeError::new_err(e.to_string())),
        None => Err(PyMemoryError::new_err(format!(
            "oxla: cannot allocate {} bytes",
            len.saturating_mul(std::mem::size_of::<T>())
        ))),
    }
}

/// Owner of a result's buffer, the base object of the NumPy array that
/// shows it. Dropping it (when NumPy drops the array and its views) drops
/// the value, which returns large buffers to oxla's pool.
#[pyclass(frozen, module = "oxla._oxla")]
pub(crate) struct Buffer {
    value: ArrayValue,
}

/// A NumPy array showing `value`'s elements, without a copy, with its
/// axes permuted by `axes` (nothing to do for the identity).
#[allow(unsafe_code)] // one call, with its soundness argument below
pub(crate) fn to_numpy<'py>(
    py: Python<'py>,
    value: ArrayValue,
    axes: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let owner = Bound::new(py, Buffer { value })?;
    let array = with_array!(&owner.get().value, |a: T| {
        // SAFETY: `a` lives inside `owner`, a frozen Python object that
        // becomes the NumPy array's base: NumPy keeps it alive as long as
        // the array (or any view of it) exists. Nothing moves, reallocates
        // or writes `a` after this: `Buffer` has no methods, and its value
        // is only dropped with it. (Tested by tests/test_gradient.py
        // `test_results_outlive_their_owner_and_recycle`.)
        unsafe { PyArrayDyn::<T>::borrow_from_array(a, owner.clone().into_any()) }.into_any()
    });
    if axes.iter().enumerate().all(|(j, &p)| j == p) {
        return Ok(array);
    }
    array.call_method1("transpose", (axes.to_vec(),))
}
