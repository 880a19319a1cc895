#![allow(clippy::unwrap_used)]
//! Properties of `oxla::numpy::gradient`.
//!
//! - Exactness (`docs/gradient-spec.md`, "Formulas"): `edge_order=1` reproduces the slope of
//!   linear data and `edge_order=2` the derivative of quadratic data, on any
//!   grid: random non-uniform strictly increasing coordinates, Python-float
//!   steps and 0-d steps, on random shapes up to 4-d and random axis subsets
//!   in random order, for f32, f64 and complex128 data. "Exact" means up to
//!   rounding: the tolerance is 16 ulps (of the data's dtype) of the data's
//!   magnitude divided by the smallest grid gap (the finite-difference
//!   weights are O(1/gap)), plus 16 ulps of the derivative itself.
//! - Robustness: random arguments (ranks 0 to 4 including zero-size axes,
//!   random axis lists including out-of-range and repeated ones, random
//!   spacing lists of any length, rank and dtype, edge orders -2..=4) never
//!   panic. The call returns `Ok` (and then evaluates `Ok`, with one output
//!   per axis shaped and typed like `f`) or a typed `GradientError`, and which
//!   one is decided by an independent model of the specification's rules and NumPy's
//!   order of checks.

mod common;

use approx::abs_diff_eq;
use common::variant;
use ndarray::{ArrayD, Dimension, IxDyn};
use num_complex::{Complex32, Complex64};
use oxla::{Axes, DType, Error, HostArray, Spacing, Tensor, numpy};
use oxla_ir::half::f16;
use proptest::collection::vec;
use proptest::prelude::*;

// ---- exactness ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum StepKind {
    /// `Spacing::Scalar(h)`: a Python float.
    Weak,
    /// A 0-d f64 array `h`.
    ZeroD,
    /// Non-uniform coordinates.
    Coords,
}

#[derive(Debug, Clone)]
struct Grid {
    start: f64,
    /// Gaps between consecutive points (all equal to `gaps[0]` for steps).
    gaps: Vec<f64>,
    kind: StepKind,
}

impl Grid {
    fn gap(&self, i: usize) -> f64 {
        match self.kind {
            StepKind::Coords => self.gaps[i],
            _ => self.gaps[0],
        }
    }
    fn coords(&self, n: usize) -> Vec<f64> {
        let mut x = Vec::with_capacity(n);
        let mut v = self.start;
        for i in 0..n {
            x.push(v);
            if i + 1 < n {
                v += self.gap(i);
            }
        }
        x
    }
    fn min_gap(&self, n: usize) -> f64 {
        (0..n - 1)
            .map(|i| self.gap(i))
            .fold(f64::INFINITY, f64::min)
    }
    fn spacing(&self, n: usize) -> Spacing {
        match self.kind {
            StepKind::Weak => Spacing::Scalar(self.gaps[0]),
            StepKind::ZeroD => {
                Spacing::Array(Tensor::from_host(ndarray::arr0(self.gaps[0]).into_dyn()).unwrap())
            }
            StepKind::Coords => Spacing::Array(
                Tensor::from_host(ArrayD::from_shape_vec(IxDyn(&[n]), self.coords(n)).unwrap())
                    .unwrap(),
            ),
        }
    }
}

fn grid() -> impl Strategy<Value = Grid> {
    (
        -5.0..5.0f64,
        vec(0.1..2.0f64, 6),
        prop_oneof![
            Just(StepKind::Weak),
            Just(StepKind::ZeroD),
            Just(StepKind::Coords),
            Just(StepKind::Coords),
        ],
    )
        .prop_map(|(start, gaps, kind)| Grid { start, gaps, kind })
}

/// `f = c0 + sum_k lin[k] * x_k + quad[k] * x_k^2` (plus `i * lin_im[k] * x_k`
/// for complex data) on the grids of every axis.
#[derive(Debug, Clone)]
struct Smooth {
    dims: Vec<usize>,
    /// Selected axes, in call order.
    axes: Vec<usize>,
    /// Pass axis `k` as `k - ndim`.
    negative: Vec<bool>,
    /// Pass `Axes::All` when the selection is every axis in order.
    use_all: bool,
    grids: Vec<Grid>,
    c0: f64,
    lin: Vec<f64>,
    quad: Vec<f64>,
    lin_im: Vec<f64>,
    dtype: DType,
}

