//! The arguments of a finite-difference derivative ([`Derivative`]) and
//! their validation ([`FdSpec`]), once, before any node is built.

use std::sync::Arc;

use oxla_ir::{DType, Tensor};

use super::FdError;
use super::op::FdOp;
use super::scheme::{Closure, Scheme};
use crate::gradient_op::{SpacingKind, WeakStep};
use crate::{AxisSpacing, Spacing};

/// The largest derivative order.
pub const MAX_ORDER: usize = 6;
/// The largest accuracy on a uniform axis.
pub const MAX_ACCURACY: usize = 12;
/// The largest accuracy on a coordinate axis (its weights are graph nodes,
/// a number that grows with the square of the stencil's width).
pub const MAX_COORD_ACCURACY: usize = 6;

/// How the stencils treat the two ends of an axis.
///
/// ```
/// use oxla_lower::fd::Boundary;
/// assert_eq!(Boundary::default(), Boundary::OneSided);
/// assert_eq!(Boundary::periodic(), Boundary::Periodic { period: None });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Boundary {
    /// findiff's convention: the centered stencil where it fits, one-sided
    /// stencils of the same accuracy near the ends.
    #[default]
    OneSided,
    /// The centered stencil on every row, wrapping around the axis.
    /// `period` is the period length of an axis given by coordinates
    /// (required there: the distance from `x[0]` to the point after
    /// `x[n-1]`); a uniform axis of `n` points and step `h` has period
    /// `n*h` and takes `None`.
    Periodic {
        /// The period length of a coordinate axis.
        period: Option<f64>,
    },
}

impl Boundary {
    /// Periodic, for a uniform axis.
    pub fn periodic() -> Boundary {
        Boundary::Periodic { period: None }
    }

    /// Periodic with period `period`, for an axis with coordinates.
    pub fn periodic_with_period(period: f64) -> Boundary {
        Boundary::Periodic {
            period: Some(period),
        }
    }
}

/// The grid of one axis: its spacing and its boundary.
///
/// ```
/// use oxla_lower::fd::{AxisGrid, Boundary};
/// let g = AxisGrid::step(0.5).periodic();
/// assert_eq!(g.boundary, Boundary::periodic());
/// ```
#[derive(Clone, Debug)]
pub struct AxisGrid {
    /// A uniform step (a number or a 0-d tensor) or 1-d coordinates.
    pub spacing: Spacing,
    /// How the ends are treated.
    pub boundary: Boundary,
}

impl AxisGrid {
    /// A uniform step, one-sided ends.
    pub fn step(h: f64) -> AxisGrid {
        AxisGrid::new(Spacing::Scalar(h))
    }

    /// Any spacing, one-sided ends.
    pub fn new(spacing: impl Into<Spacing>) -> AxisGrid {
        AxisGrid {
            spacing: spacing.into(),
            boundary: Boundary::OneSided,
        }
    }

    /// The same grid, periodic (a uniform axis).
    pub fn periodic(self) -> AxisGrid {
        self.boundary(Boundary::periodic())
    }

    /// The same grid with `boundary`.
    pub fn boundary(self, boundary: Boundary) -> AxisGrid {
        AxisGrid { boundary, ..self }
    }
}

/// One derivative: `d^order f / d x_axis^order` with the given accuracy,
/// spacing and boundary.
///
/// `order`, `accuracy` and `axis` are integers as users type them, so that
/// a bad value is an [`FdError`] with a message rather than a type error.
///
/// ```
/// use oxla_lower::fd::{Boundary, Derivative};
/// let d = Derivative::new(-1, 2).accuracy(4).spacing(0.1).periodic();
/// assert_eq!((d.axis, d.order, d.accuracy), (-1, 2, 4));
/// assert_eq!(d.boundary, Boundary::periodic());
/// ```
#[derive(Clone, Debug)]
pub struct Derivative {
    /// The axis (negative counts from the end).
    pub axis: i64,
    /// The derivative order, 1 to [`MAX_ORDER`].
    pub order: i64,
    /// The order of accuracy: even, 2 to [`MAX_ACCURACY`] (uniform) or
    /// [`MAX_COORD_ACCURACY`] (coordinates).
    pub accuracy: i64,
    /// A uniform step (a number or a 0-d tensor) or 1-d coordinates.
    pub spacing: Spacing,
    /// How the ends are treated.
    pub boundary: Boundary,
}

