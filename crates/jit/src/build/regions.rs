//! [`FusedKernel`]: one pass over an iteration space computing several
//! roots (stored outputs and reductions), split into regions.

use std::collections::HashMap;

use oxla_ir::{DType, NodeKey, Op, Tensor};

use crate::JitError;
use crate::kexpr::{Builder, Replan, View};
use crate::program::{Mode, Program, Registers, RootUse, emit_box, plan_box};

/// Innermost segments at most this wide run as column tiles.
pub(crate) const NARROW: usize = 8;

/// A root stored to a buffer shaped like the iteration space.
#[derive(Debug)]
pub(crate) struct StoreSpec {
    pub buffer: usize,
    pub dtype: DType,
}

/// A `reduce_sum` root: its operand spans the iteration space.
#[derive(Debug)]
pub(crate) struct ReduceSpec {
    pub buffer: usize,
    pub dtype: DType,
    /// Reduced iteration axes, increasing.
    pub axes: Vec<usize>,
    /// Output shape (the kept axes).
    pub shape: Vec<usize>,
}

impl ReduceSpec {
    /// The innermost iteration axis is summed (chunks and lanes), rather than kept.
    pub fn innermost_reduced(&self, it_ndim: usize) -> bool {
        oxla_ir::reduce::innermost_reduced(&self.axes, it_ndim)
    }
}

/// What the planner asks a kernel to compute.
pub(crate) enum KernelRoot {
    Store { node: Tensor, buffer: usize },
    Reduce { node: Tensor, buffer: usize },
}

/// A compiled fused kernel.
#[derive(Debug)]
pub(crate) struct FusedKernel {
    pub it_shape: Vec<usize>,
    pub views: Vec<View>,
    pub regs: Registers,
    pub stores: Vec<StoreSpec>,
    pub reductions: Vec<ReduceSpec>,
    /// Per iteration axis, the region boundaries (`0`, mask bounds, extent), increasing.
    pub cuts: Vec<Vec<usize>>,
    /// Distinct box programs.
    pub programs: Vec<Program>,
    /// The program of each box; boxes in row-major order of their segments.
    pub box_program: Vec<u32>,
    /// For boxes whose innermost segment is at most [`NARROW`] wide (the
    /// edges of a stencil along the innermost axis), a program whose tiles
    /// run down a column of rows instead: one tile per run of rows rather
    /// than one per element.
    pub box_column_program: Vec<Option<u32>>,
    /// A reduction keeps the innermost axis and sums outer ones: rows must
    /// be visited in order by one worker.
    pub sequential: bool,
    /// The buffers read (by the executor, for release, and in plan summaries).
    pub reads: Vec<usize>,
    /// Segments per iteration axis (`cuts[d].len() - 1`).
    pub segments: Vec<usize>,
    /// Per view, its stride along the innermost axis (0 for a 0-d kernel).
    pub col_stride: Vec<i64>,
    /// Per view, its stride along the last outer axis (0 if there is none).
    pub line_stride: Vec<i64>,
    /// The longest tile this kernel runs: registers need no more elements
    /// (a 6-element gradient should not allocate 512-element registers).
    pub tile_len: usize,
}

impl FusedKernel {
    /// Build the kernel of `roots` over `it_shape`, reading `buffers`.
    pub fn compile(
        it_shape: &[usize],
        roots: &[KernelRoot],
        buffers: &HashMap<NodeKey, usize>,
    ) -> Result<FusedKernel, Replan> {
        let mut builder = Builder::new(it_shape, buffers);
        let mut uses = Vec::with_capacity(roots.len());
        let mut stores = Vec::new();
        let mut reductions = Vec::new();
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
                            crate::kexpr::internal("reduce root is not a reduce_sum").into()
                        );
                    };
                    let k = builder.operand(&node.inputs()[0])?;
                    let spec = ReduceSpec {
                        buffer: *buffer,
                        dtype: node.dtype(),
                        axes: axes.to_vec(),
                        shape: node.shape().to_vec(),
                    };
                    let root = RootUse::Reduce {
                        red: reductions.len() as u16,
                        innermost: spec.innermost_reduced(it_shape.len()),
                    };
                    uses.push((k, root));
                    reductions.push(spec);
                }
            }
        }
        let expr = builder.expr;
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
        let segments: Vec<usize> = cuts.iter().map(|c| c.len() - 1).collect();
        let boxes: usize = segments.iter().product();
        let it_ndim = it_shape.len();
        let row_mode = Mode {
            vector_axis: it_ndim.checked_sub(1),
            contiguous_out: true,
        };
        let column_mode = Mode {
            vector_axis: it_ndim.checked_sub(2),
            contiguous_out: false,
        };
        let columns_allowed = it_ndim >= 2;
        let mut regs = Registers::default();
        let mut plans = Vec::new();
        let mut by_truth: HashMap<(Vec<bool>, bool), u32> = HashMap::new();
        let mut box_program = Vec::with_capacity(boxes);
        let mut box_column_program = Vec::with_capacity(boxes);
        let mut seg = vec![0usize; it_shape.len()];
        for _ in 0..boxes {
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
            let mut program_for = |mode: Mode, column: bool| -> Result<u32, JitError> {
                let next = plans.len() as u32;
                let id = *by_truth.entry((truth.clone(), column)).or_insert(next);
                if id == next {
                    plans.push(plan_box(&expr, &uses, &truth, &mut regs, mode)?);
                }
                Ok(id)
            };
            box_program.push(program_for(row_mode, false)?);
            let last = it_ndim.saturating_sub(1);
            let narrow = it_ndim > 0 && cuts[last][seg[last] + 1] - cuts[last][seg[last]] <= NARROW;
            let column = if columns_allowed && narrow {
                Some(program_for(column_mode, true)?)
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
        let programs = plans
            .into_iter()
            .map(|plan| emit_box(&expr, plan, &mut regs))
            .collect::<Result<Vec<_>, _>>()?;
        let sequential = reductions.iter().any(|r| !r.innermost_reduced(it_ndim));
        let mut reads: Vec<usize> = expr.views.iter().map(|v| v.buffer).collect();
        reads.sort_unstable();
        reads.dedup();
        let row_len = it_shape.last().copied().unwrap_or(1);
        // The widest type held in tile registers decides how many elements fit a tile.
        let widest = DType::ALL
            .into_iter()
            .filter(|&d| regs.vectors[crate::program::dtype_slot(d)] > 0)
            .map(DType::size_bytes)
            .max()
            .unwrap_or(8);
        let max_tile = crate::exec::kernel::TILE_BYTES / widest;
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
            it_shape: it_shape.to_vec(),
            views: expr.views,
            regs,
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

    /// Number of boxes the iteration space is cut into.
    pub fn boxes(&self) -> usize {
        self.box_program.len()
    }

    /// The program of the box holding the middle element of the iteration
    /// space: for a stencil, the interior one, which runs on most elements.
    pub fn middle_program(&self) -> Option<&Program> {
        let mut boxed = 0;
        for (d, &n) in self.it_shape.iter().enumerate() {
            // cuts run from 0 to n > n / 2, so this is one of d's segments
            // (an empty space has no boxes, and `get` below says so)
            let seg = self.cuts[d]
                .partition_point(|&c| c <= n / 2)
                .checked_sub(1)?;
            boxed = boxed * self.segments[d] + seg;
        }
        let p = *self.box_program.get(boxed)?;
        self.programs.get(p as usize)
    }
}
