//! The embedded demo (`oxla`, `oxla demo`): a short report built from
//! sections, each a function that writes its part and may fail with a
//! [`CliError`]. The sections are listed in [`SECTIONS`].
//!
//! The gradient section differentiates a smooth 2-d field, uniform along one
//! axis and on non-uniform coordinates along the other, with both edge
//! orders, on grids refined by halving the step. It prints the largest error
//! against the analytic derivative, at the two ends of each axis and inside,
//! and the convergence order observed between successive grids: about 1 at
//! the edges for `edge_order=1`, about 2 for `edge_order=2`, and about 2
//! inside for both.
//!
//! The autodiff section denoises a noisy 2-d field by gradient descent on
//! `sum((u - y)^2) + lambda * sum(|grad u|^2)`, with the gradient of the
//! loss from [`oxla::value_and_grad`] through `gradient`, and checks one
//! component of the smoothness term's gradient against a central difference.
//!
//! The finite-difference section ([`crate::demo_fd`]) shows the accuracy
//! orders of `oxla::fd` on refined grids and solves a periodic heat
//! equation with its 4th-order Laplacian.
//!
//! The total-variation and inverse-problem sections ([`crate::demo_tv`])
//! denoise an image with the ROF loss (against the quadratic prior) and
//! recover the coefficients of a nonlinear PDE by Newton's method.
//!
//! The fusion section prints the fused plan of `gradient` over both axes
//! of a large array, and of the value and gradient of `sum(|grad f|^2)`,
//! then times [`oxla::eval`] against the reference interpreter and checks
//! that both give the same bits.

use std::f64::consts::PI;
use std::io::Write;
use std::time::{Duration, Instant};

use ndarray::{Array1, Array2, IxDyn};
use oxla::{ArrayValue, Axes, DType, PlanSummary, Spacing, SplitMix64, Tensor};

use crate::error::CliError;

