//! Running a [`FusedKernel`].
//!
//! The iteration space is walked as rows (all axes but the innermost) of
//! `row_len` elements. Work is cut into items whose boundaries depend only
//! on the shape, never on the thread count: blocks of whole rows, or, for a
//! single long row, blocks of whole reduction chunks. Items run in parallel
//! on rayon's pool; each writes a disjoint part of every output and keeps
//! its own reduction partials, which are folded afterwards in item order.
//! So results are the same bit for bit on any number of threads.

use std::sync::Arc;

use oxla_ir::reduce::{CHUNK, LANES};
use oxla_ir::{ArrayValue, Element, with_dtype};
use rayon::prelude::*;

use crate::JitError;
use crate::exec::bank::{Bank, Banks, BufRef, OutBuf, OutSlice, TileElem};
use crate::exec::tile::{self, ChunkCursor, Src};
use crate::exec::vector;
use crate::kernel::FusedKernel;
use crate::kexpr::{View, internal};
use crate::program::{SInstr, ScaledOp, VSrc};

/// Bytes per tile register: 4 KB, so that the handful of registers a
/// program keeps live stays in a 32 KB L1 cache, while each instruction's
/// dispatch is paid once per 512 (f64) to 2048 (f16) elements.
pub const TILE_BYTES: usize = 4096;
/// Elements per tile of an f64 kernel (kernels of narrower types take more).
pub const TILE: usize = TILE_BYTES / 8;
/// Elements per work item (a multiple of the reduction chunk).
const ITEM_ELEMENTS: usize = 64 * CHUNK;
/// Below this many elements a kernel runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;
/// At most this many rows share one run of column tiles. A column tile
/// reads one element from each row of every view, so a long run walks
/// through megabytes of a 3-d input's planes before the row tiles of the
/// same rows read them again; 32 rows keep them cached (about 9% faster on
/// 3-d value_and_grad than uncapped runs).
const COLUMN_RUN_ROWS: usize = 32;

struct Item<'o> {
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    outs: Vec<OutSlice<'o>>,
}

/// Run `k`, reading `buffers`; returns the values of its roots (stores, then reductions).
pub(crate) fn run(
    k: &FusedKernel,
    buffers: &[Option<Arc<ArrayValue>>],
) -> Result<Vec<(usize, ArrayValue)>, JitError> {
    let ndim = k.it_shape.len();
    let row_len = k.it_shape.last().copied().unwrap_or(1);
    let n_rows: usize = k.it_shape.iter().take(ndim.saturating_sub(1)).product();
    let total = row_len * n_rows;
    let mut inputs: Vec<Option<BufRef<'_>>> = vec![None; buffers.len()];
    for &b in &k.reads {
        let value = buffers
            .get(b)
            .and_then(|v| v.as_deref())
            .ok_or_else(|| internal("a kernel input is not computed yet"))?;
        inputs[b] = Some(BufRef::of(value).ok_or_else(|| internal("input not contiguous"))?);
    }
    let mut outs: Vec<OutBuf> = k
        .stores
        .iter()
        .map(|s| OutBuf::take(s.dtype, total))
        .collect();
    let mut results: Vec<Banks> = Vec::new();
    if total > 0 {
        let (item_rows, item_cols) = if k.sequential || total < PARALLEL_MIN {
            (n_rows, row_len)
        } else if n_rows > 1 {
            ((ITEM_ELEMENTS / row_len).max(1), row_len)
        } else {
            (1, ITEM_ELEMENTS)
        };
        if item_rows >= n_rows && item_cols >= row_len {
            // One item: no splitting (a small call should allocate little).
            let whole = Item {
                rows: 0..n_rows,
                cols: 0..row_len,
                outs: outs.iter_mut().map(OutBuf::whole).collect(),
            };
            results.extend(run_item(k, &inputs, whole)?);
        } else {
            let chunk = item_rows * item_cols;
            let mut per_output: Vec<std::vec::IntoIter<OutSlice<'_>>> = outs
                .iter_mut()
                .map(|o| o.split(chunk).into_iter())
                .collect();
            let mut items = Vec::new();
            for r0 in (0..n_rows).step_by(item_rows) {
                for c0 in (0..row_len).step_by(item_cols) {
                    items.push(Item {
                        rows: r0..(r0 + item_rows).min(n_rows),
                        cols: c0..(c0 + item_cols).min(row_len),
                        outs: per_output.iter_mut().filter_map(Iterator::next).collect(),
                    });
                }
            }
            let banks: Vec<Option<Banks>> = items
                .into_par_iter()
                .map(|item| run_item(k, &inputs, item))
                .collect::<Result<_, _>>()?;
            results.extend(banks.into_iter().flatten());
        }
    }
    let mut values = Vec::with_capacity(k.stores.len() + k.reductions.len());
    for (spec, out) in k.stores.iter().zip(outs) {
        let v = out
            .into_value(&k.it_shape)
            .map_err(|e| internal(&e.to_string()))?;
        values.push((spec.buffer, v));
    }
    for (r, spec) in k.reductions.iter().enumerate() {
        let v = with_dtype!(spec.dtype, |T| finish_reduction::<T>(
            k, r, &results, n_rows, row_len
        ))?;
        values.push((spec.buffer, v));
    }
    Ok(values)
}

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

