//! Every misuse of the transformations is a typed error, never a panic:
//! each test asserts the exact `AutodiffError` (field by field), directly
//! or wrapped in `oxla::Error::Autodiff` when the closure's error type is
//! `oxla::Error`.
#![allow(clippy::unwrap_used)]

use oxla::{AutodiffError, Axes, DType, GradientError, Spacing, Tensor};
use oxla_autodiff::Role;
use oxla_ir::Shape;

fn shape(s: &[usize]) -> Shape {
    Shape::from_slice(s)
}

/// The error for operand `index` of role `what` having the `found` type instead of `expected`.
fn mismatch(
    what: Role,
    index: usize,
    expected: (&[usize], DType),
    found: (&[usize], DType),
) -> AutodiffError {
    AutodiffError::Mismatch {
        what,
        index,
        expected_shape: shape(expected.0),
        expected_dtype: expected.1,
        found_shape: shape(found.0),
        found_dtype: found.1,
    }
}

fn x3() -> Tensor {
    Tensor::from_host(ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn()).unwrap()
}

/// `x -> 2x` (shape [3]), with either error type.
fn double(xs: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
    let two = Tensor::scalar(DType::F64, 2.0).broadcast_in_dim(xs[0].shape(), &[])?;
    Ok(vec![xs[0].mul(&two)?])
}

fn double_oxla(xs: &[Tensor]) -> Result<Vec<Tensor>, oxla::Error> {
    Ok(double(xs)?)
}

/// A traced function with `oxla::Error`.
type Traced = fn(&[Tensor]) -> Result<Vec<Tensor>, oxla::Error>;

fn sum_all(t: &Tensor) -> Result<Tensor, oxla::Error> {
    let axes: Vec<usize> = (0..t.ndim()).collect();
    Ok(t.reduce_sum(&axes)?)
}

#[test]
fn cotangent_of_the_wrong_shape() {
    let (_, pullback) = oxla::vjp(double, &[x3()]).unwrap();
    let err = pullback
        .call(&[Tensor::parameter(&[4], DType::F64)])
        .unwrap_err();
    assert_eq!(
        err,
        mismatch(Role::Cotangent, 0, (&[3], DType::F64), (&[4], DType::F64))
    );
    // The message names both types.
    let message = err.to_string();
    assert!(
        message.contains("[4]") && message.contains("[3]"),
        "{message}"
    );
}

#[test]
fn cotangent_of_the_wrong_dtype() {
    let (_, pullback) = oxla::vjp(double_oxla, &[x3()]).unwrap();
    let err = pullback
        .call(&[Tensor::parameter(&[3], DType::F32)])
        .unwrap_err();
    assert_eq!(
        err,
        mismatch(Role::Cotangent, 0, (&[3], DType::F64), (&[3], DType::F32))
    );
}

#[test]
fn cotangent_mismatch_is_reported_at_its_index() {
    // Two outputs: [3] and a scalar; the second cotangent is wrong.
    let two_outputs = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
        Ok(vec![xs[0].neg()?, sum_all(&xs[0])?])
    };
    let (_, pullback) = oxla::vjp(two_outputs, &[x3()]).unwrap();
    let err = pullback
        .call(&[
            Tensor::parameter(&[3], DType::F64),
            Tensor::parameter(&[1], DType::F64),
        ])
        .unwrap_err();
    assert_eq!(
        err,
        mismatch(Role::Cotangent, 1, (&[], DType::F64), (&[1], DType::F64))
    );
}

#[test]
fn wrong_number_of_cotangents() {
    let (_, pullback) = oxla::vjp(double, &[x3()]).unwrap();
    let ct = Tensor::parameter(&[3], DType::F64);
    assert_eq!(
        pullback.call(&[ct.clone(), ct]).unwrap_err(),
        AutodiffError::Count {
            what: Role::Cotangent,
            expected: 1,
            found: 2,
        }
    );
    assert_eq!(
        pullback.call(&[]).unwrap_err(),
        AutodiffError::Count {
            what: Role::Cotangent,
            expected: 1,
            found: 0,
        }
    );
}

#[test]
fn wrong_number_of_tangents() {
    let err = oxla::jvp(double, &[x3()], &[]).unwrap_err();
    assert_eq!(
        err,
        AutodiffError::Count {
            what: Role::Tangent,
            expected: 1,
            found: 0,
        }
    );
    let err = oxla::jvp(double_oxla, &[x3()], &[x3(), x3()]).unwrap_err();
    assert_eq!(
        err,
        oxla::Error::Autodiff(AutodiffError::Count {
            what: Role::Tangent,
            expected: 1,
            found: 2,
        })
    );
}

