#![allow(clippy::unwrap_used)]
//! NumPy conformance of `oxla::numpy::gradient`.
//!
//! Every case of the fixtures in `tests/numpy/fixtures/` (written by
//! `tests/numpy/gen_fixtures.py` from NumPy itself) is rebuilt as an oxla
//! call, evaluated, and compared with NumPy's result: same number of outputs,
//! same dtype, same shape and the same bits, element by element (`-0.0` and
//! `0.0` differ; NaNs must match bit for bit too, except that a NaN whose
//! payload differs from NumPy's is accepted and counted). Expected errors
//! must be the matching `GradientError` variant, with NumPy's wording in the
//! message.
//!
//! Each suite is one test that runs every case and reports every mismatch at
//! once, then prints a summary line (run with `--nocapture` to see it).
//!
//! Every dtype (f16, f32, f64, c64, c128) is compared bit for bit. Two
//! deviations are known and handled narrowly:
//!
//! - NaN payloads. NumPy's complex multiply computes `ar*br - ai*bi` with a
//!   fused multiply-subtract, which passes the NaN of `0*inf` through with its
//!   sign; oxla's `fma(ar, br, -(ai*bi))` negates that NaN first, so the
//!   result is the same NaN with the sign bit flipped (and Rust does not
//!   promise NaN bits anyway). NaN-vs-NaN is therefore accepted and counted.
//! - Cases marked `known_deviation` in the fixtures get `tolerance_ulps` per
//!   component, for that case only: complex64 data with a 0-d int8/int16 step,
//!   which NumPy keeps an integer (its edges divide in complex64) while
//!   `Tensor::from_host` turns every integer array into float64 (so oxla
//!   divides in complex128 and rounds once).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{axes, variant};
use ndarray::{ArrayD, IxDyn};
use num_complex::{Complex32, Complex64};
use oxla::{ArrayElement, ArrayValue, DType, HostArray, Spacing};
use oxla::{Tensor, numpy};
use oxla_ir::half::f16;
use serde_json::Value;

const NUMPY_TESTGRADIENT: &str = include_str!("numpy/fixtures/numpy_testgradient.json");
const JAX_TESTGRADIENT: &str = include_str!("numpy/fixtures/jax_testgradient.json");
const RANDOM: &str = include_str!("numpy/fixtures/random.json");
const EXTREMES: &str = include_str!("numpy/fixtures/extremes.json");

// ---- decoding ---------------------------------------------------------------

fn typed<T, const N: usize>(
    bytes: &[u8],
    shape: &[usize],
    from_le: impl Fn([u8; N]) -> T,
) -> ArrayD<T> {
    assert_eq!(bytes.len() % N, 0, "data length is not a multiple of {N}");
    let v: Vec<T> = bytes
        .chunks_exact(N)
        .map(|c| from_le(c.try_into().unwrap()))
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

fn c64_le(b: [u8; 8]) -> Complex32 {
    Complex32::new(
        f32::from_le_bytes(b[..4].try_into().unwrap()),
        f32::from_le_bytes(b[4..].try_into().unwrap()),
    )
}

fn c128_le(b: [u8; 16]) -> Complex64 {
    Complex64::new(
        f64::from_le_bytes(b[..8].try_into().unwrap()),
        f64::from_le_bytes(b[8..].try_into().unwrap()),
    )
}

/// A fixture array as the NumPy array it was (integers stay integers).
fn host_array(a: &Value) -> HostArray {
    let dtype = a["dtype"].as_str().unwrap();
    let shape = common::shape(a);
    let b = common::hex_bytes(a["hex"].as_str().unwrap());
    let s = &shape[..];
    match dtype {
        "int8" => typed(&b, s, i8::from_le_bytes).into(),
        "int16" => typed(&b, s, i16::from_le_bytes).into(),
        "int32" => typed(&b, s, i32::from_le_bytes).into(),
        "int64" => typed(&b, s, i64::from_le_bytes).into(),
        "uint8" => typed(&b, s, u8::from_le_bytes).into(),
        "uint16" => typed(&b, s, u16::from_le_bytes).into(),
        "uint32" => typed(&b, s, u32::from_le_bytes).into(),
        "uint64" => typed(&b, s, u64::from_le_bytes).into(),
        "float16" => typed(&b, s, |c: [u8; 2]| f16::from_bits(u16::from_le_bytes(c))).into(),
        "float32" => typed(&b, s, f32::from_le_bytes).into(),
        "float64" => typed(&b, s, f64::from_le_bytes).into(),
        "complex64" => typed(&b, s, c64_le).into(),
        "complex128" => typed(&b, s, c128_le).into(),
        other => panic!("unsupported fixture dtype {other}"),
    }
}

struct Fixture {
    suite: String,
    arrays: Vec<Value>,
    cases: Vec<Value>,
}

fn load(text: &str) -> Fixture {
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["format"], 1);
    assert!(
        v["numpy_version"]
            .as_str()
            .is_some_and(|s| s.starts_with("2.")),
        "fixtures must come from NumPy 2.x"
    );
    Fixture {
        suite: v["suite"].as_str().unwrap().to_owned(),
        arrays: v["arrays"].as_array().unwrap().clone(),
        cases: v["cases"].as_array().unwrap().clone(),
    }
}

