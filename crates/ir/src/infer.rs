//! Shape and dtype inference: the only place a node's type is decided.
//! Every check that can fail does so here, before the node exists.

use crate::{DType, Dims, IrError, Op, Shape, Tensor};

/// The output shape and dtype of `op` applied to `inputs`, or why it cannot be built.
pub(crate) fn infer(op: &Op, inputs: &[Tensor]) -> Result<(Shape, DType), IrError> {
    let name = op.name();
    let arity = match op {
        Op::Parameter { .. } | Op::Literal(_) => 0,
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Binary(_) | Op::Pad { .. } => 2,
        Op::Select(_) => 4,
        Op::Composite(_) => inputs.len(),
        _ => 1,
    };
    if inputs.len() != arity {
        return Err(IrError::params(
            name,
            format!("takes {arity} operand(s), got {}", inputs.len()),
        ));
    }
    match op {
        Op::Parameter { shape, dtype, .. } => Ok((shape.clone(), *dtype)),
        Op::Literal(v) => Ok((Shape::from_slice(v.shape()), v.dtype())),
        Op::Add | Op::Sub | Op::Mul | Op::Div => same_type(name, inputs),
        Op::Binary(_) | Op::Select(_) => {
            let t = same_type(name, inputs)?;
            real_only(name, t.1)?;
            Ok(t)
        }
        Op::Unary(_) => {
            real_only(name, inputs[0].dtype())?;
            Ok((inputs[0].shape().into(), inputs[0].dtype()))
        }
        Op::Neg => Ok((inputs[0].shape().into(), inputs[0].dtype())),
        Op::Convert(to) => Ok((inputs[0].shape().into(), *to)),
        Op::Slice {
            start,
            limit,
            stride,
        } => slice_shape(inputs[0].shape(), start, limit, stride).map(|s| (s, inputs[0].dtype())),
        Op::Pad { lo, hi, interior } => {
            let (x, value) = (&inputs[0], &inputs[1]);
            if value.ndim() != 0 {
                return Err(IrError::params(
                    name,
                    format!("padding value must be 0-d, got shape {:?}", value.shape()),
                ));
            }
            if value.dtype() != x.dtype() {
                return Err(IrError::DTypeMismatch {
                    op: name,
                    lhs: x.dtype(),
                    rhs: value.dtype(),
                });
            }
            pad_shape(x.shape(), lo, hi, interior).map(|s| (s, x.dtype()))
        }
        Op::Reshape { shape } => {
            let x = &inputs[0];
            if shape.iter().product::<usize>() != x.numel() {
                return Err(IrError::params(
                    name,
                    format!("cannot reshape {:?} into {shape:?}", x.shape()),
                ));
            }
            Ok((shape.clone(), x.dtype()))
        }
        Op::BroadcastInDim { shape, dims } => {
            check_broadcast(inputs[0].shape(), shape, dims)?;
            Ok((shape.clone(), inputs[0].dtype()))
        }
        Op::Transpose { perm } => {
            let x = &inputs[0];
            check_permutation(perm, x.ndim())?;
            Ok((perm.iter().map(|&p| x.shape()[p]).collect(), x.dtype()))
        }
        Op::ReduceSum { axes } => {
            let x = &inputs[0];
            if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&a| a >= x.ndim()) {
                return Err(IrError::params(
                    name,
                    format!(
                        "axes {axes:?} must be increasing and below the rank {}",
                        x.ndim()
                    ),
                ));
            }
            let shape = (0..x.ndim())
                .filter(|d| !axes.contains(d))
                .map(|d| x.shape()[d])
                .collect();
            Ok((shape, x.dtype()))
        }
        Op::Composite(c) => c.output_type(inputs),
    }
}

/// The common shape and dtype of elementwise operands, which must agree exactly.
fn same_type(name: &'static str, inputs: &[Tensor]) -> Result<(Shape, DType), IrError> {
    let x = &inputs[0];
    for y in &inputs[1..] {
        if x.shape() != y.shape() {
            return Err(IrError::ShapeMismatch {
                op: name,
                lhs: x.shape().into(),
                rhs: y.shape().into(),
            });
        }
        if x.dtype() != y.dtype() {
            return Err(IrError::DTypeMismatch {
                op: name,
                lhs: x.dtype(),
                rhs: y.dtype(),
            });
        }
    }
    Ok((x.shape().into(), x.dtype()))
}

