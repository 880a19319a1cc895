//! Fornberg's algorithm: the weights of the finite-difference formula for
//! a derivative of any order at any point from any distinct points
//! (B. Fornberg, "Generation of Finite Difference Formulas on Arbitrarily
//! Spaced Grids", Math. Comp. 51 (1988), in the form of his "Calculation of
//! Weights in Finite Difference Formulas", SIAM Review 40 (1998)).
//!
//! One implementation serves three number types through [`Arith`]: exact
//! rationals ([`super::ratio::Ratio`], the weights of uniform grids),
//! `f64` (the public [`weights`] function), and lazy tensors (per-row
//! weights of coordinate grids, built as graph nodes from the coordinates
//! so that they stay differentiable; every "number" is then a 1-d tensor
//! holding one value per output row).

use oxla_ir::{DType, IrError, Tensor};

/// The arithmetic Fornberg's recurrence needs.
pub(crate) trait Arith: Sized + Clone {
    /// Why an operation failed.
    type Error;
    /// `self + o`.
    fn add(&self, o: &Self) -> Result<Self, Self::Error>;
    /// `self - o`.
    fn sub(&self, o: &Self) -> Result<Self, Self::Error>;
    /// `self * o`.
    fn mul(&self, o: &Self) -> Result<Self, Self::Error>;
    /// `self / o`.
    fn div(&self, o: &Self) -> Result<Self, Self::Error>;
    /// `-self`.
    fn neg(&self) -> Result<Self, Self::Error>;
    /// `k * self` for a small integer `k`.
    fn times(&self, k: i64) -> Result<Self, Self::Error>;
    /// One, shaped like `self`.
    fn one_like(&self) -> Result<Self, Self::Error>;
}

impl Arith for f64 {
    type Error = std::convert::Infallible;
    fn add(&self, o: &f64) -> Result<f64, Self::Error> {
        Ok(self + o)
    }
    fn sub(&self, o: &f64) -> Result<f64, Self::Error> {
        Ok(self - o)
    }
    fn mul(&self, o: &f64) -> Result<f64, Self::Error> {
        Ok(self * o)
    }
    fn div(&self, o: &f64) -> Result<f64, Self::Error> {
        Ok(self / o)
    }
    fn neg(&self) -> Result<f64, Self::Error> {
        Ok(-self)
    }
    fn times(&self, k: i64) -> Result<f64, Self::Error> {
        Ok(k as f64 * self)
    }
    fn one_like(&self) -> Result<f64, Self::Error> {
        Ok(1.0)
    }
}

impl Arith for Tensor {
    type Error = IrError;
    fn add(&self, o: &Tensor) -> Result<Tensor, IrError> {
        Tensor::add(self, o)
    }
    fn sub(&self, o: &Tensor) -> Result<Tensor, IrError> {
        Tensor::sub(self, o)
    }
    fn mul(&self, o: &Tensor) -> Result<Tensor, IrError> {
        Tensor::mul(self, o)
    }
    fn div(&self, o: &Tensor) -> Result<Tensor, IrError> {
        Tensor::div(self, o)
    }
    fn neg(&self) -> Result<Tensor, IrError> {
        Tensor::neg(self)
    }
    fn times(&self, k: i64) -> Result<Tensor, IrError> {
        constant_like(self, k as f64)?.mul(self)
    }
    fn one_like(&self) -> Result<Tensor, IrError> {
        constant_like(self, 1.0)
    }
}

/// `v` in `like`'s dtype, broadcast to its shape.
fn constant_like(like: &Tensor, v: f64) -> Result<Tensor, IrError> {
    Tensor::scalar(like.dtype(), v).broadcast_in_dim(like.shape(), &[])
}

/// A number that may be known to be exactly 0 or 1, so that the
/// recurrence builds no node (and rounds nothing) for `0 * x` or `1 * x`.
#[derive(Clone)]
enum Sym<T> {
    Zero,
    One,
    Val(T),
}

impl<T: Arith> Sym<T> {
    fn mul(&self, o: &Sym<T>) -> Result<Sym<T>, T::Error> {
        Ok(match (self, o) {
            (Sym::Zero, _) | (_, Sym::Zero) => Sym::Zero,
            (Sym::One, x) | (x, Sym::One) => x.clone(),
            (Sym::Val(a), Sym::Val(b)) => Sym::Val(a.mul(b)?),
        })
    }

