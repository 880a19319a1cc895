//! Derivatives of the elementwise math ops against central finite
//! differences in f64, at ordinary points and at the awkward ones (`abs`
//! and `maximum`/`minimum` at ties, `sqrt` near 0, `log` near 1, `pow` at
//! a zero base), and second derivatives (grad of grad) through them.
//!
//! Step and tolerance: the step is relative, `h = 1e-5 |x|` (`1e-5` for
//! `exp` and `cos`, which vary on the scale 1 however small `x` is),
//! so the central difference's truncation error is about `(h/x)^2 = 1e-10`
//! of the derivative for these functions (smooth on the scale `|x|` at
//! every point used), and its rounding error about `eps |f| / (h |f'|)`,
//! at most ~1e-9 here. `RTOL = 1e-7` leaves a margin of 100; a wrong rule
//! (a missing factor, a wrong sign) is off by O(1). At a kink the
//! convention is JAX's (checked exactly), and the one-sided difference on
//! the side JAX picks agrees with it.
#![allow(clippy::unwrap_used)]

use oxla::{BinaryFn, Compare, DType, Tensor, UnaryFn};

const RTOL: f64 = 1e-7;

fn lit(v: &[f64]) -> Tensor {
    Tensor::from_host(oxla::ndarray::arr1(v).into_dyn()).unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    oxla::eval(std::slice::from_ref(t)).unwrap()[0]
        .as_array::<f64>()
        .unwrap()
        .iter()
        .copied()
        .collect()
}

/// The step at `x`: relative to `|x|`, or to `floor` where the function
/// varies on a scale of its own (`exp` and `cos` near 0 vary on the scale
/// 1, so a step relative to a tiny `x` would be all rounding).
fn step(x: f64, floor: f64) -> f64 {
    let scale = x.abs().max(floor);
    if scale == 0.0 { 1e-5 } else { 1e-5 * scale }
}

/// The JVP of `f` at `xs` with unit tangent on operand `k` (elementwise,
/// so each element's derivative in its own operand element).
fn jvp_along(f: &dyn Fn(&[Tensor]) -> Tensor, xs: &[Vec<f64>], k: usize) -> Vec<f64> {
    let primals: Vec<Tensor> = xs.iter().map(|x| lit(x)).collect();
    let tangents: Vec<Tensor> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| lit(&vec![if i == k { 1.0 } else { 0.0 }; x.len()]))
        .collect();
    let (_, t) = oxla::jvp(
        |p: &[Tensor]| Ok::<_, oxla::Error>(vec![f(p)]),
        &primals,
        &tangents,
    )
    .unwrap();
    values(&t[0])
}

/// The central difference of `f` in operand `k`, per element.
fn central(f: &dyn Fn(&[Tensor]) -> Tensor, xs: &[Vec<f64>], k: usize, floor: f64) -> Vec<f64> {
    let shifted = |sign: f64| {
        let ys: Vec<Tensor> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let v: Vec<f64> = if i == k {
                    x.iter().map(|&x| x + sign * step(x, floor)).collect()
                } else {
                    x.clone()
                };
                lit(&v)
            })
            .collect();
        values(&f(&ys))
    };
    let (up, down) = (shifted(1.0), shifted(-1.0));
    (0..up.len())
        .map(|i| (up[i] - down[i]) / (2.0 * step(xs[k][i], floor)))
        .collect()
}

fn assert_close(what: &str, at: &[f64], got: &[f64], want: &[f64]) {
    for i in 0..got.len() {
        let scale = want[i].abs().max(1e-300);
        assert!(
            (got[i] - want[i]).abs() <= RTOL * scale,
            "{what} at {}: jvp {} vs finite difference {}",
            at[i],
            got[i],
            want[i]
        );
    }
}

