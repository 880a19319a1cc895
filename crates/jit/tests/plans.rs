//! The shape of compiled plans (kernels, outputs, passes over memory), not
//! their speed, and the errors of `Executable::run` and `eval`.
//!
//! - the all-axes gradient (uniform spacing) is one fused kernel with one
//!   output per axis, reading `f` once;
//! - with non-uniform coordinates on one axis, a small coefficient kernel
//!   comes first, then still one kernel over `f`'s shape reading it once;
//! - the VJP of the all-axes gradient is one kernel;
//! - `value_and_grad` of `sum(|grad f|^2)` is one pass over `f` (the
//!   gradient and every partial loss) plus a 0-d kernel adding the losses;
//! - a pad with interior padding is run by the interpreter;
//! - wrong arguments and unbound parameters are the right `JitError`s.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{
    Rng, Specials, assert_fused_eq_reference, check_outputs, coords_on_axis0, random_value,
    squared_norm, total_variation,
};
use oxla_autodiff::{AutodiffError, value_and_grad, vjp};
use oxla_ir::{ArrayValue, Bindings, DType, IrError, Tensor};
use oxla_jit::{Executable, JitError, KernelSummary, PlanSummary};
use oxla_lower::{Axes, GradientSpec, Spacing, gradient};

// [4, 70, 12]: runs of column tiles along axis 1 longer than the executor's 32-row cap.
const SHAPES: [&[usize]; 4] = [&[50, 60], &[10, 20, 30], &[7, 300], &[4, 70, 12]];

fn grads(f: &Tensor, spacing: &[Spacing], edge: i64) -> Result<Vec<Tensor>, AutodiffError> {
    let spec = GradientSpec::new(f, spacing, Axes::All, edge)?;
    Ok(gradient(f, &spec)?)
}

/// The plan of `outputs` and the argument index of `f` in it.
fn plan(outputs: &[Tensor], f: &Tensor) -> (PlanSummary, usize) {
    let (exe, leaves) = oxla_jit::compile(outputs).unwrap();
    let arg = leaves.iter().position(|l| l.same_node(f)).unwrap();
    (exe.summary(), arg)
}

/// A bound `f` of `shape` and the bindings holding its value.
fn field(shape: &[usize]) -> (Tensor, Bindings) {
    let f = Tensor::parameter(shape, DType::F64);
    let value = random_value(&mut Rng::new(1), shape, DType::F64, Specials::NONE);
    let bindings = Bindings::from([(f.parameter_id().unwrap(), Arc::new(value))]);
    (f, bindings)
}

fn is_kernel_over(k: &KernelSummary, shape: &[usize]) -> bool {
    !k.interpreted && k.iteration_shape == shape
}

#[test]
fn all_axes_gradient_is_one_kernel_reading_f_once() {
    for shape in SHAPES {
        for edge in [1, 2] {
            let (f, bindings) = field(shape);
            let outs = grads(&f, &[], edge).unwrap();
            let (s, arg) = plan(&outs, &f);
            let why = format!("{shape:?} edge {edge}:\n{s}");
            assert_eq!(s.kernels.len(), 1, "{why}");
            let k = &s.kernels[0];
            assert!(is_kernel_over(k, shape), "{why}");
            assert_eq!(k.stores, shape.len(), "one output per axis: {why}");
            assert_eq!(k.reductions, 0, "{why}");
            assert_eq!(s.passes_over_arg(arg), 1, "{why}");
            assert_eq!(s.args, 1, "{why}");
            check_outputs(&outs, &bindings).unwrap();
        }
    }
}

/// Axes no stencil cuts and every view walks as one are merged into longer
/// rows: along axis 0 the whole array is one row (cut into boxes at the
/// first and last plane), along axis 1 of a 3-d array the rows are planes,
/// across every axis nothing merges; a reduction keeps its rows (its
/// chunked sums follow them). The outputs keep their shape and match the interpreter.
#[test]
fn uncut_axes_merge_into_longer_rows() {
    let cases: [(&[usize], Axes, usize); 5] = [
        (&[10, 20, 30], Axes::Some(vec![0]), 6000),
        (&[7, 300], Axes::Some(vec![0]), 2100),
        (&[4, 70, 12], Axes::Some(vec![1]), 840),
        (&[10, 20, 30], Axes::All, 30),
        (&[1, 5, 30], Axes::Some(vec![2]), 30),
    ];
    for (shape, axes, row_len) in cases {
        let (f, bindings) = field(shape);
        let spec = GradientSpec::new(&f, &[], axes.clone(), 1).unwrap();
        let outs = gradient(&f, &spec).unwrap();
        let (s, _) = plan(&outs, &f);
        let why = format!("{shape:?} {axes:?}:\n{s}");
        assert_eq!(s.kernels.len(), 1, "{why}");
        assert!(is_kernel_over(&s.kernels[0], shape), "{why}");
        assert_eq!(s.kernels[0].row_len, row_len, "{why}");
        check_outputs(&outs, &bindings).unwrap();
    }
    // an elementwise kernel is one row
    let (f, bindings) = field(&[6, 5, 4]);
    let double = f.add(&f).unwrap();
    let (s, _) = plan(std::slice::from_ref(&double), &f);
    assert_eq!(s.kernels[0].row_len, 120, "{s}");
    check_outputs(&[double], &bindings).unwrap();
    // a reduction's kernel is not merged
    let (f, bindings) = field(&[6, 5, 4]);
    let total = f.mul(&f).unwrap().reduce_sum(&[0, 1, 2]).unwrap();
    let (s, _) = plan(std::slice::from_ref(&total), &f);
    assert_eq!(s.kernels[0].row_len, 4, "{s}");
    check_outputs(&[total], &bindings).unwrap();
}

