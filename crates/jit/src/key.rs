//! The structural key of a graph, for the compile cache of [`crate::eval`].
//!
//! Two graphs with the same key compile to the same plan: same ops in the
//! same topology, same 0-d constants, and leaves (parameters and array
//! literals, which become arguments) of the same shapes and dtypes. Array
//! contents are not part of the key.

use std::collections::HashMap;

use oxla_ir::{DType, Graph, NodeKey, Op, Tensor};
use smallvec::SmallVec;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyNode {
    Arg { shape: Vec<usize>, dtype: DType },
    Scalar { dtype: DType, re: u64, im: u64 },
    Op { op: Op, inputs: SmallVec<[u32; 4]> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GraphKey {
    nodes: Vec<KeyNode>,
    outputs: Vec<u32>,
}

/// A leaf becomes an argument unless it is a 0-d literal (inlined as a
/// constant) that a constant holds exactly.
pub(crate) fn is_argument(t: &Tensor) -> bool {
    match t.op() {
        Op::Parameter { .. } => true,
        Op::Literal(v) => t.ndim() > 0 || !is_exact_constant(v),
        _ => false,
    }
}

/// True if the 0-d value `v` survives the trip through a complex f64
/// constant bit for bit. A signaling NaN of a narrower type does not (the
/// widening conversion quiets it), so such a literal stays a buffer and an
/// output that is the literal keeps its bits, as the interpreter's does.
fn is_exact_constant(v: &oxla_ir::ArrayValue) -> bool {
    use oxla_ir::{ArrayElement, Element};
    let c = v.to_c128_vec()[0];
    oxla_ir::with_dtype!(v.dtype(), |T| T::view(v)
        .and_then(|a| a.iter().next().copied())
        .is_some_and(|x| T::from_c128(c).bit_pattern() == x.bit_pattern()))
}

/// The key of `outputs` and the leaves that become arguments, in order.
pub(crate) fn graph_key(outputs: &[Tensor]) -> (GraphKey, Vec<Tensor>) {
    let graph = Graph::new(outputs);
    let mut leaves = Vec::new();
    let mut slot: HashMap<NodeKey, u32> = HashMap::with_capacity(graph.nodes.len());
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for (i, t) in graph.nodes.iter().enumerate() {
        slot.insert(t.key(), i as u32);
        let node = if is_argument(t) {
            leaves.push(t.clone());
            KeyNode::Arg {
                shape: t.shape().to_vec(),
                dtype: t.dtype(),
            }
        } else if let Some(v) = t.literal_value() {
            let c = v.to_c128_vec()[0];
            KeyNode::Scalar {
                dtype: t.dtype(),
                re: c.re.to_bits(),
                im: c.im.to_bits(),
            }
        } else {
            KeyNode::Op {
                op: t.op().clone(),
                inputs: t.inputs().iter().map(|x| slot[&x.key()]).collect(),
            }
        };
        nodes.push(node);
    }
    let outputs = outputs.iter().map(|o| slot[&o.key()]).collect();
    (GraphKey { nodes, outputs }, leaves)
}
