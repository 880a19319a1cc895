//! [`FusedKernel`]: what the build passes hand the executor for one pass
//! over an iteration space.

use oxla_ir::num_complex::Complex64;
use oxla_ir::{DType, PerDType};
use smallvec::SmallVec;

use crate::isa::Program;

/// A load's address: `offset + sum(strides[j] * it[j])` into buffer `buffer`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct View {
    pub buffer: usize,
    pub offset: i64,
    pub strides: SmallVec<[i64; 4]>,
}

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

/// A constant, preloaded into scalar register `reg` of its dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Constant {
    pub dtype: DType,
    /// Exact as a complex f64 pair for every dtype; converted when loaded.
    pub value: Complex64,
    /// Its scalar register, below every program's temporaries.
    pub reg: u16,
}

/// The registers a kernel's programs use, per dtype, and its constants.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RegisterFile {
    /// Constants, in the first scalar registers of their dtype.
    pub consts: Vec<Constant>,
    /// Scalar registers per dtype (constants included).
    pub scalars: PerDType<u16>,
    /// Tile registers per dtype.
    pub vectors: PerDType<u16>,
}

/// A compiled fused kernel: one pass over `it_shape` computing its stores
/// and reductions, cut into boxes that each run one program.
#[derive(Debug)]
pub(crate) struct FusedKernel {
    /// The shape of the roots (and of the stores' arrays).
    pub shape: Vec<usize>,
    /// The iteration space: `shape` with the axes `build::merge` merged
    /// (the same elements in the same row-major order).
    pub it_shape: Vec<usize>,
    pub views: Vec<View>,
    pub regs: RegisterFile,
    pub stores: Vec<StoreSpec>,
    pub reductions: Vec<ReduceSpec>,
    /// Per iteration axis, the region boundaries (`0`, mask bounds, extent), increasing.
    pub cuts: Vec<Vec<usize>>,
    /// Distinct box programs.
    pub programs: Vec<Program>,
    /// The program of each box; boxes in row-major order of their segments.
    pub box_program: Vec<u32>,
    /// For boxes whose innermost segment is at most `NARROW` wide (the
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
    /// Number of boxes the iteration space is cut into.
    pub fn boxes(&self) -> usize {
        self.box_program.len()
    }

    /// The extent `[lo, hi)` along each axis of box `b` (row-major order).
    pub fn box_extent(&self, mut b: usize) -> Vec<(usize, usize)> {
        let mut extent = vec![(0, 0); self.it_shape.len()];
        for d in (0..self.it_shape.len()).rev() {
            let seg = b % self.segments[d];
            b /= self.segments[d];
            extent[d] = (self.cuts[d][seg], self.cuts[d][seg + 1]);
        }
        extent
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
