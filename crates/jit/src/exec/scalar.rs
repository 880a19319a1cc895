//! A program's scalar instructions: run once per line of tiles.

use oxla_ir::{ArrayElement, Element, Math, with_dtype};

use crate::exec::operands::Tile;
use crate::exec::storage::Banks;
use crate::isa::{Elementwise, SInstr};

fn set<T: ArrayElement>(banks: &mut Banks, dst: u16, v: T) {
    T::of_mut(banks).regs.scalars[dst as usize] = v;
}

fn get<T: ArrayElement>(banks: &Banks, r: u16) -> T {
    T::of(banks).regs.scalars[r as usize]
}

/// Run one scalar instruction at the tile's first element.
pub(crate) fn run_scalar(instr: &SInstr, banks: &mut Banks, tile: &Tile<'_, '_>) {
    match *instr {
        SInstr::Load { dtype, view, dst } => with_dtype!(dtype, |T| {
            let at = tile.bases[view as usize] as usize;
            let v = T::of(tile.inputs)[view as usize][at];
            set::<T>(banks, dst, v);
        }),
        SInstr::Elementwise { dtype, dst, op } => match op {
            Elementwise::Neg(a) => with_dtype!(dtype, |T| {
                let v = get::<T>(banks, a).neg();
                set::<T>(banks, dst, v)
            }),
            Elementwise::Convert { from, a } => with_dtype!(from, |A| with_dtype!(dtype, |B| {
                let v: B = oxla_ir::element::convert(get::<A>(banks, a));
                set::<B>(banks, dst, v)
            })),
            Elementwise::Binary(op, a, b) => with_dtype!(dtype, |T| {
                let v = op.apply(get::<T>(banks, a), get::<T>(banks, b));
                set::<T>(banks, dst, v)
            }),
            Elementwise::Unary(f, a) => with_dtype!(dtype, |T| {
                let v = get::<T>(banks, a).unary(f);
                set::<T>(banks, dst, v)
            }),
            Elementwise::BinaryFn(f, a, b) => with_dtype!(dtype, |T| {
                let v = get::<T>(banks, a).binary_fn(f, get::<T>(banks, b));
                set::<T>(banks, dst, v)
            }),
            Elementwise::Select { cmp, a, b, x, y } => with_dtype!(dtype, |T| {
                let holds = get::<T>(banks, a).compare(cmp, get::<T>(banks, b));
                let v = get::<T>(banks, if holds { x } else { y });
                set::<T>(banks, dst, v)
            }),
        },
    }
}
