//! Element types and NumPy's promotion rule between them.

use std::fmt;

/// The element type of a tensor.
///
/// oxla computes in the inexact types NumPy's `gradient` returns. Integer
/// arrays are converted to [`DType::F64`] when they enter (see
/// [`crate::HostArray`]), booleans are rejected.
///
/// ```
/// use oxla_ir::DType;
/// assert_eq!(DType::F32.promote(DType::F64), DType::F64);
/// assert_eq!(DType::C64.promote(DType::F64), DType::C128);
/// assert_eq!(DType::C128.real(), DType::F64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// IEEE binary16 (`numpy.float16`).
    F16,
    /// IEEE binary32 (`numpy.float32`).
    F32,
    /// IEEE binary64 (`numpy.float64`).
    F64,
    /// Two binary32 values (`numpy.complex64`).
    C64,
    /// Two binary64 values (`numpy.complex128`).
    C128,
}

impl DType {
    /// Every dtype, in promotion order within each kind.
    pub const ALL: [DType; 5] = [DType::F16, DType::F32, DType::F64, DType::C64, DType::C128];

    /// True for the complex types.
    pub fn is_complex(self) -> bool {
        matches!(self, DType::C64 | DType::C128)
    }

    /// The real type of the components: `C64 -> F32`, `C128 -> F64`, reals map to themselves.
    pub fn real(self) -> DType {
        match self {
            DType::C64 => DType::F32,
            DType::C128 => DType::F64,
            real => real,
        }
    }

    /// The complex type whose components are `self.real()`.
    /// `F16` has no complex counterpart in NumPy; it maps to `C64` as NumPy's promotion does.
    pub fn complex(self) -> DType {
        match self.real() {
            DType::F64 => DType::C128,
            _ => DType::C64,
        }
    }

    /// NumPy's `result_type` restricted to these types: complex if either is,
    /// with the wider of the two component precisions.
    pub fn promote(self, other: DType) -> DType {
        let precision = self.real().max(other.real());
        if self.is_complex() || other.is_complex() {
            precision.complex()
        } else {
            precision
        }
    }

    /// Size of one element in bytes.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F16 => 2,
            DType::F32 => 4,
            DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }

    /// NumPy's name for the type (`"float32"`, `"complex128"`, ...).
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
        }
    }

    /// The inverse of [`DType::numpy_name`].
    pub fn from_numpy_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.numpy_name() == name)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.numpy_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_matches_numpy_result_type() {
        use DType::*;
        // Table from numpy.result_type on these five types.
        let table = [
            (F16, F16, F16),
            (F16, F32, F32),
            (F16, F64, F64),
            (F16, C64, C64),
            (F16, C128, C128),
            (F32, F64, F64),
            (F32, C64, C64),
            (F32, C128, C128),
            (F64, C64, C128),
            (F64, C128, C128),
            (C64, C128, C128),
        ];
        for (a, b, want) in table {
            assert_eq!(a.promote(b), want, "{a} + {b}");
            assert_eq!(b.promote(a), want, "{b} + {a}");
        }
    }

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_numpy_name(d.numpy_name()), Some(d));
        }
        assert_eq!(DType::from_numpy_name("int8"), None);
    }
}