/// A report section: a title and the function that writes its body.
type Section = (&'static str, fn(&mut dyn Write) -> Result<(), CliError>);

/// The sections, in order.
const SECTIONS: &[Section] = &[
    ("numpy.gradient: convergence", gradient_convergence),
    (
        "autodiff: denoising by gradient descent",
        autodiff_denoising,
    ),
    (
        "finite differences: accuracy orders and a periodic heat equation",
        crate::demo_fd::finite_differences,
    ),
    (
        "total variation: ROF denoising keeps edges the quadratic prior blurs",
        crate::demo_tv::total_variation_denoising,
    ),
    (
        "inverse problem: coefficients of a nonlinear PDE by Newton with grad of grad",
        crate::demo_tv::pde_inverse_problem,
    ),
    ("fusion: one pass over memory", fusion),
];

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
        return Err(unexpected("gradient returned fewer than two outputs"));
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

/// An observed order with two decimals, or `-` where there is none.
pub(crate) fn show_order(o: f64) -> String {
    if o.is_finite() {
        format!("{o:.2}")
    } else {
        "-".into()
    }
}

// ---- autodiff ---------------------------------------------------------------

/// Side of the denoising grid (small enough for debug builds too).
const DENOISE_N: usize = 128;
/// Standard deviation of the noise added to the clean field.
const NOISE_STD: f64 = 0.3;
/// Weight of the smoothness term.
const LAMBDA: f64 = 16.0;
/// Gradient-descent steps.
const STEPS: usize = 20;
/// Largest eigenvalue of `G^T G`, where `G` stacks `gradient`'s two axes
/// (unit spacing, `edge_order=1`): 4.571..., from the one-sided edge rows.
const SMOOTHNESS_NORM: f64 = 4.6;

/// The clean field of the autodiff section on `[0, 1]^2`.
fn clean_field(y: f64, x: f64) -> f64 {
    (2.0 * PI * y).sin() * (1.5 * PI * x).cos()
}

/// Deterministic pseudo-noise: uniform with mean 0 and standard deviation
/// `std`, from the first draw of the generator seeded with `index`.
fn pseudo_noise(index: u64, std: f64) -> f64 {
    // [0, 1) -> [-1, 1); a uniform on [-1, 1) has std 1/sqrt(3).
    let unit = SplitMix64::new(index).unit();
    (2.0 * unit - 1.0) * 3f64.sqrt() * std
}

/// An error for a result that does not have the expected form.
fn unexpected(reason: &str) -> CliError {
    CliError::Unexpected(reason.into())
}

/// The single tensor of a one-element result.
fn only(xs: &[Tensor]) -> Result<&Tensor, CliError> {
    match xs {
        [x] => Ok(x),
        _ => Err(unexpected("expected one tensor")),
    }
}

/// `f` of each argument a closure is traced with (the demo traces with one).
fn each(
    xs: &[Tensor],
    f: impl Fn(&Tensor) -> Result<Tensor, oxla::Error>,
) -> Result<Vec<Tensor>, oxla::Error> {
    xs.iter().map(f).collect()
}

/// `sum(t * t)` over every axis: a 0-d tensor.
fn sum_of_squares(t: &Tensor) -> Result<Tensor, oxla::Error> {
    let axes: Vec<usize> = (0..t.ndim()).collect();
    Ok(t.mul(t)?.reduce_sum(&axes)?)
}

/// `sum(|grad u|^2)`: the squares of `gradient` along every axis, summed
/// (the demo's regularizer and the `value-and-grad` bench cases' loss); 0
/// for a 0-d `u`, which has no axes.
pub(crate) fn smoothness(u: &Tensor) -> Result<Tensor, oxla::Error> {
    let mut total: Option<Tensor> = None;
    for d in oxla::numpy::gradient(u, &[], Axes::All, 1)? {
        let s = sum_of_squares(&d)?;
        total = Some(match total {
            Some(t) => t.add(&s)?,
            None => s,
        });
    }
    Ok(total.unwrap_or_else(|| Tensor::scalar(u.dtype(), 0.0)))
}

/// `c * t`, with `c` broadcast to the shape of `t`.
fn scale(t: &Tensor, c: f64) -> Result<Tensor, oxla::Error> {
    let c = Tensor::scalar(t.dtype(), c).broadcast_in_dim(t.shape(), &[])?;
    Ok(t.mul(&c)?)
}

/// The denoising loss `sum((u - y)^2) + lambda * sum(|grad u|^2)`.
fn denoising_loss(u: &Tensor, y: &Tensor, lambda: f64) -> Result<Tensor, oxla::Error> {
    let data = sum_of_squares(&u.sub(y)?)?;
    Ok(data.add(&scale(&smoothness(u)?, lambda)?)?)
}

/// The value of a 0-d `f64` result.
fn scalar_value(v: &ArrayValue) -> Result<f64, CliError> {
    v.as_array::<f64>()?
        .first()
        .copied()
        .ok_or_else(|| unexpected("expected a 0-d result"))
}

/// `|a - b| / |b|` in the Euclidean norm.
fn relative_error<'a>(
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'a f64>,
) -> f64 {
    let (diff, norm) = a.into_iter().zip(b).fold((0.0, 0.0), |(d, n), (x, y)| {
        (d + (x - y) * (x - y), n + y * y)
    });
    (diff / norm).sqrt()
}

