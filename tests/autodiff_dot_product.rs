//! The dot-product test of every transpose rule: for a linear map `L`,
//! random `u` and `v`, `<L u, v> == <u, L^T v>` (f64, relative error below
//! 1e-12), with `L^T` from `oxla::linear_transpose`.
//!
//! Covered: every linear primitive (slice with strides; pad with negative
//! widths and interior padding, in the operand, the padding value, and both;
//! add; sub; neg; mul and div by a constant operand; reshape;
//! broadcast_in_dim, stretching size-1 axes; transpose; reduce_sum; convert
//! f32<->f64 and f64<->c128) and `gradient` itself over the whole call domain
//! (shapes up to 4-d, axes, every spacing kind, both edge orders).
//!
//! Complex maps use the bilinear pairing `Re sum(a * b)`: JAX's (and
//! oxla's) transposes are not conjugated. The relative error is taken
//! against the magnitude of the terms of the pairing (see
//! `autodiff_common::DotProduct`). `cargo test --test autodiff_dot_product --
//! --nocapture` prints the largest one over a fixed sample.
#![allow(clippy::unwrap_used)]

mod autodiff_common;

use std::fmt;
use std::sync::Arc;

use autodiff_common::{
    DotProduct, LinearFn, Rng, UniformValues, dot_product, dot_product_with, fixed_sample,
    grad_case, lit,
};
use oxla::{BinaryFn, Compare, DType, Tensor, UnaryFn};
use proptest::prelude::*;

/// The bound of the dot-product test in f64.
const TOL: f64 = 1e-12;

/// A linear map with its input types and a data seed.
#[derive(Clone)]
struct LinearCase {
    name: &'static str,
    desc: String,
    inputs: Vec<(Vec<usize>, DType)>,
    build: LinearFn,
    seed: u64,
    /// f64 data exactly representable in f32 (for maps that round to f32).
    f32_exact: bool,
}

impl fmt::Debug for LinearCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} inputs {:?} seed {}",
            self.name, self.desc, self.inputs, self.seed
        )
    }
}

impl LinearCase {
    fn new(
        name: &'static str,
        desc: String,
        inputs: Vec<(Vec<usize>, DType)>,
        seed: u64,
        build: impl Fn(&[Tensor]) -> Result<Vec<Tensor>, oxla::Error> + Send + Sync + 'static,
    ) -> LinearCase {
        LinearCase {
            name,
            desc,
            inputs,
            build: Arc::new(build),
            seed,
            f32_exact: false,
        }
    }

    fn run(&self) -> DotProduct {
        dot_product_with(&self.build, &self.inputs, self.seed, self.f32_exact)
            .unwrap_or_else(|e| panic!("{self:?}: {e}"))
    }
}

fn f64s(shape: &[usize]) -> Vec<(Vec<usize>, DType)> {
    vec![(shape.to_vec(), DType::F64)]
}

fn shape(max_rank: usize, max_len: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=max_len, 1..=max_rank)
}

// ---- one strategy per primitive ----------------------------------------------

fn slice_case() -> impl Strategy<Value = LinearCase> {
    shape(4, 6)
        .prop_flat_map(|s| {
            let per_axis: Vec<_> = s.iter().map(|&n| (0..n, 0..=n, 1usize..=3)).collect();
            (Just(s), per_axis, any::<u64>())
        })
        .prop_map(|(s, per_axis, seed)| {
            let start: Vec<usize> = per_axis.iter().map(|p| p.0).collect();
            let limit: Vec<usize> = per_axis.iter().map(|p| p.0.max(p.1)).collect();
            let stride: Vec<usize> = per_axis.iter().map(|p| p.2).collect();
            let desc = format!("start {start:?} limit {limit:?} stride {stride:?}");
            LinearCase::new("slice", desc, f64s(&s), seed, move |xs| {
                Ok(vec![xs[0].slice(&start, &limit, &stride)?])
            })
        })
}

/// Which operands of pad are linear.
#[derive(Clone, Copy, Debug)]
enum PadLinear {
    /// `x -> pad(x, 0)`.
    Operand,
    /// `(x, s) -> pad(x, s)`.
    Both,
    /// `s -> pad(zeros, s)`: only the padding value (JAX's transpose fails here).
    Value,
}

