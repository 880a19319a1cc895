//! A tile's vector instructions, in one function per dtype.
//!
//! The rows of a 3-d kernel are short (256 elements), so what an instruction
//! costs before its loop starts (a dtype match, binding operands, a call
//! into the loop) matters as much as the loop. [`run_vector`] therefore
//! dispatches on the program's arithmetic dtype once per tile and runs every
//! instruction of that dtype in [`run_typed`], one function compiled for
//! AVX-512 or AVX2 when the CPU has them (`exec::simd`), with the loops of [`loops`] inlined; an
//! instruction of another dtype goes through the same function for its own
//! dtype, one instruction at a time. Either way every element gets the same
//! IEEE operations, so results do not depend on the CPU or the path.
//!
//! The helpers are `inline(always)` in release builds only: in debug builds
//! every inlined loop keeps its own stack slots, and the frame overflowed
//! the small stacks some callers run on.

use oxla_ir::{ArrayElement, DType, with_dtype};

use crate::error::unvalidated;
use crate::exec::chunks::ChunkCursor;
use crate::exec::direct;
use crate::exec::loops::{self, Src};
use crate::exec::math_loops;
use crate::exec::operands::{
    Tile, addend_src, four_taps, fused_sum, gather, reduce, scalar_reg, src, store, taps,
    vector_src,
};
use crate::exec::simd::{Simd, active_simd};
use crate::exec::storage::{Banks, OutSlices};
use crate::exec::stream;
use crate::fusion::FusedKind;
use crate::isa::{Elementwise, FusedOp, MAX_PAIRS, Program, Scale, ScaledOp, VDst, VInstr, VSrc};

/// Run `program`'s vector instructions on one tile.
pub(crate) fn run_vector(
    program: &Program,
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    let Some(dtype) = program
        .arith_dtype
        .or_else(|| program.vector.first().map(VInstr::dtype))
    else {
        return;
    };
    run(dtype, &program.vector, banks, outs, cursors, tile);
}

/// Run `instrs`, those of `dtype` inline (see the module docs).
#[allow(unsafe_code)]
fn run(
    dtype: DType,
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    with_dtype!(dtype, |T| match active_simd() {
        // SAFETY (both arms): `run_avx512` and `run_avx2` only require the
        // CPU features named in their `target_feature` attributes, and
        // `active_simd` returns a width only if `Simd::available` found
        // every one of them on this CPU.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { run_avx512::<T>(instrs, banks, outs, cursors, tile) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { run_avx2::<T>(instrs, banks, outs, cursors, tile) },
        _ => run_portable::<T>(instrs, banks, outs, cursors, tile),
    })
}

/// Kept out of `run` so that its frame (large in debug builds, where every
/// inlined loop keeps its own stack slots) is not part of every call.
#[inline(never)]
fn run_portable<T: ArrayElement>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    run_typed::<T>(instrs, banks, outs, cursors, tile)
}

/// `run_typed` compiled for AVX-512 (the same IEEE operations, wider).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
fn run_avx512<T: ArrayElement>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    run_typed::<T>(instrs, banks, outs, cursors, tile)
}

/// `run_typed` compiled for AVX2 and FMA (the same IEEE operations, wider).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<T: ArrayElement>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    run_typed::<T>(instrs, banks, outs, cursors, tile)
}

