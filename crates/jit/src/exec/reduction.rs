//! A kernel's reductions while it runs: each work item's per-row state
//! ([`Reductions`]), and the fold of every item's partial results, in item
//! order, into the reduced values ([`finish_reduction`]).
//!
//! A reduction either sums the innermost axis (each row in chunks and
//! lanes, as [`oxla_ir::reduce`] defines, giving one partial per chunk) or
//! keeps it and sums outer axes (running sums, one per kept element, in row
//! order: such kernels run as one item).

use oxla_ir::reduce::{CHUNK, LANES};
use oxla_ir::{ArrayElement, ArrayValue, Element, with_dtype};

use crate::error::{JitError, internal};
use crate::exec::chunks::{ChunkCursor, RowSum};
use crate::exec::storage::Banks;
use crate::isa::FusedKernel;

/// Which output element of reduction `r` each row adds into: the row's
/// index digits along the outer axes, the kept ones weighted. Built once per
/// reduction; axes outside the outermost kept one add nothing and are not
/// visited, so for a sum over every outer axis (the usual loss) `of` does
/// no work at all.
struct KeptIndex {
    /// From the innermost outer axis out: (extent, weight; 0 if reduced).
    digits: Vec<(usize, usize)>,
}

impl KeptIndex {
    fn new(k: &FusedKernel, r: usize) -> KeptIndex {
        let axes = &k.reductions[r].axes;
        let outer = k.it_shape.len().saturating_sub(1);
        let first_kept = (0..outer).find(|d| !axes.contains(d)).unwrap_or(outer);
        let mut scale = 1;
        let digits = (first_kept..outer)
            .rev()
            .map(|d| {
                let n = k.it_shape[d];
                if axes.contains(&d) {
                    (n, 0)
                } else {
                    let weight = scale;
                    scale *= n;
                    (n, weight)
                }
            })
            .collect();
        KeptIndex { digits }
    }

    fn of(&self, row: usize) -> usize {
        let (mut rest, mut index) = (row, 0);
        for &(n, weight) in &self.digits {
            index += rest % n * weight;
            rest /= n;
        }
        index
    }
}

/// The reductions' state in one work item, row by row. A run of rows is
/// processed segment by segment, so each row of the run keeps its own open
/// chunk and lanes until the run ends.
pub(crate) struct Reductions {
    /// Per reduction, per row of the run: which chunk is open.
    pub cursors: Vec<Vec<ChunkCursor>>,
    /// Per reduction keeping the innermost axis, per row of the run: where
    /// the row's running sums start.
    pub sum_rows: Vec<Vec<usize>>,
    kept: Vec<KeptIndex>,
}

impl Reductions {
    /// The state of a new item; the running sums of reductions keeping the
    /// innermost axis start at `-0.0` in `banks`.
    pub fn new(k: &FusedKernel, banks: &mut Banks) -> Reductions {
        let ndim = k.it_shape.len();
        for (r, spec) in k.reductions.iter().enumerate() {
            if !spec.innermost_reduced(ndim) {
                let len = spec.shape.iter().product();
                with_dtype!(spec.dtype, |T| T::of_mut(banks).red.sums[r] =
                    vec![T::NEG_ZERO; len]);
            }
        }
        Reductions {
            cursors: vec![Vec::new(); k.reductions.len()],
            sum_rows: vec![Vec::new(); k.reductions.len()],
            kept: (0..k.reductions.len())
                .map(|r| KeptIndex::new(k, r))
                .collect(),
        }
    }

    /// Start a run of `run` rows from `row`: fresh chunks and lanes for
    /// row sums, the offsets of each row's running sums for the others.
    pub fn start_run(&mut self, k: &FusedKernel, banks: &mut Banks, row: usize, run: usize) {
        let ndim = k.it_shape.len();
        let row_len = k.it_shape.last().copied().unwrap_or(1);
        for (r, spec) in k.reductions.iter().enumerate() {
            self.cursors[r].clear();
            self.cursors[r].resize(run, ChunkCursor::default());
            if spec.innermost_reduced(ndim) {
                with_dtype!(spec.dtype, |T| {
                    let state = &mut T::of_mut(banks).red;
                    state.lanes[r].clear();
                    state.lanes[r].resize(run, [T::NEG_ZERO; LANES]);
                    // Grow only: shrinking would free every row's Vec, and
                    // the runs of a 3-d kernel alternate between 1 and ~250 rows.
                    if state.row_partials[r].len() < run {
                        state.row_partials[r].resize(run, Vec::new());
                    }
                });
            } else {
                let kept = &self.kept[r];
                self.sum_rows[r].clear();
                self.sum_rows[r].extend((0..run).map(|rr| kept.of(row + rr) * row_len));
            }
        }
    }

    /// Every row of the run of `run` rows is complete: close its open chunk
    /// and append its chunk sums in row order.
    pub fn finish_run(&mut self, k: &FusedKernel, banks: &mut Banks, run: usize) {
        let ndim = k.it_shape.len();
        for (r, spec) in k.reductions.iter().enumerate() {
            if spec.innermost_reduced(ndim) {
                with_dtype!(spec.dtype, |T| {
                    let state = &mut T::of_mut(banks).red;
                    let rows = self.cursors[r]
                        .iter_mut()
                        .zip(state.lanes[r].iter_mut())
                        .zip(state.row_partials[r].iter_mut());
                    for ((cursor, lanes), partials) in rows.take(run) {
                        RowSum {
                            cursor,
                            lanes,
                            partials: &mut *partials,
                        }
                        .finish();
                        state.partials[r].extend_from_slice(partials);
                        partials.clear();
                    }
                });
            }
        }
    }
}

/// The value of reduction `r`, from the banks of every item in item order.
pub(crate) fn finish_reduction<T: ArrayElement>(
    k: &FusedKernel,
    r: usize,
    items: &[Banks],
) -> Result<ArrayValue, JitError> {
    let spec = &k.reductions[r];
    let numel: usize = spec.shape.iter().product();
    let reduced: usize = spec.axes.iter().map(|&a| k.it_shape[a]).product();
    let row_len = k.it_shape.last().copied().unwrap_or(1);
    let n_rows: usize = k.it_shape.iter().rev().skip(1).product();
    // An empty iteration space ran no items: its sums are empty, or empty sums (+0.0).
    let data = if reduced == 0 || numel == 0 {
        vec![T::ZERO; numel]
    } else if spec.innermost_reduced(k.it_shape.len()) {
        let partials: Vec<T> = items
            .iter()
            .flat_map(|b| T::of(b).red.partials[r].iter().copied())
            .collect();
        let per_row = row_len.div_ceil(CHUNK);
        if partials.len() != n_rows * per_row {
            return Err(internal!("reduction chunks do not cover the rows"));
        }
        let mut out = vec![T::NEG_ZERO; numel];
        let kept = KeptIndex::new(k, r);
        for (row, sums) in partials.chunks(per_row).enumerate() {
            let o = &mut out[kept.of(row)];
            for &s in sums {
                *o = o.add(s);
            }
        }
        out
    } else {
        let [item] = items else {
            return Err(internal!("a sequential reduction ran as several items"));
        };
        T::of(item).red.sums[r].clone()
    };
    let a = oxla_ir::ndarray::ArrayD::from_shape_vec(oxla_ir::ndarray::IxDyn(&spec.shape), data)
        .map_err(|e| internal!("{e}"))?;
    Ok(T::wrap(a))
}
