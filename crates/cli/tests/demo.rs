//! The embedded demo runs with no arguments and as `oxla demo`, and its
//! report shows the expected convergence orders.
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

fn check_report(args: &[&str]) {
    let assert = oxla().args(args).assert().success().stderr("");
    let report = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for needle in [
        "oxla demo",
        "edge_order=1",
        "edge_order=2",
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
