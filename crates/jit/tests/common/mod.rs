//! Helpers shared by the jit integration tests: a seeded generator, random
//! arrays sprinkled with special values (±0, ±inf, quiet and signaling NaNs,
//! subnormals), and bit-exact comparison with a readable report.
//!
//! Each test file includes this module with `mod common;`; not every file
//! uses every helper.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::sync::Arc;

use oxla_ir::half::f16;
use oxla_ir::ndarray::{ArrayD, IxDyn};
use oxla_ir::num_complex::{Complex32, Complex64};
use oxla_ir::{ArrayElement, ArrayValue, DType, Element, Tensor, with_array};

/// The project's seeded generator, so a case's data is reproducible from its seed.
pub use oxla_ir::SplitMix64 as Rng;

/// Structural choices, consumed in order; an exhausted stream answers 0 (the simplest choice).
pub struct Choices {
    stream: Vec<u32>,
    pos: usize,
}

impl Choices {
    /// Choices answered from `stream`.
    pub fn new(stream: Vec<u32>) -> Choices {
        Choices { stream, pos: 0 }
    }
    /// The next raw choice.
    pub fn next(&mut self) -> u32 {
        let v = self.stream.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
    /// A choice in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.next() as usize % n }
    }
    /// True with probability `percent`% (a zero choice says no).
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) >= 100 - percent
    }
    /// One of `xs` (the first is the simplest).
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// A choice in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }
}

/// How much of a random array is special values.
#[derive(Clone, Copy, Debug)]
pub struct Specials {
    /// Probability that an element (component) is a special value.
    pub rate: f64,
    /// Whether signaling NaNs are among them.
    pub signaling: bool,
}

impl Specials {
    /// Plain finite data.
    pub const NONE: Specials = Specials {
        rate: 0.0,
        signaling: false,
    };
}

/// A special value; `None` stands for a signaling NaN (built per dtype).
fn special(rng: &mut Rng, signaling: bool) -> Option<f64> {
    let table = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_1234), // a quiet NaN with a payload
        1e300,
        -5e-310, // subnormal in f64
        1.0e-40, // subnormal in f32
        6.0e-8,  // subnormal in f16
        65504.0, // f16's largest
        70000.0, // overflows f16
        1.0,
        -1.0,
    ];
    let n = table.len() + usize::from(signaling);
    let i = rng.below(n);
    table.get(i).copied()
}

/// One random component: mostly uniform in `[-4, 4)` with full mantissas.
fn component(rng: &mut Rng, s: Specials) -> Option<f64> {
    if s.rate > 0.0 && rng.unit() < s.rate {
        special(rng, s.signaling)
    } else {
        Some(rng.uniform(-4.0, 4.0))
    }
}

/// A random array of `shape` and `dtype` with special values mixed in.
pub fn random_value(rng: &mut Rng, shape: &[usize], dtype: DType, s: Specials) -> ArrayValue {
    let n: usize = shape.iter().product();
    let mut re = Vec::with_capacity(n);
    let mut im = Vec::with_capacity(n);
    for _ in 0..n {
        re.push(component(rng, s));
        im.push(if dtype.is_complex() {
            component(rng, s)
        } else {
            Some(0.0)
        });
    }
    let neg = |rng: &mut Rng| rng.below(2) == 1;
    let shape = IxDyn(shape);
    match dtype {
        DType::F64 => {
            let data: Vec<f64> = re
                .iter()
                .map(|x| x.unwrap_or_else(|| f64::from_bits(snan64(neg(rng)))))
                .collect();
            ArrayValue::F64(ArrayD::from_shape_vec(shape, data).unwrap_or_default())
        }
        DType::F32 => {
            let data: Vec<f32> = re
                .iter()
                .map(|x| match x {
                    Some(v) => *v as f32,
                    None => f32::from_bits(snan32(neg(rng))),
                })
                .collect();
            ArrayValue::F32(ArrayD::from_shape_vec(shape, data).unwrap_or_default())
        }
        DType::F16 => {
            let data: Vec<f16> = re
                .iter()
                .map(|x| match x {
                    Some(v) => oxla_ir::element::f64_to_f16(*v),
                    None => f16::from_bits(snan16(neg(rng))),
                })
                .collect();
            ArrayValue::F16(ArrayD::from_shape_vec(shape, data).unwrap_or_default())
        }
        DType::C64 => {
            let part = |x: &Option<f64>, rng: &mut Rng| match x {
                Some(v) => *v as f32,
                None => f32::from_bits(snan32(neg(rng))),
            };
            let data: Vec<Complex32> = re
                .iter()
                .zip(&im)
                .map(|(a, b)| Complex32::new(part(a, rng), part(b, rng)))
                .collect();
            ArrayValue::C64(ArrayD::from_shape_vec(shape, data).unwrap_or_default())
        }
        DType::C128 => {
            let part = |x: &Option<f64>, rng: &mut Rng| {
                x.unwrap_or_else(|| f64::from_bits(snan64(neg(rng))))
            };
            let data: Vec<Complex64> = re
                .iter()
                .zip(&im)
                .map(|(a, b)| Complex64::new(part(a, rng), part(b, rng)))
                .collect();
            ArrayValue::C128(ArrayD::from_shape_vec(shape, data).unwrap_or_default())
        }
    }
}

