//! Where a tile is ([`Tile`]), and how its instructions reach their
//! operands, destinations and reduction rows. Nothing here checks what
//! validation already proved (`isa::validate`): registers, views and
//! outputs are indexed directly.

use oxla_ir::ArrayElement;

use crate::error::unvalidated;
use crate::exec::chunks::{ChunkCursor, RowSum};
use crate::exec::loops::{self, Src, StencilTaps};
use crate::exec::storage::{Bank, Banks, Inputs, OutSlices, ReductionState, Registers};
use crate::exec::stream;
use crate::fusion::FusedKind;
use crate::isa::{FusedOp, Side, Stencil, VSrc};

/// Where a tile is, for its instructions.
pub(crate) struct Tile<'x, 'a> {
    /// Per view, its buffer.
    pub inputs: &'x Inputs<'a>,
    /// Per view, the element offset at the tile's first element.
    pub bases: &'x [i64],
    /// Offset of the tile's first element in the item's output slices.
    pub pos: usize,
    /// Distance between consecutive tile elements in the outputs (1 for row tiles).
    pub out_stride: usize,
    /// The tile runs down a column of rows (one element per row) rather than along a row.
    pub column: bool,
    /// The row position of the tile's first element.
    pub col: usize,
    pub len: usize,
    /// The row of the current run where the tile starts (a column tile covers
    /// rows `run_row..run_row + len`).
    pub run_row: usize,
    /// Per reduction keeping the innermost axis, per row of the run: offset of the row's sums.
    pub sum_rows: &'x [Vec<usize>],
    /// Write row tiles of outputs with non-temporal stores (`exec::stream`).
    pub stream: bool,
}

/// View `view`'s buffer and the tile's first element in it.
#[cfg_attr(not(debug_assertions), inline(always))]
fn input<'a, T: ArrayElement>(tile: &Tile<'_, 'a>, view: u32) -> (&'a [T], usize) {
    let base = tile.bases[view as usize];
    (T::of(tile.inputs)[view as usize], base as usize)
}

/// The values of operand `s` on this tile, in the registers of `T`'s bank.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn src<'b, 'a: 'b, T: ArrayElement>(
    s: VSrc,
    banks: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> Src<'b, T> {
    operand(s, &T::of(banks).regs, tile)
}

/// The values of operand `s` on this tile, which validation made a slice.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn vector_src<'b, 'a: 'b, T: ArrayElement>(
    s: VSrc,
    banks: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> &'b [T] {
    vector_operand(s, &T::of(banks).regs, tile)
}

/// Four vector operands on this tile (a fused instruction's taps), bound
/// one by one: an array `map` may be left out of line, without the tile
/// loop's target features.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn four_taps<'b, 'a: 'b, T: ArrayElement>(
    taps: [VSrc; 4],
    banks: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> [&'b [T]; 4] {
    [
        vector_src::<T>(taps[0], banks, tile),
        vector_src::<T>(taps[1], banks, tile),
        vector_src::<T>(taps[2], banks, tile),
        vector_src::<T>(taps[3], banks, tile),
    ]
}

/// A fused instruction's addend on this tile: its side and its values.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn addend_src<'b, 'a: 'b, T: ArrayElement>(
    addend: Option<(Side, VSrc)>,
    banks: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> Option<(Side, &'b [T])> {
    // a `match`, not `Option::map`: a closure may be left out of line
    match addend {
        Some((side, c)) => Some((side, vector_src::<T>(c, banks, tile))),
        None => None,
    }
}

/// [`vector_src`] reading the registers of one bank.
#[cfg_attr(not(debug_assertions), inline(always))]
fn vector_operand<'b, 'a: 'b, T: ArrayElement>(
    s: VSrc,
    regs: &'b Registers<T>,
    tile: &Tile<'_, 'a>,
) -> &'b [T] {
    match operand(s, regs, tile) {
        Src::Slice(x) => x,
        Src::Scalar(_) => unvalidated("a scalar register where a loop reads a slice"),
    }
}

/// Scalar register `r` of `T`'s bank.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn scalar_reg<T: ArrayElement>(r: u16, banks: &Banks) -> T {
    T::of(banks).regs.scalars[r as usize]
}

/// A stencil's taps and scale on this tile.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn taps<'b, 'a: 'b, T: ArrayElement>(
    stencil: Stencil,
    (a, b, s): (VSrc, VSrc, u16),
    banks: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> StencilTaps<'b, T> {
    StencilTaps {
        stencil,
        a: vector_src(a, banks, tile),
        b: vector_src(b, banks, tile),
        s: scalar_reg(s, banks),
    }
}