fn finish_reduction<T: TileElem>(
    k: &FusedKernel,
    r: usize,
    items: &[Banks],
    n_rows: usize,
    row_len: usize,
) -> Result<ArrayValue, JitError> {
    let spec = &k.reductions[r];
    let numel: usize = spec.shape.iter().product();
    let reduced: usize = spec.axes.iter().map(|&a| k.it_shape[a]).product();
    // An empty iteration space ran no items: its sums are empty, or empty sums (+0.0).
    let data = if reduced == 0 || numel == 0 {
        vec![T::ZERO; numel]
    } else if spec.innermost_reduced(k.it_shape.len()) {
        let partials: Vec<T> = items
            .iter()
            .flat_map(|b| T::bank(b).partials[r].iter().copied())
            .collect();
        let per_row = row_len.div_ceil(CHUNK);
        if partials.len() != n_rows * per_row {
            return Err(internal("reduction chunks do not cover the rows"));
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
            return Err(internal("a sequential reduction ran as several items"));
        };
        T::bank(item).sums[r].clone()
    };
    let a = oxla_ir::ndarray::ArrayD::from_shape_vec(oxla_ir::ndarray::IxDyn(&spec.shape), data)
        .map_err(|e| internal(&e.to_string()))?;
    Ok(T::wrap(a))
}

/// An executor invariant that broke (a bug). Kept tiny: it travels through
/// the per-instruction hot path, where a large error type costs real time.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fault(pub &'static str);

impl From<Fault> for JitError {
    fn from(f: Fault) -> Self {
        internal(f.0)
    }
}

/// Where a tile is, for its instructions.
pub(super) struct Tile<'x, 'a> {
    inputs: &'x [Option<BufRef<'a>>],
    views: &'x [View],
    /// Per view, the element offset at the tile's first column.
    bases: &'x [i64],
    /// Offset of the tile's first element in the item's output slices.
    pub(super) pos: usize,
    /// Distance between consecutive tile elements in the outputs (1 for row tiles).
    out_stride: usize,
    /// The tile runs down a column of rows (one element per row) rather than along a row.
    column: bool,
    col: usize,
    pub(super) len: usize,
    /// The row of the current run where the tile starts (a column tile covers
    /// rows `run_row..run_row + len`).
    run_row: usize,
    /// Per reduction keeping the innermost axis, per row of the run: offset of the row's sums.
    sum_rows: &'x [Vec<usize>],
}

