#![allow(clippy::unwrap_used)]
//! One test per error row of `docs/gradient-spec.md`:
//! each asserts the exact `GradientError` variant and fields and that the
//! message carries NumPy's wording. The calls mirror NumPy's own
//! `TestGradient` where it has them (`test_args`, `test_badargs`,
//! `test_specific_axes`, `test_values`).

use ndarray::{Array, ArrayD, IxDyn, arr0, arr1};
use num_complex::Complex64;
use oxla::{Axes, DType, Error, GradientError, IrError, Spacing, Tensor, numpy};

const TOO_SHORT: &str = "Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) elements are required.";
const NOT_1D: &str = "distances must be either scalars or 1d";
const LENGTH: &str = "when 1d, distances must match the length of the corresponding dimension";
const COUNT: &str = "invalid number of arguments";
const REPEATED: &str = "repeated axis";
const EDGE_ORDER: &str = "'edge_order' greater than 2 not supported";

fn t(a: ArrayD<f64>) -> Tensor {
    Tensor::from_host(a).unwrap()
}

fn zeros(shape: &[usize]) -> Tensor {
    t(ArrayD::zeros(IxDyn(shape)))
}

/// NumPy's `f_2d = np.arange(25).reshape(5, 5)` (int64, entering as f64).
fn f_2d() -> Tensor {
    let a = Array::from_shape_vec(IxDyn(&[5, 5]), (0..25i64).collect()).unwrap();
    Tensor::from_host(a).unwrap()
}

/// NumPy's `x = np.cumsum(np.ones(5))`.
fn x5() -> Spacing {
    Spacing::Array(t(arr1(&[1.0, 2.0, 3.0, 4.0, 5.0]).into_dyn()))
}

fn ones(n: usize) -> Spacing {
    Spacing::Array(t(ArrayD::ones(IxDyn(&[n]))))
}

fn s(v: f64) -> Spacing {
    Spacing::Scalar(v)
}

/// The error of a call that must fail, with its message checked for `numpy_words`.
fn fails(
    f: &Tensor,
    spacing: &[Spacing],
    axis: impl Into<Axes>,
    edge_order: i64,
    numpy_words: &str,
) -> GradientError {
    let err = numpy::gradient(f, spacing, axis, edge_order).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(numpy_words),
        "message {msg:?} lacks NumPy's wording {numpy_words:?}"
    );
    match err {
        Error::Gradient(g) => g,
        other => panic!("expected a GradientError, got {other:?}"),
    }
}

#[test]
fn axis_too_short_for_edge_order_1() {
    // test_values: np.arange(0) and np.arange(1) with edge_order=1
    for len in [0, 1] {
        let e = fails(&zeros(&[len]), &[], Axes::All, 1, TOO_SHORT);
        assert_eq!(
            e,
            GradientError::AxisTooShort {
                axis: 0,
                len,
                edge_order: 1
            }
        );
    }
    // on a later axis, given negatively: the normalized axis is reported
    let e = fails(&zeros(&[4, 1]), &[], -1, 1, TOO_SHORT);
    assert_eq!(
        e,
        GradientError::AxisTooShort {
            axis: 1,
            len: 1,
            edge_order: 1
        }
    );
    // two points are enough
    assert!(numpy::gradient(&zeros(&[2]), &[], Axes::All, 1).is_ok());
}

#[test]
fn axis_too_short_for_edge_order_2() {
    // test_values: np.arange(0), np.arange(1), np.arange(2) with edge_order=2
    for len in [0, 1, 2] {
        let e = fails(&zeros(&[len]), &[], Axes::All, 2, TOO_SHORT);
        assert_eq!(
            e,
            GradientError::AxisTooShort {
                axis: 0,
                len,
                edge_order: 2
            }
        );
    }
    // NumPy checks the axes in the order given and stops at the first short one
    let e = fails(&zeros(&[1, 2, 5]), &[], [2, 1, 0], 2, TOO_SHORT);
    assert_eq!(
        e,
        GradientError::AxisTooShort {
            axis: 1,
            len: 2,
            edge_order: 2
        }
    );
    // three points are enough; a short axis that is not selected is fine
    assert!(numpy::gradient(&zeros(&[3]), &[], Axes::All, 2).is_ok());
    assert!(numpy::gradient(&zeros(&[1, 3]), &[], 1, 2).is_ok());
}

#[test]
fn coordinate_array_not_one_dimensional() {
    // test_args: gradient(f_2d, np.stack([dx] * 2, axis=-1), 1)
    let dx = Array::from_shape_fn(IxDyn(&[5, 2]), |i| (i[0] + 1) as f64);
    let e = fails(
        &f_2d(),
        &[Spacing::Array(t(dx)), s(1.0)],
        Axes::All,
        1,
        NOT_1D,
    );
    assert_eq!(
        e,
        GradientError::SpacingNotOneDimensional { index: 0, ndim: 2 }
    );
    // a 3-d array as the second spacing
    let cube = Spacing::Array(zeros(&[5, 1, 1]));
    let e = fails(&f_2d(), &[x5(), cube], Axes::All, 1, NOT_1D);
    assert_eq!(
        e,
        GradientError::SpacingNotOneDimensional { index: 1, ndim: 3 }
    );
}

