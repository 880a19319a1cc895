//! The speed figure of `oxla::fd` (docs/PERFORMANCE.md, "Finite differences"):
//! a 4th-order-accurate second derivative along each axis of a 4096 x 4096
//! float64 array, both outputs in one jit call (one fused pass over `f`),
//! against the honest floor: the time to move the same bytes (`f` read once,
//! both outputs written once) with a plain copy on as many threads as the op
//! uses, each copying one contiguous part, buffers touched beforehand.
//!
//! ```sh
//! cargo run --release --example fd_speed                      # the case, a table line
//! cargo run --release --example fd_speed -- --json --input f.npy --runs 40
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
    /// `fd` (the case) or `gradient` (`numpy.gradient` over both axes, the
    /// same traffic, for comparison in the same harness).
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

/// One copy of `src` into `dst` on `threads` threads, one contiguous part each.
fn copy(src: &[u8], dst: &mut [u8], threads: usize) {
    let part = src.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(part).zip(src.chunks(part)) {
            s.spawn(move || d.copy_from_slice(std::hint::black_box(c)));
        }
    });
    std::hint::black_box(dst);
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
    let threads = oxla::threads();
    let elements = f.numel();
    let traffic = elements * 8 * 3; // f read once, two outputs written once
    let src = vec![1u8; traffic / 2];
    let mut dst = vec![2u8; traffic / 2]; // touched: written before the first copy
    // warm-up: compile, fill the buffer pool, fault the copy buffers in
    std::hint::black_box(jitted.call(std::slice::from_ref(&f))?);
    copy(&src, &mut dst, threads);
    let (mut op, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..o.runs {
        let t = Instant::now();
        std::hint::black_box(jitted.call(std::slice::from_ref(&f))?);
        op.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        copy(&src, &mut dst, threads);
        floor.push(t.elapsed().as_secs_f64());
    }
    let (op_s, floor_s) = (median(op.clone()), median(floor.clone()));
    if o.json {
        let list = |v: &[f64]| {
            v.iter()
                .map(|t| format!("{t:.6e}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{{\"case\":\"{}-f64-{}\",\"shape\":{:?},\"threads\":{threads},\"traffic_bytes\":{traffic},\"median_s\":{op_s:.6e},\"floor_s\":{floor_s:.6e},\"ratio_to_floor\":{:.4},\"runs\":{},\"op_s\":[{}],\"floor_runs_s\":[{}]}}",
            if gradient {
                "gradient-all"
            } else {
                "fd-d2-acc4-each-axis"
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
            "{}, {:?} f64, {threads} threads: {:.2} ms; floor (copy of {} MB on {threads} threads) {:.2} ms; ratio {:.3}; {} runs",
            if gradient {
                "numpy.gradient over both axes"
            } else {
                "d2/dx0^2 and d2/dx1^2, accuracy 4"
            },
            f.shape(),
            op_s * 1e3,
            traffic / 2 / 1_000_000,
            floor_s * 1e3,
            op_s / floor_s,
            o.runs
        );
    }
    Ok(())
}
