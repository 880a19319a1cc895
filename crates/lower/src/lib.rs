//! `oxla-lower`: composite ops and their lowering to primitives.
//!
//! Its ops are `numpy.gradient` and, in [`fd`], finite differences of any
//! order and accuracy (one-sided or periodic ends). `gradient`:
//!
//! - [`GradientSpec`] takes NumPy's arguments ([`Spacing`] values, [`Axes`],
//!   `edge_order`) and validates them once, raising every error of `docs/gradient-spec.md` as
//!   a [`GradientError`] before any node is built. It applies NumPy's rules:
//!   one scalar for all axes, evenly spaced literal coordinates reduced to
//!   their step, 0-d arrays as strong (promoting) steps.
//! - [`gradient`] turns a spec into one [`GradientOp`] composite per axis.
//! - [`GradientOp`] lowers to slice/pad/sub/mul/div/add/neg/convert and
//!   broadcast_in_dim primitives as `jax.numpy.gradient` does, but assembles
//!   the edges and the interior with `pad` (value `-0.0`) and `add` instead
//!   of a concatenate, so that every transpose is another pad or slice. The
//!   same op with `adjoint: true` is the adjoint stencil `G^T`.
//!
//! ```
//! use oxla_ir::{evaluate, Bindings, Tensor};
//! use oxla_lower::{gradient, Axes, GradientSpec, Spacing};
//!
//! let f = Tensor::from_host(ndarray::arr1(&[1.0, 2.0, 4.0, 7.0, 11.0]).into_dyn())?;
//! let x = Tensor::from_host(ndarray::arr1(&[0.0, 1.0, 1.5, 3.5, 4.0]).into_dyn())?;
//! let spec = GradientSpec::new(&f, &[Spacing::Array(x)], Axes::All, 2)?;
//! let outs = gradient(&f, &spec)?;
//! let values = evaluate(&outs, &Bindings::new())?;
//! assert_eq!(values[0].shape(), &[5]);
//! # Ok::<(), oxla_lower::GradientError>(())
//! ```

mod block;
mod error;
pub mod fd;
mod gradient_op;
mod spec;
mod stencil;
mod window;

use std::sync::Arc;

use oxla_ir::Tensor;

pub use block::{block_cotangent_rows, block_input_rows, gradient_block, gradient_block_adjoint};
pub use error::GradientError;
pub use gradient_op::{GradientOp, SpacingKind, WeakStep};
pub use spec::{Axes, AxisSpacing, EdgeOrder, GradientSpec, Spacing};
pub use window::AxisWindow;

/// One lazy output per axis of `spec`, in the spec's order.
///
/// `spec` must have been validated for an array shaped like `f` (it is, when
/// built from `f` by [`GradientSpec::new`]); the composites re-check their
/// inputs, so a mismatched spec is an error, not a panic.
pub fn gradient(f: &Tensor, spec: &GradientSpec) -> Result<Vec<Tensor>, GradientError> {
    spec.axes()
        .iter()
        .map(|(axis, spacing)| {
            let (kind, step) = match spacing {
                AxisSpacing::Weak(h) => (SpacingKind::Weak(WeakStep::new(*h)), None),
                AxisSpacing::Step(h) => (SpacingKind::Step, Some(h.clone())),
                AxisSpacing::Coords(x) => (SpacingKind::Coords, Some(x.clone())),
            };
            let op = GradientOp {
                axis: *axis,
                edge_order: spec.edge_order(),
                spacing: kind,
                adjoint: false,
                window: None,
            };
            let inputs: Vec<Tensor> = std::iter::once(f.clone()).chain(step).collect();
            Ok(Tensor::composite(Arc::new(op), &inputs)?)
        })
        .collect()
}
