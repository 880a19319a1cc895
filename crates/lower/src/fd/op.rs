//! [`FdOp`]: a finite-difference derivative along one axis as a composite op.

use std::any::Any;
use std::hash::{Hash, Hasher};

use oxla_ir::{Composite, DType, IrError, Shape, Tensor};

use super::scheme::{Closure, Scheme};
use super::stencil::FdStencil;
use crate::EdgeOrder;
use crate::gradient_op::{
    GradientOp, SpacingKind, WeakStep, check_arity_and_axis, check_spacing_input,
};

/// The derivative of order `order` and accuracy `accuracy` along `axis`
/// (`adjoint: false`, the operator `D`), or its transpose `D^T` applied to a
/// cotangent shaped like `f` (`adjoint: true`).
///
/// Inputs: `[f]` for [`SpacingKind::Weak`], `[f, step]` (0-d) or
/// `[f, coords]` (1-d) otherwise. The output has `f`'s shape and dtype.
/// Both directions lower to slice/pad/mul/add/neg/convert primitives from
/// one stencil description, so `D^T` is `D`'s exact transpose; the
/// weights of coordinate axes are graph nodes computed from the
/// coordinates (Fornberg's recurrence), so the op is differentiable in them
/// through its lowering. Order 1, accuracy 2 with one-sided ends lowers as
/// [`GradientOp`] with `edge_order` 2: `numpy.gradient`, bit for bit.
///
/// Build it through [`crate::fd::FdSpec`], which validates the arguments;
/// [`Composite::output_type`] re-checks the structure only.
///
/// ```
/// use std::sync::Arc;
/// use oxla_ir::{evaluate, Bindings, Tensor};
/// use oxla_lower::fd::FdOp;
/// use oxla_lower::{SpacingKind, WeakStep};
///
/// let f = Tensor::from_host(ndarray::arr1(&[0.0, 1.0, 4.0, 9.0, 16.0, 25.0]).into_dyn())?;
/// let op = FdOp {
///     axis: 0,
///     order: 2,
///     accuracy: 2,
///     periodic: false,
///     period: None,
///     spacing: SpacingKind::Weak(WeakStep::new(1.0)),
///     adjoint: false,
/// };
/// let d2 = Tensor::composite(Arc::new(op), &[f])?;
/// let v = evaluate(&[d2], &Bindings::new())?;
/// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[2.0; 6]); // (x^2)'' = 2
/// # Ok::<(), oxla_ir::IrError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FdOp {
    /// The axis differentiated along.
    pub axis: usize,
    /// The derivative order.
    pub order: usize,
    /// The order of accuracy (even).
    pub accuracy: usize,
    /// True for a periodic axis (the centered stencil everywhere, wrapping).
    pub periodic: bool,
    /// The period length of a periodic coordinate axis.
    pub period: Option<WeakStep>,
    /// Spacing kind.
    pub spacing: SpacingKind,
    /// `true` for the transpose `D^T`.
    pub adjoint: bool,
}

impl FdOp {
    /// The same op in the other direction: the transpose of `D` is `D^T` and back.
    pub fn transposed(self) -> FdOp {
        FdOp {
            adjoint: !self.adjoint,
            ..self
        }
    }

    /// Find the `FdOp` behind a composite, if it is one.
    pub fn of(c: &dyn Composite) -> Option<&FdOp> {
        (c as &dyn Any).downcast_ref::<FdOp>()
    }

    pub(crate) fn scheme(&self) -> Scheme {
        Scheme {
            order: self.order,
            accuracy: self.accuracy,
            closure: if self.periodic {
                Closure::Periodic
            } else {
                Closure::OneSided
            },
            coords: self.spacing == SpacingKind::Coords,
        }
    }

    /// `numpy.gradient(edge_order=2)`, when this op is that derivative.
    fn as_gradient(&self) -> Option<GradientOp> {
        (self.order == 1 && self.accuracy == 2 && !self.periodic).then_some(GradientOp {
            axis: self.axis,
            edge_order: EdgeOrder::Two,
            spacing: self.spacing,
            adjoint: self.adjoint,
            window: None,
        })
    }
}

impl Composite for FdOp {
    fn name(&self) -> &'static str {
        if self.adjoint { "fd_adjoint" } else { "fd" }
    }

    fn output_type(&self, inputs: &[Tensor]) -> Result<(Shape, DType), IrError> {
        let error = |reason: String| IrError::Composite {
            name: self.name(),
            reason,
        };
        check_arity_and_axis(self.name(), self.spacing, self.axis, inputs)?;
        let f = &inputs[0];
        let n = f.shape()[self.axis];
        let scheme = self.scheme();
        let valid = (1..=super::MAX_ORDER).contains(&self.order)
            && (2..=super::MAX_ACCURACY).contains(&self.accuracy)
            && self.accuracy.is_multiple_of(2);
        if !valid {
            return Err(error(format!(
                "order {} and accuracy {} are not supported",
                self.order, self.accuracy
            )));
        }
        if n < scheme.min_len() {
            return Err(error(format!(
                "axis {} has {n} points; the stencils need at least {}",
                self.axis,
                scheme.min_len()
            )));
        }
        if (self.period.is_some()) != (self.periodic && self.spacing == SpacingKind::Coords) {
            return Err(error(
                "a period goes with a periodic coordinate axis, and only there".to_string(),
            ));
        }
        check_spacing_input(self.name(), self.spacing, inputs, n)?;
        Ok((f.shape().into(), f.dtype()))
    }

    fn lower(&self, inputs: &[Tensor]) -> Result<Tensor, IrError> {
        match (self.as_gradient(), self.adjoint) {
            (Some(g), _) => g.lower(inputs),
            (None, false) => FdStencil::new(self, inputs)?.apply(&inputs[0]),
            (None, true) => FdStencil::new(self, inputs)?.apply_adjoint(&inputs[0]),
        }
    }

    fn dyn_eq(&self, other: &dyn Composite) -> bool {
        FdOp::of(other) == Some(self)
    }

    fn dyn_hash(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
}
