//! The NumPy-level elementwise API on [`Tensor`]: math functions, powers,
//! `maximum`/`minimum`, comparisons producing a [`Mask`] and `where`
//! through [`Mask::select`], and `sum`/`mean` over axes. Binary functions
//! broadcast and promote as NumPy does (`broadcast.rs`); the graph they
//! build holds only same-shape primitives.

use crate::broadcast::align;
use crate::math::{BinaryFn, Compare, UnaryFn};
use crate::{DType, IrError, Tensor};

/// A boolean mask: the lazy result of a comparison such as [`Tensor::lt`].
///
/// oxla has no boolean dtype: a mask is a comparison predicate over two
/// aligned operands, used by [`Mask::select`] (NumPy's `where`) as the
/// predicate of one `select` primitive, so a mask never occupies memory
/// and the jit compares inside the kernel that selects. [`Mask::to_tensor`]
/// gives it as 1/0 numbers when they are wanted.
///
/// ```
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// let x = Tensor::from_host(ndarray::arr1(&[-2.0, 0.5, 3.0]).into_dyn())?;
/// let relu = x.gt_scalar(0.0)?.select_scalar(&x, 0.0)?; // where(x > 0, x, 0)
/// let v = evaluate(&[relu], &Bindings::new())?;
/// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[0.0, 0.5, 3.0]);
/// # Ok::<(), oxla_ir::IrError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mask {
    cmp: Compare,
    a: Tensor,
    b: Tensor,
    negated: bool,
}

impl Mask {
    /// `a cmp b`, broadcast and promoted as NumPy compares.
    pub fn compare(cmp: Compare, a: &Tensor, b: &Tensor) -> Result<Mask, IrError> {
        let [a, b] = align(cmp.name(), [a, b])?;
        if a.dtype().is_complex() {
            return Err(IrError::UnsupportedDType {
                op: cmp.name(),
                dtype: a.dtype(),
            });
        }
        Ok(Mask {
            cmp,
            a,
            b,
            negated: false,
        })
    }

    /// The mask's shape.
    pub fn shape(&self) -> &[usize] {
        self.a.shape()
    }

    /// The logical negation (`~mask`): exact, NaN comparisons included
    /// (`!(x < y)` is true for a NaN, unlike `x >= y`).
    pub fn not(&self) -> Mask {
        Mask {
            negated: !self.negated,
            ..self.clone()
        }
    }

    /// NumPy's `where(mask, on_true, on_false)`: the three broadcast
    /// together; the branches promoted to a common dtype, which is the
    /// result's.
    pub fn select(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor, IrError> {
        let (x, y) = if self.negated {
            (on_false, on_true)
        } else {
            (on_true, on_false)
        };
        let [x, y] = align("where", [x, y])?;
        let shape = crate::broadcast::broadcast_shapes("where", self.shape(), x.shape())?;
        let (x, y) = (x.broadcast_to(&shape)?, y.broadcast_to(&shape)?);
        let (a, b) = (self.a.broadcast_to(&shape)?, self.b.broadcast_to(&shape)?);
        if a.dtype() == x.dtype() {
            return Tensor::select(self.cmp, &a, &b, &x, &y);
        }
        // The comparison is in another dtype than the branches: compare in
        // its own dtype into an exact 1/0 indicator, convert that (exactly)
        // and select on it, so every primitive keeps one dtype.
        let one = Tensor::scalar(a.dtype(), 1.0).broadcast_to(&shape)?;
        let zero = Tensor::scalar(a.dtype(), 0.0).broadcast_to(&shape)?;
        let indicator = Tensor::select(self.cmp, &a, &b, &one, &zero)?.convert(x.dtype())?;
        let half = Tensor::scalar(x.dtype(), 0.5).broadcast_to(&shape)?;
        Tensor::select(Compare::Gt, &indicator, &half, &x, &y)
    }

    /// [`Mask::select`] with a scalar `on_false` (weak: in `on_true`'s dtype).
    pub fn select_scalar(&self, on_true: &Tensor, on_false: f64) -> Result<Tensor, IrError> {
        self.select(on_true, &Tensor::scalar(on_true.dtype(), on_false))
    }

    /// The mask as numbers of `dtype`: 1 where it holds, 0 elsewhere.
    pub fn to_tensor(&self, dtype: DType) -> Result<Tensor, IrError> {
        self.select(&Tensor::scalar(dtype, 1.0), &Tensor::scalar(dtype, 0.0))
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $f:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Result<Tensor, IrError> {
                    self.unary(UnaryFn::$f)
                }
            )*
        }
    };
}

