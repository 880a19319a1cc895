//! The one error type of `oxla-autodiff`.

use oxla_ir::{DType, IrError, Shape};
use oxla_lower::GradientError;

/// Whether a value given to a transformation is a tangent or a cotangent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A tangent: it must match a primal input.
    Tangent,
    /// A cotangent: it must match an output.
    Cotangent,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Tangent => "tangent",
            Role::Cotangent => "cotangent",
        })
    }
}

impl Role {
    /// What a value of this role must match.
    pub fn belongs_to(self) -> &'static str {
        match self {
            Role::Tangent => "primal input",
            Role::Cotangent => "output",
        }
    }
}

/// Why a transformation could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AutodiffError {
    /// A tangent or cotangent does not match the value it belongs to.
    #[error(
        "{what} {index} has shape {found_shape:?} and dtype {found_dtype}; it must match the {} it belongs to: {expected_shape:?} and {expected_dtype}",
        .what.belongs_to()
    )]
    Mismatch {
        /// Tangent or cotangent.
        what: Role,
        /// Its position.
        index: usize,
        /// Required shape.
        expected_shape: Shape,
        /// Required dtype.
        expected_dtype: DType,
        /// Given shape.
        found_shape: Shape,
        /// Given dtype.
        found_dtype: DType,
    },
    /// The wrong number of tangents or cotangents.
    #[error("expected {expected} {what}(s), got {found}")]
    Count {
        /// Tangent or cotangent.
        what: Role,
        /// How many are needed.
        expected: usize,
        /// How many were given.
        found: usize,
    },
    /// `grad` needs a function with exactly one real 0-d output.
    #[error("grad needs exactly one real scalar (0-d) output; the function returned {count} output(s){}", first.as_ref().map(|(s, d)| format!(", the first of shape {s:?} and dtype {d}")).unwrap_or_default())]
    NotRealScalar {
        /// How many outputs there were.
        count: usize,
        /// Shape and dtype of the first, if any.
        first: Option<(Shape, DType)>,
    },
    /// A tensor to differentiate with respect to is not part of the output's computation.
    #[error(
        "cannot differentiate with respect to wrt[{index}]: the outputs do not depend on it (it is not an input of their graph)"
    )]
    NotAnInput {
        /// Its position in `wrt`.
        index: usize,
    },
    /// Transposition met an op that is not linear in the transposed operand.
    #[error(
        "cannot transpose {op}: it is not linear in operand {operand} (the function is not linear in its inputs)"
    )]
    NotLinear {
        /// The op.
        op: &'static str,
        /// The operand.
        operand: usize,
    },
    /// Building a node failed.
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A `gradient` call inside the differentiated function was invalid.
    #[error(transparent)]
    Gradient(#[from] GradientError),
}