#[test]
fn coordinate_length_mismatch() {
    // test_badargs: "wrong sizes"
    let e = fails(&f_2d(), &[x5(), ones(2)], Axes::All, 1, LENGTH);
    assert_eq!(
        e,
        GradientError::CoordinateLengthMismatch {
            index: 1,
            axis: 1,
            expected: 5,
            found: 2
        }
    );
    let e = fails(&f_2d(), &[s(1.0), ones(2)], Axes::All, 1, LENGTH);
    assert_eq!(
        e,
        GradientError::CoordinateLengthMismatch {
            index: 1,
            axis: 1,
            expected: 5,
            found: 2
        }
    );
    let e = fails(&f_2d(), &[ones(2), ones(2)], Axes::All, 1, LENGTH);
    assert_eq!(
        e,
        GradientError::CoordinateLengthMismatch {
            index: 0,
            axis: 0,
            expected: 5,
            found: 2
        }
    );
    // the axis reported is the selected one, in the order of `axis`
    let e = fails(&zeros(&[3, 4]), &[ones(3), ones(3)], [1, 0], 1, LENGTH);
    assert_eq!(
        e,
        GradientError::CoordinateLengthMismatch {
            index: 0,
            axis: 1,
            expected: 4,
            found: 3
        }
    );
}