/// The values of operand `s` on this tile, reading the registers of one bank.
#[cfg_attr(not(debug_assertions), inline(always))]
fn operand<'b, 'a: 'b, T: ArrayElement>(
    s: VSrc,
    regs: &'b Registers<T>,
    tile: &Tile<'_, 'a>,
) -> Src<'b, T> {
    match s {
        VSrc::Reg(r) => Src::Slice(&regs.vectors[r as usize][..tile.len]),
        VSrc::Scalar(r) => Src::Scalar(regs.scalars[r as usize]),
        VSrc::Input(v) => {
            let (buf, start) = input::<T>(tile, v);
            Src::Slice(&buf[start..start + tile.len])
        }
    }
}

/// Load a strided run of view `view` into register `dst`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn gather<T: ArrayElement>(
    view: u32,
    stride: i64,
    dst: u16,
    banks: &mut Banks,
    tile: &Tile<'_, '_>,
) {
    let (buf, base) = input::<T>(tile, view);
    let reg = &mut T::of_mut(banks).regs.vectors[dst as usize][..tile.len];
    loops::gather(reg, buf, base, stride as usize);
}

/// Copy a tile into output `out`: contiguously for row tiles, through the
/// row stride for column tiles.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn store<T: ArrayElement>(
    out: u16,
    a: VSrc,
    banks: &Banks,
    outs: &mut OutSlices<'_>,
    tile: &Tile<'_, '_>,
) {
    let values = src::<T>(a, banks, tile);
    let o = &mut T::of_mut(outs)[out as usize];
    if tile.out_stride == 1 {
        let dst = &mut o[tile.pos..tile.pos + tile.len];
        match values {
            Src::Slice(v) if tile.stream => stream::copy(dst, &v[..tile.len]),
            _ => loops::copy(dst, values),
        }
        return;
    }
    for k in 0..tile.len {
        o[tile.pos + k * tile.out_stride] = values.at(k);
    }
}

impl<T> ReductionState<T> {
    /// Reduction `r`'s sum of row `rr` of the run.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn row<'a>(
        &'a mut self,
        cursors: &'a mut [Vec<ChunkCursor>],
        r: usize,
        rr: usize,
    ) -> RowSum<'a, T> {
        RowSum {
            cursor: &mut cursors[r][rr],
            lanes: &mut self.lanes[r][rr],
            partials: &mut self.row_partials[r][rr],
        }
    }
}

/// Add a fused value over a row tile into reduction `r`, which sums along
/// rows, in the same loop (validation admits no other).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn fused_sum<T: ArrayElement>(
    r: usize,
    op: FusedOp<VSrc, u16>,
    banks: &mut Banks,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    let Bank { regs, red } = T::of_mut(banks);
    match op {
        // the rows of the fusion table that sum into rows, in their dtypes
        FusedOp::StencilSquare { stencil, a, b, s }
            if const { FusedKind::StencilSquare.fuses(T::DTYPE) } =>
        {
            let taps = StencilTaps {
                stencil,
                a: vector_operand(a, regs, tile),
                b: vector_operand(b, regs, tile),
                s: regs.scalars[s as usize],
            };
            let mut sum = red.row(cursors, r, tile.run_row);
            loops::stencil_square_sum(&mut sum, tile.col, taps);
        }
        _ => unvalidated("a fused sum without its loop"),
    }
}

/// Add a tile into reduction `r`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn reduce<T: ArrayElement>(
    r: usize,
    a: VSrc,
    banks: &mut Banks,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    let Bank { regs, red } = T::of_mut(banks);
    let values = operand(a, regs, tile);
    if red.sums[r].is_empty() {
        if tile.column {
            // one element in each of `len` rows, at column `col`
            for k in 0..tile.len {
                red.row(cursors, r, tile.run_row + k)
                    .add_one(tile.col, values.at(k));
            }
        } else {
            red.row(cursors, r, tile.run_row)
                .add(tile.col, values, tile.len);
        }
    } else if tile.column {
        let sums = &mut red.sums[r];
        for k in 0..tile.len {
            let acc = &mut sums[tile.sum_rows[r][tile.run_row + k] + tile.col];
            *acc = acc.add(values.at(k));
        }
    } else {
        let at = tile.sum_rows[r][tile.run_row] + tile.col;
        loops::add_into(&mut red.sums[r][at..at + tile.len], values);
    }
}
