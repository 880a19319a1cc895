//! The expression of a fused kernel: primitives of the roots, with every
//! movement op turned into a view on a load and every pad into a `Select`
//! on an interval mask.

use std::collections::HashMap;

use oxla_ir::num_complex::Complex64;
use oxla_ir::{DType, Element, NodeKey, Op, Tensor};
use smallvec::SmallVec;

use crate::JitError;
use crate::view::{IndexMap, Interval, Mask};

/// Index of a node in a [`KExpr`].
pub(crate) type KId = u32;

/// A binary elementwise op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

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
    /// `valid` where the mask holds, else `padding` (a pad, before region splitting).
    Select {
        mask: u32,
        valid: KId,
        padding: KId,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct KNode {
    pub op: KOp,
    pub dtype: DType,
}

/// A load's address: `offset + sum(strides[j] * it[j])` into buffer `buffer`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct View {
    pub buffer: usize,
    pub offset: i64,
    pub strides: SmallVec<[i64; 4]>,
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

/// A computed node reached through more distinct views than this is
/// materialized instead of recomputed (stencils of stencils multiply).
const MAX_VIEWS_PER_NODE: usize = 16;
/// Expressions deeper than this are cut by materializing a node.
const MAX_DEPTH: usize = 400;

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
        self.build(root, map, 0, true)
    }

    /// The expression of a reduction's operand over the whole iteration
    /// space (the operand may itself be a buffer).
    pub fn operand(&mut self, operand: &Tensor) -> Result<KId, Replan> {
        let map = IndexMap::identity(self.it_shape.len());
        self.build(operand, map, 0, false)
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

    fn build(
        &mut self,
        t: &Tensor,
        map: IndexMap,
        depth: usize,
        is_root: bool,
    ) -> Result<KId, Replan> {
        if !is_root && let Some(&buffer) = self.buffers.get(&t.key()) {
            return Ok(self.load(buffer, &map, t.shape(), t.dtype()));
        }
        let key = (t.key(), map);
        if let Some(&id) = self.memo.get(&key) {
            return Ok(id);
        }
        let map = key.1.clone();
        if !t.inputs().is_empty() && !is_root {
            let seen = self.views_per_node.entry(t.key()).or_insert(0);
            *seen += 1;
            if *seen > MAX_VIEWS_PER_NODE || depth > MAX_DEPTH {
                return Err(Replan::Materialize(t.clone()));
            }
        }
        let id = self.build_op(t, map, depth)?;
        self.memo.insert(key, id);
        Ok(id)
    }

    fn build_op(&mut self, t: &Tensor, map: IndexMap, depth: usize) -> Result<KId, Replan> {
        let dtype = t.dtype();
        let x = t.inputs().first();
        let operand = |b: &mut Self, m: IndexMap| -> Result<KId, Replan> {
            b.build(
                x.ok_or_else(|| internal("operand missing"))?,
                m,
                depth + 1,
                false,
            )
        };
        let id = match t.op() {
            Op::Literal(v) if v.len() == 1 && v.shape().is_empty() => {
                let c = v.to_c128_vec()[0];
                self.push(KOp::Const(c), dtype)
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let op = match t.op() {
                    Op::Add => BinOp::Add,
                    Op::Sub => BinOp::Sub,
                    Op::Mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let a = operand(self, map.clone())?;
                let b = self.build(&t.inputs()[1], map, depth + 1, false)?;
                self.push(KOp::Binary(op, a, b), dtype)
            }
            Op::Neg => {
                let a = operand(self, map)?;
                self.push(KOp::Neg(a), dtype)
            }
            Op::Convert(_) => {
                let a = operand(self, map)?;
                self.push(KOp::Convert(a), dtype)
            }
            Op::Slice { start, stride, .. } => operand(self, map.slice(start, stride))?,
            Op::Pad { lo, interior, .. } => {
                if interior.iter().any(|&i| i != 0) {
                    return Err(
                        internal("interior padding is run by the interpreter, not fused").into(),
                    );
                }
                let value =
                    self.build(&t.inputs()[1], IndexMap(SmallVec::new()), depth + 1, false)?;
                let x_shape = t.inputs()[0].shape();
                match map.pad_mask(lo, x_shape, self.it_shape) {
                    Mask::Never => value,
                    Mask::Within(intervals) => {
                        let valid = operand(self, map.shift(lo))?;
                        if intervals.is_empty() {
                            valid
                        } else {
                            self.expr.masks.push(intervals);
                            let mask = (self.expr.masks.len() - 1) as u32;
                            self.push(
                                KOp::Select {
                                    mask,
                                    valid,
                                    padding: value,
                                },
                                dtype,
                            )
                        }
                    }
                }
            }
            Op::BroadcastInDim { shape, dims } => {
                let operand_shape = t.inputs()[0].shape().to_vec();
                operand(self, map.broadcast(&operand_shape, shape, dims))?
            }
            Op::Transpose { perm } => operand(self, map.transpose(perm))?,
            Op::Reshape { shape } => {
                let x = &t.inputs()[0];
                match map.squeeze_reshape(x.shape(), shape) {
                    Some(m) => operand(self, m)?,
                    None => {
                        // The planner materialized the operand: a contiguous buffer
                        // is its own reshape, so read it with this node's shape.
                        let buffer = *self
                            .buffers
                            .get(&x.key())
                            .ok_or_else(|| internal("reshape operand is not materialized"))?;
                        self.load(buffer, &map, t.shape(), dtype)
                    }
                }
            }
            Op::Parameter { .. } | Op::Literal(_) | Op::ReduceSum { .. } | Op::Composite(_) => {
                return Err(internal(&format!(
                    "{} should be a buffer or lowered before fusion",
                    t.op().name()
                ))
                .into());
            }
        };
        Ok(id)
    }
}

pub(crate) fn internal(what: &str) -> JitError {
    JitError::Internal(what.to_string())
}

/// True if adding the constant `c` of `dtype` changes no bit of any value:
/// `-0.0` in every component (a real constant's imaginary part is unused).
pub(crate) fn is_additive_identity(c: Complex64, dtype: DType) -> bool {
    let neg_zero = f64::NEG_ZERO.to_bits();
    c.re.to_bits() == neg_zero && (!dtype.is_complex() || c.im.to_bits() == neg_zero)
}
