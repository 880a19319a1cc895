//! The region splitter: a kernel's iteration space cut into boxes at every
//! mask boundary, one program per distinct box (and per tile direction),
//! assembled into a [`FusedKernel`].

use std::collections::HashMap;

use oxla_ir::{DType, NodeKey, Op, Tensor};

use crate::build::emit::{KernelRegisters, Mode, emit_box, plan_box};
use crate::build::merge::merge_axes;
use crate::build::reuse::reuse_shifted;
use crate::build::spec::RootUse;
use crate::error::{JitError, internal};
use crate::isa::{FusedKernel, ReduceSpec, StoreSpec, TILE_BYTES, TileDirection};
use crate::kexpr::{Builder, KExpr, Replan};

/// Innermost segments at most this wide run as column tiles.
pub(crate) const NARROW: usize = 8;

/// What the planner asks a kernel to compute.
pub(crate) enum KernelRoot {
    Store { node: Tensor, buffer: usize },
    Reduce { node: Tensor, buffer: usize },
}

/// The expression of a kernel's roots, and what each root is.
struct Roots {
    expr: KExpr,
    uses: Vec<(u32, RootUse)>,
    stores: Vec<StoreSpec>,
    reductions: Vec<ReduceSpec>,
}

fn build_roots(
    it_shape: &[usize],
    roots: &[KernelRoot],
    buffers: &HashMap<NodeKey, usize>,
) -> Result<Roots, Replan> {
    let mut builder = Builder::new(it_shape, buffers);
    let mut uses = Vec::with_capacity(roots.len());
    let (mut stores, mut reductions) = (Vec::new(), Vec::new());
    for root in roots {
        match root {
            KernelRoot::Store { node, buffer } => {
                let k = builder.root(node)?;
                uses.push((k, RootUse::Store(stores.len() as u16)));
                stores.push(StoreSpec {
                    buffer: *buffer,
                    dtype: node.dtype(),
                });
            }
            KernelRoot::Reduce { node, buffer } => {
                let Op::ReduceSum { axes } = node.op() else {
                    return Err(
                        internal!("reduce root {} is not a reduce_sum", node.op().name()).into(),
                    );
                };
                let k = builder.operand(&node.inputs()[0])?;
                let spec = ReduceSpec {
                    buffer: *buffer,
                    dtype: node.dtype(),
                    axes: axes.to_vec(),
                    shape: node.shape().to_vec(),
                };
                let role = RootUse::Reduce {
                    red: reductions.len() as u16,
                    innermost: spec.innermost_reduced(it_shape.len()),
                };
                uses.push((k, role));
                reductions.push(spec);
            }
        }
    }
    Ok(Roots {
        expr: builder.expr,
        uses,
        stores,
        reductions,
    })
}

/// Per iteration axis, the region boundaries: `0`, every mask bound, the extent.
fn cut_points(it_shape: &[usize], expr: &KExpr) -> Vec<Vec<usize>> {
    let mut cuts: Vec<Vec<usize>> = it_shape.iter().map(|&n| vec![0, n]).collect();
    for mask in &expr.masks {
        for iv in mask {
            cuts[iv.dim as usize].extend([iv.lo as usize, iv.hi as usize]);
        }
    }
    for c in &mut cuts {
        c.sort_unstable();
        c.dedup();
    }
    cuts
}

