//! A tile's program in one function.
//!
//! [`exec_vector`] pays for its generality on every instruction: a dtype
//! match, operands resolved through calls, one more call into each loop.
//! The rows of a 3-d kernel are short (256 elements), and that overhead cost
//! as much as the arithmetic. So [`run_vector`] dispatches on the program's
//! arithmetic dtype once per tile and runs its binary, scaled, gather, store
//! and reduce instructions of that dtype inline, in one function compiled for
//! AVX2 when the CPU has it, so that their element loops are inlined too;
//! every other instruction (another dtype, a conversion, a negation) goes
//! through [`exec_vector`]. The element loops are the same [`tile`] loops,
//! so results do not change by a bit.
//!
//! The helpers are `inline(always)` in release builds only: in debug builds
//! every inlined loop keeps its own stack slots, and the frame overflowed
//! the small stacks some callers run on.

use oxla_ir::with_dtype;

use crate::exec::bank::{Banks, OutSlice, TileElem};
use crate::exec::kernel::{Fault, Tile, exec_vector, gather, operand, reduce, store};
use crate::exec::tile::{self, ChunkCursor, Src};
use crate::program::{Program, VDst, VInstr};

/// Run `program`'s vector instructions on one tile.
#[allow(unsafe_code)]
pub(super) fn run_vector(
    program: &Program,
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    let Some(dtype) = program.arith_dtype else {
        for instr in &program.vector {
            exec_vector(instr, banks, outs, cursors, tile)?;
        }
        return Ok(());
    };
    with_dtype!(dtype, |T| {
        #[cfg(target_arch = "x86_64")]
        if tile::wide() {
            // SAFETY: `run_wide` only requires the CPU features named in its
            // `target_feature` attribute, and `wide()` has just checked that
            // this CPU has them.
            return unsafe { run_wide::<T>(program, banks, outs, cursors, tile) };
        }
        run_portable::<T>(program, banks, outs, cursors, tile)
    })
}

/// Kept out of `run_vector` so that its frame (large in debug builds, where
/// every inlined loop keeps its own stack slots) is not part of every call.
#[inline(never)]
fn run_portable<T: TileElem>(
    program: &Program,
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    run_typed::<T>(program, banks, outs, cursors, tile)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_wide<T: TileElem>(
    program: &Program,
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    run_typed::<T>(program, banks, outs, cursors, tile)
}

/// Bind the destination and operands of one instruction (of dtype `T`) and
/// run `$body`. A macro rather than a closure: closures do not inherit
/// `run_wide`'s target features, so their loops would not use AVX2.
/// The destination register is never one of the operands (the register
/// allocator frees operands only after choosing the destination).
macro_rules! with_operands {
    ($T:ty, $banks:expr, $outs:expr, $tile:expr, $dst:expr, $a:expr, $b:expr,
     |$out:ident, $x:ident, $y:ident| $body:expr) => {{
        let bank = <$T>::bank_mut($banks);
        match $dst {
            VDst::Reg(r) => {
                let slot = bank
                    .vectors
                    .get_mut(r as usize)
                    .ok_or(Fault("no such register"))?;
                let mut reg = std::mem::take(slot);
                let $out = reg
                    .get_mut(..$tile.len)
                    .ok_or(Fault("register shorter than the tile"))?;
                let $x = operand($a, &bank.vectors, &bank.scalars, $tile)?;
                let $y = match $b {
                    Some(b) => Some(operand(b, &bank.vectors, &bank.scalars, $tile)?),
                    None => None,
                };
                $body;
                bank.vectors[r as usize] = reg;
            }
            VDst::Out(o) => {
                let $out = $outs
                    .get_mut(o as usize)
                    .and_then(|s| <$T>::out(s))
                    .and_then(|s| s.get_mut($tile.pos..$tile.pos + $tile.len))
                    .ok_or(Fault("output tile out of range"))?;
                let $x = operand($a, &bank.vectors, &bank.scalars, $tile)?;
                let $y = match $b {
                    Some(b) => Some(operand(b, &bank.vectors, &bank.scalars, $tile)?),
                    None => None,
                };
                $body;
            }
        }
    }};
}

#[cfg_attr(not(debug_assertions), inline(always))]
fn run_typed<T: TileElem>(
    program: &Program,
    banks: &mut Banks,
    outs: &mut [OutSlice<'_>],
    cursors: &mut [Vec<ChunkCursor>],
    tile: &Tile<'_, '_>,
) -> Result<(), Fault> {
    for instr in &program.vector {
        match *instr {
            VInstr::Binary {
                op,
                dtype,
                dst,
                a,
                b,
            } if dtype == T::DTYPE => {
                with_operands!(T, banks, outs, tile, dst, a, Some(b), |out, x, y| {
                    tile::binary_portable(op, out, x, y.unwrap_or(Src::Scalar(T::ZERO)))
                })
            }
            VInstr::Scaled {
                f,
                dtype,
                dst,
                a,
                b,
                s,
            } if dtype == T::DTYPE => {
                let s = *T::bank(banks)
                    .scalars
                    .get(s as usize)
                    .ok_or(Fault("no such scalar register"))?;
                with_operands!(T, banks, outs, tile, dst, a, b, |out, x, y| {
                    tile::scaled_portable(f, out, x, y, s)
                })
            }
            VInstr::Gather {
                dtype,
                view,
                stride,
                dst,
            } if dtype == T::DTYPE => gather::<T>(view, stride, dst, banks, tile)?,
            VInstr::Store { dtype, out, a } if dtype == T::DTYPE => {
                store::<T>(out, a, banks, outs, tile)?
            }
            VInstr::Reduce { dtype, red, a } if dtype == T::DTYPE => {
                reduce::<T>(red as usize, a, banks, cursors, tile)?
            }
            _ => exec_vector(instr, banks, outs, cursors, tile)?,
        }
    }
    Ok(())
}
