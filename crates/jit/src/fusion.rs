//! The fusion table: every decision of what fuses, in one place.
//!
//! Two levels, as data the planner, the build passes, validation and the
//! executor's dispatch all read:
//!
//! 1. **Into a kernel** ([`node_role`]): which IR nodes fuse into their
//!    consumer's kernel, and which need a buffer (a reduction ends a
//!    kernel; a reshape that is not a view, a pad with interior padding and
//!    a small array broadcast many times over are materialized).
//! 2. **Into one instruction** ([`FUSED`]): which patterns of a box
//!    program run as one fused loop, and for which dtypes. Each row names a
//!    [`FusedKind`]; its `FusedOp` variant (`isa/instr.rs`) is the
//!    instruction, `build::fuse` finds it, and `exec::vector` runs it only
//!    in the row's dtypes (the other dtypes do not compile the loop).
//!
//! Adding a fused pattern is one row here (a `FusedKind` and its
//! `FusedOp` variant) plus one loop in `exec/loops.rs`; the compiler then
//! asks for its matcher arm in `build/fuse.rs` and its dispatch arm in
//! `exec/vector.rs` (both `match` every kind).

use oxla_ir::{DType, Op, Tensor};

/// How a node of a lowered graph takes part in fused kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeRole {
    /// Fuses into its consumers: an elementwise op becomes instructions, a
    /// movement op a view on the loads below it, a pad a select.
    Fused,
    /// Ends a kernel: its value is a buffer, computed as a kernel's epilogue.
    Reduction,
    /// A reshape that is not a view (anything beyond adding or removing unit
    /// axes): its operand needs a buffer, which is its own reshape.
    ReshapesBuffer,
    /// A pad with interior padding: run by the reference interpreter
    /// (exact by definition), its operands in buffers.
    Interpreted,
    /// Broadcasts a computed array at least [`BROADCAST_REUSE`]-fold (the
    /// coefficient arrays of coordinate spacing): computing the operand
    /// once is cheaper than in every element of the consumer.
    BroadcastsBuffer,
    /// A parameter or literal.
    Leaf,
}

/// A computed array broadcast at least this many times over is materialized.
pub(crate) const BROADCAST_REUSE: usize = 8;
/// A computed node reached through more distinct views than this is
/// materialized instead of recomputed (stencils of stencils multiply).
pub(crate) const MAX_VIEWS_PER_NODE: usize = 16;
/// Kernel expressions deeper than this are cut by materializing a node.
pub(crate) const MAX_DEPTH: usize = 400;

/// The role of `t` in fused kernels (see [`NodeRole`]).
pub(crate) fn node_role(t: &Tensor) -> NodeRole {
    match t.op() {
        Op::Parameter { .. } | Op::Literal(_) => NodeRole::Leaf,
        Op::ReduceSum { .. } => NodeRole::Reduction,
        Op::Pad { interior, .. } if interior.iter().any(|&i| i != 0) => NodeRole::Interpreted,
        Op::Reshape { shape } if !crate::view::is_view_reshape(t.inputs()[0].shape(), shape) => {
            NodeRole::ReshapesBuffer
        }
        Op::BroadcastInDim { .. } => {
            let x = &t.inputs()[0];
            if !x.inputs().is_empty() && x.numel() >= 2 && t.numel() >= BROADCAST_REUSE * x.numel()
            {
                NodeRole::BroadcastsBuffer
            } else {
                NodeRole::Fused
            }
        }
        Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Neg
        | Op::Convert(_)
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Select(_)
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Composite(_) => NodeRole::Fused,
    }
}

/// A fused instruction pattern: one per loop the executor has. Each is a
/// variant of `FusedOp` (`isa/instr.rs`), where its formula is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FusedKind {
    /// `±post(op(a, b), s)`: a scaled elementwise result.
    Scaled,
    /// `±post(t + t, s2) [+ c]` with `t = stencil(a, b, s)`.
    StencilDouble,
    /// `stencil(a, b, s)^2`.
    StencilSquare,
    /// `±post((t1 + t1) op (t2 + t2), s2) [+ c]` with `t1`, `t2` stencils.
    StencilPair,
    /// `[s /] sqrt((a1 - b1)^2 + (a2 - b2)^2 + c)`: a smoothed magnitude.
    DiffNorm,
    /// `±(w * (d + d)) [+ c]` with `d = a - b`, `w` a vector.
    WeightedDouble,
    /// `c * w + Σ (a ± b) ∘ w_k [+ c]`: a weighted sum of tap pairs.
    PairSum,
}