    /// `self / d` for a non-zero `d`.
    fn div(&self, d: &T) -> Result<Sym<T>, T::Error> {
        Ok(match self {
            Sym::Zero => Sym::Zero,
            Sym::One => Sym::Val(d.one_like()?.div(d)?),
            Sym::Val(a) => Sym::Val(a.div(d)?),
        })
    }

    /// `self - o`; `one` gives `1` its shape.
    fn sub(&self, o: &Sym<T>, one: &T) -> Result<Sym<T>, T::Error> {
        Ok(match (self, o) {
            (x, Sym::Zero) => x.clone(),
            (Sym::Zero, x) => x.neg(one)?,
            (a, b) => Sym::Val(a.value(one).sub(&b.value(one))?),
        })
    }

    fn neg(&self, one: &T) -> Result<Sym<T>, T::Error> {
        Ok(match self {
            Sym::Zero => Sym::Zero,
            x => Sym::Val(x.value(one).neg()?),
        })
    }

    /// `k * self`: `1 * x` is `x` and `2 * x` is `x + x`, exactly, with
    /// fewer graph nodes than a multiplication by a constant.
    fn times(&self, k: i64, one: &T) -> Result<Sym<T>, T::Error> {
        Ok(match (self, k) {
            (Sym::Zero, _) => Sym::Zero,
            (x, 1) => x.clone(),
            (Sym::One, 2) => Sym::Val(one.times(2)?),
            (x, 2) => {
                let v = x.value(one);
                Sym::Val(v.add(&v)?)
            }
            (x, k) => Sym::Val(x.value(one).times(k)?),
        })
    }

    /// The value, with `one` for `1` (`Zero` is never asked for: every
    /// caller handles it first).
    fn value(&self, one: &T) -> T {
        match self {
            Sym::Val(v) => v.clone(),
            Sym::One | Sym::Zero => one.clone(),
        }
    }
}

/// The weights `w` of the formula `f^(order)(z) ≈ Σ_j w_j f(points[j])`,
/// exact for polynomials of degree below `points.len()`.
///
/// `points` must be distinct and more than `order`; `z` is where the
/// derivative is taken. In exact arithmetic the result is Fornberg's; in
/// floating point each weight is a short sequence of rounded operations.
pub(crate) fn fornberg<T: Arith>(order: usize, z: &T, points: &[T]) -> Result<Vec<T>, T::Error> {
    let n = points.len();
    let m = order;
    assert!(n > m, "{n} points cannot give a derivative of order {m}");
    let one = points[0].one_like()?;
    let mut c: Vec<Vec<Sym<T>>> = vec![vec![Sym::Zero; m + 1]; n];
    c[0][0] = Sym::One;
    let mut c1 = Sym::One;
    let mut c4 = points[0].sub(z)?;
    for i in 1..n {
        let mn = i.min(m);
        let mut c2 = Sym::One;
        let c5 = Sym::Val(c4);
        c4 = points[i].sub(z)?;
        for j in 0..i {
            let c3 = points[i].sub(&points[j])?;
            c2 = c2.mul(&Sym::Val(c3.clone()))?;
            if j == i - 1 {
                let c2 = c2.value(&one);
                for k in (1..=mn).rev() {
                    let t = c[i - 1][k - 1]
                        .times(k as i64, &one)?
                        .sub(&c5.mul(&c[i - 1][k])?, &one)?;
                    c[i][k] = c1.mul(&t)?.div(&c2)?;
                }
                c[i][0] = c1.mul(&c5)?.mul(&c[i - 1][0])?.neg(&one)?.div(&c2)?;
            }
            let c4s = Sym::Val(c4.clone());
            for k in (1..=mn).rev() {
                let t = c4s
                    .mul(&c[j][k])?
                    .sub(&c[j][k - 1].times(k as i64, &one)?, &one)?;
                c[j][k] = t.div(&c3)?;
            }
            c[j][0] = c4s.mul(&c[j][0])?.div(&c3)?;
        }
        c1 = c2;
    }
    c.into_iter()
        .map(|row| match &row[m] {
            Sym::Zero => one.sub(&one),
            w => Ok(w.value(&one)),
        })
        .collect()
}

