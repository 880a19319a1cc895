//! Helpers shared by the autodiff integration tests (`tests/autodiff_*.rs`):
//! a seeded generator for test data, literal/value conversions, the bilinear
//! pairing `<a, b>`, and the `numpy.gradient` call domain the property tests
//! draw from.
//!
//! Each test file includes this module with `mod autodiff_common;`; not every
//! file uses every helper.
#![allow(dead_code)]

use std::sync::Arc;

use oxla::{ArrayValue, Axes, DType, Spacing, Tensor};
use oxla_ir::ndarray::{ArrayD, IxDyn};
use oxla_ir::num_complex::Complex64;
use proptest::prelude::*;

/// The project's seeded generator: proptest only picks the structure of a
/// case and a seed, and every array is reproducible from it.
pub use oxla_ir::SplitMix64 as Rng;

/// Vectors of test data from a [`Rng`].
pub trait UniformValues {
    /// `n` values uniform in `[-1, 1)`.
    fn values(&mut self, n: usize) -> Vec<f64>;
}

impl UniformValues for Rng {
    fn values(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform(-1.0, 1.0)).collect()
    }
}

/// A random array of `shape` and `dtype`, entries in `[-1, 1)`.
///
/// `F32` (and `C64`) entries are exactly representable, and the pairing below
/// widens them exactly, so f32 maps can be checked to f64 precision.
pub fn random_value(rng: &mut Rng, shape: &[usize], dtype: DType) -> ArrayValue {
    let n: usize = shape.iter().product();
    let re = rng.values(n);
    let value = match dtype {
        DType::F64 => ArrayValue::from(array(shape, re)),
        DType::C128 => {
            let im = rng.values(n);
            let z = re
                .into_iter()
                .zip(im)
                .map(|(a, b)| Complex64::new(a, b))
                .collect();
            ArrayValue::from(array(shape, z))
        }
        other => ArrayValue::from(array(shape, re)).astype(other),
    };
    assert_eq!(value.dtype(), dtype);
    value
}

/// A row-major array of `shape` from `data`.
pub fn array<T>(shape: &[usize], data: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("data matches the shape")
}

/// An f64 literal tensor.
pub fn lit(shape: &[usize], data: Vec<f64>) -> Tensor {
    Tensor::literal(ArrayValue::from(array(shape, data)))
}

/// The elements of an f64 value, row-major.
pub fn f64s(v: &ArrayValue) -> Vec<f64> {
    v.as_array::<f64>()
        .expect("an f64 value")
        .iter()
        .copied()
        .collect()
}

/// Evaluate tensors with oxla's reference interpreter.
pub fn eval(ts: &[Tensor]) -> Vec<ArrayValue> {
    oxla::eval(ts).expect("evaluation succeeds")
}

/// The bilinear pairing `Re sum(a * b)` (not conjugated: JAX's transposes
/// are not, and neither are oxla's) and its scale `sum |a| |b|`, the
/// magnitude the rounding error of the sum is proportional to.
pub fn pairing(a: &ArrayValue, b: &ArrayValue) -> (f64, f64) {
    assert_eq!(a.shape(), b.shape(), "paired values have the same shape");
    let (a, b) = (a.to_c128_vec(), b.to_c128_vec());
    a.iter().zip(&b).fold((0.0, 0.0), |(s, m), (x, y)| {
        (s + (x * y).re, m + x.norm() * y.norm())
    })
}

/// Sum of [`pairing`] over matching lists.
pub fn pairings(a: &[ArrayValue], b: &[ArrayValue]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| pairing(x, y))
        .fold((0.0, 0.0), |(s, m), (x, y)| (s + x, m + y))
}

/// Norm-wise relative difference `||a - b||_2 / max(||a||_2, ||b||_2)` over
/// lists of values (complex values count both parts); 0 when both are 0.
pub fn normwise_rel_diff(a: &[ArrayValue], b: &[ArrayValue]) -> f64 {
    assert_eq!(a.len(), b.len());
    let (mut diff, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.shape(), y.shape());
        assert_eq!(x.dtype(), y.dtype());
        for (p, q) in x.to_c128_vec().iter().zip(&y.to_c128_vec()) {
            diff += (p - q).norm_sqr();
            na += p.norm_sqr();
            nb += q.norm_sqr();
        }
    }
    let scale = na.max(nb).sqrt();
    if scale == 0.0 {
        diff.sqrt()
    } else {
        diff.sqrt() / scale
    }
}

/// A linear function of tensors, shareable between proptest cases.
pub type LinearFn = Arc<dyn Fn(&[Tensor]) -> Result<Vec<Tensor>, oxla::Error> + Send + Sync>;

/// The result of one dot-product test `<L u, v> == <u, L^T v>`.
#[derive(Clone, Copy, Debug)]
pub struct DotProduct {
    /// `<L u, v>`.
    pub lhs: f64,
    /// `<u, L^T v>`.
    pub rhs: f64,
    /// `|lhs - rhs| / max(sum |(Lu)_i v_i|, sum |u_i (L^T v)_i|)`: the
    /// difference relative to the magnitude of the terms of the two sums,
    /// which bounds their rounding error (so random cancellation in the sum
    /// cannot make a correct transpose look wrong).
    pub rel_err: f64,
    /// `|lhs - rhs| / max(|lhs|, |rhs|)`, for the record.
    pub plain_rel_err: f64,
}

