//! Properties of `oxla::fd::derivative` that hold whatever its inputs:
//!
//! - exactness on polynomials: a derivative of order `m` and accuracy `p`
//!   is exact on polynomials of degree `m + p - 1`, to rounding: within
//!   `POLY_TOL * eps * (Σ_j |D_ij f_j| + the derivative's own terms)`
//!   on every row (one-sided), on every row whose stencil does not wrap
//!   (periodic), for every spacing kind. `D` itself is read off oxla by
//!   differentiating the identity matrix;
//! - a negated step negates odd derivatives and keeps even ones, exactly;
//! - f16 data is computed in f32 and rounded once;
//! - fused evaluation is the reference interpreter's, bit for bit, for
//!   every dtype, for the derivative, its JVP and its VJP;
//! - any set of derivatives of one array is one pass over it.
#![allow(clippy::unwrap_used)]

mod agreement;
mod fd_common;

use fd_common::{FdCase, Grid, Rng, config, coordinates, f64_tensor, fd_case, step};
use oxla::fd::{Boundary, Derivative, MAX_ACCURACY, MAX_COORD_ACCURACY, MAX_ORDER};
use oxla::{DType, Spacing, Tensor};
use proptest::prelude::*;

/// Bound of the polynomial test, in units of eps times the magnitude of the terms.
const POLY_TOL: f64 = 32.0;

/// A 1-d polynomial case.
#[derive(Clone, Debug)]
struct PolyCase {
    order: i64,
    accuracy: i64,
    periodic: bool,
    /// 0 a number, 1 a 0-d tensor step, 2 coordinates.
    kind: u8,
    extra: usize,
    seed: u64,
}

fn poly_case() -> impl Strategy<Value = PolyCase> {
    (
        1i64..=MAX_ORDER as i64,
        1i64..=(MAX_ACCURACY / 2) as i64,
        any::<bool>(),
        0u8..3,
        0usize..=8,
        any::<u64>(),
    )
        .prop_map(|(order, half, periodic, kind, extra, seed)| {
            let top = if kind == 2 {
                MAX_COORD_ACCURACY
            } else {
                MAX_ACCURACY
            } as i64;
            PolyCase {
                order,
                accuracy: (2 * half).min(top),
                periodic,
                kind,
                extra,
                seed,
            }
        })
}

/// `d^m/dx^m` of `Σ_j c_j t^j`, `t = (x - mid) / half`, and the sum of the
/// magnitudes of its terms.
fn poly_derivative(c: &[f64], m: usize, t: f64, half: f64) -> (f64, f64) {
    let mut value = 0.0;
    let mut size = 0.0;
    for (j, &cj) in c.iter().enumerate().skip(m) {
        let falling: f64 = ((j - m + 1)..=j).map(|k| k as f64).product();
        let term = cj * falling * t.powi((j - m) as i32) / half.powi(m as i32);
        value += term;
        size += term.abs();
    }
    (value, size)
}

