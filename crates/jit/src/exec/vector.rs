//! A tile's vector instructions, in one function per dtype.
//!
//! The rows of a 3-d kernel are short (256 elements), so what an instruction
//! costs before its loop starts (a dtype match, binding operands, a call
//! into the loop) matters as much as the loop. [`run_vector`] therefore
//! dispatches on the program's arithmetic dtype once per tile and runs every
//! instruction of that dtype in [`run_typed`], one function compiled for
//! AVX2 when the CPU has it, with the element loops of [`tile`] inlined; an
//! instruction of another dtype goes through the same function for its own
//! dtype, one instruction at a time. Either way every element gets the same
//! IEEE operations, so results do not depend on the CPU or the path.
//!
//! The helpers are `inline(always)` in release builds only: in debug builds
//! every inlined loop keeps its own stack slots, and the frame overflowed
//! the small stacks some callers run on.

use oxla_ir::{DType, with_dtype};

use crate::exec::bank::{Banks, OutSlice, TileElem};
use crate::exec::kernel::{
    Fault, Tile, gather, reduce, scalar_reg, square_sum, src, store, vector_src,
};
use crate::exec::tile::{self, ChunkCursor};
use crate::program::{Program, VDst, VInstr};

/// Run `program`'s vector instructions on one tile.
pub(super) fn run_vector(
    program: &Program,
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let Some(dtype) = program
        .arith_dtype
        .or_else(|| program.vector.first().map(VInstr::dtype))
    else {
        return Ok(());
    };
    run(dtype, &program.vector, banks, outs, cursors, tile)
}

/// Run `instrs`, those of `dtype` inline (see the module docs).
#[allow(unsafe_code)]
fn run(
    dtype: DType,
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    with_dtype!(dtype, |T| {
        #[cfg(target_arch = "x86_64")]
        if tile::wide() {
            // SAFETY: `run_wide` only requires the CPU features named in its
            // `target_feature` attribute, and `wide()` has just checked that
            // this CPU has them.
            return unsafe { run_wide::<T>(instrs, banks, outs, cursors, tile) };
        }
        run_portable::<T>(instrs, banks, outs, cursors, tile)
    })
}

/// Kept out of `run` so that its frame (large in debug builds, where every
/// inlined loop keeps its own stack slots) is not part of every call.
#[inline(never)]
fn run_portable<T: TileElem>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    run_typed::<T>(instrs, banks, outs, cursors, tile)
}

/// `run_typed` compiled for AVX2 and FMA (the same IEEE operations, wider).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_wide<T: TileElem>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    run_typed::<T>(instrs, banks, outs, cursors, tile)
}

/// Bind `$out` to the destination of an instruction of dtype `$T` (a
/// register or the output tile) and `$ro` to the banks, read-only, for its
/// operands; then run `$body`. A macro rather than a function taking a
/// closure: a closure does not inherit `run_wide`'s target features, so its
/// loop would not use AVX2. The destination register is never one of the
/// operands (the register allocator frees operands only after choosing the
/// destination).
macro_rules! with_dst {
    ($T:ty, $banks:expr, $outs:expr, $tile:expr, $dst:expr, |$out:ident, $ro:ident| $body:expr) => {{
        match $dst {
            VDst::Reg(r) => {
                let slot = <$T>::bank_mut($banks)
                    .vectors
                    .get_mut(r as usize)
                    .ok_or(Fault("no such register"))?;
                let mut reg = std::mem::take(slot);
                let $out = reg
                    .get_mut(..$tile.len)
                    .ok_or(Fault("register shorter than the tile"))?;
                let $ro: &Banks = $banks;
                $body;
                <$T>::bank_mut($banks).vectors[r as usize] = reg;
            }
            VDst::Out(o) => {
                let $out = $outs
                    .get_mut(o as usize)
                    .and_then(|s| <$T>::out(s))
                    .and_then(|s| s.get_mut($tile.pos..$tile.pos + $tile.len))
                    .ok_or(Fault("output tile out of range"))?;
                let $ro: &Banks = $banks;
                $body;
            }
        }
    }};
}

/// Run `instrs` on one tile: those of dtype `T` here, others through
/// [`run`] for their own dtype.
#[cfg_attr(not(debug_assertions), inline(always))]
fn run_typed<T: TileElem>(
    instrs: &[VInstr],
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
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
            )?;
            continue;
        }
        // closures are not inlined reliably here (and would not inherit
        // `run_wide`'s target features), hence small inline functions
        match *instr {
            VInstr::Binary { op, dst, a, b, .. } => {
                with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    tile::binary(op, out, src::<T>(a, ro, tile)?, src::<T>(b, ro, tile)?)
                })
            }
            VInstr::Scaled {
                f, dst, a, b, s, ..
            } => with_dst!(T, banks, outs, tile, dst, |out, ro| {
                let s = scalar_reg::<T>(s, ro)?;
                let b = match b {
                    Some(b) => Some(src::<T>(b, ro, tile)?),
                    None => None,
                };
                tile::scaled(f, out, src::<T>(a, ro, tile)?, b, s)
            }),
            VInstr::Twice {
                t,
                dst,
                a,
                b,
                s,
                s2,
                c,
                ..
            } if T::FUSED_STENCILS => with_dst!(T, banks, outs, tile, dst, |out, ro| {
                let s2 = match s2 {
                    Some(r) => scalar_reg::<T>(r, ro)?,
                    None => T::ZERO,
                };
                let c = match c {
                    Some(c) => Some(vector_src::<T>(c, ro, tile)?),
                    None => None,
                };
                let (a, b) = (vector_src::<T>(a, ro, tile)?, vector_src::<T>(b, ro, tile)?);
                tile::twice(t, out, a, b, c, scalar_reg::<T>(s, ro)?, s2)
                    .ok_or(Fault("unfusable stencil"))?
            }),
            VInstr::SquareSum {
                inner,
                red,
                a,
                b,
                s,
                ..
            } if T::FUSED_STENCILS => {
                square_sum::<T>(red as usize, inner, a, b, s, banks, cursors, tile)?
            }
            VInstr::Twice { .. } | VInstr::SquareSum { .. } => {
                return Err(Fault("a fused stencil of an unfused type"));
            }
            VInstr::Neg { dst, a, .. } => with_dst!(T, banks, outs, tile, dst, |out, ro| {
                tile::neg(out, src::<T>(a, ro, tile)?)
            }),
            VInstr::Convert { from, dst, a, .. } => {
                with_dtype!(from, |A| with_dst!(T, banks, outs, tile, dst, |out, ro| {
                    tile::convert(out, src::<A>(a, ro, tile)?)
                }))
            }
            VInstr::Gather {
                view, stride, dst, ..
            } => gather::<T>(view, stride, dst, banks, tile)?,
            VInstr::Store { out, a, .. } => store::<T>(out, a, banks, outs, tile)?,
            VInstr::Reduce { red, a, .. } => reduce::<T>(red as usize, a, banks, cursors, tile)?,
        }
    }
    Ok(())
}
