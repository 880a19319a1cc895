//! The losses of `tests/jax/gen_math_fixtures.py` (total variation, a mix
//! of every smooth function with broadcasting, a nonlinear PDE residual)
//! built with oxla, against `jax.value_and_grad` in float64: values to
//! 1e-12 relative, gradients to 1e-10 (norm-wise relative). Each value and
//! gradient is also checked to be the reference interpreter's bit for bit
//! (fused kernels vs `oxla::eval_reference`).
#![allow(clippy::unwrap_used)]

mod common;

use oxla::{ArrayValue, Error, Tensor};
use serde_json::Value;

const VALUE_RTOL: f64 = 1e-12;
const GRAD_RTOL: f64 = 1e-10;

fn array(v: &Value) -> Tensor {
    assert_eq!(v["dtype"], "float64");
    let shape = common::shape(v);
    let data: Vec<f64> = common::hex_bytes(v["hex"].as_str().unwrap())
        .chunks(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let a = oxla::ndarray::ArrayD::from_shape_vec(shape, data).unwrap();
    Tensor::literal(ArrayValue::from(a))
}

/// Every element the same bits (NaNs: both NaN, see ARCHITECTURE.md).
fn assert_bits_eq(a: &ArrayValue, b: &ArrayValue, what: &str) {
    assert_eq!((a.shape(), a.dtype()), (b.shape(), b.dtype()), "{what}");
    for (i, (x, y)) in a.to_c128_vec().iter().zip(b.to_c128_vec()).enumerate() {
        let same = x.re.to_bits() == y.re.to_bits() || (x.re.is_nan() && y.re.is_nan());
        assert!(same, "{what}: element {i}: {x} vs {y}");
    }
}

/// `u[i+1] - u[i]` along `axis`, 0 in the last row (Chambolle's discrete gradient).
fn forward_difference(u: &Tensor, axis: usize) -> Result<Tensor, Error> {
    let n = u.shape()[axis];
    let d = (&u.slice_axis(axis, 1, n)? - &u.slice_axis(axis, 0, n - 1)?)?;
    Ok(d.pad_axis(&Tensor::scalar(u.dtype(), 0.0), axis, 0, 1)?)
}

fn tv(u: &Tensor, f: &Tensor, lam: f64, eps: f64) -> Result<Tensor, Error> {
    let (gy, gx) = (forward_difference(u, 0)?, forward_difference(u, 1)?);
    let mag = (((&gx * &gx)? + (&gy * &gy)?)? + eps)?.sqrt()?;
    let diff = (u - f)?;
    let data = ((&diff * &diff)?.sum_all()? * 0.5)?;
    Ok((data + (mag.sum_all()? * lam)?)?)
}

fn smooth(x: &Tensor, w: &Tensor) -> Result<Tensor, Error> {
    let a = ((x * w)? + 0.5)?;
    let a2 = (&a * &a)?;
    let terms = [
        (a.sin()? * a.cos()?)?,
        a.tanh()?,
        (&a * -0.5)?.exp()?,
        a2.log1p()?,
        (&a2 + 1.0)?.sqrt()?,
        (&a * 0.1)?.expm1()?,
        (a.abs()? + 2.0)?.log()?.powf(1.5)?,
        a.maximum(&w.sin()?)?.minimum(&(x * 3.0)?)?,
    ];
    let mut total = terms[0].clone();
    for t in &terms[1..] {
        total = (&total + t)?;
    }
    Ok(total.mean_all()?)
}

fn pde(u: &Tensor, lam: &Tensor, s: &Tensor, h: f64) -> Result<Tensor, Error> {
    let n = u.shape()[0];
    let m = u.shape()[1];
    let at = |di: usize, dj: usize| u.slice(&[di, dj], &[n - 2 + di, m - 2 + dj], &[1, 1]);
    let c = at(1, 1)?;
    let sum = (((at(2, 1)? + at(0, 1)?)? + at(1, 2)?)? + at(1, 0)?)?;
    let lap = ((sum - (&c * 4.0)?)? / (h * h))?;
    let r = ((lap + (lam * &c.exp()?)?)? - s)?;
    Ok(((&r * &r)?.mean_all()? * 0.5)?)
}

fn rel_norm_diff(got: &[f64], want: &[f64]) -> f64 {
    let diff: f64 = got.iter().zip(want).map(|(a, b)| (a - b) * (a - b)).sum();
    let norm: f64 = want.iter().map(|b| b * b).sum();
    (diff / norm).sqrt()
}

fn f64s(v: &ArrayValue) -> Vec<f64> {
    v.as_array::<f64>().unwrap().iter().copied().collect()
}

#[test]
fn losses_agree_with_jax() {
    let text = std::fs::read_to_string("tests/jax/fixtures/math_losses.json").unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let inputs: Vec<Tensor> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        let p = &case["params"];
        let (loss, grads) = if name.starts_with("tv") {
            let (lam, eps) = (p["lam"].as_f64().unwrap(), p["eps"].as_f64().unwrap());
            let f = inputs[1].clone();
            oxla::value_and_grad(
                |x: &[Tensor]| Ok::<_, Error>(vec![tv(&x[0], &f, lam, eps)?]),
                &inputs[..1],
            )
        } else if name.starts_with("smooth") {
            oxla::value_and_grad(
                |x: &[Tensor]| Ok::<_, Error>(vec![smooth(&x[0], &x[1])?]),
                &inputs,
            )
        } else {
            let h = p["h"].as_f64().unwrap();
            let s = inputs[2].clone();
            oxla::value_and_grad(
                |x: &[Tensor]| Ok::<_, Error>(vec![pde(&x[0], &x[1], &s, h)?]),
                &inputs[..2],
            )
        }
        .unwrap();
        let outputs: Vec<Tensor> = std::iter::once(loss).chain(grads).collect();
        let fused = oxla::eval(&outputs).unwrap();
        let reference = oxla::eval_reference(&outputs).unwrap();
        for (k, (a, b)) in fused.iter().zip(&reference).enumerate() {
            assert_bits_eq(a, b, &format!("{name} output {k}: fused vs interpreter"));
        }
        let value = f64s(&fused[0])[0];
        let want = common::float_bits(case["value"].as_str().unwrap());
        let err = ((value - want) / want).abs();
        assert!(
            err <= VALUE_RTOL,
            "{name}: value {value} vs JAX {want} (rel {err:e})"
        );
        let want_grads = case["grads"].as_array().unwrap();
        assert_eq!(want_grads.len(), fused.len() - 1);
        for (k, g) in want_grads.iter().enumerate() {
            let w = array(g);
            let w = f64s(&oxla::eval_reference(&[w]).unwrap()[0]);
            assert_eq!(
                fused[k + 1].shape(),
                common::shape(g).as_slice(),
                "{name} grad {k}"
            );
            let err = rel_norm_diff(&f64s(&fused[k + 1]), &w);
            assert!(
                err <= GRAD_RTOL,
                "{name}: gradient {k} differs from JAX by {err:e}"
            );
            println!(
                "{name}: value rel err {:e}, grad {k} rel err {err:e}",
                ((value - want) / want).abs()
            );
        }
    }
}