fn pad_case() -> impl Strategy<Value = LinearCase> {
    shape(3, 4)
        .prop_flat_map(|s| {
            let per_axis: Vec<_> = s
                .iter()
                .map(|_| (-2i64..=3, -2i64..=3, 0usize..=2))
                .collect();
            (Just(s), per_axis, 0u8..3, any::<u64>())
        })
        .prop_filter("pad output axes are non-empty", |(s, per_axis, _, _)| {
            s.iter().zip(per_axis).all(|(&n, &(lo, hi, interior))| {
                let n = n as i64;
                lo + hi + n + (n - 1) * interior as i64 >= 1
            })
        })
        .prop_map(|(s, per_axis, which, seed)| {
            let lo: Vec<i64> = per_axis.iter().map(|p| p.0).collect();
            let hi: Vec<i64> = per_axis.iter().map(|p| p.1).collect();
            let interior: Vec<usize> = per_axis.iter().map(|p| p.2).collect();
            let which = [PadLinear::Operand, PadLinear::Both, PadLinear::Value][which as usize];
            let desc = format!("{which:?} lo {lo:?} hi {hi:?} interior {interior:?}");
            let scalar = (Vec::new(), DType::F64);
            let operand = (s.clone(), DType::F64);
            let inputs = match which {
                PadLinear::Operand => vec![operand],
                PadLinear::Both => vec![operand, scalar],
                PadLinear::Value => vec![scalar],
            };
            let zeros = lit(&s, vec![0.0; s.iter().product()]);
            LinearCase::new("pad", desc, inputs, seed, move |xs| {
                let (x, v) = match which {
                    PadLinear::Operand => (xs[0].clone(), Tensor::scalar(DType::F64, 0.0)),
                    PadLinear::Both => (xs[0].clone(), xs[1].clone()),
                    PadLinear::Value => (zeros.clone(), xs[0].clone()),
                };
                Ok(vec![x.pad(&v, &lo, &hi, &interior)?])
            })
        })
}

/// add, sub, neg, mul and div by a constant operand (on either side for mul).
fn elementwise_case() -> impl Strategy<Value = LinearCase> {
    (shape(4, 5), 0u8..6, any::<u64>()).prop_map(|(s, which, seed)| {
        let n: usize = s.iter().product();
        let mut rng = Rng::new(seed ^ 0xc0);
        // Constant operands; divisors stay away from 0 (|c| in [0.5, 2)).
        let c = lit(&s, rng.values(n));
        let d = lit(
            &s,
            (0..n)
                .map(|_| rng.uniform(0.5, 2.0) * if rng.unit() < 0.5 { -1.0 } else { 1.0 })
                .collect(),
        );
        let one = f64s(&s);
        let two = vec![(s.clone(), DType::F64), (s.clone(), DType::F64)];
        match which {
            0 => LinearCase::new("add", String::new(), two, seed, |xs| {
                Ok(vec![xs[0].add(&xs[1])?])
            }),
            1 => LinearCase::new("sub", String::new(), two, seed, |xs| {
                Ok(vec![xs[0].sub(&xs[1])?])
            }),
            2 => LinearCase::new("neg", String::new(), one, seed, |xs| Ok(vec![xs[0].neg()?])),
            3 => LinearCase::new("mul", "x * c".into(), one, seed, move |xs| {
                Ok(vec![xs[0].mul(&c)?])
            }),
            4 => LinearCase::new("mul", "c * x".into(), one, seed, move |xs| {
                Ok(vec![c.mul(&xs[0])?])
            }),
            _ => LinearCase::new("div", "x / c".into(), one, seed, move |xs| {
                Ok(vec![xs[0].div(&d)?])
            }),
        }
    })
}