/// Points where each function is smooth on the scale of `|x|`.
fn points(f: UnaryFn) -> Vec<f64> {
    match f {
        // near 0 (1e-10) and ordinary
        UnaryFn::Sqrt => vec![1e-10, 1e-3, 0.7, 2.0, 123.0],
        // near 1 and ordinary
        UnaryFn::Log => vec![1.0 + 1e-9, 1.0 - 1e-9, 0.3, 2.5, 1e5],
        UnaryFn::Log1p => vec![1e-9, -0.5, 0.3, 7.0],
        UnaryFn::Expm1 => vec![1e-9, -1e-7, 0.3, -2.0, 5.0],
        UnaryFn::Exp => vec![-3.0, -1e-8, 0.5, 4.0],
        UnaryFn::Sin => vec![0.3, -1.2, 2.0, 10.0],
        UnaryFn::Cos => vec![0.3, -1.2, 2.0, 10.0],
        UnaryFn::Tanh => vec![1e-6, -0.4, 1.5, -3.0],
        UnaryFn::Abs | UnaryFn::Sign => vec![-2.5, -1e-8, 1e-8, 3.0],
    }
}

#[test]
fn unary_jvps_match_finite_differences() {
    for f in UnaryFn::ALL {
        let x = points(f);
        let op = move |p: &[Tensor]| p[0].unary(f).unwrap();
        let got = jvp_along(&op, std::slice::from_ref(&x), 0);
        let floor = if matches!(f, UnaryFn::Exp | UnaryFn::Cos) {
            1.0
        } else {
            0.0
        };
        let want = central(&op, std::slice::from_ref(&x), 0, floor);
        assert_close(f.name(), &x, &got, &want);
    }
}

#[test]
fn abs_at_zero_has_derivative_one_as_in_jax() {
    let x = vec![0.0, -0.0];
    let op = |p: &[Tensor]| p[0].abs().unwrap();
    assert_eq!(jvp_along(&op, std::slice::from_ref(&x), 0), vec![1.0, 1.0]);
    // sign's derivative is zero everywhere, 0 included
    let sign = |p: &[Tensor]| p[0].sign().unwrap();
    assert_eq!(
        jvp_along(&sign, std::slice::from_ref(&x), 0),
        vec![0.0, 0.0]
    );
}

#[test]
fn binary_jvps_match_finite_differences() {
    // no ties here: each operand's difference is one-sided-free
    let x = vec![0.3, 1.7, 2.0, 0.9];
    let y = vec![1.1, 0.4, -1.5, 2.5];
    for f in BinaryFn::ALL {
        let op = move |p: &[Tensor]| p[0].binary_fn(f, &p[1]).unwrap();
        let xs = [x.clone(), y.clone()];
        for k in 0..2 {
            let got = jvp_along(&op, &xs, k);
            let want = central(&op, &xs, k, 0.0);
            assert_close(&format!("{} in operand {k}", f.name()), &xs[k], &got, &want);
        }
    }
}

#[test]
fn extrema_split_the_derivative_at_ties_as_jax_does() {
    // max(x, y) at x == y: half to each operand; the central difference
    // of max(x + h, y) - max(x - h, y) is (h - 0) / 2h, the same half.
    let x = vec![1.5, -0.25, 0.0];
    for f in [BinaryFn::Max, BinaryFn::Min] {
        let op = move |p: &[Tensor]| p[0].binary_fn(f, &p[1]).unwrap();
        let xs = [x.clone(), x.clone()];
        for k in 0..2 {
            let got = jvp_along(&op, &xs, k);
            assert_eq!(got, vec![0.5; 3], "{} operand {k}", f.name());
            assert_close(f.name(), &x, &got, &central(&op, &xs, k, 0.0));
        }
    }
}

#[test]
fn pow_at_a_zero_base_has_jaxs_derivatives() {
    // d/dy 0^y = 0 (JAX replaces log(0) by log(1)); d/dx x^2 at 0 is 0
    let op = |p: &[Tensor]| p[0].binary_fn(BinaryFn::Pow, &p[1]).unwrap();
    let xs = [vec![0.0, 0.0], vec![2.0, 3.5]];
    assert_eq!(jvp_along(&op, &xs, 1), vec![0.0, 0.0]);
    assert_eq!(jvp_along(&op, &xs, 0), vec![0.0, 0.0]);
}

