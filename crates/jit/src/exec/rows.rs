//! One work item: its rows, visited in runs, each run segment by segment,
//! each segment in tiles (see docs/ARCHITECTURE.md, *Execution*).
//!
//! - [`RowCursor`]: the current row's index along the outer axes, the box
//!   it is in, and how many rows after it share that box (a *run*).
//! - [`Bases`]: each view's offset at the run's first row and at a tile.
//! - [`Reductions`]: per-row reduction state, started and closed per run.
//! - [`ItemRunner::run_segment`]: one box's program over a run's part of
//!   one segment, in row tiles or (narrow boxes) column tiles.

use std::ops::Range;

use crate::exec::operands::Tile;
use crate::exec::prefetch::Prefetcher;
use crate::exec::reduction::Reductions;
use crate::exec::scalar::run_scalar;
use crate::exec::storage::{Banks, Inputs, OutSlices, keep_results_only, new_banks};
use crate::exec::vector::run_vector;
use crate::isa::FusedKernel;

/// At most this many rows share one run of column tiles. A column tile
/// reads one element from each row of every view, so a long run walks
/// through megabytes of a 3-d input's planes before the row tiles of the
/// same rows read them again; 32 rows keep them cached (about 9% faster on
/// 3-d value_and_grad than uncapped runs).
const COLUMN_RUN_ROWS: usize = 32;

/// A part of a kernel's iteration space that one worker runs: whole rows,
/// or a range of columns of a single row.
pub(crate) struct Item<'o> {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
    /// The item's part of every output.
    pub outs: OutSlices<'o>,
}

/// The current row of an item, as an index along the outer axes.
struct RowCursor {
    row: usize,
    idx: Vec<usize>,
}

/// Rows from `first` that share one box along the last outer axis.
struct Run {
    first: usize,
    len: usize,
    /// The box of the run's rows, in row-major order of the outer axes'
    /// segments (the innermost axis' segment is added per segment).
    box_outer: usize,
}

impl RowCursor {
    fn new(k: &FusedKernel, row: usize) -> RowCursor {
        let outer = k.it_shape.len().saturating_sub(1);
        let mut idx = vec![0usize; outer];
        let mut rest = row;
        for d in (0..outer).rev() {
            idx[d] = rest % k.it_shape[d];
            rest /= k.it_shape[d];
        }
        RowCursor { row, idx }
    }

    /// The run starting at this row, ending at `end` at the latest. Rows
    /// go one at a time unless the kernel has column programs.
    fn run(&self, k: &FusedKernel, end: usize, columns: bool) -> Run {
        let line = k.it_shape.len().checked_sub(2);
        let mut box_outer = 0;
        let mut line_seg_end = 0;
        for (d, &i) in self.idx.iter().enumerate() {
            let seg = k.cuts[d].partition_point(|&c| c <= i) - 1;
            box_outer = box_outer * k.segments[d] + seg;
            if Some(d) == line {
                line_seg_end = k.cuts[d][seg + 1];
            }
        }
        let len = match line {
            Some(l) if columns => (line_seg_end - self.idx[l])
                .min(end - self.row)
                .min(COLUMN_RUN_ROWS),
            _ => 1,
        };
        Run {
            first: self.row,
            len,
            box_outer,
        }
    }

    /// Move `rows` rows on (carrying into outer axes).
    fn advance(&mut self, k: &FusedKernel, rows: usize) {
        self.row += rows;
        let Some(last) = self.idx.len().checked_sub(1) else {
            return;
        };
        self.idx[last] += rows;
        for d in (1..=last).rev() {
            if self.idx[d] < k.it_shape[d] {
                break;
            }
            self.idx[d] = 0;
            self.idx[d - 1] += 1;
        }
    }
}

/// Each view's offset at the current run's first row, and at the current tile.
struct Bases {
    row: Vec<i64>,
    tile: Vec<i64>,
}

impl Bases {
    fn at_row(&mut self, k: &FusedKernel, idx: &[usize]) {
        for (base, view) in self.row.iter_mut().zip(&k.views) {
            *base = view.offset
                + idx
                    .iter()
                    .zip(&view.strides)
                    .map(|(&i, &s)| s * i as i64)
                    .sum::<i64>();
        }
    }

    /// At row `r` of the run, column `c`.
    #[inline]
    fn at_tile(&mut self, k: &FusedKernel, r: usize, c: usize) {
        for v in 0..self.tile.len() {
            self.tile[v] = self.row[v] + k.line_stride[v] * r as i64 + k.col_stride[v] * c as i64;
        }
    }

    /// Each view's offset at row `r` of the run, column `c`, into `out`.
    #[inline]
    fn at(&self, k: &FusedKernel, r: usize, c: usize, out: &mut [i64]) {
        for (v, o) in out.iter_mut().enumerate() {
            *o = self.row[v] + k.line_stride[v] * r as i64 + k.col_stride[v] * c as i64;
        }
    }
}

