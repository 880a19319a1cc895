//! `oxla-autodiff`: derivatives by program transformation.
//!
//! Structured as JAX's `ad.py`: a table of JVP rules ([`jvp_rules`]) and a
//! table of transpose rules ([`transpose_rules`]), both keyed by
//! [`oxla_ir::OpKind`], one small function per rule.
//!
//! - [`jvp`] pushes tangents forward through a traced function. Zero
//!   tangents are symbolic (`None`) and never computed.
//! - [`vjp`] linearizes (a JVP with parameters as tangents, which is linear
//!   in them) and returns a [`Pullback`] that transposes that linear graph:
//!   walking it backwards, applying each op's transpose rule and summing
//!   cotangents with `add`.
//! - [`grad`] and [`value_and_grad`] are `vjp` with a unit cotangent, for
//!   functions with one real scalar output; [`linear_transpose`] transposes a
//!   linear function; [`grad_wrt`]/[`vjp_wrt`] differentiate graphs that are
//!   already built.
//!
//! `gradient` has rules of its own (in [`composite_rules`]): linear in `f`,
//! its JVP is itself and its transpose is the adjoint stencil `G^T`, one
//! composite; derivatives in the coordinates go through its lowering.
//! Everything returns lazy graphs, so transformations compose (`jvp` of
//! `vjp`, `grad` of a function that calls `grad`).
//!
//! ```
//! use oxla_autodiff::{value_and_grad, AutodiffError};
//! use oxla_ir::{evaluate, Bindings, Tensor};
//! use oxla_lower::{gradient, Axes, GradientSpec};
//!
//! // loss(f) = sum((df/dx)^2) and its gradient with respect to f
//! let f = Tensor::from_host(ndarray::arr1(&[0.0, 1.0, 4.0, 9.0]).into_dyn())?;
//! let (loss, g) = value_and_grad(
//!     |xs: &[Tensor]| {
//!         let spec = GradientSpec::new(&xs[0], &[], Axes::All, 1)?;
//!         let d = gradient(&xs[0], &spec)?.remove(0);
//!         Ok::<_, AutodiffError>(vec![d.mul(&d)?.reduce_sum(&[0])?])
//!     },
//!     &[f],
//! )?;
//! let v = evaluate(&[loss, g[0].clone()], &Bindings::new())?;
//! assert_eq!(v[0].as_array::<f64>()?.first(), Some(&(1.0 + 4.0 + 16.0 + 25.0)));
//! assert_eq!(v[1].shape(), &[4]);
//! # Ok::<(), AutodiffError>(())
//! ```

mod api;
pub mod composite_rules;
mod error;
mod jvp;
pub mod jvp_rules;
mod math_rules;
mod tangent;
mod transpose;
pub mod transpose_rules;

pub use api::{
    LinearTranspose, Pullback, grad, grad_wrt, jvp, linear_transpose, value_and_grad, vjp, vjp_wrt,
};
pub use error::{AutodiffError, Role};

/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_util {
    #![allow(clippy::unwrap_used)]

    use oxla_ir::{Bindings, Tensor, evaluate};

    /// The f64 elements of each tensor, evaluated by the interpreter.
    pub(crate) fn values(ts: &[Tensor]) -> Vec<Vec<f64>> {
        evaluate(ts, &Bindings::new())
            .unwrap()
            .iter()
            .map(|v| v.as_array::<f64>().unwrap().iter().copied().collect())
            .collect()
    }
}
