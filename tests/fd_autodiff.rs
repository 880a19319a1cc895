//! Differentiating `oxla::fd::derivative`:
//!
//! - in `f`, by its op-level transpose (`fd_adjoint`, the same stencil
//!   scattering): the dot-product test `<D u, v> == <u, D^T v>` (relative
//!   to the magnitude of the terms, below 1e-12, f64 and complex128) and
//!   the transpose of its lowering (norm-wise relative difference below
//!   1e-14), over the call domain of `fd_common::fd_case` and the largest
//!   coordinate stencils;
//! - in the coordinates and in a 0-d step, through the lowering (the
//!   weights are graph nodes): `grad` against central finite differences.
#![allow(clippy::unwrap_used)]

mod autodiff_common;
mod fd_common;

use std::sync::Arc;

use autodiff_common::{LinearFn, dot_product, normwise_rel_diff};
use fd_common::{FdCase, Rng, config, coordinates, f64_tensor, fd_case, fixed_sample};
use oxla::fd::{Boundary, Derivative};
use oxla::{DType, Spacing, Tensor};
use oxla_ir::Graph;
use proptest::prelude::*;

fn linear(case: &FdCase) -> LinearFn {
    let d = case.derivative();
    Arc::new(move |xs: &[Tensor]| Ok(vec![oxla::fd::derivative(&xs[0], &d)?]))
}

fn names(ts: &[Tensor]) -> Vec<&'static str> {
    Graph::new(ts).nodes.iter().map(|n| n.op().name()).collect()
}

fn dot_product_error(case: &FdCase) -> f64 {
    let inputs = vec![(case.shape.clone(), case.dtype)];
    dot_product(&linear(case), &inputs, case.seed)
        .unwrap()
        .rel_err
}

/// The op-level transpose against the transpose of the lowering.
fn transpose_difference(case: &FdCase) -> Result<f64, TestCaseError> {
    let like = vec![Tensor::parameter(&case.shape, case.dtype)];
    let d = case.derivative();
    let op_level = oxla::linear_transpose(
        |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?]),
        &like,
    )
    .unwrap();
    let primitive = oxla::linear_transpose(
        |xs: &[Tensor]| {
            Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?.lower_composite()?])
        },
        &like,
    )
    .unwrap();
    let ct = [case.data()];
    let (a, b) = (op_level.call(&ct).unwrap(), primitive.call(&ct).unwrap());
    let (na, nb) = (names(&a), names(&b));
    let numpy = case.order == 1 && case.accuracy == 2 && !case.periodic;
    prop_assert!(
        na.contains(&"fd_adjoint") && !na.contains(&"fd"),
        "{:?}",
        na
    );
    prop_assert!(
        !nb.iter()
            .any(|n| n.starts_with("fd") || (!numpy && n.starts_with("gradient"))),
        "{:?}",
        nb
    );
    Ok(normwise_rel_diff(
        &oxla::eval(&a).unwrap(),
        &oxla::eval(&b).unwrap(),
    ))
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn dot_product_test_of_the_transpose(case in fd_case(&[DType::F64, DType::F64, DType::C128])) {
        let e = dot_product_error(&case);
        prop_assert!(e < 1e-12, "{:?}: relative error {:e}", case, e);
    }

    #[test]
    fn op_level_transpose_matches_the_transpose_of_the_lowering(
        case in fd_case(&[DType::F64, DType::C128])
    ) {
        let d = transpose_difference(&case)?;
        prop_assert!(d < 1e-14, "{:?}: {:e}", case, d);
    }

    #[test]
    fn the_tangent_in_f_is_the_op_itself(case in fd_case(&[DType::F64])) {
        let d = case.derivative();
        let f = case.data();
        let t = Tensor::literal(fd_common::random_value(&mut Rng::new(case.seed ^ 1), &case.shape, case.dtype));
        let (_, tangent) = oxla::jvp(
            |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?]),
            &[f],
            std::slice::from_ref(&t),
        ).unwrap();
        let direct = oxla::fd::derivative(&t, &d).unwrap();
        let v = oxla::eval(&[tangent[0].clone(), direct]).unwrap();
        prop_assert!(v[0].bit_eq(&v[1]), "{:?}", case);
    }
}

/// The largest coordinate stencils (order 6, accuracy 6, both
/// boundaries), outside the property tests' domain because they compile slowly.
#[test]
fn the_largest_coordinate_stencils_transpose_exactly() {
    let mut rng = Rng::new(5);
    for periodic in [false, true] {
        let n = if periodic { 15 } else { 12 } + 2;
        let x = coordinates(&mut rng, n);
        let period = x[n - 1] - x[0] + 1.0;
        let case = FdCase {
            shape: vec![1, n],
            dtype: DType::F64,
            axis: 1,
            order: 6,
            accuracy: 6,
            periodic,
            grid: fd_common::Grid::Coords(x, period),
            seed: 9,
        };
        assert!(dot_product_error(&case) < 1e-12, "{case:?}");
        assert!(transpose_difference(&case).unwrap() < 1e-14, "{case:?}");
    }
}