/// A work item being run.
struct ItemRunner<'k, 'a, 'o> {
    k: &'k FusedKernel,
    inputs: &'k Inputs<'a>,
    outs: OutSlices<'o>,
    banks: Banks,
    reductions: Reductions,
    bases: Bases,
    /// The item's first element: output slices start there.
    origin: usize,
    cols: Range<usize>,
    /// Row tiles of outputs are written with non-temporal stores.
    stream: bool,
    prefetcher: Prefetcher,
    /// Views' offsets at the next tile, for the prefetcher.
    next: Vec<i64>,
}

/// Run one work item; returns its banks if the kernel has reductions (to
/// be folded in item order), else nothing.
pub(crate) fn run_item(
    k: &FusedKernel,
    inputs: &Inputs<'_>,
    item: Item<'_>,
    stream: bool,
) -> Option<Banks> {
    let row_len = k.it_shape.last().copied().unwrap_or(1);
    let mut banks = new_banks(&k.regs, k.reductions.len(), k.tile_len, stream);
    let reductions = Reductions::new(k, &mut banks);
    let mut runner = ItemRunner {
        k,
        inputs,
        outs: item.outs,
        banks,
        reductions,
        bases: Bases {
            row: vec![0; k.views.len()],
            tile: vec![0; k.views.len()],
        },
        origin: item.rows.start * row_len + item.cols.start,
        cols: item.cols,
        stream,
        prefetcher: Prefetcher::new(k, inputs),
        next: vec![0; k.views.len()],
    };
    let columns = k.box_column_program.iter().any(Option::is_some);
    let mut rows = RowCursor::new(k, item.rows.start);
    while rows.row < item.rows.end {
        let run = rows.run(k, item.rows.end, columns);
        runner.run_rows(&rows, &run);
        rows.advance(k, run.len);
    }
    if stream {
        crate::exec::stream::fence();
    }
    // Only reductions need anything back from an item.
    (!k.reductions.is_empty()).then(|| keep_results_only(runner.banks))
}

impl ItemRunner<'_, '_, '_> {
    /// Every segment of a run of rows, then the run's reductions closed.
    fn run_rows(&mut self, rows: &RowCursor, run: &Run) {
        let k = self.k;
        self.reductions
            .start_run(k, &mut self.banks, run.first, run.len);
        self.bases.at_row(k, &rows.idx);
        let col_cuts: &[usize] = match k.it_shape.len() {
            0 => &[0, 1],
            ndim => &k.cuts[ndim - 1],
        };
        for (s, cut) in col_cuts.windows(2).enumerate() {
            let cols = cut[0].max(self.cols.start)..cut[1].min(self.cols.end);
            if !cols.is_empty() {
                let boxed = run.box_outer * (col_cuts.len() - 1) + s;
                self.run_segment(run, boxed, cols);
            }
        }
        self.reductions.finish_run(k, &mut self.banks, run.len);
    }

    /// Box `boxed`'s program over columns `cols` of the run's rows: tiles
    /// along each row, or down the columns of the run (column tiles).
    fn run_segment(&mut self, run: &Run, boxed: usize, cols: Range<usize>) {
        let k = self.k;
        let row_len = k.it_shape.last().copied().unwrap_or(1);
        let (program, column) = match (k.box_column_program[boxed], run.len > 1) {
            (Some(p), true) => (p, true),
            _ => (k.box_program[boxed], false),
        };
        let program = &k.programs[program as usize];
        let (lines, along) = if column {
            (cols, 0..run.len)
        } else {
            (0..run.len, cols)
        };
        for line in lines {
            for (i, at) in along.clone().step_by(k.tile_len).enumerate() {
                let (r, c) = if column { (at, line) } else { (line, at) };
                if !column {
                    // this row's next tile, or the next row's first
                    let (nr, nc) = if at + k.tile_len < along.end {
                        (r, c + k.tile_len)
                    } else {
                        (r + 1, along.start)
                    };
                    self.bases.at(k, nr, nc, &mut self.next);
                    self.prefetcher
                        .tile(&self.next, k.tile_len.min(along.end - nc.max(along.start)));
                }
                self.bases.at_tile(k, r, c);
                let tile = Tile {
                    inputs: self.inputs,
                    bases: &self.bases.tile,
                    pos: (run.first + r) * row_len + c - self.origin,
                    out_stride: if column { row_len } else { 1 },
                    column,
                    col: c,
                    len: k.tile_len.min(along.end - at),
                    run_row: r,
                    sum_rows: &self.reductions.sum_rows,
                    stream: self.stream && !column,
                };
                // values uniform along the tile are uniform along the line too
                if i == 0 {
                    for instr in &program.scalar {
                        run_scalar(instr, &mut self.banks, &tile);
                    }
                }
                run_vector(
                    program,
                    &mut self.banks,
                    &mut self.outs,
                    &mut self.reductions.cursors,
                    &tile,
                );
            }
        }
    }
}
