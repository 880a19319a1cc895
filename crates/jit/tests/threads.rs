//! Results do not depend on the number of threads: the same plan run on
//! rayon pools of 1, 2, 3 and 7 threads gives the same bits, equal to the
//! reference interpreter's.
//!
//! Inputs are large enough (> 65536 elements) that a kernel is cut into
//! several work items: blocks of rows for (300, 700) and (40, 50, 60), blocks
//! of reduction chunks along the single row of (1, 200000). The kernels
//! include reductions over all axes, over the innermost axis (partials per
//! item, folded in item order) and over outer axes (run by one worker), the
//! forward gradient (whose narrow edge columns run as column tiles), its
//! VJP, and `value_and_grad` of `sum(|grad f|^2)`.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Rng, Specials, bind, compare, random_value, squared_norm};
use oxla_autodiff::{AutodiffError, value_and_grad, vjp};
use oxla_ir::{ArrayValue, DType, Tensor, evaluate};
use oxla_jit::Executable;
use oxla_lower::{Axes, GradientSpec, Spacing, gradient};

const THREADS: [usize; 4] = [1, 2, 3, 7];
/// Elements per work item in the executor (64 reduction chunks).
const ITEM_ELEMENTS: usize = 64 * oxla_ir::reduce::CHUNK;

/// Compile `outputs` over `params` once, run it on every pool, compare each
/// run with the interpreter.
fn check_on_all_pools(
    what: &str,
    outputs: &[Tensor],
    params: &[Tensor],
    values: &[Arc<ArrayValue>],
) {
    let reference = evaluate(outputs, &bind(params, values)).unwrap();
    let exe = Executable::compile(outputs, params).unwrap();
    for n in THREADS {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        let got = pool.install(|| exe.run(values)).unwrap();
        if let Err(r) = compare(&got, &reference) {
            panic!(
                "{what} on {n} thread(s) differs from the reference:\n{r}plan:\n{}",
                exe.summary()
            );
        }
    }
}

fn data(shape: &[usize], seed: u64) -> (Tensor, Arc<ArrayValue>) {
    assert!(
        shape.iter().product::<usize>() > ITEM_ELEMENTS,
        "{shape:?} must make several work items"
    );
    let mut rng = Rng::new(seed);
    let value = random_value(&mut rng, shape, DType::F64, Specials::NONE);
    (Tensor::parameter(shape, DType::F64), Arc::new(value))
}

/// The axes of `shape` long enough to differentiate.
fn axes(shape: &[usize]) -> Axes {
    Axes::Some(
        (0..shape.len())
            .filter(|&d| shape[d] >= 3)
            .map(|d| d as i64)
            .collect(),
    )
}

fn grads(f: &Tensor, edge: i64) -> Result<Vec<Tensor>, AutodiffError> {
    let spec = GradientSpec::new(f, &[Spacing::Scalar(0.5)], axes(f.shape()), edge)?;
    Ok(gradient(f, &spec)?)
}

const SHAPES: [&[usize]; 3] = [&[300, 700], &[1, 200_000], &[40, 50, 60]];

#[test]
fn reductions_are_independent_of_the_thread_count() {
    for (i, shape) in SHAPES.iter().enumerate() {
        let (f, value) = data(shape, i as u64);
        let n = shape.len();
        let all: Vec<usize> = (0..n).collect();
        let three = Tensor::scalar(DType::F64, 3.0)
            .broadcast_in_dim(shape, &[])
            .unwrap();
        let outputs = vec![
            f.mul(&f).unwrap().reduce_sum(&all).unwrap(),
            f.sub(&three).unwrap().reduce_sum(&[n - 1]).unwrap(),
            f.mul(&three).unwrap().reduce_sum(&all[..n - 1]).unwrap(),
            f.reduce_sum(&all[1..]).unwrap(),
        ];
        check_on_all_pools(&format!("sums over {shape:?}"), &outputs, &[f], &[value]);
    }
}

#[test]
fn gradients_are_independent_of_the_thread_count() {
    for (i, shape) in SHAPES.iter().enumerate() {
        let (f, value) = data(shape, 10 + i as u64);
        for edge in [1, 2] {
            let outputs = grads(&f, edge).unwrap();
            check_on_all_pools(
                &format!("gradient of {shape:?}, edge_order {edge}"),
                &outputs,
                std::slice::from_ref(&f),
                std::slice::from_ref(&value),
            );
        }
        // the VJP with cotangents as parameters too
        let (outs, pullback) =
            vjp(|xs: &[Tensor]| grads(&xs[0], 2), std::slice::from_ref(&f)).unwrap();
        let mut params = vec![f.clone()];
        let mut values = vec![value.clone()];
        let mut rng = Rng::new(20 + i as u64);
        let cts: Vec<Tensor> = outs
            .iter()
            .map(|o| {
                let p = Tensor::parameter(o.shape(), o.dtype());
                params.push(p.clone());
                values.push(Arc::new(random_value(
                    &mut rng,
                    o.shape(),
                    o.dtype(),
                    Specials::NONE,
                )));
                p
            })
            .collect();
        let back = pullback.call(&cts).unwrap();
        check_on_all_pools(
            &format!("vjp of gradient of {shape:?}"),
            &back,
            &params,
            &values,
        );
    }
}

#[test]
fn value_and_grad_is_independent_of_the_thread_count() {
    for (i, shape) in SHAPES.iter().enumerate() {
        let (f, value) = data(shape, 30 + i as u64);
        let (loss, g) = value_and_grad(
            |xs: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> {
                Ok(vec![squared_norm(grads(&xs[0], 1)?)?])
            },
            std::slice::from_ref(&f),
        )
        .unwrap();
        let outputs: Vec<Tensor> = std::iter::once(loss).chain(g).collect();
        check_on_all_pools(
            &format!("value_and_grad of sum(|grad f|^2) over {shape:?}"),
            &outputs,
            &[f],
            &[value],
        );
    }
}