#[test]
fn coordinates_add_one_small_coefficient_kernel() {
    for shape in SHAPES {
        for edge in [1, 2] {
            let (f, bindings) = field(shape);
            let outs = grads(&f, &coords_on_axis0(shape), edge).unwrap();
            let (s, arg) = plan(&outs, &f);
            let why = format!("{shape:?} edge {edge}:\n{s}");
            assert_eq!(s.kernels.len(), 2, "{why}");
            let (coef, main) = (&s.kernels[0], &s.kernels[1]);
            // the coefficients along axis 0 only: 1-d and smaller than the axis
            assert!(
                !coef.interpreted && coef.iteration_shape.len() <= 1,
                "{why}"
            );
            assert!(
                coef.iteration_shape.iter().product::<usize>() <= shape[0],
                "{why}"
            );
            assert!(!coef.reads.contains(&(arg, true)), "{why}");
            assert!(is_kernel_over(main, shape), "{why}");
            assert_eq!(main.stores, shape.len(), "{why}");
            assert_eq!(s.passes_over_arg(arg), 1, "{why}");
            check_outputs(&outs, &bindings).unwrap();
        }
    }
}

#[test]
fn vjp_of_the_all_axes_gradient_is_one_kernel() {
    for shape in SHAPES {
        for edge in [1, 2] {
            let f = Tensor::parameter(shape, DType::F64);
            let (outs, pullback) = vjp(|xs: &[Tensor]| grads(&xs[0], &[], edge), &[f]).unwrap();
            let mut rng = Rng::new(2);
            let cts: Vec<Tensor> = outs
                .iter()
                .map(|o| Tensor::parameter(o.shape(), o.dtype()))
                .collect();
            let bindings: Bindings = cts
                .iter()
                .map(|c| {
                    let v = random_value(&mut rng, c.shape(), c.dtype(), Specials::NONE);
                    (c.parameter_id().unwrap(), Arc::new(v))
                })
                .collect();
            let back = pullback.call(&cts).unwrap();
            let (exe, leaves) = oxla_jit::compile(&back).unwrap();
            let s = exe.summary();
            let why = format!("{shape:?} edge {edge}:\n{s}");
            assert_eq!(s.kernels.len(), 1, "{why}");
            assert!(is_kernel_over(&s.kernels[0], shape), "{why}");
            assert_eq!(s.kernels[0].stores, 1, "{why}");
            for c in &cts {
                let arg = leaves.iter().position(|l| l.same_node(c)).unwrap();
                assert_eq!(s.passes_over_arg(arg), 1, "{why}");
            }
            check_outputs(&back, &bindings).unwrap();
        }
    }
}

#[test]
fn value_and_grad_of_the_squared_gradient_reads_f_in_one_pass() {
    for shape in SHAPES {
        for edge in [1, 2] {
            let (f, bindings) = field(shape);
            let (loss, g) = value_and_grad(
                |xs: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> {
                    Ok(vec![squared_norm(grads(&xs[0], &[], edge)?)?])
                },
                std::slice::from_ref(&f),
            )
            .unwrap();
            let outs = vec![loss, g[0].clone()];
            let (s, arg) = plan(&outs, &f);
            let why = format!("{shape:?} edge {edge}:\n{s}");
            assert_eq!(s.kernels.len(), 2, "{why}");
            let (pass, total) = (&s.kernels[0], &s.kernels[1]);
            assert!(is_kernel_over(pass, shape), "{why}");
            assert_eq!(pass.stores, 1, "the gradient of the loss: {why}");
            assert_eq!(
                pass.reductions,
                shape.len(),
                "one partial loss per axis: {why}"
            );
            assert!(is_kernel_over(total, &[]), "{why}");
            assert_eq!((total.stores, total.reductions), (1, 0), "{why}");
            assert!(total.reads.iter().all(|&(_, leaf)| !leaf), "{why}");
            assert_eq!(s.passes_over_arg(arg), 1, "{why}");
            check_outputs(&outs, &bindings).unwrap();
        }
    }
}

