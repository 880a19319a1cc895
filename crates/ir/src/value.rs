//! Concrete arrays: [`ArrayValue`] (the five computing dtypes) and
//! [`HostArray`] (everything NumPy can hand us, before the entry rules of
//! `docs/gradient-spec.md`: integers become f64, booleans are rejected).

use half::f16;
use ndarray::{ArrayD, IxDyn};
use num_complex::{Complex32, Complex64};

use crate::per_dtype::{ElementFamily, PerElement};
use crate::{DType, Element, IrError, Shape};

/// A concrete array in one of the computing dtypes. Every value oxla builds
/// is in standard (C-contiguous, row-major) layout; see
/// [`ArrayValue::is_standard_layout`] for values built through the variants.
///
/// ```
/// use oxla_ir::{ArrayValue, DType};
/// use ndarray::{ArrayD, IxDyn};
/// let v = ArrayValue::from(ArrayD::from_elem(IxDyn(&[2, 3]), 1.5f32));
/// assert_eq!(v.dtype(), DType::F32);
/// assert_eq!(v.shape(), &[2, 3]);
/// let back: ArrayD<f32> = v.into_array().unwrap();
/// assert_eq!(back[[1, 2]], 1.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayValue {
    /// `float16` data.
    F16(ArrayD<f16>),
    /// `float32` data.
    F32(ArrayD<f32>),
    /// `float64` data.
    F64(ArrayD<f64>),
    /// `complex64` data.
    C64(ArrayD<Complex32>),
    /// `complex128` data.
    C128(ArrayD<Complex64>),
}

/// Run `$body` with `$a` bound to the typed array inside an [`ArrayValue`]
/// and `$t` to its element type.
#[macro_export]
macro_rules! with_array {
    ($value:expr, |$a:ident: $t:ident| $body:expr) => {
        match $value {
            $crate::ArrayValue::F16($a) => {
                #[allow(dead_code)]
                type $t = $crate::half::f16;
                $body
            }
            $crate::ArrayValue::F32($a) => {
                #[allow(dead_code)]
                type $t = f32;
                $body
            }
            $crate::ArrayValue::F64($a) => {
                #[allow(dead_code)]
                type $t = f64;
                $body
            }
            $crate::ArrayValue::C64($a) => {
                #[allow(dead_code)]
                type $t = $crate::num_complex::Complex32;
                $body
            }
            $crate::ArrayValue::C128($a) => {
                #[allow(dead_code)]
                type $t = $crate::num_complex::Complex64;
                $body
            }
        }
    };
}

/// Run `$body` with `$t` bound to the element type of a [`DType`].
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, |$t:ident| $body:expr) => {
        match $dtype {
            $crate::DType::F16 => {
                type $t = $crate::half::f16;
                $body
            }
            $crate::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::DType::F64 => {
                type $t = f64;
                $body
            }
            $crate::DType::C64 => {
                type $t = $crate::num_complex::Complex32;
                $body
            }
            $crate::DType::C128 => {
                type $t = $crate::num_complex::Complex64;
                $body
            }
        }
    };
}

/// The typed array types an [`ArrayValue`] can hold.
pub trait ArrayElement: Element + bytemuck::Pod {
    /// Wrap an array (copied into standard layout if it is not already).
    fn wrap(a: ArrayD<Self>) -> ArrayValue;
    /// Borrow the array if the value has this element type.
    fn view(v: &ArrayValue) -> Option<&ArrayD<Self>>;
    /// Take the array out of `v` (leaving an empty array) if it has this element type.
    fn take(v: &mut ArrayValue) -> Option<ArrayD<Self>>;
    /// This element type's value in a [`PerElement`].
    fn of<F: ElementFamily>(p: &PerElement<F>) -> &F::Of<Self>;
    /// This element type's value in a [`PerElement`], mutably.
    fn of_mut<F: ElementFamily>(p: &mut PerElement<F>) -> &mut F::Of<Self>;
}

macro_rules! array_element {
    ($t:ty, $variant:ident, $field:ident) => {
        impl ArrayElement for $t {
            fn wrap(a: ArrayD<Self>) -> ArrayValue {
                ArrayValue::from(a)
            }
            fn view(v: &ArrayValue) -> Option<&ArrayD<Self>> {
                match v {
                    ArrayValue::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn take(v: &mut ArrayValue) -> Option<ArrayD<Self>> {
                match v {
                    ArrayValue::$variant(a) => Some(std::mem::replace(a, empty())),
                    _ => None,
                }
            }
            fn of<F: ElementFamily>(p: &PerElement<F>) -> &F::Of<Self> {
                &p.$field
            }
            fn of_mut<F: ElementFamily>(p: &mut PerElement<F>) -> &mut F::Of<Self> {
                &mut p.$field
            }
        }
        impl From<ArrayD<$t>> for ArrayValue {
            fn from(a: ArrayD<$t>) -> Self {
                ArrayValue::$variant(standard_layout(a))
            }
        }
    };
}

array_element!(f16, F16, f16);
array_element!(f32, F32, f32);
array_element!(f64, F64, f64);
array_element!(Complex32, C64, c64);
array_element!(Complex64, C128, c128);

/// An array with no elements and no allocation.
fn empty<T>() -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(&[0]), Vec::new()).expect("0 elements fit shape [0]")
}

