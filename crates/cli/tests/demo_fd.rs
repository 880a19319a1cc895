//! The demo's finite-difference section shows each accuracy's order: the
//! last observed order of every table is within 0.3 of the accuracy
//! (periodic second derivatives, one-sided first derivatives on
//! coordinates, and the heat equation's error with each Laplacian).
#![allow(clippy::unwrap_used)]

mod common;

use common::oxla;

#[test]
fn every_accuracy_converges_at_its_order() {
    let assert = oxla().arg("demo").assert().success();
    let report = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let section = report
        .split("== finite differences")
        .nth(1)
        .and_then(|s| s.split("== fusion").next())
        .unwrap_or_else(|| panic!("no finite-difference section in:\n{report}"));
    let mut seen = Vec::new();
    for line in section.lines().map(str::trim) {
        let Some((label, rest)) = line.split_once(" observed order, accuracy ") else {
            continue;
        };
        let (p, order) = rest.split_once(": ").unwrap();
        let (p, order): (f64, f64) = (p.parse().unwrap(), order.parse().unwrap());
        assert!(
            (order - p).abs() < 0.3,
            "{label}, accuracy {p}: order {order}"
        );
        seen.push(label.to_owned());
    }
    for (label, count) in [
        ("periodic", 4),
        ("one-sided coordinates", 3),
        ("heat equation", 2),
    ] {
        assert_eq!(
            seen.iter().filter(|l| *l == label).count(),
            count,
            "{section}"
        );
    }
    assert!(section.contains("Runge-Kutta steps"), "{section}");
}
