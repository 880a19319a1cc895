//! [`Ratio`]: exact rational numbers (`i128` over `i128`), so that the
//! weights of uniform stencils are computed without rounding and rounded to
//! `f64` once, correctly.

use super::fornberg::Arith;

/// An exact fraction `num / den` in lowest terms, `den > 0`.
///
/// Every operation is checked: an overflow is an error (`Overflow`), never
/// a wrong value. The stencils oxla supports stay far inside `i128`
/// (a unit test runs every one of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ratio {
    num: i128,
    den: i128,
}

/// An exact computation left `i128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overflow;

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

impl Ratio {
    /// The integer `n`.
    pub(crate) fn int(n: i64) -> Ratio {
        Ratio {
            num: i128::from(n),
            den: 1,
        }
    }

    fn new(num: i128, den: i128) -> Result<Ratio, Overflow> {
        if den == 0 {
            return Err(Overflow);
        }
        let g = gcd(num, den).max(1);
        let sign = if den < 0 { -1 } else { 1 };
        Ok(Ratio {
            num: sign * (num / g),
            den: sign * (den / g),
        })
    }

    /// The nearest `f64`: correctly rounded when numerator and denominator
    /// are exact in `f64` (below 2^53 in magnitude), as they are for every
    /// supported stencil; within an ulp otherwise.
    pub(crate) fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// True if [`Ratio::to_f64`] is correctly rounded.
    #[cfg(test)]
    pub(crate) fn rounds_exactly(self) -> bool {
        const EXACT: i128 = 1 << 53;
        self.num.abs() <= EXACT && self.den <= EXACT
    }

    /// True for zero.
    pub(crate) fn is_zero(self) -> bool {
        self.num == 0
    }
}

impl Arith for Ratio {
    type Error = Overflow;

    fn add(&self, o: &Ratio) -> Result<Ratio, Overflow> {
        let num = self
            .num
            .checked_mul(o.den)
            .zip(o.num.checked_mul(self.den))
            .and_then(|(a, b)| a.checked_add(b))
            .ok_or(Overflow)?;
        Ratio::new(num, self.den.checked_mul(o.den).ok_or(Overflow)?)
    }

    fn sub(&self, o: &Ratio) -> Result<Ratio, Overflow> {
        self.add(&o.neg()?)
    }

    fn mul(&self, o: &Ratio) -> Result<Ratio, Overflow> {
        // cross-reduce first so the products stay small
        let (g1, g2) = (gcd(self.num, o.den).max(1), gcd(o.num, self.den).max(1));
        let num = (self.num / g1).checked_mul(o.num / g2).ok_or(Overflow)?;
        let den = (self.den / g2).checked_mul(o.den / g1).ok_or(Overflow)?;
        Ratio::new(num, den)
    }

    fn div(&self, o: &Ratio) -> Result<Ratio, Overflow> {
        self.mul(&Ratio::new(o.den, o.num)?)
    }

    fn neg(&self) -> Result<Ratio, Overflow> {
        Ok(Ratio {
            num: self.num.checked_neg().ok_or(Overflow)?,
            den: self.den,
        })
    }

    fn times(&self, k: i64) -> Result<Ratio, Overflow> {
        self.mul(&Ratio::int(k))
    }

    fn one_like(&self) -> Result<Ratio, Overflow> {
        Ok(Ratio::int(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_and_reduced() {
        let third = Ratio::int(1).div(&Ratio::int(3)).unwrap();
        let sixth = third.div(&Ratio::int(-2)).unwrap();
        assert_eq!(sixth, Ratio::new(-1, 6).unwrap());
        assert_eq!(
            third.sub(&sixth).unwrap(),
            Ratio::new(1, 2).unwrap(),
            "1/3 + 1/6"
        );
        assert_eq!(third.times(6).unwrap(), Ratio::int(2));
        assert_eq!(sixth.neg().unwrap().to_f64(), 1.0 / 6.0);
        assert!(Ratio::int(1).div(&Ratio::int(0)).is_err());
        let big = Ratio::int(i64::MAX);
        assert_eq!(big.mul(&big).unwrap().mul(&big), Err(Overflow));
    }
}
