//! Transpose rules, one per linear primitive, in a table keyed by [`OpKind`].
//!
//! A rule receives the node, the cotangent of its output and which operands
//! are linear (depend on the inputs being transposed), and returns a
//! cotangent for each linear operand (`None` for the others). Constant
//! operands (the `y` of `x * y`) are read from the node as they are.
//! Padding introduced by a transpose uses `-0.0`, the exact additive
//! identity, so that fused kernels can drop it without changing a bit.

use oxla_ir::{Op, OpKind, Tensor};

use crate::AutodiffError;
use crate::composite_rules;
use crate::tangent::neg_zero;

/// Cotangents of the operands (`None` for non-linear ones).
pub(crate) type TransposeRule =
    fn(node: &Tensor, ct: &Tensor, linear: &[bool]) -> Result<Vec<Option<Tensor>>, AutodiffError>;

/// The transpose rule of each op kind.
pub(crate) fn transpose_rule(kind: OpKind) -> TransposeRule {
    match kind {
        OpKind::Parameter | OpKind::Literal => transpose_leaf,
        OpKind::Add => transpose_add,
        OpKind::Sub => transpose_sub,
        OpKind::Mul => transpose_mul,
        OpKind::Div => transpose_div,
        OpKind::Neg => transpose_neg,
        OpKind::Convert => transpose_convert,
        OpKind::Slice => transpose_slice,
        OpKind::Pad => transpose_pad,
        OpKind::Reshape => transpose_reshape,
        OpKind::BroadcastInDim => transpose_broadcast_in_dim,
        OpKind::Transpose => transpose_transpose,
        OpKind::ReduceSum => transpose_reduce_sum,
        OpKind::Composite => composite_rules::transpose_composite,
    }
}

fn when(
    linear: bool,
    f: impl FnOnce() -> Result<Tensor, oxla_ir::IrError>,
) -> Result<Option<Tensor>, AutodiffError> {
    Ok(if linear { Some(f()?) } else { None })
}

fn not_linear(node: &Tensor, operand: usize) -> AutodiffError {
    AutodiffError::NotLinear {
        op: node.op().name(),
        operand,
    }
}

/// Leaves have no operands to pass a cotangent to.
fn transpose_leaf(
    _: &Tensor,
    _: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(Vec::new())
}

fn transpose_add(
    _: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(linear.iter().map(|&l| l.then(|| ct.clone())).collect())
}

/// `sub^T = (ct, -ct)`
fn transpose_sub(
    _: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(vec![
        when(linear[0], || Ok(ct.clone()))?,
        when(linear[1], || ct.neg())?,
    ])
}

/// `mul^T` by the constant operand: `(ct * y, x * ct)`.
fn transpose_mul(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    if linear[0] && linear[1] {
        return Err(not_linear(node, 1));
    }
    let (x, y) = (&node.inputs()[0], &node.inputs()[1]);
    Ok(vec![
        when(linear[0], || ct.mul(y))?,
        when(linear[1], || x.mul(ct))?,
    ])
}

/// `div^T` in the numerator by the constant denominator: `ct / y`.
fn transpose_div(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    if linear[1] {
        return Err(not_linear(node, 1));
    }
    Ok(vec![when(linear[0], || ct.div(&node.inputs()[1]))?, None])
}

fn transpose_neg(
    _: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(vec![Some(ct.neg()?)])
}

/// `convert^T` converts back (complex to real keeps the real part, the
/// transpose of embedding a real in the complex plane).
fn transpose_convert(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(vec![Some(ct.convert(node.inputs()[0].dtype())?)])
}

/// `slice^T = pad`: put each cotangent element back where it was read from.
fn transpose_slice(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let Op::Slice { start, stride, .. } = node.op() else {
        return Err(not_linear(node, 0));
    };
    let shape = node.inputs()[0].shape();
    let mut lo = Vec::with_capacity(shape.len());
    let mut hi = Vec::with_capacity(shape.len());
    let mut interior = Vec::with_capacity(shape.len());
    for d in 0..shape.len() {
        let m = ct.shape()[d];
        let last = if m == 0 {
            start[d]
        } else {
            start[d] + (m - 1) * stride[d] + 1
        };
        lo.push(start[d] as i64);
        hi.push((shape[d] - last) as i64);
        interior.push(stride[d] - 1);
    }
    Ok(vec![Some(ct.pad(
        &neg_zero(ct.dtype()),
        &lo,
        &hi,
        &interior,
    )?)])
}

/// `pad^T`: the operand's cotangent is the cotangent at its positions (undo
/// the widths, negative ones included, then take every `interior+1`-th
/// element); the padding value's is everything else: `sum(ct) - sum(ct_operand)`.
/// The latter works even when only the padding value is linear (JAX fails there).
fn transpose_pad(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let Op::Pad { lo, hi, interior } = node.op() else {
        return Err(not_linear(node, 0));
    };
    let ndim = ct.ndim();
    let neg = |w: &[i64]| w.iter().map(|x| -x).collect::<Vec<_>>();
    let unpadded = ct.pad(&neg_zero(ct.dtype()), &neg(lo), &neg(hi), &vec![0; ndim])?;
    let stride: Vec<usize> = interior.iter().map(|i| i + 1).collect();
    let ct_operand = unpadded.slice(&vec![0; ndim], unpadded.shape(), &stride)?;
    let all: Vec<usize> = (0..ndim).collect();
    let ct_value = when(linear[1], || {
        ct.reduce_sum(&all)?.sub(&ct_operand.reduce_sum(&all)?)
    })?;
    Ok(vec![linear[0].then_some(ct_operand), ct_value])
}

fn transpose_reshape(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    Ok(vec![Some(ct.reshape(node.inputs()[0].shape())?)])
}

/// `broadcast_in_dim^T = reduce_sum` over the axes the broadcast created or stretched.
fn transpose_broadcast_in_dim(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let Op::BroadcastInDim { shape, dims } = node.op() else {
        return Err(not_linear(node, 0));
    };
    let operand = node.inputs()[0].shape();
    let summed: Vec<usize> = (0..shape.len())
        .filter(|&d| match dims.iter().position(|&x| x == d) {
            None => true,
            Some(i) => operand[i] == 1 && shape[d] != 1,
        })
        .collect();
    let reduced = if summed.is_empty() {
        ct.clone()
    } else {
        ct.reduce_sum(&summed)?
    };
    Ok(vec![Some(reduced.reshape(operand)?)])
}

fn transpose_transpose(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let Op::Transpose { perm } = node.op() else {
        return Err(not_linear(node, 0));
    };
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok(vec![Some(ct.transpose(&inverse)?)])
}

/// `reduce_sum^T = broadcast` back over the summed axes.
fn transpose_reduce_sum(
    node: &Tensor,
    ct: &Tensor,
    _: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let Op::ReduceSum { axes } = node.op() else {
        return Err(not_linear(node, 0));
    };
    let shape = node.inputs()[0].shape();
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    Ok(vec![Some(ct.broadcast_in_dim(shape, &kept)?)])
}