/// Bind `$out` to the destination of an instruction of dtype `$T` (a
/// register or the output tile) and `$ro` to the banks, read-only, for its
/// operands; then run `$body`. A macro rather than a function taking a
/// closure: a closure does not inherit `run_wide`'s target features, so its
/// loop would not use AVX2. The destination register is never one of the
/// operands (validation checks it), so it can be taken out of its bank
/// while the operands are read.
macro_rules! with_dst {
    ($T:ty, $banks:expr, $outs:expr, $tile:expr, $dst:expr, |$out:ident, $ro:ident| $body:expr) => {{
        match $dst {
            VDst::Reg(r) => {
                let slot = &mut <$T as ArrayElement>::of_mut($banks).regs.vectors[r as usize];
                let mut reg = std::mem::take(slot);
                let $out = &mut reg[..$tile.len];
                let $ro: &Banks = $banks;
                $body;
                <$T as ArrayElement>::of_mut($banks).regs.vectors[r as usize] = reg;
            }
            VDst::Out(o) if $tile.stream => {
                // computed in L1, then copied out with non-temporal stores
                let slot = &mut <$T as ArrayElement>::of_mut($banks).regs.scratch;
                let mut scratch = std::mem::take(slot);
                {
                    let $out = &mut scratch[..$tile.len];
                    let $ro: &Banks = $banks;
                    $body;
                }
                let dst = &mut <$T as ArrayElement>::of_mut($outs)[o as usize]
                    [$tile.pos..$tile.pos + $tile.len];
                stream::copy(dst, &scratch[..$tile.len]);
                <$T as ArrayElement>::of_mut($banks).regs.scratch = scratch;
            }
            VDst::Out(o) => {
                let $out = &mut <$T as ArrayElement>::of_mut($outs)[o as usize]
                    [$tile.pos..$tile.pos + $tile.len];
                let $ro: &Banks = $banks;
                $body;
            }
        }
    }};
}

/// Run `instrs` on one tile: those of dtype `T` here, others through
/// [`run`] for their own dtype.
// `match` rather than `Option::map`: a closure LLVM leaves out of line
// does not inherit `run_wide`'s target features.
#[allow(clippy::manual_map)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn run_typed<T: ArrayElement>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) {
    for instr in instrs {
        let dtype = instr.dtype();
        if dtype != T::DTYPE {
            run(
                dtype,
                std::slice::from_ref(instr),
                banks,
                outs,
                cursors,
                tile,
            );
            continue;
        }
        // closures are not inlined reliably here (and would not inherit
        // `run_wide`'s target features), hence small inline functions
        match *instr {
            VInstr::Elementwise { dst, op, .. } => match op {
                Elementwise::Binary(op, a, b) => {
                    with_dst!(T, banks, outs, tile, dst, |out, ro| {
                        loops::binary(op, out, src::<T>(a, ro, tile), src::<T>(b, ro, tile))
                    })
                }
                Elementwise::Neg(a) => with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    loops::neg(out, src::<T>(a, ro, tile))
                }),
                Elementwise::Unary(f, a) => with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    math_loops::unary(f, out, src::<T>(a, ro, tile))
                }),
                Elementwise::BinaryFn(f, a, b) => {
                    with_dst!(T, banks, outs, tile, dst, |out, ro| {
                        let (a, b) = (src::<T>(a, ro, tile), src::<T>(b, ro, tile));
                        math_loops::binary_fn(f, out, a, b)
                    })
                }
                Elementwise::Select { cmp, a, b, x, y } => {
                    with_dst!(T, banks, outs, tile, dst, |out, ro| {
                        let ops = [
                            src::<T>(a, ro, tile),
                            src::<T>(b, ro, tile),
                            src::<T>(x, ro, tile),
                            src::<T>(y, ro, tile),
                        ];
                        math_loops::select(cmp, out, ops)
                    })
                }
                Elementwise::Convert { from, a } => {
                    with_dtype!(from, |A| with_dst!(T, banks, outs, tile, dst, |out, ro| {
                        loops::convert(out, src::<A>(a, ro, tile))
                    }))
                }
            },
            VInstr::Fused { dst, op, .. } => run_fused::<T>(dst, op, banks, outs, tile),
            VInstr::ShiftIn { dst, src, head, .. } => {
                shift_in::<T>(dst, src, head, banks, outs, tile)
            }
            VInstr::FusedSum { red, op, .. } => {
                fused_sum::<T>(red as usize, op, banks, cursors, tile)
            }
            VInstr::Gather {
                view, stride, dst, ..
            } => gather::<T>(view, stride, dst, banks, tile),
            VInstr::Store { out, a, .. } => store::<T>(out, a, banks, outs, tile),
            VInstr::Reduce { red, a, .. } => reduce::<T>(red as usize, a, banks, cursors, tile),
        }
    }
}

