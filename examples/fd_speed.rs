//! The speed figure of `oxla::fd` (docs/PERFORMANCE.md, "Finite differences"):
//! a 4th-order-accurate second derivative along each axis of a 4096 x 4096
//! float64 array, both outputs in one jit call (one fused pass over `f`),
//! against the honest floor: the time to move the same bytes (`f` read once,
//! both outputs written once) with a copy on as many threads as the op
//! uses, each copying one contiguous part, buffers touched beforehand; the
//! faster of `memcpy` and a non-temporal copy ([`oxla::copy_streaming`]).
//!
//! ```sh
//! cargo run --release --example fd_speed                      # the case, a table line
//! cargo run --release --example fd_speed -- --json --input f.npy --runs 40
//! cargo run --release --example fd_speed -- --op gradient   # numpy.gradient, same traffic
//! cargo run --release --example fd_speed -- --op loop       # plain loops, same arithmetic
//! ```
//!
//! Rounds alternate the op and the floor, so both see the same machine
//! state; each reports its median over the rounds and the ratio is of the
//! medians. `--input` takes the array from a `.npy` file (what
//! `benches/fd_peers.py` gives findiff too); without it the array is a
//! deterministic smooth field.

use std::time::Instant;

use oxla::fd::Derivative;
use oxla::{Error, Tensor};

/// Command-line options.
struct Options {
    input: Option<String>,
    n: usize,
    runs: usize,
    json: bool,
    /// `fd` (the case), `gradient` (`numpy.gradient` over both axes, the
    /// same traffic, for comparison in the same harness) or `loop` (the
    /// case's interior arithmetic as one plain Rust loop per row, the same
    /// operations in the same order: what one fused instruction per
    /// derivative could reach; see [`plain_loop`]).
    op: String,
}

fn options() -> Options {
    let mut o = Options {
        input: None,
        n: 4096,
        runs: 30,
        json: false,
        op: "fd".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--input" => o.input = Some(value()),
            "--n" => o.n = value().parse().unwrap_or(o.n),
            "--runs" => o.runs = value().parse().unwrap_or(o.runs),
            "--op" => o.op = value(),
            "--json" => {
                o.json = true;
                i -= 1;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    o
}

/// The input array: from a file, or `sin(i/500) cos(j/700)` plus a little roughness.
fn input(o: &Options) -> Result<Tensor, Error> {
    if let Some(path) = &o.input {
        let (_, host) = oxla_npy::read_file(std::path::Path::new(path)).expect("a readable .npy");
        return Ok(Tensor::literal(host.into_value()?));
    }
    let n = o.n;
    let f = ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
        (i as f64 / 500.0).sin() * (j as f64 / 700.0).cos()
            + ((i * 31 + j * 17) % 101) as f64 * 1e-9
    });
    Ok(Tensor::from_host(f.into_dyn())?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One copy of `src` into `dst` on `threads` threads, one contiguous part
/// each, by `memcpy` or (`streaming`) by [`oxla::copy_streaming`]; the
/// floor is the faster (see `oxla bench`'s floor: on a VM that reports a
/// huge L3, glibc's `memcpy` of 100 MB reads every line it writes).
fn copy(src: &[u8], dst: &mut [u8], threads: usize, streaming: bool) {
    let part = src.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(part).zip(src.chunks(part)) {
            s.spawn(move || {
                if streaming {
                    oxla::copy_streaming(d, std::hint::black_box(c));
                } else {
                    d.copy_from_slice(std::hint::black_box(c));
                }
            });
        }
    });
    std::hint::black_box(dst);
}

/// The two derivatives' interior (rows and columns 2..n-2) as plain loops,
/// on `threads` threads splitting the rows: each element is `(f0*w0 +
/// (f[+1] + f[-1])*w1) + (f[+2] + f[-2])*w2`, exactly the operations of
/// oxla's lowering in its order (so the results are its bits), with the
/// taps read and the sum kept in registers: what a fused "weighted
/// stencil" instruction would do. The edges (a negligible share) are left
/// out.
fn plain_loop(f: &[f64], n: usize, w: [f64; 3], out: &mut [Vec<f64>; 2], threads: usize) {
    let [d0, d1] = out;
    let rows = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (part, (a, b)) in d0
            .chunks_mut(rows * n)
            .zip(d1.chunks_mut(rows * n))
            .enumerate()
        {
            s.spawn(move || {
                for (r, (a, b)) in a.chunks_mut(n).zip(b.chunks_mut(n)).enumerate() {
                    let i = part * rows + r;
                    if i < 2 || i + 2 >= n {
                        continue;
                    }
                    let row = |k: isize| &f[(i as isize + k) as usize * n..][..n];
                    let (m2, m1, c, p1, p2) = (row(-2), row(-1), row(0), row(1), row(2));
                    // zipped slices: no bounds checks, so the loops vectorize
                    let taps0 = m2[2..n - 2].iter().zip(&m1[2..n - 2]).zip(&c[2..n - 2]);
                    let taps0 = taps0.zip(&p1[2..n - 2]).zip(&p2[2..n - 2]);
                    for (a, ((((m2, m1), c), p1), p2)) in inner_mut(a).iter_mut().zip(taps0) {
                        *a = (c * w[0] + (p1 + m1) * w[1]) + (p2 + m2) * w[2];
                    }
                    let taps1 = c[..n - 4].iter().zip(&c[1..n - 3]).zip(&c[2..n - 2]);
                    let taps1 = taps1.zip(&c[3..n - 1]).zip(&c[4..]);
                    for (b, ((((m2, m1), c), p1), p2)) in inner_mut(b).iter_mut().zip(taps1) {
                        *b = (c * w[0] + (p1 + m1) * w[1]) + (p2 + m2) * w[2];
                    }
                }
            });
        }
    });
}