impl Fixture {
    fn array(&self, index: &Value) -> &Value {
        &self.arrays[index.as_u64().unwrap() as usize]
    }

    fn tensor(&self, index: &Value) -> Tensor {
        Tensor::from_host(host_array(self.array(index))).unwrap()
    }

    fn spacing(&self, s: &Value) -> Spacing {
        if let Some(bits) = s["float"].as_str() {
            Spacing::Scalar(common::float_bits(bits))
        } else {
            Spacing::Array(self.tensor(&s["array"]))
        }
    }

    fn expected(&self, index: &Value) -> ArrayValue {
        host_array(self.array(index)).into_value().unwrap()
    }
}

// ---- comparison -------------------------------------------------------------

fn is_nan_bits(dtype: DType, bits: u64) -> bool {
    match dtype.real() {
        DType::F16 => bits & 0x7c00 == 0x7c00 && bits & 0x03ff != 0,
        DType::F32 => bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0,
        _ => {
            bits & 0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000
                && bits & 0x000f_ffff_ffff_ffff != 0
        }
    }
}

/// Distance in units in the last place between two finite values of the same
/// sign, given as raw bits; `None` otherwise.
fn ulps_apart(dtype: DType, a: u64, b: u64) -> Option<u64> {
    let (sign, exp) = match dtype.real() {
        DType::F16 => (0x8000u64, 0x7c00u64),
        DType::F32 => (0x8000_0000, 0x7f80_0000),
        _ => (0x8000_0000_0000_0000, 0x7ff0_0000_0000_0000),
    };
    let finite = |x: u64| x & exp != exp;
    (a & sign == b & sign && finite(a) && finite(b)).then(|| a.abs_diff(b))
}

/// How one output compared.
#[derive(Default)]
struct Outcome {
    /// Elements whose bits differ (NaN-vs-NaN and tolerated ones excluded).
    mismatches: usize,
    /// NaN-vs-NaN elements whose payload bits differ.
    nan_payloads: usize,
    /// Elements that differ by at most the case's ulp tolerance.
    tolerated: usize,
    /// The first few mismatching elements, for the report.
    detail: String,
}

/// Compare bit patterns, component by component. `ulps` is 0 except for
/// fixture cases marked `known_deviation` (see `gen_fixtures.py`).
fn compare_typed<T: ArrayElement>(got: &ArrayD<T>, want: &ArrayD<T>, ulps: u64) -> Outcome {
    let mut out = Outcome::default();
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        let (g_bits, w_bits) = (g.bit_pattern(), w.bit_pattern());
        if g_bits == w_bits {
            continue;
        }
        let nan_pair = |a: u64, b: u64| is_nan_bits(T::DTYPE, a) && is_nan_bits(T::DTYPE, b);
        let close = |a: u64, b: u64| ulps_apart(T::DTYPE, a, b).is_some_and(|d| d <= ulps);
        let parts = [(g_bits.0, w_bits.0), (g_bits.1, w_bits.1)];
        if parts.iter().all(|&(a, b)| a == b || nan_pair(a, b)) {
            out.nan_payloads += 1;
        } else if parts.iter().all(|&(a, b)| a == b || close(a, b)) {
            out.tolerated += 1;
        } else {
            out.mismatches += 1;
            if out.mismatches <= 3 {
                let _ = write!(
                    out.detail,
                    " [flat {i}: got {g:?} (bits {g_bits:x?}) want {w:?} (bits {w_bits:x?})]"
                );
            }
        }
    }
    out
}