impl Derivative {
    /// The derivative of `order` along `axis`: accuracy 2, unit step, one-sided ends.
    pub fn new(axis: i64, order: i64) -> Derivative {
        Derivative {
            axis,
            order,
            accuracy: 2,
            spacing: Spacing::Scalar(1.0),
            boundary: Boundary::OneSided,
        }
    }

    /// The derivative of `order` along `axis` with `accuracy` on `grid`.
    pub fn on(axis: i64, order: i64, accuracy: i64, grid: &AxisGrid) -> Derivative {
        Derivative {
            accuracy,
            spacing: grid.spacing.clone(),
            boundary: grid.boundary,
            ..Derivative::new(axis, order)
        }
    }

    /// The same derivative with another accuracy.
    pub fn accuracy(self, accuracy: i64) -> Derivative {
        Derivative { accuracy, ..self }
    }

    /// The same derivative with another spacing.
    pub fn spacing(self, spacing: impl Into<Spacing>) -> Derivative {
        Derivative {
            spacing: spacing.into(),
            ..self
        }
    }

    /// The same derivative on a periodic uniform axis.
    pub fn periodic(self) -> Derivative {
        self.boundary(Boundary::periodic())
    }

    /// The same derivative with another boundary.
    pub fn boundary(self, boundary: Boundary) -> Derivative {
        Derivative { boundary, ..self }
    }

    /// The fewest points its axis needs (every stencil fits), or `None` if
    /// the order or accuracy is not supported.
    ///
    /// ```
    /// use oxla_lower::fd::Derivative;
    /// assert_eq!(Derivative::new(0, 2).accuracy(4).min_len(), Some(7));
    /// assert_eq!(Derivative::new(0, 2).accuracy(4).periodic().min_len(), Some(5));
    /// assert_eq!(Derivative::new(0, 0).min_len(), None);
    /// ```
    pub fn min_len(&self) -> Option<usize> {
        let coords = matches!(&self.spacing, Spacing::Array(t) if t.ndim() == 1);
        let order = usize::try_from(self.order).ok()?;
        let accuracy = usize::try_from(self.accuracy).ok()?;
        let top = if coords {
            MAX_COORD_ACCURACY
        } else {
            MAX_ACCURACY
        };
        let valid =
            (1..=MAX_ORDER).contains(&order) && (2..=top).contains(&accuracy) && accuracy % 2 == 0;
        let closure = match self.boundary {
            Boundary::OneSided => Closure::OneSided,
            Boundary::Periodic { .. } => Closure::Periodic,
        };
        let scheme = Scheme {
            order,
            accuracy,
            closure,
            coords,
        };
        valid.then(|| scheme.min_len())
    }
}

/// A validated [`Derivative`] for an array of a given shape: every rule of
/// the arguments is checked here, in a fixed order (axis, order, accuracy,
/// spacing's form, period, step or coordinate values, axis length), so
/// that building the op cannot fail on user input.
///
/// Values are checked where they are known: a literal step or literal
/// coordinates. Traced ones (parameters, differentiated inputs) are taken
/// as given.
///
/// ```
/// use oxla_lower::fd::{Derivative, FdError, FdSpec};
/// let spec = FdSpec::new(&[10, 20], &Derivative::new(1, 2).accuracy(4)).unwrap();
/// assert_eq!(spec.axis(), 1);
/// let err = FdSpec::new(&[10, 20], &Derivative::new(0, 2).accuracy(3)).unwrap_err();
/// assert!(matches!(err, FdError::InvalidAccuracy { accuracy: 3, .. }));
/// ```
#[derive(Clone, Debug)]
pub struct FdSpec {
    axis: usize,
    order: usize,
    accuracy: usize,
    periodic: bool,
    period: Option<f64>,
    spacing: AxisSpacing,
}

