//! Errors of `gradient`'s arguments: one variant per row of the
//! error table of `docs/gradient-spec.md`.

use oxla_ir::IrError;

/// Why a `gradient` call was rejected. Raised once, by
/// [`crate::GradientSpec::new`], before any node is built.
///
/// The messages repeat NumPy's where NumPy has one, so users can search for them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradientError {
    /// A selected axis is shorter than `edge_order + 1`.
    #[error(
        "Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) elements are required. (axis {axis} has {len} element(s); edge_order={edge_order} needs {})",
        edge_order + 1
    )]
    AxisTooShort {
        /// The normalized axis.
        axis: usize,
        /// Its length.
        len: usize,
        /// The requested edge order.
        edge_order: usize,
    },
    /// A spacing array is neither 0-d nor 1-d.
    #[error(
        "distances must be either scalars or 1d (spacing argument {index} has {ndim} dimensions)"
    )]
    SpacingNotOneDimensional {
        /// Position of the argument among the spacings.
        index: usize,
        /// Its rank.
        ndim: usize,
    },
    /// A coordinate array's length differs from its axis' length.
    #[error(
        "when 1d, distances must match the length of the corresponding dimension (spacing argument {index} has {found} values, axis {axis} has {expected})"
    )]
    CoordinateLengthMismatch {
        /// Position of the argument among the spacings.
        index: usize,
        /// The axis it applies to.
        axis: usize,
        /// The axis length.
        expected: usize,
        /// The coordinate count.
        found: usize,
    },
    /// The number of spacing arguments fits neither rule.
    #[error(
        "invalid number of arguments: {given} spacing value(s) for {axes} axis/axes (give none, one scalar, or one per axis)"
    )]
    InvalidSpacingCount {
        /// How many were given.
        given: usize,
        /// How many axes are selected.
        axes: usize,
    },
    /// An axis is out of range.
    #[error("axis {axis} is out of bounds for array of dimension {ndim}")]
    AxisOutOfBounds {
        /// The axis as given.
        axis: i64,
        /// The array's rank.
        ndim: usize,
    },
    /// The same axis was selected twice (possibly once negative, once not).
    #[error("repeated axis: axis {axis} is selected more than once")]
    RepeatedAxis {
        /// The normalized axis.
        axis: usize,
    },
    /// `edge_order` is neither 1 nor 2.
    #[error(
        "'edge_order' must be 1 or 2, got {0} (NumPy: 'edge_order' greater than 2 not supported)"
    )]
    InvalidEdgeOrder(i64),
    /// `edge_order=2` with a Python-float step of zero: NumPy computes the
    /// edge coefficients `-1.5 / h` in Python floats and raises
    /// `ZeroDivisionError`. (A zero 0-d array step or zero coordinate
    /// distances are not errors: NumPy divides arrays and gets inf/nan.)
    #[error(
        "float division by zero: the step of axis {axis} is {step:?}, and edge_order=2 divides by it (NumPy raises ZeroDivisionError)"
    )]
    ZeroStep {
        /// The normalized axis.
        axis: usize,
        /// The step (`0.0` or `-0.0`).
        step: f64,
    },
    /// A spacing array is complex; distances must be real.
    #[error("spacing argument {index} is {dtype}: distances must be real numbers")]
    ComplexSpacing {
        /// Position of the argument among the spacings.
        index: usize,
        /// Its dtype.
        dtype: oxla_ir::DType,
    },
    /// A block does not fit the array its arguments were validated for.
    #[error("invalid block along axis {axis}: {reason}")]
    InvalidBlock {
        /// The dimension the problem is in.
        axis: usize,
        /// What is wrong.
        reason: String,
    },
    /// A block's input lacks halo rows its results need.
    #[error(
        "the block's input holds rows {}..{} of axis {axis}, but its own rows need rows {}..{} (add halo cells)",
        given.0, given.1, needed.0, needed.1
    )]
    MissingHalo {
        /// The axis.
        axis: usize,
        /// Global rows needed, `[start, end)`.
        needed: (usize, usize),
        /// Global rows the input holds.
        given: (usize, usize),
    },
    /// Building the lowered graph failed (an invariant broke, or the input was rejected on entry).
    #[error(transparent)]
    Ir(#[from] IrError),
}
