//! One value per dtype, so that code keeping something for each of the five
//! dtypes never spells them out by hand.
//!
//! - [`PerDType<T>`]: the same type for every dtype (a register count, a
//!   flag), indexed by [`DType`].
//! - [`PerElement<F>`]: a type that depends on the element type (`Vec<f32>`
//!   for f32, `Vec<f64>` for f64, ...), reached from generic code through
//!   [`ArrayElement::of`] and [`ArrayElement::of_mut`].

use std::ops::{Index, IndexMut};

use half::f16;
use num_complex::{Complex32, Complex64};

use crate::{ArrayElement, DType};

/// One `T` per [`DType`], indexed by it.
///
/// ```
/// use oxla_ir::{DType, PerDType};
/// let mut registers = PerDType::<u16>::default();
/// registers[DType::F32] += 2;
/// assert_eq!(registers[DType::F32], 2);
/// assert_eq!(registers.iter().map(|(_, n)| *n).sum::<u16>(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PerDType<T>([T; 5]);

impl<T> PerDType<T> {
    /// The value of each dtype, from `f`.
    pub fn from_fn(mut f: impl FnMut(DType) -> T) -> PerDType<T> {
        PerDType(DType::ALL.map(&mut f))
    }

    /// Each dtype with its value, in [`DType::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DType, &T)> {
        DType::ALL.into_iter().zip(&self.0)
    }

    /// Each dtype with its value, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (DType, &mut T)> {
        DType::ALL.into_iter().zip(&mut self.0)
    }
}

impl<T> Index<DType> for PerDType<T> {
    type Output = T;
    fn index(&self, d: DType) -> &T {
        &self.0[d as usize]
    }
}

impl<T> IndexMut<DType> for PerDType<T> {
    fn index_mut(&mut self, d: DType) -> &mut T {
        &mut self.0[d as usize]
    }
}

/// A type constructor over element types: [`PerElement<F>`] holds one
/// `F::Of<T>` for each element type `T`.
///
/// ```
/// use oxla_ir::{ArrayElement, ElementFamily, PerElement};
/// struct Vecs;
/// impl ElementFamily for Vecs {
///     type Of<T: ArrayElement> = Vec<T>;
/// }
/// let mut v = PerElement::<Vecs>::default();
/// f32::of_mut(&mut v).push(1.5);
/// assert_eq!(f32::of(&v), &[1.5]);
/// assert!(f64::of(&v).is_empty());
/// ```
pub trait ElementFamily {
    /// The type kept for element type `T`.
    type Of<T: ArrayElement>;
}

/// One `F::Of<T>` per element type; generic code reaches its own with
/// [`ArrayElement::of`].
pub struct PerElement<F: ElementFamily> {
    pub(crate) f16: F::Of<f16>,
    pub(crate) f32: F::Of<f32>,
    pub(crate) f64: F::Of<f64>,
    pub(crate) c64: F::Of<Complex32>,
    pub(crate) c128: F::Of<Complex64>,
}

impl<F: ElementFamily> Default for PerElement<F>
where
    F::Of<f16>: Default,
    F::Of<f32>: Default,
    F::Of<f64>: Default,
    F::Of<Complex32>: Default,
    F::Of<Complex64>: Default,
{
    fn default() -> Self {
        PerElement {
            f16: Default::default(),
            f32: Default::default(),
            f64: Default::default(),
            c64: Default::default(),
            c128: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_has_its_own_slot() {
        let p = PerDType::from_fn(|d| d.size_bytes());
        for d in DType::ALL {
            assert_eq!(p[d], d.size_bytes());
        }
        let order: Vec<DType> = p.iter().map(|(d, _)| d).collect();
        assert_eq!(order, DType::ALL);
    }

    #[test]
    fn each_element_type_reaches_its_own_value() {
        struct Lens;
        impl ElementFamily for Lens {
            type Of<T: ArrayElement> = usize;
        }
        let mut p = PerElement::<Lens>::default();
        for (i, d) in DType::ALL.into_iter().enumerate() {
            crate::with_dtype!(d, |T| *T::of_mut(&mut p) = i + 1);
        }
        let got: Vec<usize> = DType::ALL
            .into_iter()
            .map(|d| crate::with_dtype!(d, |T| *T::of(&p)))
            .collect();
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
    }
}
