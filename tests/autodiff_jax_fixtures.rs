//! oxla's VJP of `numpy.gradient` against committed fixtures
//! (`tests/jax/fixtures/vjp_gradient.json`, written by
//! `tests/jax/gen_vjp_fixtures.py`; Python is never needed here):
//!
//! - edge order 1: `jax.vjp` of `jax.numpy.gradient`, with respect to `f`
//!   and, in the `wrt_spacing` cases, to the 0-d steps and 1-d coordinates
//!   (traced in oxla too, so the general coordinate formula applies);
//! - edge order 2 (and some edge order 1 cross-checks): `J^T v` from the
//!   explicit Jacobian of `numpy.gradient`, built column by column.
//!
//! - complex128 `f` (a few cases of each): cotangents are complex and the
//!   pairing is bilinear (no conjugation); real coordinates get real cotangents.
//!
//! oxla's results come from `oxla::vjp` + `Pullback::call`, then `oxla::eval`.
//! JAX computes `(f[i+1] - f[i-1]) * 0.5 / h` where NumPy (and oxla) compute
//! `/ (2 * h)`, and `J^T v` is a matrix product summed in another order, so
//! results agree to rounding, not bit for bit: each element must be within
//! `REL` of the expected value, or within `ABS` times the largest expected
//! magnitude of its array (for elements that are small by cancellation).
#![allow(clippy::unwrap_used)]

mod autodiff_common;
mod common;

use approx::relative_eq;
use common::axes;
use oxla::{ArrayValue, Spacing, Tensor};
use oxla_ir::num_complex::Complex64;
use serde_json::Value;

const FIXTURES: &str = include_str!("jax/fixtures/vjp_gradient.json");

/// Elementwise relative tolerance.
const REL: f64 = 1e-12;
/// Absolute tolerance, as a fraction of the array's largest expected magnitude.
const ABS: f64 = 1e-14;

/// A decoded array (float64 or complex128).
struct Array(ArrayValue);

impl Array {
    fn tensor(&self) -> Tensor {
        Tensor::literal(self.0.clone())
    }
}

fn array(v: &Value) -> Array {
    let shape = common::shape(v);
    let bytes = common::hex_bytes(v["hex"].as_str().unwrap());
    let data: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let value = match v["dtype"].as_str().unwrap() {
        "float64" => ArrayValue::from(autodiff_common::array(&shape, data)),
        "complex128" => {
            let z = data
                .chunks_exact(2)
                .map(|p| Complex64::new(p[0], p[1]))
                .collect();
            ArrayValue::from(autodiff_common::array(&shape, z))
        }
        other => panic!("unexpected dtype {other}"),
    };
    Array(value)
}

/// One spacing entry of a case.
enum Entry {
    Float(f64),
    Step(Array),
    Coords(Array),
}

fn entry(v: &Value) -> Entry {
    if let Some(bits) = v.get("float") {
        Entry::Float(common::float_bits(bits.as_str().unwrap()))
    } else if let Some(a) = v.get("step") {
        Entry::Step(array(a))
    } else {
        Entry::Coords(array(&v["coords"]))
    }
}

/// The largest error of one compared array: elementwise relative, and
/// relative to the array's largest magnitude.
#[derive(Default, Clone, Copy)]
struct Errors {
    rel: f64,
    scaled: f64,
}

impl Errors {
    fn max(self, o: Errors) -> Errors {
        Errors {
            rel: self.rel.max(o.rel),
            scaled: self.scaled.max(o.scaled),
        }
    }
}

/// Compare real and imaginary parts separately (a real value has zero
/// imaginary parts on both sides).
fn compare(name: &str, what: &str, got: &ArrayValue, want: &Array) -> Errors {
    let want = &want.0;
    assert_eq!(got.shape(), want.shape(), "{name}: {what} shape");
    assert_eq!(got.dtype(), want.dtype(), "{name}: {what} dtype");
    let (got, want) = (got.to_c128_vec(), want.to_c128_vec());
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.norm()));
    let mut e = Errors::default();
    let parts = |z: &Complex64| [z.re, z.im];
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        for (g, w) in parts(g).into_iter().zip(parts(w)) {
            assert!(
                relative_eq!(g, w, epsilon = ABS * scale, max_relative = REL),
                "{name}: {what}[{i}] = {g:e}, expected {w:e} (scale {scale:e})"
            );
            let d = (g - w).abs();
            if d > 0.0 {
                e.rel = e.rel.max(d / w.abs());
                e.scaled = e.scaled.max(d / scale);
            }
        }
    }
    e
}

