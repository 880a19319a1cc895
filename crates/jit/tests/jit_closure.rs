//! `oxla_jit::jit`: a closure is traced once per argument signature (shapes
//! and dtypes) and its compiled plan reused; results equal `eval`'s and the
//! interpreter's bit for bit.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Rng, Specials, compare, random_literal};
use oxla_ir::{Bindings, DType, IrError, Tensor, evaluate};
use oxla_jit::{JitError, jit};
use oxla_lower::{Axes, GradientError, GradientSpec, gradient};

/// The errors of the jitted function: the jit's, or gradient's argument errors.
#[derive(Debug)]
enum Error {
    Jit(JitError),
    Gradient(GradientError),
}

impl From<JitError> for Error {
    fn from(e: JitError) -> Self {
        Error::Jit(e)
    }
}

impl From<GradientError> for Error {
    fn from(e: GradientError) -> Self {
        Error::Gradient(e)
    }
}

impl From<IrError> for Error {
    fn from(e: IrError) -> Self {
        Error::Jit(e.into())
    }
}

/// `gradient(x)` along the last axis, scaled by `y`, plus `sum(x)`: the body of the jitted function.
fn body(xs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
    let (x, y) = (&xs[0], &xs[1]);
    let spec = GradientSpec::new(x, &[], Axes::Some(vec![-1]), 2)?;
    let g = gradient(x, &spec)?.remove(0);
    let last = x.ndim() - 1;
    let scaled = g.mul(&y.broadcast_in_dim(x.shape(), &[last])?)?;
    let all: Vec<usize> = (0..x.ndim()).collect();
    Ok(vec![scaled, x.reduce_sum(&all)?])
}

fn values(ts: &[Tensor]) -> Vec<oxla_ir::ArrayValue> {
    ts.iter()
        .map(|t| (**t.literal_value().unwrap()).clone())
        .collect()
}

#[test]
fn a_closure_is_traced_once_per_signature() {
    let traces = AtomicUsize::new(0);
    let f = jit(|xs: &[Tensor]| {
        traces.fetch_add(1, Ordering::SeqCst);
        body(xs)
    });
    let mut rng = Rng::new(3);
    let args = |shape: &[usize], dtype: DType, rng: &mut Rng| {
        let n = *shape.last().unwrap();
        vec![
            random_literal(rng, shape, dtype, Specials::NONE),
            random_literal(rng, &[n], dtype, Specials::NONE),
        ]
    };
    let a = args(&[4, 300], DType::F64, &mut rng);
    let first = f.call::<Error>(&a).unwrap();
    assert_eq!(traces.load(Ordering::SeqCst), 1);
    // same signature, other values: no new trace, and the results follow the values
    let b = args(&[4, 300], DType::F64, &mut rng);
    let second = f.call::<Error>(&b).unwrap();
    assert_eq!(traces.load(Ordering::SeqCst), 1);
    assert!(!values(&first)[0].bit_eq(&values(&second)[0]));
    assert!(Arc::ptr_eq(
        &f.executable::<Error>(&a).unwrap(),
        &f.executable::<Error>(&b).unwrap()
    ));
    // a new shape traces again; a new dtype too; the old ones stay cached
    let c = args(&[3, 2, 9], DType::F64, &mut rng);
    f.call::<Error>(&c).unwrap();
    assert_eq!(traces.load(Ordering::SeqCst), 2);
    let d = args(&[4, 300], DType::F32, &mut rng);
    f.call::<Error>(&d).unwrap();
    assert_eq!(traces.load(Ordering::SeqCst), 3);
    f.call::<Error>(&a).unwrap();
    f.call::<Error>(&c).unwrap();
    assert_eq!(traces.load(Ordering::SeqCst), 3);

    // every call equals eval of the traced graph and the interpreter
    for args in [&a, &b, &c, &d] {
        let got = values(&f.call::<Error>(args).unwrap());
        let graph = body(args).unwrap();
        let reference = evaluate(&graph, &Bindings::new()).unwrap();
        compare(&got, &reference).unwrap();
        let evaluated = oxla_jit::eval(&graph).unwrap();
        for (x, y) in got.iter().zip(&evaluated) {
            assert!(x.bit_eq(y));
        }
    }
    assert_eq!(traces.load(Ordering::SeqCst), 3);
}

#[test]
fn lazy_arguments_are_evaluated_before_the_call() {
    let f = jit(body);
    let mut rng = Rng::new(4);
    let x = random_literal(&mut rng, &[5, 7], DType::F64, Specials::NONE);
    let y = random_literal(&mut rng, &[7], DType::F64, Specials::NONE);
    let lazy_x = x.mul(&x).unwrap();
    let got = values(&f.call::<Error>(&[lazy_x.clone(), y.clone()]).unwrap());
    let reference = evaluate(&body(&[lazy_x, y]).unwrap(), &Bindings::new()).unwrap();
    compare(&got, &reference).unwrap();
}

#[test]
fn a_failing_trace_is_not_cached() {
    let traces = AtomicUsize::new(0);
    let f = jit(|xs: &[Tensor]| {
        traces.fetch_add(1, Ordering::SeqCst);
        body(xs)
    });
    // gradient with edge_order 2 needs 3 points along the last axis
    let short = [
        Tensor::scalar(DType::F64, 1.0)
            .broadcast_in_dim(&[2, 2], &[])
            .unwrap(),
        Tensor::scalar(DType::F64, 1.0)
            .broadcast_in_dim(&[2], &[])
            .unwrap(),
    ];
    for _ in 0..2 {
        let err = f.call::<Error>(&short).unwrap_err();
        assert!(
            matches!(err, Error::Gradient(GradientError::AxisTooShort { .. })),
            "{err:?}"
        );
    }
    assert_eq!(traces.load(Ordering::SeqCst), 2);
    // a node the closure cannot build (y does not fit x's last axis) is the jit's error
    let mismatched = [
        Tensor::scalar(DType::F64, 1.0)
            .broadcast_in_dim(&[2, 4], &[])
            .unwrap(),
        Tensor::scalar(DType::F64, 1.0)
            .broadcast_in_dim(&[3], &[])
            .unwrap(),
    ];
    let err = f.call::<Error>(&mismatched).unwrap_err();
    assert!(
        matches!(err, Error::Jit(JitError::Ir(IrError::InvalidParams { .. }))),
        "{err:?}"
    );
}
