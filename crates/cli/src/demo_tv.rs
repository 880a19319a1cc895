//! The demo's elementwise-math sections.
//!
//! Total-variation denoising: a piecewise-constant image (a bright square
//! on a dark background) with noise, denoised by gradient descent on the
//! ROF loss `0.5 * sum((u - y)^2) + lambda * TV(u)` and, for comparison, on
//! the quadratic smoothness prior of the autodiff section,
//! `0.5 * sum((u - y)^2) + mu * sum(|forward differences|^2)`. TV keeps the
//! square's edges (the jump across them stays close to 1) where the
//! quadratic prior, at the weight that gives it its best error, blurs them.
//!
//! The inverse problem: recover the two coefficients `(lambda, alpha)` of
//! the nonlinear PDE `lap(u) + lambda * exp(alpha * u) = s` from a field
//! `u` and a noisy source `s`, by Newton's method on the mean squared
//! residual, with the gradient from `grad` and the Hessian from grad of
//! grad (a `jvp` of the gradient), damped (Levenberg-Marquardt) where the
//! Hessian is not positive definite.

use std::io::Write;
use std::time::Instant;

use ndarray::Array2;
use oxla::{ArrayValue, Error, SplitMix64, Tensor};

use crate::error::CliError;

/// Side of the image (small enough for debug builds too).
const N: usize = 64;
/// Standard deviation of the noise.
const NOISE: f64 = 0.25;
/// TV weight and smoothing.
const TV_LAMBDA: f64 = 0.35;
const TV_EPS: f64 = 1e-2;
/// Gradient-descent steps for each prior.
const STEPS: usize = 150;
/// Quadratic-prior weights tried (the best, by error against the clean image, is shown).
const MUS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

fn unexpected(reason: &str) -> CliError {
    CliError::Unexpected(reason.into())
}

fn scalar(v: &ArrayValue) -> Result<f64, CliError> {
    v.as_array::<f64>()?
        .first()
        .copied()
        .ok_or_else(|| unexpected("expected a 0-d result"))
}

fn values(v: &ArrayValue) -> Result<Vec<f64>, CliError> {
    Ok(v.as_array::<f64>()?.iter().copied().collect())
}

/// The clean image: 1 inside the square `[N/4, 3N/4)^2`, 0 outside.
fn clean(i: usize, j: usize) -> f64 {
    let inside = |k: usize| (N / 4..3 * N / 4).contains(&k);
    if inside(i) && inside(j) { 1.0 } else { 0.0 }
}

/// `sum(gx^2 + gy^2)` with the forward differences of [`crate::tv`].
fn quadratic_prior(u: &Tensor) -> Result<Tensor, Error> {
    let (h, w) = (u.shape()[0], u.shape()[1]);
    let base = u.slice(&[0, 0], &[h - 1, w - 1], &[1, 1])?;
    let gx = (&u.slice(&[0, 1], &[h - 1, w], &[1, 1])? - &base)?;
    let gy = (&u.slice(&[1, 0], &[h, w - 1], &[1, 1])? - &base)?;
    Ok(((&gx * &gx)? + (&gy * &gy)?)?.sum_all()?)
}

/// `0.5 * sum((u - y)^2) + weight * prior(u)`.
fn loss(
    u: &Tensor,
    y: &Tensor,
    weight: f64,
    prior: fn(&Tensor) -> Result<Tensor, Error>,
) -> Result<Tensor, Error> {
    let diff = (u - y)?;
    Ok((((&diff * &diff)?.sum_all()? * 0.5)? + (prior(u)? * weight)?)?)
}

fn tv_prior(u: &Tensor) -> Result<Tensor, Error> {
    crate::tv::total_variation(u, TV_EPS)
}