/// Run the dot-product test of a linear map `build` on random inputs of the
/// given types (and random cotangents shaped like its outputs), all drawn
/// from `seed`. `L^T` comes from [`oxla::linear_transpose`].
pub fn dot_product(
    build: &LinearFn,
    inputs: &[(Vec<usize>, DType)],
    seed: u64,
) -> Result<DotProduct, oxla::Error> {
    dot_product_with(build, inputs, seed, false)
}

/// [`dot_product`], optionally with every f64 input and cotangent exactly
/// representable in f32 (`f32_exact`), for maps that round to f32: they are
/// linear (exact) on such data.
pub fn dot_product_with(
    build: &LinearFn,
    inputs: &[(Vec<usize>, DType)],
    seed: u64,
    f32_exact: bool,
) -> Result<DotProduct, oxla::Error> {
    let mut rng = Rng::new(seed);
    let mut random = |shape: &[usize], dtype: DType| {
        if f32_exact && dtype == DType::F64 {
            random_value(&mut rng, shape, DType::F32).astype(DType::F64)
        } else {
            random_value(&mut rng, shape, dtype)
        }
    };
    let us: Vec<ArrayValue> = inputs.iter().map(|(s, d)| random(s, *d)).collect();
    let u_tensors: Vec<Tensor> = us.iter().cloned().map(Tensor::literal).collect();
    let lu = oxla::eval(&build(&u_tensors)?)?;
    let vs: Vec<ArrayValue> = lu.iter().map(|o| random(o.shape(), o.dtype())).collect();
    let transpose = oxla::linear_transpose(|xs: &[Tensor]| build(xs), &u_tensors)?;
    let v_tensors: Vec<Tensor> = vs.iter().cloned().map(Tensor::literal).collect();
    let ltv = oxla::eval(&transpose.call(&v_tensors)?)?;
    for (u, c) in us.iter().zip(&ltv) {
        assert_eq!((u.shape(), u.dtype()), (c.shape(), c.dtype()));
    }
    let (lhs, lscale) = pairings(&lu, &vs);
    let (rhs, rscale) = pairings(&us, &ltv);
    let diff = (lhs - rhs).abs();
    let ratio = |d: f64, s: f64| if d == 0.0 { 0.0 } else { d / s };
    Ok(DotProduct {
        lhs,
        rhs,
        rel_err: ratio(diff, lscale.max(rscale)),
        plain_rel_err: ratio(diff, lhs.abs().max(rhs.abs())),
    })
}

// ---- the `gradient` call domain ---------------------------------------------

/// One spacing argument of a generated `gradient` call.
#[derive(Clone, Debug)]
pub enum SpacingCase {
    /// A Python float step (`Spacing::Scalar`).
    Float(f64),
    /// A 0-d f64 step tensor.
    Step(f64),
    /// Non-uniform f64 coordinates (a literal).
    Coords(Vec<f64>),
    /// Evenly spaced f64 coordinates with an exactly representable step
    /// (a literal, which NumPy and oxla reduce to its step).
    UniformCoords(Vec<f64>),
}

impl SpacingCase {
    /// The argument as oxla takes it.
    pub fn spacing(&self) -> Spacing {
        match self {
            SpacingCase::Float(h) => Spacing::Scalar(*h),
            SpacingCase::Step(h) => Spacing::Array(Tensor::scalar(DType::F64, *h)),
            SpacingCase::Coords(x) | SpacingCase::UniformCoords(x) => {
                Spacing::Array(lit(&[x.len()], x.clone()))
            }
        }
    }
}

/// A `numpy.gradient` call: shape, dtype, axes, spacing and edge order.
#[derive(Clone, Debug)]
pub struct GradCase {
    /// Shape of `f`.
    pub shape: Vec<usize>,
    /// `F64` or `C128`.
    pub dtype: DType,
    /// `None` for `axis=None`, else the axes as given (possibly negative).
    pub axes: Option<Vec<i64>>,
    /// The spacing arguments.
    pub spacing: Vec<SpacingCase>,
    /// 1 or 2.
    pub edge_order: i64,
    /// Seed of the random data.
    pub seed: u64,
}

impl GradCase {
    /// The axis argument.
    pub fn axes(&self) -> Axes {
        match &self.axes {
            None => Axes::All,
            Some(a) => Axes::Some(a.clone()),
        }
    }

    /// The spacing arguments.
    pub fn spacing(&self) -> Vec<Spacing> {
        self.spacing.iter().map(SpacingCase::spacing).collect()
    }

    /// `f -> gradient(f, *spacing, axis, edge_order)` (literal spacing).
    pub fn linear_fn(&self) -> LinearFn {
        let (spacing, axes, edge_order) = (self.spacing(), self.axes(), self.edge_order);
        Arc::new(move |xs: &[Tensor]| {
            oxla::numpy::gradient(&xs[0], &spacing, axes.clone(), edge_order)
        })
    }