/// Signaling NaNs (quiet bit clear, payload nonzero) that stay NaN when narrowed.
fn snan64(negative: bool) -> u64 {
    0x7ff4_0000_0000_0001 | (u64::from(negative) << 63)
}
fn snan32(negative: bool) -> u32 {
    0x7fa0_0001 | (u32::from(negative) << 31)
}
fn snan16(negative: bool) -> u16 {
    0x7d01 | (u16::from(negative) << 15)
}

/// A literal tensor holding a random array.
pub fn random_literal(rng: &mut Rng, shape: &[usize], dtype: DType, s: Specials) -> Tensor {
    Tensor::literal(random_value(rng, shape, dtype, s))
}

/// A 0-d value `re + im·i` of `dtype` (the imaginary part is dropped for real dtypes).
pub fn scalar(dtype: DType, re: f64, im: f64) -> Tensor {
    let c = Complex64::new(re, im);
    let value = oxla_ir::with_dtype!(dtype, |T| T::wrap(ArrayD::from_elem(
        IxDyn(&[]),
        T::from_c128(c)
    )));
    Tensor::literal(value)
}

/// The bit pattern of every element, row-major.
pub fn bits(v: &ArrayValue) -> Vec<(u64, u64)> {
    with_array!(v, |a: T| a.iter().map(|x| x.bit_pattern()).collect())
}

fn show(v: &ArrayValue, i: usize) -> String {
    with_array!(v, |a: T| {
        let x = a.iter().nth(i).copied();
        match x {
            Some(x) => {
                let (re, im) = x.bit_pattern();
                if v.dtype().is_complex() {
                    format!("{x:?} (bits {re:#x}, {im:#x})")
                } else {
                    format!("{x:?} (bits {re:#x})")
                }
            }
            None => "<missing>".to_string(),
        }
    })
}

/// Row-major index `i` of `shape` as a multi-index.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        if shape[d] > 0 {
            idx[d] = i % shape[d];
            i /= shape[d];
        }
    }
    idx
}

/// Whether two components match: the same bits, or (in optimized builds
/// only) both NaN.
///
/// When both operands of an addition are NaNs, the NaN that propagates
/// depends on the operand order, and optimized code may commute `fadd` or
/// fold a negation into a constant factor (Rust leaves the bits of a NaN
/// produced by arithmetic unspecified), so the interpreter and the kernels
/// can pick different NaNs there. Debug builds
/// (where this suite is meant to run) keep the source order: NaNs must match
/// bit for bit.
fn same_component(g: u64, w: u64, dtype: DType) -> bool {
    if g == w {
        return true;
    }
    if cfg!(debug_assertions) {
        return false;
    }
    let nan = |b: u64| match dtype {
        DType::F16 => (b & 0x7c00) == 0x7c00 && (b & 0x03ff) != 0,
        DType::F32 | DType::C64 => (b & 0x7f80_0000) == 0x7f80_0000 && (b & 0x007f_ffff) != 0,
        DType::F64 | DType::C128 => f64::from_bits(b).is_nan(),
    };
    nan(g) && nan(w)
}