fn smooth(edge_order: usize, quadratic: bool) -> impl Strategy<Value = Smooth> {
    (1usize..=4).prop_flat_map(move |ndim| {
        let max = if ndim == 4 { 4 } else { 6 };
        (
            vec(edge_order + 1..=max, ndim),
            Just((0..ndim).collect::<Vec<_>>()).prop_shuffle(),
            0..=ndim,
            vec(any::<bool>(), ndim),
            any::<bool>(),
            vec(grid(), ndim),
            -10.0..10.0f64,
            vec(-3.0..3.0f64, ndim),
            vec(-2.0..2.0f64, ndim),
            vec(-3.0..3.0f64, ndim),
            prop_oneof![Just(DType::F64), Just(DType::F32), Just(DType::C128)],
        )
            .prop_map(
                move |(dims, perm, k, negative, use_all, grids, c0, lin, quad, lin_im, dtype)| {
                    Smooth {
                        dims,
                        axes: perm[..k].to_vec(),
                        negative,
                        use_all,
                        grids,
                        c0,
                        lin,
                        quad: if quadratic { quad } else { vec![0.0; ndim] },
                        lin_im,
                        dtype,
                    }
                },
            )
    })
}

impl Smooth {
    fn ndim(&self) -> usize {
        self.dims.len()
    }

    fn value(&self, idx: &[usize], xs: &[Vec<f64>]) -> Complex64 {
        let mut re = self.c0;
        let mut im = 0.0;
        for (k, &i) in idx.iter().enumerate() {
            let x = xs[k][i];
            re += self.lin[k] * x + self.quad[k] * x * x;
            im += self.lin_im[k] * x;
        }
        Complex64::new(re, im)
    }

    fn input(&self) -> (Tensor, f64) {
        let xs: Vec<Vec<f64>> = (0..self.ndim())
            .map(|k| self.grids[k].coords(self.dims[k]))
            .collect();
        let v = ArrayD::from_shape_fn(IxDyn(&self.dims), |i| self.value(i.slice(), &xs));
        let magnitude = v.iter().fold(0.0f64, |m, z| m.max(z.norm()));
        let host: HostArray = match self.dtype {
            DType::F32 => v.mapv(|z| z.re as f32).into(),
            DType::F64 => v.mapv(|z| z.re).into(),
            _ => v.into(),
        };
        (Tensor::from_host(host).unwrap(), magnitude)
    }

    fn axis_arg(&self) -> Axes {
        let ndim = self.ndim() as i64;
        let in_order = self.axes.iter().copied().eq(0..self.ndim());
        if self.use_all && in_order {
            return Axes::All;
        }
        Axes::Some(
            self.axes
                .iter()
                .map(|&a| {
                    if self.negative[a] {
                        a as i64 - ndim
                    } else {
                        a as i64
                    }
                })
                .collect(),
        )
    }