/// `a cmp b ? x : y`, linear in the branches `x` and `y`; the predicate's
/// operands are constants, with ties (`a == b` in about a third of the
/// elements) so every comparison takes both branches.
fn select_case() -> impl Strategy<Value = LinearCase> {
    (shape(4, 5), 0usize..5, 0u8..3, any::<u64>()).prop_map(|(s, cmp, which, seed)| {
        let n: usize = s.iter().product();
        let mut rng = Rng::new(seed ^ 0x5e1);
        let a_vals = rng.values(n);
        let b_vals: Vec<f64> = a_vals
            .iter()
            .map(|&a| {
                if rng.unit() < 0.35 {
                    a
                } else {
                    rng.uniform(-1.0, 1.0)
                }
            })
            .collect();
        let (a, b) = (lit(&s, a_vals), lit(&s, b_vals));
        let cmp = Compare::ALL[cmp];
        let desc = format!(
            "{} {}",
            cmp.name(),
            ["x, y", "x, 0", "0, y"][which as usize]
        );
        let inputs = match which {
            0 => vec![(s.clone(), DType::F64), (s.clone(), DType::F64)],
            _ => f64s(&s),
        };
        LinearCase::new("select", desc, inputs, seed, move |xs| {
            let zero = Tensor::scalar(DType::F64, 0.0).broadcast_in_dim(a.shape(), &[])?;
            let (x, y) = match which {
                0 => (xs[0].clone(), xs[1].clone()),
                1 => (xs[0].clone(), zero),
                _ => (zero, xs[0].clone()),
            };
            Ok(vec![Tensor::select(cmp, &a, &b, &x, &y)?])
        })
    })
}

/// The JVP of each math function at a fixed point, as a linear map of the
/// tangent(s): its transpose is the VJP, built from the transposes of
/// `mul`, `div`, `neg` and `select`. Points are in (0.25, 2) (every
/// function is defined there), with ties for the binary functions.
fn linearized_math_case() -> impl Strategy<Value = LinearCase> {
    let kinds = UnaryFn::ALL.len() + BinaryFn::ALL.len();
    (shape(3, 5), 0..kinds, any::<u64>()).prop_map(move |(s, k, seed)| {
        let n: usize = s.iter().product();
        let mut rng = Rng::new(seed ^ 0xa11);
        let xv: Vec<f64> = (0..n).map(|_| rng.uniform(0.25, 2.0)).collect();
        let yv: Vec<f64> = xv
            .iter()
            .map(|&x| {
                if rng.unit() < 0.3 {
                    x
                } else {
                    rng.uniform(0.25, 2.0)
                }
            })
            .collect();
        let (x, y) = (lit(&s, xv), lit(&s, yv));
        if k < UnaryFn::ALL.len() {
            let f = UnaryFn::ALL[k];
            LinearCase::new("jvp", f.name().into(), f64s(&s), seed, move |v| {
                let (_, t) = oxla::jvp(
                    |p: &[Tensor]| Ok::<_, oxla::Error>(vec![p[0].unary(f)?]),
                    std::slice::from_ref(&x),
                    v,
                )?;
                Ok(t)
            })
        } else {
            let f = BinaryFn::ALL[k - UnaryFn::ALL.len()];
            let two = vec![(s.clone(), DType::F64), (s.clone(), DType::F64)];
            LinearCase::new("jvp", f.name().into(), two, seed, move |v| {
                let (_, t) = oxla::jvp(
                    |p: &[Tensor]| Ok::<_, oxla::Error>(vec![p[0].binary_fn(f, &p[1])?]),
                    &[x.clone(), y.clone()],
                    v,
                )?;
                Ok(t)
            })
        }
    })
}

fn reshape_case() -> impl Strategy<Value = LinearCase> {
    shape(4, 4)
        .prop_flat_map(|s| {
            (
                Just(s.clone()),
                Just(s).prop_shuffle(),
                any::<bool>(),
                any::<u64>(),
            )
        })
        .prop_map(|(s, mut target, merge, seed)| {
            if merge && target.len() >= 2 {
                let first = target.remove(0);
                target[0] *= first;
            }
            let desc = format!("to {target:?}");
            LinearCase::new("reshape", desc, f64s(&s), seed, move |xs| {
                Ok(vec![xs[0].reshape(&target)?])
            })
        })
}