#[test]
fn select_jvps_follow_the_branch_taken() {
    let a = vec![1.0, 2.0, 3.0, f64::NAN];
    let b = vec![2.0, 2.0, 2.0, 2.0];
    let x = vec![10.0, 20.0, 30.0, 40.0];
    for cmp in Compare::ALL {
        let op = move |p: &[Tensor]| {
            let sq = p[1].mul(&p[1]).unwrap();
            Tensor::select(cmp, &p[0], &p[2], &sq, &p[1].neg().unwrap()).unwrap()
        };
        let xs = [a.clone(), x.clone(), b.clone()];
        let got = jvp_along(&op, &xs, 1);
        let want: Vec<f64> = (0..4)
            .map(|i| {
                let holds = match cmp {
                    Compare::Lt => a[i] < b[i],
                    Compare::Le => a[i] <= b[i],
                    Compare::Gt => a[i] > b[i],
                    Compare::Ge => a[i] >= b[i],
                    Compare::Eq => a[i] == b[i],
                };
                if holds { 2.0 * x[i] } else { -1.0 }
            })
            .collect();
        assert_eq!(got, want, "{cmp:?}");
        // the predicate's operands have no derivative
        assert_eq!(jvp_along(&op, &xs, 0), vec![0.0; 4], "{cmp:?}");
    }
}

/// A smooth scalar loss through every smooth function, broadcasting,
/// operators and `mean`.
fn smooth_loss(p: &[Tensor]) -> Result<Vec<Tensor>, oxla::Error> {
    let x = &p[0]; // [3, 4]
    let row = &p[1]; // [4]
    let a = ((x * row)? + 0.5)?; // broadcast row, weak scalar
    let s = ((&a.sin()? * &a.cos()?)? + &a.tanh()?)?;
    let e = (&(&a * -0.5)?.exp()? + &a.square()?.log1p()?)?;
    let r = (&(&a.square()? + 1.0)?.sqrt()? + &(&a * 0.1)?.expm1()?)?;
    let q = (&a.abs()? + 2.0)?.log()?.powf(1.5)?;
    let m = a.maximum(&row.sin()?)?.minimum(&(x * 3.0)?)?;
    let total = (((&s + &e)? + &(&r * &q)?)? + &m)?;
    Ok(vec![total.mean_all()?])
}

fn grad_of(p: &[Tensor]) -> Result<Vec<Tensor>, oxla::Error> {
    oxla::grad(smooth_loss, p)
}

fn problem() -> Vec<Vec<f64>> {
    let mut rng = oxla::SplitMix64::new(7);
    let x: Vec<f64> = (0..12).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let row: Vec<f64> = (0..4).map(|_| rng.uniform(0.5, 1.5)).collect();
    vec![x, row]
}

fn tensors(v: &[Vec<f64>]) -> Vec<Tensor> {
    vec![lit(&v[0]).reshape(&[3, 4]).unwrap(), lit(&v[1])]
}

#[test]
fn grads_through_broadcasting_match_finite_differences() {
    let v = problem();
    let g = grad_of(&tensors(&v)).unwrap();
    for (k, gk) in g.iter().enumerate() {
        assert_eq!(
            gk.shape(),
            tensors(&v)[k].shape(),
            "a broadcast operand's gradient is summed back"
        );
        let got = oxla::eval(std::slice::from_ref(gk)).unwrap()[0].to_c128_vec();
        for i in 0..v[k].len() {
            let h = 1e-6;
            let at = |d: f64| {
                let mut w = v.clone();
                w[k][i] += d;
                let l = smooth_loss(&tensors(&w)).unwrap();
                values(&l[0])[0]
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (got[i].re - fd).abs() <= 1e-6 * fd.abs().max(1e-3),
                "input {k} element {i}: grad {} vs finite difference {fd}",
                got[i].re
            );
        }
    }
}

