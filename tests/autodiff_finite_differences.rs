//! Derivatives of `gradient` with respect to its coordinates (and steps),
//! first and second order, against central finite differences in f64.
//!
//! `gradient` is non-linear in the coordinates (they appear in
//! denominators), so these derivatives go through the lowered primitives'
//! JVP and transpose rules; the tests use non-uniform grids and both edge
//! orders, and traced coordinates (parameters, so the general formula runs).
//!
//! Step size and tolerance. Coordinates are spaced by 0.5..1.5 units, so
//! the loss is smooth in them on a scale of 1. A central difference with
//! step `h` has truncation error `h^2/6 |L'''|` and rounding error about
//! `eps * S / h`, where `S` is the magnitude of the terms summed in `L`.
//! With `h = 1e-5` (relative to the grid spacing) truncation dominates:
//! the observed differences are at most 2.5e-9 of the derivative's
//! magnitude (2.5e-7 with h = 1e-4, the h^2 law; 4e-10 with h = 1e-6, where
//! rounding takes over). `RTOL = 1e-6` of the largest derivative component
//! leaves a margin of ~400 at h = 1e-5 and still passes for h 10x larger or
//! smaller, while any wrong rule (a missing term, a wrong sign or factor) is
//! off by O(1).
#![allow(clippy::unwrap_used)]

mod autodiff_common;

use autodiff_common::{Rng, UniformValues, f64s, lit};
use oxla::{Axes, DType, Spacing, Tensor};

/// Central-difference step, relative to the grid spacing (about 1).
const H: f64 = 1e-5;
/// Tolerance of a finite-difference comparison, relative to the largest
/// magnitude of the compared derivative.
const RTOL: f64 = 1e-6;
/// Two exact derivatives computed along different routes (jvp of grad vs
/// grad of grad) differ only by rounding.
const EXACT_RTOL: f64 = 1e-12;

/// `n` increasing coordinates spaced by 0.5..1.5 (a non-uniform grid).
fn grid(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut x = rng.uniform(-2.0, 2.0);
    (0..n)
        .map(|_| {
            let here = x;
            x += rng.uniform(0.5, 1.5);
            here
        })
        .collect()
}

/// A smooth test problem on a non-uniform grid: `f` of `shape`, coordinates
/// for every axis, and weights `w` (one per output).
struct Problem {
    shape: Vec<usize>,
    f: Vec<f64>,
    coords: Vec<Vec<f64>>,
    w: Vec<Vec<f64>>,
    edge_order: i64,
}

impl Problem {
    fn new(shape: &[usize], edge_order: i64, seed: u64) -> Problem {
        let mut rng = Rng::new(seed);
        let n: usize = shape.iter().product();
        Problem {
            shape: shape.to_vec(),
            f: rng.values(n),
            coords: shape.iter().map(|&len| grid(&mut rng, len)).collect(),
            w: shape.iter().map(|_| rng.values(n)).collect(),
            edge_order,
        }
    }

    /// `sum_k sum(w_k * G_k(f; x)^p)` for `p` = 1 or 2, as a lazy scalar.
    fn loss(&self, f: &Tensor, coords: &[Tensor], power: u32) -> Result<Tensor, oxla::Error> {
        let spacing: Vec<Spacing> = coords.iter().cloned().map(Spacing::Array).collect();
        let outs = oxla::numpy::gradient(f, &spacing, Axes::All, self.edge_order)?;
        let all: Vec<usize> = (0..self.shape.len()).collect();
        let mut total: Option<Tensor> = None;
        for (g, w) in outs.iter().zip(&self.w) {
            let g = if power == 2 { g.mul(g)? } else { g.clone() };
            let term = g.mul(&lit(&self.shape, w.clone()))?.reduce_sum(&all)?;
            total = Some(match total {
                Some(t) => t.add(&term)?,
                None => term,
            });
        }
        Ok(total.unwrap())
    }

    /// Literal tensors of (f, coordinates...).
    fn point(&self, values: &[Vec<f64>]) -> Vec<Tensor> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match i {
                0 => lit(&self.shape, v.clone()),
                _ => lit(&[v.len()], v.clone()),
            })
            .collect()
    }

    fn values(&self) -> Vec<Vec<f64>> {
        std::iter::once(self.f.clone())
            .chain(self.coords.iter().cloned())
            .collect()
    }

    /// The loss evaluated at (f, coordinates...).
    fn loss_at(&self, values: &[Vec<f64>], power: u32) -> f64 {
        let p = self.point(values);
        let l = self.loss(&p[0], &p[1..], power).unwrap();
        f64s(&oxla::eval(&[l]).unwrap()[0])[0]
    }

    /// `grad` of the loss with respect to (f, coordinates...), as lazy tensors.
    fn grad(&self, primals: &[Tensor], power: u32) -> Result<Vec<Tensor>, oxla::Error> {
        oxla::grad(
            |xs: &[Tensor]| Ok::<_, oxla::Error>(vec![self.loss(&xs[0], &xs[1..], power)?]),
            primals,
        )
    }

    /// The gradient evaluated at (f, coordinates...).
    fn grad_at(&self, values: &[Vec<f64>], power: u32) -> Vec<Vec<f64>> {
        let g = self.grad(&self.point(values), power).unwrap();
        oxla::eval(&g).unwrap().iter().map(f64s).collect()
    }
}

