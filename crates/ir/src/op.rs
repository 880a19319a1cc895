//! The primitive set: a small subset of LAX, plus composites.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Element as _;
use crate::math::{BinaryFn, Compare, UnaryFn};
use crate::{ArrayValue, Composite, DType, Dims, Shape};

/// Identity of a [`Op::Parameter`]: unique within the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub u64);

impl ParamId {
    /// A fresh id, never handed out before in this process.
    pub fn fresh() -> ParamId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        ParamId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Signed per-axis widths (pad's `lo`/`hi`, which may be negative as in LAX).
pub type Widths = smallvec::SmallVec<[i64; 4]>;

/// What a node computes. The output shape and dtype live on the node.
///
/// Operands of elementwise ops must agree exactly in shape and dtype (no
/// implicit broadcasting or promotion: use [`Op::BroadcastInDim`] and
/// [`Op::Convert`]), as in LAX.
#[derive(Clone)]
pub enum Op {
    /// A placeholder bound to a value at evaluation (jit arguments, tangents, cotangents).
    Parameter {
        /// Its identity.
        id: ParamId,
        /// Declared shape.
        shape: Shape,
        /// Declared dtype.
        dtype: DType,
    },
    /// A concrete array (0-d for scalars).
    Literal(Arc<ArrayValue>),
    /// `x + y`.
    Add,
    /// `x - y`.
    Sub,
    /// `x * y`.
    Mul,
    /// `x / y`.
    Div,
    /// `-x`.
    Neg,
    /// Round every element to another dtype (complex to real keeps the real part).
    Convert(DType),
    /// `f(x)` elementwise (real dtypes only).
    Unary(UnaryFn),
    /// `f(x, y)` elementwise (real dtypes only; same shape and dtype).
    Binary(BinaryFn),
    /// `a cmp b ? x : y` elementwise: inputs `[a, b, x, y]`, all of one
    /// shape and one real dtype. The comparison is the predicate, so no
    /// boolean dtype exists (see docs/ARCHITECTURE.md, *Elementwise math*).
    Select(Compare),
    /// Elements `start[d], start[d]+stride[d], ... < limit[d]` on each axis `d`.
    Slice {
        /// First index per axis.
        start: Dims,
        /// One past the last index per axis.
        limit: Dims,
        /// Step per axis (at least 1).
        stride: Dims,
    },
    /// LAX pad: inputs `[operand, padding_value]` (the value is 0-d).
    /// Axis `d` gets `lo[d]` values before, `hi[d]` after (negative widths
    /// crop) and `interior[d]` between neighbours.
    Pad {
        /// Widths before the first element (negative crops).
        lo: Widths,
        /// Widths after the last element (negative crops).
        hi: Widths,
        /// Values between neighbouring elements.
        interior: Dims,
    },
    /// Row-major reshape to `shape`.
    Reshape {
        /// The new shape (same element count).
        shape: Shape,
    },
    /// Operand axis `i` becomes output axis `dims[i]`; other axes repeat the operand.
    BroadcastInDim {
        /// Output shape.
        shape: Shape,
        /// Strictly increasing output axis of each operand axis.
        dims: Dims,
    },
    /// Output axis `i` is operand axis `perm[i]`.
    Transpose {
        /// A permutation of the operand's axes.
        perm: Dims,
    },
    /// Sum over `axes` (sorted, unique), in the order [`crate::reduce`] defines.
    ReduceSum {
        /// Axes summed away.
        axes: Dims,
    },
    /// A named op with its own lowering to primitives (and, elsewhere, its own rules).
    Composite(Arc<dyn Composite>),
}

/// The kind of an [`Op`] without its parameters: the key of rule tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // one per Op variant
pub enum OpKind {
    Parameter,
    Literal,
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Convert,
    Unary(UnaryFn),
    Binary(BinaryFn),
    Select(Compare),
    Slice,
    Pad,
    Reshape,
    BroadcastInDim,
    Transpose,
    ReduceSum,
    Composite,
}

impl Op {
    /// The parameter-free kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Parameter { .. } => OpKind::Parameter,
            Op::Literal(_) => OpKind::Literal,
            Op::Add => OpKind::Add,
            Op::Sub => OpKind::Sub,
            Op::Mul => OpKind::Mul,
            Op::Div => OpKind::Div,
            Op::Neg => OpKind::Neg,
            Op::Convert(_) => OpKind::Convert,
            Op::Unary(f) => OpKind::Unary(*f),
            Op::Binary(f) => OpKind::Binary(*f),
            Op::Select(c) => OpKind::Select(*c),
            Op::Slice { .. } => OpKind::Slice,
            Op::Pad { .. } => OpKind::Pad,
            Op::Reshape { .. } => OpKind::Reshape,
            Op::BroadcastInDim { .. } => OpKind::BroadcastInDim,
            Op::Transpose { .. } => OpKind::Transpose,
            Op::ReduceSum { .. } => OpKind::ReduceSum,
            Op::Composite(_) => OpKind::Composite,
        }
    }

    /// A short name (the composite's own name for composites).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Composite(c) => c.name(),
            other => other.kind().name(),
        }
    }
}

