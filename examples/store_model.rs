//! A model of how a stencil kernel's loads, stores and prefetches are
//! arranged, without the jit: the interior of the finite-difference case
//! (`examples/fd_speed.rs`: 4th-order second derivatives along both axes of
//! a 4096 x 4096 float64 array) written four ways with AVX-512 intrinsics,
//! each timed against the honest floor (a non-temporal copy of the same
//! traffic on the same two threads). It is the measurement behind the
//! plan in docs/PERFORMANCE.md, *The honest floor, corrected*:
//!
//! - `tile`: the executor's structure today. Per 4 KiB tile, the next
//!   tile's 64 lines of the leading row are prefetched at once (into L2),
//!   each derivative is computed into a scratch tile in L1 and then copied
//!   out with non-temporal stores.
//! - `direct`: the same tiles and prefetch burst, the derivatives stored
//!   with non-temporal stores straight from the loop.
//! - `spread`: as `direct`, with the prefetch spread over the second
//!   loop, one line per 8 elements.
//! - `fused`: one loop per row computing both derivatives, non-temporal
//!   stores, one prefetch per line a tile ahead.
//! - `linebuf`: as `direct`, each line's result stored to a stack line and
//!   loaded back before its non-temporal store (what a loop that cannot
//!   keep the line in a register does).
//! - `window`: as `tile`, with each 256-byte window of the scratch tile
//!   copied out as soon as it is computed (the non-temporal stores spread
//!   through the tile, the L1 round trip kept).
//!
//! ```sh
//! cargo run --release --example store_model            # every structure, 30 runs each
//! cargo run --release --example store_model -- tile 50  # one structure, 50 runs
//! ```
//!
//! Every structure's results are checked against `tile`'s bit for bit
//! before timing (same operations in the same order). On a CPU without
//! AVX-512 it says so and exits.

use std::time::Instant;

/// Side of the square array.
const N: usize = 4096;
/// Elements per tile: 4 KiB of f64, as the executor's tiles.
const TILE: usize = 512;
/// The stencil's weights (the finite-difference case's, with h = 1).
const W: [f64; 3] = [-2.5, 4.0 / 3.0, -1.0 / 12.0];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Structure {
    Tile,
    Direct,
    Spread,
    Fused,
    Linebuf,
    Window,
}

/// How a computed line is stored.
#[derive(Clone, Copy, PartialEq)]
enum Put {
    /// Ordinary store (into the L1 scratch tile).
    Cached,
    /// Non-temporal store from the register.
    Stream,
    /// Through a stack line, then a non-temporal store.
    StreamViaStack,
}

/// Elements per window of `Structure::Window`: 256 bytes.
const WINDOW: usize = 32;

/// A buffer of `len` f64 whose slice starts on a 64-byte boundary.
struct Aligned {
    data: Vec<f64>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize, value: f64) -> Aligned {
        let data = vec![value; len + 8];
        let start = (data.as_ptr() as usize).wrapping_neg() % 64 / 8;
        Aligned { data, start, len }
    }
    fn slice(&self) -> &[f64] {
        &self.data[self.start..self.start + self.len]
    }
    fn slice_mut(&mut self) -> &mut [f64] {
        &mut self.data[self.start..self.start + self.len]
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(30);
        let all = [
            Structure::Tile,
            Structure::Direct,
            Structure::Spread,
            Structure::Fused,
            Structure::Linebuf,
            Structure::Window,
        ];
        let chosen: Vec<Structure> = match args.first().map(String::as_str) {
            None => all.to_vec(),
            Some(name) => all
                .into_iter()
                .filter(|s| format!("{s:?}").eq_ignore_ascii_case(name))
                .collect(),
        };
        if chosen.is_empty() {
            eprintln!("structures: tile, direct, spread, fused, linebuf, window");
            std::process::exit(2);
        }
        x86::run(&chosen, runs);
        return;
    }
    println!("store_model needs an x86-64 CPU with AVX-512; this one has none");
}