/// `VInstr::ShiftIn`: the head for the first element (the fused
/// instruction over a one-element tile), then `src` one element on.
#[cfg_attr(not(debug_assertions), inline(always))]
fn shift_in<T: ArrayElement>(
    dst: u16,
    src: u16,
    head: FusedOp<VSrc, u16>,
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    tile: &Tile<'_, '_>,
) {
    let first = Tile { len: 1, ..*tile };
    run_fused::<T>(VDst::Reg(dst), head, banks, outs, &first);
    let regs = &mut <T as ArrayElement>::of_mut(banks).regs.vectors;
    // validation: `src != dst`, both registers of this dtype
    let mut out = std::mem::take(&mut regs[dst as usize]);
    out[1..tile.len].copy_from_slice(&regs[src as usize][..tile.len - 1]);
    regs[dst as usize] = out;
}

/// One fused instruction: one arm per row of the fusion table; a pattern
/// runs only in the dtypes its row names (the others do not compile its
/// loop). Its own function in debug builds, so that the arms' stack slots
/// are not all in `run_typed`'s frame (which must fit small thread stacks);
/// inlined into `run_typed` in release builds, for its target features.
// `match` rather than `Option::map`: see `run_typed`.
#[allow(clippy::manual_map)]
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline(never))]
fn run_fused<T: ArrayElement>(
    dst: VDst,
    op: FusedOp<VSrc, u16>,
    banks: &mut Banks,
    outs: &mut OutSlices<'_>,
    tile: &Tile<'_, '_>,
) {
    match op {
        FusedOp::Scaled { f, a, b, s } => {
            if let (VDst::Out(o), Some(b)) = (dst, b)
                && tile.stream
                && scaled_direct::<T>(f, (a, b, s), o, banks, outs, tile)
            {
                return;
            }
            with_dst!(T, banks, outs, tile, dst, |out, ro| {
                let b = match b {
                    Some(b) => Some(src::<T>(b, ro, tile)),
                    None => None,
                };
                let s = scalar_reg::<T>(s, ro);
                loops::scaled(f, out, src::<T>(a, ro, tile), b, s)
            })
        }
        FusedOp::StencilSquare { stencil, a, b, s } => {
            if const { FusedKind::StencilSquare.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    loops::stencil_square(out, taps::<T>(stencil, (a, b, s), ro, tile))
                })
            } else {
                unvalidated("a stencil square in a type without its loop")
            }
        }
        FusedOp::StencilDouble {
            stencil,
            post,
            a,
            b,
            s,
            s2,
            addend,
        } => {
            if const { FusedKind::StencilDouble.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    let addend = addend_src::<T>(addend, ro, tile);
                    let taps = taps::<T>(stencil, (a, b, s), ro, tile);
                    let s2 = scalar_reg::<T>(s2, ro);
                    loops::stencil_double(out, taps, post, s2, addend)
                })
            } else {
                unvalidated("a stencil doubling in a type without its loop")
            }
        }
        FusedOp::StencilPair {
            stencil,
            op,
            post,
            taps,
            s,
            s2,
            addend,
        } => {
            if const { FusedKind::StencilPair.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    let addend = addend_src::<T>(addend, ro, tile);
                    let pair = loops::StencilPairTaps {
                        stencil,
                        taps: four_taps::<T>(taps, ro, tile),
                        s: scalar_reg::<T>(s, ro),
                    };
                    let s2 = scalar_reg::<T>(s2, ro);
                    loops::stencil_pair(out, pair, op, post, s2, addend)
                })
            } else {
                unvalidated("a stencil pair in a type without its loop")
            }
        }
        FusedOp::DiffNorm { taps, c, recip } => {
            if const { FusedKind::DiffNorm.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    let taps = four_taps::<T>(taps, ro, tile);
                    let recip = match recip {
                        Some(s) => Some(scalar_reg::<T>(s, ro)),
                        None => None,
                    };
                    loops::diff_norm(out, taps, scalar_reg::<T>(c, ro), recip)
                })
            } else {
                unvalidated("a difference norm in a type without its loop")
            }
        }
        FusedOp::WeightedDouble {
            a,
            b,
            w: (side, w),
            negate,
            addend,
        } => {
            if const { FusedKind::WeightedDouble.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    let addend = addend_src::<T>(addend, ro, tile);
                    let taps = (vector_src::<T>(a, ro, tile), vector_src::<T>(b, ro, tile));
                    let w = (side, vector_src::<T>(w, ro, tile));
                    loops::weighted_double(out, taps, w, negate, addend)
                })
            } else {
                unvalidated("a weighted doubling in a type without its loop")
            }
        }
        FusedOp::PairSum(p) => {
            if const { FusedKind::PairSum.fuses(T::DTYPE) } {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    let addend = addend_src::<T>(p.addend, ro, tile);
                    let center = match p.center {
                        Some((c, w)) => {
                            Some((vector_src::<T>(c, ro, tile), scalar_reg::<T>(w, ro)))
                        }
                        None => None,
                    };
                    let taps = loops::PairSumTaps {
                        op: p.op,
                        center,
                        pairs: pair_operands::<T>(&p.pairs, p.count as usize, ro, tile),
                        count: p.count as usize,
                    };
                    loops::pair_sum(out, taps, addend)
                })
            } else {
                unvalidated("a pair sum in a type without its loop")
            }
        }
    }
}

