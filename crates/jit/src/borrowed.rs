//! [`ArrayRef`]: an argument the executor reads in place, without copying
//! it into an [`ArrayValue`] first.

use std::marker::PhantomData;

use oxla_ir::ndarray::{ArrayD, IxDyn};
use oxla_ir::{ArrayElement, ArrayValue, DType, ElementFamily, IrError, PerElement, with_dtype};

/// Row-major elements of one of the computing dtypes, owned by someone
/// else (a NumPy array, a memory map): [`crate::eval_with`] binds it to a
/// parameter, and kernels read it where it is. Binding a 128 MiB array
/// this way saves a copy that costs about as much as `gradient` itself.
///
/// ```
/// use oxla_jit::ArrayRef;
/// let data = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let a = ArrayRef::new(&[2, 3], &data).unwrap();
/// assert_eq!(a.shape(), &[2, 3]);
/// assert_eq!(a.as_slice::<f64>(), Some(&data[..]));
/// assert_eq!(a.as_slice::<f32>(), None);
/// assert!(ArrayRef::new(&[4], &data).is_err());
/// ```
pub struct ArrayRef<'a> {
    dtype: DType,
    shape: Vec<usize>,
    data: PerElement<SliceOf<'a>>,
}

/// The [`ElementFamily`] of [`ArrayRef`]'s data: a slice per element type,
/// empty but for the array's own.
struct SliceOf<'a>(PhantomData<&'a ()>);

impl<'a> ElementFamily for SliceOf<'a> {
    type Of<T: ArrayElement> = &'a [T];
}

impl<'a> ArrayRef<'a> {
    /// The row-major array of `shape` whose elements are `data`; fails if
    /// their counts differ.
    pub fn new<T: ArrayElement>(shape: &[usize], data: &'a [T]) -> Result<ArrayRef<'a>, IrError> {
        let count: usize = shape.iter().product();
        if count != data.len() {
            return Err(IrError::InvalidParams {
                op: "ArrayRef",
                reason: format!(
                    "shape {shape:?} holds {count} elements, the data {}",
                    data.len()
                ),
            });
        }
        let mut slices = PerElement::<SliceOf<'a>>::default();
        *T::of_mut(&mut slices) = data;
        Ok(ArrayRef {
            dtype: T::DTYPE,
            shape: shape.to_vec(),
            data: slices,
        })
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements, if they are of type `T`.
    pub fn as_slice<T: ArrayElement>(&self) -> Option<&'a [T]> {
        (T::DTYPE == self.dtype).then(|| *T::of(&self.data))
    }

    /// An owned copy (for the rare consumer that needs a value: an
    /// interpreted node, or an argument returned as an output).
    pub fn to_value(&self) -> ArrayValue {
        with_dtype!(self.dtype, |T| {
            let data = T::of(&self.data).to_vec();
            let a = ArrayD::from_shape_vec(IxDyn(&self.shape), data)
                .expect("`new` checked the element count against the shape");
            T::wrap(a)
        })
    }
}

impl Clone for ArrayRef<'_> {
    fn clone(&self) -> Self {
        let mut data = PerElement::<SliceOf<'_>>::default();
        with_dtype!(self.dtype, |T| *T::of_mut(&mut data) = *T::of(&self.data));
        ArrayRef {
            dtype: self.dtype,
            shape: self.shape.clone(),
            data,
        }
    }
}

impl std::fmt::Debug for ArrayRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayRef")
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

/// A buffer of a running executable: a value, or an argument read in place.
pub(crate) enum Buffer<'a> {
    /// An owned (shared) value.
    Value(std::sync::Arc<ArrayValue>),
    /// A borrowed argument.
    Borrowed(ArrayRef<'a>),
}

impl Buffer<'_> {
    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            Buffer::Value(v) => v.shape(),
            Buffer::Borrowed(r) => r.shape(),
        }
    }

    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::Value(v) => v.dtype(),
            Buffer::Borrowed(r) => r.dtype(),
        }
    }

    /// The buffer as a shared value (a borrowed one is copied).
    pub(crate) fn to_shared(&self) -> std::sync::Arc<ArrayValue> {
        match self {
            Buffer::Value(v) => v.clone(),
            Buffer::Borrowed(r) => std::sync::Arc::new(r.to_value()),
        }
    }

    /// The elements as a row-major slice, if they are of type `T` (and,
    /// for a value, in standard layout, as every value the executor makes is).
    pub(crate) fn as_slice<T: ArrayElement>(&self) -> Option<&[T]> {
        match self {
            Buffer::Value(v) => v.as_array::<T>().ok()?.as_slice(),
            Buffer::Borrowed(r) => r.as_slice::<T>(),
        }
    }
}