#[test]
fn wrong_number_of_spacing_entries() {
    let f = f_2d();
    let count = |spacing: &[Spacing], axis: Axes| fails(&f, spacing, axis, 1, COUNT);
    // test_badargs: "wrong number of arguments"
    let cases: Vec<(Vec<Spacing>, Axes, usize, usize)> = vec![
        (vec![x5()], Axes::All, 1, 2),
        (vec![x5()], Axes::from([0, 1]), 1, 2),
        (vec![x5(), x5(), x5()], Axes::All, 3, 2),
        (vec![s(1.0), s(1.0), s(1.0)], Axes::All, 3, 2),
        (vec![x5(), x5()], Axes::from(1), 2, 1),
        (vec![s(1.0), s(1.0)], Axes::from(1), 2, 1),
        // test_specific_axes: gradient(x, 1, 2, axis=1)
        (vec![s(1.0), s(2.0)], Axes::from(-1), 2, 1),
        // a 0-d array counts as one scalar, but three of them are still too many
        (
            vec![
                Spacing::Array(t(arr0(1.0).into_dyn())),
                s(1.0),
                Spacing::Array(t(arr0(2.0).into_dyn())),
            ],
            Axes::All,
            3,
            2,
        ),
        // coordinates for an empty axis list
        (vec![x5()], Axes::Some(vec![]), 1, 0),
    ];
    for (spacing, axis, given, axes) in cases {
        let e = count(&spacing, axis.clone());
        assert_eq!(
            e,
            GradientError::InvalidSpacingCount { given, axes },
            "{axis:?} with {given} spacing(s)"
        );
    }
    // 0-d input: no axes, so a coordinate array is one argument too many
    let e = fails(&zeros(&[]), &[ones(1)], Axes::All, 1, COUNT);
    assert_eq!(e, GradientError::InvalidSpacingCount { given: 1, axes: 0 });
    // ...while one scalar for all (zero) axes is accepted, as in NumPy
    assert_eq!(
        numpy::gradient(&zeros(&[]), &[s(2.0)], Axes::All, 1)
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn axis_out_of_range() {
    let x = zeros(&[2, 2]);
    let scalar = zeros(&[]);
    // (array, axis argument, the axis reported, the array's rank)
    let cases: [(&Tensor, Axes, i64, usize); 5] = [
        // test_specific_axes: axis=3 and axis=-3 on a 2-d array
        (&x, Axes::from(3), 3, 2),
        (&x, Axes::from(-3), -3, 2),
        // inside a list, the first bad axis is reported
        (&x, Axes::Some(vec![1, 2, -5]), 2, 2),
        // any axis of a 0-d array
        (&scalar, Axes::from(0), 0, 0),
        // bounds are checked before repeats (NumPy's normalize_axis_tuple)
        (&x, Axes::Some(vec![0, 0, 7]), 7, 2),
    ];
    for (f, axis, bad, ndim) in cases {
        let words = format!("axis {bad} is out of bounds for array of dimension {ndim}");
        let e = fails(f, &[], axis, 1, &words);
        assert_eq!(e, GradientError::AxisOutOfBounds { axis: bad, ndim });
    }
}

#[test]
fn repeated_axis() {
    let x = zeros(&[3, 4]);
    let e = fails(&x, &[], [0, 0], 1, REPEATED);
    assert_eq!(e, GradientError::RepeatedAxis { axis: 0 });
    // 1 and -1 name the same axis of a 2-d array
    let e = fails(&x, &[], [1, -1], 1, REPEATED);
    assert_eq!(e, GradientError::RepeatedAxis { axis: 1 });
    let e = fails(&x, &[], [-2, 1, 0], 1, REPEATED);
    assert_eq!(e, GradientError::RepeatedAxis { axis: 0 });
    // axes are checked before the spacing count
    let e = fails(&x, &[s(1.0), s(1.0), s(1.0)], [1, -1], 1, REPEATED);
    assert_eq!(e, GradientError::RepeatedAxis { axis: 1 });
}

#[test]
fn invalid_edge_order() {
    // NumPy: 'edge_order' greater than 2 not supported (it quietly accepts 0
    // and negative values; the specification rejects them)
    for order in [0, 3, -1, 4, i64::MIN, i64::MAX] {
        let e = fails(&zeros(&[5]), &[], Axes::All, order, EDGE_ORDER);
        assert_eq!(e, GradientError::InvalidEdgeOrder(order));
    }
    // NumPy checks edge_order after the spacing arguments and before the axis lengths
    let e = fails(&zeros(&[2]), &[], Axes::All, 3, EDGE_ORDER);
    assert_eq!(e, GradientError::InvalidEdgeOrder(3));
    let e = fails(
        &zeros(&[3, 3]),
        &[s(1.0), s(1.0), s(1.0)],
        Axes::All,
        3,
        COUNT,
    );
    assert_eq!(e, GradientError::InvalidSpacingCount { given: 3, axes: 2 });
    // also for 0-d input, where no axis is ever differentiated
    let e = fails(&zeros(&[]), &[], Axes::All, 0, EDGE_ORDER);
    assert_eq!(e, GradientError::InvalidEdgeOrder(0));
}

#[test]
fn boolean_input_is_rejected_on_entry() {
    let b = arr1(&[true, false, true]).into_dyn();
    let err = Tensor::from_host(b.clone()).unwrap_err();
    assert_eq!(err, IrError::BooleanInput);
    assert!(err.to_string().contains("boolean"), "{err}");
    // as a 0-d array too (it could not be passed as a spacing either)
    let err = Tensor::from_host(arr0(true).into_dyn()).unwrap_err();
    assert_eq!(err, IrError::BooleanInput);
    // and the facade error converts from it
    let e: Error = err.into();
    assert_eq!(e, Error::Ir(IrError::BooleanInput));
}

#[test]
fn complex_coordinates_are_rejected() {
    let f = zeros(&[3, 4]);
    let c = |n: usize| {
        let a = ArrayD::from_shape_fn(IxDyn(&[n]), |i| Complex64::new(i[0] as f64, 0.5));
        Spacing::Array(Tensor::from_host(a).unwrap())
    };
    let words = "distances must be real numbers";
    let e = fails(&f, &[s(1.0), c(4)], Axes::All, 1, words);
    assert_eq!(
        e,
        GradientError::ComplexSpacing {
            index: 1,
            dtype: DType::C128
        }
    );
    // a complex 0-d step, as the one scalar for all axes
    let c0 = Tensor::from_host(arr0(num_complex::Complex32::new(1.0, 0.0)).into_dyn()).unwrap();
    let e = fails(&f, &[Spacing::Array(c0)], Axes::All, 1, words);
    assert_eq!(
        e,
        GradientError::ComplexSpacing {
            index: 0,
            dtype: DType::C64
        }
    );
    // complex data with real coordinates is fine
    let z = Tensor::from_host(ArrayD::from_elem(IxDyn(&[3]), Complex64::new(1.0, 2.0))).unwrap();
    let x = Spacing::Array(t(arr1(&[0.0, 1.0, 3.0]).into_dyn()));
    assert!(numpy::gradient(&z, &[x], Axes::All, 2).is_ok());
}

#[test]
fn errors_come_before_any_evaluation_and_never_panic() {
    // Every row above is raised by `gradient` itself (no graph is evaluated);
    // also for lazy (parameter) inputs, whose values are unknown.
    let p = Tensor::parameter(&[4, 1], DType::F32);
    let e = numpy::gradient(&p, &[], Axes::All, 1).unwrap_err();
    assert_eq!(
        e,
        Error::Gradient(GradientError::AxisTooShort {
            axis: 1,
            len: 1,
            edge_order: 1
        })
    );
    let coords = Tensor::parameter(&[3], DType::F64);
    let e = numpy::gradient(&p, &[Spacing::Array(coords)], 0, 1).unwrap_err();
    assert_eq!(
        e,
        Error::Gradient(GradientError::CoordinateLengthMismatch {
            index: 0,
            axis: 0,
            expected: 4,
            found: 3
        })
    );
}
