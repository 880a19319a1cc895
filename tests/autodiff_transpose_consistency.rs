//! `gradient`'s own transpose rule against the transpose of its lowering.
//!
//! Two routes to `G^T v` for the same call of `numpy.gradient`:
//! - op-level: `linear_transpose(f -> gradient(f))`, which emits the
//!   `gradient_adjoint` composite (one fused adjoint stencil);
//! - primitive-derived: `linear_transpose(f -> gradient(f)[k].lower_composite())`,
//!   which transposes the pads, slices, converts and divisions of the lowering
//!   with the primitive transpose rules.
//!
//! They sum the same products in different orders, so they agree to
//! rounding: the norm-wise relative difference must stay below 1e-14 over
//! the whole domain of `autodiff_common::grad_case` (shapes up to 4-d, axes,
//! all spacing kinds, both edge orders, f64 and complex128).
#![allow(clippy::unwrap_used)]

mod autodiff_common;

use autodiff_common::{GradCase, Rng, fixed_sample, grad_case, normwise_rel_diff, random_value};
use oxla::{ArrayValue, Tensor};
use oxla_ir::{Graph, Op};
use proptest::prelude::*;

const TOL: f64 = 1e-14;

/// The two transposes of one case, evaluated, and the op names of each graph.
struct Transposes {
    op_level: Vec<ArrayValue>,
    primitive: Vec<ArrayValue>,
    op_level_names: Vec<&'static str>,
    primitive_names: Vec<&'static str>,
}

fn names(ts: &[Tensor]) -> Vec<&'static str> {
    Graph::new(ts).nodes.iter().map(|n| n.op().name()).collect()
}

fn transposes(case: &GradCase) -> Transposes {
    let like = vec![Tensor::parameter(&case.shape, case.dtype)];
    let spacing = case.spacing();
    let axes = case.axes();
    let g = |xs: &[Tensor]| oxla::numpy::gradient(&xs[0], &spacing, axes.clone(), case.edge_order);
    let op_level = oxla::linear_transpose(g, &like).unwrap();
    let primitive = oxla::linear_transpose(
        |xs: &[Tensor]| {
            g(xs)?
                .iter()
                .map(|t| t.lower_composite().map_err(oxla::Error::from))
                .collect()
        },
        &like,
    )
    .unwrap();
    let outputs = g(&like).unwrap();
    let mut rng = Rng::new(case.seed);
    let cts: Vec<Tensor> = outputs
        .iter()
        .map(|o| Tensor::literal(random_value(&mut rng, o.shape(), o.dtype())))
        .collect();
    let a = op_level.call(&cts).unwrap();
    let b = primitive.call(&cts).unwrap();
    Transposes {
        op_level_names: names(&a),
        primitive_names: names(&b),
        op_level: oxla::eval(&a).unwrap(),
        primitive: oxla::eval(&b).unwrap(),
    }
}

fn check(case: &GradCase) -> Result<f64, TestCaseError> {
    let t = transposes(case);
    let n_outputs = case.axes.as_ref().map_or(case.shape.len(), Vec::len);
    let adjoints = t
        .op_level_names
        .iter()
        .filter(|&&n| n == "gradient_adjoint")
        .count();
    prop_assert_eq!(
        adjoints,
        n_outputs,
        "{:?}: the op-level transpose has one gradient_adjoint per output",
        case
    );
    prop_assert!(
        !t.op_level_names.contains(&"gradient"),
        "{:?}: no forward stencil left in the op-level transpose",
        case
    );
    prop_assert!(
        !t.primitive_names
            .iter()
            .any(|n| n.starts_with("gradient") || *n == "composite"),
        "{:?}: the primitive-derived transpose has no composite: {:?}",
        case,
        t.primitive_names
    );
    let diff = normwise_rel_diff(&t.op_level, &t.primitive);
    prop_assert!(
        diff < TOL,
        "{:?}: op-level and primitive-derived transposes differ by {:e}",
        case,
        diff
    );
    Ok(diff)
}

proptest! {
    #![proptest_config(autodiff_common::config(384))]

    #[test]
    fn op_level_transpose_matches_primitive_transpose(case in grad_case()) {
        check(&case)?;
    }
}

/// The op-level transpose is exactly one composite node per output reading
/// the cotangent (no lowering), and it composes: transposing it again gives
/// back the forward `gradient` op.
#[test]
fn op_level_transpose_is_the_adjoint_composite() {
    let x = autodiff_common::lit(&[5], vec![0.0, 0.5, 1.75, 2.0, 3.5]);
    let spacing = [oxla::Spacing::Scalar(0.5), oxla::Spacing::Array(x)];
    let like = [Tensor::parameter(&[4, 5], oxla::DType::F64)];
    let g = |xs: &[Tensor]| oxla::numpy::gradient(&xs[0], &spacing, oxla::Axes::All, 2);
    let ct = [
        Tensor::parameter(&[4, 5], oxla::DType::F64),
        Tensor::parameter(&[4, 5], oxla::DType::F64),
    ];
    let out = oxla::linear_transpose(g, &like).unwrap().call(&ct).unwrap();
    let graph = Graph::new(&out);
    let adjoints: Vec<&Tensor> = graph
        .nodes
        .iter()
        .filter(|n| n.op().name() == "gradient_adjoint")
        .collect();
    assert_eq!(adjoints.len(), 2);
    for c in &ct {
        let readers = adjoints
            .iter()
            .filter(|a| a.inputs()[0].same_node(c))
            .count();
        assert_eq!(readers, 1, "each output's G^T reads its cotangent directly");
    }
    assert!(adjoints.iter().all(|a| matches!(a.op(), Op::Composite(_))));
    // Transposing G^T (linear in its first input) gives G back.
    let adjoint_fn = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
        let mut inputs = adjoints[1].inputs().to_vec();
        inputs[0] = xs[0].clone();
        Ok(vec![adjoints[1].with_inputs(&inputs)?])
    };
    let back = oxla::linear_transpose(adjoint_fn, &like)
        .unwrap()
        .call(&ct[..1])
        .unwrap();
    assert_eq!(back[0].op().name(), "gradient");
}

/// The largest difference over a fixed sample, printed for the record:
/// `cargo test --test autodiff_transpose_consistency -- --nocapture report`.
#[test]
fn transpose_consistency_report() {
    let cases = fixed_sample(&grad_case(), 300);
    let mut max = 0.0f64;
    let mut exact = 0;
    for case in &cases {
        let d = check(case).unwrap_or_else(|e| panic!("{e}"));
        max = max.max(d);
        exact += usize::from(d == 0.0);
    }
    println!(
        "max op-level vs primitive transpose norm-wise rel diff = {max:.3e} over {} cases ({exact} bit-identical)",
        cases.len()
    );
}
