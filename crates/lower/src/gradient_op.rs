//! [`GradientOp`]: `gradient` along one axis as a composite op.

use std::any::Any;
use std::hash::{Hash, Hasher};

use oxla_ir::{Composite, DType, IrError, Shape, Tensor};

use crate::EdgeOrder;
use crate::stencil::Stencil;
use crate::window::AxisWindow;

/// A Python-float step, compared and hashed by its bits.
#[derive(Clone, Copy, Debug)]
pub struct WeakStep(f64);

impl WeakStep {
    /// Wrap a step.
    pub fn new(h: f64) -> WeakStep {
        WeakStep(h)
    }
    /// The step.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl PartialEq for WeakStep {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for WeakStep {}
impl Hash for WeakStep {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

/// The kind of spacing; the step or coordinates themselves are the op's
/// second input, so they stay differentiable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpacingKind {
    /// A Python-float step (no second input).
    Weak(WeakStep),
    /// A 0-d step tensor (second input).
    Step,
    /// A 1-d coordinate tensor (second input).
    Coords,
}

/// `gradient` of `f` along one axis (`adjoint: false`), or the adjoint
/// stencil `G^T` applied to a cotangent shaped like `f` (`adjoint: true`).
///
/// Inputs: `[f]` for [`SpacingKind::Weak`], `[f, step]` or `[f, coords]`
/// otherwise. The output has `f`'s shape and dtype. Both directions lower to
/// slice/pad/sub/mul/div/add/neg/convert/broadcast_in_dim primitives, from
/// one shared stencil description. `G` is linear in `f` for fixed spacing; `G^T` is its exact
/// transpose, which is what differentiation rules rely on.
///
/// ```
/// use std::sync::Arc;
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::{EdgeOrder, GradientOp, SpacingKind, WeakStep};
///
/// let f = Tensor::from_host(ndarray::arr1(&[1.0, 2.0, 4.0, 7.0]).into_dyn()).unwrap();
/// let op = GradientOp {
///     axis: 0,
///     edge_order: EdgeOrder::One,
///     spacing: SpacingKind::Weak(WeakStep::new(1.0)),
///     adjoint: false,
///     window: None,
/// };
/// let g = Tensor::composite(Arc::new(op), &[f]).unwrap();
/// let out = evaluate(&[g], &Bindings::new()).unwrap();
/// assert_eq!(out[0].as_array::<f64>().unwrap().as_slice().unwrap(), &[1.0, 1.5, 2.5, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GradientOp {
    /// The axis differentiated along.
    pub axis: usize,
    /// Edge order.
    pub edge_order: EdgeOrder,
    /// Spacing kind.
    pub spacing: SpacingKind,
    /// `true` for the adjoint stencil `G^T`.
    pub adjoint: bool,
    /// The rows of the axis the op reads and writes, when it computes a
    /// block of a larger array; `None` for the whole axis (the input's).
    /// The coordinates input, if any, always covers the whole axis.
    pub window: Option<AxisWindow>,
}

impl GradientOp {
    /// The same op with the other direction: the transpose of `G` is `G^T` and back.
    pub fn transposed(self) -> GradientOp {
        GradientOp {
            adjoint: !self.adjoint,
            window: self.window.map(AxisWindow::transposed),
            ..self
        }
    }

    /// The window over the axis of an input shaped `f_shape`.
    fn window_for(&self, f_shape: &[usize]) -> AxisWindow {
        self.window
            .unwrap_or_else(|| AxisWindow::whole(f_shape[self.axis]))
    }

    /// Find the `GradientOp` behind a composite, if it is one.
    pub fn of(c: &dyn Composite) -> Option<&GradientOp> {
        (c as &dyn Any).downcast_ref::<GradientOp>()
    }

    fn error(&self, reason: String) -> IrError {
        IrError::Composite {
            name: self.name(),
            reason,
        }
    }

