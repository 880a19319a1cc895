//! The embedded demo runs with no arguments and as `oxla demo`, and its
//! report shows the expected convergence orders, a gradient descent whose
//! loss falls at every step, and fused plans that read their input once and
//! agree with the reference interpreter bit for bit.
#![allow(clippy::unwrap_used)]

mod common;

use common::oxla;

/// The orders printed on the "observed order at the edges" lines, in order.
fn observed_edge_orders(report: &str) -> Vec<f64> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("observed order at the edges: "))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// The losses printed on the "step N  loss X" lines, in order.
fn descent_losses(report: &str) -> Vec<f64> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("step "))
        .map(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(words.len(), 3, "{rest}");
            assert_eq!(words[1], "loss", "{rest}");
            words[2].parse().unwrap()
        })
        .collect()
}

/// The number after `key` on the first line that contains it.
fn number_after(report: &str, key: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.contains(key))
        .unwrap_or_else(|| panic!("{key:?} missing from:\n{report}"));
    let rest = &line[line.find(key).unwrap() + key.len()..];
    rest.split([' ', ','])
        .find(|w| !w.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

fn check_autodiff(report: &str) {
    let losses = descent_losses(report);
    assert!(losses.len() >= 10, "{report}");
    for (k, w) in losses.windows(2).enumerate() {
        assert!(w[1] < w[0], "loss rose at step {}: {w:?}", k + 1);
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(first / last > 10.0, "loss fell only {first} -> {last}");
    assert!(report.contains("decreasing at every step"), "{report}");

    let noisy = number_after(report, "noisy input ");
    let denoised = number_after(report, "after descent ");
    assert!(
        denoised < noisy / 3.0,
        "relative error {noisy} -> {denoised}"
    );
    let mismatch = number_after(report, "relative difference ");
    assert!(
        mismatch < 1e-6,
        "autodiff vs central difference: {mismatch}"
    );
}

fn check_fusion(report: &str) {
    let section = report
        .split("== fusion")
        .nth(1)
        .unwrap_or_else(|| panic!("no fusion section in:\n{report}"));
    // gradient over both axes, then value_and_grad: one pass over f each.
    let passes: Vec<&str> = section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("arg") && l.contains("pass(es)"))
        .collect();
    assert_eq!(
        passes,
        ["arg0 is read in 1 pass(es)", "arg0 is read in 1 pass(es)"],
        "{section}"
    );
    assert!(section.contains("fused kernel over"), "{section}");
    assert_eq!(
        section.matches("results bit-identical: yes").count(),
        2,
        "{section}"
    );
    assert!(!section.contains("bit-identical: NO"), "{section}");
    let speedups: Vec<f64> = section
        .lines()
        .filter_map(|l| l.strip_prefix("speed-up "))
        .map(|rest| rest.split('x').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(speedups.len(), 2, "{section}");
    assert!(speedups.iter().all(|s| *s > 0.0), "{speedups:?}");
}

/// The `(error, jump)` of a row of the total-variation table.
fn tv_row(report: &str, name: &str) -> (f64, f64) {
    let line = report
        .lines()
        .rfind(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("{name:?} missing from:\n{report}"));
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let n = nums.len();
    (nums[n - 2], nums[n - 1])
}

/// TV denoising: the loss falls at every step, and TV beats the best
/// quadratic prior in error and keeps a larger jump across the edges.
fn check_total_variation(report: &str) {
    assert!(
        report.contains("loss falling at every step: yes"),
        "{report}"
    );
    let (tv_err, tv_jump) = tv_row(report, "total variation ");
    let (q_err, q_jump) = tv_row(report, "quadratic, mu = ");
    let (noisy_err, _) = tv_row(report, "noisy input ");
    assert!(
        tv_err < q_err && q_err < noisy_err,
        "{tv_err} {q_err} {noisy_err}"
    );
    assert!(
        tv_jump > q_jump + 0.1,
        "edges: TV {tv_jump}, quadratic {q_jump}"
    );
}

/// The inverse problem recovers both coefficients (true 0.8 and 1.5).
fn check_inverse_problem(report: &str) {
    let lambda = number_after(report, "recovered lambda ");
    let alpha_line = report
        .lines()
        .find(|l| l.starts_with("recovered lambda"))
        .unwrap();
    let alpha_rec: f64 = alpha_line
        .split("alpha ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((lambda - 0.8).abs() < 0.01, "lambda {lambda}");
    assert!((alpha_rec - 1.5).abs() < 0.01, "alpha {alpha_rec}");
}

fn check_report(args: &[&str]) {
    let assert = oxla().args(args).assert().success().stderr("");
    let report = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for needle in [
        "oxla demo",
        "edge_order=1",
        "edge_order=2",
        "== autodiff",
        "== fusion",
        "fused (oxla::eval)",
        "reference interpreter (oxla::eval_reference)",
        "demo finished in",
        " ms",
    ] {
        assert!(
            report.contains(needle),
            "{needle:?} missing from:\n{report}"
        );
    }
    let orders = observed_edge_orders(&report);
    assert_eq!(orders.len(), 2, "{report}");
    assert!(
        (orders[0] - 1.0).abs() < 0.15,
        "edge_order=1 converged at {}",
        orders[0]
    );
    assert!(
        (orders[1] - 2.0).abs() < 0.15,
        "edge_order=2 converged at {}",
        orders[1]
    );
    check_autodiff(&report);
    check_fusion(&report);
    check_total_variation(&report);
    check_inverse_problem(&report);
}

#[test]
fn no_arguments_runs_the_demo() {
    check_report(&[]);
}

#[test]
fn demo_subcommand_runs_the_demo() {
    check_report(&["demo"]);
}

#[test]
fn help_and_version_succeed() {
    let help = oxla().arg("--help").assert().success();
    let text = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    assert!(text.contains("gradient") && text.contains("demo"), "{text}");
    let help = oxla().args(["gradient", "--help"]).assert().success();
    let text = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    for flag in ["--spacing", "--axis", "--edge-order", "--out-dir"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    oxla().arg("--version").assert().success();
}
