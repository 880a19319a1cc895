//! Quick end-to-end check of the fused path against the interpreter on gradient.
#![allow(clippy::unwrap_used)]
use ndarray::{ArrayD, IxDyn};
use oxla_ir::{Bindings, Tensor, evaluate};
use oxla_lower::{Axes, GradientSpec, Spacing, gradient};

fn field(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1013) as f64 * 0.37 - (i % 5) as f64)
        .collect();
    Tensor::from_host(ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()).unwrap()
}

#[test]
fn gradient_fused_matches_reference() {
    for shape in [
        vec![6],
        vec![7, 5],
        vec![3, 300],
        vec![4, 5, 6],
        vec![3, 1030],
    ] {
        for edge in [1, 2] {
            let f = field(&shape);
            let coords = Tensor::from_host(
                ndarray::Array1::from_iter((0..shape[0]).map(|i| (i as f64).powf(1.3))).into_dyn(),
            )
            .unwrap();
            let mut spacing = vec![Spacing::Array(coords)];
            for _ in 1..shape.len() {
                spacing.push(Spacing::Scalar(0.5));
            }
            let spec = GradientSpec::new(&f, &spacing, Axes::All, edge).unwrap();
            let outs = gradient(&f, &spec).unwrap();
            let fused = oxla_jit::eval(&outs).unwrap();
            let reference = evaluate(&outs, &Bindings::new()).unwrap();
            for (a, b) in fused.iter().zip(&reference) {
                assert!(a.bit_eq(b), "shape {shape:?} edge {edge}: {a:?} vs {b:?}");
            }
            let (exe, _) = oxla_jit::compile(&outs).unwrap();
            println!("{shape:?} edge {edge}:\n{}", exe.summary());
        }
    }
}