/// In the interior of `value_and_grad(sum(|grad f|^2))`, each derivative
/// is squared and summed into the loss in one instruction (a `FusedSum`
/// of `StencilSquare`), and the gathered adjoint of each axis, with the
/// doubled derivatives at both neighbours and the sum with the other axes'
/// terms, is one (`StencilPair` with an addend): `2n` per interior tile.
/// (It was `4n - 1` with the scattered adjoint and `9n - 1` unfused.)
#[test]
fn value_and_grad_fuses_each_stencil_with_its_square_or_doubling() {
    for shape in [&[40][..], &[9, 10], &[9, 10, 11], &[6, 7, 8, 9]] {
        for dtype in [DType::F64, DType::F32] {
            let f = Tensor::parameter(shape, dtype);
            let (loss, g) = value_and_grad(
                |xs: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> {
                    Ok(vec![squared_norm(grads(&xs[0], &[], 1)?)?])
                },
                std::slice::from_ref(&f),
            )
            .unwrap();
            let (s, _) = plan(&[loss, g[0].clone()], &f);
            let n = shape.len();
            let why = format!("{dtype:?} {shape:?}:\n{s}");
            assert_eq!(s.kernels[0].middle_instructions, 2 * n, "{why}");
        }
    }
}

/// The interior of total variation's `value_and_grad` is 9 instructions
/// (38 unfused): the centre's magnitude, its sum and `0.5 / |grad u|`; the
/// left and upper neighbours' `0.5 / |grad u|` as one `DiffNorm` each; the
/// four weighted doublings, chained by their addends. Every box, fused or
/// not, is the interpreter's bit for bit, special values included.
#[test]
fn total_variation_fuses_its_magnitudes_and_weighted_doublings() {
    for shape in [
        &[9, 10][..],
        &[7, 300],
        &[50, 60],
        &[2, 2],
        &[3, 40],
        &[4, 1300],
    ] {
        for dtype in [DType::F64, DType::F32] {
            for eps_first in [false, true] {
                let u = Tensor::parameter(shape, dtype);
                let (loss, g) = value_and_grad(
                    |xs: &[Tensor]| -> Result<Vec<Tensor>, AutodiffError> {
                        Ok(vec![total_variation(&xs[0], eps_first)?])
                    },
                    std::slice::from_ref(&u),
                )
                .unwrap();
                let outs = vec![loss, g[0].clone()];
                let (s, _) = plan(&outs, &u);
                let why = format!("{dtype:?} {shape:?} eps first {eps_first}:\n{s}");
                if !eps_first && shape.iter().all(|&n| n >= 3) {
                    assert_eq!(s.kernels[0].middle_instructions, 9, "{why}");
                    // the left neighbour's weight is the own one shifted in
                    let (exe, _) = oxla_jit::compile(&outs).unwrap();
                    assert_eq!(exe.listing().matches("ShiftIn").count(), 1, "{why}");
                }
                for (seed, specials) in [
                    (1, Specials::NONE),
                    (
                        2,
                        Specials {
                            rate: 0.2,
                            signaling: false,
                        },
                    ),
                ] {
                    let value = random_value(&mut Rng::new(seed), shape, dtype, specials);
                    let bindings = Bindings::from([(u.parameter_id().unwrap(), Arc::new(value))]);
                    check_outputs(&outs, &bindings).unwrap_or_else(|e| panic!("{why}{e}"));
                }
            }
        }
    }
}

#[test]
fn interior_padding_is_an_interpreted_step() {
    let (x, bindings) = field(&[4, 5]);
    let padded = x
        .pad(
            &Tensor::scalar(DType::F64, -1.5),
            &[1, -1],
            &[0, 2],
            &[1, 2],
        )
        .unwrap();
    assert_eq!(padded.shape(), &[8, 14]);
    let two = Tensor::scalar(DType::F64, 2.0)
        .broadcast_in_dim(padded.shape(), &[])
        .unwrap();
    let out = padded.mul(&two).unwrap();
    let (s, arg) = plan(std::slice::from_ref(&out), &x);
    let interpreted: Vec<&KernelSummary> = s.kernels.iter().filter(|k| k.interpreted).collect();
    assert_eq!(interpreted.len(), 1, "{s}");
    assert_eq!(interpreted[0].iteration_shape, padded.shape(), "{s}");
    assert!(interpreted[0].reads.contains(&(arg, true)), "{s}");
    // the product is still fused, reading the interpreted pad's buffer
    let last = s.kernels.last().unwrap();
    assert!(is_kernel_over(last, padded.shape()), "{s}");
    check_outputs(&[out, padded], &bindings).unwrap();
}

