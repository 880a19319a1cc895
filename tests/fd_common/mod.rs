//! Helpers shared by the `oxla::fd` integration tests: the call domain the
//! property tests draw from ([`fd_case`]) and how a case becomes a call.
//!
//! Each test file includes this module with `mod fd_common;`; not every
//! file uses every helper.
#![allow(dead_code)]

pub use oxla::SplitMix64 as Rng;
use oxla::fd::{Boundary, Derivative, MAX_ACCURACY, MAX_ORDER};
use oxla::{ArrayValue, DType, Spacing, Tensor};
use proptest::prelude::*;

/// The spacing of a generated case.
#[derive(Clone, Debug)]
pub enum Grid {
    /// A number (rounded to the data's dtype).
    Weak(f64),
    /// A 0-d f64 tensor.
    Step(f64),
    /// Strictly increasing f64 coordinates (and a period for periodic axes).
    Coords(Vec<f64>, f64),
}

/// One derivative of random data.
#[derive(Clone, Debug)]
pub struct FdCase {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub axis: usize,
    pub order: i64,
    pub accuracy: i64,
    pub periodic: bool,
    pub grid: Grid,
    pub seed: u64,
}

impl FdCase {
    /// The spacing argument.
    pub fn spacing(&self) -> Spacing {
        match &self.grid {
            Grid::Weak(h) => Spacing::Scalar(*h),
            Grid::Step(h) => Spacing::Array(Tensor::scalar(DType::F64, *h)),
            Grid::Coords(x, _) => Spacing::Array(f64_tensor(&[x.len()], x.clone())),
        }
    }

    /// The derivative, with `axis` given negative when `negative_axis`.
    pub fn derivative(&self) -> Derivative {
        let boundary = match (&self.grid, self.periodic) {
            (_, false) => Boundary::OneSided,
            (Grid::Coords(_, period), true) => Boundary::periodic_with_period(*period),
            (_, true) => Boundary::periodic(),
        };
        Derivative {
            axis: self.axis as i64,
            order: self.order,
            accuracy: self.accuracy,
            spacing: self.spacing(),
            boundary,
        }
    }

    /// Random data of the case's shape and dtype, entries in [-1, 1).
    pub fn data(&self) -> Tensor {
        let mut rng = Rng::new(self.seed);
        Tensor::literal(random_value(&mut rng, &self.shape, self.dtype))
    }

    /// True for a coordinate axis.
    pub fn coords(&self) -> bool {
        matches!(self.grid, Grid::Coords(..))
    }
}

/// A random array of `shape` and `dtype`, entries in [-1, 1).
pub fn random_value(rng: &mut Rng, shape: &[usize], dtype: DType) -> ArrayValue {
    let n: usize = shape.iter().product();
    let re: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let v = ArrayValue::from(array(shape, re));
    match dtype {
        DType::C64 | DType::C128 => {
            let im: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let z: Vec<oxla::num_complex::Complex64> = v
                .as_array::<f64>()
                .unwrap()
                .iter()
                .zip(im)
                .map(|(&a, b)| oxla::num_complex::Complex64::new(a, b))
                .collect();
            ArrayValue::from(array(shape, z)).astype(dtype)
        }
        other => v.astype(other),
    }
}

/// A row-major array of `shape` from `data`.
pub fn array<T>(shape: &[usize], data: Vec<T>) -> ndarray::ArrayD<T> {
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), data).unwrap()
}

/// An f64 literal tensor.
pub fn f64_tensor(shape: &[usize], data: Vec<f64>) -> Tensor {
    Tensor::literal(ArrayValue::from(array(shape, data)))
}

/// `n` strictly increasing coordinates, steps in [0.5, 1.5] * scale.
pub fn coordinates(rng: &mut Rng, n: usize) -> Vec<f64> {
    let scale = rng.uniform(0.2, 2.0);
    let mut x = rng.uniform(-3.0, 3.0);
    (0..n)
        .map(|_| {
            let here = x;
            x += scale * rng.uniform(0.5, 1.5);
            here
        })
        .collect()
}

/// A random non-zero step of either sign, magnitude in [0.2, 2).
pub fn step(rng: &mut Rng) -> f64 {
    let h = rng.uniform(0.2, 2.0);
    if rng.unit() < 0.3 { -h } else { h }
}

/// The largest (order, accuracy) of coordinate cases in [`fd_case`]: the
/// weights of a coordinate axis are graph nodes whose number grows with
/// the order times the square of the stencil width, and compiling them in
/// a debug build takes about a second at order 6, accuracy 6; the tests
/// that need the largest cases name them.
pub const LIGHT_COORDS: (i64, i64) = (4, 4);

/// The property-test domain of `oxla::fd::derivative`: every order and
/// accuracy (on coordinate axes up to [`LIGHT_COORDS`]), both boundaries,
/// every spacing kind, arrays of rank 1 to 3 (the differentiated axis
/// between its minimum length and 6 more), in the given dtypes.
pub fn fd_case(dtypes: &'static [DType]) -> impl Strategy<Value = FdCase> {
    (
        1i64..=MAX_ORDER as i64,
        1i64..=(MAX_ACCURACY / 2) as i64,
        any::<bool>(),
        0u8..3,
        prop::collection::vec(1usize..=4, 1..=3),
        any::<prop::sample::Index>(),
        0usize..=6,
        any::<prop::sample::Index>(),
        any::<u64>(),
    )
        .prop_map(
            move |(order, half, periodic, kind, mut shape, axis, extra, dtype, seed)| {
                let mut rng = Rng::new(seed ^ 0xfd);
                let axis = axis.index(shape.len());
                let coords = kind == 2;
                let (order, top) = if coords {
                    (order.min(LIGHT_COORDS.0), LIGHT_COORDS.1)
                } else {
                    (order, MAX_ACCURACY as i64)
                };
                let accuracy = (2 * half).min(top);
                let probe = FdCase {
                    shape: shape.clone(),
                    dtype: dtype.get(dtypes).to_owned(),
                    axis,
                    order,
                    accuracy,
                    periodic,
                    grid: if coords {
                        Grid::Coords(vec![0.0, 1.0], 2.0)
                    } else {
                        Grid::Weak(1.0)
                    },
                    seed,
                };
                let n = probe.derivative().min_len().unwrap() + extra;
                shape[axis] = n;
                let grid = match kind {
                    0 => Grid::Weak(step(&mut rng)),
                    1 => Grid::Step(step(&mut rng)),
                    _ => {
                        let x = coordinates(&mut rng, n);
                        let period = x[n - 1] - x[0] + (x[1] - x[0]) * rng.uniform(0.5, 1.5);
                        Grid::Coords(x, period)
                    }
                };
                FdCase {
                    shape,
                    grid,
                    ..probe
                }
            },
        )
}

/// `cases` per run; failures are not written to regression files (CI pins the seed).
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

/// Draw `n` values from a strategy with proptest's deterministic generator:
/// a fixed sample, the same on every run.
pub fn fixed_sample<S: Strategy>(strategy: &S, n: usize) -> Vec<S::Value> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}