fn broadcast_case() -> impl Strategy<Value = LinearCase> {
    (1usize..=4)
        .prop_flat_map(|rank| {
            (
                prop::collection::vec(1usize..=4, rank),
                prop::collection::vec(any::<bool>(), rank),
                prop::collection::vec(0u8..3, rank),
                any::<u64>(),
            )
        })
        .prop_map(|(out_shape, is_operand, mode, seed)| {
            // Operand axes map to increasing output axes; an operand axis is
            // either the output's length or 1 (stretched, mode 0).
            let mut dims = Vec::new();
            let mut operand = Vec::new();
            for d in 0..out_shape.len() {
                if is_operand[d] {
                    dims.push(d);
                    operand.push(if mode[d] == 0 { 1 } else { out_shape[d] });
                }
            }
            let desc = format!("{operand:?} -> {out_shape:?} dims {dims:?}");
            LinearCase::new("broadcast_in_dim", desc, f64s(&operand), seed, move |xs| {
                Ok(vec![xs[0].broadcast_in_dim(&out_shape, &dims)?])
            })
        })
}

fn transpose_case() -> impl Strategy<Value = LinearCase> {
    shape(4, 4)
        .prop_flat_map(|s| {
            let perm: Vec<usize> = (0..s.len()).collect();
            (Just(s), Just(perm).prop_shuffle(), any::<u64>())
        })
        .prop_map(|(s, perm, seed)| {
            LinearCase::new(
                "transpose",
                format!("perm {perm:?}"),
                f64s(&s),
                seed,
                move |xs| Ok(vec![xs[0].transpose(&perm)?]),
            )
        })
}

fn reduce_sum_case() -> impl Strategy<Value = LinearCase> {
    shape(4, 5)
        .prop_flat_map(|s| {
            let n = s.len();
            (
                Just(s),
                prop::collection::vec(any::<bool>(), n),
                any::<u64>(),
            )
        })
        .prop_map(|(s, summed, seed)| {
            let axes: Vec<usize> = (0..s.len()).filter(|&d| summed[d]).collect();
            LinearCase::new(
                "reduce_sum",
                format!("axes {axes:?}"),
                f64s(&s),
                seed,
                move |xs| Ok(vec![xs[0].reduce_sum(&axes)?]),
            )
        })
}

/// f64 -> f32, f32 -> f64 (f32 data is exact in f64, so the test stays at
/// f64 precision), f64 -> c128 and c128 -> f64.
fn convert_case() -> impl Strategy<Value = LinearCase> {
    (shape(3, 5), 0usize..4, any::<u64>()).prop_map(|(s, which, seed)| {
        let (from, to) = [
            (DType::F64, DType::F32),
            (DType::F32, DType::F64),
            (DType::F64, DType::C128),
            (DType::C128, DType::F64),
        ][which];
        let desc = format!("{from} -> {to}");
        let mut case = LinearCase::new("convert", desc, vec![(s, from)], seed, move |xs| {
            Ok(vec![xs[0].convert(to)?])
        });
        // f64 -> f32 rounds the input and its transpose rounds the cotangent:
        // both are exact on f32-representable data.
        case.f32_exact = DType::F32 == from || DType::F32 == to;
        case
    })
}

/// `f -> numpy.gradient(f, ...)` on the shared domain.
fn gradient_case() -> impl Strategy<Value = LinearCase> {
    grad_case().prop_map(|g| {
        LinearCase::new("gradient", format!("{g:?}"), g.inputs(), g.seed, {
            let build = g.linear_fn();
            move |xs| build(xs)
        })
    })
}

fn check(case: &LinearCase) -> Result<(), TestCaseError> {
    let r = case.run();
    prop_assert!(
        r.rel_err < TOL,
        "{case:?}: <Lu, v> = {} but <u, L^T v> = {} (rel err {:e})",
        r.lhs,
        r.rhs,
        r.rel_err
    );
    Ok(())
}