#[test]
fn run_rejects_wrong_arguments() {
    let x = Tensor::parameter(&[3, 4], DType::F32);
    let y = Tensor::parameter(&[4], DType::F32);
    let out = x.add(&y.broadcast_in_dim(&[3, 4], &[1]).unwrap()).unwrap();
    let exe = Executable::compile(&[out], &[x, y]).unwrap();
    assert_eq!(
        exe.arg_types(),
        &[(vec![3, 4], DType::F32), (vec![4], DType::F32)]
    );
    let good_x = Arc::new(ArrayValue::full(DType::F32, &[3, 4], 1.0));
    let good_y = Arc::new(ArrayValue::full(DType::F32, &[4], 2.0));
    let ran = exe.run(&[good_x.clone(), good_y.clone()]).unwrap();
    assert!(ran[0].bit_eq(&ArrayValue::full(DType::F32, &[3, 4], 3.0)));

    assert_eq!(
        exe.run(std::slice::from_ref(&good_x)).unwrap_err(),
        JitError::ArgumentCount {
            expected: 2,
            found: 1
        }
    );
    assert_eq!(
        exe.run(&[good_x.clone(), good_y.clone(), good_y.clone()])
            .unwrap_err(),
        JitError::ArgumentCount {
            expected: 2,
            found: 3
        }
    );
    let wrong_shape = Arc::new(ArrayValue::full(DType::F32, &[5], 2.0));
    assert_eq!(
        exe.run(&[good_x.clone(), wrong_shape]).unwrap_err(),
        JitError::ArgumentMismatch {
            index: 1,
            expected_shape: vec![4],
            expected_dtype: DType::F32,
            found_shape: vec![5],
            found_dtype: DType::F32,
        }
    );
    let wrong_dtype = Arc::new(ArrayValue::full(DType::F64, &[3, 4], 1.0));
    assert_eq!(
        exe.run(&[wrong_dtype, good_y]).unwrap_err(),
        JitError::ArgumentMismatch {
            index: 0,
            expected_shape: vec![3, 4],
            expected_dtype: DType::F32,
            found_shape: vec![3, 4],
            found_dtype: DType::F64,
        }
    );
}

#[test]
fn unbound_parameters_are_ir_errors() {
    let p = Tensor::parameter(&[2, 3], DType::F64);
    let id = p.parameter_id().unwrap().0;
    let c = Tensor::from_host(oxla_ir::ndarray::Array2::<f64>::ones((2, 3)).into_dyn()).unwrap();
    let out = c.mul(&p).unwrap();
    assert_eq!(
        oxla_jit::eval(std::slice::from_ref(&out)).unwrap_err(),
        JitError::Ir(IrError::UnboundParameter(id))
    );
    // a parameter missing from the arguments of a compilation
    assert_eq!(
        Executable::compile(&[out], &[]).unwrap_err(),
        JitError::Ir(IrError::UnboundParameter(id))
    );
}

/// Kernel building is iterative: a chain far deeper than any recursion could
/// take compiles and runs on a thread with a small (256 KB) stack, in debug
/// builds too.
#[test]
fn deep_chains_compile_on_a_small_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            let x = oxla_ir::Tensor::from_host(ndarray::arr1(&[1.5f64, -2.0, 0.25]).into_dyn())
                .unwrap();
            let mut y = x.clone();
            for _ in 0..3000 {
                y = y.neg().unwrap();
            }
            assert_fused_eq_reference(&[y], "3000 negations");
        })
        .unwrap();
    handle.join().unwrap();
}

/// Arrays built through `ArrayValue`'s public variants may be in any layout;
/// the executor copies such arguments into standard layout instead of failing.
#[test]
fn non_standard_layout_arguments_are_accepted() {
    let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64).into_dyn();
    let t = a.clone().reversed_axes();
    let value = std::sync::Arc::new(oxla_ir::ArrayValue::F64(t.clone()));
    let p = oxla_ir::Tensor::parameter(&[4, 3], oxla_ir::DType::F64);
    let y = p.mul(&p).unwrap();
    let exe =
        oxla_jit::Executable::compile(std::slice::from_ref(&y), std::slice::from_ref(&p)).unwrap();
    let out = exe.run(&[value]).unwrap();
    let want = t.mapv(|x| x * x);
    assert_eq!(out[0].as_array::<f64>().unwrap(), &want);
}