/// Build the kernel of `roots` over `it_shape`, reading `buffers`.
pub(crate) fn compile_kernel(
    it_shape: &[usize],
    roots: &[KernelRoot],
    buffers: &HashMap<NodeKey, usize>,
) -> Result<FusedKernel, Replan> {
    let Roots {
        mut expr,
        uses,
        stores,
        reductions,
    } = build_roots(it_shape, roots, buffers)?;
    let shape = it_shape;
    let it_shape = &merge_axes(shape, &mut expr, &reductions)[..];
    let cuts = cut_points(it_shape, &expr);
    let segments: Vec<usize> = cuts.iter().map(|c| c.len() - 1).collect();
    let boxes: usize = segments.iter().product();
    let it_ndim = it_shape.len();
    let row_mode = Mode {
        vector_axis: it_ndim.checked_sub(1),
        direction: TileDirection::Row,
    };
    let column_mode = Mode {
        vector_axis: it_ndim.checked_sub(2),
        direction: TileDirection::Column,
    };
    let columns_allowed = it_ndim >= 2;
    let mut regs = KernelRegisters::default();
    let mut plans = Vec::new();
    let mut by_truth: HashMap<(Vec<bool>, TileDirection), u32> = HashMap::new();
    let mut box_program = Vec::with_capacity(boxes);
    let mut box_column_program = Vec::with_capacity(boxes);
    let mut seg = vec![0usize; it_ndim];
    for _ in 0..boxes {
        // which masks hold throughout this box
        let truth: Vec<bool> = expr
            .masks
            .iter()
            .map(|m| {
                m.iter().all(|iv| {
                    let d = iv.dim as usize;
                    let (s, e) = (cuts[d][seg[d]] as i64, cuts[d][seg[d] + 1] as i64);
                    s >= iv.lo && e <= iv.hi
                })
            })
            .collect();
        let mut program_for = |mode: Mode| -> Result<u32, JitError> {
            let next = plans.len() as u32;
            let id = *by_truth
                .entry((truth.clone(), mode.direction))
                .or_insert(next);
            if id == next {
                plans.push(plan_box(&expr, &uses, &truth, &mut regs, mode)?);
            }
            Ok(id)
        };
        box_program.push(program_for(row_mode)?);
        let last = it_ndim.saturating_sub(1);
        let narrow = it_ndim > 0 && cuts[last][seg[last] + 1] - cuts[last][seg[last]] <= NARROW;
        let column = if columns_allowed && narrow {
            Some(program_for(column_mode)?)
        } else {
            None
        };
        box_column_program.push(column);
        // next box: last axis fastest
        for d in (0..seg.len()).rev() {
            seg[d] += 1;
            if seg[d] < segments[d] {
                break;
            }
            seg[d] = 0;
        }
    }
    // every constant is registered now: programs number their temporaries after them
    let mut programs = plans
        .into_iter()
        .map(|plan| emit_box(&expr, plan, &mut regs))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &mut programs {
        let axis = match p.direction {
            TileDirection::Row => row_mode.vector_axis,
            TileDirection::Column => column_mode.vector_axis,
        };
        reuse_shifted(p, &expr.views, axis);
    }
    let sequential = reductions.iter().any(|r| !r.innermost_reduced(it_ndim));
    let mut reads: Vec<usize> = expr.views.iter().map(|v| v.buffer).collect();
    reads.sort_unstable();
    reads.dedup();
    let row_len = it_shape.last().copied().unwrap_or(1);
    // The widest type held in tile registers decides how many elements fit a tile.
    let widest = DType::ALL
        .into_iter()
        .filter(|&d| regs.vectors()[d] > 0)
        .map(DType::size_bytes)
        .max()
        .unwrap_or(8);
    let max_tile = TILE_BYTES / widest;
    let column_len = if box_column_program.iter().any(Option::is_some) {
        it_shape[it_ndim - 2]
    } else {
        0
    };
    let stride_along = |axis: Option<usize>| -> Vec<i64> {
        expr.views
            .iter()
            .map(|v| axis.map_or(0, |a| v.strides[a]))
            .collect()
    };
    let col_stride = stride_along(it_ndim.checked_sub(1));
    let line_stride = stride_along(it_ndim.checked_sub(2));
    Ok(FusedKernel {
        segments,
        col_stride,
        line_stride,
        tile_len: row_len.max(column_len).clamp(1, max_tile),
        shape: shape.to_vec(),
        it_shape: it_shape.to_vec(),
        views: expr.views,
        regs: regs.into_file(),
        stores,
        reductions,
        cuts,
        programs,
        box_program,
        box_column_program,
        sequential,
        reads,
    })
}