impl FdSpec {
    /// Validate `d` for an array of `shape`.
    pub fn new(shape: &[usize], d: &Derivative) -> Result<FdSpec, FdError> {
        let ndim = shape.len();
        let axis = if d.axis < 0 {
            d.axis + ndim as i64
        } else {
            d.axis
        };
        if axis < 0 || axis >= ndim as i64 {
            return Err(FdError::AxisOutOfBounds { axis: d.axis, ndim });
        }
        let axis = axis as usize;
        let order = match usize::try_from(d.order) {
            Ok(m @ 1..=MAX_ORDER) => m,
            _ => {
                return Err(FdError::InvalidOrder {
                    order: d.order,
                    max: MAX_ORDER,
                });
            }
        };
        let accuracy_error = |coords: bool| FdError::InvalidAccuracy {
            accuracy: d.accuracy,
            max: if coords {
                MAX_COORD_ACCURACY
            } else {
                MAX_ACCURACY
            },
            coords,
        };
        let accuracy = match usize::try_from(d.accuracy) {
            Ok(p @ 2..=MAX_ACCURACY) if p % 2 == 0 => p,
            _ => return Err(accuracy_error(false)),
        };
        let len = shape[axis];
        let spacing = axis_spacing(&d.spacing, axis, len)?;
        let coords = matches!(spacing, AxisSpacing::Coords(_));
        if coords && accuracy > MAX_COORD_ACCURACY {
            return Err(accuracy_error(true));
        }
        let (periodic, period) = match d.boundary {
            Boundary::OneSided => (false, None),
            Boundary::Periodic { period } => (true, period),
        };
        check_period(axis, periodic, period, &spacing)?;
        check_values(axis, &spacing, period)?;
        let spec = FdSpec {
            axis,
            order,
            accuracy,
            periodic,
            period,
            spacing,
        };
        let needed = spec.scheme().min_len();
        if len < needed {
            return Err(FdError::AxisTooShort {
                axis,
                len,
                order,
                accuracy,
                boundary: format!(
                    "{}, {}",
                    if periodic { "periodic" } else { "one-sided" },
                    if coords {
                        "coordinates"
                    } else {
                        "uniform step"
                    }
                ),
                needed,
            });
        }
        Ok(spec.numpy_rules())
    }

    /// `numpy.gradient(edge_order=2)` is the derivative of order 1 and
    /// accuracy 2 with one-sided ends; it takes NumPy's spacing rule too:
    /// evenly spaced literal coordinates become their step.
    fn numpy_rules(self) -> FdSpec {
        let collapsed = match &self.spacing {
            AxisSpacing::Coords(x) if self.is_numpy_gradient() => x
                .literal_value()
                .and_then(|v| crate::spec::uniform_step(v))
                .map(|step| AxisSpacing::Step(Tensor::literal(Arc::new(step)))),
            _ => None,
        };
        match collapsed {
            Some(spacing) => FdSpec { spacing, ..self },
            None => self,
        }
    }

    /// True for order 1, accuracy 2, one-sided: `numpy.gradient(edge_order=2)`.
    pub fn is_numpy_gradient(&self) -> bool {
        self.order == 1 && self.accuracy == 2 && !self.periodic
    }

    /// The normalized axis.
    pub fn axis(&self) -> usize {
        self.axis
    }

    /// The derivative order.
    pub fn order(&self) -> usize {
        self.order
    }

    /// The accuracy.
    pub fn accuracy(&self) -> usize {
        self.accuracy
    }

    /// The spacing, after the rules.
    pub fn spacing(&self) -> &AxisSpacing {
        &self.spacing
    }

    pub(crate) fn scheme(&self) -> Scheme {
        self.op().0.scheme()
    }

