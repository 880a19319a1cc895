//! Software prefetch of the next tile's inputs.
//!
//! A tile is 4 KiB: one page of each contiguous input. The hardware's
//! stream prefetchers stop at page boundaries, so every tile started with
//! its first loads from a new row waiting for memory one line after
//! another (perf showed the kernels' first loads taking most of their
//! time). Before a tile runs, the next tile's lines of every input read
//! along the tile are prefetched, so they arrive while this one computes.

use oxla_ir::{ArrayElement, DType, with_dtype};

use crate::exec::storage::Inputs;
use crate::isa::FusedKernel;

/// Bytes per cache line.
const LINE: usize = 64;

/// Where each input read along the tile (unit stride) starts, and its
/// element size: `(view, address, bytes)` per such view, in view order.
pub(crate) struct Prefetcher {
    views: Vec<(usize, usize, usize)>,
    /// Per input buffer: its address, its leading view's next tile start
    /// and its element size (reused between tiles).
    ranges: Vec<(usize, usize, usize)>,
}

impl Prefetcher {
    /// The contiguous views of `k`, bound to `inputs`.
    pub(crate) fn new(k: &FusedKernel, inputs: &Inputs<'_>) -> Prefetcher {
        let mut views = Vec::new();
        let on = enabled();
        for (v, &stride) in k.col_stride.iter().enumerate() {
            if stride != 1 || !on {
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
            let mut at = lead & !(LINE - 1);
            let end = lead.wrapping_add(len * size);
            while at < end {
                line(at);
                at += LINE;
            }
        }
    }
}

/// Whether software prefetch runs: yes, unless `OXLA_PREFETCH=0` (a
/// measurement knob, to see what it buys on a given machine).
fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("OXLA_PREFETCH").map_or(true, |v| v != "0"))
}

/// Ask for the line holding `addr` in the caches (a hint: it never faults,
/// whatever the address).
#[inline]
#[allow(unsafe_code)]
fn line(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` reads no memory architecturally and never
    // faults, for any address; SSE is part of the x86-64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
