//! Linear transposition: walk a linear graph backwards, one rule per node.

use std::collections::HashSet;

use oxla_ir::{Graph, Tensor};

use crate::AutodiffError;
use crate::tangent::{self, Tangent};
use crate::transpose_rules::transpose_rule;

/// The cotangents of `linear_inputs` given those of `outputs`.
///
/// A node is linear when it depends on a linear input; everything else is a
/// constant that rules read as it is (the `y` of `x * y`). Cotangents of a
/// node are summed with `add` in reverse topological order; an input that
/// no output depends on gets a symbolic zero (`None`).
pub(crate) fn transpose_graph(
    outputs: &[Tensor],
    cts: &[Tensor],
    linear_inputs: &[Tensor],
) -> Result<Vec<Tangent>, AutodiffError> {
    let graph = Graph::new(outputs);
    let inputs: HashSet<_> = linear_inputs.iter().map(Tensor::key).collect();
    let mut linear = vec![false; graph.nodes.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        linear[i] =
            inputs.contains(&node.key()) || node.inputs().iter().any(|t| linear[graph.slot(t)]);
    }
    let mut ct: Vec<Tangent> = vec![None; graph.nodes.len()];
    for (o, c) in outputs.iter().zip(cts) {
        let i = graph.slot(o);
        if linear[i] {
            ct[i] = tangent::add(ct[i].take(), Some(c.clone()))?;
        }
    }
    for (i, node) in graph.nodes.iter().enumerate().rev() {
        if !linear[i] || inputs.contains(&node.key()) {
            continue;
        }
        let Some(c) = ct[i].take() else { continue };
        let operand_linear: Vec<bool> = node
            .inputs()
            .iter()
            .map(|t| linear[graph.slot(t)])
            .collect();
        let contributions = transpose_rule(node.op().kind())(node, &c, &operand_linear)?;
        for (operand, contribution) in node.inputs().iter().zip(contributions) {
            if contribution.is_some() {
                let j = graph.slot(operand);
                ct[j] = tangent::add(ct[j].take(), contribution)?;
            }
        }
    }
    Ok(linear_inputs
        .iter()
        .map(|t| graph.index_of(t).and_then(|i| ct[i].clone()))
        .collect())
}