/// One row of [`FUSED`].
#[derive(Debug)]
pub(crate) struct FusionRule {
    pub kind: FusedKind,
    /// The dtypes the executor has the loop for; the planner fuses only these.
    pub dtypes: &'static [DType],
    /// The value may also be summed into a row reduction in the same loop
    /// (a `VInstr::FusedSum`) when that sum is its only reader.
    pub sums_into_rows: bool,
}

/// The types `gradient` pipelines run in: the stencil loops are compiled
/// for these only, because every combination is its own loop, compiled
/// three times (baseline, AVX2, AVX-512).
const STENCIL_TYPES: &[DType] = &[DType::F32, DType::F64];

/// The fused patterns, one row per [`FusedKind`], in its order. Each row
/// is one pass over a box's nodes, in this order, so a pattern may build on
/// an earlier row's result (the stencils read a `Scaled` value). A node
/// absorbed into one pattern is no longer there for another.
pub(crate) const FUSED: [FusionRule; 7] = [
    FusionRule {
        kind: FusedKind::Scaled,
        dtypes: &DType::ALL,
        sums_into_rows: false,
    },
    FusionRule {
        kind: FusedKind::StencilDouble,
        dtypes: STENCIL_TYPES,
        sums_into_rows: false,
    },
    FusionRule {
        kind: FusedKind::StencilSquare,
        dtypes: STENCIL_TYPES,
        sums_into_rows: true,
    },
    FusionRule {
        kind: FusedKind::StencilPair,
        dtypes: STENCIL_TYPES,
        sums_into_rows: false,
    },
    FusionRule {
        kind: FusedKind::DiffNorm,
        dtypes: STENCIL_TYPES,
        sums_into_rows: false,
    },
    // after DiffNorm, which frees the differences it squares for this one
    FusionRule {
        kind: FusedKind::WeightedDouble,
        dtypes: STENCIL_TYPES,
        sums_into_rows: false,
    },
    // last: the patterns above keep the sums that are theirs
    FusionRule {
        kind: FusedKind::PairSum,
        dtypes: STENCIL_TYPES,
        sums_into_rows: false,
    },
];

impl FusedKind {
    /// Its row of [`FUSED`].
    pub const fn rule(self) -> &'static FusionRule {
        &FUSED[self as usize]
    }

    /// True if this pattern fuses in `dtype`. A `const fn`, so the
    /// executor's dispatch folds it per element type.
    pub const fn fuses(self, dtype: DType) -> bool {
        let dtypes = self.rule().dtypes;
        let mut i = 0;
        while i < dtypes.len() {
            if dtypes[i] as u8 == dtype as u8 {
                return true;
            }
            i += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_kind_order() {
        for (i, rule) in FUSED.iter().enumerate() {
            assert_eq!(rule.kind as usize, i, "{rule:?}");
        }
    }

    #[test]
    fn stencils_fuse_in_the_gradient_types_only() {
        for d in DType::ALL {
            assert!(FusedKind::Scaled.fuses(d));
            let gradient_type = matches!(d, DType::F32 | DType::F64);
            assert_eq!(FusedKind::StencilSquare.fuses(d), gradient_type, "{d}");
            assert_eq!(FusedKind::StencilDouble.fuses(d), gradient_type, "{d}");
            assert_eq!(FusedKind::StencilPair.fuses(d), gradient_type, "{d}");
            assert_eq!(FusedKind::PairSum.fuses(d), gradient_type, "{d}");
            assert_eq!(FusedKind::DiffNorm.fuses(d), gradient_type, "{d}");
            assert_eq!(FusedKind::WeightedDouble.fuses(d), gradient_type, "{d}");
        }
    }
}
