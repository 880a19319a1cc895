#![allow(clippy::unwrap_used)]
//! `oxla::fd` against findiff 0.16 and against the exact operator.
//!
//! Every case of `tests/findiff/fixtures/findiff.json` (written by
//! `tests/findiff/gen_fixtures.py`; see it for what `findiff`, `exact` and
//! `scale` hold) is rebuilt as an `oxla::fd::derivative` call and
//! evaluated fused and with the reference interpreter (bit for bit the
//! same). Errors are measured element by element in units of
//! `eps * scale`, `scale = Σ_k |w_k f[i + o_k]|` (exact weights): the size
//! of the terms a weighted sum rounds.
//!
//! - against `exact` (the same stencil in rational arithmetic, rounded
//!   once): at most [`TOL_STEP`] on uniform axes, [`TOL_COORDS`] on
//!   coordinate axes (whose weights oxla computes in f64);
//! - against findiff: within rounding plus findiff's own error, which is
//!   large where its weights are (they come from `numpy.linalg.solve` on
//!   a Vandermonde matrix: up to 1e15 eps * scale for one-sided stencils
//!   of accuracy 12, i.e. no correct digit). The per-class table
//!   (`cargo test --test fd_findiff -- --nocapture`) prints all three.
//! - order 1, accuracy 2, one-sided: `numpy.gradient(edge_order=2)`, bit for bit.

mod common;

use std::collections::BTreeMap;

use common::{float_bits, hex_bytes, shape};
use oxla::fd::{Boundary, Derivative};
use oxla::{ArrayValue, Spacing, Tensor};
use serde_json::Value;

const FIXTURES: &str = include_str!("findiff/fixtures/findiff.json");

/// Worst error against the exact operator on uniform axes, in eps * scale.
const TOL_STEP: f64 = 4.0;
/// Worst error against the exact operator on coordinate axes, in eps * scale.
const TOL_COORDS: f64 = 64.0;

fn array(arrays: &[Value], v: &Value) -> ndarray::ArrayD<f64> {
    let a = &arrays[v.as_u64().unwrap() as usize];
    let data: Vec<f64> = hex_bytes(a["hex"].as_str().unwrap())
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape(a)), data).unwrap()
}

/// The worst errors of one class of cases, in eps * scale.
#[derive(Default, Clone, Copy)]
struct Worst {
    cases: usize,
    vs_exact: f64,
    vs_findiff: f64,
    findiff_vs_exact: f64,
}

#[test]
fn oxla_fd_matches_findiff_and_the_exact_operator() {
    let root: Value = serde_json::from_str(FIXTURES).unwrap();
    let arrays = root["arrays"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut classes: BTreeMap<String, Worst> = BTreeMap::new();
    let mut numpy_identical = 0;
    for case in root["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let f = array(arrays, &case["f"]);
        let (spacing, coords) = match &case["coords"] {
            Value::Null => (
                Spacing::Scalar(float_bits(case["step"].as_str().unwrap())),
                false,
            ),
            x => (
                Spacing::Array(Tensor::from_host(array(arrays, x)).unwrap()),
                true,
            ),
        };
        let boundary = match case["boundary"].as_str().unwrap() {
            "periodic" => Boundary::Periodic {
                period: case["period"].as_str().map(float_bits),
            },
            _ => Boundary::OneSided,
        };
        let d = Derivative {
            axis: case["axis"].as_i64().unwrap(),
            order: case["order"].as_i64().unwrap(),
            accuracy: case["accuracy"].as_i64().unwrap(),
            spacing,
            boundary,
        };
        let out = oxla::fd::derivative(&Tensor::from_host(f).unwrap(), &d).unwrap();
        let fused = oxla::eval(std::slice::from_ref(&out)).unwrap().remove(0);
        let reference = oxla::eval_reference(&[out]).unwrap().remove(0);
        if !fused.bit_eq(&reference) {
            failures.push(format!("{name}: fused and interpreted results differ"));
        }
        let got = fused.as_array::<f64>().unwrap();
        let (exact, findiff, scale) = (
            array(arrays, &case["exact"]),
            array(arrays, &case["findiff"]),
            array(arrays, &case["scale"]),
        );
        let unit = |d: f64, s: f64| d / (f64::EPSILON * s);
        let mut w = Worst {
            cases: 1,
            ..Worst::default()
        };
        let tol = if coords { TOL_COORDS } else { TOL_STEP };
        for (((&g, &e), &fi), &s) in got.iter().zip(&exact).zip(&findiff).zip(&scale) {
            let (ve, vf, fe) = (
                unit(g - e, s).abs(),
                unit(g - fi, s).abs(),
                unit(fi - e, s).abs(),
            );
            w.vs_exact = w.vs_exact.max(ve);
            w.vs_findiff = w.vs_findiff.max(vf);
            w.findiff_vs_exact = w.findiff_vs_exact.max(fe);
            if ve > tol || vf > tol + fe {
                failures.push(format!(
                    "{name}: oxla {g:e}, exact {e:e} ({ve:.1} eps*scale), findiff {fi:e} ({vf:.1})"
                ));
                break;
            }
        }
        if let Some(n) = case["numpy"].as_u64() {
            let numpy = ArrayValue::from(array(arrays, &Value::from(n)));
            if fused.bit_eq(&numpy) {
                numpy_identical += 1;
            } else {
                failures.push(format!(
                    "{name}: not numpy.gradient(edge_order=2) bit for bit"
                ));
            }
        }
        let class = format!(
            "{} {:<9} accuracy {:>2}",
            if coords { "coords" } else { "step  " },
            case["boundary"].as_str().unwrap(),
            case["accuracy"].as_i64().unwrap()
        );
        let e = classes.entry(class).or_default();
        *e = Worst {
            cases: e.cases + 1,
            vs_exact: e.vs_exact.max(w.vs_exact),
            vs_findiff: e.vs_findiff.max(w.vs_findiff),
            findiff_vs_exact: e.findiff_vs_exact.max(w.findiff_vs_exact),
        };
    }
    println!("worst |error| / (eps * scale) per class:");
    println!(
        "{:<32} {:>5} {:>12} {:>12} {:>16}",
        "class", "cases", "oxla-exact", "oxla-findiff", "findiff-exact"
    );
    for (class, w) in &classes {
        println!(
            "{class:<32} {:>5} {:>12.3} {:>12.3e} {:>16.3e}",
            w.cases, w.vs_exact, w.vs_findiff, w.findiff_vs_exact
        );
    }
    println!(
        "{numpy_identical} order-1 accuracy-2 one-sided cases bit-identical to numpy.gradient"
    );
    assert!(numpy_identical > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