/// Large buffers go back to the pool when a value is dropped (see [`crate::pool`]).
impl Drop for ArrayValue {
    fn drop(&mut self) {
        fn recycle<T: ArrayElement>(v: &mut ArrayValue) {
            if let Some(a) = T::take(v)
                && a.len() * std::mem::size_of::<T>() >= crate::pool::MIN_POOLED_BYTES
            {
                let (data, offset) = a.into_raw_vec_and_offset();
                if offset.unwrap_or(0) == 0 {
                    crate::pool::give(data);
                }
            }
        }
        crate::with_dtype!(self.dtype(), |T| recycle::<T>(self))
    }
}

fn standard_layout<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

impl ArrayValue {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArrayValue::F16(_) => DType::F16,
            ArrayValue::F32(_) => DType::F32,
            ArrayValue::F64(_) => DType::F64,
            ArrayValue::C64(_) => DType::C64,
            ArrayValue::C128(_) => DType::C128,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, |a: T| a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_array!(self, |a: T| a.len())
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A scalar (0-d) value of `dtype`, rounded from `v` as a NumPy cast would.
    pub fn scalar(dtype: DType, v: f64) -> ArrayValue {
        ArrayValue::full(dtype, &[], v)
    }

    /// The 0-d `-0.0` of `dtype` (`-0.0 - 0.0i` for complex types): the
    /// exact additive identity, which keeps every bit of what it is added
    /// to, signed zeros included. `scalar(dtype, -0.0)` is not that for
    /// complex types: its imaginary part is `+0.0`, which turns a `-0.0`
    /// imaginary part into `+0.0`.
    ///
    /// ```
    /// use oxla_ir::{ArrayValue, DType};
    /// use num_complex::Complex64;
    /// let z = ArrayValue::neg_zero(DType::C128);
    /// let v = z.as_array::<Complex64>().unwrap()[[]];
    /// assert!(v.re.is_sign_negative() && v.im.is_sign_negative());
    /// ```
    pub fn neg_zero(dtype: DType) -> ArrayValue {
        with_dtype!(dtype, |T| T::wrap(ndarray::arr0(T::NEG_ZERO).into_dyn()))
    }

    /// An array of `shape` filled with `v` rounded to `dtype`.
    pub fn full(dtype: DType, shape: &[usize], v: f64) -> ArrayValue {
        with_dtype!(dtype, |T| T::wrap(ArrayD::from_elem(
            IxDyn(shape),
            T::from_f64(v)
        )))
    }

    /// True if the elements are stored contiguously in row-major order, as
    /// every value oxla builds is (values built through the public variants
    /// may be in any layout).
    pub fn is_standard_layout(&self) -> bool {
        with_array!(self, |a: T| a.is_standard_layout())
    }

    /// The elements' bytes in row-major order (native byte order), if the
    /// value is in standard layout.
    ///
    /// ```
    /// use oxla_ir::{ArrayValue, DType};
    /// let v = ArrayValue::scalar(DType::F32, 1.0);
    /// assert_eq!(v.as_bytes(), Some(&1.0f32.to_ne_bytes()[..]));
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        with_array!(self, |a: T| a.as_slice().map(bytemuck::cast_slice))
    }

    /// The same array, copied into standard layout if it is not already.
    pub fn to_standard_layout(&self) -> ArrayValue {
        with_array!(self, |a: T| T::wrap(a.as_standard_layout().into_owned()))
    }

    /// Take the typed array out, or fail with the dtype present.
    pub fn into_array<T: ArrayElement>(mut self) -> Result<ArrayD<T>, IrError> {
        T::take(&mut self).ok_or(IrError::WrongDType {
            expected: T::DTYPE,
            found: self.dtype(),
        })
    }

    /// Borrow the typed array, or fail with the dtype present.
    pub fn as_array<T: ArrayElement>(&self) -> Result<&ArrayD<T>, IrError> {
        T::view(self).ok_or(IrError::WrongDType {
            expected: T::DTYPE,
            found: self.dtype(),
        })
    }

    /// Convert every element to `dtype`, rounding once (NumPy's `astype`).
    pub fn astype(&self, dtype: DType) -> ArrayValue {
        with_array!(self, |a: S| with_dtype!(dtype, |D| D::wrap(
            a.mapv(crate::element::convert::<S, D>)
        )))
    }

    /// The elements as complex f64 pairs, row-major (exact for every dtype).
    pub fn to_c128_vec(&self) -> Vec<Complex64> {
        with_array!(self, |a: T| a.iter().map(|x| x.to_c128()).collect())
    }

    /// True if both values have the same dtype, shape and bit patterns
    /// (so `-0.0 != 0.0` and two NaNs compare equal when their bits do).
    pub fn bit_eq(&self, other: &ArrayValue) -> bool {
        fn same<T: ArrayElement>(a: &ArrayD<T>, other: &ArrayValue) -> bool {
            match T::view(other) {
                Some(b) => {
                    a.shape() == b.shape()
                        && a.iter()
                            .zip(b.iter())
                            .all(|(x, y)| x.bit_pattern() == y.bit_pattern())
                }
                None => false,
            }
        }
        with_array!(self, |a: T| same(a, other))
    }
}