    fn check(&self, edge_order: i64) -> Result<(), TestCaseError> {
        let (f, magnitude) = self.input();
        let spacing: Vec<Spacing> = self
            .axes
            .iter()
            .map(|&a| self.grids[a].spacing(self.dims[a]))
            .collect();
        let outs = numpy::gradient(&f, &spacing, self.axis_arg(), edge_order).unwrap();
        prop_assert_eq!(outs.len(), self.axes.len());
        let values = oxla::eval(&outs).unwrap();
        let eps = match self.dtype {
            DType::F32 => f64::from(f32::EPSILON),
            _ => f64::EPSILON,
        };
        for (value, &a) in values.iter().zip(&self.axes) {
            prop_assert_eq!(value.dtype(), self.dtype);
            prop_assert_eq!(value.shape(), &self.dims[..]);
            let x = self.grids[a].coords(self.dims[a]);
            let scale = magnitude / self.grids[a].min_gap(self.dims[a]);
            let got = value.to_c128_vec();
            let index = ArrayD::from_shape_fn(IxDyn(&self.dims), |i| i[a]);
            for (g, &i) in got.iter().zip(index.iter()) {
                let want_re = self.lin[a] + 2.0 * self.quad[a] * x[i];
                let want_im = if self.dtype.is_complex() {
                    self.lin_im[a]
                } else {
                    0.0
                };
                let tol = 16.0 * eps * (scale + want_re.abs() + want_im.abs());
                prop_assert!(
                    abs_diff_eq!(g.re, want_re, epsilon = tol)
                        && abs_diff_eq!(g.im, want_im, epsilon = tol),
                    "axis {}, index {}: got {}, want {}{:+}i (tolerance {:e})",
                    a,
                    i,
                    g,
                    want_re,
                    want_im,
                    tol
                );
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn edge_order_1_is_exact_on_linear_data(case in smooth(1, false)) {
        case.check(1)?;
    }

    #[test]
    fn edge_order_2_is_exact_on_quadratic_data(case in smooth(2, true)) {
        case.check(2)?;
    }
}

// ---- robustness ----------------------------------------------------------------

/// Every dtype `Tensor::from_host` accepts.
const DTYPES: [&str; 13] = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
];

#[derive(Debug, Clone)]
struct RandomArray {
    dtype: &'static str,
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl RandomArray {
    fn host(&self) -> HostArray {
        let n: usize = self.shape.iter().product();
        let vals: Vec<f64> = (0..n).map(|i| self.values[i % self.values.len()]).collect();
        let shape = IxDyn(&self.shape);
        macro_rules! build {
            ($conv:expr) => {
                ArrayD::from_shape_vec(shape, vals.iter().map($conv).collect())
                    .unwrap()
                    .into()
            };
        }
        match self.dtype {
            "int8" => build!(|&v: &f64| v as i8),
            "int16" => build!(|&v: &f64| v as i16),
            "int32" => build!(|&v: &f64| v as i32),
            "int64" => build!(|&v: &f64| v as i64),
            "uint8" => build!(|&v: &f64| v as u8),
            "uint16" => build!(|&v: &f64| v as u16),
            "uint32" => build!(|&v: &f64| v as u32),
            "uint64" => build!(|&v: &f64| v as u64),
            "float16" => build!(|&v: &f64| f16::from_f64(v)),
            "float32" => build!(|&v: &f64| v as f32),
            "float64" => build!(|&v: &f64| v),
            "complex64" => build!(|&v: &f64| Complex32::new(v as f32, -(v as f32))),
            _ => build!(|&v: &f64| Complex64::new(v, 0.5 * v)),
        }
    }

    fn is_complex(&self) -> bool {
        self.dtype.starts_with("complex")
    }
}

fn element() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -100.0..100.0f64,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e300),
    ]
}

fn random_array(max_rank: usize, max_dim: usize) -> impl Strategy<Value = RandomArray> {
    // lengths 0 and 1 are the interesting short ones; most axes are longer
    let dim = prop_oneof![1 => 0..=1usize, 3 => 2..=max_dim];
    (
        proptest::sample::select(&DTYPES[..]),
        vec(dim, 0..=max_rank),
        vec(element(), 1..8),
    )
        .prop_map(|(dtype, shape, values)| RandomArray {
            dtype,
            shape,
            values,
        })
}

#[derive(Debug, Clone)]
enum RandomSpacing {
    Scalar(f64),
    Array(RandomArray),
}

/// A spacing argument: a Python float, or an array of any dtype whose rank
/// is 0, 1 or 2 and whose 1-d length is usually one of `f`'s axis lengths.
fn random_spacing(f_shape: Vec<usize>) -> BoxedStrategy<RandomSpacing> {
    let mut lengths = f_shape;
    lengths.extend([0, 1, 5]);
    let one_d = (
        proptest::sample::select(&DTYPES[..]),
        proptest::sample::select(lengths),
        vec(element(), 1..8),
    )
        .prop_map(|(dtype, n, values)| RandomArray {
            dtype,
            shape: vec![n],
            values,
        });
    prop_oneof![
        2 => element().prop_map(RandomSpacing::Scalar),
        3 => one_d.prop_map(RandomSpacing::Array),
        1 => random_array(2, 5).prop_map(RandomSpacing::Array),
    ]
    .boxed()
}

/// `axis=`: all axes, or a list of axes that are usually in range (and
/// sometimes repeated or out of range).
fn random_axes(ndim: usize) -> impl Strategy<Value = Axes> {
    let n = ndim as i64;
    prop_oneof![
        1 => Just(Axes::All),
        3 => vec(-n..n.max(1), 1..=ndim.max(1)).prop_map(Axes::Some),
        1 => vec(-n - 2..n + 2, 0..=ndim + 1).prop_map(Axes::Some),
    ]
}

