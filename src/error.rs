//! The facade's error type: every crate's error, converted upward.

use oxla_autodiff::AutodiffError;
use oxla_ir::IrError;
use oxla_jit::JitError;
use oxla_lower::GradientError;
use oxla_lower::fd::FdError;

/// Anything an oxla call can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Invalid `gradient` arguments (one variant per error row of docs/gradient-spec.md).
    #[error(transparent)]
    Gradient(#[from] GradientError),
    /// Invalid finite-difference arguments ([`crate::fd`]).
    #[error(transparent)]
    Fd(#[from] FdError),
    /// A graph could not be built or evaluated.
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A transformation (jvp, vjp, grad, transpose) could not be applied.
    #[error(transparent)]
    Autodiff(#[from] AutodiffError),
    /// A computation could not be compiled or run by the jit.
    #[error(transparent)]
    Jit(#[from] JitError),
}