#[test]
fn grad_of_grad_matches_finite_differences_of_the_grad() {
    let v = problem();
    let mut rng = oxla::SplitMix64::new(11);
    let dirs: Vec<Vec<f64>> = v
        .iter()
        .map(|x| (0..x.len()).map(|_| rng.uniform(-1.0, 1.0)).collect())
        .collect();
    // Hessian-vector product: jvp of the grad
    let dir_tensors = tensors(&dirs);
    let (_, hv) = oxla::jvp(grad_of, &tensors(&v), &dir_tensors).unwrap();
    // and by grad of <grad, d>
    let hv2 = oxla::grad(
        |p: &[Tensor]| {
            let g = grad_of(p)?;
            let mut dot: Option<Tensor> = None;
            for (gk, dk) in g.iter().zip(&dir_tensors) {
                let s = (gk * dk)?.sum_all()?;
                dot = Some(match dot {
                    Some(d) => (&d + &s)?,
                    None => s,
                });
            }
            Ok::<_, oxla::Error>(dot.into_iter().collect())
        },
        &tensors(&v),
    )
    .unwrap();
    let h = 1e-5;
    let shifted = |sign: f64| {
        let w: Vec<Vec<f64>> = v
            .iter()
            .zip(&dirs)
            .map(|(x, d)| x.iter().zip(d).map(|(x, d)| x + sign * h * d).collect())
            .collect();
        oxla::eval(&grad_of(&tensors(&w)).unwrap()).unwrap()
    };
    let (up, down) = (shifted(1.0), shifted(-1.0));
    let hv = oxla::eval(&hv).unwrap();
    let hv2 = oxla::eval(&hv2).unwrap();
    for k in 0..2 {
        let (u, d) = (up[k].to_c128_vec(), down[k].to_c128_vec());
        let (a, b) = (hv[k].to_c128_vec(), hv2[k].to_c128_vec());
        let scale = a.iter().map(|z| z.re.abs()).fold(0.0, f64::max);
        for i in 0..u.len() {
            let fd = (u[i].re - d[i].re) / (2.0 * h);
            assert!(
                (a[i].re - fd).abs() <= 1e-6 * scale,
                "hvp {k}[{i}]: {} vs {fd}",
                a[i].re
            );
            assert!(
                (a[i].re - b[i].re).abs() <= 1e-12 * scale,
                "jvp-of-grad vs grad-of-grad {k}[{i}]"
            );
        }
    }
    assert_eq!(DType::F64, hv[0].dtype());
}

#[test]
fn gradients_of_broadcast_operands_are_summed_over_the_broadcast_axes() {
    // L = sum((x + col) * row + s), x [3, 4], col [3, 1], row [4], s 0-d:
    // dL/dx = row (per column), dL/dcol = sum_j row_j (per row),
    // dL/drow_j = sum_i (x_ij + col_i), dL/ds = 12
    let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.5 - 2.0).collect();
    let col = [1.0, -2.0, 0.25];
    let row = [0.5, 1.5, -1.0, 2.0];
    let inputs = [
        lit(&x).reshape(&[3, 4]).unwrap(),
        lit(&col).reshape(&[3, 1]).unwrap(),
        lit(&row),
        Tensor::scalar(DType::F64, 0.75),
    ];
    let g = oxla::grad(
        |p: &[Tensor]| {
            let y = (&(&(&p[0] + &p[1])? * &p[2])? + &p[3])?;
            Ok::<_, oxla::Error>(vec![y.sum_all()?])
        },
        &inputs,
    )
    .unwrap();
    for (gk, xk) in g.iter().zip(&inputs) {
        assert_eq!(gk.shape(), xk.shape());
    }
    let v = oxla::eval(&g).unwrap();
    let f = |k: usize| -> Vec<f64> { v[k].as_array::<f64>().unwrap().iter().copied().collect() };
    let want_x: Vec<f64> = (0..12).map(|i| row[i % 4]).collect();
    assert_eq!(f(0), want_x);
    assert_eq!(f(1), vec![3.0; 3]);
    let want_row: Vec<f64> = (0..4)
        .map(|j| (0..3).map(|i| x[i * 4 + j] + col[i]).sum())
        .collect();
    assert_eq!(f(2), want_row);
    assert_eq!(f(3), vec![12.0]);
}

#[test]
fn operands_that_do_not_broadcast_are_typed_errors() {
    let a = Tensor::parameter(&[3, 4], DType::F32);
    let b = Tensor::parameter(&[3], DType::F32);
    for r in [&a + &b, &a * &b, a.maximum(&b), a.pow(&b)] {
        assert!(
            matches!(r, Err(oxla::IrError::BroadcastMismatch { .. })),
            "{r:?}"
        );
    }
    assert!(matches!(
        a.lt(&b),
        Err(oxla::IrError::BroadcastMismatch { .. })
    ));
    assert!(matches!(
        a.gt_scalar(0.0).unwrap().select(&b, &b),
        Err(oxla::IrError::BroadcastMismatch { .. })
    ));
    let z = Tensor::parameter(&[3, 4], DType::C64);
    assert!(matches!(
        z.sqrt(),
        Err(oxla::IrError::UnsupportedDType { .. })
    ));
}