/// Gradient descent from `y` with step `lr`; the losses and the result.
fn descend(
    y: &Tensor,
    weight: f64,
    prior: fn(&Tensor) -> Result<Tensor, Error>,
    lr: f64,
) -> Result<(Vec<f64>, Vec<f64>), CliError> {
    let mut u = y.clone();
    let mut losses = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        let (l, g) = oxla::value_and_grad(
            |xs: &[Tensor]| Ok::<_, Error>(vec![loss(&xs[0], y, weight, prior)?]),
            std::slice::from_ref(&u),
        )?;
        let g = g.first().ok_or_else(|| unexpected("no gradient"))?;
        let next = (&u - &(g * lr)?)?;
        let [l, next]: [ArrayValue; 2] = oxla::eval(&[l, next])?
            .try_into()
            .map_err(|_| unexpected("expected two results"))?;
        losses.push(scalar(&l)?);
        u = Tensor::literal(next);
    }
    let u = u
        .literal_value()
        .ok_or_else(|| unexpected("expected a concrete image"))?;
    Ok((losses, values(u)?))
}

/// `|a - b| / |b|`.
fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let (d, n) = a.iter().zip(b).fold((0.0, 0.0), |(d, n), (x, y)| {
        (d + (x - y) * (x - y), n + y * y)
    });
    (d / n).sqrt()
}

/// The mean jump across the square's left and right edges (1 in the clean image).
fn edge_jump(u: &[f64]) -> f64 {
    let at = |i: usize, j: usize| u[i * N + j];
    let rows = N / 4 + 2..3 * N / 4 - 2;
    let count = rows.len() as f64;
    let (l, r) = (N / 4, 3 * N / 4);
    rows.map(|i| (at(i, l) - at(i, l - 1)) + (at(i, r - 1) - at(i, r)))
        .sum::<f64>()
        / (2.0 * count)
}

pub(crate) fn total_variation_denoising(out: &mut dyn Write) -> Result<(), CliError> {
    let clean_img: Vec<f64> = (0..N * N).map(|k| clean(k / N, k % N)).collect();
    let mut rng = SplitMix64::new(2026);
    let noisy = Array2::from_shape_fn((N, N), |(i, j)| {
        clean(i, j) + NOISE * 3f64.sqrt() * rng.uniform(-1.0, 1.0)
    });
    let noisy_vals: Vec<f64> = noisy.iter().copied().collect();
    let y = Tensor::from_host(noisy.into_dyn())?;
    writeln!(
        out,
        "a {N} x {N} image, 1 inside a square and 0 outside, with uniform noise of std {NOISE}"
    )?;
    writeln!(
        out,
        "ROF: minimize 0.5 * sum((u - y)^2) + {TV_LAMBDA} * sum(sqrt(gx^2 + gy^2 + {TV_EPS})),"
    )?;
    writeln!(
        out,
        "     {STEPS} gradient-descent steps from u = y, value_and_grad through sqrt, fused"
    )?;
    // The data term's Hessian is I; TV's is at most 8 lambda / sqrt(eps) (the
    // forward-difference operator's norm squared, 8, over the smallest |grad|).
    let tv_lr = 1.0 / (1.0 + 8.0 * TV_LAMBDA / TV_EPS.sqrt());
    let start = Instant::now();
    let (tv_losses, tv_u) = descend(&y, TV_LAMBDA, tv_prior, tv_lr)?;
    let spent = start.elapsed();
    for (k, l) in tv_losses.iter().enumerate() {
        if k % 30 == 0 || k + 1 == STEPS {
            writeln!(out, "  iteration {k:>3}  loss {l:.6e}")?;
        }
    }
    let monotone = tv_losses.windows(2).all(|w| w[1] <= w[0]);
    writeln!(
        out,
        "loss falling at every step: {} ({:.1} ms)",
        if monotone { "yes" } else { "NO" },
        spent.as_secs_f64() * 1e3
    )?;
    // The quadratic prior, at each weight; its Hessian is I + 2 mu * 8 at most.
    let mut best: Option<(f64, Vec<f64>)> = None;
    for mu in MUS {
        let lr = 1.0 / (1.0 + 16.0 * mu);
        let (_, u) = descend(&y, mu, quadratic_prior, lr)?;
        let better = best
            .as_ref()
            .is_none_or(|(_, b)| relative_error(&u, &clean_img) < relative_error(b, &clean_img));
        if better {
            best = Some((mu, u));
        }
    }
    let (mu, quad_u) = best.ok_or_else(|| unexpected("no quadratic run"))?;
    writeln!(out)?;
    writeln!(
        out,
        "                        error vs clean   jump across the edges (clean: 1)"
    )?;
    let row = |out: &mut dyn Write, name: &str, u: &[f64]| -> Result<(), CliError> {
        writeln!(
            out,
            "  {name:<22}  {:>14.4}   {:>8.3}",
            relative_error(u, &clean_img),
            edge_jump(u)
        )?;
        Ok(())
    };
    row(out, "noisy input", &noisy_vals)?;
    row(out, "total variation", &tv_u)?;
    row(out, &format!("quadratic, mu = {mu}"), &quad_u)?;
    writeln!(
        out,
        "(the quadratic prior's weight is the best of {MUS:?} by error against the clean image)"
    )?;
    Ok(())
}