fn run_item(
    k: &FusedKernel,
    inputs: &[Option<BufRef<'_>>],
    mut item: Item<'_>,
) -> Result<Option<Banks>, JitError> {
    let ndim = k.it_shape.len();
    let outer = ndim.saturating_sub(1);
    let row_len = k.it_shape.last().copied().unwrap_or(1);
    let mut banks = Banks::new(
        k.regs.vectors,
        k.regs.scalars,
        k.reductions.len(),
        k.tile_len,
    );
    for &(dtype, c, reg) in &k.regs.consts {
        with_dtype!(dtype, |T| T::bank_mut(&mut banks).scalars[reg as usize] =
            T::from_c128(c));
    }
    for (r, spec) in k.reductions.iter().enumerate() {
        if !spec.innermost_reduced(ndim) {
            let len = spec.shape.iter().product();
            with_dtype!(spec.dtype, |T| T::bank_mut(&mut banks).sums[r] =
                vec![T::NEG_ZERO; len]);
        }
    }
    let mut cursors: Vec<Vec<ChunkCursor>> = vec![Vec::new(); k.reductions.len()];
    let col_cuts: &[usize] = if ndim == 0 {
        &[0, 1]
    } else {
        &k.cuts[ndim - 1]
    };
    let nseg = col_cuts.len() - 1;
    let segments = &k.segments;
    let col_stride = &k.col_stride;
    // The last outer axis: consecutive rows along it differ by one stride per view.
    let line = ndim.checked_sub(2);
    let line_stride = &k.line_stride;
    let columns = k.box_column_program.iter().any(Option::is_some);
    let mut idx = vec![0usize; outer];
    let mut rest = item.rows.start;
    for d in (0..outer).rev() {
        idx[d] = rest % k.it_shape[d];
        rest /= k.it_shape[d];
    }
    let origin = item.rows.start * row_len + item.cols.start;
    let mut row_bases = vec![0i64; k.views.len()];
    let mut bases = vec![0i64; k.views.len()];
    let mut sum_rows: Vec<Vec<usize>> = vec![Vec::new(); k.reductions.len()];
    let kept: Vec<KeptIndex> = (0..k.reductions.len())
        .map(|r| KeptIndex::new(k, r))
        .collect();
    let mut row = item.rows.start;
    while row < item.rows.end {
        let mut box_outer = 0;
        let mut line_seg_end = 0;
        for d in 0..outer {
            let seg = k.cuts[d].partition_point(|&c| c <= idx[d]) - 1;
            box_outer = box_outer * segments[d] + seg;
            if Some(d) == line {
                line_seg_end = k.cuts[d][seg + 1];
            }
        }
        // Rows sharing this box along the line; one at a time unless column tiles are possible.
        let run = match line {
            Some(l) if columns => (line_seg_end - idx[l])
                .min(item.rows.end - row)
                .min(COLUMN_RUN_ROWS),
            _ => 1,
        };
        for (v, view) in k.views.iter().enumerate() {
            row_bases[v] = view.offset
                + (0..outer)
                    .map(|d| view.strides[d] * idx[d] as i64)
                    .sum::<i64>();
        }
        // Reduction state per row of the run: a run is processed segment by
        // segment, so each row keeps its own chunk and lanes.
        for (r, spec) in k.reductions.iter().enumerate() {
            cursors[r].clear();
            cursors[r].resize(run, ChunkCursor::default());
            if spec.innermost_reduced(ndim) {
                with_dtype!(spec.dtype, |T| {
                    let bank = T::bank_mut(&mut banks);
                    bank.lanes[r].clear();
                    bank.lanes[r].resize(run, [T::NEG_ZERO; LANES]);
                    // Grow only: shrinking would free every row's Vec, and
                    // the runs of a 3-d kernel alternate between 1 and ~250 rows.
                    if bank.row_partials[r].len() < run {
                        bank.row_partials[r].resize(run, Vec::new());
                    }
                });
            } else {
                sum_rows[r].clear();
                sum_rows[r].extend((0..run).map(|rr| kept[r].of(row + rr) * row_len));
            }
        }
        for s in 0..nseg {
            let lo = col_cuts[s].max(item.cols.start);
            let hi = col_cuts[s + 1].min(item.cols.end);
            if lo >= hi {
                continue;
            }
            let boxed = box_outer * nseg + s;
            let (program, column) = match (k.box_column_program[boxed], run > 1) {
                (Some(p), true) => (p, true),
                _ => (k.box_program[boxed], false),
            };
            let program = &k.programs[program as usize];
            // Tiles run along lines: down the columns of the run's rows
            // (column tiles), or along each row.
            let (lines, along) = if column {
                (lo..hi, 0..run)
            } else {
                (0..run, lo..hi)
            };
            for line in lines {
                for (i, at) in along.clone().step_by(k.tile_len).enumerate() {
                    let (r, c) = if column { (at, line) } else { (line, at) };
                    for v in 0..bases.len() {
                        bases[v] =
                            row_bases[v] + line_stride[v] * r as i64 + col_stride[v] * c as i64;
                    }
                    let tile = Tile {
                        inputs,
                        views: &k.views,
                        bases: &bases,
                        pos: (row + r) * row_len + c - origin,
                        out_stride: if column { row_len } else { 1 },
                        column,
                        col: c,
                        len: k.tile_len.min(along.end - at),
                        run_row: r,
                        sum_rows: &sum_rows,
                    };
                    // values uniform along the tile are uniform along the line too
                    if i == 0 {
                        for instr in &program.scalar {
                            exec_scalar(instr, &mut banks, &tile)?;
                        }
                    }
                    vector::run_vector(program, &mut banks, &mut item.outs, &mut cursors, &tile)?;
                }
            }
        }
        // Every row of the run is complete: close its open chunk and append
        // its chunk sums in row order.
        for (r, spec) in k.reductions.iter().enumerate() {
            if spec.innermost_reduced(ndim) {
                with_dtype!(spec.dtype, |T| {
                    let bank = T::bank_mut(&mut banks);
                    let rows = cursors[r]
                        .iter_mut()
                        .zip(bank.lanes[r].iter_mut())
                        .zip(bank.row_partials[r].iter_mut());
                    for ((cursor, lanes), row_partials) in rows.take(run) {
                        cursor.finish(lanes, row_partials);
                        bank.partials[r].extend_from_slice(row_partials);
                        row_partials.clear();
                    }
                });
            }
        }
        row += run;
        if outer > 0 {
            idx[outer - 1] += run;
            for d in (0..outer).rev() {
                if idx[d] < k.it_shape[d] || d == 0 {
                    break;
                }
                idx[d] = 0;
                idx[d - 1] += 1;
            }
        }
    }
    // Only reductions need anything back from an item.
    Ok((!k.reductions.is_empty()).then(|| banks.into_results()))
}

#[cfg_attr(not(debug_assertions), inline(always))]
fn input<'a, T: TileElem>(tile: &Tile<'_, 'a>, view: u32) -> Result<(&'a [T], i64), Fault> {
    let v = &tile.views[view as usize];
    let buf = tile.inputs[v.buffer]
        .and_then(T::input)
        .ok_or(Fault("input buffer of the wrong dtype"))?;
    Ok((buf, tile.bases[view as usize]))
}

