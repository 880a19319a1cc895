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
use crate::math_rules;
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
        OpKind::Unary(_) | OpKind::Binary(_) => math_rules::transpose_nonlinear,
        OpKind::Select(_) => math_rules::transpose_select,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ndarray::{ArrayD, IxDyn, arr1};
    use oxla_ir::num_complex::Complex64;
    use oxla_ir::{ArrayValue, Bindings, DType, Tensor, evaluate};

    use crate::test_util::values;
    use crate::{AutodiffError, linear_transpose};

    fn lit(shape: &[usize], data: Vec<f64>) -> Tensor {
        Tensor::literal(ArrayValue::from(
            ArrayD::from_shape_vec(IxDyn(shape), data).unwrap(),
        ))
    }

    /// pad(zeros, s) as a function of the padding value `s` alone: the case
    /// JAX's pad transpose fails on. Its transpose must be the sum of the
    /// cotangent over the padded positions (the count of them, for a
    /// cotangent of ones), with negative widths cropping operand elements.
    #[test]
    fn pad_transpose_in_the_padding_value_alone() {
        let shape = [3, 4];
        let (lo, hi, interior) = ([1i64, -1], [-1i64, 2], [1usize, 1]);
        let zeros = lit(&shape, vec![0.0; 12]);
        let pad_value =
            |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![zeros.pad(&xs[0], &lo, &hi, &interior)?]);
        let t = linear_transpose(pad_value, &[Tensor::scalar(DType::F64, 0.0)]).unwrap();
        // Which output positions hold an operand element (1) or padding (0),
        // computed by the forward pad, independently of any transpose.
        let ones = lit(&shape, vec![1.0; 12]);
        let mask = ones
            .pad(&Tensor::scalar(DType::F64, 0.0), &lo, &hi, &interior)
            .unwrap();
        let out_shape = mask.shape().to_vec();
        assert_eq!(out_shape, [5, 8]); // 1 + 3 + 2 - 1 and -1 + 4 + 3 + 2
        let mask = values(&[mask]).remove(0);
        let padded = mask.iter().filter(|&&m| m == 0.0).count();
        assert_eq!(padded, 40 - 2 * 3); // rows 1, 3 (row 5 cropped) x cols 1, 3, 5

        let ones_ct = lit(&out_shape, vec![1.0; 40]);
        let ct = values(&t.call(&[ones_ct]).unwrap()).remove(0);
        assert_eq!(ct, vec![padded as f64]);

        let ct_data: Vec<f64> = (0..40).map(|i| f64::from(i * i % 17) - 8.0).collect();
        let expected: f64 = ct_data
            .iter()
            .zip(&mask)
            .filter(|&(_, &m)| m == 0.0)
            .map(|(c, _)| c)
            .sum();
        let ct = values(&t.call(&[lit(&out_shape, ct_data)]).unwrap()).remove(0);
        assert_eq!(ct, vec![expected]);
    }

    /// Both operands linear: the operand gets the cotangent at its (surviving)
    /// positions, the padding value everything else.
    #[test]
    fn pad_transpose_in_both_operands() {
        let pad =
            |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].pad(&xs[1], &[-1], &[2], &[1])?]);
        let like = [
            Tensor::parameter(&[3], DType::F64),
            Tensor::parameter(&[], DType::F64),
        ];
        // x = [a, b, c]: interior 1 gives [a, s, b, s, c], lo = -1 crops `a`
        // and hi = 2 appends [s, s]: the output is [s, b, s, c, s, s].
        let t = linear_transpose(pad, &like).unwrap();
        let ct = lit(&[6], vec![1.0, 10.0, 100.0, 1000.0, 1e4, 1e5]);
        let out = values(&t.call(&[ct]).unwrap());
        assert_eq!(out[0], vec![0.0, 10.0, 1000.0]);
        assert_eq!(out[1], vec![1.0 + 100.0 + 1e4 + 1e5]);
    }

    /// slice^T puts each element back where it was read, with a limit that
    /// is not reached exactly by the stride.
    #[test]
    fn slice_transpose_with_a_stride() {
        let slice = |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].slice(&[1], &[6], &[2])?]);
        let t = linear_transpose(slice, &[Tensor::parameter(&[7], DType::F64)]).unwrap();
        let out = values(&t.call(&[lit(&[3], vec![1.0, 2.0, 3.0])]).unwrap());
        assert_eq!(out[0], vec![0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0]);
    }

    /// broadcast^T sums over new axes and over stretched size-1 axes, and
    /// keeps the size-1 axes in the operand's shape.
    #[test]
    fn broadcast_transpose_sums_stretched_axes() {
        let b = |xs: &[Tensor]| {
            Ok::<_, AutodiffError>(vec![xs[0].broadcast_in_dim(&[2, 4, 3], &[0, 2])?])
        };
        let t = linear_transpose(b, &[Tensor::parameter(&[1, 3], DType::F64)]).unwrap();
        let ct: Vec<f64> = (0..24).map(f64::from).collect();
        let out = t.call(&[lit(&[2, 4, 3], ct)]).unwrap();
        assert_eq!(out[0].shape(), &[1, 3]);
        // column j sums ct[i, k, j] = 12 i + 3 k + j over i < 2, k < 4:
        // 4 * 12 + 2 * 3 * 6 + 8 j
        assert_eq!(values(&out)[0], vec![84.0, 92.0, 100.0]);
    }

    /// convert^T between real and complex: the transpose of embedding a real
    /// in the complex plane keeps the real part (no conjugation), and back.
    #[test]
    fn convert_transpose_real_and_complex() {
        let to_c = |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].convert(DType::C128)?]);
        let t = linear_transpose(to_c, &[Tensor::parameter(&[2], DType::F64)]).unwrap();
        let ct = Tensor::from_host(
            arr1(&[Complex64::new(1.5, -2.0), Complex64::new(-3.0, 4.0)]).into_dyn(),
        )
        .unwrap();
        assert_eq!(values(&t.call(&[ct]).unwrap())[0], vec![1.5, -3.0]);

        let to_r = |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].convert(DType::F64)?]);
        let t = linear_transpose(to_r, &[Tensor::parameter(&[2], DType::C128)]).unwrap();
        let out = t.call(&[lit(&[2], vec![2.0, -1.0])]).unwrap();
        let v = evaluate(&out, &Bindings::new()).unwrap();
        assert_eq!(
            v[0].to_c128_vec(),
            vec![Complex64::new(2.0, 0.0), Complex64::new(-1.0, 0.0)]
        );
    }

    /// A product of two linear operands is not linear.
    #[test]
    fn mul_of_two_linear_operands_is_not_linear() {
        let mul = |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].mul(&xs[1])?]);
        let like = [
            Tensor::parameter(&[2], DType::F64),
            Tensor::parameter(&[2], DType::F64),
        ];
        let t = linear_transpose(mul, &like).unwrap();
        assert_eq!(
            t.call(&[lit(&[2], vec![1.0, 1.0])]).unwrap_err(),
            AutodiffError::NotLinear {
                op: "mul",
                operand: 1
            }
        );
    }
}
