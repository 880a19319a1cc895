//! Forward mode: push tangents through a graph, one rule per node.

use std::collections::HashMap;

use oxla_ir::{Graph, NodeKey, Tensor};

use crate::AutodiffError;
use crate::jvp_rules::jvp_rule;
use crate::tangent::Tangent;

/// The tangents of `outputs` given the tangents of some nodes (`seeds`).
///
/// Seeded nodes act as independent inputs: their own operands are not
/// differentiated through. Nodes that no seed reaches get a symbolic zero
/// (`None`) and no rule runs for them.
pub(crate) fn jvp_graph(
    outputs: &[Tensor],
    seeds: &HashMap<NodeKey, Tensor>,
) -> Result<Vec<Tangent>, AutodiffError> {
    let graph = Graph::new(outputs);
    let mut tangents: Vec<Tangent> = vec![None; graph.nodes.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        if let Some(seed) = seeds.get(&node.key()) {
            tangents[i] = Some(seed.clone());
            continue;
        }
        let operands: Vec<Tangent> = node
            .inputs()
            .iter()
            .map(|t| tangents[graph.slot(t)].clone())
            .collect();
        if operands.iter().all(Option::is_none) {
            continue;
        }
        tangents[i] = jvp_rule(node.op().kind())(node, &operands)?;
    }
    Ok(outputs
        .iter()
        .map(|o| tangents[graph.slot(o)].clone())
        .collect())
}
