//! The expression of a fused kernel: primitives of the roots, with every
//! movement op turned into a view on a load and every pad into a `Select`
//! on an interval mask.

use std::collections::HashMap;

use oxla_ir::num_complex::Complex64;
use oxla_ir::{BinaryFn, Compare, DType, NodeKey, Op, Tensor, UnaryFn};
use smallvec::SmallVec;

use crate::error::{JitError, internal};
use crate::fusion::{MAX_DEPTH, MAX_VIEWS_PER_NODE};
use crate::isa::{BinOp, View};
use crate::view::{IndexMap, Interval, Mask};

/// Index of a node in a [`KExpr`].
pub(crate) type KId = u32;

/// A kernel expression node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum KOp {
    /// Read buffer elements through a view.
    Load(u32),
    /// A scalar known when the kernel is built (its exact value as a complex f64 pair).
    Const(Complex64),
    Neg(KId),
    /// Round the operand to this node's dtype.
    Convert(KId),
    Binary(BinOp, KId, KId),
    /// `f(a)`.
    Unary(UnaryFn, KId),
    /// `f(a, b)`.
    BinaryFn(BinaryFn, KId, KId),
    /// `a cmp b ? x : y` (`[a, b, x, y]`).
    Where(Compare, [KId; 4]),
    /// `valid` where the mask holds, else `padding` (a pad, before region splitting).
    Select {
        mask: u32,
        valid: KId,
        padding: KId,
    },
}

/// A node of a [`KExpr`]: what it computes, and the dtype of its value.
#[derive(Clone, Debug)]
pub(crate) struct KNode {
    pub op: KOp,
    pub dtype: DType,
}

/// The shared expression DAG of a kernel's roots.
#[derive(Default, Debug)]
pub(crate) struct KExpr {
    pub nodes: Vec<KNode>,
    pub views: Vec<View>,
    pub masks: Vec<SmallVec<[Interval; 2]>>,
}

/// Why a kernel could not be built as planned: the planner materializes the
/// node and tries again.
#[derive(Debug)]
pub(crate) enum Replan {
    /// This node is reached through too many views or too deep a chain.
    Materialize(Tensor),
    Fatal(JitError),
}

impl From<JitError> for Replan {
    fn from(e: JitError) -> Self {
        Replan::Fatal(e)
    }
}

/// Builds a [`KExpr`] for roots sharing one iteration space.
pub(crate) struct Builder<'a> {
    pub expr: KExpr,
    it_shape: &'a [usize],
    buffers: &'a HashMap<NodeKey, usize>,
    memo: HashMap<(NodeKey, IndexMap), KId>,
    views: HashMap<View, u32>,
    views_per_node: HashMap<NodeKey, usize>,
}

impl<'a> Builder<'a> {
    pub fn new(it_shape: &'a [usize], buffers: &'a HashMap<NodeKey, usize>) -> Self {
        Builder {
            expr: KExpr::default(),
            it_shape,
            buffers,
            memo: HashMap::new(),
            views: HashMap::new(),
            views_per_node: HashMap::new(),
        }
    }

    /// The expression of a stored root over the whole iteration space.
    pub fn root(&mut self, root: &Tensor) -> Result<KId, Replan> {
        let map = IndexMap::identity(self.it_shape.len());
        self.build(root, map, true)
    }

    /// The expression of a reduction's operand over the whole iteration
    /// space (the operand may itself be a buffer).
    pub fn operand(&mut self, operand: &Tensor) -> Result<KId, Replan> {
        let map = IndexMap::identity(self.it_shape.len());
        self.build(operand, map, false)
    }

    fn push(&mut self, op: KOp, dtype: DType) -> KId {
        self.expr.nodes.push(KNode { op, dtype });
        (self.expr.nodes.len() - 1) as KId
    }

    fn load(&mut self, buffer: usize, map: &IndexMap, shape: &[usize], dtype: DType) -> KId {
        let (offset, strides) = map.linear(shape, self.it_shape.len());
        let view = View {
            buffer,
            offset,
            strides,
        };
        let next = self.expr.views.len() as u32;
        let id = *self.views.entry(view.clone()).or_insert(next);
        if id == next {
            self.expr.views.push(view);
        }
        self.push(KOp::Load(id), dtype)
    }

