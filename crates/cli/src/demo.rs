//! The embedded demo (`oxla`, `oxla demo`): a short report built from
//! sections, each a function that writes its part and may fail with a
//! [`CliError`]. Later work adds sections (autodiff, fusion) to [`SECTIONS`].
//!
//! The gradient section differentiates a smooth 2-d field, uniform along one
//! axis and on non-uniform coordinates along the other, with both edge
//! orders, on grids refined by halving the step. It prints the largest error
//! against the analytic derivative, at the two ends of each axis and inside,
//! and the convergence order observed between successive grids: about 1 at
//! the edges for `edge_order=1`, about 2 for `edge_order=2`, and about 2
//! inside for both.

use std::f64::consts::PI;
use std::io::Write;
use std::time::{Duration, Instant};

use ndarray::{Array1, Array2};
use oxla::{Axes, Spacing, Tensor};

use crate::error::CliError;

/// A report section: a title and the function that writes its body.
type Section = (&'static str, fn(&mut dyn Write) -> Result<(), CliError>);

/// The sections, in order.
const SECTIONS: &[Section] = &[("numpy.gradient: convergence", gradient_convergence)];

/// Grid sizes: `2^k + 1` points, so the step halves exactly at each refinement.
const SIZES: [usize; 5] = [17, 33, 65, 129, 257];

/// Run every section, then print the total time.
pub fn run(out: &mut dyn Write) -> Result<(), CliError> {
    let start = Instant::now();
    writeln!(out, "oxla demo")?;
    for (title, section) in SECTIONS {
        writeln!(out)?;
        writeln!(out, "== {title} ==")?;
        section(out)?;
    }
    writeln!(out)?;
    writeln!(out, "demo finished in {}", millis(start.elapsed()))?;
    Ok(())
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The sample field `f(y, x) = sin(1.3 y + 0.4) exp(0.7 x)` and its partials.
fn field(y: f64, x: f64) -> f64 {
    (1.3 * y + 0.4).sin() * (0.7 * x).exp()
}
fn dfield_dy(y: f64, x: f64) -> f64 {
    1.3 * (1.3 * y + 0.4).cos() * (0.7 * x).exp()
}
fn dfield_dx(y: f64, x: f64) -> f64 {
    0.7 * field(y, x)
}

/// Non-uniform coordinates on [0, 1]: `x = t + 0.15 sin(pi t)`, `t` uniform.
fn x_coordinates(n: usize) -> Array1<f64> {
    Array1::from_shape_fn(n, |i| {
        let t = i as f64 / (n - 1) as f64;
        t + 0.15 * (PI * t).sin()
    })
}

/// Largest errors on one grid: (at the ends of each axis, inside).
#[derive(Clone, Copy)]
struct Errors {
    edge: f64,
    interior: f64,
}

/// Differentiate the field on an `n x n` grid and measure the errors.
fn errors_on_grid(n: usize, edge_order: i64) -> Result<Errors, CliError> {
    let y_len = 2.0;
    let hy = y_len / (n - 1) as f64;
    let x = x_coordinates(n);
    let f = Array2::from_shape_fn((n, n), |(i, j)| field(i as f64 * hy, x[j]));

    let f = Tensor::from_host(f.into_dyn())?;
    let xs = Tensor::from_host(x.clone().into_dyn())?;
    let outputs = oxla::numpy::gradient(
        &f,
        &[Spacing::Scalar(hy), Spacing::Array(xs)],
        Axes::All,
        edge_order,
    )?;
    let values = oxla::eval(&outputs)?;
    let (Some(dy), Some(dx)) = (values.first(), values.get(1)) else {
        return Err(oxla::IrError::Composite {
            name: "gradient",
            reason: "expected two outputs".into(),
        }
        .into());
    };
    let dy = dy.as_array::<f64>()?;
    let dx = dx.as_array::<f64>()?;

    let mut errors = Errors {
        edge: 0.0,
        interior: 0.0,
    };
    let mut record = |err: f64, at_edge: bool| {
        let slot = if at_edge {
            &mut errors.edge
        } else {
            &mut errors.interior
        };
        *slot = slot.max(err.abs());
    };
    for ((idx, &got), (_, &got_x)) in dy.indexed_iter().zip(dx.indexed_iter()) {
        let (i, j) = (idx[0], idx[1]);
        let (yv, xv) = (i as f64 * hy, x[j]);
        record(got - dfield_dy(yv, xv), i == 0 || i == n - 1);
        record(got_x - dfield_dx(yv, xv), j == 0 || j == n - 1);
    }
    Ok(errors)
}

/// Observed order between two grids whose step differs by a factor of 2.
fn order(coarse: f64, fine: f64) -> f64 {
    (coarse / fine).log2()
}

fn gradient_convergence(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "f(y, x) = sin(1.3*y + 0.4) * exp(0.7*x) on an n x n float64 grid"
    )?;
    writeln!(out, "  axis 0: y uniform on [0, 2] (scalar spacing)")?;
    writeln!(
        out,
        "  axis 1: x = t + 0.15*sin(pi*t), t uniform on [0, 1] (non-uniform coordinates)"
    )?;
    writeln!(
        out,
        "  error: max |gradient - analytic derivative| over both axes, at the two ends of each axis and inside"
    )?;
    let mut spent = Duration::ZERO;
    let mut calls = 0;
    for edge_order in [1, 2] {
        writeln!(out)?;
        writeln!(out, "edge_order={edge_order}")?;
        writeln!(
            out,
            "  {:>5}  {:>11}  {:>5}  {:>14}  {:>5}",
            "n", "edge error", "order", "interior error", "order"
        )?;
        let mut previous: Option<Errors> = None;
        let mut last_orders = (f64::NAN, f64::NAN);
        for n in SIZES {
            let start = Instant::now();
            let e = errors_on_grid(n, edge_order)?;
            spent += start.elapsed();
            calls += 1;
            let (edge_order_seen, interior_order_seen) = match previous {
                Some(p) => (order(p.edge, e.edge), order(p.interior, e.interior)),
                None => (f64::NAN, f64::NAN),
            };
            writeln!(
                out,
                "  {n:>5}  {:>11.3e}  {:>5}  {:>14.3e}  {:>5}",
                e.edge,
                show_order(edge_order_seen),
                e.interior,
                show_order(interior_order_seen)
            )?;
            previous = Some(e);
            last_orders = (edge_order_seen, interior_order_seen);
        }
        writeln!(
            out,
            "  observed order at the edges: {:.2} (expected {edge_order}); inside: {:.2} (expected 2)",
            last_orders.0, last_orders.1
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{calls} gradient calls (2 axes each, building the field included) took {}",
        millis(spent)
    )?;
    Ok(())
}

fn show_order(o: f64) -> String {
    if o.is_finite() {
        format!("{o:.2}")
    } else {
        "-".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_orders_match_the_edge_order() {
        for (edge_order, expected) in [(1, 1.0), (2, 2.0)] {
            let coarse = errors_on_grid(33, edge_order).unwrap();
            let fine = errors_on_grid(65, edge_order).unwrap();
            let seen = order(coarse.edge, fine.edge);
            assert!(
                (seen - expected).abs() < 0.2,
                "edge_order={edge_order}: {seen}"
            );
            assert!((order(coarse.interior, fine.interior) - 2.0).abs() < 0.2);
        }
    }
}