/// `f`, its spacing list (none, one, or usually as many as the axes), the
/// axes and the edge order.
fn random_call() -> impl Strategy<Value = (RandomArray, Vec<RandomSpacing>, Axes, i64)> {
    random_array(4, 5).prop_flat_map(|f| {
        let ndim = f.shape.len();
        let shape = f.shape.clone();
        random_axes(ndim).prop_flat_map(move |axes| {
            let count = match &axes {
                Axes::All => ndim,
                Axes::Some(v) => v.len(),
            };
            let spacing = random_spacing(shape.clone());
            (
                Just(f.clone()),
                prop_oneof![
                    1 => Just(0usize),
                    1 => Just(1usize),
                    3 => Just(count),
                    1 => 0usize..=4,
                ]
                .prop_flat_map(move |len| vec(spacing.clone(), len)),
                Just(axes),
                prop_oneof![4 => 1i64..=2, 1 => -2i64..=4],
            )
        })
    })
}

/// The specification's validation rules, in NumPy's order: axes (bounds, then
/// repeats), the spacing count, each spacing in order, `edge_order`, then the
/// axis lengths in call order. `Ok` holds the number of outputs.
fn model(
    shape: &[usize],
    spacing: &[RandomSpacing],
    axes: &Axes,
    edge_order: i64,
) -> Result<usize, &'static str> {
    let ndim = shape.len() as i64;
    let sel: Vec<usize> = match axes {
        Axes::All => (0..shape.len()).collect(),
        Axes::Some(list) => {
            let mut sel = Vec::new();
            for &a in list {
                let n = if a < 0 { a + ndim } else { a };
                if !(0..ndim).contains(&n) {
                    return Err("AxisOutOfBounds");
                }
                sel.push(n as usize);
            }
            if (0..sel.len()).any(|i| sel[..i].contains(&sel[i])) {
                return Err("RepeatedAxis");
            }
            sel
        }
    };
    let rank = |s: &RandomSpacing| match s {
        RandomSpacing::Scalar(_) => 0,
        RandomSpacing::Array(a) => a.shape.len(),
    };
    let per_axis: Vec<&RandomSpacing> = match spacing {
        [] => Vec::new(),
        [one] if rank(one) == 0 => sel.iter().map(|_| one).collect(),
        many if many.len() == sel.len() => many.iter().collect(),
        _ => return Err("InvalidSpacingCount"),
    };
    for (s, &a) in per_axis.iter().zip(&sel) {
        if let RandomSpacing::Array(arr) = s {
            if arr.is_complex() {
                return Err("ComplexSpacing");
            }
            match arr.shape.len() {
                0 => {}
                1 if arr.shape[0] != shape[a] => return Err("CoordinateLengthMismatch"),
                1 => {}
                _ => return Err("SpacingNotOneDimensional"),
            }
        }
    }
    if edge_order != 1 && edge_order != 2 {
        return Err("InvalidEdgeOrder");
    }
    // NumPy's per-axis loop: the length first, then `-1.5 / h` divides by
    // a Python-float step with edge_order=2 (a zero one raises).
    for (i, &a) in sel.iter().enumerate() {
        if shape[a] < edge_order as usize + 1 {
            return Err("AxisTooShort");
        }
        let zero_step = matches!(per_axis.get(i), Some(RandomSpacing::Scalar(h)) if *h == 0.0);
        if edge_order == 2 && zero_step {
            return Err("ZeroStep");
        }
    }
    Ok(sel.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_arguments_never_panic((f, spacing, axes, edge_order) in random_call()) {
        let t = Tensor::from_host(f.host()).unwrap();
        let args: Vec<Spacing> = spacing
            .iter()
            .map(|s| match s {
                RandomSpacing::Scalar(v) => Spacing::Scalar(*v),
                RandomSpacing::Array(a) => Spacing::Array(Tensor::from_host(a.host()).unwrap()),
            })
            .collect();
        let want = model(&f.shape, &spacing, &axes, edge_order);
        match numpy::gradient(&t, &args, axes.clone(), edge_order) {
            Ok(outs) => {
                prop_assert_eq!(Ok(outs.len()), want);
                let values = oxla::eval(&outs);
                prop_assert!(values.is_ok(), "evaluation failed: {:?}", values.err());
                for v in values.unwrap() {
                    prop_assert_eq!(v.shape(), &f.shape[..]);
                    prop_assert_eq!(v.dtype(), t.dtype());
                }
            }
            Err(e) => {
                prop_assert!(matches!(e, Error::Gradient(_)), "untyped error {:?}", e);
                prop_assert!(!e.to_string().is_empty());
                prop_assert_eq!(Err(variant(&e)), want.map_err(str::to_owned));
            }
        }
    }
}