/// Run one case; returns the errors in `f` and in the spacing.
fn run_case(case: &Value) -> (Errors, Errors) {
    let name = case["name"].as_str().unwrap();
    let f = array(&case["f"]);
    let entries: Vec<Entry> = case["spacing"]
        .as_array()
        .unwrap()
        .iter()
        .map(entry)
        .collect();
    let wrt_spacing = case["wrt_spacing"].as_bool().unwrap();
    let axis = axes(&case["axis"]);
    let edge_order = case["edge_order"].as_i64().unwrap();

    // Primals: f, then (when differentiated) every array spacing argument.
    let mut primals = vec![f.tensor()];
    let mut traced = Vec::new(); // entry index of each extra primal
    for (i, e) in entries.iter().enumerate() {
        if let (true, Entry::Step(a) | Entry::Coords(a)) = (wrt_spacing, e) {
            primals.push(a.tensor());
            traced.push(i);
        }
    }
    let (outputs, pullback) = oxla::vjp(
        |xs: &[Tensor]| {
            let spacing: Vec<Spacing> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| match (e, traced.iter().position(|&t| t == i)) {
                    (Entry::Float(h), _) => Spacing::Scalar(*h),
                    (_, Some(k)) => Spacing::Array(xs[1 + k].clone()),
                    (Entry::Step(a) | Entry::Coords(a), None) => Spacing::Array(a.tensor()),
                })
                .collect();
            oxla::numpy::gradient(&xs[0], &spacing, axis.clone(), edge_order)
        },
        &primals,
    )
    .unwrap_or_else(|e: oxla::Error| panic!("{name}: {e}"));
    let cts: Vec<Tensor> = case["cotangents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| array(c).tensor())
        .collect();
    assert_eq!(outputs.len(), cts.len(), "{name}: one cotangent per output");
    let grads = oxla::eval(&pullback.call(&cts).unwrap()).unwrap();
    assert_eq!(grads.len(), primals.len());

    let e_f = compare(name, "ct_f", &grads[0], &array(&case["ct_f"]));
    let mut e_s = Errors::default();
    let expected_spacing = case["ct_spacing"].as_array().unwrap();
    assert_eq!(expected_spacing.len(), entries.len());
    for (i, want) in expected_spacing.iter().enumerate() {
        match traced.iter().position(|&t| t == i) {
            Some(k) => {
                let what = format!("ct_spacing[{i}]");
                e_s = e_s.max(compare(name, &what, &grads[1 + k], &array(want)));
            }
            None => assert!(want.is_null(), "{name}: spacing {i} not differentiated"),
        }
    }
    (e_f, e_s)
}

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(FIXTURES).unwrap();
    assert_eq!(doc["format"], 1);
    doc["cases"].as_array().unwrap().clone()
}

#[test]
fn fixtures_cover_the_intended_domain() {
    let cases = cases();
    let count = |pred: &dyn Fn(&Value) -> bool| cases.iter().filter(|c| pred(c)).count();
    assert!(count(&|c| c["source"] == "jax.vjp" && c["wrt_spacing"] == true) >= 10);
    assert!(count(&|c| c["source"] == "numpy.jacobian" && c["edge_order"] == 2) >= 15);
    assert!(count(&|c| c["f"]["dtype"] == "complex128") >= 4);
    for nd in 1..=3 {
        assert!(count(&|c| c["f"]["shape"].as_array().unwrap().len() == nd) > 0);
    }
}

#[test]
fn vjp_matches_jax_and_numpy_jacobians() {
    let mut worst: Vec<(String, Errors)> = Vec::new();
    let mut record = |key: String, e: Errors| match worst.iter_mut().find(|w| w.0 == key) {
        Some(w) => w.1 = w.1.max(e),
        None => worst.push((key, e)),
    };
    let cases = cases();
    for case in &cases {
        let (e_f, e_s) = run_case(case);
        let source = case["source"].as_str().unwrap();
        let eo = case["edge_order"].as_i64().unwrap();
        let kind = if case["f"]["dtype"] == "complex128" {
            " complex"
        } else {
            ""
        };
        record(format!("{source} eo{eo}{kind} wrt f"), e_f);
        if case["wrt_spacing"] == true {
            record(format!("{source} eo{eo}{kind} wrt spacing"), e_s);
        }
    }
    for (key, e) in &worst {
        println!(
            "{key:>32}: max elementwise rel err {:.3e}, max err / max|expected| {:.3e}",
            e.rel, e.scaled
        );
    }
    let all = worst.iter().fold(Errors::default(), |a, w| a.max(w.1));
    println!(
        "max JAX/NumPy-Jacobian fixture error over {} cases: elementwise rel {:.3e}, scaled {:.3e}",
        cases.len(),
        all.rel,
        all.scaled
    );
}