/// Central differences of a scalar function in every component.
fn fd_gradient(fun: impl Fn(&[Vec<f64>]) -> f64, at: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for i in 0..at.len() {
        let mut row = Vec::new();
        for j in 0..at[i].len() {
            let mut plus = at.to_vec();
            let mut minus = at.to_vec();
            plus[i][j] += H;
            minus[i][j] -= H;
            row.push((fun(&plus) - fun(&minus)) / (2.0 * H));
        }
        out.push(row);
    }
    out
}

/// Central difference of a vector function along `dir`.
fn fd_directional(
    fun: impl Fn(&[Vec<f64>]) -> Vec<Vec<f64>>,
    at: &[Vec<f64>],
    dir: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let shifted = |sign: f64| -> Vec<Vec<f64>> {
        at.iter()
            .zip(dir)
            .map(|(a, d)| a.iter().zip(d).map(|(x, y)| x + sign * H * y).collect())
            .collect()
    };
    let (p, m) = (fun(&shifted(1.0)), fun(&shifted(-1.0)));
    p.iter()
        .zip(&m)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y) / (2.0 * H)).collect())
        .collect()
}

/// `max |a - b| / max |a|` over lists of arrays; asserts it is below `tol`.
fn assert_close(what: &str, a: &[Vec<f64>], b: &[Vec<f64>], tol: f64) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}");
    let scale = a.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(scale > 0.0, "{what}: a zero derivative tests nothing");
    let mut worst = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.len(), y.len(), "{what}");
        for (p, q) in x.iter().zip(y) {
            worst = worst.max((p - q).abs() / scale);
        }
    }
    assert!(
        worst < tol,
        "{what}: relative difference {worst:e} >= {tol:e}\n  {a:?}\n  {b:?}"
    );
    worst
}

fn problems() -> Vec<Problem> {
    let mut out = Vec::new();
    for edge_order in [1, 2] {
        out.push(Problem::new(&[6], edge_order, 11 + edge_order as u64));
        out.push(Problem::new(&[5, 4], edge_order, 23 + edge_order as u64));
        out.push(Problem::new(&[3, 4, 3], edge_order, 37 + edge_order as u64));
    }
    out
}

/// First order: `grad` of `sum(w * gradient(f, x))` in `f` and in the
/// coordinates, and of `sum(w * gradient(f, x)^2)`, against central differences.
#[test]
fn coordinate_derivatives_match_finite_differences() {
    let mut worst = 0.0f64;
    for p in problems() {
        for power in [1, 2] {
            let at = p.values();
            let ad = p.grad_at(&at, power);
            let fd = fd_gradient(|v| p.loss_at(v, power), &at);
            let what = format!(
                "grad, shape {:?} eo {} power {power}",
                p.shape, p.edge_order
            );
            worst = worst.max(assert_close(&what, &ad, &fd, RTOL));
        }
    }
    println!("first order: max |AD - FD| / max|AD| = {worst:.3e}");
}

/// A 0-d step tensor is differentiable too: `G(f; h)` scales as `1/h`, so
/// `d/dh sum(w * G) = -sum(w * G) / h`, exactly, for both edge orders.
#[test]
fn step_derivative_is_minus_loss_over_step() {
    for edge_order in [1, 2] {
        let mut rng = Rng::new(5 + edge_order as u64);
        let f = lit(&[4, 5], rng.values(20));
        let w = lit(&[4, 5], rng.values(20));
        let h = Tensor::scalar(DType::F64, 0.37);
        let loss = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
            let outs = oxla::numpy::gradient(&f, &[Spacing::Array(xs[0].clone())], 1, edge_order)?;
            Ok(vec![outs[0].mul(&w)?.reduce_sum(&[0, 1])?])
        };
        let (value, g) = oxla::value_and_grad(loss, std::slice::from_ref(&h)).unwrap();
        let v = oxla::eval(&[value, g[0].clone()]).unwrap();
        let (l, dl) = (f64s(&v[0])[0], f64s(&v[1])[0]);
        let expected = -l / 0.37;
        assert!(
            (dl - expected).abs() <= EXACT_RTOL * expected.abs() * 10.0,
            "edge order {edge_order}: d/dh = {dl}, expected {expected}"
        );
    }
}

