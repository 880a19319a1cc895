//! [`GradientSpec`]: `numpy.gradient`'s arguments, validated once.

use std::sync::Arc;

use oxla_ir::{ArrayValue, Tensor, with_array};

use crate::GradientError;

/// One spacing argument, as NumPy's `*varargs` takes them.
///
/// ```
/// use oxla_lower::Spacing;
/// use oxla_ir::Tensor;
/// let step: Spacing = 0.5.into();                  // a Python float: never widens f
/// let coords: Spacing = Tensor::from_host(ndarray::arr1(&[0.0, 1.0, 3.0]).into_dyn())
///     .unwrap()
///     .into();                                     // a coordinate array
/// assert!(matches!(step, Spacing::Scalar(_)));
/// assert!(matches!(coords, Spacing::Array(_)));
/// ```
#[derive(Clone, Debug)]
pub enum Spacing {
    /// A uniform step with Python-float semantics: it is rounded to `f`'s
    /// dtype and never widens the computation (NEP 50 "weak" scalar).
    Scalar(f64),
    /// A tensor: 0-d is a uniform step of its own dtype (a NumPy scalar, which
    /// does promote: f32 data with an f64 step computes in f64 and rounds
    /// once); 1-d is the coordinates along the axis. Any other rank is an error.
    Array(Tensor),
}

impl From<f64> for Spacing {
    fn from(v: f64) -> Self {
        Spacing::Scalar(v)
    }
}

impl From<Tensor> for Spacing {
    fn from(t: Tensor) -> Self {
        Spacing::Array(t)
    }
}

/// Which axes to differentiate along, as NumPy's `axis=` takes them.
///
/// ```
/// use oxla_lower::Axes;
/// assert_eq!(Axes::from(-1), Axes::Some(vec![-1]));
/// assert_eq!(Axes::from([1, 0]), Axes::Some(vec![1, 0]));
/// assert_eq!(Axes::from(None::<i64>), Axes::All);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Axes {
    /// Every axis, in order (`axis=None`).
    #[default]
    All,
    /// These axes, in this order; negative values count from the end.
    Some(Vec<i64>),
}

macro_rules! axes_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Axes {
            fn from(a: $t) -> Self {
                Axes::Some(vec![a as i64])
            }
        }
        impl From<Vec<$t>> for Axes {
            fn from(a: Vec<$t>) -> Self {
                Axes::Some(a.into_iter().map(|x| x as i64).collect())
            }
        }
        impl From<&[$t]> for Axes {
            fn from(a: &[$t]) -> Self {
                Axes::Some(a.iter().map(|&x| x as i64).collect())
            }
        }
        impl<const N: usize> From<[$t; N]> for Axes {
            fn from(a: [$t; N]) -> Self {
                Axes::Some(a.iter().map(|&x| x as i64).collect())
            }
        }
        impl From<Option<$t>> for Axes {
            fn from(a: Option<$t>) -> Self {
                a.map_or(Axes::All, Axes::from)
            }
        }
    )*};
}

axes_from_int!(i32, i64, isize, usize);

/// `edge_order`: how the two boundary points of an axis are differenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeOrder {
    /// One-sided first differences (NumPy's default).
    One,
    /// Three-point second-order one-sided differences.
    Two,
}

impl EdgeOrder {
    /// `1` or `2`.
    pub fn get(self) -> usize {
        match self {
            EdgeOrder::One => 1,
            EdgeOrder::Two => 2,
        }
    }
}

impl TryFrom<i64> for EdgeOrder {
    type Error = GradientError;
    fn try_from(v: i64) -> Result<Self, GradientError> {
        match v {
            1 => Ok(EdgeOrder::One),
            2 => Ok(EdgeOrder::Two),
            other => Err(GradientError::InvalidEdgeOrder(other)),
        }
    }
}

/// The step along one axis, after NumPy's argument rules.
#[derive(Clone, Debug)]
pub enum AxisSpacing {
    /// A Python-float step (weak: rounded to `f`'s dtype).
    Weak(f64),
    /// A 0-d tensor step (strong: promotes with `f`'s dtype).
    Step(Tensor),
    /// A 1-d tensor of coordinates, one per point of the axis.
    Coords(Tensor),
}

/// The validated arguments of one `gradient` call: for each output, its
/// axis and spacing, and the edge order.
///
/// All of NumPy's argument errors are raised here, in NumPy's order
/// (axes, spacing count and shapes, edge order, then per axis its length
/// and a zero Python-float step with `edge_order=2`), so that
/// lowering never fails on user input.
///
/// ```
/// use oxla_lower::{Axes, GradientError, GradientSpec, Spacing};
/// use oxla_ir::{DType, Tensor};
/// let f = Tensor::parameter(&[4, 5], DType::F32);
/// let spec = GradientSpec::new(&f, &[Spacing::Scalar(0.5)], Axes::from(-1), 2).unwrap();
/// assert_eq!(spec.axes().len(), 1);
/// assert_eq!(spec.axes()[0].0, 1);
/// let err = GradientSpec::new(&f, &[], Axes::from([0, -2]), 1).unwrap_err();
/// assert_eq!(err, GradientError::RepeatedAxis { axis: 0 });
/// ```
#[derive(Clone, Debug)]
pub struct GradientSpec {
    shape: Vec<usize>,
    axes: Vec<(usize, AxisSpacing)>,
    edge_order: EdgeOrder,
}

impl GradientSpec {
    /// Validate NumPy-style arguments for an array shaped like `f`.
    pub fn new(
        f: &Tensor,
        spacing: &[Spacing],
        axis: Axes,
        edge_order: i64,
    ) -> Result<GradientSpec, GradientError> {
        GradientSpec::for_shape(f.shape(), spacing, axis, edge_order)
    }