fn autodiff_denoising(out: &mut dyn Write) -> Result<(), CliError> {
    let n = DENOISE_N;
    let h = 1.0 / (n - 1) as f64;
    let clean = Array2::from_shape_fn((n, n), |(i, j)| clean_field(i as f64 * h, j as f64 * h));
    let noisy = Array2::from_shape_fn((n, n), |(i, j)| {
        clean[(i, j)] + pseudo_noise((i * n + j) as u64, NOISE_STD)
    });
    // The Hessian of the loss is 2 (I + lambda G^T G), so its largest
    // eigenvalue is at most `bound`; any step below 2 / bound lowers the
    // loss at every step, and 1.6 / bound converges quickly.
    let bound = 2.0 * (1.0 + LAMBDA * SMOOTHNESS_NORM);
    let lr = 1.6 / bound;
    writeln!(
        out,
        "clean field sin(2*pi*y) * cos(1.5*pi*x) on a {n} x {n} grid over [0, 1]^2,"
    )?;
    writeln!(
        out,
        "observed with pseudo-random noise of standard deviation {NOISE_STD} (field y)"
    )?;
    writeln!(
        out,
        "minimize loss(u) = sum((u - y)^2) + {LAMBDA} * sum(|gradient(u)|^2), starting from u = y,"
    )?;
    writeln!(
        out,
        "by gradient descent with lr = {lr:.4}: each step evaluates value_and_grad's loss and"
    )?;
    writeln!(
        out,
        "the update u - lr * dloss/du in one oxla::eval call, and continues from the concrete result"
    )?;
    writeln!(out)?;

    let y = Tensor::from_host(noisy.clone().into_dyn())?;
    let mut u = y.clone();
    let mut losses = Vec::with_capacity(STEPS + 1);
    let start = Instant::now();
    for step in 0..=STEPS {
        let (loss, grads) = oxla::value_and_grad(
            |xs: &[Tensor]| each(xs, |x| denoising_loss(x, &y, LAMBDA)),
            std::slice::from_ref(&u),
        )?;
        let loss_value = if step < STEPS {
            let g = only(&grads)?;
            let next = u.sub(&scale(g, lr)?)?;
            let [loss, next]: [ArrayValue; 2] = oxla::eval(&[loss, next])?
                .try_into()
                .map_err(|_| unexpected("expected two results"))?;
            u = Tensor::literal(next);
            scalar_value(&loss)?
        } else {
            let [loss]: [ArrayValue; 1] = oxla::eval(&[loss])?
                .try_into()
                .map_err(|_| unexpected("expected one result"))?;
            scalar_value(&loss)?
        };
        writeln!(out, "  step {step:>2}  loss {loss_value:.6e}")?;
        losses.push(loss_value);
    }
    let spent = start.elapsed();
    let (first, last) = match (losses.first(), losses.last()) {
        (Some(&f), Some(&l)) => (f, l),
        _ => return Err(unexpected("no steps were taken")),
    };
    let monotone = losses.windows(2).all(|w| w[1] < w[0]);
    writeln!(
        out,
        "loss {first:.4e} -> {last:.4e}: {:.1}x lower in {STEPS} steps, {} ({})",
        first / last,
        if monotone {
            "decreasing at every step"
        } else {
            "NOT monotone"
        },
        millis(spent)
    )?;
    let denoised = u
        .literal_value()
        .ok_or_else(|| unexpected("expected a concrete field"))?;
    let denoised = denoised.as_array::<f64>()?;
    writeln!(
        out,
        "relative error against the clean field: noisy input {:.4}, after descent {:.4}",
        relative_error(&noisy, &clean),
        relative_error(denoised, &clean)
    )?;

    // One component of the smoothness term's gradient, at the noisy field,
    // against a central difference (exact up to rounding: the term is quadratic).
    let (i, j) = (n / 3, n / 2);
    let eps = 1e-3;
    let grads = oxla::grad(
        |xs: &[Tensor]| each(xs, smoothness),
        std::slice::from_ref(&y),
    )?;
    let [g]: [ArrayValue; 1] = oxla::eval(&grads)?
        .try_into()
        .map_err(|_| unexpected("expected one gradient"))?;
    let autodiff = g
        .as_array::<f64>()?
        .get(IxDyn(&[i, j]))
        .copied()
        .ok_or_else(|| unexpected("index out of range"))?;
    let shifted = |delta: f64| -> Result<Tensor, oxla::Error> {
        let mut a = noisy.clone();
        a[(i, j)] += delta;
        smoothness(&Tensor::from_host(a.into_dyn())?)
    };
    let [plus, minus]: [ArrayValue; 2] = oxla::eval(&[shifted(eps)?, shifted(-eps)?])?
        .try_into()
        .map_err(|_| unexpected("expected two results"))?;
    let central = (scalar_value(&plus)? - scalar_value(&minus)?) / (2.0 * eps);
    writeln!(
        out,
        "check: d/du[{i}, {j}] sum(|gradient(u)|^2) at u = y: autodiff {autodiff:.10e}, central difference (eps {eps:e}) {central:.10e}, relative difference {:.1e}",
        ((autodiff - central) / autodiff).abs()
    )?;
    Ok(())
}

// ---- fusion -----------------------------------------------------------------

/// Side of the fusion section's array: 2048 x 2048 `f64` (32 MB) in release
/// builds; smaller in debug builds, where the reference interpreter is
/// slow, so that the integration test (which runs the debug binary) stays quick.
const FUSION_N: usize = if cfg!(debug_assertions) { 256 } else { 2048 };
/// Timed runs of the fused plan after the warm-up; the median is shown.
const FUSED_RUNS: usize = 5;

