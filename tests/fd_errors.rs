//! Every argument `oxla::fd` rejects, each a typed [`FdError`] raised
//! before any node is built, with a message that says what is wrong.
#![allow(clippy::unwrap_used)]

mod fd_common;

use fd_common::f64_tensor;
use oxla::fd::{AxisGrid, Boundary, Derivative, FdError};
use oxla::{DType, Error, Spacing, Tensor};

fn f(shape: &[usize]) -> Tensor {
    Tensor::parameter(shape, DType::F64)
}

/// The error of `d` on an array of `shape`, with its message.
fn error(shape: &[usize], d: Derivative) -> (FdError, String) {
    match oxla::fd::derivative(&f(shape), &d) {
        Err(Error::Fd(e)) => {
            let message = e.to_string();
            (e, message)
        }
        other => panic!("{d:?} on {shape:?}: expected an FdError, got {other:?}"),
    }
}

/// The error of `d` on `shape`, whose message must contain `needle`.
fn rejected(shape: &[usize], d: Derivative, needle: &str) -> FdError {
    let (e, m) = error(shape, d);
    assert!(m.contains(needle), "{needle:?} not in {m:?}");
    e
}

fn coords(x: &[f64]) -> Spacing {
    Spacing::Array(f64_tensor(&[x.len()], x.to_vec()))
}

#[test]
fn the_order_is_from_1_to_6() {
    for order in [0, -1, 7, i64::MIN] {
        let (e, m) = error(&[10], Derivative::new(0, order));
        assert_eq!(e, FdError::InvalidOrder { order, max: 6 });
        assert!(m.contains("between 1 and 6"), "{m}");
    }
}

#[test]
fn the_accuracy_is_even_and_from_2_to_12() {
    for accuracy in [0, 1, 3, -2, 13, 14] {
        let (e, m) = error(&[40], Derivative::new(0, 1).accuracy(accuracy));
        assert_eq!(
            e,
            FdError::InvalidAccuracy {
                accuracy,
                max: 12,
                coords: false
            }
        );
        assert!(m.contains("even number from 2 to 12"), "{m}");
    }
}

#[test]
fn coordinate_axes_take_accuracy_up_to_6() {
    let x: Vec<f64> = (0..30).map(f64::from).collect();
    let (e, m) = error(&[30], Derivative::new(0, 1).accuracy(8).spacing(coords(&x)));
    assert_eq!(
        e,
        FdError::InvalidAccuracy {
            accuracy: 8,
            max: 6,
            coords: true
        }
    );
    assert!(m.contains("on a coordinate axis"), "{m}");
}

#[test]
fn the_axis_is_one_of_the_arrays() {
    for axis in [2, -3, 100] {
        let (e, m) = error(&[8, 8], Derivative::new(axis, 1));
        assert_eq!(e, FdError::AxisOutOfBounds { axis, ndim: 2 });
        assert!(m.contains("out of bounds"), "{m}");
    }
    // a 0-d array has no axis
    assert!(matches!(
        error(&[], Derivative::new(0, 1)).0,
        FdError::AxisOutOfBounds { axis: 0, ndim: 0 }
    ));
}

