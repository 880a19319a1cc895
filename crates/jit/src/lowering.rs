//! Replace every composite by its lowering, recursively.

use oxla_ir::{Graph, IrError, Op, Tensor};

/// `outputs` with every composite node (and composites inside lowerings)
/// replaced by primitives. Graphs without composites are returned as they are.
pub(crate) fn lower_composites(outputs: &[Tensor]) -> Result<Vec<Tensor>, IrError> {
    let graph = Graph::new(outputs);
    if !graph
        .nodes
        .iter()
        .any(|t| matches!(t.op(), Op::Composite(_)))
    {
        return Ok(outputs.to_vec());
    }
    let mut rebuilt: Vec<Tensor> = Vec::with_capacity(graph.nodes.len());
    for t in &graph.nodes {
        let inputs: Vec<Tensor> = t
            .inputs()
            .iter()
            .map(|i| rebuilt[graph.slot(i)].clone())
            .collect();
        let node = if inputs.iter().zip(t.inputs()).all(|(a, b)| a.same_node(b)) {
            t.clone()
        } else {
            t.with_inputs(&inputs)?
        };
        let node = match node.op() {
            Op::Composite(_) => lower_composites(&[node.lower_composite()?])?.remove(0),
            _ => node,
        };
        rebuilt.push(node);
    }
    Ok(outputs
        .iter()
        .map(|o| rebuilt[graph.slot(o)].clone())
        .collect())
}