// ---- inverse problem ----------------------------------------------------------

/// Grid side of the inverse problem.
const PDE_N: usize = 48;
/// The coefficients to recover, and the starting guess.
const TRUE_COEFFS: [f64; 2] = [0.8, 1.5];
const GUESS: [f64; 2] = [0.3, 0.5];
/// Newton iterations.
const NEWTON_STEPS: usize = 10;

/// The mean squared residual of `lap(u) + lambda * exp(alpha * u) = s` on
/// the interior of a grid of step `h` (5-point Laplacian).
fn pde_loss(
    u: &Tensor,
    s: &Tensor,
    lambda: &Tensor,
    alpha: &Tensor,
    h: f64,
) -> Result<Tensor, Error> {
    let n = u.shape()[0];
    let at = |di: usize, dj: usize| u.slice(&[di, dj], &[n - 2 + di, n - 2 + dj], &[1, 1]);
    let c = at(1, 1)?;
    let sum = (((at(2, 1)? + at(0, 1)?)? + at(1, 2)?)? + at(1, 0)?)?;
    let lap = ((sum - (&c * 4.0)?)? / (h * h))?;
    let r = ((lap + (lambda * &(alpha * &c)?.exp()?)?)? - s)?;
    Ok(((&r * &r)?.mean_all()? * 0.5)?)
}

/// A loss, its gradient and its Hessian at a point of the plane.
type Quadratic = (f64, [f64; 2], [[f64; 2]; 2]);

/// Loss, gradient and Hessian at `theta` (the Hessian by jvp of grad).
fn newton_terms(u: &Tensor, s: &Tensor, h: f64, theta: [f64; 2]) -> Result<Quadratic, CliError> {
    let f = |p: &[Tensor]| Ok::<_, Error>(vec![pde_loss(u, s, &p[0], &p[1], h)?]);
    let params = [
        Tensor::scalar(oxla::DType::F64, theta[0]),
        Tensor::scalar(oxla::DType::F64, theta[1]),
    ];
    let (value, grads) = oxla::value_and_grad(f, &params)?;
    let mut outputs = vec![value];
    outputs.extend(grads);
    for k in 0..2 {
        let e: Vec<Tensor> = (0..2)
            .map(|i| Tensor::scalar(oxla::DType::F64, if i == k { 1.0 } else { 0.0 }))
            .collect();
        let (_, column) = oxla::jvp(|p: &[Tensor]| oxla::grad(f, p), &params, &e)?;
        outputs.extend(column);
    }
    let v: Vec<f64> = oxla::eval(&outputs)?
        .iter()
        .map(scalar)
        .collect::<Result<_, _>>()?;
    Ok((v[0], [v[1], v[2]], [[v[3], v[5]], [v[4], v[6]]]))
}

