//! Rules for composite ops.
//!
//! The stencil ops, `gradient` ([`GradientOp`]) and the finite-difference
//! derivative ([`FdOp`]), have rules of their own: each is linear in `f`,
//! so its tangent in `f` is the op itself, and its transpose is the
//! adjoint stencil (the same op with `adjoint` flipped), one node that a
//! jit can run as a single pass. Their dependence on the step or
//! coordinates is non-linear and goes through the lowered primitives. Any
//! other composite is differentiated and transposed through its lowering.

use std::sync::Arc;

use oxla_ir::{Composite, Op, Tensor};
use oxla_lower::GradientOp;
use oxla_lower::fd::FdOp;

use crate::tangent::{self, Tangent};
use crate::{AutodiffError, jvp, transpose};

/// JVP of a composite node.
pub(crate) fn jvp_composite(node: &Tensor, tangents: &[Tangent]) -> Result<Tangent, AutodiffError> {
    match stencil_transpose(node) {
        Some(_) => jvp_stencil(node, tangents),
        None => jvp_through_lowering(node, tangents),
    }
}

/// Transpose of a composite node.
pub(crate) fn transpose_composite(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    match stencil_transpose(node) {
        Some(op) => transpose_stencil(node, op, ct, linear),
        None => transpose_through_lowering(node, ct, linear),
    }
}

/// The transposed op of a stencil composite (linear in its first input,
/// with an op-level transpose), if `node` is one.
fn stencil_transpose(node: &Tensor) -> Option<Arc<dyn Composite>> {
    let Op::Composite(c) = node.op() else {
        return None;
    };
    if let Some(op) = GradientOp::of(c.as_ref()) {
        return Some(Arc::new(op.transposed()));
    }
    FdOp::of(c.as_ref()).map(|op| Arc::new(op.transposed()) as Arc<dyn Composite>)
}

/// `d G(f; x) = G(df; x) + (dG/dx) dx`: the op itself on `df` (it is linear in
/// `f`), plus the lowered primitives' JVP in the step or coordinates `x`.
fn jvp_stencil(node: &Tensor, tangents: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let in_f = match &tangents[0] {
        Some(df) => {
            let mut inputs = node.inputs().to_vec();
            inputs[0] = df.clone();
            Some(node.with_inputs(&inputs)?)
        }
        None => None,
    };
    let in_spacing = match tangents.get(1) {
        Some(Some(dx)) => jvp_through_lowering(node, &[None, Some(dx.clone())])?,
        _ => None,
    };
    Ok(tangent::add(in_f, in_spacing)?)
}

/// `G^T`: the same stencil with `adjoint` flipped, on the same spacing input.
fn transpose_stencil(
    node: &Tensor,
    op: Arc<dyn Composite>,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    if linear.get(1).copied().unwrap_or(false) {
        return Err(AutodiffError::NotLinear {
            op: node.op().name(),
            operand: 1,
        });
    }
    let mut inputs = node.inputs().to_vec();
    inputs[0] = ct.clone();
    let ct_f = Tensor::composite(op, &inputs)?;
    Ok(std::iter::once(Some(ct_f))
        .chain(inputs[1..].iter().map(|_| None))
        .collect())
}

/// Lower the node with fresh parameters for its operands, take the JVP of
/// the lowering, and put the real operands back.
fn jvp_through_lowering(node: &Tensor, tangents: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let params = tangent::params_like(node.inputs());
    let lowered = node.with_inputs(&params)?.lower_composite()?;
    let seeds = tangent::keyed(
        params
            .iter()
            .zip(tangents)
            .filter_map(|(p, t)| t.clone().map(|t| (p, t))),
    );
    let Some(t) = jvp::jvp_graph(&[lowered], &seeds)?.remove(0) else {
        return Ok(None);
    };
    let back = tangent::binding(&params, node.inputs());
    Ok(Some(oxla_ir::substitute(&[t], &back)?.remove(0)))
}

/// Lower the node with fresh parameters in place of its linear operands and
/// transpose the lowering with respect to them.
fn transpose_through_lowering(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let params: Vec<Option<Tensor>> = node
        .inputs()
        .iter()
        .zip(linear)
        .map(|(t, &l)| l.then(|| Tensor::parameter(t.shape(), t.dtype())))
        .collect();
    let inputs: Vec<Tensor> = node
        .inputs()
        .iter()
        .zip(&params)
        .map(|(t, p)| p.clone().unwrap_or_else(|| t.clone()))
        .collect();
    let lowered = node.with_inputs(&inputs)?.lower_composite()?;
    let linear_params: Vec<Tensor> = params.iter().flatten().cloned().collect();
    let mut cts = transpose::transpose_graph(&[lowered], std::slice::from_ref(ct), &linear_params)?
        .into_iter();
    Ok(params
        .iter()
        .map(|p| p.as_ref().and_then(|_| cts.next().flatten()))
        .collect())
}
