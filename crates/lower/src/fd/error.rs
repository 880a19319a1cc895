//! [`FdError`]: why a finite-difference call was rejected.

use oxla_ir::{DType, IrError};

/// Why a call of [`crate::fd`] was rejected. Raised once, when the
/// arguments are validated ([`crate::fd::FdSpec::new`]), before any node
/// is built; each message says what is wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FdError {
    /// The axis is not one of the array's.
    #[error("axis {axis} is out of bounds for array of dimension {ndim}")]
    AxisOutOfBounds {
        /// The axis as given.
        axis: i64,
        /// The array's rank.
        ndim: usize,
    },
    /// The derivative order is outside `1..=MAX_ORDER`.
    #[error("the derivative order must be between 1 and {max}, got {order}")]
    InvalidOrder {
        /// The order given.
        order: i64,
        /// The largest supported order.
        max: usize,
    },
    /// The accuracy is odd, not positive, or above what the spacing supports.
    #[error(
        "the accuracy must be an even number from 2 to {max}{}, got {accuracy}",
        if *coords { " on a coordinate axis" } else { "" }
    )]
    InvalidAccuracy {
        /// The accuracy given.
        accuracy: i64,
        /// The largest accuracy supported for this spacing.
        max: usize,
        /// True if the limit is the one of coordinate axes.
        coords: bool,
    },
    /// A spacing array is neither 0-d (a step) nor 1-d (coordinates).
    #[error("the spacing must be a number, a 0-d step or 1-d coordinates, got {ndim} dimensions")]
    SpacingNotOneDimensional {
        /// Its rank.
        ndim: usize,
    },
    /// A coordinate array's length differs from the axis' length.
    #[error("axis {axis} has {expected} points but its coordinates have {found} values")]
    CoordinateLengthMismatch {
        /// The axis.
        axis: usize,
        /// The axis length.
        expected: usize,
        /// The coordinate count.
        found: usize,
    },
    /// A spacing array is complex.
    #[error("the spacing is {dtype}: steps and coordinates must be real")]
    ComplexSpacing {
        /// Its dtype.
        dtype: DType,
    },
    /// A uniform step is zero, infinite or NaN.
    #[error("the step of axis {axis} must be finite and non-zero, got {step:?}")]
    InvalidStep {
        /// The axis.
        axis: usize,
        /// The step.
        step: f64,
    },
    /// A coordinate is infinite or NaN.
    #[error("coordinate {index} of axis {axis} is {value:?}: coordinates must be finite")]
    NonFiniteCoordinate {
        /// The axis.
        axis: usize,
        /// Its position.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Two consecutive coordinates do not increase.
    #[error(
        "the coordinates of axis {axis} must be strictly increasing, but x[{index}] = {value:?} follows x[{}] = {previous:?}",
        index - 1
    )]
    CoordinatesNotIncreasing {
        /// The axis.
        axis: usize,
        /// The position of the coordinate that does not increase.
        index: usize,
        /// The coordinate before it.
        previous: f64,
        /// Its value.
        value: f64,
    },
    /// A period was given for a periodic axis with a uniform step.
    #[error(
        "a period length is taken only by periodic axes with coordinates: a periodic uniform axis of n points and step h has period n*h"
    )]
    UnexpectedPeriod,
    /// A periodic axis with coordinates needs its period length.
    #[error(
        "periodic axis {axis} has coordinates: give its period length (the distance from x[0] to the point after x[n-1])"
    )]
    MissingPeriod {
        /// The axis.
        axis: usize,
    },
    /// The period is not finite or not longer than the coordinates' span.
    #[error(
        "the period of axis {axis} must be finite and longer than the span of its coordinates x[n-1] - x[0] = {span:?}, got {period:?}"
    )]
    InvalidPeriod {
        /// The axis.
        axis: usize,
        /// The period given.
        period: f64,
        /// `x[n-1] - x[0]` (0 when the coordinates are not known yet).
        span: f64,
    },
    /// The axis has fewer points than the stencil needs.
    #[error(
        "axis {axis} has {len} point(s), but a derivative of order {order} with accuracy {accuracy} ({boundary}) needs at least {needed}"
    )]
    AxisTooShort {
        /// The axis.
        axis: usize,
        /// Its length.
        len: usize,
        /// The derivative order.
        order: usize,
        /// The accuracy.
        accuracy: usize,
        /// `one-sided` or `periodic`, with the spacing kind.
        boundary: String,
        /// The fewest points that work.
        needed: usize,
    },
    /// The components of a vector field disagree in shape or dtype.
    #[error("component {index} of the field is {found}, but component 0 is {expected}")]
    FieldMismatch {
        /// The component.
        index: usize,
        /// Component 0's shape and dtype.
        expected: String,
        /// This one's.
        found: String,
    },
    /// The number of components or grid entries does not fit the operator.
    #[error("{op} {what}")]
    InvalidArity {
        /// The operator (`laplacian`, `divergence`, `curl`).
        op: &'static str,
        /// What is wrong.
        what: String,
    },
    /// Building the graph failed (an invariant broke, or an input was rejected on entry).
    #[error(transparent)]
    Ir(#[from] IrError),
}