/// The values of operand `s` on this tile, in the registers of `T`'s bank.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn src<'b, T: TileElem>(
    s: VSrc,
    banks: &'b Banks,
    tile: &Tile<'_, 'b>,
) -> Result<Src<'b, T>, Fault> {
    let bank = T::bank(banks);
    operand(s, &bank.vectors, &bank.scalars, tile)
}

/// The values of operand `s` on this tile, which must vary along it.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn vector_src<'b, T: TileElem>(
    s: VSrc,
    banks: &'b Banks,
    tile: &Tile<'_, 'b>,
) -> Result<&'b [T], Fault> {
    let bank = T::bank(banks);
    vector_operand(s, &bank.vectors, &bank.scalars, tile)
}

/// [`vector_src`] reading the registers of one bank.
#[cfg_attr(not(debug_assertions), inline(always))]
fn vector_operand<'b, T: TileElem>(
    s: VSrc,
    vectors: &'b [Vec<T>],
    scalars: &'b [T],
    tile: &Tile<'_, 'b>,
) -> Result<&'b [T], Fault> {
    match operand(s, vectors, scalars, tile)? {
        Src::Slice(x) => Ok(x),
        Src::Scalar(_) => Err(Fault("a vector operand is a scalar register")),
    }
}

/// Scalar register `r` of `T`'s bank.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn scalar_reg<T: TileElem>(r: u16, banks: &Banks) -> Result<T, Fault> {
    T::bank(banks)
        .scalars
        .get(r as usize)
        .copied()
        .ok_or(Fault("no such scalar register"))
}