unary_methods! {
    /// `sqrt(x)`, correctly rounded.
    ///
    /// ```
    /// use oxla_ir::{evaluate, Bindings, Tensor};
    /// let x = Tensor::from_host(ndarray::arr1(&[4.0, 2.25]).into_dyn())?;
    /// let v = evaluate(&[x.sqrt()?], &Bindings::new())?;
    /// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[2.0, 1.5]);
    /// # Ok::<(), oxla_ir::IrError>(())
    /// ```
    sqrt => Sqrt;
    /// `e^x`.
    exp => Exp;
    /// The natural logarithm.
    log => Log;
    /// `log(1 + x)`, accurate near 0.
    log1p => Log1p;
    /// `e^x - 1`, accurate near 0.
    expm1 => Expm1;
    /// Sine.
    sin => Sin;
    /// Cosine.
    cos => Cos;
    /// Hyperbolic tangent.
    tanh => Tanh;
    /// `|x|`.
    abs => Abs;
    /// NumPy's sign: -1, 0 or 1 (NaN for NaN).
    sign => Sign;
}

macro_rules! compare_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $c:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Tensor) -> Result<Mask, IrError> {
                    Mask::compare(Compare::$c, self, other)
                }
                /// The same comparison with a scalar (weak: in this tensor's dtype).
                pub fn $scalar(&self, other: f64) -> Result<Mask, IrError> {
                    Mask::compare(Compare::$c, self, &Tensor::scalar(self.dtype(), other))
                }
            )*
        }
    };
}

compare_methods! {
    /// `self < other` (NumPy's `less`, broadcasting).
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor};
    /// let x = Tensor::parameter(&[2, 3], DType::F32);
    /// let col = Tensor::parameter(&[2, 1], DType::F32);
    /// assert_eq!(x.lt(&col).unwrap().shape(), &[2, 3]);
    /// ```
    lt, lt_scalar => Lt;
    /// `self <= other` (NumPy's `less_equal`, broadcasting).
    le, le_scalar => Le;
    /// `self > other` (NumPy's `greater`, broadcasting).
    gt, gt_scalar => Gt;
    /// `self >= other` (NumPy's `greater_equal`, broadcasting).
    ge, ge_scalar => Ge;
    /// `self == other` (NumPy's `equal`, broadcasting).
    eq, eq_scalar => Eq;
}

impl Tensor {
    /// NumPy's `maximum` (broadcasting; a NaN in either operand wins).
    ///
    /// ```
    /// use oxla_ir::{evaluate, Bindings, Tensor};
    /// let x = Tensor::from_host(ndarray::arr1(&[-1.0, 2.0]).into_dyn())?;
    /// let zero = Tensor::scalar(oxla_ir::DType::F64, 0.0);
    /// let v = evaluate(&[x.maximum(&zero)?], &Bindings::new())?;
    /// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[0.0, 2.0]);
    /// # Ok::<(), oxla_ir::IrError>(())
    /// ```
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor, IrError> {
        self.broadcast_binary_fn(BinaryFn::Max, other)
    }
    /// NumPy's `minimum` (broadcasting; a NaN in either operand wins).
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor, IrError> {
        self.broadcast_binary_fn(BinaryFn::Min, other)
    }
    /// NumPy's `power(self, other)` (broadcasting; libm `pow`).
    pub fn pow(&self, other: &Tensor) -> Result<Tensor, IrError> {
        self.broadcast_binary_fn(BinaryFn::Pow, other)
    }

    /// `self ** p` for a scalar `p` (weak: in this tensor's dtype), with
    /// NumPy's fast paths of `**`: `p = 2` is `x * x`, `0.5` is `sqrt`,
    /// `1` is `x`, `-1` is `1 / x`; other powers are `pow`.
    ///
    /// ```
    /// use oxla_ir::{evaluate, Bindings, Tensor};
    /// let x = Tensor::from_host(ndarray::arr1(&[3.0, 4.0]).into_dyn())?;
    /// let v = evaluate(&[x.powf(2.0)?, x.powf(0.5)?, x.powf(3.0)?], &Bindings::new())?;
    /// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[9.0, 16.0]);
    /// assert_eq!(v[1].as_array::<f64>()?.as_slice().unwrap(), &[3f64.sqrt(), 2.0]);
    /// assert_eq!(v[2].as_array::<f64>()?.as_slice().unwrap(), &[27.0, 64.0]);
    /// # Ok::<(), oxla_ir::IrError>(())
    /// ```
    pub fn powf(&self, p: f64) -> Result<Tensor, IrError> {
        if self.dtype().is_complex() {
            return Err(IrError::UnsupportedDType {
                op: "pow",
                dtype: self.dtype(),
            });
        }
        match p {
            2.0 => self.square(),
            0.5 => self.sqrt(),
            1.0 => Ok(self.clone()),
            -1.0 => self.reciprocal(),
            _ => self.pow(&Tensor::scalar(self.dtype(), p)),
        }
    }

    /// `x * x` (NumPy's `square`).
    pub fn square(&self) -> Result<Tensor, IrError> {
        self.mul(self)
    }

    /// `1 / x` (NumPy's `reciprocal`).
    pub fn reciprocal(&self) -> Result<Tensor, IrError> {
        Tensor::scalar(self.dtype(), 1.0)
            .broadcast_to(self.shape())?
            .div(self)
    }

    fn broadcast_binary_fn(&self, f: BinaryFn, other: &Tensor) -> Result<Tensor, IrError> {
        let [a, b] = align(f.name(), [self, other])?;
        a.binary_fn(f, &b)
    }

