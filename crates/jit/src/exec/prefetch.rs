//! Software prefetch of the next tile's inputs.
//!
//! A tile is 4 KiB: one page of each contiguous input. The hardware's
//! stream prefetchers stop at page boundaries, so every tile started with
//! its first loads from a new row waiting for memory one line after
//! another (perf showed the kernels' first loads taking most of their
//! time). Before a tile runs, the next tile's lines of every input read
//! along the tile are prefetched, so they arrive while this one computes.
//!
//! Which cache level the lines are asked into is a [`Hint`], chosen once
//! per process (`OXLA_PREFETCH`, a measurement knob). It is L2: asked
//! into L1, 64 lines a tile occupy the core's line fill buffers, and the
//! tile's own loads wait behind them (on an Intel host perf put two
//! thirds of the executor's row loop on the instruction after a
//! `prefetcht0`); asked into L2, they are tracked further out and the
//! loads that follow go ahead. An Intel and an AMD host both ran faster
//! with it (docs/PERFORMANCE.md, *Prefetch into L2*).

use oxla_ir::{ArrayElement, DType, with_dtype};

use crate::exec::storage::Inputs;
use crate::isa::FusedKernel;

/// Bytes per cache line.
const LINE: usize = 64;

/// Where each input read along the tile (unit stride) starts, and its
/// element size: `(view, address, bytes)` per such view, in view order.
pub(crate) struct Prefetcher {
    hint: Hint,
    views: Vec<(usize, usize, usize)>,
    /// Per input buffer: its address, its leading view's next tile start
    /// and its element size (reused between tiles).
    ranges: Vec<(usize, usize, usize)>,
}

impl Prefetcher {
    /// The contiguous views of `k`, bound to `inputs`.
    pub(crate) fn new(k: &FusedKernel, inputs: &Inputs<'_>) -> Prefetcher {
        let mut views = Vec::new();
        let hint = Hint::chosen();
        for (v, &stride) in k.col_stride.iter().enumerate() {
            if stride != 1 || hint == Hint::Off {
                continue;
            }
            for d in DType::ALL {
                with_dtype!(d, |T| {
                    if let Some(buf) = T::of(inputs).get(v).filter(|b| !b.is_empty()) {
                        views.push((v, buf.as_ptr() as usize, std::mem::size_of::<T>()));
                    }
                });
            }
        }
        Prefetcher {
            hint,
            ranges: Vec::with_capacity(views.len()),
            views,
        }
    }

    /// Prefetch the next tile's lines of each input buffer: of the views
    /// of one buffer, only the one furthest ahead, whose lines are new (a
    /// stencil's other views read lines the leading view brought in for
    /// earlier rows).
    #[inline]
    pub(crate) fn tile(&mut self, bases: &[i64], len: usize) {
        self.ranges.clear();
        for &(v, addr, size) in &self.views {
            let start = addr.wrapping_add((bases[v] as usize).wrapping_mul(size));
            match self.ranges.iter_mut().find(|r| r.0 == addr) {
                Some(r) => r.1 = r.1.max(start),
                None => self.ranges.push((addr, start, size)),
            }
        }
        for &(_, lead, size) in &self.ranges {
            let end = lead.wrapping_add(len * size);
            match self.hint {
                Hint::Off => {}
                Hint::L1 => lines::<{ Hint::L1 as i32 }>(lead, end),
                Hint::L2 => lines::<{ Hint::L2 as i32 }>(lead, end),
            }
        }
    }
}

/// The cache level prefetched lines are asked into; the discriminants are
/// the `_mm_prefetch` hint constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub(crate) enum Hint {
    /// No software prefetch (`OXLA_PREFETCH=0`).
    Off = -1,
    /// Into L1 and below: `prefetcht0` (`OXLA_PREFETCH=l1`).
    L1 = 3,
    /// Into L2 and below: `prefetcht1` (`OXLA_PREFETCH=l2`).
    L2 = 2,
}

impl Hint {
    /// What `OXLA_PREFETCH` asks for (a measurement knob: `0`, `l1` or
    /// `l2`), else the default; read once per process.
    pub(crate) fn chosen() -> Hint {
        static CHOSEN: std::sync::OnceLock<Hint> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| Hint::parse(std::env::var("OXLA_PREFETCH").ok().as_deref()))
    }

    /// The hint a knob's value names; anything unrecognised (or no
    /// value) is the default, so a typo never turns prefetch off.
    fn parse(knob: Option<&str>) -> Hint {
        match knob {
            Some("0") => Hint::Off,
            Some("l1") => Hint::L1,
            Some("l2") => Hint::L2,
            _ => Hint::DEFAULT,
        }
    }

    const DEFAULT: Hint = Hint::L2;
}

/// Ask for every line from the one holding `start` up to `end` (a hint:
/// it never faults, whatever the address).
#[inline]
#[allow(unsafe_code)]
fn lines<const HINT: i32>(start: usize, end: usize) {
    let mut at = start & !(LINE - 1);
    while at < end {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `prefetcht0`/`prefetcht1` read no memory
        // architecturally and never fault, for any address; SSE is part
        // of the x86-64 baseline.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<HINT>(at as *const i8);
        }
        at += LINE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_values_name_their_hints_and_anything_else_is_the_default() {
        assert_eq!(Hint::parse(Some("0")), Hint::Off);
        assert_eq!(Hint::parse(Some("l1")), Hint::L1);
        assert_eq!(Hint::parse(Some("l2")), Hint::L2);
        assert_eq!(Hint::parse(Some("L9")), Hint::DEFAULT);
        assert_eq!(Hint::parse(None), Hint::DEFAULT);
    }

    #[test]
    fn prefetching_any_address_never_faults() {
        // Wild, null and unaligned addresses: a prefetch is only a hint.
        for hint_run in [lines::<{ Hint::L1 as i32 }>, lines::<{ Hint::L2 as i32 }>] {
            hint_run(0, 4 * LINE);
            hint_run(usize::MAX - 3 * LINE, usize::MAX - LINE);
            let data = [1.0f64; 64];
            let at = data.as_ptr() as usize + 3;
            hint_run(at, at + 200);
        }
    }
}