fn compare(got: &ArrayValue, want: &ArrayValue, ulps: u64) -> Outcome {
    fn typed<T: ArrayElement>(got: &ArrayValue, want: &ArrayValue, ulps: u64) -> Outcome {
        compare_typed::<T>(got.as_array().unwrap(), want.as_array().unwrap(), ulps)
    }
    match want.dtype() {
        DType::F16 => typed::<f16>(got, want, ulps),
        DType::F32 => typed::<f32>(got, want, ulps),
        DType::F64 => typed::<f64>(got, want, ulps),
        DType::C64 => typed::<Complex32>(got, want, ulps),
        DType::C128 => typed::<Complex64>(got, want, ulps),
    }
}

// ---- running ----------------------------------------------------------------

#[derive(Default)]
struct Counts {
    outputs: usize,
    /// Every element bit-identical to NumPy's, NaNs included.
    bit_identical: usize,
    /// Outputs equal to NumPy's except for NaN payload bits.
    nan_payload_outputs: usize,
    nan_payload_elements: usize,
    /// Outputs of `known_deviation` cases that are within their ulp tolerance only.
    tolerated_outputs: usize,
    tolerated_elements: usize,
}

impl Counts {
    fn merge(&mut self, o: &Counts) {
        self.outputs += o.outputs;
        self.bit_identical += o.bit_identical;
        self.nan_payload_outputs += o.nan_payload_outputs;
        self.nan_payload_elements += o.nan_payload_elements;
        self.tolerated_outputs += o.tolerated_outputs;
        self.tolerated_elements += o.tolerated_elements;
    }
}

#[derive(Default)]
struct Report {
    cases: usize,
    ok_cases: usize,
    error_cases: usize,
    per_dtype: BTreeMap<String, Counts>,
    failures: Vec<String>,
}

