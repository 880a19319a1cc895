//! The one error type of `oxla-jit`.

use oxla_ir::{DType, IrError};

/// Why a computation could not be compiled or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JitError {
    /// Building or interpreting a node failed (including unbound parameters).
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A compiled computation was called with the wrong number of arguments.
    #[error("expected {expected} argument(s), got {found}")]
    ArgumentCount {
        /// Arguments the computation takes.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// An argument differs from the one the computation was compiled for.
    #[error(
        "argument {index} has shape {found_shape:?} and dtype {found_dtype}; the computation was compiled for {expected_shape:?} and {expected_dtype}"
    )]
    ArgumentMismatch {
        /// Its position.
        index: usize,
        /// Compiled shape.
        expected_shape: Vec<usize>,
        /// Compiled dtype.
        expected_dtype: DType,
        /// Given shape.
        found_shape: Vec<usize>,
        /// Given dtype.
        found_dtype: DType,
    },
    /// An invariant of the planner or executor broke: a bug in oxla.
    #[error("internal error in the jit (please report): {0}")]
    Internal(String),
}