/// The four structures, with intrinsics: the model is about which
/// instructions run, which LLVM's vectorizer does not let one choose.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    pub fn run(chosen: &[Structure], runs: usize) {
        let mut field = Aligned::new(N * N, 0.0);
        for (i, x) in field.slice_mut().iter_mut().enumerate() {
            *x = ((i % 1013) as f64 * 1e-3).sin();
        }
        let mut outs = [Aligned::new(N * N, 1.0), Aligned::new(N * N, 1.0)];
        let mut reference = [Aligned::new(N * N, 0.0), Aligned::new(N * N, 0.0)];
        derivatives(Structure::Tile, field.slice(), &mut reference);
        let src = Aligned::new(N * N * 3 / 2, 1.0);
        let mut dst = Aligned::new(N * N * 3 / 2, 0.0);
        for &s in chosen {
            derivatives(s, field.slice(), &mut outs);
            for (o, r) in outs.iter().zip(&reference) {
                // the computed part: rows and columns 8..N-8
                let interior = |v: &[f64]| -> Vec<u64> {
                    v.chunks(N)
                        .take(N - 8)
                        .skip(8)
                        .flat_map(|row| row[8..N - 8].iter().map(|x| x.to_bits()))
                        .collect()
                };
                assert!(
                    interior(o.slice()) == interior(r.slice()),
                    "{s:?} differs from tile"
                );
            }
            let (mut op, mut floor) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                let t = Instant::now();
                derivatives(s, field.slice(), &mut outs);
                op.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                floor_copy(src.slice(), dst.slice_mut());
                floor.push(t.elapsed().as_secs_f64());
            }
            let (op, floor) = (median(op), median(floor));
            println!(
                "{:<7} {:7.2} ms   floor {:6.2} ms   ratio {:.2}   ({runs} alternated runs)",
                format!("{s:?}").to_lowercase(),
                op * 1e3,
                floor * 1e3,
                op / floor
            );
        }
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// The honest floor: `src` copied into `dst` by two threads, one half
    /// each, with non-temporal stores.
    fn floor_copy(src: &[f64], dst: &mut [f64]) {
        let half = src.len().div_ceil(2);
        std::thread::scope(|s| {
            for (d, c) in dst.chunks_mut(half).zip(src.chunks(half)) {
                s.spawn(move || oxla::copy_streaming(d, c));
            }
        });
    }

    /// Both derivatives of `f` into `outs` (rows and columns 8..N-8), two
    /// threads splitting the rows.
    fn derivatives(s: Structure, f: &[f64], outs: &mut [Aligned; 2]) {
        let [o0, o1] = outs;
        let rows = N / 2;
        std::thread::scope(|scope| {
            let parts = o0
                .slice_mut()
                .chunks_mut(rows * N)
                .zip(o1.slice_mut().chunks_mut(rows * N));
            for (part, (a, b)) in parts.enumerate() {
                scope.spawn(move || {
                    let first = (part * rows).max(8);
                    let last = ((part + 1) * rows).min(N - 8);
                    // SAFETY: the caller checked AVX-512F; `rows_of` reads
                    // rows first-2..last+2 of `f` (8 <= first, last <= N-8)
                    // and columns 6..N-6, and writes columns 8..N-8 of rows
                    // first..last of `a`, `b`, which hold rows
                    // part*rows..(part+1)*rows, 64-byte aligned (`Aligned`,
                    // rows of 32 KiB).
                    unsafe { rows_of(s, f, a, b, part * rows, first, last) }
                });
            }
        });
    }

    /// Rows `first..last` of both derivatives; `a` and `b` start at row `row0`.
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_of(
        s: Structure,
        f: &[f64],
        a: &mut [f64],
        b: &mut [f64],
        row0: usize,
        first: usize,
        last: usize,
    ) {
        let x = f.as_ptr();
        let (pa, pb) = (a.as_mut_ptr(), b.as_mut_ptr());
        let mut scratch = Aligned::new(TILE, 0.0);
        let sp = scratch.slice_mut().as_mut_ptr();
        let (c0, c1) = (8, N - 8);
        for r in first..last {
            let row = x.wrapping_add(r * N);
            let (oa, ob) = (
                pa.wrapping_add((r - row0) * N),
                pb.wrapping_add((r - row0) * N),
            );
            if s == Structure::Fused {
                // SAFETY (this and the calls below): the ranges are those
                // `derivatives` promises; prefetch addresses may be
                // anywhere (a prefetch never faults).
                unsafe { fused(row, oa, ob, c0, c1) };
                continue;
            }
            let mut c = c0;
            while c < c1 {
                let len = TILE.min(c1 - c);
                // the next tile of the leading row (r + 2), or the next row's first
                let next = if c + len < c1 { c + len } else { N + c0 };
                let lead = row.wrapping_add(2 * N + next);
                unsafe {
                    match s {
                        Structure::Spread => {
                            along_row(oa.add(c), row.add(c), len, Put::Stream);
                            across_rows(ob.add(c), row.add(c), len, Put::Stream, Some(lead));
                        }
                        Structure::Tile | Structure::Window => {
                            burst(lead, TILE);
                            // into the L1 scratch a window at a time, each
                            // copied out at once (`tile`: one window)
                            let window = if s == Structure::Tile { TILE } else { WINDOW };
                            for w in (0..len).step_by(window) {
                                let wl = window.min(len - w);
                                along_row(sp, row.add(c + w), wl, Put::Cached);
                                stream_copy(oa.add(c + w), sp, wl);
                            }
                            for w in (0..len).step_by(window) {
                                let wl = window.min(len - w);
                                across_rows(sp, row.add(c + w), wl, Put::Cached, None);
                                stream_copy(ob.add(c + w), sp, wl);
                            }
                        }
                        Structure::Direct | Structure::Linebuf => {
                            burst(lead, TILE);
                            let put = if s == Structure::Linebuf {
                                Put::StreamViaStack
                            } else {
                                Put::Stream
                            };
                            along_row(oa.add(c), row.add(c), len, put);
                            across_rows(ob.add(c), row.add(c), len, put, None);
                        }
                        // its rows are one call each, above
                        Structure::Fused => {}
                    }
                }
                c += len;
            }
        }
    }

    /// Prefetch `len` elements' lines from `at` into L2.
    #[inline(always)]
    fn burst(at: *const f64, len: usize) {
        for l in (0..len).step_by(8) {
            // SAFETY: prefetch reads nothing architecturally and never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(at.wrapping_add(l).cast()) };
        }
    }

    /// `(c*w0 + (x[+1] + x[-1])*w1) + (x[+2] + x[-2])*w2`, 8 lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn stencil(c: __m512d, p1: __m512d, m1: __m512d, p2: __m512d, m2: __m512d) -> __m512d {
        let (w0, w1, w2) = (
            _mm512_set1_pd(W[0]),
            _mm512_set1_pd(W[1]),
            _mm512_set1_pd(W[2]),
        );
        let s = _mm512_add_pd(
            _mm512_mul_pd(c, w0),
            _mm512_mul_pd(_mm512_add_pd(p1, m1), w1),
        );
        _mm512_add_pd(s, _mm512_mul_pd(_mm512_add_pd(p2, m2), w2))
    }

    /// Store 8 lanes at `at` (64-byte aligned unless `Put::Cached`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn put(at: *mut f64, v: __m512d, how: Put) {
        // SAFETY: the caller's `at` is 8 writable f64, aligned for the
        // streaming stores; `line` is 8 f64 on the stack.
        unsafe {
            match how {
                Put::Cached => _mm512_storeu_pd(at, v),
                Put::Stream => _mm512_stream_pd(at, v),
                Put::StreamViaStack => {
                    let mut line = [0.0f64; 8];
                    _mm512_storeu_pd(line.as_mut_ptr(), v);
                    // a real round trip through memory, not folded away
                    let back = _mm512_loadu_pd(std::hint::black_box(line.as_ptr()));
                    _mm512_stream_pd(at, back)
                }
            }
        }
    }

    /// The derivative along the row: `len` (a multiple of 8) outputs at `out`.
    #[target_feature(enable = "avx512f")]
    unsafe fn along_row(out: *mut f64, x: *const f64, len: usize, how: Put) {
        for j in (0..len).step_by(8) {
            // SAFETY: x-2..x+len+9 is inside the row (columns 6..N-6).
            unsafe {
                let p = x.add(j);
                let v = stencil(
                    _mm512_loadu_pd(p),
                    _mm512_loadu_pd(p.add(1)),
                    _mm512_loadu_pd(p.sub(1)),
                    _mm512_loadu_pd(p.add(2)),
                    _mm512_loadu_pd(p.sub(2)),
                );
                put(out.add(j), v, how);
            }
        }
    }

    /// The derivative across rows, prefetching one line of `lead` per 8
    /// elements if given.
    #[target_feature(enable = "avx512f")]
    unsafe fn across_rows(
        out: *mut f64,
        x: *const f64,
        len: usize,
        how: Put,
        lead: Option<*const f64>,
    ) {
        for j in (0..len).step_by(8) {
            if let Some(lead) = lead {
                // a hint: it never faults, whatever the address
                _mm_prefetch::<_MM_HINT_T1>(lead.wrapping_add(j).cast());
            }
            // SAFETY: rows r-2..r+2 are inside `f` (`derivatives`).
            unsafe {
                let p = x.add(j);
                let v = stencil(
                    _mm512_loadu_pd(p),
                    _mm512_loadu_pd(p.add(N)),
                    _mm512_loadu_pd(p.sub(N)),
                    _mm512_loadu_pd(p.add(2 * N)),
                    _mm512_loadu_pd(p.sub(2 * N)),
                );
                put(out.add(j), v, how);
            }
        }
    }

    /// Both derivatives of one row in one loop, non-temporal stores, one
    /// prefetch per line a tile ahead in the leading row.
    #[target_feature(enable = "avx512f")]
    unsafe fn fused(x: *const f64, oa: *mut f64, ob: *mut f64, c0: usize, c1: usize) {
        for j in (c0..c1).step_by(8) {
            // SAFETY: as in `along_row` and `across_rows`; the outputs'
            // columns 8..N-8 are 64-byte aligned.
            unsafe {
                _mm_prefetch::<_MM_HINT_T1>(x.wrapping_add(2 * N + j + TILE).cast());
                let p = x.add(j);
                let c = _mm512_loadu_pd(p);
                let along = stencil(
                    c,
                    _mm512_loadu_pd(p.add(1)),
                    _mm512_loadu_pd(p.sub(1)),
                    _mm512_loadu_pd(p.add(2)),
                    _mm512_loadu_pd(p.sub(2)),
                );
                _mm512_stream_pd(oa.add(j), along);
                let across = stencil(
                    c,
                    _mm512_loadu_pd(p.add(N)),
                    _mm512_loadu_pd(p.sub(N)),
                    _mm512_loadu_pd(p.add(2 * N)),
                    _mm512_loadu_pd(p.sub(2 * N)),
                );
                _mm512_stream_pd(ob.add(j), across);
            }
        }
    }

    /// `len` elements from L1 `src` to 64-byte aligned `dst`, non-temporal.
    #[target_feature(enable = "avx512f")]
    unsafe fn stream_copy(dst: *mut f64, src: *const f64, len: usize) {
        for j in (0..len).step_by(8) {
            // SAFETY: both hold `len` elements; `dst` is aligned.
            unsafe { _mm512_stream_pd(dst.add(j), _mm512_loadu_pd(src.add(j))) };
        }
    }
}