/// Columns 2..n-2 of a row.
fn inner_mut(t: &mut [f64]) -> &mut [f64] {
    let n = t.len();
    &mut t[2..n - 2]
}

/// [`plain_loop`] ready to run on `f`, its interior checked once against
/// oxla's bits.
fn prepared_loop(f: &Tensor, h: f64) -> Result<impl FnMut(), Error> {
    let n = f.shape()[0];
    let value = oxla::eval(std::slice::from_ref(f))?.remove(0);
    let data: Vec<f64> = value.as_array::<f64>()?.iter().copied().collect();
    let hm = h * h;
    let w = [-2.5 / hm, (4.0 / 3.0) / hm, (-1.0 / 12.0) / hm];
    let mut out = [vec![0.0; n * n], vec![0.0; n * n]];
    let threads = oxla::threads();
    plain_loop(&data, n, w, &mut out, threads);
    let reference = oxla::eval(&oxla::fd::derivatives(
        f,
        &[
            Derivative::new(0, 2).accuracy(4).spacing(h),
            Derivative::new(1, 2).accuracy(4).spacing(h),
        ],
    )?)?;
    for (mine, theirs) in out.iter().zip(&reference) {
        let theirs = theirs.as_array::<f64>()?;
        for i in 2..n - 2 {
            for j in 2..n - 2 {
                assert_eq!(
                    mine[i * n + j].to_bits(),
                    theirs[[i, j]].to_bits(),
                    "({i}, {j})"
                );
            }
        }
    }
    Ok(move || {
        plain_loop(&data, n, w, &mut out, threads);
        std::hint::black_box(&mut out);
    })
}

fn main() -> Result<(), Error> {
    let o = options();
    let f = input(&o)?;
    let h = 1.0 / f.shape()[0] as f64;
    let gradient = o.op == "gradient";
    let both = move |xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
        if gradient {
            return oxla::numpy::gradient(&xs[0], &[h.into()], oxla::Axes::All, 1);
        }
        oxla::fd::derivatives(
            &xs[0],
            &[
                Derivative::new(0, 2).accuracy(4).spacing(h),
                Derivative::new(1, 2).accuracy(4).spacing(h),
            ],
        )
    };
    let jitted = oxla::jit(both);
    let mut handwritten = if o.op == "loop" {
        Some(prepared_loop(&f, h)?)
    } else {
        None
    };
    let mut run = || -> Result<(), Error> {
        match handwritten.as_mut() {
            Some(run_loop) => run_loop(),
            None => {
                std::hint::black_box(jitted.call(std::slice::from_ref(&f))?);
            }
        }
        Ok(())
    };
    let threads = oxla::threads();
    let elements = f.numel();
    let traffic = elements * 8 * 3; // f read once, two outputs written once
    let src = vec![1u8; traffic / 2];
    let mut dst = vec![2u8; traffic / 2]; // touched: written before the first copy
    // warm-up: compile, fill the buffer pool, fault the copy buffers in
    run()?;
    copy(&src, &mut dst, threads, false);
    let (mut op, mut memcpy, mut streaming) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.runs {
        let t = Instant::now();
        run()?;
        op.push(t.elapsed().as_secs_f64());
        for (times, streamed) in [(&mut memcpy, false), (&mut streaming, true)] {
            let t = Instant::now();
            copy(&src, &mut dst, threads, streamed);
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let (memcpy_s, streaming_s) = (median(memcpy.clone()), median(streaming.clone()));
    let (floor, floor_s) = if streaming_s < memcpy_s {
        (streaming, streaming_s)
    } else {
        (memcpy, memcpy_s)
    };
    let op_s = median(op.clone());
    if o.json {
        let list = |v: &[f64]| {
            v.iter()
                .map(|t| format!("{t:.6e}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{{\"case\":\"{}-f64-{}\",\"shape\":{:?},\"threads\":{threads},\"traffic_bytes\":{traffic},\"median_s\":{op_s:.6e},\"floor_s\":{floor_s:.6e},\"floor_memcpy_s\":{memcpy_s:.6e},\"floor_streaming_s\":{streaming_s:.6e},\"ratio_to_floor\":{:.4},\"runs\":{},\"op_s\":[{}],\"floor_runs_s\":[{}]}}",
            match o.op.as_str() {
                "gradient" => "gradient-all",
                "loop" => "plain-loop-d2-acc4-each-axis-interior",
                _ => "fd-d2-acc4-each-axis",
            },
            f.shape()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x"),
            f.shape(),
            op_s / floor_s,
            o.runs,
            list(&op),
            list(&floor)
        );
    } else {
        println!(
            "{}, {:?} f64, {threads} threads: {:.2} ms; floor (copy of {} MB on {threads} threads) {:.2} ms (memcpy {:.2}, streaming {:.2}); ratio {:.3}; {} runs",
            match o.op.as_str() {
                "gradient" => "numpy.gradient over both axes",
                "loop" => "plain loops, d2/dx0^2 and d2/dx1^2 interior",
                _ => "d2/dx0^2 and d2/dx1^2, accuracy 4",
            },
            f.shape(),
            op_s * 1e3,
            traffic / 2 / 1_000_000,
            floor_s * 1e3,
            memcpy_s * 1e3,
            streaming_s * 1e3,
            op_s / floor_s,
            o.runs
        );
    }
    Ok(())
}
