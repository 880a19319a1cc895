//! The one error type of `oxla-jit`, and its policy for bugs in itself:
//! [`internal!`] builds a [`JitError::Internal`] wherever the jit finds one
//! (compiling, or once per kernel run); the executor's per-tile code finds
//! none, because validation proved its invariants, and calls
//! [`unvalidated`] on the match arms validation rules out.

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
    /// An output buffer could not be allocated: the memory is exhausted
    /// (or an address-space limit reached).
    #[error("cannot allocate {bytes} bytes for a result: not enough memory")]
    OutOfMemory {
        /// The size of the allocation that failed.
        bytes: u64,
    },
    /// An invariant of the planner or executor broke: a bug in oxla.
    #[error("internal error in the jit (please report): {0}")]
    Internal(String),
}

/// A [`JitError::Internal`] saying what broke: the one way the jit reports
/// a bug in itself (see the crate docs, "Internal errors").
///
/// ```ignore
/// return Err(internal!("reduce root {} is not a reduce_sum", i));
/// ```
macro_rules! internal {
    ($($what:tt)+) => {
        $crate::error::JitError::Internal(format!($($what)+))
    };
}
pub(crate) use internal;

/// The executor met what validation (`FusedKernel::validate`) rules out:
/// validation has a bug. Panics: the executor returns no errors per tile,
/// and a wrong result must not pass silently.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn unvalidated(what: &str) -> ! {
    panic!("internal error in the jit (please report): {what}, which validation refuses")
}
