#![allow(clippy::unwrap_used)]
//! Every copy of the executor's loops (portable, AVX2, AVX-512) gives the
//! reference interpreter's bits: gradients, their VJPs and value_and_grad
//! in every dtype, with special values, under each width this CPU has.
//! (`.ci/run` also runs the whole bit-identity suites with `OXLA_SIMD` set
//! to each width.)

mod common;

use common::{
    Rng, Specials, assert_fused_eq_reference, random_literal, squared_norm, total_variation,
};
use oxla_ir::{BinaryFn, Compare, DType, Tensor, UnaryFn};
use oxla_jit::{Simd, active_simd, force_simd};
use oxla_lower::{Axes, GradientSpec, Spacing};

fn gradient(f: &Tensor, spacing: &[Spacing], edge_order: i64) -> Vec<Tensor> {
    let spec = GradientSpec::new(f, spacing, Axes::All, edge_order).unwrap();
    oxla_lower::gradient(f, &spec).unwrap()
}

fn cases(rng: &mut Rng) -> Vec<(String, Vec<Tensor>)> {
    let mut out = Vec::new();
    let specials = Specials {
        rate: 0.05,
        signaling: true,
    };
    for dtype in [DType::F16, DType::F32, DType::F64, DType::C64, DType::C128] {
        for shape in [vec![1000], vec![37, 129], vec![9, 10, 70]] {
            let f = random_literal(rng, &shape, dtype, specials);
            for edge_order in [1, 2] {
                let spacing = [Spacing::Scalar(0.7)];
                let g = gradient(&f, &spacing, edge_order);
                out.push((
                    format!("gradient {dtype} {shape:?} eo{edge_order}"),
                    g.clone(),
                ));
                let (_, pullback) = oxla_autodiff::vjp(
                    |xs: &[Tensor]| {
                        Ok::<_, oxla_autodiff::AutodiffError>(gradient(
                            &xs[0], &spacing, edge_order,
                        ))
                    },
                    std::slice::from_ref(&f),
                )
                .unwrap();
                let cts: Vec<Tensor> = g
                    .iter()
                    .map(|t| random_literal(rng, t.shape(), dtype, specials))
                    .collect();
                let vjp = pullback.call(&cts).unwrap();
                out.push((format!("vjp {dtype} {shape:?} eo{edge_order}"), vjp));
                if !dtype.is_complex() {
                    let (v, gr) = oxla_autodiff::value_and_grad(
                        |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla_autodiff::AutodiffError> {
                            Ok(vec![squared_norm(gradient(&xs[0], &spacing, edge_order))?])
                        },
                        std::slice::from_ref(&f),
                    )
                    .unwrap();
                    out.push((
                        format!("value_and_grad {dtype} {shape:?} eo{edge_order}"),
                        vec![v, gr[0].clone()],
                    ));
                }
            }
            if !dtype.is_complex() && shape.len() == 2 {
                // total variation's fused magnitudes and weighted doublings
                let (v, gr) = oxla_autodiff::value_and_grad(
                    |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla_autodiff::AutodiffError> {
                        Ok(vec![total_variation(&xs[0], false)?])
                    },
                    std::slice::from_ref(&f),
                )
                .unwrap();
                out.push((format!("tv {dtype} {shape:?}"), vec![v, gr[0].clone()]));
            }
        }
    }
    out
}

/// Outputs of at least 16 MiB are written with non-temporal stores
/// (`exec::stream`): the same bits, at every width, with tiles of every
/// alignment (rows of 2099 elements put row starts at every offset).
#[test]
fn streamed_outputs_give_the_interpreters_bits() {
    let mut rng = Rng::new(11);
    let f = random_literal(
        &mut rng,
        &[1000, 2099],
        DType::F64,
        Specials {
            rate: 0.01,
            signaling: false,
        },
    );
    let g = gradient(&f, &[Spacing::Scalar(0.3)], 2);
    let reference = oxla_ir::evaluate(&g, &oxla_ir::Bindings::new()).unwrap();
    for simd in Simd::ALL {
        if !force_simd(Some(simd)) {
            continue;
        }
        let fused = oxla_jit::eval(&g).unwrap();
        common::compare(&fused, &reference).unwrap_or_else(|e| panic!("{simd:?}: {e}"));
    }
    force_simd(None);
}

