//! The elementwise functions beyond `+ - * /`: which exist ([`UnaryFn`],
//! [`BinaryFn`], [`Compare`]) and how each element type computes them
//! ([`Math`]).
//!
//! This is the one implementation every evaluator calls: the reference
//! interpreter and the jit's tile loops both go through [`Math`], so fused
//! results are the interpreter's bit for bit. Transcendentals are Rust
//! std's `f64`/`f32` methods, which call the platform's libm (glibc on
//! Linux); their f64 accuracy is measured against mpmath in
//! `tests/math_accuracy.rs` (see docs/ARCHITECTURE.md, *Elementwise math*).
//! `f16` computes through `f32` and rounds once, as NumPy's half loops do.

use half::f16;
use num_complex::{Complex, Complex32, Complex64};

/// A one-operand elementwise function (`Op::Unary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryFn {
    /// `sqrt(x)`, correctly rounded (IEEE).
    Sqrt,
    /// `e^x`.
    Exp,
    /// Natural logarithm.
    Log,
    /// `log(1 + x)`, accurate near 0.
    Log1p,
    /// `e^x - 1`, accurate near 0.
    Expm1,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Hyperbolic tangent.
    Tanh,
    /// `|x|` (clears the sign bit, NaNs included).
    Abs,
    /// NumPy's sign: `1` for `x > 0`, `-1` for `x < 0`, `+0.0` for zeros, NaN for NaN.
    Sign,
}

impl UnaryFn {
    /// Every unary function, in declaration order.
    pub const ALL: [UnaryFn; 10] = [
        UnaryFn::Sqrt,
        UnaryFn::Exp,
        UnaryFn::Log,
        UnaryFn::Log1p,
        UnaryFn::Expm1,
        UnaryFn::Sin,
        UnaryFn::Cos,
        UnaryFn::Tanh,
        UnaryFn::Abs,
        UnaryFn::Sign,
    ];

    /// NumPy's name of the function.
    pub fn name(self) -> &'static str {
        match self {
            UnaryFn::Sqrt => "sqrt",
            UnaryFn::Exp => "exp",
            UnaryFn::Log => "log",
            UnaryFn::Log1p => "log1p",
            UnaryFn::Expm1 => "expm1",
            UnaryFn::Sin => "sin",
            UnaryFn::Cos => "cos",
            UnaryFn::Tanh => "tanh",
            UnaryFn::Abs => "abs",
            UnaryFn::Sign => "sign",
        }
    }
}

/// A two-operand elementwise function (`Op::Binary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryFn {
    /// NumPy's `maximum`: NaN if either operand is NaN, else the larger
    /// (the second operand when they compare equal, as NumPy: `maximum(0.0, -0.0)`
    /// is `-0.0`).
    Max,
    /// NumPy's `minimum`: NaN if either operand is NaN, else the smaller
    /// (the second operand when they compare equal, as NumPy).
    Min,
    /// `x ** y` (libm `pow`).
    Pow,
}

impl BinaryFn {
    /// Every binary function, in declaration order.
    pub const ALL: [BinaryFn; 3] = [BinaryFn::Max, BinaryFn::Min, BinaryFn::Pow];

    /// NumPy's name of the function.
    pub fn name(self) -> &'static str {
        match self {
            BinaryFn::Max => "maximum",
            BinaryFn::Min => "minimum",
            BinaryFn::Pow => "pow",
        }
    }
}

