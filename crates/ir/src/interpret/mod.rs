//! The reference interpreter: one primitive at a time, every node materialized.

mod kernels;

use std::collections::HashMap;
use std::sync::Arc;

use crate::value::ArrayElement;
use crate::{ArrayValue, Graph, IrError, Op, ParamId, Tensor, with_array};

/// Values for the parameters of a graph.
pub type Bindings = HashMap<ParamId, Arc<ArrayValue>>;

/// Evaluate `outputs` with the reference interpreter.
///
/// Each node is computed once, in topological order, on `ndarray` arrays;
/// a value is dropped as soon as its last reader has run. Composites are
/// evaluated through their lowering.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use oxla_ir::{evaluate, ArrayValue, DType, Tensor};
/// use ndarray::arr1;
///
/// let x = Tensor::parameter(&[3], DType::F64);
/// let y = x.mul(&x).unwrap();
/// let bindings = HashMap::from([(
///     x.parameter_id().unwrap(),
///     Arc::new(ArrayValue::from(arr1(&[1.0, 2.0, 3.0]).into_dyn())),
/// )]);
/// let out = evaluate(&[y], &bindings).unwrap();
/// assert_eq!(out[0].as_array::<f64>().unwrap().as_slice().unwrap(), &[1.0, 4.0, 9.0]);
/// ```
pub fn evaluate(outputs: &[Tensor], bindings: &Bindings) -> Result<Vec<Arc<ArrayValue>>, IrError> {
    let graph = Graph::new(outputs);
    let mut remaining = graph.users();
    for o in outputs {
        remaining[graph.slot(o)] += 1;
    }
    let mut values: Vec<Option<Arc<ArrayValue>>> = vec![None; graph.nodes.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        let args: Vec<Arc<ArrayValue>> = node
            .inputs()
            .iter()
            .map(|t| {
                values[graph.slot(t)]
                    .clone()
                    .expect("operands are evaluated first")
            })
            .collect();
        values[i] = Some(eval_node(node, &args, bindings)?);
        for t in node.inputs() {
            let j = graph.slot(t);
            remaining[j] -= 1;
            if remaining[j] == 0 {
                values[j] = None;
            }
        }
    }
    Ok(outputs
        .iter()
        .map(|o| {
            values[graph.slot(o)]
                .clone()
                .expect("outputs are kept until the end")
        })
        .collect())
}

fn eval_node(
    node: &Tensor,
    args: &[Arc<ArrayValue>],
    bindings: &Bindings,
) -> Result<Arc<ArrayValue>, IrError> {
    let value = match node.op() {
        Op::Parameter { id, .. } => {
            let v = bindings.get(id).ok_or(IrError::UnboundParameter(id.0))?;
            if v.shape() != node.shape() || v.dtype() != node.dtype() {
                return Err(IrError::BindingMismatch {
                    id: id.0,
                    expected_shape: node.shape().into(),
                    expected_dtype: node.dtype(),
                    found_shape: v.shape().into(),
                    found_dtype: v.dtype(),
                });
            }
            return Ok(v.clone());
        }
        Op::Literal(v) => return Ok(v.clone()),
        Op::Composite(_) => {
            let literals: Vec<Tensor> = args.iter().map(|a| Tensor::literal(a.clone())).collect();
            let lowered = node.with_inputs(&literals)?.lower_composite()?;
            let mut out = evaluate(&[lowered], &Bindings::new())?;
            return Ok(out.remove(0));
        }
        Op::Convert(dtype) => args[0].astype(*dtype),
        op => with_array!(args[0].as_ref(), |a: T| primitive::<T>(op, node, a, args)),
    };
    Ok(Arc::new(value))
}

/// The typed primitives; `a` is the first operand, `args` all of them.
fn primitive<T: ArrayElement>(
    op: &Op,
    node: &Tensor,
    a: &ndarray::ArrayD<T>,
    args: &[Arc<ArrayValue>],
) -> ArrayValue {
    let second = || {
        args[1]
            .as_array::<T>()
            .expect("operand dtypes agree (checked at build)")
    };
    let out = match op {
        Op::Add => kernels::binary(a, second(), T::add),
        Op::Sub => kernels::binary(a, second(), T::sub),
        Op::Mul => kernels::binary(a, second(), T::mul),
        Op::Div => kernels::binary(a, second(), T::div),
        Op::Neg => a.mapv(T::neg),
        Op::Unary(f) => a.mapv(|x| x.unary(*f)),
        Op::Binary(f) => kernels::binary(a, second(), |x, y| x.binary_fn(*f, y)),
        Op::Select(cmp) => {
            let operand = |i: usize| {
                args[i]
                    .as_array::<T>()
                    .expect("operand dtypes agree (checked at build)")
            };
            kernels::select(*cmp, [a, second(), operand(2), operand(3)])
        }
        Op::Slice {
            start,
            limit,
            stride,
        } => kernels::slice(a, start, limit, stride),
        Op::Pad { lo, interior, .. } => {
            let value = *second()
                .first()
                .expect("padding value is 0-d (checked at build)");
            kernels::pad(a, value, lo, interior, node.shape())
        }
        Op::Reshape { shape } => kernels::reshape(a, shape),
        Op::BroadcastInDim { shape, dims } => kernels::broadcast_in_dim(a, shape, dims),
        Op::Transpose { perm } => kernels::transpose(a, perm),
        Op::ReduceSum { axes } => kernels::reduce_sum(a, axes),
        Op::Parameter { .. } | Op::Literal(_) | Op::Convert(_) | Op::Composite(_) => {
            unreachable!("handled by eval_node")
        }
    };
    T::wrap(out)
}