/// A scaled instruction with two slice operands into a streamed output,
/// stored straight from its loop (`exec::direct`); false, with nothing
/// written, if it has no such loop here (the caller stages the tile).
/// Out of line: it calls a line loop of its own rather than inlining one.
#[inline(never)]
fn scaled_direct<T: ArrayElement>(
    f: ScaledOp,
    (a, b, s): (VSrc, VSrc, u16),
    o: u16,
    banks: &Banks,
    outs: &mut OutSlices<'_>,
    tile: &Tile<'_, '_>,
) -> bool {
    let (Src::Slice(a), Src::Slice(b)) = (src::<T>(a, banks, tile), src::<T>(b, banks, tile))
    else {
        return false;
    };
    let out = &mut <T as ArrayElement>::of_mut(outs)[o as usize][tile.pos..tile.pos + tile.len];
    direct::scaled(f, out, a, b, scalar_reg::<T>(s, banks))
}

/// The pairs of a pair sum bound to this tile; only the `count` in use
/// are bound (the rest repeat the first, unread). By a macro, not a
/// closure or `array::map`: LLVM left both out of line, compiled without
/// the tile loop's target features (6.7% of a stencil's time in `perf`).
#[allow(clippy::type_complexity)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn pair_operands<'b, 'a: 'b, T: ArrayElement>(
    pairs: &[(VSrc, VSrc, u16, Scale); MAX_PAIRS],
    count: usize,
    ro: &'b Banks,
    tile: &Tile<'_, 'a>,
) -> [(&'b [T], &'b [T], T, Scale); MAX_PAIRS] {
    macro_rules! bind {
        ($i:expr) => {{
            let (a, b, w, scale) = pairs[$i];
            (
                vector_src::<T>(a, ro, tile),
                vector_src::<T>(b, ro, tile),
                scalar_reg::<T>(w, ro),
                scale,
            )
        }};
    }
    let first = bind!(0);
    macro_rules! bind_used {
        ($i:expr) => {
            if $i < count { bind!($i) } else { first }
        };
    }
    [
        first,
        bind_used!(1),
        bind_used!(2),
        bind_used!(3),
        bind_used!(4),
        bind_used!(5),
    ]
}