/// The weights of the finite-difference formula for the derivative of
/// order `order` at `z` from the distinct `points`, in `f64`, by
/// Fornberg's algorithm (for a uniform grid, the exact weights rounded
/// once are [`crate::fd::uniform_weights`]).
///
/// The formula `f^(order)(z) ≈ Σ w[j] f(points[j])` is exact for
/// polynomials of degree below `points.len()`.
///
/// ```
/// // f''(0) from f(-1), f(0), f(1): the classic [1, -2, 1]
/// let w = oxla_lower::fd::weights(2, 0.0, &[-1.0, 0.0, 1.0]).unwrap();
/// assert_eq!(w, vec![1.0, -2.0, 1.0]);
/// // a first derivative on uneven points
/// let w = oxla_lower::fd::weights(1, 0.0, &[-1.0, 0.0, 2.0]).unwrap();
/// assert!((w[0] + 2.0 / 3.0).abs() < 1e-15 && (w[2] - 1.0 / 6.0).abs() < 1e-15);
/// assert!(oxla_lower::fd::weights(2, 0.0, &[0.0, 1.0]).is_none()); // too few points
/// ```
pub fn weights(order: usize, z: f64, points: &[f64]) -> Option<Vec<f64>> {
    let distinct = points
        .iter()
        .enumerate()
        .all(|(i, a)| points[..i].iter().all(|b| a != b));
    if points.len() <= order || !distinct {
        return None;
    }
    match fornberg(order, &z, points) {
        Ok(w) => Some(w),
        Err(never) => match never {},
    }
}

/// Fornberg's weights with tensor "numbers": `z` and each point are 1-d
/// tensors (one value per output row, in `dtype`), the result one 1-d
/// tensor per point.
pub(crate) fn tensor_weights(
    order: usize,
    z: &Tensor,
    points: &[Tensor],
    dtype: DType,
) -> Result<Vec<Tensor>, IrError> {
    let z = z.convert(dtype)?;
    let points = points
        .iter()
        .map(|p| p.convert(dtype))
        .collect::<Result<Vec<_>, _>>()?;
    fornberg(order, &z, &points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fd::ratio::Ratio;

    fn exact(order: usize, offsets: &[i64]) -> Vec<Ratio> {
        let points: Vec<Ratio> = offsets.iter().map(|&o| Ratio::int(o)).collect();
        fornberg(order, &Ratio::int(0), &points).unwrap()
    }

    #[test]
    fn classic_stencils_are_exact() {
        let f = |w: Vec<Ratio>| w.into_iter().map(Ratio::to_f64).collect::<Vec<_>>();
        assert_eq!(f(exact(1, &[-1, 0, 1])), [-0.5, 0.0, 0.5]);
        assert_eq!(f(exact(1, &[0, 1, 2])), [-1.5, 2.0, -0.5]);
        assert_eq!(f(exact(2, &[-1, 0, 1])), [1.0, -2.0, 1.0]);
        assert_eq!(
            f(exact(2, &[-2, -1, 0, 1, 2])),
            [-1.0 / 12.0, 4.0 / 3.0, -2.5, 4.0 / 3.0, -1.0 / 12.0]
        );
        assert_eq!(f(exact(4, &[-2, -1, 0, 1, 2])), [1.0, -4.0, 6.0, -4.0, 1.0]);
    }

    #[test]
    fn f64_and_exact_weights_agree_to_rounding() {
        for order in 1..=4 {
            let offsets: Vec<i64> = (-4..=4).collect();
            let points: Vec<f64> = offsets.iter().map(|&o| o as f64).collect();
            let w = weights(order, 0.0, &points).unwrap();
            for (a, b) in w.iter().zip(exact(order, &offsets)) {
                assert!(
                    (a - b.to_f64()).abs() <= 1e-13 * (1.0 + a.abs()),
                    "{a} {b:?}"
                );
            }
        }
    }

    #[test]
    fn tensor_weights_are_the_f64_weights_per_row() {
        use oxla_ir::{Bindings, evaluate};
        let x = [0.0, 0.7, 1.1, 2.0, 3.5];
        let z = Tensor::from_host(ndarray::arr1(&[0.7, 1.1]).into_dyn()).unwrap();
        let points: Vec<Tensor> = (0..3)
            .map(|k| Tensor::from_host(ndarray::arr1(&[x[k], x[k + 1]]).into_dyn()).unwrap())
            .collect();
        let w = tensor_weights(2, &z, &points, DType::F64).unwrap();
        let v = evaluate(&w, &Bindings::new()).unwrap();
        for row in 0..2 {
            let expected = weights(2, x[row + 1], &x[row..row + 3]).unwrap();
            for k in 0..3 {
                let got = v[k].as_array::<f64>().unwrap()[[row]];
                assert_eq!(got, expected[k], "row {row} point {k}");
            }
        }
    }
}
