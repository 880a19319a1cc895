//! The demo's finite-difference section ([`finite_differences`]): the
//! accuracy orders of `oxla::fd` observed on refined grids, and a periodic
//! heat equation solved with its 4th-order Laplacian.
//!
//! 1. The second derivative of `exp(sin x)` on periodic grids of 16 to 128
//!    points, accuracies 2 to 8: the error falls as `h^p` until rounding.
//! 2. The first derivative of `sin(1.3x + 0.4) exp(0.7x)` on non-uniform
//!    coordinates with one-sided ends, accuracies 2 to 6 (2 is
//!    `numpy.gradient(edge_order=2)`), the ends included: the one-sided
//!    stencils keep the order.
//! 3. `u_t = Δu` on the periodic square `[0, 2π)²` from
//!    `u0 = sin(x) cos(2y)`, whose solution is `exp(-5t) u0`, by classical
//!    Runge-Kutta steps of `0.2 h²` (stable for the 4th-order Laplacian,
//!    whose spectrum reaches `-(32/3)/h²`), each step one `oxla::jit` call.
//!    The time error is far below the space error, so the error at `t =
//!    0.2` shows the Laplacian's order: about 4 (and 2 with accuracy 2).

use std::f64::consts::{PI, TAU};
use std::io::Write;
use std::time::Instant;

use ndarray::{Array1, Array2};
use oxla::fd::{AxisGrid, Boundary, Derivative};
use oxla::{Error, Spacing, Tensor};

use crate::demo::show_order;
use crate::error::CliError;

/// Grid sizes of the refinement tables: the step halves each time (the
/// coordinates' table stops before rounding takes over at accuracy 6).
const SIZES: [usize; 4] = [16, 32, 64, 128];
const COORD_SIZES: [usize; 4] = [8, 16, 32, 64];
/// Grid sizes of the heat equation (the largest only in release builds,
/// where it takes ~1,700 steps in well under a second).
const HEAT_SIZES: &[usize] = if cfg!(debug_assertions) {
    &[12, 24, 48]
} else {
    &[16, 32, 64, 128]
};
/// The time the heat equation is integrated to.
const HEAT_T: f64 = 0.2;

/// The section: both tables, then the heat equation.
pub fn finite_differences(out: &mut dyn Write) -> Result<(), CliError> {
    periodic_table(out)?;
    coordinates_table(out)?;
    heat_equation(out)
}

/// The largest |error| of each grid and the orders observed between
/// successive grids, one row per grid, then the last order seen for each
/// accuracy.
fn table(
    out: &mut dyn Write,
    label: &str,
    sizes: &[usize],
    accuracies: &[i64],
    error: impl Fn(usize, i64) -> Result<f64, CliError>,
) -> Result<(), CliError> {
    write!(out, "  {:>5}", "n")?;
    for p in accuracies {
        write!(out, "  {:>10}  {:>5}", format!("acc {p}"), "order")?;
    }
    writeln!(out)?;
    let mut previous: Vec<Option<f64>> = vec![None; accuracies.len()];
    let mut last = vec![f64::NAN; accuracies.len()];
    for &n in sizes {
        write!(out, "  {n:>5}")?;
        for (k, &p) in accuracies.iter().enumerate() {
            let e = error(n, p)?;
            let seen = previous[k].map_or(f64::NAN, |c| (c / e).log2());
            write!(out, "  {e:>10.3e}  {:>5}", show_order(seen))?;
            previous[k] = Some(e);
            last[k] = seen;
        }
        writeln!(out)?;
    }
    for (p, seen) in accuracies.iter().zip(&last) {
        writeln!(out, "  {label} observed order, accuracy {p}: {seen:.2}")?;
    }
    Ok(())
}

/// The largest |a - b|.
fn max_error(a: &Array1<f64>, b: impl Fn(usize) -> f64) -> f64 {
    a.iter()
        .enumerate()
        .map(|(i, &v)| (v - b(i)).abs())
        .fold(0.0, f64::max)
}

/// The derivative `d` of the 1-d array `f`, evaluated.
fn evaluate(f: Array1<f64>, d: &Derivative) -> Result<Array1<f64>, CliError> {
    let t = oxla::fd::derivative(&Tensor::from_host(f.into_dyn())?, d)?;
    let v = oxla::eval(&[t])?.remove(0).into_array::<f64>()?;
    v.into_dimensionality()
        .map_err(|e| CliError::Unexpected(e.to_string()))
}

fn periodic_table(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "d2/dx2 of exp(sin x) on a periodic grid of n points over [0, 2*pi): max |error|"
    )?;
    table(out, "periodic", &SIZES, &[2, 4, 6, 8], |n, p| {
        let h = TAU / n as f64;
        let x = |i: usize| i as f64 * h;
        let f = Array1::from_shape_fn(n, |i| x(i).sin().exp());
        let d = Derivative::new(0, 2).accuracy(p).spacing(h).periodic();
        let got = evaluate(f, &d)?;
        Ok(max_error(&got, |i| {
            let (s, c) = x(i).sin_cos();
            (c * c - s) * s.exp()
        }))
    })
}