    /// Validate NumPy-style arguments for an array of `shape` (all that
    /// the rules need: a block of a larger array is validated with the
    /// larger array's shape).
    ///
    /// ```
    /// use oxla_lower::{Axes, GradientSpec};
    /// let spec = GradientSpec::for_shape(&[1000, 3], &[], Axes::from(0), 2).unwrap();
    /// assert_eq!(spec.shape(), &[1000, 3]);
    /// ```
    pub fn for_shape(
        shape: &[usize],
        spacing: &[Spacing],
        axis: Axes,
        edge_order: i64,
    ) -> Result<GradientSpec, GradientError> {
        let axes = normalize_axes(axis, shape.len())?;
        let steps = spacing_per_axis(spacing, &axes, shape)?;
        let edge_order = EdgeOrder::try_from(edge_order)?;
        // NumPy checks each axis in turn, length first, then computes it
        // (where a zero Python-float step divides by zero with edge_order=2).
        for (&a, step) in axes.iter().zip(&steps) {
            if shape[a] < edge_order.get() + 1 {
                return Err(GradientError::AxisTooShort {
                    axis: a,
                    len: shape[a],
                    edge_order: edge_order.get(),
                });
            }
            if let (EdgeOrder::Two, AxisSpacing::Weak(h)) = (edge_order, step)
                && *h == 0.0
            {
                return Err(GradientError::ZeroStep { axis: a, step: *h });
            }
        }
        Ok(GradientSpec {
            shape: shape.to_vec(),
            axes: axes.into_iter().zip(steps).collect(),
            edge_order,
        })
    }

    /// The outputs to produce: (normalized axis, its spacing), in output order.
    pub fn axes(&self) -> &[(usize, AxisSpacing)] {
        &self.axes
    }

    /// The edge order.
    pub fn edge_order(&self) -> EdgeOrder {
        self.edge_order
    }

    /// The shape of the array the arguments were validated for.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

fn normalize_axes(axis: Axes, ndim: usize) -> Result<Vec<usize>, GradientError> {
    let given = match axis {
        Axes::All => return Ok((0..ndim).collect()),
        Axes::Some(v) => v,
    };
    let mut axes = Vec::with_capacity(given.len());
    for a in given {
        let normalized = if a < 0 { a + ndim as i64 } else { a };
        if normalized < 0 || normalized >= ndim as i64 {
            return Err(GradientError::AxisOutOfBounds { axis: a, ndim });
        }
        axes.push(normalized as usize);
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].contains(a) {
            return Err(GradientError::RepeatedAxis { axis: *a });
        }
    }
    Ok(axes)
}

fn is_scalar(s: &Spacing) -> bool {
    match s {
        Spacing::Scalar(_) => true,
        Spacing::Array(t) => t.ndim() == 0,
    }
}

/// NumPy's varargs rule: none, one scalar for all axes, or one per axis.
fn spacing_per_axis(
    spacing: &[Spacing],
    axes: &[usize],
    shape: &[usize],
) -> Result<Vec<AxisSpacing>, GradientError> {
    let per_axis: Vec<(usize, &Spacing)> = match spacing {
        [] => return Ok(vec![AxisSpacing::Weak(1.0); axes.len()]),
        [one] if is_scalar(one) => axes.iter().map(|_| (0, one)).collect(),
        many if many.len() == axes.len() => many.iter().enumerate().collect(),
        _ => {
            return Err(GradientError::InvalidSpacingCount {
                given: spacing.len(),
                axes: axes.len(),
            });
        }
    };
    per_axis
        .into_iter()
        .zip(axes)
        .map(|((index, s), &axis)| axis_spacing(index, s, shape[axis], axis))
        .collect()
}

fn axis_spacing(
    index: usize,
    s: &Spacing,
    len: usize,
    axis: usize,
) -> Result<AxisSpacing, GradientError> {
    let t = match s {
        Spacing::Scalar(h) => return Ok(AxisSpacing::Weak(*h)),
        Spacing::Array(t) => t,
    };
    if t.dtype().is_complex() {
        return Err(GradientError::ComplexSpacing {
            index,
            dtype: t.dtype(),
        });
    }
    match t.ndim() {
        0 => Ok(AxisSpacing::Step(t.clone())),
        1 if t.shape()[0] != len => Err(GradientError::CoordinateLengthMismatch {
            index,
            axis,
            expected: len,
            found: t.shape()[0],
        }),
        1 => Ok(match t.literal_value().and_then(|v| uniform_step(v)) {
            Some(step) => AxisSpacing::Step(Tensor::literal(Arc::new(step))),
            None => AxisSpacing::Coords(t.clone()),
        }),
        ndim => Err(GradientError::SpacingNotOneDimensional { index, ndim }),
    }
}

/// NumPy replaces evenly spaced coordinates by their one step:
/// `diffx = diff(x); if (diffx == diffx[0]).all(): diffx = diffx[0]`.
/// The step keeps the coordinates' dtype (a strong NumPy scalar).
pub(crate) fn uniform_step(x: &ArrayValue) -> Option<ArrayValue> {
    fn step<T: oxla_ir::ArrayElement>(x: &oxla_ir::ndarray::ArrayD<T>) -> Option<ArrayValue> {
        let x = x.as_slice()?;
        let first = x.get(1)?.sub(x[0]);
        let uniform = x.windows(2).all(|w| w[1].sub(w[0]) == first);
        uniform.then(|| T::wrap(oxla_ir::ndarray::arr0(first).into_dyn()))
    }
    with_array!(x, |a: T| step(a))
}