proptest! {
    #![proptest_config(autodiff_common::config(256))]

    #[test]
    fn slice_transpose(case in slice_case()) { check(&case)?; }

    #[test]
    fn select_transpose(case in select_case()) { check(&case)?; }

    #[test]
    fn linearized_math_transposes(case in linearized_math_case()) { check(&case)?; }

    #[test]
    fn pad_transpose(case in pad_case()) { check(&case)?; }

    #[test]
    fn elementwise_transposes(case in elementwise_case()) { check(&case)?; }

    #[test]
    fn reshape_transpose(case in reshape_case()) { check(&case)?; }

    #[test]
    fn broadcast_in_dim_transpose(case in broadcast_case()) { check(&case)?; }

    #[test]
    fn transpose_transpose(case in transpose_case()) { check(&case)?; }

    #[test]
    fn reduce_sum_transpose(case in reduce_sum_case()) { check(&case)?; }

    #[test]
    fn convert_transpose(case in convert_case()) { check(&case)?; }
}

proptest! {
    #![proptest_config(autodiff_common::config(384))]

    #[test]
    fn gradient_transpose(case in gradient_case()) { check(&case)?; }
}

/// A composition of several primitives at once (what `vjp` transposes in
/// practice): `x -> reduce_sum(transpose(pad(slice(x) * c, s)))`.
#[test]
fn composed_linear_map() {
    let c = lit(&[2, 3], vec![0.5, -2.0, 3.0, 1.25, -0.75, 4.0]);
    let build: LinearFn = Arc::new(move |xs: &[Tensor]| {
        let y = xs[0].slice(&[1, 0], &[5, 6], &[2, 2])?.mul(&c)?;
        let p = y.pad(&xs[1], &[-1, 2], &[1, -1], &[1, 0])?;
        Ok(vec![
            p.transpose(&[1, 0])?.reduce_sum(&[0])?,
            p.neg()?.sub(&p)?,
        ])
    });
    let inputs = vec![(vec![5, 6], DType::F64), (vec![], DType::F64)];
    for seed in 0..8 {
        let r = dot_product(&build, &inputs, seed).unwrap();
        assert!(r.rel_err < TOL, "seed {seed}: {r:?}");
    }
}

/// The same test over a fixed, deterministic sample of every strategy above,
/// printing the largest relative error seen (per primitive and overall):
/// `cargo test --test autodiff_dot_product -- --nocapture dot_product_report`.
#[test]
fn dot_product_report() {
    let mut cases: Vec<LinearCase> = Vec::new();
    cases.extend(fixed_sample(&slice_case(), 40));
    cases.extend(fixed_sample(&pad_case(), 60));
    cases.extend(fixed_sample(&elementwise_case(), 60));
    cases.extend(fixed_sample(&reshape_case(), 30));
    cases.extend(fixed_sample(&broadcast_case(), 40));
    cases.extend(fixed_sample(&transpose_case(), 30));
    cases.extend(fixed_sample(&reduce_sum_case(), 30));
    cases.extend(fixed_sample(&convert_case(), 40));
    cases.extend(fixed_sample(&gradient_case(), 200));
    let mut worst: Vec<(&'static str, f64, f64)> = Vec::new();
    for case in &cases {
        let r = case.run();
        // On this fixed sample the error relative to |<Lu, v>| alone is
        // below the bound too (the property tests only bound the
        // term-relative error, which random cancellation cannot inflate).
        assert!(r.rel_err < TOL && r.plain_rel_err < TOL, "{case:?}: {r:?}");
        match worst.iter_mut().find(|w| w.0 == case.name) {
            Some(w) => {
                w.1 = w.1.max(r.rel_err);
                w.2 = w.2.max(r.plain_rel_err);
            }
            None => worst.push((case.name, r.rel_err, r.plain_rel_err)),
        }
    }
    for (name, rel, plain) in &worst {
        println!("{name:>16}: max rel err {rel:.3e} (relative to |<Lu,v>| alone: {plain:.3e})");
    }
    let max = worst.iter().map(|w| w.1).fold(0.0, f64::max);
    let max_plain = worst.iter().map(|w| w.2).fold(0.0, f64::max);
    println!(
        "max dot-product rel err = {max:.3e} over {} cases (relative to |<Lu,v>| alone: {max_plain:.3e})",
        cases.len()
    );
}