/// The values of operand `s` on this tile, reading the registers of one bank.
#[cfg_attr(not(debug_assertions), inline(always))]
fn operand<'b, T: TileElem>(
    s: VSrc,
    vectors: &'b [Vec<T>],
    scalars: &'b [T],
    tile: &Tile<'_, 'b>,
) -> Result<Src<'b, T>, Fault> {
    Ok(match s {
        VSrc::Reg(r) => Src::Slice(
            vectors
                .get(r as usize)
                .and_then(|v| v.get(..tile.len))
                .ok_or(Fault("no such register"))?,
        ),
        VSrc::Scalar(r) => Src::Scalar(
            *scalars
                .get(r as usize)
                .ok_or(Fault("no such scalar register"))?,
        ),
        VSrc::Input(v) => {
            let (buf, base) = input::<T>(tile, v)?;
            let start =
                usize::try_from(base).map_err(|_| Fault("negative offset in a valid region"))?;
            Src::Slice(
                buf.get(start..start + tile.len)
                    .ok_or(Fault("load outside its buffer"))?,
            )
        }
    })
}

/// Load a strided run of view `view` into register `dst`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn gather<T: TileElem>(
    view: u32,
    stride: i64,
    dst: u16,
    banks: &mut Banks,
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let (buf, base) = input::<T>(tile, view)?;
    let reg = T::bank_mut(banks)
        .vectors
        .get_mut(dst as usize)
        .and_then(|v| v.get_mut(..tile.len))
        .ok_or(Fault("no such register"))?;
    tile::gather(reg, buf, base, stride).ok_or(Fault("gather outside its buffer"))
}

/// Copy a tile into output `out`: contiguously for row tiles, through the
/// row stride for column tiles.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn store<T: TileElem>(
    out: u16,
    a: VSrc,
    banks: &Banks,
    outs: &mut [OutSlice<'_>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let bank = T::bank(banks);
    let values = operand(a, &bank.vectors, &bank.scalars, tile)?;
    let o = outs
        .get_mut(out as usize)
        .and_then(|s| T::out(s))
        .ok_or(Fault("no such output"))?;
    if tile.out_stride == 1 {
        let dst = o
            .get_mut(tile.pos..tile.pos + tile.len)
            .ok_or(Fault("output tile out of range"))?;
        tile::copy(dst, values);
        return Ok(());
    }
    let last = tile.pos + (tile.len.max(1) - 1) * tile.out_stride;
    if last >= o.len() {
        return Err(Fault("output column out of range"));
    }
    for k in 0..tile.len {
        o[tile.pos + k * tile.out_stride] = values.at(k);
    }
    Ok(())
}

/// Add `post(op(a, b), s)` squared, over a row tile, into reduction `r`,
/// which sums along rows (a `SquareSum`; the planner makes no other).
#[allow(clippy::too_many_arguments)] // the operands of one instruction
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn square_sum<T: TileElem>(
    r: usize,
    inner: ScaledOp,
    a: VSrc,
    b: VSrc,
    s: u16,
    banks: &mut Banks,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let Bank {
        vectors,
        scalars,
        lanes,
        row_partials,
        sums,
        ..
    } = T::bank_mut(banks);
    let misplaced = Fault("a fused square sum outside a row tile of a row sum");
    if tile.column || sums.get(r).is_none_or(|s| !s.is_empty()) {
        return Err(misplaced);
    }
    let (a, b) = (
        vector_operand(a, vectors, scalars, tile)?,
        vector_operand(b, vectors, scalars, tile)?,
    );
    let s = *scalars
        .get(s as usize)
        .ok_or(Fault("no such scalar register"))?;
    let (lanes, partials, cursor) = row_sum(lanes, row_partials, cursors, r, tile.run_row)?;
    tile::square_sum(inner, cursor, lanes, partials, tile.col, a, b, s)
        .ok_or(Fault("unfusable stencil"))
}