/// An array as NumPy may hold it, before oxla's entry rules: integers become
/// `f64` (so `uint8 [5, 4]` differences are `-1`, not a wrap-around), booleans
/// are rejected with [`IrError::BooleanInput`], inexact types pass through.
///
/// ```
/// use oxla_ir::{HostArray, DType};
/// use ndarray::{arr1, ArrayD};
/// let h = HostArray::from(arr1(&[5u8, 4, 3]).into_dyn());
/// let v = h.into_value().unwrap();
/// assert_eq!(v.dtype(), DType::F64);
/// assert!(HostArray::from(arr1(&[true]).into_dyn()).into_value().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)] // one variant per NumPy dtype, named after it
pub enum HostArray {
    Bool(ArrayD<bool>),
    I8(ArrayD<i8>),
    I16(ArrayD<i16>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    U8(ArrayD<u8>),
    U16(ArrayD<u16>),
    U32(ArrayD<u32>),
    U64(ArrayD<u64>),
    F16(ArrayD<f16>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    C64(ArrayD<Complex32>),
    C128(ArrayD<Complex64>),
}

macro_rules! host_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<ArrayD<$t>> for HostArray {
            fn from(a: ArrayD<$t>) -> Self {
                HostArray::$variant(a)
            }
        }
    )*};
}

host_from!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16,
    u32 => U32, u64 => U64, f16 => F16, f32 => F32, f64 => F64, Complex32 => C64, Complex64 => C128);

impl HostArray {
    /// The shape.
    pub fn shape(&self) -> Shape {
        let s: &[usize] = match self {
            HostArray::Bool(a) => a.shape(),
            HostArray::I8(a) => a.shape(),
            HostArray::I16(a) => a.shape(),
            HostArray::I32(a) => a.shape(),
            HostArray::I64(a) => a.shape(),
            HostArray::U8(a) => a.shape(),
            HostArray::U16(a) => a.shape(),
            HostArray::U32(a) => a.shape(),
            HostArray::U64(a) => a.shape(),
            HostArray::F16(a) => a.shape(),
            HostArray::F32(a) => a.shape(),
            HostArray::F64(a) => a.shape(),
            HostArray::C64(a) => a.shape(),
            HostArray::C128(a) => a.shape(),
        };
        Shape::from_slice(s)
    }

    /// Apply the entry rules: integers to `f64` (rounded to nearest, as
    /// `astype(float64)`), inexact types unchanged, booleans rejected.
    pub fn into_value(self) -> Result<ArrayValue, IrError> {
        // `as f64` rounds to nearest-even, like NumPy's integer -> float64 cast.
        Ok(match self {
            HostArray::Bool(_) => return Err(IrError::BooleanInput),
            HostArray::I8(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::I16(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::I32(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::I64(a) => ArrayValue::from(a.mapv(|x| x as f64)),
            HostArray::U8(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::U16(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::U32(a) => ArrayValue::from(a.mapv(f64::from)),
            HostArray::U64(a) => ArrayValue::from(a.mapv(|x| x as f64)),
            HostArray::F16(a) => ArrayValue::from(a),
            HostArray::F32(a) => ArrayValue::from(a),
            HostArray::F64(a) => ArrayValue::from(a),
            HostArray::C64(a) => ArrayValue::from(a),
            HostArray::C128(a) => ArrayValue::from(a),
        })
    }
}

impl From<ArrayValue> for HostArray {
    fn from(mut v: ArrayValue) -> Self {
        let taken = with_dtype!(v.dtype(), |T| T::take(&mut v).map(HostArray::from));
        taken.expect("the variant matches the dtype it reports")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    #[test]
    fn integers_become_f64_before_any_arithmetic() {
        let v = HostArray::from(arr1(&[u64::MAX, 0]).into_dyn())
            .into_value()
            .unwrap();
        let a: ArrayD<f64> = v.into_array().unwrap();
        assert_eq!(a[[0]], 18446744073709551615u64 as f64);
    }

    #[test]
    fn booleans_are_rejected() {
        let err = HostArray::from(arr1(&[true, false]).into_dyn()).into_value();
        assert_eq!(err, Err(IrError::BooleanInput));
    }

    #[test]
    fn non_standard_layout_is_normalized() {
        let a = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
        let t = a.t().to_owned().into_dyn();
        assert!(!t.is_standard_layout());
        let v = ArrayValue::from(t.clone());
        let back: ArrayD<f64> = v.into_array().unwrap();
        assert!(back.is_standard_layout());
        assert_eq!(back, t);
    }

    #[test]
    fn wrong_dtype_is_a_typed_error() {
        let v = ArrayValue::scalar(DType::F32, 1.0);
        assert_eq!(
            v.into_array::<f64>().unwrap_err(),
            IrError::WrongDType {
                expected: DType::F64,
                found: DType::F32
            }
        );
    }
}