pub(crate) fn pde_inverse_problem(out: &mut dyn Write) -> Result<(), CliError> {
    let n = PDE_N;
    let h = 1.0 / (n - 1) as f64;
    let field = |i: usize, j: usize| {
        let (x, y) = (i as f64 * h, j as f64 * h);
        (std::f64::consts::PI * x).sin() * (std::f64::consts::PI * y).sin() + 0.3 * x * y
    };
    let u_host = Array2::from_shape_fn((n, n), |(i, j)| field(i, j));
    let u = Tensor::from_host(u_host.into_dyn())?;
    // the source the true coefficients give, observed with noise of 1% of its scale
    let [lam, alpha] = TRUE_COEFFS.map(|c| Tensor::scalar(oxla::DType::F64, c));
    let c = u.slice(&[1, 1], &[n - 1, n - 1], &[1, 1])?;
    let exact_s = {
        let at = |di: usize, dj: usize| u.slice(&[di, dj], &[n - 2 + di, n - 2 + dj], &[1, 1]);
        let sum = (((at(2, 1)? + at(0, 1)?)? + at(1, 2)?)? + at(1, 0)?)?;
        let lap = ((sum - (&c * 4.0)?)? / (h * h))?;
        (lap + (&lam * &(&alpha * &c)?.exp()?)?)?
    };
    let exact = values(&oxla::eval(&[exact_s])?[0])?;
    let mut rng = SplitMix64::new(48);
    let noisy: Vec<f64> = exact
        .iter()
        .map(|v| v + 0.01 * 20.0 * rng.uniform(-1.0, 1.0))
        .collect();
    let s = Tensor::from_host(
        ndarray::Array2::from_shape_vec((n - 2, n - 2), noisy)
            .map_err(|e| unexpected(&e.to_string()))?
            .into_dyn(),
    )?;
    writeln!(
        out,
        "recover (lambda, alpha) in lap(u) + lambda * exp(alpha * u) = s on a {n} x {n} grid from"
    )?;
    writeln!(
        out,
        "u and a noisy s (true {TRUE_COEFFS:?}), minimizing 0.5 * mean(residual^2) by Newton's method:"
    )?;
    writeln!(
        out,
        "gradient by grad, Hessian by jvp of grad (grad of grad), from {GUESS:?}"
    )?;
    let mut theta = GUESS;
    for step in 0..NEWTON_STEPS {
        let (value, g, hess) = newton_terms(&u, &s, h, theta)?;
        writeln!(
            out,
            "  newton {step}  lambda {:.6}  alpha {:.6}  loss {value:.6e}",
            theta[0], theta[1]
        )?;
        // Levenberg-Marquardt damping: Newton's step where the Hessian is
        // positive definite and the loss falls, shorter (H + mu I) otherwise
        let mut mu = 0.0;
        loop {
            let (a, b, c, d) = (hess[0][0] + mu, hess[0][1], hess[1][0], hess[1][1] + mu);
            let det = a * d - b * c;
            if det > 0.0 && a > 0.0 {
                let dx = [(d * g[0] - b * g[1]) / det, (a * g[1] - c * g[0]) / det];
                let trial = [theta[0] - dx[0], theta[1] - dx[1]];
                let (trial_value, _, _) = newton_terms(&u, &s, h, trial)?;
                if trial_value <= value {
                    theta = trial;
                    break;
                }
            }
            if mu > 1e12 {
                return Err(unexpected("no step lowers the loss"));
            }
            mu = if mu == 0.0 {
                1e-6 * (hess[0][0].abs() + hess[1][1].abs())
            } else {
                mu * 10.0
            };
        }
    }
    writeln!(
        out,
        "recovered lambda {:.4}, alpha {:.4} (true {}, {})",
        theta[0], theta[1], TRUE_COEFFS[0], TRUE_COEFFS[1]
    )?;
    Ok(())
}
