//! Shifted reuse: a fused value that an earlier register already holds one
//! element back along the tile is copied from it, not computed again.
//!
//! Total variation's gradient needs the weight `0.5 / |grad u|` at each
//! element and at its left and upper neighbours; each is a `DiffNorm`
//! (a square root and a division), the most expensive instruction of the
//! kernel. The left neighbour's weight is the element's own weight one
//! element back along a row tile, so its instruction becomes a
//! [`VInstr::ShiftIn`] of the own weight's register, with the original
//! instruction kept as the head that computes the tile's first element.
//!
//! What is matched, per program, in instruction order: a register holding
//! `s / n` or `DiffNorm { recip: Some(s) }` where `n` held
//! `DiffNorm { taps, c, recip: None }`, still unchanged where a later
//! `DiffNorm { taps', c, recip: Some(s) }` is computed whose taps are
//! `taps` one element back along the tile (the same buffers and strides,
//! offsets one tile stride lower). Both are `s / sqrt(((a1 - b1)^2 +
//! (a2 - b2)^2) + c)` with the same operations in the same order at each
//! element, so the copy has the same bits (architecture invariant: fused
//! results stay bit-identical to the interpreter).

use oxla_ir::DType;

use crate::isa::{BinOp, Elementwise, FusedOp, Program, VDst, VInstr, VSrc, View};

/// What a register is known to hold (per dtype and register).
#[derive(Clone, Copy, PartialEq)]
enum Held {
    /// `sqrt(((a1 - b1)^2 + (a2 - b2)^2) + c)` of these taps.
    Norm { taps: [VSrc; 4], c: u16 },
    /// `s` divided by that norm.
    Weight { taps: [VSrc; 4], c: u16, s: u16 },
}

/// What each register holds, in order of writing (so that a search does
/// not depend on hashing).
type Registers = Vec<((DType, u16), Held)>;

/// Rewrite `program`'s shifted weights as [`VInstr::ShiftIn`]s; `axis` is
/// the iteration axis its tiles run along (`None` for a 0-d kernel).
pub(crate) fn reuse_shifted(program: &mut Program, views: &[View], axis: Option<usize>) {
    let Some(axis) = axis else {
        return;
    };
    // one rewrite at a time: each removes a DiffNorm, so this ends
    while let Some((at, after, shift)) = next_rewrite(&program.vector, views, axis) {
        program.vector.remove(at);
        program.vector.insert(after, shift);
    }
}

/// The next weight to shift in: its index, where its `ShiftIn` goes
/// (the same place, or right after the later instruction that divides the
/// norm it needs, when nothing in between touches its register) and the
/// `ShiftIn` itself.
fn next_rewrite(vector: &[VInstr], views: &[View], axis: usize) -> Option<(usize, usize, VInstr)> {
    let mut held = Registers::new();
    for (i, instr) in vector.iter().enumerate() {
        if let VInstr::Fused {
            dtype,
            dst: VDst::Reg(d),
            op:
                head @ FusedOp::DiffNorm {
                    taps,
                    c,
                    recip: Some(s),
                },
        } = *instr
        {
            let shift = |src| VInstr::ShiftIn {
                dtype,
                dst: d,
                src,
                head,
            };
            let wanted = |key: (DType, u16), h: Held| match h {
                Held::Weight {
                    taps: back,
                    c: c0,
                    s: s0,
                } => {
                    key.0 == dtype
                        && key.1 != d
                        && (c0, s0) == (c, s)
                        && one_back(&taps, &back, views, axis)
                }
                Held::Norm { .. } => false,
            };
            if let Some(&((_, src), _)) = held.iter().find(|&&(key, h)| wanted(key, h)) {
                return Some((i, i, shift(src)));
            }
            // or divided from a norm later: look ahead while nothing reads
            // or writes `d`, so the DiffNorm can move down
            let mut ahead = held.clone();
            for (j, later) in vector.iter().enumerate().skip(i + 1) {
                if touches(later, dtype, d) {
                    break;
                }
                written(&mut ahead, later);
                let made = writes(later).and_then(|key| ahead.iter().find(|(k, _)| *k == key));
                if let Some(&(key, _)) = made.filter(|&&(key, h)| wanted(key, h)) {
                    return Some((i, j, shift(key.1)));
                }
            }
        }
        written(&mut held, instr);
    }
    None
}

/// The register an instruction writes, with its dtype.
fn writes(instr: &VInstr) -> Option<(DType, u16)> {
    match *instr {
        VInstr::Fused {
            dtype,
            dst: VDst::Reg(d),
            ..
        }
        | VInstr::Elementwise {
            dtype,
            dst: VDst::Reg(d),
            ..
        }
        | VInstr::ShiftIn { dtype, dst: d, .. }
        | VInstr::Gather { dtype, dst: d, .. } => Some((dtype, d)),
        _ => None,
    }
}

/// `instr` reads or writes register `r` of `dtype`.
fn touches(instr: &VInstr, dtype: DType, r: u16) -> bool {
    instr.sources().contains(&(dtype, VSrc::Reg(r))) || writes(instr) == Some((dtype, r))
}

/// Update `held` past `instr`.
fn written(held: &mut Registers, instr: &VInstr) {
    let Some((dtype, reg)) = writes(instr) else {
        return;
    };
    let now = match *instr {
        VInstr::Fused {
            op: FusedOp::DiffNorm { taps, c, recip },
            ..
        }
        | VInstr::ShiftIn {
            head: FusedOp::DiffNorm { taps, c, recip },
            ..
        } => Some(match recip {
            None => Held::Norm { taps, c },
            Some(s) => Held::Weight { taps, c, s },
        }),
        VInstr::Elementwise {
            op: Elementwise::Binary(BinOp::Div, VSrc::Scalar(s), VSrc::Reg(n)),
            ..
        } => match held.iter().find(|(key, _)| *key == (dtype, n)) {
            Some(&(_, Held::Norm { taps, c })) => Some(Held::Weight { taps, c, s }),
            _ => None,
        },
        _ => None,
    };
    held.retain(|(key, _)| *key != (dtype, reg));
    held.extend(now.map(|h| ((dtype, reg), h)));
}

/// Each tap of `taps` reads what the same tap of `back` reads one element
/// earlier along `axis`: both in place, the same buffer and strides, the
/// offset one stride lower.
fn one_back(taps: &[VSrc; 4], back: &[VSrc; 4], views: &[View], axis: usize) -> bool {
    taps.iter().zip(back).all(|(&t, &b)| match (t, b) {
        (VSrc::Input(t), VSrc::Input(b)) => {
            let (t, b) = (&views[t as usize], &views[b as usize]);
            t.buffer == b.buffer && t.strides == b.strides && t.offset == b.offset - b.strides[axis]
        }
        _ => false,
    })
}
