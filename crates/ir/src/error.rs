//! The one error type of `oxla-ir`.

use crate::{DType, Shape};

/// Why a node could not be built or a graph could not be evaluated.
///
/// Every builder checks shapes and dtypes and returns one of these instead
/// of panicking; nothing is added to a graph when a check fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IrError {
    /// Two operands of an elementwise op differ in shape.
    #[error("{op}: operand shapes differ: {lhs:?} vs {rhs:?}")]
    ShapeMismatch {
        /// The op being built.
        op: &'static str,
        /// Shape of the first operand.
        lhs: Shape,
        /// Shape of the second operand.
        rhs: Shape,
    },
    /// Two operands of an op differ in dtype.
    #[error("{op}: operand dtypes differ: {lhs} vs {rhs}")]
    DTypeMismatch {
        /// The op being built.
        op: &'static str,
        /// Dtype of the first operand.
        lhs: DType,
        /// Dtype of the second operand.
        rhs: DType,
    },
    /// An op is defined for real dtypes only (complex elementwise math,
    /// comparisons and orderings are not supported).
    #[error(
        "{op}: not supported for {dtype} operands (real dtypes only: float16, float32, float64)"
    )]
    UnsupportedDType {
        /// The op being built.
        op: &'static str,
        /// The operand dtype.
        dtype: DType,
    },
    /// Operand shapes cannot be broadcast together (NumPy's rule: aligned
    /// from the last axis, each pair of lengths equal or one of them 1).
    #[error("{op}: shapes {lhs:?} and {rhs:?} cannot be broadcast together")]
    BroadcastMismatch {
        /// The op being built.
        op: &'static str,
        /// Shape of the first operand.
        lhs: Shape,
        /// Shape of the second operand.
        rhs: Shape,
    },
    /// Static parameters of an op do not fit its operand.
    #[error("{op}: {reason}")]
    InvalidParams {
        /// The op being built.
        op: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
    /// A boolean array was given where numbers are required.
    #[error("boolean arrays are not supported: gradient needs numbers (convert with astype first)")]
    BooleanInput,
    /// A value had a different dtype than the caller asked for.
    #[error("expected dtype {expected}, found {found}")]
    WrongDType {
        /// The dtype asked for.
        expected: DType,
        /// The dtype present.
        found: DType,
    },
    /// A parameter was evaluated without a value bound to it.
    #[error("parameter {0} has no value bound to it")]
    UnboundParameter(u64),
    /// A value bound to a parameter does not match its declared shape or dtype.
    #[error(
        "value bound to parameter {id} has shape {found_shape:?} and dtype {found_dtype}; expected {expected_shape:?} and {expected_dtype}"
    )]
    BindingMismatch {
        /// The parameter.
        id: u64,
        /// Declared shape.
        expected_shape: Shape,
        /// Declared dtype.
        expected_dtype: DType,
        /// Bound shape.
        found_shape: Shape,
        /// Bound dtype.
        found_dtype: DType,
    },
    /// A node was replaced by a tensor of another shape or dtype.
    #[error(
        "replacement has shape {found_shape:?} and dtype {found_dtype}; the node it replaces has {expected_shape:?} and {expected_dtype}"
    )]
    ReplacementMismatch {
        /// The node's shape.
        expected_shape: Shape,
        /// The node's dtype.
        expected_dtype: DType,
        /// The replacement's shape.
        found_shape: Shape,
        /// The replacement's dtype.
        found_dtype: DType,
    },
    /// A composite op rejected its inputs or failed to lower.
    #[error("{name}: {reason}")]
    Composite {
        /// The composite's name.
        name: &'static str,
        /// What went wrong.
        reason: String,
    },
}

impl IrError {
    pub(crate) fn params(op: &'static str, reason: impl Into<String>) -> Self {
        IrError::InvalidParams {
            op,
            reason: reason.into(),
        }
    }
}