fn coordinates_table(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out)?;
    writeln!(
        out,
        "d/dx of sin(1.3x + 0.4) exp(0.7x) on x = t + 0.15 sin(pi t), t uniform on [0, 1] (n points),"
    )?;
    writeln!(
        out,
        "one-sided ends (accuracy 2 is numpy.gradient, edge_order=2): max |error|, the ends included"
    )?;
    table(
        out,
        "one-sided coordinates",
        &COORD_SIZES,
        &[2, 4, 6],
        |n, p| {
            let x = Array1::from_shape_fn(n, |i| {
                let t = i as f64 / (n - 1) as f64;
                t + 0.15 * (PI * t).sin()
            });
            let f = x.mapv(|x| (1.3 * x + 0.4).sin() * (0.7 * x).exp());
            let d = Derivative::new(0, 1)
                .accuracy(p)
                .spacing(Spacing::Array(Tensor::from_host(x.clone().into_dyn())?));
            let got = evaluate(f, &d)?;
            Ok(max_error(&got, |i| {
                let (s, c) = (1.3 * x[i] + 0.4).sin_cos();
                (0.7 * s + 1.3 * c) * (0.7 * x[i]).exp()
            }))
        },
    )
}

/// `c * t`, `c` broadcast.
fn times(c: f64, t: &Tensor) -> Result<Tensor, Error> {
    Ok(Tensor::scalar(t.dtype(), c)
        .broadcast_in_dim(t.shape(), &[])?
        .mul(t)?)
}

/// `|u(T) - exp(-5T) sin(x) cos(2y)|_max` after integrating the heat
/// equation on an `n x n` periodic grid with the Laplacian of `accuracy`,
/// and the number of steps taken.
fn heat_error(n: usize, accuracy: i64) -> Result<(f64, usize), CliError> {
    let h = TAU / n as f64;
    let steps = (HEAT_T / (0.2 * h * h)).ceil() as usize;
    let dt = HEAT_T / steps as f64;
    let grid = [AxisGrid::step(h).boundary(Boundary::periodic())];
    let lap = move |u: &Tensor| oxla::fd::laplacian(u, &grid, accuracy);
    // one classical Runge-Kutta step, traced once and compiled by oxla::jit
    let step = oxla::jit(move |xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
        let u = &xs[0];
        let k1 = lap(u)?;
        let k2 = lap(&u.add(&times(dt / 2.0, &k1)?)?)?;
        let k3 = lap(&u.add(&times(dt / 2.0, &k2)?)?)?;
        let k4 = lap(&u.add(&times(dt, &k3)?)?)?;
        let sum = k1
            .add(&times(2.0, &k2)?)?
            .add(&times(2.0, &k3)?)?
            .add(&k4)?;
        Ok(vec![u.add(&times(dt / 6.0, &sum)?)?])
    });
    let exact = |i: usize, j: usize| (i as f64 * h).sin() * (2.0 * j as f64 * h).cos();
    let mut u = Tensor::from_host(Array2::from_shape_fn((n, n), |(i, j)| exact(i, j)).into_dyn())?;
    for _ in 0..steps {
        u = step.call(&[u])?.remove(0);
    }
    let u = oxla::eval(&[u])?.remove(0).into_array::<f64>()?;
    let decay = (-5.0 * HEAT_T).exp();
    let err = u
        .indexed_iter()
        .map(|(ij, &v)| (v - decay * exact(ij[0], ij[1])).abs())
        .fold(0.0, f64::max);
    Ok((err, steps))
}

fn heat_equation(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out)?;
    writeln!(
        out,
        "heat equation u_t = laplacian(u) on the periodic square [0, 2*pi)^2, u0 = sin(x) cos(2y),"
    )?;
    writeln!(
        out,
        "to t = {HEAT_T} by Runge-Kutta (RK4) steps of 0.2 h^2, one oxla::jit call per step;"
    )?;
    writeln!(
        out,
        "max |u - exp(-5t) u0| with the periodic Laplacian of accuracy 2 and 4 (oxla::fd::laplacian)"
    )?;
    let start = Instant::now();
    let steps = std::cell::Cell::new(0usize);
    table(out, "heat equation", HEAT_SIZES, &[2, 4], |n, p| {
        let (e, s) = heat_error(n, p)?;
        steps.set(steps.get() + s);
        Ok(e)
    })?;
    writeln!(
        out,
        "{} Runge-Kutta steps (4 Laplacians each) took {:.1} ms",
        steps.get(),
        start.elapsed().as_secs_f64() * 1e3
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heat_equation_converges_at_the_laplacians_order() {
        for (p, expected) in [(2, 2.0), (4, 4.0)] {
            let (coarse, _) = heat_error(12, p).unwrap();
            let (fine, _) = heat_error(24, p).unwrap();
            let seen = (coarse / fine).log2();
            assert!((seen - expected).abs() < 0.3, "accuracy {p}: order {seen}");
        }
    }
}