#[test]
fn an_axis_too_short_for_the_stencil_names_the_minimum() {
    // uniform one-sided: d2 accuracy 4 needs 7 points (6 forward, from row 1)
    let (e, m) = error(&[6, 3], Derivative::new(0, 2).accuracy(4));
    assert!(
        matches!(
            e,
            FdError::AxisTooShort {
                axis: 0,
                len: 6,
                needed: 7,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(m.contains("needs at least 7"), "{m}");
    // periodic: the centered stencil's 5 points
    let (e, _) = error(&[3, 4], Derivative::new(1, 2).accuracy(4).periodic());
    assert!(
        matches!(e, FdError::AxisTooShort { needed: 5, .. }),
        "{e:?}"
    );
    // coordinates: the 6 points of the one-sided stencil
    let x = [0.0, 1.0, 2.5, 3.0, 4.5];
    let (e, m) = error(&[5], Derivative::new(0, 2).accuracy(4).spacing(coords(&x)));
    assert!(
        matches!(e, FdError::AxisTooShort { needed: 6, .. }),
        "{e:?}"
    );
    assert!(m.contains("coordinates"), "{m}");
    // numpy.gradient's case: 3 points
    let (e, _) = error(&[2], Derivative::new(0, 1));
    assert!(
        matches!(e, FdError::AxisTooShort { needed: 3, .. }),
        "{e:?}"
    );
}

#[test]
fn steps_are_finite_and_non_zero() {
    for step in [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (e, m) = error(&[10], Derivative::new(0, 2).spacing(step));
        assert!(
            matches!(e, FdError::InvalidStep { axis: 0, step: s } if s.to_bits() == step.to_bits()),
            "{e:?}"
        );
        assert!(m.contains("finite and non-zero"), "{m}");
    }
    // a 0-d tensor step, when its value is known
    let zero = Spacing::Array(Tensor::scalar(DType::F32, 0.0));
    let (e, _) = error(&[10], Derivative::new(0, 1).accuracy(4).spacing(zero));
    assert!(matches!(e, FdError::InvalidStep { .. }), "{e:?}");
}

#[test]
fn coordinates_are_finite_and_strictly_increasing() {
    let (e, m) = error(
        &[5],
        Derivative::new(0, 1).spacing(coords(&[0.0, 1.0, 1.0, 2.0, 3.0])),
    );
    assert_eq!(
        e,
        FdError::CoordinatesNotIncreasing {
            axis: 0,
            index: 2,
            previous: 1.0,
            value: 1.0
        }
    );
    assert!(
        m.contains("strictly increasing") && m.contains("x[2]"),
        "{m}"
    );
    let (e, _) = error(
        &[5],
        Derivative::new(0, 2).spacing(coords(&[4.0, 3.0, 2.0, 1.0, 0.0])),
    );
    assert!(
        matches!(e, FdError::CoordinatesNotIncreasing { index: 1, .. }),
        "{e:?}"
    );
    let nan = [0.0, 1.0, f64::NAN, 3.0, 4.0];
    let e = rejected(&[5], Derivative::new(0, 2).spacing(coords(&nan)), "finite");
    assert!(
        matches!(e, FdError::NonFiniteCoordinate { index: 2, .. }),
        "{e:?}"
    );
}

#[test]
fn traced_coordinates_are_taken_as_given() {
    // their values are unknown when the op is built (a jit argument, a
    // differentiated input): only their form is checked
    let x = Spacing::Array(Tensor::parameter(&[9], DType::F64));
    assert!(oxla::fd::derivative(&f(&[9]), &Derivative::new(0, 2).spacing(x)).is_ok());
}

#[test]
fn a_spacing_is_a_number_a_0d_step_or_1d_coordinates_of_the_axis() {
    let (e, m) = error(
        &[4, 5],
        Derivative::new(0, 1).spacing(Spacing::Array(Tensor::parameter(&[4, 5], DType::F64))),
    );
    assert_eq!(e, FdError::SpacingNotOneDimensional { ndim: 2 });
    assert!(m.contains("1-d coordinates"), "{m}");
    let (e, m) = error(
        &[4, 5],
        Derivative::new(1, 1).spacing(coords(&[0.0, 1.0, 2.0, 3.0])),
    );
    assert_eq!(
        e,
        FdError::CoordinateLengthMismatch {
            axis: 1,
            expected: 5,
            found: 4
        }
    );
    assert!(m.contains("5 points") && m.contains("4 values"), "{m}");
    let complex = Spacing::Array(Tensor::parameter(&[5], DType::C128));
    let (e, m) = error(&[5], Derivative::new(0, 1).spacing(complex));
    assert_eq!(e, FdError::ComplexSpacing { dtype: DType::C128 });
    assert!(m.contains("must be real"), "{m}");
}

#[test]
fn a_period_goes_with_periodic_coordinates_only() {
    let x = [0.0, 0.5, 1.5, 2.0, 3.0, 3.5];
    let (e, m) = error(&[6], Derivative::new(0, 1).spacing(coords(&x)).periodic());
    assert_eq!(e, FdError::MissingPeriod { axis: 0 });
    assert!(m.contains("period length"), "{m}");
    let (e, m) = error(
        &[6],
        Derivative::new(0, 1)
            .spacing(0.5)
            .boundary(Boundary::periodic_with_period(3.0)),
    );
    assert_eq!(e, FdError::UnexpectedPeriod);
    assert!(m.contains("n*h"), "{m}");
    for period in [3.5, 2.0, -1.0, 0.0, f64::NAN, f64::INFINITY] {
        let d = Derivative::new(0, 1)
            .spacing(coords(&x))
            .boundary(Boundary::periodic_with_period(period));
        let e = rejected(&[6], d, "longer than the span");
        assert!(
            matches!(e, FdError::InvalidPeriod { axis: 0, .. }),
            "{period}: {e:?}"
        );
    }
}

#[test]
fn vector_operators_check_their_fields_and_grids() {
    let a = f(&[6, 6]);
    let b = f(&[6, 7]);
    let one = [AxisGrid::step(1.0)];
    let e = oxla::fd::divergence(&[a.clone(), b], &one, 2).unwrap_err();
    assert!(
        matches!(e, Error::Fd(FdError::FieldMismatch { index: 1, .. })),
        "{e:?}"
    );
    let e = oxla::fd::curl(std::slice::from_ref(&a), &one, 2).unwrap_err();
    assert!(e.to_string().contains("takes 2 or 3 components"), "{e}");
    let e = oxla::fd::divergence(&[a.clone(), a.clone(), a.clone()], &one, 2).unwrap_err();
    assert!(e.to_string().contains("one component per dimension"), "{e}");
    let three = [
        AxisGrid::step(1.0),
        AxisGrid::step(1.0),
        AxisGrid::step(1.0),
    ];
    let e = oxla::fd::laplacian(&a, &three, 2).unwrap_err();
    assert!(e.to_string().contains("3 grid(s) for 2 axes"), "{e}");
    // each derivative's own rules apply, before any node is built
    let e = oxla::fd::laplacian(&a, &one, 5).unwrap_err();
    assert!(
        matches!(e, Error::Fd(FdError::InvalidAccuracy { accuracy: 5, .. })),
        "{e:?}"
    );
}