/// The largest errors over a fixed sample, for the record:
/// `cargo test --test fd_autodiff -- --nocapture report`.
#[test]
fn transpose_report() {
    let cases = fixed_sample(&fd_case(&[DType::F64, DType::C128]), 100);
    let (mut dot, mut tr) = (0.0f64, 0.0f64);
    for case in &cases {
        dot = dot.max(dot_product_error(case));
        tr = tr.max(transpose_difference(case).unwrap());
    }
    println!(
        "over {} cases: dot-product test max relative error {dot:.3e}; op-level vs lowering transpose max norm-wise difference {tr:.3e}",
        cases.len()
    );
}

/// Transposing `fd_adjoint` gives `fd` back.
#[test]
fn the_transpose_of_the_transpose_is_the_derivative() {
    let d = Derivative::new(0, 2).accuracy(4).spacing(0.5).periodic();
    let like = [Tensor::parameter(&[12, 3], DType::F64)];
    let t = oxla::linear_transpose(
        |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![oxla::fd::derivative(&xs[0], &d)?]),
        &like,
    )
    .unwrap()
    .call(&like)
    .unwrap();
    assert_eq!(t[0].op().name(), "fd_adjoint");
    let back = oxla::linear_transpose(
        |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![t[0].with_inputs(&[xs[0].clone()])?]),
        &like,
    )
    .unwrap()
    .call(&like)
    .unwrap();
    assert_eq!(back[0].op().name(), "fd");
}

// ---- in the coordinates and the step: finite differences --------------------

/// Central-difference step relative to the grid spacing (about 1): the
/// loss is smooth in the coordinates on that scale, truncation error
/// `H^2` times its third derivative dominates rounding (as in
/// `tests/autodiff_finite_differences.rs`).
const H: f64 = 1e-5;
const RTOL: f64 = 1e-6;

/// `sum(w * D(f; x)^2)`: non-linear in the coordinates through the weights.
fn loss(f: &Tensor, spacing: &Tensor, w: &Tensor, d: &Derivative) -> Result<Tensor, oxla::Error> {
    let g = oxla::fd::derivative(f, &d.clone().spacing(Spacing::Array(spacing.clone())))?;
    let axes: Vec<usize> = (0..f.ndim()).collect();
    Ok(g.mul(&g)?.mul(w)?.reduce_sum(&axes)?)
}

fn scalar(t: Tensor) -> f64 {
    oxla::eval(&[t]).unwrap()[0]
        .as_array::<f64>()
        .unwrap()
        .iter()
        .copied()
        .next()
        .unwrap()
}

/// `grad` of the loss in the spacing against central differences.
fn check_spacing_gradient(d: &Derivative, shape: &[usize], spacing: Vec<f64>, seed: u64) {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let f = f64_tensor(shape, (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect());
    let w = f64_tensor(shape, (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect());
    let s_shape: Vec<usize> = if spacing.len() == 1 {
        vec![]
    } else {
        vec![spacing.len()]
    };
    let at = |s: &[f64]| f64_tensor(&s_shape, s.to_vec());
    let g = oxla::grad(
        |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![loss(&f, &xs[0], &w, d)?]),
        &[at(&spacing)],
    )
    .unwrap();
    let g = oxla::eval(&g).unwrap()[0]
        .as_array::<f64>()
        .unwrap()
        .clone();
    let numeric: Vec<f64> = (0..spacing.len())
        .map(|k| {
            let shifted = |delta: f64| {
                let mut s = spacing.clone();
                s[k] += delta;
                scalar(loss(&f, &at(&s), &w, d).unwrap())
            };
            (shifted(H) - shifted(-H)) / (2.0 * H)
        })
        .collect();
    let size = numeric.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (a, b)) in g.iter().zip(&numeric).enumerate() {
        assert!(
            (a - b).abs() <= RTOL * size,
            "{d:?}: d/dx[{k}] autodiff {a}, central difference {b}"
        );
    }
}

#[test]
fn gradients_in_the_coordinates_match_finite_differences() {
    let mut rng = Rng::new(11);
    for (order, accuracy, periodic) in [
        (1, 2, false),
        (1, 4, false),
        (2, 2, false),
        (2, 4, true),
        (3, 2, true),
        (4, 6, false),
        (1, 6, true),
    ] {
        let d = Derivative::new(1, order).accuracy(accuracy);
        let probe = d.clone().spacing(f64_tensor(&[2], vec![0.0, 1.0]));
        let probe = if periodic {
            probe.boundary(Boundary::periodic_with_period(1.0))
        } else {
            probe
        };
        let n = probe.min_len().unwrap() + 3;
        let x = coordinates(&mut rng, n);
        let d = if periodic {
            d.boundary(Boundary::periodic_with_period(
                x[n - 1] - x[0] + (x[1] - x[0]),
            ))
        } else {
            d
        };
        check_spacing_gradient(&d, &[3, n], x, order as u64);
    }
}

#[test]
fn gradients_in_a_step_match_finite_differences() {
    for (order, accuracy, periodic) in [(1, 4, false), (2, 2, true), (3, 6, false)] {
        let d = Derivative::new(0, order).accuracy(accuracy);
        let d = if periodic { d.periodic() } else { d };
        let n = d.min_len().unwrap() + 2;
        check_spacing_gradient(&d, &[n, 2], vec![0.7], 3);
    }
}