impl OpKind {
    /// The LAX-style name (`"add"`, `"broadcast_in_dim"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Parameter => "parameter",
            OpKind::Literal => "literal",
            OpKind::Add => "add",
            OpKind::Sub => "sub",
            OpKind::Mul => "mul",
            OpKind::Div => "div",
            OpKind::Neg => "neg",
            OpKind::Convert => "convert",
            OpKind::Unary(f) => f.name(),
            OpKind::Binary(f) => f.name(),
            OpKind::Select(_) => "select",
            OpKind::Slice => "slice",
            OpKind::Pad => "pad",
            OpKind::Reshape => "reshape",
            OpKind::BroadcastInDim => "broadcast_in_dim",
            OpKind::Transpose => "transpose",
            OpKind::ReduceSum => "reduce_sum",
            OpKind::Composite => "composite",
        }
    }

    /// Elementwise ops: the value at an index depends only on the operands at that index.
    pub fn is_elementwise(self) -> bool {
        matches!(
            self,
            OpKind::Add
                | OpKind::Sub
                | OpKind::Mul
                | OpKind::Div
                | OpKind::Neg
                | OpKind::Convert
                | OpKind::Unary(_)
                | OpKind::Binary(_)
                | OpKind::Select(_)
        )
    }
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Parameter { id, .. } => write!(f, "parameter#{}", id.0),
            Op::Literal(v) => {
                if v.is_empty() || v.len() > 1 {
                    write!(f, "literal<{}{:?}>", v.dtype(), v.shape())
                } else {
                    write!(f, "literal({:?})", v.to_c128_vec()[0])
                }
            }
            Op::Convert(d) => write!(f, "convert({d})"),
            Op::Select(c) => write!(f, "select({})", c.name()),
            Op::Slice {
                start,
                limit,
                stride,
            } => write!(f, "slice({start:?}..{limit:?} step {stride:?})"),
            Op::Pad { lo, hi, interior } => {
                write!(f, "pad(lo {lo:?}, hi {hi:?}, interior {interior:?})")
            }
            Op::Reshape { shape } => write!(f, "reshape({shape:?})"),
            Op::BroadcastInDim { shape, dims } => {
                write!(f, "broadcast_in_dim({shape:?}, {dims:?})")
            }
            Op::Transpose { perm } => write!(f, "transpose({perm:?})"),
            Op::ReduceSum { axes } => write!(f, "reduce_sum({axes:?})"),
            Op::Composite(c) => write!(f, "{c:?}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Structural equality: literals compare by bits, composites by their own `dyn_eq`.
impl PartialEq for Op {
    fn eq(&self, other: &Op) -> bool {
        match (self, other) {
            (
                Op::Parameter { id, shape, dtype },
                Op::Parameter {
                    id: i2,
                    shape: s2,
                    dtype: d2,
                },
            ) => id == i2 && shape == s2 && dtype == d2,
            (Op::Literal(a), Op::Literal(b)) => Arc::ptr_eq(a, b) || a.bit_eq(b),
            (Op::Convert(a), Op::Convert(b)) => a == b,
            (
                Op::Slice {
                    start,
                    limit,
                    stride,
                },
                Op::Slice {
                    start: s2,
                    limit: l2,
                    stride: t2,
                },
            ) => start == s2 && limit == l2 && stride == t2,
            (
                Op::Pad { lo, hi, interior },
                Op::Pad {
                    lo: l2,
                    hi: h2,
                    interior: i2,
                },
            ) => lo == l2 && hi == h2 && interior == i2,
            (Op::Reshape { shape }, Op::Reshape { shape: s2 }) => shape == s2,
            (
                Op::BroadcastInDim { shape, dims },
                Op::BroadcastInDim {
                    shape: s2,
                    dims: d2,
                },
            ) => shape == s2 && dims == d2,
            (Op::Transpose { perm }, Op::Transpose { perm: p2 }) => perm == p2,
            (Op::ReduceSum { axes }, Op::ReduceSum { axes: a2 }) => axes == a2,
            (Op::Composite(a), Op::Composite(b)) => a.dyn_eq(b.as_ref()),
            (a, b) => a.kind() == b.kind() && a.kind().is_elementwise(),
        }
    }
}

/// Equality is structural and reflexive (literals by bits, composites by their parameters).
impl Eq for Op {}

impl Hash for Op {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind().hash(state);
        match self {
            Op::Parameter { id, shape, dtype } => (id, shape, dtype).hash(state),
            Op::Literal(v) => {
                v.dtype().hash(state);
                v.shape().hash(state);
                // the first elements only, without converting the whole array
                crate::with_array!(v.as_ref(), |a: T| {
                    for x in a.iter().take(16) {
                        let c = x.to_c128();
                        (c.re.to_bits(), c.im.to_bits()).hash(state);
                    }
                })
            }
            Op::Convert(d) => d.hash(state),
            // the function is part of the kind, hashed above
            Op::Unary(_) | Op::Binary(_) | Op::Select(_) => {}
            Op::Slice {
                start,
                limit,
                stride,
            } => (start, limit, stride).hash(state),
            Op::Pad { lo, hi, interior } => (lo, hi, interior).hash(state),
            Op::Reshape { shape } => shape.hash(state),
            Op::BroadcastInDim { shape, dims } => (shape, dims).hash(state),
            Op::Transpose { perm } => perm.hash(state),
            Op::ReduceSum { axes } => axes.hash(state),
            Op::Composite(c) => {
                c.name().hash(state);
                c.dyn_hash(state as &mut dyn Hasher);
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg => {}
        }
    }
}
