//! `oxla_jit::eval_with`: parameters bound to arrays read in place
//! ([`ArrayRef`]) give what literals of the same data give, bit for bit,
//! whichever step reads them (a fused kernel, an interpreted node, or an
//! output that is the argument itself).
#![allow(clippy::unwrap_used)]

use oxla_ir::ndarray::{ArrayD, IxDyn};
use oxla_ir::{ArrayValue, DType, IrError, Tensor};
use oxla_jit::{ArrayRef, JitError, eval, eval_with};
use oxla_lower::{Axes, GradientSpec, Spacing, gradient};

fn data(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
        .collect()
}

fn literal(shape: &[usize], data: &[f64]) -> Tensor {
    Tensor::literal(ArrayValue::from(
        ArrayD::from_shape_vec(IxDyn(shape), data.to_vec()).unwrap(),
    ))
}

fn all_axes_gradient(f: &Tensor) -> Vec<Tensor> {
    let x = Tensor::from_host(oxla_ir::ndarray::arr1(&[0.0, 1.0, 3.0, 3.5, 5.0, 8.0]).into_dyn())
        .unwrap();
    let spacing = [Spacing::Scalar(0.5), Spacing::Array(x)];
    let spec = GradientSpec::new(f, &spacing, Axes::All, 2).unwrap();
    gradient(f, &spec).unwrap()
}

#[test]
fn a_borrowed_argument_gives_the_literals_bits() {
    let shape = [5, 6];
    let values = data(30);
    let f = Tensor::parameter(&shape, DType::F64);
    let borrowed = eval_with(
        &all_axes_gradient(&f),
        &[(&f, ArrayRef::new(&shape, &values).unwrap())],
    )
    .unwrap();
    let owned = eval(&all_axes_gradient(&literal(&shape, &values))).unwrap();
    assert_eq!(borrowed.len(), 2);
    for (b, o) in borrowed.iter().zip(&owned) {
        assert!(b.bit_eq(o));
    }
}

#[test]
fn interpreted_nodes_and_outputs_read_a_copy() {
    let values = data(4);
    let x = Tensor::parameter(&[4], DType::F64);
    // a pad with interior padding is interpreted, not fused
    let spread = x
        .pad(&Tensor::scalar(DType::F64, -1.0), &[1], &[0], &[1])
        .unwrap();
    let out = eval_with(
        &[spread, x.clone()],
        &[(&x, ArrayRef::new(&[4], &values).unwrap())],
    )
    .unwrap();
    let spread = out[0].as_array::<f64>().unwrap();
    let expected = [
        -1.0, values[0], -1.0, values[1], -1.0, values[2], -1.0, values[3],
    ];
    assert_eq!(spread.as_slice().unwrap(), &expected);
    assert_eq!(
        out[1].as_array::<f64>().unwrap().as_slice().unwrap(),
        &values[..]
    );
}

#[test]
fn unbound_and_mismatched_parameters_are_errors() {
    let values = data(6);
    let x = Tensor::parameter(&[6], DType::F64);
    let y = x.add(&x).unwrap();
    let unbound = eval_with(std::slice::from_ref(&y), &[]).unwrap_err();
    assert!(matches!(
        unbound,
        JitError::Ir(IrError::UnboundParameter(_))
    ));
    let other = Tensor::parameter(&[6], DType::F64);
    let wrong_node = eval_with(
        std::slice::from_ref(&y),
        &[(&other, ArrayRef::new(&[6], &values).unwrap())],
    );
    assert!(matches!(
        wrong_node,
        Err(JitError::Ir(IrError::UnboundParameter(_)))
    ));
    let wrong_shape = eval_with(&[y], &[(&x, ArrayRef::new(&[2, 3], &values).unwrap())]);
    assert!(matches!(
        wrong_shape,
        Err(JitError::ArgumentMismatch { index: 0, .. })
    ));
}

#[test]
fn an_array_ref_holds_exactly_its_shapes_elements() {
    let values = [1.0f32, 2.0];
    let err = ArrayRef::new(&[3], &values).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ArrayRef: shape [3] holds 3 elements, the data 2"
    );
    let a = ArrayRef::new(&[2, 1], &values).unwrap();
    assert_eq!(a.dtype(), DType::F32);
    assert!(a.as_slice::<f64>().is_none());
    assert!(a.to_value().bit_eq(&ArrayValue::from(
        ArrayD::from_shape_vec(IxDyn(&[2, 1]), values.to_vec()).unwrap()
    )));
}
