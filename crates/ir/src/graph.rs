//! Walking the DAG behind a set of output tensors.

use std::collections::HashMap;

use crate::{IrError, NodeKey, ParamId, Tensor};

/// The nodes reachable from some outputs, each once, operands before users.
///
/// This is the arena form of a computation: interpreters, transformations and
/// the planner walk `nodes` in order and find a node's slot with [`Graph::index_of`].
///
/// ```
/// use oxla_ir::{DType, Graph, Tensor};
/// let x = Tensor::parameter(&[2], DType::F32);
/// let y = x.add(&x).unwrap();
/// let g = Graph::new(&[y.clone()]);
/// assert_eq!(g.nodes.len(), 2); // x once, then y
/// assert_eq!(g.index_of(&y), Some(1));
/// assert_eq!(g.users(), vec![2, 0]); // x is read twice by y
/// ```
pub struct Graph {
    /// Every reachable node, in a topological order.
    pub nodes: Vec<Tensor>,
    /// The outputs, as given.
    pub outputs: Vec<Tensor>,
    index: HashMap<NodeKey, usize>,
}

impl Graph {
    /// Collect the DAG behind `outputs` (iteratively: deep graphs cannot overflow the stack).
    pub fn new(outputs: &[Tensor]) -> Graph {
        let mut index = HashMap::new();
        let mut nodes = Vec::new();
        // (node, whether its operands were already pushed)
        let mut stack: Vec<(Tensor, bool)> =
            outputs.iter().rev().map(|t| (t.clone(), false)).collect();
        while let Some((t, expanded)) = stack.pop() {
            if index.contains_key(&t.key()) {
                continue;
            }
            if expanded {
                index.insert(t.key(), nodes.len());
                nodes.push(t);
            } else {
                stack.push((t.clone(), true));
                for input in t.inputs().iter().rev() {
                    if !index.contains_key(&input.key()) {
                        stack.push((input.clone(), false));
                    }
                }
            }
        }
        Graph {
            nodes,
            outputs: outputs.to_vec(),
            index,
        }
    }

    /// Position of `t` in `nodes`, if it is part of the graph.
    pub fn index_of(&self, t: &Tensor) -> Option<usize> {
        self.index.get(&t.key()).copied()
    }

    /// Position of a node known to be in the graph: an operand of a graph
    /// node, or one of the outputs. (Those are in it by construction.)
    pub fn slot(&self, t: &Tensor) -> usize {
        self.index_of(t)
            .expect("operands and outputs of a Graph are nodes of it by construction")
    }

    /// For each node, how many operand slots read it.
    pub fn users(&self) -> Vec<usize> {
        let mut users = vec![0; self.nodes.len()];
        for t in &self.nodes {
            for input in t.inputs() {
                if let Some(i) = self.index_of(input) {
                    users[i] += 1;
                }
            }
        }
        users
    }
}

/// Rebuild `outputs` with each listed parameter replaced by a tensor of the
/// same shape and dtype. Nodes that do not depend on a replaced parameter are
/// shared, not copied.
///
/// ```
/// use std::collections::HashMap;
/// use oxla_ir::{substitute, DType, Tensor};
/// let p = Tensor::parameter(&[], DType::F64);
/// let y = p.add(&p).unwrap();
/// let two = Tensor::scalar(DType::F64, 2.0);
/// let map = HashMap::from([(p.parameter_id().unwrap(), two)]);
/// let y2 = substitute(&[y], &map).unwrap();
/// assert!(y2[0].inputs()[0].literal_value().is_some());
/// ```
pub fn substitute(
    outputs: &[Tensor],
    map: &HashMap<ParamId, Tensor>,
) -> Result<Vec<Tensor>, IrError> {
    replace_nodes(outputs, |t| {
        t.parameter_id().and_then(|id| map.get(&id)).cloned()
    })
}

/// Rebuild `outputs` with every node for which `replacement` returns a
/// tensor replaced by it (its operands are then not visited through it).
/// A replacement must have the node's shape and dtype. Nodes that reach no
/// replaced node are shared, not copied.
pub fn replace_nodes(
    outputs: &[Tensor],
    replacement: impl Fn(&Tensor) -> Option<Tensor>,
) -> Result<Vec<Tensor>, IrError> {
    let graph = Graph::new(outputs);
    let mut rebuilt: Vec<Tensor> = Vec::with_capacity(graph.nodes.len());
    for t in &graph.nodes {
        let new = match replacement(t) {
            Some(r) => {
                if r.shape() != t.shape() || r.dtype() != t.dtype() {
                    return Err(IrError::ReplacementMismatch {
                        expected_shape: t.shape().into(),
                        expected_dtype: t.dtype(),
                        found_shape: r.shape().into(),
                        found_dtype: r.dtype(),
                    });
                }
                r
            }
            None => {
                let inputs: Vec<Tensor> = t
                    .inputs()
                    .iter()
                    .map(|i| rebuilt[graph.slot(i)].clone())
                    .collect();
                if inputs.iter().zip(t.inputs()).all(|(a, b)| a.same_node(b)) {
                    t.clone()
                } else {
                    t.with_inputs(&inputs)?
                }
            }
        };
        rebuilt.push(new);
    }
    Ok(outputs
        .iter()
        .map(|o| rebuilt[graph.slot(o)].clone())
        .collect())
}
