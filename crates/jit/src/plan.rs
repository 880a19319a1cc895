//! The planner: which nodes become buffers, and which kernels compute them.
//!
//! Producers fuse into their consumers; a node is *materialized* (gets a
//! buffer) only when it must be: it is an output or a leaf array
//! (argument or constant), the fusion table's `node_role` asks for it (a
//! reduction ends a kernel; a non-view reshape, an interpreted pad or a
//! small array broadcast many times over needs its operand in a buffer), or
//! it is reached through too many distinct views, or too deep: recomputing
//! it everywhere would multiply work (kernel building asks for it).
//!
//! Materialized nodes get a level (one more than the deepest buffer their
//! fused expression reads). Roots of the same level and iteration shape are
//! independent and share one kernel, so all axes of `gradient` (and a loss
//! and its gradient) come out of one pass over `f`.

use std::collections::{HashMap, HashSet};

use oxla_ir::{Graph, NodeKey, Op, Tensor};

use crate::build::{KernelRoot, compile_kernel};
use crate::error::{JitError, internal};
use crate::executable::{Executable, Step};
use crate::fusion::{NodeRole, node_role};
use crate::kexpr::Replan;
use crate::key::is_argument;
use crate::lowering::lower_composites;

impl Executable {
    /// Compile `outputs`, whose parameters must all be among `args` (the
    /// arguments of [`Executable::run`], in order). Array literals become
    /// constants of the executable.
    pub fn compile(outputs: &[Tensor], args: &[Tensor]) -> Result<Executable, JitError> {
        let lowered = lower_composites(outputs)?;
        let graph = Graph::new(&lowered);
        let mut materialize: HashSet<NodeKey> = lowered
            .iter()
            .filter(|o| !is_argument(o))
            .map(Tensor::key)
            .collect();
        for t in &graph.nodes {
            match node_role(t) {
                NodeRole::Reduction => {
                    materialize.insert(t.key());
                }
                NodeRole::ReshapesBuffer | NodeRole::BroadcastsBuffer => {
                    materialize.insert(t.inputs()[0].key());
                }
                NodeRole::Interpreted => {
                    materialize.insert(t.key());
                    materialize.extend(t.inputs().iter().map(Tensor::key));
                }
                NodeRole::Fused | NodeRole::Leaf => {}
            }
        }
        let exe = loop {
            match plan(&graph, &lowered, args, &materialize)? {
                Ok(exe) => break exe,
                Err(node) => {
                    if !materialize.insert(node.key()) {
                        return Err(internal!("replanning did not converge"));
                    }
                }
            }
        };
        exe.validate()?;
        Ok(exe)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum GroupKind {
    Kernel { shape: Vec<usize>, sequential: bool },
    Interpret,
}

enum PlannedRoot {
    Kernel(KernelRoot),
    Interpret { node: Tensor, out: usize },
}

/// Roots computed in one step (one kernel, or one interpreted node).
struct Group {
    level: usize,
    kind: GroupKind,
    /// (graph index, root)
    roots: Vec<(usize, PlannedRoot)>,
}

/// For each graph node that gets a buffer, the materialized nodes whose
/// fused expressions read it (directly or through fused nodes).
fn readers(graph: &Graph, materialize: &HashSet<NodeKey>) -> Vec<Vec<usize>> {
    let mut readers = vec![Vec::new(); graph.nodes.len()];
    for (m, t) in graph.nodes.iter().enumerate() {
        if is_argument(t) || !materialize.contains(&t.key()) {
            continue;
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<&Tensor> = t.inputs().iter().collect();
        while let Some(x) = stack.pop() {
            if !seen.insert(x.key()) {
                continue;
            }
            if is_argument(x) || materialize.contains(&x.key()) {
                readers[graph.slot(x)].push(m);
            } else {
                stack.extend(x.inputs());
            }
        }
    }
    readers
}

/// Move a group to a later group of the same kind when none of its roots is
/// read before that level: all axes of `gradient` then share one pass even
/// when one axis waits for a small coefficient kernel.
fn merge_groups(groups: &mut Vec<Group>, level: &mut [usize], readers: &[Vec<usize>]) {
    loop {
        groups.sort_by_key(|g| g.level);
        let mut merge = None;
        'search: for (a, g) in groups.iter().enumerate() {
            if g.kind == GroupKind::Interpret {
                continue;
            }
            let earliest_reader = g
                .roots
                .iter()
                .flat_map(|(i, _)| readers[*i].iter().map(|&r| level[r]))
                .min()
                .unwrap_or(usize::MAX);
            for (b, h) in groups.iter().enumerate() {
                if h.level > g.level && h.kind == g.kind && h.level < earliest_reader {
                    merge = Some((a, b));
                    break 'search;
                }
            }
        }
        let Some((a, b)) = merge else { return };
        let moved = std::mem::take(&mut groups[a].roots);
        let target = groups[b].level;
        for (i, _) in &moved {
            level[*i] = target;
        }
        groups[b].roots.extend(moved);
        groups.remove(a);
    }
}

/// One attempt at a plan; `Ok(Err(node))` asks to materialize `node` and retry.
fn plan(
    graph: &Graph,
    outputs: &[Tensor],
    args: &[Tensor],
    materialize: &HashSet<NodeKey>,
) -> Result<Result<Executable, Tensor>, JitError> {
    let mut buffers: HashMap<NodeKey, usize> = HashMap::new();
    let mut buffer_types = Vec::new();
    for a in args {
        if a.parameter_id().is_none() {
            return Err(internal!("jit arguments must be parameters"));
        }
        buffers.insert(a.key(), buffer_types.len());
        buffer_types.push((a.shape().to_vec(), a.dtype()));
    }
    let mut constants = Vec::new();
    for t in &graph.nodes {
        match t.op() {
            Op::Parameter { id, .. } if !buffers.contains_key(&t.key()) => {
                return Err(oxla_ir::IrError::UnboundParameter(id.0).into());
            }
            Op::Literal(v) if is_argument(t) => {
                buffers.insert(t.key(), buffer_types.len());
                buffer_types.push((t.shape().to_vec(), t.dtype()));
                constants.push(v.clone());
            }
            _ => {}
        }
    }
    // Levels: a computed buffer is one more than the deepest buffer its expression reads.
    let mut reach = vec![0usize; graph.nodes.len()];
    let mut level = vec![0usize; graph.nodes.len()];
    for (i, t) in graph.nodes.iter().enumerate() {
        if is_argument(t) {
            continue;
        }
        let r = t
            .inputs()
            .iter()
            .map(|x| reach[graph.slot(x)])
            .max()
            .unwrap_or(0);
        if materialize.contains(&t.key()) {
            level[i] = r + 1;
            reach[i] = r + 1;
        } else {
            reach[i] = r;
        }
    }
    let readers = readers(graph, materialize);
    let mut groups: Vec<Group> = Vec::new();
    for (i, t) in graph.nodes.iter().enumerate() {
        if is_argument(t) || !materialize.contains(&t.key()) {
            continue;
        }
        let buffer = buffer_types.len();
        buffers.insert(t.key(), buffer);
        buffer_types.push((t.shape().to_vec(), t.dtype()));
        let (kind, root) = if node_role(t) == NodeRole::Interpreted {
            (
                GroupKind::Interpret,
                PlannedRoot::Interpret {
                    node: t.clone(),
                    out: buffer,
                },
            )
        } else {
            match t.op() {
                Op::ReduceSum { axes } => {
                    let x = &t.inputs()[0];
                    let kind = GroupKind::Kernel {
                        shape: x.shape().to_vec(),
                        sequential: !oxla_ir::reduce::innermost_reduced(axes, x.ndim()),
                    };
                    (
                        kind,
                        PlannedRoot::Kernel(KernelRoot::Reduce {
                            node: t.clone(),
                            buffer,
                        }),
                    )
                }
                _ => {
                    let kind = GroupKind::Kernel {
                        shape: t.shape().to_vec(),
                        sequential: false,
                    };
                    (
                        kind,
                        PlannedRoot::Kernel(KernelRoot::Store {
                            node: t.clone(),
                            buffer,
                        }),
                    )
                }
            }
        };
        match groups
            .iter_mut()
            .find(|g| g.level == level[i] && g.kind == kind && kind != GroupKind::Interpret)
        {
            Some(g) => g.roots.push((i, root)),
            None => groups.push(Group {
                level: level[i],
                kind,
                roots: vec![(i, root)],
            }),
        }
    }
    merge_groups(&mut groups, &mut level, &readers);
    groups.sort_by_key(|g| g.level);
    let mut steps = Vec::with_capacity(groups.len());
    for group in groups {
        let mut kernel_roots = Vec::new();
        for (_, root) in group.roots {
            match root {
                PlannedRoot::Interpret { node, out } => {
                    let inputs = node.inputs().iter().map(|x| buffers[&x.key()]).collect();
                    steps.push(Step::Interpret { node, inputs, out });
                }
                PlannedRoot::Kernel(r) => kernel_roots.push(r),
            }
        }
        if let GroupKind::Kernel { shape, .. } = group.kind {
            match compile_kernel(&shape, &kernel_roots, &buffers) {
                Ok(k) => steps.push(Step::Fused(Box::new(k))),
                Err(Replan::Materialize(node)) => return Ok(Err(node)),
                Err(Replan::Fatal(e)) => return Err(e),
            }
        }
    }
    let outputs: Vec<usize> = outputs.iter().map(|o| buffers[&o.key()]).collect();
    let first_computed = args.len() + constants.len();
    let mut last_read = vec![None; buffer_types.len()];
    for (s, step) in steps.iter().enumerate() {
        for &b in step.reads() {
            last_read[b] = Some(s);
        }
    }
    let mut release = vec![Vec::new(); steps.len()];
    for (b, last) in last_read.iter().enumerate() {
        if let Some(s) = last
            && b >= first_computed
            && !outputs.contains(&b)
        {
            release[*s].push(b);
        }
    }
    Ok(Ok(Executable {
        arg_count: args.len(),
        constants,
        steps,
        release,
        outputs,
        buffer_types,
    }))
}