    fn stencil(&self, inputs: &[Tensor]) -> Result<Stencil, IrError> {
        let f = &inputs[0];
        Stencil::new(
            f.dtype(),
            self.axis,
            self.window_for(f.shape()),
            self.edge_order,
            &self.spacing,
            inputs.get(1),
        )
    }
}

impl Composite for GradientOp {
    fn name(&self) -> &'static str {
        if self.adjoint {
            "gradient_adjoint"
        } else {
            "gradient"
        }
    }

    fn output_type(&self, inputs: &[Tensor]) -> Result<(Shape, DType), IrError> {
        check_arity_and_axis(self.name(), self.spacing, self.axis, inputs)?;
        let f = &inputs[0];
        let window = self.window_for(f.shape());
        let n = window.len;
        if n < self.edge_order.get() + 1 {
            return Err(self.error(format!(
                "axis {} has {n} points; edge order {} needs at least {}",
                self.axis,
                self.edge_order.get(),
                self.edge_order.get() + 1
            )));
        }
        if f.shape()[self.axis] != window.input().len() {
            return Err(self.error(format!(
                "the input has {} rows along axis {}, its window {:?}",
                f.shape()[self.axis],
                self.axis,
                window.input()
            )));
        }
        if !self.adjoint {
            let needed = Stencil::reach_of(n, self.edge_order, window.output());
            let input = window.input();
            if needed.start < input.start || needed.end > input.end {
                return Err(self.error(format!(
                    "output rows {:?} read rows {needed:?}, but the input holds {input:?}",
                    window.output()
                )));
            }
        }
        check_spacing_input(self.name(), self.spacing, inputs, n)?;
        let mut shape: Shape = f.shape().into();
        shape[self.axis] = window.output().len();
        Ok((shape, f.dtype()))
    }

    fn lower(&self, inputs: &[Tensor]) -> Result<Tensor, IrError> {
        let stencil = self.stencil(inputs)?;
        if self.adjoint {
            stencil.apply_adjoint(&inputs[0])
        } else {
            stencil.apply(&inputs[0])
        }
    }

    fn dyn_eq(&self, other: &dyn Composite) -> bool {
        GradientOp::of(other) == Some(self)
    }

    fn dyn_hash(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
}

/// The inputs of a stencil composite along `axis`: `[f]` for a weak step,
/// `[f, step or coordinates]` otherwise, `axis` one of `f`'s.
pub(crate) fn check_arity_and_axis(
    name: &'static str,
    spacing: SpacingKind,
    axis: usize,
    inputs: &[Tensor],
) -> Result<(), IrError> {
    let error = |reason| IrError::Composite { name, reason };
    let arity = if matches!(spacing, SpacingKind::Weak(_)) {
        1
    } else {
        2
    };
    if inputs.len() != arity {
        return Err(error(format!(
            "takes {arity} input(s), got {}",
            inputs.len()
        )));
    }
    let f = &inputs[0];
    if axis >= f.ndim() {
        return Err(error(format!(
            "axis {axis} is out of range for rank {}",
            f.ndim()
        )));
    }
    Ok(())
}

/// The spacing input of a stencil composite, if any: a real 0-d step, or
/// real 1-d coordinates of the axis' `n` points.
pub(crate) fn check_spacing_input(
    name: &'static str,
    spacing: SpacingKind,
    inputs: &[Tensor],
    n: usize,
) -> Result<(), IrError> {
    let Some(s) = inputs.get(1) else {
        return Ok(());
    };
    let want_ndim = usize::from(spacing == SpacingKind::Coords);
    if s.ndim() != want_ndim || (want_ndim == 1 && s.shape()[0] != n) || s.dtype().is_complex() {
        return Err(IrError::Composite {
            name,
            reason: format!(
                "spacing input must be a real {} (axis length {n}), got {}{:?}",
                if want_ndim == 0 {
                    "0-d step"
                } else {
                    "1-d coordinate array"
                },
                s.dtype(),
                s.shape()
            ),
        });
    }
    Ok(())
}