/// Second order: `jvp` of `x -> grad L(x)` (a function that calls `grad`)
/// is a Hessian-vector product; it must match central differences of the
/// first derivative along the tangent.
#[test]
fn jvp_of_grad_matches_finite_differences_of_grad() {
    let mut worst = 0.0f64;
    for p in problems() {
        let at = p.values();
        let mut rng = Rng::new(99);
        let dir: Vec<Vec<f64>> = at.iter().map(|v| rng.values(v.len())).collect();
        let primals = p.point(&at);
        let tangents = p.point(&dir);
        let (_, hvp) = oxla::jvp(|xs: &[Tensor]| p.grad(xs, 2), &primals, &tangents).unwrap();
        let ad: Vec<Vec<f64>> = oxla::eval(&hvp).unwrap().iter().map(f64s).collect();
        let fd = fd_directional(|v| p.grad_at(v, 2), &at, &dir);
        let what = format!("jvp of grad, shape {:?} eo {}", p.shape, p.edge_order);
        worst = worst.max(assert_close(&what, &ad, &fd, RTOL));
    }
    println!("second order (jvp of grad): max |AD - FD| / max|AD| = {worst:.3e}");
}

/// `grad` of a function that calls `grad`: `x -> <grad L(x), d>` has
/// gradient `H d` (the Hessian is symmetric), which must equal the
/// jvp-of-grad route to rounding and central differences of `grad L` along `d`.
#[test]
fn grad_of_grad_is_the_hessian_vector_product() {
    let mut worst_fd = 0.0f64;
    let mut worst_exact = 0.0f64;
    for p in problems() {
        let at = p.values();
        let mut rng = Rng::new(7);
        let dir: Vec<Vec<f64>> = at.iter().map(|v| rng.values(v.len())).collect();
        let primals = p.point(&at);
        let tangents = p.point(&dir);
        let inner = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
            let g = p.grad(xs, 2)?;
            let mut total: Option<Tensor> = None;
            for (gi, di) in g.iter().zip(&tangents) {
                let axes: Vec<usize> = (0..gi.ndim()).collect();
                let term = gi.mul(di)?.reduce_sum(&axes)?;
                total = Some(match total {
                    Some(t) => t.add(&term)?,
                    None => term,
                });
            }
            Ok(vec![total.unwrap()])
        };
        let gg = oxla::grad(inner, &primals).unwrap();
        let gg: Vec<Vec<f64>> = oxla::eval(&gg).unwrap().iter().map(f64s).collect();
        let (_, hvp) = oxla::jvp(|xs: &[Tensor]| p.grad(xs, 2), &primals, &tangents).unwrap();
        let hvp: Vec<Vec<f64>> = oxla::eval(&hvp).unwrap().iter().map(f64s).collect();
        let what = format!("grad of grad, shape {:?} eo {}", p.shape, p.edge_order);
        worst_exact = worst_exact.max(assert_close(&what, &hvp, &gg, EXACT_RTOL));
        let fd = fd_directional(|v| p.grad_at(v, 2), &at, &dir);
        worst_fd = worst_fd.max(assert_close(&what, &gg, &fd, RTOL));
    }
    println!(
        "grad of grad: max |AD - FD| / max|AD| = {worst_fd:.3e}; vs jvp of grad: {worst_exact:.3e}"
    );
}

/// `vjp` inside `jvp`: the pullback of `G(f; x)` applied to a fixed
/// cotangent, differentiated forward in the coordinates.
#[test]
fn jvp_of_vjp_matches_finite_differences() {
    let p = Problem::new(&[5, 4], 2, 3);
    let at = p.values();
    let mut rng = Rng::new(17);
    let dir: Vec<Vec<f64>> = at.iter().map(|v| rng.values(v.len())).collect();
    let ct: Vec<Tensor> = p
        .shape
        .iter()
        .map(|_| lit(&p.shape, rng.values(20)))
        .collect();
    // x -> J(x)^T ct, where J is the Jacobian of (f, x) -> gradient(f, x).
    let pulled = |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
        let (_, pullback) = oxla::vjp(
            |ys: &[Tensor]| {
                let spacing: Vec<Spacing> = ys[1..].iter().cloned().map(Spacing::Array).collect();
                oxla::numpy::gradient(&ys[0], &spacing, Axes::All, p.edge_order)
            },
            xs,
        )?;
        Ok(pullback.call(&ct)?)
    };
    let (_, t) = oxla::jvp(pulled, &p.point(&at), &p.point(&dir)).unwrap();
    let ad: Vec<Vec<f64>> = oxla::eval(&t).unwrap().iter().map(f64s).collect();
    let fd = fd_directional(
        |v| {
            let out = pulled(&p.point(v)).unwrap();
            oxla::eval(&out).unwrap().iter().map(f64s).collect()
        },
        &at,
        &dir,
    );
    let worst = assert_close("jvp of vjp", &ad, &fd, RTOL);
    println!("jvp of vjp: max |AD - FD| / max|AD| = {worst:.3e}");
}