fn fusion(out: &mut dyn Write) -> Result<(), CliError> {
    let n = FUSION_N;
    let h = 1.0 / (n - 1) as f64;
    let f = Array2::from_shape_fn((n, n), |(i, j)| field(i as f64 * h, j as f64 * h));
    let f = Tensor::from_host(f.into_dyn())?;
    let megabytes = (n * n * DType::F64.size_bytes()) as f64 / 1e6;

    writeln!(
        out,
        "gradient(f) over both axes, f a {n} x {n} float64 array ({megabytes:.1} MB)"
    )?;
    let outputs = oxla::numpy::gradient(&f, &[], Axes::All, 1)?;
    compare_with_reference(out, &outputs)?;

    writeln!(out)?;
    writeln!(
        out,
        "value_and_grad of sum(|gradient(f)|^2): the loss and its gradient with respect to f"
    )?;
    let (loss, grads) = oxla::value_and_grad(
        |xs: &[Tensor]| each(xs, smoothness),
        std::slice::from_ref(&f),
    )?;
    let mut outputs = vec![loss];
    outputs.extend(grads);
    compare_with_reference(out, &outputs)
}

/// Print the fused plan of `outputs`, time `oxla::eval` against
/// `oxla::eval_reference`, and compare their bits.
fn compare_with_reference(out: &mut dyn Write, outputs: &[Tensor]) -> Result<(), CliError> {
    let start = Instant::now();
    let (exe, _) = oxla::compile(outputs).map_err(oxla::Error::from)?;
    let compiled = start.elapsed();
    let summary = exe.summary();
    writeln!(out, "fused plan (oxla::compile, {}):", millis(compiled))?;
    for line in summary.to_string().lines() {
        writeln!(out, "  {line}")?;
    }

    let start = Instant::now();
    let fused = oxla::eval(outputs)?;
    let first = start.elapsed();
    let mut times = Vec::with_capacity(FUSED_RUNS);
    for _ in 0..FUSED_RUNS {
        let start = Instant::now();
        oxla::eval(outputs)?;
        times.push(start.elapsed());
    }
    times.sort();
    let median = times.get(FUSED_RUNS / 2).copied().unwrap_or(first);

    let start = Instant::now();
    let reference = oxla::eval_reference(outputs)?;
    let reference_time = start.elapsed();

    let identical =
        fused.len() == reference.len() && fused.iter().zip(&reference).all(|(a, b)| a.bit_eq(b));
    writeln!(
        out,
        "fused (oxla::eval): {} median of {FUSED_RUNS} runs after a warm-up call ({}), {:.1} GB/s of memory traffic",
        millis(median),
        millis(first),
        bytes_moved(&summary) as f64 / median.as_secs_f64() / 1e9
    )?;
    writeln!(
        out,
        "reference interpreter (oxla::eval_reference): {}, one run",
        millis(reference_time)
    )?;
    writeln!(
        out,
        "speed-up {:.1}x; results bit-identical: {}",
        reference_time.as_secs_f64() / median.as_secs_f64(),
        if identical { "yes" } else { "NO" }
    )?;
    Ok(())
}

/// Bytes the plan reads and writes, every buffer once.
fn bytes_moved(summary: &PlanSummary) -> usize {
    summary.kernels.iter().map(|k| k.bytes_moved).sum()
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

    #[test]
    fn pseudo_noise_has_the_requested_spread() {
        let samples: Vec<f64> = (0..1 << 14).map(|i| pseudo_noise(i, 0.3)).collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var.sqrt() - 0.3).abs() < 0.01, "{}", var.sqrt());
        assert!(samples.iter().all(|x| x.abs() <= 0.3 * 3f64.sqrt()));
    }

    #[test]
    fn smoothness_norm_bounds_the_smoothness_hessian() {
        // Power iteration on G^T G = grad(sum(|gradient(u)|^2)) / 2: the
        // descent step of the autodiff section is safe only if
        // SMOOTHNESS_NORM is at least its largest eigenvalue (4.5714...).
        let n = 16;
        let mut v = Array2::from_shape_fn((n, n), |(i, j)| pseudo_noise((i * n + j) as u64, 1.0));
        let mut estimate = 0.0;
        for _ in 0..300 {
            let t = Tensor::from_host(v.clone().into_dyn()).unwrap();
            let g = oxla::grad(|xs: &[Tensor]| each(xs, smoothness), &[t]).unwrap();
            let w = oxla::eval(&g)
                .unwrap()
                .remove(0)
                .into_array::<f64>()
                .unwrap();
            let w = w.into_dimensionality::<ndarray::Ix2>().unwrap() / 2.0;
            estimate = (&w * &v).sum() / (&v * &v).sum();
            v = &w / w.mapv(|x| x * x).sum().sqrt();
        }
        assert!(
            (4.5..=SMOOTHNESS_NORM).contains(&estimate),
            "largest eigenvalue {estimate}"
        );
    }
}
