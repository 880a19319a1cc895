//! JVP rules, one per primitive, in a table keyed by [`OpKind`].
//!
//! A rule receives the primal node (its op, operands and output) and the
//! tangents of its operands, at least one of them non-zero, and builds the
//! output's tangent. Every rule is linear in the tangents: this is what lets
//! [`crate::transpose`] turn a JVP into a VJP.

use oxla_ir::{OpKind, Tensor};

use crate::AutodiffError;
use crate::composite_rules;
use crate::math_rules;
use crate::tangent::{self, Tangent, neg_zero};

/// `tangent(out) = rule(node, tangents of operands)`.
pub(crate) type JvpRule = fn(node: &Tensor, tangents: &[Tangent]) -> Result<Tangent, AutodiffError>;

/// The JVP rule of each op kind.
pub(crate) fn jvp_rule(kind: OpKind) -> JvpRule {
    match kind {
        OpKind::Parameter | OpKind::Literal => jvp_leaf,
        OpKind::Add => jvp_add,
        OpKind::Sub => jvp_sub,
        OpKind::Mul => jvp_mul,
        OpKind::Div => jvp_div,
        OpKind::Neg => jvp_neg,
        OpKind::Pad => jvp_pad,
        OpKind::Unary(f) => math_rules::jvp_unary(f),
        OpKind::Binary(f) => math_rules::jvp_binary(f),
        OpKind::Select(_) => math_rules::jvp_select,
        OpKind::Convert
        | OpKind::Slice
        | OpKind::Reshape
        | OpKind::BroadcastInDim
        | OpKind::Transpose
        | OpKind::ReduceSum => jvp_same_op,
        OpKind::Composite => composite_rules::jvp_composite,
    }
}

/// Leaves have no operands; their tangent is whatever the caller seeds.
fn jvp_leaf(_: &Tensor, _: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(None)
}

fn jvp_add(_: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(tangent::add(t[0].clone(), t[1].clone())?)
}

fn jvp_sub(_: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(match (&t[0], &t[1]) {
        (Some(a), Some(b)) => Some(a.sub(b)?),
        (Some(a), None) => Some(a.clone()),
        (None, Some(b)) => Some(b.neg()?),
        (None, None) => None,
    })
}

/// `d(x*y) = dx*y + x*dy`; a square `x*x` gets `dx*(x+x)` instead (JAX's
/// `integer_pow(x, 2)` rule): the same bits wherever `dx*x` is not
/// subnormal (doubling is exact and commutes with rounding), one product
/// instead of two, and its transpose one product instead of three ops.
fn jvp_mul(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, y) = (&node.inputs()[0], &node.inputs()[1]);
    if x.same_node(y)
        && let (Some(dx), Some(dy)) = (&t[0], &t[1])
        && dx.same_node(dy)
    {
        return Ok(Some(dx.mul(&x.add(x)?)?));
    }
    let dx = t[0].as_ref().map(|dx| dx.mul(y)).transpose()?;
    let dy = t[1].as_ref().map(|dy| x.mul(dy)).transpose()?;
    Ok(tangent::add(dx, dy)?)
}

/// `d(x/y) = dx/y - dy * ((x/y)/y)`
fn jvp_div(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let y = &node.inputs()[1];
    let dx = t[0].as_ref().map(|dx| dx.div(y)).transpose()?;
    let dy = match &t[1] {
        Some(dy) => Some(dy.mul(&node.div(y)?)?.neg()?),
        None => None,
    };
    Ok(tangent::add(dx, dy)?)
}

fn jvp_neg(_: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(t[0].as_ref().map(Tensor::neg).transpose()?)
}

/// The tangent of `pad(x, v)` is `pad(dx, dv)`, with zero for a missing one.
fn jvp_pad(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let x = &node.inputs()[0];
    let dx = tangent::or_zeros(t[0].clone(), x)?;
    let dv = t[1].clone().unwrap_or_else(|| neg_zero(x.dtype()));
    Ok(Some(node.with_inputs(&[dx, dv])?))
}

/// Linear one-operand ops (movement, convert, reduce_sum) map tangents by themselves.
fn jvp_same_op(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(t[0]
        .as_ref()
        .map(|dx| node.with_inputs(std::slice::from_ref(dx)))
        .transpose()?)
}