/// Elementwise instructions of every loop shape, each writing its own
/// output: unary math, negation, binary arithmetic and extrema, a select,
/// and conversions to f32 and f16 (outputs of 4- and 2-byte elements
/// beside f64 ones, so their tiles' partial lines differ).
fn elementwise(f: &Tensor, g: &Tensor) -> Vec<Tensor> {
    vec![
        f.unary(UnaryFn::Sqrt).unwrap(),
        f.neg().unwrap(),
        f.mul(g).unwrap(),
        f.binary_fn(BinaryFn::Max, g).unwrap(),
        Tensor::select(Compare::Gt, f, g, f, g).unwrap(),
        f.convert(DType::F32).unwrap(),
        f.convert(DType::F16).unwrap(),
    ]
}

/// Streamed outputs of every kind of computing instruction, not only
/// `gradient`'s: finite differences (pair sums, two outputs, f64 and f32,
/// with and without a center), total
/// variation's gradient (its fused rows, with a reduction in the same
/// kernel), elementwise instructions of every loop shape, and f32 rows
/// of 2099 elements (tiles ending at every offset): the same bits at every
/// width.
#[test]
fn streamed_outputs_of_every_instruction_kind_give_the_interpreters_bits() {
    let mut rng = Rng::new(13);
    let specials = Specials {
        rate: 0.01,
        signaling: false,
    };
    let f64_field = random_literal(&mut rng, &[1000, 2099], DType::F64, specials);
    let f32_field = random_literal(&mut rng, &[2000, 2099], DType::F32, specials);
    let other = random_literal(&mut rng, &[1000, 2099], DType::F64, specials);
    // second derivatives (pair sums with a center) and first derivatives
    // of accuracy 6 (no center, three pairs)
    let fd = |f: &Tensor, order: i64, accuracy: i64| {
        oxla_lower::fd::derivatives(
            f,
            &[
                oxla_lower::fd::Derivative::new(0, order)
                    .accuracy(accuracy)
                    .spacing(0.3),
                oxla_lower::fd::Derivative::new(1, order)
                    .accuracy(accuracy)
                    .spacing(0.3),
            ],
        )
        .unwrap()
    };
    let (v, tv_grad) = oxla_autodiff::value_and_grad(
        |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla_autodiff::AutodiffError> {
            Ok(vec![total_variation(&xs[0], false)?])
        },
        std::slice::from_ref(&f32_field),
    )
    .unwrap();
    let cases = [
        ("fd d2 acc4 f64", fd(&f64_field, 2, 4)),
        ("fd d1 acc6 f64", fd(&f64_field, 1, 6)),
        ("fd d2 acc4 f32", fd(&f32_field, 2, 4)),
        (
            "gradient f32",
            gradient(&f32_field, &[Spacing::Scalar(0.7)], 1),
        ),
        ("tv f32", vec![v, tv_grad[0].clone()]),
        ("elementwise f64", elementwise(&f64_field, &other)),
    ];
    for simd in Simd::ALL {
        if !force_simd(Some(simd)) {
            continue;
        }
        for (name, outputs) in &cases {
            assert_fused_eq_reference(outputs, &format!("{simd:?}: {name}"));
        }
    }
    force_simd(None);
}

#[test]
fn every_width_gives_the_interpreters_bits() {
    let mut rng = Rng::new(7);
    let cases = cases(&mut rng);
    let mut ran = Vec::new();
    for simd in Simd::ALL {
        if !force_simd(Some(simd)) {
            continue;
        }
        assert_eq!(active_simd(), simd);
        for (name, outputs) in &cases {
            assert_fused_eq_reference(outputs, &format!("{simd:?}: {name}"));
        }
        ran.push(simd);
    }
    force_simd(None);
    assert!(ran.contains(&Simd::Portable));
    println!("widths run: {ran:?}");
}