/// A comparison, the predicate of `Op::Select` (IEEE: false when either
/// operand is NaN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compare {
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a == b`.
    Eq,
}

impl Compare {
    /// Every comparison, in declaration order.
    pub const ALL: [Compare; 5] = [
        Compare::Lt,
        Compare::Le,
        Compare::Gt,
        Compare::Ge,
        Compare::Eq,
    ];

    /// NumPy's name of the comparison.
    pub fn name(self) -> &'static str {
        match self {
            Compare::Lt => "less",
            Compare::Le => "less_equal",
            Compare::Gt => "greater",
            Compare::Ge => "greater_equal",
            Compare::Eq => "equal",
        }
    }

    /// `a cmp b` on any partially ordered values (IEEE for floats).
    #[inline(always)]
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Compare::Lt => a < b,
            Compare::Le => a <= b,
            Compare::Gt => a > b,
            Compare::Ge => a >= b,
            Compare::Eq => a == b,
        }
    }
}

/// The elementwise functions of one element type: the single
/// implementation the interpreter and the jit share.
///
/// ```
/// use oxla_ir::math::{BinaryFn, Compare, Math, UnaryFn};
/// assert_eq!(4.0f64.unary(UnaryFn::Sqrt), 2.0);
/// assert!(f64::NAN.binary_fn(BinaryFn::Max, 1.0).is_nan());
/// assert!(1.0f32.compare(Compare::Lt, 2.0));
/// ```
pub trait Math: Sized {
    /// `f(self)`.
    fn unary(self, f: UnaryFn) -> Self;
    /// `f(self, rhs)`.
    fn binary_fn(self, f: BinaryFn, rhs: Self) -> Self;
    /// `self cmp rhs`.
    fn compare(self, cmp: Compare, rhs: Self) -> bool;
}

macro_rules! real_math {
    ($t:ty) => {
        impl Math for $t {
            #[inline(always)]
            fn unary(self, f: UnaryFn) -> Self {
                match f {
                    UnaryFn::Sqrt => self.sqrt(),
                    UnaryFn::Exp => self.exp(),
                    UnaryFn::Log => self.ln(),
                    UnaryFn::Log1p => self.ln_1p(),
                    UnaryFn::Expm1 => self.exp_m1(),
                    UnaryFn::Sin => self.sin(),
                    UnaryFn::Cos => self.cos(),
                    UnaryFn::Tanh => self.tanh(),
                    UnaryFn::Abs => self.abs(),
                    UnaryFn::Sign => {
                        if self > 0.0 {
                            1.0
                        } else if self < 0.0 {
                            -1.0
                        } else if self == 0.0 {
                            0.0
                        } else {
                            self
                        }
                    }
                }
            }
            #[inline(always)]
            fn binary_fn(self, f: BinaryFn, rhs: Self) -> Self {
                // NumPy's loops: `a > b || isnan(a) ? a : b`, so a NaN in
                // either operand is the result and ties (-0.0 vs 0.0) give `b`.
                match f {
                    BinaryFn::Max => {
                        if self > rhs || self.is_nan() {
                            self
                        } else {
                            rhs
                        }
                    }
                    BinaryFn::Min => {
                        if self < rhs || self.is_nan() {
                            self
                        } else {
                            rhs
                        }
                    }
                    BinaryFn::Pow => self.powf(rhs),
                }
            }
            #[inline(always)]
            fn compare(self, cmp: Compare, rhs: Self) -> bool {
                cmp.holds(self, rhs)
            }
        }
    };
}

real_math!(f32);
real_math!(f64);

impl Math for f16 {
    // NumPy's half loops compute in f32 and round the result once.
    #[inline(always)]
    fn unary(self, f: UnaryFn) -> Self {
        f16::from_f32(self.to_f32().unary(f))
    }
    #[inline(always)]
    fn binary_fn(self, f: BinaryFn, rhs: Self) -> Self {
        f16::from_f32(self.to_f32().binary_fn(f, rhs.to_f32()))
    }
    #[inline(always)]
    fn compare(self, cmp: Compare, rhs: Self) -> bool {
        // exact: every f16 is an f32
        cmp.holds(self.to_f32(), rhs.to_f32())
    }
}

