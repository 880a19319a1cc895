//! Total variation, the loss of the demo's ROF denoising and of the
//! `tv-loss-value-and-grad` bench case (and of the JAX peer in
//! `benches/peers.py`, which spells out the same formula).

use oxla::{Error, Tensor};

/// The smoothing of `|grad u|` at 0, so the loss is differentiable there.
pub const EPS: f64 = 1e-6;

/// Forward differences along `axis`, `u[i+1] - u[i]`, with 0 in the last
/// row (Chambolle's discrete gradient: no flux through the boundary), so
/// they have `u`'s shape.
pub fn forward_difference(u: &Tensor, axis: usize) -> Result<Tensor, Error> {
    let n = u.shape()[axis];
    let d = (&u.slice_axis(axis, 1, n)? - &u.slice_axis(axis, 0, n - 1)?)?;
    Ok(d.pad_axis(&Tensor::scalar(u.dtype(), 0.0), axis, 0, 1)?)
}

/// Isotropic total variation of a 2-d `u` (at least 2 x 2):
/// `sum(sqrt(gx^2 + gy^2 + eps))` over every cell, with the
/// [`forward_difference`]s along both axes. Every term has `u`'s shape,
/// so the value and the gradient are one fused pass over `u`.
pub fn total_variation(u: &Tensor, eps: f64) -> Result<Tensor, Error> {
    if u.ndim() != 2 || u.shape().iter().any(|&n| n < 2) {
        return Err(oxla::IrError::InvalidParams {
            op: "total_variation",
            reason: format!(
                "needs a 2-d array of at least 2x2, got shape {:?}",
                u.shape()
            ),
        }
        .into());
    }
    let (gy, gx) = (forward_difference(u, 0)?, forward_difference(u, 1)?);
    let magnitude = (((&gx * &gx)? + (&gy * &gy)?)? + eps)?.sqrt()?;
    Ok(magnitude.sum_all()?)
}