/// Reduction `r`'s state for row `rr` of the run: the lanes of its open
/// chunk, its finished chunk sums and its cursor.
#[cfg_attr(not(debug_assertions), inline(always))]
fn row_sum<'a, T>(
    lanes: &'a mut [Vec<[T; LANES]>],
    row_partials: &'a mut [Vec<Vec<T>>],
    cursors: &'a mut [Vec<ChunkCursor>],
    r: usize,
    rr: usize,
) -> Result<(&'a mut [T; LANES], &'a mut Vec<T>, &'a mut ChunkCursor), Fault> {
    let missing = Fault("no such reduction row");
    Ok((
        lanes
            .get_mut(r)
            .and_then(|l| l.get_mut(rr))
            .ok_or(missing)?,
        row_partials
            .get_mut(r)
            .and_then(|p| p.get_mut(rr))
            .ok_or(missing)?,
        cursors
            .get_mut(r)
            .and_then(|c| c.get_mut(rr))
            .ok_or(missing)?,
    ))
}

/// Add a tile into reduction `r`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(super) fn reduce<T: TileElem>(
    r: usize,
    a: VSrc,
    banks: &mut Banks,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let Bank {
        vectors,
        scalars,
        lanes,
        row_partials,
        sums,
        ..
    } = T::bank_mut(banks);
    let values = operand(a, vectors, scalars, tile)?;
    let sums = sums.get_mut(r).ok_or(Fault("no such reduction"))?;
    let column = tile.column;
    if sums.is_empty() {
        if column {
            // one element in each of `len` rows, at column `col`
            for k in 0..tile.len {
                let (lanes, parts, cursor) =
                    row_sum(lanes, row_partials, cursors, r, tile.run_row + k)?;
                cursor.add_one(lanes, parts, tile.col, values.at(k));
            }
        } else {
            let (lanes, parts, cursor) = row_sum(lanes, row_partials, cursors, r, tile.run_row)?;
            cursor.add(lanes, parts, tile.col, values, tile.len);
        }
    } else if column {
        for k in 0..tile.len {
            let at = tile.sum_rows[r][tile.run_row + k] + tile.col;
            let acc = sums
                .get_mut(at)
                .ok_or(Fault("reduction row out of range"))?;
            *acc = acc.add(values.at(k));
        }
    } else {
        let at = tile.sum_rows[r][tile.run_row] + tile.col;
        let acc = sums
            .get_mut(at..at + tile.len)
            .ok_or(Fault("reduction row out of range"))?;
        tile::add_into(acc, values);
    }
    Ok(())
}

fn exec_scalar(instr: &SInstr, banks: &mut Banks, tile: &Tile<'_, '_>) -> Result<(), Fault> {
    fn set<T: TileElem>(banks: &mut Banks, dst: u16, v: T) {
        T::bank_mut(banks).scalars[dst as usize] = v;
    }
    fn get<T: TileElem>(banks: &Banks, r: u16) -> T {
        T::bank(banks).scalars[r as usize]
    }
    match *instr {
        SInstr::Load { dtype, view, dst } => with_dtype!(dtype, |T| {
            let (buf, base) = input::<T>(tile, view)?;
            let v = usize::try_from(base)
                .ok()
                .and_then(|i| buf.get(i))
                .ok_or(Fault("scalar load outside its buffer"))?;
            set::<T>(banks, dst, *v);
        }),
        SInstr::Neg { dtype, dst, a } => with_dtype!(dtype, |T| {
            let v = get::<T>(banks, a).neg();
            set::<T>(banks, dst, v)
        }),
        SInstr::Convert { from, to, dst, a } => with_dtype!(from, |A| with_dtype!(to, |B| {
            let v: B = oxla_ir::element::convert(get::<A>(banks, a));
            set::<B>(banks, dst, v)
        })),
        SInstr::Binary {
            op,
            dtype,
            dst,
            a,
            b,
        } => with_dtype!(dtype, |T| {
            let v = op.apply(get::<T>(banks, a), get::<T>(banks, b));
            set::<T>(banks, dst, v)
        }),
    }
    Ok(())
}