/// The worst error of one polynomial case, in units of eps * magnitude.
fn poly_error(case: &PolyCase) -> f64 {
    let mut rng = Rng::new(case.seed);
    let probe = Derivative::new(0, case.order)
        .accuracy(case.accuracy)
        .spacing(if case.kind == 2 {
            Spacing::Array(f64_tensor(&[2], vec![0.0, 1.0]))
        } else {
            Spacing::Scalar(1.0)
        });
    let probe = if case.periodic {
        probe.periodic()
    } else {
        probe
    };
    let n = probe.min_len().unwrap() + case.extra;
    let (x, spacing) = match case.kind {
        0 | 1 => {
            let h = step(&mut rng);
            let x0 = rng.uniform(-1.0, 1.0);
            let x: Vec<f64> = (0..n).map(|i| x0 + h * i as f64).collect();
            let s = if case.kind == 0 {
                Spacing::Scalar(h)
            } else {
                Spacing::Array(Tensor::scalar(DType::F64, h))
            };
            (x, s)
        }
        _ => {
            let x = coordinates(&mut rng, n);
            let s = Spacing::Array(f64_tensor(&[n], x.clone()));
            (x, s)
        }
    };
    let boundary = match (case.periodic, case.kind) {
        (false, _) => Boundary::OneSided,
        // the period does not matter on rows that do not wrap
        (true, 2) => Boundary::periodic_with_period(2.0 * (x[n - 1] - x[0])),
        (true, _) => Boundary::periodic(),
    };
    let d = Derivative {
        spacing,
        boundary,
        ..probe
    };
    let degree = (case.order + case.accuracy - 1) as usize;
    let c: Vec<f64> = (0..=degree).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let (lo, hi) = (x[0].min(x[n - 1]), x[0].max(x[n - 1]));
    let (mid, half) = ((lo + hi) / 2.0, (hi - lo) / 2.0);
    let t: Vec<f64> = x.iter().map(|&xi| (xi - mid) / half).collect();
    let f: Vec<f64> = t
        .iter()
        .map(|&ti| poly_derivative(&c, 0, ti, 1.0).0)
        .collect();
    // D f, and D itself: column j of D is D applied to the unit vector e_j
    let identity: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    let outs = vec![
        oxla::fd::derivative(&f64_tensor(&[n], f.clone()), &d).unwrap(),
        oxla::fd::derivative(&f64_tensor(&[n, n], identity), &d).unwrap(),
    ];
    let v = oxla::eval(&outs).unwrap();
    let (got, matrix) = (
        v[0].as_array::<f64>().unwrap(),
        v[1].as_array::<f64>().unwrap(),
    );
    let mut worst: f64 = 0.0;
    for i in 0..n {
        // a periodic row whose stencil wraps sees the polynomial's jump
        if case.periodic && wraps_row(&d, n, i) {
            continue;
        }
        let (exact, size) = poly_derivative(&c, case.order as usize, t[i], half);
        let terms: f64 = (0..n).map(|j| (matrix[[i, j]] * f[j]).abs()).sum();
        let err = (got[[i]] - exact).abs() / (f64::EPSILON * (terms + size));
        worst = worst.max(err);
    }
    worst
}

/// True if row `i` of a periodic derivative on `n` points wraps around.
fn wraps_row(d: &Derivative, n: usize, i: usize) -> bool {
    // the periodic stencil is centered with `min_len / 2` points each side
    let s = d.min_len().unwrap() / 2;
    i < s || i + s >= n
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn polynomials_up_to_degree_order_plus_accuracy_minus_one_are_exact(case in poly_case()) {
        let worst = poly_error(&case);
        prop_assert!(worst <= POLY_TOL, "{:?}: {} eps * magnitude", case, worst);
    }

    #[test]
    fn fused_is_the_interpreter_bit_for_bit(
        case in fd_case(&[DType::F64, DType::F32, DType::F16, DType::C64, DType::C128])
    ) {
        let d = case.derivative();
        let f = case.data();
        let out = oxla::fd::derivative(&f, &d).unwrap();
        agreement::fused_agrees_with_reference(std::slice::from_ref(&out), &format!("{case:?}"));
        let like = [Tensor::parameter(&case.shape, case.dtype)];
        let transpose = oxla::linear_transpose(
            |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?]),
            &like,
        ).unwrap();
        let ct = transpose.call(std::slice::from_ref(&f)).unwrap();
        agreement::fused_agrees_with_reference(&ct, &format!("transpose of {case:?}"));
        let (_, tangent) = oxla::jvp(
            |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?]),
            std::slice::from_ref(&f),
            std::slice::from_ref(&f),
        ).unwrap();
        agreement::fused_agrees_with_reference(&tangent, &format!("jvp of {case:?}"));
    }

    #[test]
    fn a_negated_step_negates_odd_derivatives_exactly(case in fd_case(&[DType::F64])) {
        let Grid::Weak(h) = case.grid else { return Ok(()) };
        let f = case.data();
        let flipped = FdCase { grid: Grid::Weak(-h), ..case.clone() };
        let v = oxla::eval(&[
            oxla::fd::derivative(&f, &case.derivative()).unwrap(),
            oxla::fd::derivative(&f, &flipped.derivative()).unwrap(),
        ]).unwrap();
        let sign = if case.order % 2 == 0 { 1.0 } else { -1.0 };
        let (a, b) = (v[0].as_array::<f64>().unwrap(), v[1].as_array::<f64>().unwrap());
        for (x, y) in a.iter().zip(b) {
            prop_assert_eq!(x.to_bits(), (sign * y).to_bits(), "{:?}", case);
        }
    }

    #[test]
    fn f16_data_is_computed_in_f32_and_rounded_once(case in fd_case(&[DType::F16])) {
        let Grid::Weak(_) = case.grid else { return Ok(()) };
        if case.order == 1 && case.accuracy == 2 && !case.periodic {
            return Ok(()); // numpy.gradient, which computes f16 in f16 as NumPy does
        }
        let f = case.data();
        let d = case.derivative();
        let half = oxla::fd::derivative(&f, &d).unwrap();
        let single = oxla::fd::derivative(&f.convert(DType::F32).unwrap(), &d)
            .unwrap()
            .convert(DType::F16)
            .unwrap();
        let v = oxla::eval(&[half, single]).unwrap();
        prop_assert!(v[0].bit_eq(&v[1]), "{:?}", case);
    }
}