/// Elementwise math, orderings and comparisons are defined on real dtypes only.
fn real_only(op: &'static str, dtype: DType) -> Result<(), IrError> {
    if dtype.is_complex() {
        return Err(IrError::UnsupportedDType { op, dtype });
    }
    Ok(())
}

fn rank_check(op: &'static str, what: &str, len: usize, ndim: usize) -> Result<(), IrError> {
    if len != ndim {
        return Err(IrError::params(
            op,
            format!("{what} has {len} entries for an operand of rank {ndim}"),
        ));
    }
    Ok(())
}

/// Shape of `slice(x, start, limit, stride)`.
pub(crate) fn slice_shape(
    shape: &[usize],
    start: &[usize],
    limit: &[usize],
    stride: &[usize],
) -> Result<Shape, IrError> {
    for (what, v) in [("start", start), ("limit", limit), ("stride", stride)] {
        rank_check("slice", what, v.len(), shape.len())?;
    }
    let mut out = Shape::new();
    for d in 0..shape.len() {
        if start[d] > limit[d] || limit[d] > shape[d] || stride[d] == 0 {
            return Err(IrError::params(
                "slice",
                format!(
                    "axis {d}: need start <= limit <= {} and stride >= 1, got {}..{} step {}",
                    shape[d], start[d], limit[d], stride[d]
                ),
            ));
        }
        out.push((limit[d] - start[d]).div_ceil(stride[d]));
    }
    Ok(out)
}

/// Shape of `pad(x, lo, hi, interior)`; negative results are errors.
pub(crate) fn pad_shape(
    shape: &[usize],
    lo: &[i64],
    hi: &[i64],
    interior: &[usize],
) -> Result<Shape, IrError> {
    rank_check("pad", "lo", lo.len(), shape.len())?;
    rank_check("pad", "hi", hi.len(), shape.len())?;
    rank_check("pad", "interior", interior.len(), shape.len())?;
    let mut out = Shape::new();
    for d in 0..shape.len() {
        let n = shape[d] as i128;
        let dilated = if n == 0 {
            0
        } else {
            n + (n - 1) * interior[d] as i128
        };
        let size = lo[d] as i128 + hi[d] as i128 + dilated;
        if size < 0 {
            return Err(IrError::params(
                "pad",
                format!(
                    "axis {d}: widths lo={} hi={} crop more than the {} elements there",
                    lo[d], hi[d], dilated
                ),
            ));
        }
        let size = usize::try_from(size).map_err(|_| {
            IrError::params("pad", format!("axis {d}: padded size {size} is too large"))
        })?;
        out.push(size);
    }
    Ok(out)
}

fn check_broadcast(operand: &[usize], shape: &[usize], dims: &Dims) -> Result<(), IrError> {
    let bad = |reason: String| Err(IrError::params("broadcast_in_dim", reason));
    if dims.len() != operand.len() {
        return bad(format!(
            "dims {dims:?} must name one output axis per operand axis ({})",
            operand.len()
        ));
    }
    if dims.windows(2).any(|w| w[0] >= w[1]) || dims.iter().any(|&d| d >= shape.len()) {
        return bad(format!(
            "dims {dims:?} must be increasing and below the output rank {}",
            shape.len()
        ));
    }
    for (i, &d) in dims.iter().enumerate() {
        if operand[i] != 1 && operand[i] != shape[d] {
            return bad(format!(
                "operand axis {i} has size {} but output axis {d} has size {}",
                operand[i], shape[d]
            ));
        }
    }
    Ok(())
}

fn check_permutation(perm: &Dims, ndim: usize) -> Result<(), IrError> {
    let mut seen = vec![false; ndim];
    let ok = perm.len() == ndim
        && perm
            .iter()
            .all(|&p| p < ndim && !std::mem::replace(&mut seen[p], true));
    if ok {
        Ok(())
    } else {
        Err(IrError::params(
            "transpose",
            format!("{perm:?} is not a permutation of {ndim} axes"),
        ))
    }
}