fn run_case(fx: &Fixture, case: &Value, report: &mut Report) -> Result<(), String> {
    let f = fx.tensor(&case["f"]);
    let spacing: Vec<Spacing> = case["spacing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| fx.spacing(s))
        .collect();
    let axis = axes(&case["axis"]);
    let edge_order = case["edge_order"].as_i64().unwrap();
    let result = numpy::gradient(&f, &spacing, axis, edge_order);

    if let Some(err) = case.get("error") {
        report.error_cases += 1;
        let want = err["oxla"].as_str().unwrap();
        let e = match result {
            Ok(outs) => {
                return Err(format!(
                    "expected {want} error, got {} output(s)",
                    outs.len()
                ));
            }
            Err(e) => e,
        };
        let got = variant(&e);
        if got != want {
            return Err(format!("expected {want}, got {got}: {e}"));
        }
        let msg = e.to_string();
        let numpy_msg = err["numpy_message"].as_str().unwrap();
        if err.get("numpy_differs").is_none() && !msg.contains(numpy_msg) {
            return Err(format!("message {msg:?} lacks NumPy's {numpy_msg:?}"));
        }
        return Ok(());
    }

    report.ok_cases += 1;
    let outs = result.map_err(|e| format!("NumPy succeeded, oxla failed: {e}"))?;
    let wants = case["outputs"].as_array().unwrap();
    if outs.len() != wants.len() {
        return Err(format!("{} outputs, NumPy has {}", outs.len(), wants.len()));
    }
    let values = oxla::eval(&outs).map_err(|e| format!("eval failed: {e}"))?;
    // Only cases with a documented deviation from NumPy get a tolerance.
    let ulps = match case.get("known_deviation") {
        Some(_) => case["tolerance_ulps"].as_u64().unwrap(),
        None => 0,
    };
    let mut problems = String::new();
    for (k, (got, want_index)) in values.iter().zip(wants).enumerate() {
        let want = fx.expected(want_index);
        let counts = report
            .per_dtype
            .entry(want.dtype().numpy_name().to_owned())
            .or_default();
        counts.outputs += 1;
        if got.dtype() != want.dtype() {
            let _ = write!(
                problems,
                " output {k}: dtype {} != {};",
                got.dtype(),
                want.dtype()
            );
            continue;
        }
        if got.shape() != want.shape() {
            let _ = write!(
                problems,
                " output {k}: shape {:?} != {:?};",
                got.shape(),
                want.shape()
            );
            continue;
        }
        let o = compare(got, &want, ulps);
        counts.nan_payload_elements += o.nan_payloads;
        counts.tolerated_elements += o.tolerated;
        if o.mismatches == 0 && o.tolerated == 0 && o.nan_payloads == 0 {
            counts.bit_identical += 1;
        } else if o.mismatches == 0 && o.tolerated == 0 {
            counts.nan_payload_outputs += 1;
        } else if o.mismatches == 0 {
            counts.tolerated_outputs += 1;
        } else {
            let _ = write!(
                problems,
                " output {k} ({}): {} of {} elements differ{};",
                want.dtype(),
                o.mismatches,
                want.len(),
                o.detail
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn run_suite(text: &str, min_cases: usize) -> Report {
    let fx = load(text);
    let mut report = Report::default();
    for case in &fx.cases {
        report.cases += 1;
        let name = case["name"].as_str().unwrap();
        let res = catch_unwind(AssertUnwindSafe(|| {
            let mut local = Report::default();
            let r = run_case(&fx, case, &mut local);
            (r, local)
        }));
        match res {
            Ok((r, local)) => {
                report.ok_cases += local.ok_cases;
                report.error_cases += local.error_cases;
                for (d, c) in local.per_dtype {
                    report.per_dtype.entry(d).or_default().merge(&c);
                }
                if let Err(why) = r {
                    report.failures.push(format!("{name}: {why}"));
                }
            }
            Err(_) => report.failures.push(format!("{name}: PANICKED")),
        }
    }
    let outputs: usize = report.per_dtype.values().map(|c| c.outputs).sum();
    let identical: usize = report.per_dtype.values().map(|c| c.bit_identical).sum();
    let mut line = format!(
        "numpy conformance [{}]: {} cases ({} ok, {} errors), {} outputs, {} bit-identical;",
        fx.suite, report.cases, report.ok_cases, report.error_cases, outputs, identical
    );
    for (d, c) in &report.per_dtype {
        let _ = write!(line, " {d} {}/{} bit-identical", c.bit_identical, c.outputs);
        if c.nan_payload_outputs > 0 {
            let _ = write!(
                line,
                ", {} equal but for NaN payloads ({} elements)",
                c.nan_payload_outputs, c.nan_payload_elements
            );
        }
        if c.tolerated_outputs > 0 {
            let _ = write!(
                line,
                ", {} within 1 ulp as a known deviation ({} elements)",
                c.tolerated_outputs, c.tolerated_elements
            );
        }
        line.push(';');
    }
    println!("{line}");
    assert!(
        report.failures.is_empty(),
        "{} of {} cases differ from NumPy:\n{}\n{line}",
        report.failures.len(),
        report.cases,
        report.failures.join("\n")
    );
    assert!(
        report.cases >= min_cases,
        "only {} cases in {}",
        report.cases,
        fx.suite
    );
    report
}

#[test]
fn numpy_testgradient_cases_match_numpy() {
    let r = run_suite(NUMPY_TESTGRADIENT, 80);
    assert!(r.error_cases >= 18);
}

#[test]
fn jax_testgradient_cases_match_numpy() {
    let r = run_suite(JAX_TESTGRADIENT, 85);
    for d in ["float16", "float32", "float64", "complex64", "complex128"] {
        assert!(r.per_dtype.contains_key(d), "no {d} outputs");
    }
}

#[test]
fn random_cases_match_numpy() {
    let r = run_suite(RANDOM, 300);
    assert!(r.ok_cases >= 200);
    assert!(r.error_cases >= 40);
}

/// Negative, huge, tiny, subnormal and zero steps (Python floats, 0-d arrays,
/// coordinates) on ordinary, huge, subnormal and signed-zero data of every
/// dtype, both edge orders: signed zeros and last bits of finite values.
#[test]
fn extreme_steps_and_values_match_numpy() {
    let r = run_suite(EXTREMES, 1850);
    assert!(r.ok_cases >= 1750);
    for d in ["float16", "float32", "float64", "complex64", "complex128"] {
        let c = &r.per_dtype[d];
        assert_eq!(c.tolerated_outputs, 0, "{d}: no tolerance is allowed here");
    }
}