/// Complex elements: the op builders reject complex operands for every
/// function here (see `infer.rs`), so evaluators never reach these. They
/// exist because every element type must have one; they compute NumPy's
/// definitions (lexicographic order, `sign(z) = z/|z|`) without a claim of
/// NumPy's rounding.
macro_rules! complex_math {
    ($c:ty, $r:ty) => {
        impl Math for $c {
            fn unary(self, f: UnaryFn) -> Self {
                let one = Complex::new(1.0, 0.0);
                match f {
                    UnaryFn::Sqrt => self.sqrt(),
                    UnaryFn::Exp => self.exp(),
                    UnaryFn::Log => self.ln(),
                    UnaryFn::Log1p => (self + one).ln(),
                    UnaryFn::Expm1 => self.exp() - one,
                    UnaryFn::Sin => self.sin(),
                    UnaryFn::Cos => self.cos(),
                    UnaryFn::Tanh => self.tanh(),
                    UnaryFn::Abs => Complex::new(self.norm(), 0.0),
                    UnaryFn::Sign => {
                        let n = self.norm();
                        if n == 0.0 { self * 0.0 } else { self / n }
                    }
                }
            }
            fn binary_fn(self, f: BinaryFn, rhs: Self) -> Self {
                match f {
                    BinaryFn::Max => {
                        if self.compare(Compare::Gt, rhs) || self.re.is_nan() || self.im.is_nan() {
                            self
                        } else {
                            rhs
                        }
                    }
                    BinaryFn::Min => {
                        if self.compare(Compare::Lt, rhs) || self.re.is_nan() || self.im.is_nan() {
                            self
                        } else {
                            rhs
                        }
                    }
                    BinaryFn::Pow => self.powc(rhs),
                }
            }
            fn compare(self, cmp: Compare, rhs: Self) -> bool {
                let key = |z: Self| -> ($r, $r) { (z.re, z.im) };
                cmp.holds(key(self), key(rhs))
            }
        }
    };
}

complex_math!(Complex32, f32);
complex_math!(Complex64, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maximum_and_minimum_propagate_nans_from_either_side() {
        for f in [BinaryFn::Max, BinaryFn::Min] {
            assert!(f64::NAN.binary_fn(f, 1.0).is_nan());
            assert!(1.0f64.binary_fn(f, f64::NAN).is_nan());
            assert!(f16::NAN.binary_fn(f, f16::ONE).is_nan());
        }
        assert_eq!(2.0f32.binary_fn(BinaryFn::Max, -3.0), 2.0);
        assert_eq!(2.0f32.binary_fn(BinaryFn::Min, -3.0), -3.0);
        // ties give the second operand, as NumPy's loops
        let max = |a: f64, b: f64| a.binary_fn(BinaryFn::Max, b).to_bits();
        assert_eq!(max(0.0, -0.0), (-0.0f64).to_bits());
        assert_eq!(max(-0.0, 0.0), 0.0f64.to_bits());
    }

    #[test]
    fn sign_is_numpys() {
        let s = |x: f64| x.unary(UnaryFn::Sign);
        assert_eq!(s(3.5), 1.0);
        assert_eq!(s(-0.1), -1.0);
        assert_eq!(s(-0.0).to_bits(), 0.0f64.to_bits());
        assert!(s(f64::NAN).is_nan());
        assert_eq!(s(f64::NEG_INFINITY), -1.0);
    }

    #[test]
    fn half_rounds_once_from_f32() {
        let x = f16::from_f32(2.0);
        assert_eq!(x.unary(UnaryFn::Sqrt), f16::from_f32(2.0f32.sqrt()));
        assert_eq!(
            x.binary_fn(BinaryFn::Pow, f16::from_f32(0.5)),
            f16::from_f32(2.0f32.powf(0.5))
        );
    }

    #[test]
    fn comparisons_are_false_on_nan() {
        for c in Compare::ALL {
            assert!(!f64::NAN.compare(c, 1.0), "{c:?}");
            assert!(!1.0f32.compare(c, f32::NAN), "{c:?}");
        }
    }
}