#[test]
fn tangent_of_the_wrong_shape_or_dtype() {
    let add = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> { Ok(vec![xs[0].add(&xs[1])?]) };
    let err = oxla::jvp(
        add,
        &[x3(), x3()],
        &[x3(), Tensor::parameter(&[2, 3], DType::F64)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        oxla::Error::Autodiff(mismatch(
            Role::Tangent,
            1,
            (&[3], DType::F64),
            (&[2, 3], DType::F64)
        ))
    );
    let err = oxla::jvp(double, &[x3()], &[Tensor::parameter(&[3], DType::C128)]).unwrap_err();
    assert_eq!(
        err,
        mismatch(Role::Tangent, 0, (&[3], DType::F64), (&[3], DType::C128))
    );
}

#[test]
fn grad_of_a_non_scalar_output() {
    let err = oxla::grad(double_oxla, &[x3()]).unwrap_err();
    assert_eq!(
        err,
        oxla::Error::Autodiff(AutodiffError::NotRealScalar {
            count: 1,
            first: Some((shape(&[3]), DType::F64)),
        })
    );
    // Two scalar outputs are not one.
    let two = |xs: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> {
        let s = xs[0].reduce_sum(&[0])?;
        Ok(vec![s.clone(), s])
    };
    assert_eq!(
        oxla::value_and_grad(two, &[x3()]).unwrap_err(),
        AutodiffError::NotRealScalar {
            count: 2,
            first: Some((shape(&[]), DType::F64)),
        }
    );
    let none = |_: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> { Ok(Vec::new()) };
    assert_eq!(
        oxla::grad(none, &[x3()]).unwrap_err(),
        AutodiffError::NotRealScalar {
            count: 0,
            first: None,
        }
    );
}

#[test]
fn grad_of_a_complex_scalar() {
    let to_complex = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
        Ok(vec![xs[0].convert(DType::C128)?.reduce_sum(&[0])?])
    };
    assert_eq!(
        oxla::grad(to_complex, &[x3()]).unwrap_err(),
        oxla::Error::Autodiff(AutodiffError::NotRealScalar {
            count: 1,
            first: Some((shape(&[]), DType::C128)),
        })
    );
    // grad_wrt has the same rule.
    let x = x3();
    let y = x.convert(DType::C128).unwrap().reduce_sum(&[0]).unwrap();
    assert_eq!(
        oxla::grad_wrt(&y, &[x]).unwrap_err(),
        AutodiffError::NotRealScalar {
            count: 1,
            first: Some((shape(&[]), DType::C128)),
        }
    );
}

#[test]
fn grad_wrt_a_tensor_outside_the_graph() {
    let x = x3();
    let y = x.mul(&x).unwrap().reduce_sum(&[0]).unwrap();
    let unrelated = x3(); // equal values, but another node
    assert_eq!(
        oxla::grad_wrt(&y, &[x.clone(), unrelated.clone()]).unwrap_err(),
        AutodiffError::NotAnInput { index: 1 }
    );
    assert_eq!(
        oxla::vjp_wrt(std::slice::from_ref(&y), &[unrelated]).unwrap_err(),
        AutodiffError::NotAnInput { index: 0 }
    );
    // An intermediate node is a valid `wrt` (it is in the graph): d(sum(x*x))/d(x*x) = 1.
    let square = y.inputs()[0].clone();
    let g = oxla::grad_wrt(&y, &[square]).unwrap();
    let v = oxla::eval(&g).unwrap();
    assert_eq!(
        v[0].as_array::<f64>().unwrap().as_slice().unwrap(),
        &[1.0, 1.0, 1.0]
    );
}

#[test]
fn linear_transpose_of_non_linear_functions() {
    let ct = [Tensor::parameter(&[3], DType::F64)];
    let cases: [(&str, Traced, AutodiffError); 3] = [
        (
            "x * x",
            |xs| Ok(vec![xs[0].mul(&xs[0])?]),
            AutodiffError::NotLinear {
                op: "mul",
                operand: 1,
            },
        ),
        (
            "x / x",
            |xs| Ok(vec![xs[0].div(&xs[0])?]),
            AutodiffError::NotLinear {
                op: "div",
                operand: 1,
            },
        ),
        (
            "1 / x",
            |xs| {
                let one = Tensor::scalar(DType::F64, 1.0).broadcast_in_dim(&[3], &[])?;
                Ok(vec![one.div(&xs[0])?])
            },
            AutodiffError::NotLinear {
                op: "div",
                operand: 1,
            },
        ),
    ];
    for (name, f, expected) in cases {
        let t = oxla::linear_transpose(f, &[x3()]).unwrap();
        assert_eq!(t.call(&ct).unwrap_err(), expected, "{name}");
    }
}

#[test]
fn linear_transpose_of_gradient_in_its_coordinates() {
    // gradient(f, x) is not linear in the coordinates x.
    let f = x3();
    let in_coords =
        |xs: &[Tensor]| oxla::numpy::gradient(&f, &[Spacing::Array(xs[0].clone())], Axes::All, 1);
    let t = oxla::linear_transpose(in_coords, &[x3()]).unwrap();
    assert_eq!(
        t.call(&[Tensor::parameter(&[3], DType::F64)]).unwrap_err(),
        AutodiffError::NotLinear {
            op: "gradient",
            operand: 1,
        }
    );
}

#[test]
fn linear_transpose_cotangent_checks() {
    let t = oxla::linear_transpose(double_oxla, &[x3()]).unwrap();
    assert_eq!(
        t.call(&[Tensor::parameter(&[3, 1], DType::F64)])
            .unwrap_err(),
        mismatch(
            Role::Cotangent,
            0,
            (&[3], DType::F64),
            (&[3, 1], DType::F64)
        )
    );
    assert_eq!(
        t.call(&[]).unwrap_err(),
        AutodiffError::Count {
            what: Role::Cotangent,
            expected: 1,
            found: 0,
        }
    );
}

#[test]
fn errors_of_the_traced_function_pass_through() {
    // An invalid gradient call inside grad is the gradient's own error.
    let bad = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
        let d = oxla::numpy::gradient(&xs[0], &[], Axes::All, 3)?;
        Ok(vec![sum_all(&d[0])?])
    };
    assert_eq!(
        oxla::grad(bad, &[x3()]).unwrap_err(),
        oxla::Error::Gradient(GradientError::InvalidEdgeOrder(3))
    );
}