    /// Build the expression of `t` seen through `map`. Iterative: the depth
    /// of a user's graph must never reach the thread's stack.
    fn build(&mut self, t: &Tensor, map: IndexMap, is_root: bool) -> Result<KId, Replan> {
        let mut stack = match self.visit(t, map, 0, is_root)? {
            Visit::Done(id) => return Ok(id),
            Visit::Expand(frame) => vec![frame],
        };
        loop {
            let top = stack
                .last_mut()
                .ok_or_else(|| internal!("empty build stack"))?;
            if top.done.len() < top.children.len() {
                let (child, child_map) = top.children[top.done.len()].clone();
                let depth = top.depth + 1;
                match self.visit(&child, child_map, depth, false)? {
                    Visit::Done(id) => top.done.push(id),
                    Visit::Expand(frame) => stack.push(frame),
                }
                continue;
            }
            let frame = stack.pop().ok_or_else(|| internal!("empty build stack"))?;
            let id = self.finish(*frame);
            match stack.last_mut() {
                Some(parent) => parent.done.push(id),
                None => return Ok(id),
            }
        }
    }

    /// Resolve `t` at once (a buffer, a constant, a memoized node) or say
    /// which children to build first and how to combine them.
    fn visit(
        &mut self,
        t: &Tensor,
        map: IndexMap,
        depth: usize,
        is_root: bool,
    ) -> Result<Visit, Replan> {
        if !is_root && let Some(&buffer) = self.buffers.get(&t.key()) {
            return Ok(Visit::Done(self.load(buffer, &map, t.shape(), t.dtype())));
        }
        let key = (t.key(), map);
        if let Some(&id) = self.memo.get(&key) {
            return Ok(Visit::Done(id));
        }
        if !t.inputs().is_empty() && !is_root {
            let seen = self.views_per_node.entry(t.key()).or_insert(0);
            *seen += 1;
            if *seen > MAX_VIEWS_PER_NODE || depth > MAX_DEPTH {
                return Err(Replan::Materialize(t.clone()));
            }
        }
        let map = key.1.clone();
        let x = || {
            t.inputs()
                .first()
                .cloned()
                .ok_or_else(|| internal!("{} has no operand", t.op().name()))
        };
        let (children, combine): (SmallVec<[(Tensor, IndexMap); 2]>, Combine) = match t.op() {
            Op::Literal(v) if v.len() == 1 && v.shape().is_empty() => {
                let id = self.push(KOp::Const(v.to_c128_vec()[0]), t.dtype());
                self.memo.insert(key, id);
                return Ok(Visit::Done(id));
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let op = match t.op() {
                    Op::Add => BinOp::Add,
                    Op::Sub => BinOp::Sub,
                    Op::Mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let b = t.inputs()[1].clone();
                (
                    smallvec::smallvec![(x()?, map.clone()), (b, map)],
                    Combine::Binary(op),
                )
            }
            Op::Neg => (smallvec::smallvec![(x()?, map)], Combine::Neg),
            Op::Unary(f) => (smallvec::smallvec![(x()?, map)], Combine::Unary(*f)),
            Op::Binary(f) => {
                let b = t.inputs()[1].clone();
                (
                    smallvec::smallvec![(x()?, map.clone()), (b, map)],
                    Combine::BinaryFn(*f),
                )
            }
            Op::Select(cmp) => (
                t.inputs()
                    .iter()
                    .map(|i| (i.clone(), map.clone()))
                    .collect(),
                Combine::Where(*cmp),
            ),
            Op::Convert(_) => (smallvec::smallvec![(x()?, map)], Combine::Convert),
            Op::Slice { start, stride, .. } => (
                smallvec::smallvec![(x()?, map.slice(start, stride))],
                Combine::Same,
            ),
            Op::Pad { lo, interior, .. } => {
                if interior.iter().any(|&i| i != 0) {
                    return Err(
                        internal!("interior padding is run by the interpreter, not fused").into(),
                    );
                }
                let value = (t.inputs()[1].clone(), IndexMap(SmallVec::new()));
                match map.pad_mask(lo, t.inputs()[0].shape(), self.it_shape) {
                    Mask::Never => (smallvec::smallvec![value], Combine::Same),
                    Mask::Within(iv) if iv.is_empty() => {
                        (smallvec::smallvec![(x()?, map.shift(lo))], Combine::Same)
                    }
                    Mask::Within(iv) => (
                        smallvec::smallvec![(x()?, map.shift(lo)), value],
                        Combine::Select(iv),
                    ),
                }
            }
            Op::BroadcastInDim { shape, dims } => {
                let operand_map = map.broadcast(t.inputs()[0].shape(), shape, dims);
                (smallvec::smallvec![(x()?, operand_map)], Combine::Same)
            }
            Op::Transpose { perm } => (
                smallvec::smallvec![(x()?, map.transpose(perm))],
                Combine::Same,
            ),
            Op::Reshape { shape } => {
                let operand = x()?;
                match map.squeeze_reshape(operand.shape(), shape) {
                    Some(m) => (smallvec::smallvec![(operand, m)], Combine::Same),
                    None => {
                        // The planner materialized the operand: a contiguous buffer
                        // is its own reshape, so read it with this node's shape.
                        let buffer = *self
                            .buffers
                            .get(&operand.key())
                            .ok_or_else(|| internal!("reshape operand is not materialized"))?;
                        let id = self.load(buffer, &map, t.shape(), t.dtype());
                        return Ok(Visit::Done(id));
                    }
                }
            }
            Op::Parameter { .. } | Op::Literal(_) | Op::ReduceSum { .. } | Op::Composite(_) => {
                let what = t.op().name();
                return Err(internal!("{what} should be a buffer or lowered before fusion").into());
            }
        };
        Ok(Visit::Expand(Box::new(Frame {
            key,
            dtype: t.dtype(),
            depth,
            children,
            combine,
            done: SmallVec::new(),
        })))
    }

    /// The node of a frame whose children are built.
    fn finish(&mut self, frame: Frame) -> KId {
        let d = &frame.done;
        let id = match frame.combine {
            Combine::Same => d[0],
            Combine::Binary(op) => self.push(KOp::Binary(op, d[0], d[1]), frame.dtype),
            Combine::Neg => self.push(KOp::Neg(d[0]), frame.dtype),
            Combine::Unary(f) => self.push(KOp::Unary(f, d[0]), frame.dtype),
            Combine::BinaryFn(f) => self.push(KOp::BinaryFn(f, d[0], d[1]), frame.dtype),
            Combine::Where(cmp) => {
                self.push(KOp::Where(cmp, [d[0], d[1], d[2], d[3]]), frame.dtype)
            }
            Combine::Convert => self.push(KOp::Convert(d[0]), frame.dtype),
            Combine::Select(intervals) => {
                self.expr.masks.push(intervals);
                let mask = (self.expr.masks.len() - 1) as u32;
                self.push(
                    KOp::Select {
                        mask,
                        valid: d[0],
                        padding: d[1],
                    },
                    frame.dtype,
                )
            }
        };
        self.memo.insert(frame.key, id);
        id
    }
}

/// What [`Builder::visit`] found.
enum Visit {
    Done(KId),
    Expand(Box<Frame>),
}

/// How a node combines the expressions of its children.
enum Combine {
    /// The child's expression itself, seen through another view (movement ops).
    Same,
    Binary(BinOp),
    Neg,
    Convert,
    Unary(UnaryFn),
    BinaryFn(BinaryFn),
    /// `[a, b, x, y]`: `a cmp b ? x : y`.
    Where(Compare),
    /// `[valid, padding]` under a mask.
    Select(SmallVec<[Interval; 2]>),
}

/// A node whose children are being built.
struct Frame {
    key: (NodeKey, IndexMap),
    dtype: DType,
    depth: usize,
    children: SmallVec<[(Tensor, IndexMap); 2]>,
    combine: Combine,
    done: SmallVec<[KId; 2]>,
}