    /// Sum over `axes` (NumPy's `sum(axis=axes)`; `&[]` sums nothing), in
    /// the order [`crate::reduce`] defines.
    pub fn sum(&self, axes: &[usize]) -> Result<Tensor, IrError> {
        self.reduce_sum(axes)
    }

    /// Sum of every element (a 0-d tensor).
    pub fn sum_all(&self) -> Result<Tensor, IrError> {
        self.reduce_sum(&(0..self.ndim()).collect::<Vec<_>>())
    }

    /// Mean over `axes`: the sum divided by the number of elements summed,
    /// in the tensor's dtype (`float16` accumulates in `float32` and rounds
    /// once at the end, as NumPy's `mean` does). An empty reduction is NaN.
    ///
    /// ```
    /// use oxla_ir::{evaluate, Bindings, Tensor};
    /// let x = Tensor::from_host(ndarray::arr2(&[[1.0, 2.0], [3.0, 6.0]]).into_dyn())?;
    /// let v = evaluate(&[x.mean(&[1])?, x.mean_all()?], &Bindings::new())?;
    /// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[1.5, 4.5]);
    /// assert_eq!(v[1].as_array::<f64>()?.first(), Some(&3.0));
    /// # Ok::<(), oxla_ir::IrError>(())
    /// ```
    pub fn mean(&self, axes: &[usize]) -> Result<Tensor, IrError> {
        let sum = match self.dtype() {
            DType::F16 => self.convert(DType::F32)?.reduce_sum(axes)?,
            _ => self.reduce_sum(axes)?,
        };
        let count: usize = axes
            .iter()
            .map(|&a| self.shape().get(a).copied().unwrap_or(1))
            .product();
        let n = Tensor::scalar(sum.dtype(), count as f64).broadcast_to(sum.shape())?;
        sum.div(&n)?.convert(self.dtype())
    }

    /// Mean of every element (a 0-d tensor).
    pub fn mean_all(&self) -> Result<Tensor, IrError> {
        self.mean(&(0..self.ndim()).collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bindings, evaluate};
    use ndarray::arr1;

    fn values(t: &Tensor) -> Vec<f64> {
        let v = evaluate(std::slice::from_ref(t), &Bindings::new()).unwrap();
        v[0].to_c128_vec().iter().map(|c| c.re).collect()
    }

    #[test]
    fn where_with_a_mask_of_another_dtype_selects_exactly() {
        let a = Tensor::from_host(arr1(&[1.0f64, f64::NAN, 3.0]).into_dyn()).unwrap();
        let x = Tensor::from_host(arr1(&[10.0f32, 20.0, 30.0]).into_dyn()).unwrap();
        let y = Tensor::scalar(DType::F32, -1.0);
        let m = a.lt_scalar(2.0).unwrap();
        let t = m.select(&x, &y).unwrap();
        assert_eq!(t.dtype(), DType::F32);
        assert_eq!(values(&t), vec![10.0, -1.0, -1.0]);
        // negation is exact on NaN
        assert_eq!(
            values(&m.not().select(&x, &y).unwrap()),
            vec![-1.0, 20.0, 30.0]
        );
    }

    #[test]
    fn masks_as_numbers_count() {
        let a = Tensor::from_host(arr1(&[1.0, 5.0, 3.0, 3.0]).into_dyn()).unwrap();
        let m = a.ge_scalar(3.0).unwrap().to_tensor(DType::F64).unwrap();
        assert_eq!(values(&m.sum_all().unwrap()), vec![3.0]);
    }

    #[test]
    fn complex_operands_are_typed_errors() {
        let z = Tensor::parameter(&[2], DType::C128);
        let e = IrError::UnsupportedDType {
            op: "greater",
            dtype: DType::C128,
        };
        assert_eq!(z.gt(&z).unwrap_err(), e);
        assert!(matches!(
            z.powf(3.0),
            Err(IrError::UnsupportedDType { op: "pow", .. })
        ));
        assert!(matches!(
            z.maximum(&z),
            Err(IrError::UnsupportedDType { op: "maximum", .. })
        ));
    }

    #[test]
    fn mean_of_nothing_is_nan_and_f16_accumulates_in_f32() {
        let empty = Tensor::parameter(&[0, 3], DType::F64);
        assert_eq!(empty.mean(&[0]).unwrap().shape(), &[3]);
        // 2048 + 1 + 1 ... in f16 would stall at 2048; NumPy's mean does not
        let mut v = vec![half::f16::from_f32(1.0); 4096];
        v[0] = half::f16::from_f32(2048.0);
        let x = Tensor::literal(crate::ArrayValue::from(arr1(&v).into_dyn()));
        let m = x.mean_all().unwrap();
        assert_eq!(m.dtype(), DType::F16);
        let want = half::f16::from_f32((2048.0f32 + 4095.0) / 4096.0);
        assert_eq!(values(&m), vec![want.to_f64()]);
    }
}