    /// The composite computing the derivative (`adjoint: false`), and its
    /// inputs after `f`: the step or coordinates tensor, if any.
    pub fn op(&self) -> (FdOp, Option<Tensor>) {
        let (spacing, input) = match &self.spacing {
            AxisSpacing::Weak(h) => (SpacingKind::Weak(WeakStep::new(*h)), None),
            AxisSpacing::Step(h) => (SpacingKind::Step, Some(h.clone())),
            AxisSpacing::Coords(x) => (SpacingKind::Coords, Some(x.clone())),
        };
        let op = FdOp {
            axis: self.axis,
            order: self.order,
            accuracy: self.accuracy,
            periodic: self.periodic,
            period: self.period.map(WeakStep::new),
            spacing,
            adjoint: false,
        };
        (op, input)
    }
}

/// The spacing's form: a number, a real 0-d step or real 1-d coordinates
/// of the axis' length.
fn axis_spacing(s: &Spacing, axis: usize, len: usize) -> Result<AxisSpacing, FdError> {
    let t = match s {
        Spacing::Scalar(h) => return Ok(AxisSpacing::Weak(*h)),
        Spacing::Array(t) => t,
    };
    if t.dtype().is_complex() {
        return Err(FdError::ComplexSpacing { dtype: t.dtype() });
    }
    match t.ndim() {
        0 => Ok(AxisSpacing::Step(t.clone())),
        1 if t.shape()[0] != len => Err(FdError::CoordinateLengthMismatch {
            axis,
            expected: len,
            found: t.shape()[0],
        }),
        1 => Ok(AxisSpacing::Coords(t.clone())),
        ndim => Err(FdError::SpacingNotOneDimensional { ndim }),
    }
}

/// A period belongs to periodic coordinate axes, and they need one.
fn check_period(
    axis: usize,
    periodic: bool,
    period: Option<f64>,
    spacing: &AxisSpacing,
) -> Result<(), FdError> {
    let coords = matches!(spacing, AxisSpacing::Coords(_));
    match (periodic, coords, period) {
        (true, true, None) => Err(FdError::MissingPeriod { axis }),
        (_, false, Some(_)) => Err(FdError::UnexpectedPeriod),
        (true, true, Some(p)) if !(p.is_finite() && p > 0.0) => Err(FdError::InvalidPeriod {
            axis,
            period: p,
            span: 0.0,
        }),
        _ => Ok(()),
    }
}

/// A literal's values as `f64`.
fn literal_values(t: &Tensor) -> Option<Vec<f64>> {
    let v = t.literal_value()?.astype(DType::F64);
    Some(v.as_array::<f64>().ok()?.iter().copied().collect())
}

/// Known steps are finite and non-zero; known coordinates finite and
/// strictly increasing, and shorter than their period.
fn check_values(axis: usize, spacing: &AxisSpacing, period: Option<f64>) -> Result<(), FdError> {
    let step = match spacing {
        AxisSpacing::Weak(h) => Some(*h),
        AxisSpacing::Step(h) => literal_values(h).map(|v| v[0]),
        AxisSpacing::Coords(x) => {
            let Some(x) = literal_values(x) else {
                return Ok(());
            };
            for (index, &value) in x.iter().enumerate() {
                if !value.is_finite() {
                    return Err(FdError::NonFiniteCoordinate { axis, index, value });
                }
                if index > 0 && value <= x[index - 1] {
                    return Err(FdError::CoordinatesNotIncreasing {
                        axis,
                        index,
                        previous: x[index - 1],
                        value,
                    });
                }
            }
            if let (Some(p), Some(first), Some(last)) = (period, x.first(), x.last())
                && p <= last - first
            {
                return Err(FdError::InvalidPeriod {
                    axis,
                    period: p,
                    span: last - first,
                });
            }
            None
        }
    };
    match step {
        Some(h) if !(h.is_finite() && h != 0.0) => Err(FdError::InvalidStep { axis, step: h }),
        _ => Ok(()),
    }
}