/// The worst polynomial error over a fixed sample, for the record:
/// `cargo test --test fd_properties -- --nocapture report`.
#[test]
fn polynomial_exactness_report() {
    let cases = fd_common::fixed_sample(&poly_case(), 200);
    let mut worst = [0.0f64; 3];
    for case in &cases {
        let e = poly_error(case);
        assert!(e <= POLY_TOL, "{case:?}: {e}");
        worst[case.kind as usize] = worst[case.kind as usize].max(e);
    }
    println!(
        "polynomial exactness over {} cases, worst |error| / (eps * magnitude): number step {:.2}, 0-d step {:.2}, coordinates {:.2}",
        cases.len(),
        worst[0],
        worst[1],
        worst[2]
    );
}

/// Derivatives along every axis, of several orders, evaluated together:
/// one kernel, one pass over `f`.
#[test]
fn derivatives_of_one_array_are_one_pass_over_it() {
    let mut rng = Rng::new(7);
    let (n0, n1) = (40, 36);
    let x = coordinates(&mut rng, n1);
    let f = Tensor::parameter(&[n0, n1], DType::F64);
    let ds = [
        Derivative::new(0, 2).accuracy(4).spacing(0.1),
        Derivative::new(1, 2).accuracy(4).spacing(0.1).periodic(),
        Derivative::new(0, 1).accuracy(8).spacing(0.1),
        Derivative::new(1, 3)
            .accuracy(2)
            .spacing(f64_tensor(&[n1], x.clone())),
    ];
    let outs = oxla::fd::derivatives(&f, &ds).unwrap();
    let exe = oxla::Executable::compile(&outs, std::slice::from_ref(&f)).unwrap();
    let s = exe.summary();
    assert_eq!(s.passes_over_arg(0), 1, "{s:?}");
}

/// The weights tables of docs/stencils.md are `uniform_weights`' values:
/// every row, parsed as fractions, rounded like the op rounds them.
#[test]
fn the_weights_table_of_docs_stencils_md() {
    let doc = include_str!("../docs/stencils.md");
    let mut rows = 0;
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | order | accuracy | points | weights |
        let [_, m, p, k, weights, _] = cells[..] else {
            continue;
        };
        let (Ok(m), Ok(_p), Ok(k)) = (m.parse::<usize>(), p.parse::<usize>(), k.parse::<isize>())
        else {
            continue;
        };
        let fractions: Vec<f64> = weights
            .split(", ")
            .map(|w| match w.split_once('/') {
                Some((a, b)) => a.parse::<f64>().unwrap() / b.parse::<f64>().unwrap(),
                None => w.parse().unwrap(),
            })
            .collect();
        assert_eq!(fractions.len() as isize, k, "{line}");
        // centered rows are symmetric in length about 0; forward rows start at 0
        let centered = doc[..doc.find(line).unwrap()].contains("| weights of `f[i-s]`")
            && !doc[..doc.find(line).unwrap()].contains("| weights of `f[i]`");
        let offsets: Vec<isize> = if centered {
            (-(k / 2)..=k / 2).collect()
        } else {
            (0..k).collect()
        };
        assert_eq!(
            oxla::fd::uniform_weights(m, &offsets).unwrap(),
            fractions,
            "{line}"
        );
        rows += 1;
    }
    assert_eq!(rows, 16 + 8);
}