    /// The input types of [`GradCase::linear_fn`].
    pub fn inputs(&self) -> Vec<(Vec<usize>, DType)> {
        vec![(self.shape.clone(), self.dtype)]
    }
}

/// `n` coordinates with steps of one sign and magnitudes in `[0.5, 1.5] * scale`
/// (well conditioned: the three-point coefficients stay within a factor of 10).
pub fn nonuniform_coords(rng: &mut Rng, n: usize) -> Vec<f64> {
    let scale = rng.uniform(0.1, 4.0) * if rng.unit() < 0.2 { -1.0 } else { 1.0 };
    let mut x = rng.uniform(-3.0, 3.0);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(x);
        x += scale * rng.uniform(0.5, 1.5);
    }
    out
}

/// `n` evenly spaced coordinates whose differences are all exactly equal.
pub fn uniform_coords(rng: &mut Rng, n: usize) -> Vec<f64> {
    let steps = [0.25, 0.5, 2.0, -0.5, 1.0];
    let h = steps[(rng.next_u64() % steps.len() as u64) as usize];
    let x0 = (rng.next_u64() % 7) as f64 - 3.0;
    (0..n).map(|k| x0 + h * k as f64).collect()
}

/// A random non-zero step of either sign, magnitude in `[0.1, 4)`.
pub fn random_step(rng: &mut Rng) -> f64 {
    let h = rng.uniform(0.1, 4.0);
    if rng.unit() < 0.3 { -h } else { h }
}

/// One spacing entry for an axis of length `n`, of kind `kind` (0..4).
fn spacing_entry(rng: &mut Rng, kind: u8, n: usize) -> SpacingCase {
    match kind {
        0 => SpacingCase::Float(random_step(rng)),
        1 => SpacingCase::Step(random_step(rng)),
        2 => SpacingCase::Coords(nonuniform_coords(rng, n)),
        _ => SpacingCase::UniformCoords(uniform_coords(rng, n)),
    }
}

/// The property-test domain of `gradient`: shapes up to 4-d (selected axes
/// at least `edge_order + 1` long), `axis=None` or a shuffled subset given
/// with either sign, no spacing / one scalar for all axes / one entry per
/// axis mixing Python floats, 0-d step tensors, non-uniform and uniform
/// coordinates, both edge orders, f64 (and some complex128) data.
pub fn grad_case() -> impl Strategy<Value = GradCase> {
    (1usize..=4, 1i64..=2, any::<u64>(), 0u8..10)
        .prop_flat_map(|(rank, edge_order, seed, dtype_pick)| {
            let max_len = if rank >= 4 { 4 } else { 6 };
            (
                prop::collection::vec(1usize..=max_len, rank),
                prop::collection::vec(any::<bool>(), rank),
                Just((0..rank).collect::<Vec<usize>>()).prop_shuffle(),
                prop::collection::vec(any::<bool>(), rank),
                any::<bool>(),
                0u8..3,
                prop::collection::vec(0u8..4, rank),
                Just((edge_order, seed, dtype_pick)),
            )
        })
        .prop_map(
            |(mut shape, selected, order, negative, all, spacing_mode, kinds, params)| {
                let (edge_order, seed, dtype_pick) = params;
                let rank = shape.len();
                let axes: Vec<usize> = if all {
                    (0..rank).collect()
                } else {
                    let picked: Vec<usize> = order.into_iter().filter(|&a| selected[a]).collect();
                    if picked.is_empty() {
                        vec![rank - 1]
                    } else {
                        picked
                    }
                };
                let min_len = edge_order as usize + 1;
                for &a in &axes {
                    shape[a] = shape[a].max(min_len);
                }
                let mut rng = Rng::new(seed ^ 0x5eed);
                let spacing = match spacing_mode {
                    0 => Vec::new(),
                    1 => vec![spacing_entry(&mut rng, kinds[0] % 2, 0)],
                    _ => axes
                        .iter()
                        .zip(&kinds)
                        .map(|(&a, &k)| spacing_entry(&mut rng, k, shape[a]))
                        .collect(),
                };
                let axes_arg = (!all).then(|| {
                    axes.iter()
                        .map(|&a| {
                            if negative[a] {
                                a as i64 - rank as i64
                            } else {
                                a as i64
                            }
                        })
                        .collect()
                });
                GradCase {
                    shape,
                    dtype: if dtype_pick == 0 {
                        DType::C128
                    } else {
                        DType::F64
                    },
                    axes: axes_arg,
                    spacing,
                    edge_order,
                    seed,
                }
            },
        )
}

/// Draw `n` values from a strategy with proptest's deterministic generator:
/// a fixed sample, the same on every run.
pub fn fixed_sample<S: Strategy>(strategy: &S, n: usize) -> Vec<S::Value> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the strategy has no filters that can exhaust")
                .current()
        })
        .collect()
}

/// `cases` per run; failures are not written to regression files (CI pins the seed).
pub fn config(cases: u32) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}