fn same_element(g: (u64, u64), w: (u64, u64), dtype: DType) -> bool {
    same_component(g.0, w.0, dtype) && same_component(g.1, w.1, dtype)
}

/// `None` if `got` and `want` are equal bit for bit, else a description of
/// how they differ (dtype, shape, or the first differing elements).
pub fn difference(got: &ArrayValue, want: &ArrayValue) -> Option<String> {
    if got.bit_eq(want) {
        return None;
    }
    let dtype = got.dtype();
    if dtype == want.dtype()
        && got.shape() == want.shape()
        && bits(got)
            .into_iter()
            .zip(bits(want))
            .all(|(g, w)| same_element(g, w, dtype))
    {
        return None;
    }
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Some(format!(
            "got {}{:?}, want {}{:?}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    let (g, w) = (bits(got), bits(want));
    let differing: Vec<usize> = (0..g.len())
        .filter(|&i| !same_element(g[i], w[i], dtype))
        .collect();
    let mut s = format!(
        "{} of {} elements differ ({}{:?}); first:",
        differing.len(),
        g.len(),
        got.dtype(),
        got.shape()
    );
    for &i in differing.iter().take(4) {
        let _ = write!(
            s,
            "\n    at {:?}: fused {}, reference {}",
            unravel(i, got.shape()),
            show(got, i),
            show(want, i)
        );
    }
    Some(s)
}

/// Compare every output; `Err` describes the first outputs that differ.
pub fn compare(got: &[ArrayValue], want: &[Arc<ArrayValue>]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} outputs, want {}", got.len(), want.len()));
    }
    let mut report = String::new();
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        if let Some(d) = difference(g, w) {
            let _ = writeln!(report, "  output {k}: {d}");
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// Evaluate `outputs` (no parameters) with the jit and the interpreter and
/// panic with `context` if any output differs in a single bit.
pub fn assert_fused_eq_reference(outputs: &[Tensor], context: &str) {
    let fused = oxla_jit::eval(outputs).unwrap_or_else(|e| panic!("{context}: jit failed: {e}"));
    let reference = oxla_ir::evaluate(outputs, &oxla_ir::Bindings::new())
        .unwrap_or_else(|e| panic!("{context}: interpreter failed: {e}"));
    // bit for bit, under the NaN rule of `same_component`: optimized builds
    // may rewrite `-(x * c)` as `x * -c` in either evaluator (LLVM treats a
    // NaN's sign as unspecified), so only debug builds can pin NaN signs
    for (k, (f, r)) in fused.iter().zip(&reference).enumerate() {
        if let Some(report) = difference(f, r) {
            panic!("{context}: fused output {k} differs from the reference:\n  {report}");
        }
    }
}

/// Spacing for a gradient over every axis of `shape`: non-uniform
/// coordinates `i^1.3` on axis 0, a step of 0.5 on the others.
pub fn coords_on_axis0(shape: &[usize]) -> Vec<oxla_lower::Spacing> {
    let x = oxla_ir::ndarray::Array1::from_iter((0..shape[0]).map(|i| (i as f64).powf(1.3)));
    let x = Tensor::from_host(x.into_dyn()).expect("an f64 array");
    let mut spacing = vec![oxla_lower::Spacing::Array(x)];
    spacing.extend((1..shape.len()).map(|_| oxla_lower::Spacing::Scalar(0.5)));
    spacing
}

/// Each parameter bound to its value.
pub fn bind(params: &[Tensor], values: &[Arc<ArrayValue>]) -> oxla_ir::Bindings {
    params
        .iter()
        .zip(values)
        .map(|(p, v)| (p.parameter_id().expect("a parameter"), v.clone()))
        .collect()
}

/// `sum over ds of sum(d * d)`, each term rounded to the first's dtype: the
/// smoothness loss `sum(|grad f|^2)` when `ds` are the axes of a gradient.
pub fn squared_norm(ds: Vec<Tensor>) -> Result<Tensor, oxla_ir::IrError> {
    let mut total: Option<Tensor> = None;
    for d in ds {
        let all: Vec<usize> = (0..d.ndim()).collect();
        let s = d.mul(&d)?.reduce_sum(&all)?;
        total = Some(match total {
            Some(t) => t.add(&s.convert(t.dtype())?)?,
            None => s,
        });
    }
    total.ok_or(oxla_ir::IrError::InvalidParams {
        op: "squared_norm",
        reason: "no terms".into(),
    })
}

/// A proptest configuration of `cases` per run, unless `PROPTEST_CASES`
/// asks for another number (for longer searches); nothing persisted.
pub fn config(cases: u32) -> proptest::prelude::ProptestConfig {
    let mut config = proptest::prelude::ProptestConfig {
        failure_persistence: None,
        ..Default::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// Run `outputs` through the fused paths and compare each with the
/// interpreter: `compile` (every array leaf an argument) + `run`, and
/// `eval` when there are no parameters. `Ok` holds the reference values,
/// `Err` a report with the plan.
pub fn check_outputs(
    outputs: &[Tensor],
    bindings: &oxla_ir::Bindings,
) -> Result<Vec<Arc<ArrayValue>>, String> {
    let reference =
        oxla_ir::evaluate(outputs, bindings).map_err(|e| format!("interpreter: {e}"))?;
    let (exe, leaves) = oxla_jit::compile(outputs).map_err(|e| format!("compile: {e}"))?;
    let args = leaves
        .iter()
        .map(|l| match (l.literal_value(), l.parameter_id()) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(id)) => bindings
                .get(&id)
                .cloned()
                .ok_or("unbound parameter".to_string()),
            _ => Err("a leaf is neither literal nor parameter".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // every buffer the pool hands out is poisoned in debug builds, so an
    // output element a kernel leaves unwritten cannot pass by accident
    let fused = exe.run(&args).map_err(|e| format!("run: {e}"))?;
    compare(&fused, &reference)
        .map_err(|r| format!("compile + run differs:\n{r}plan:\n{}", exe.summary()))?;
    if bindings.is_empty() {
        let fused = oxla_jit::eval(outputs).map_err(|e| format!("eval: {e}"))?;
        compare(&fused, &reference).map_err(|r| format!("eval differs:\n{r}"))?;
    }
    Ok(reference)
}

/// `u[i+1] - u[i]` along `axis`, 0 in the last row (total variation's
/// forward differences, as `crates/cli/src/tv.rs`).
pub fn forward_difference(u: &Tensor, axis: usize) -> Result<Tensor, oxla_ir::IrError> {
    let n = u.shape()[axis];
    let d = u
        .slice_axis(axis, 1, n)?
        .sub(&u.slice_axis(axis, 0, n - 1)?)?;
    d.pad_axis(&Tensor::scalar(u.dtype(), 0.0), axis, 0, 1)
}

/// `sum(sqrt(gx^2 + gy^2 + eps))`, or with `eps` added first (a form the
/// `DiffNorm` pattern does not take, which must stay exact unfused).
pub fn total_variation(u: &Tensor, eps_first: bool) -> Result<Tensor, oxla_ir::IrError> {
    let (gy, gx) = (forward_difference(u, 0)?, forward_difference(u, 1)?);
    let squares = gx.mul(&gx)?.add(&gy.mul(&gy)?)?;
    let eps = Tensor::scalar(u.dtype(), 1e-6).broadcast_in_dim(u.shape(), &[])?;
    let q = if eps_first {
        eps.add(&squares)?
    } else {
        squares.add(&eps)?
    };
    let axes: Vec<usize> = (0..u.ndim()).collect();
    q.sqrt()?.reduce_sum(&axes)
}
