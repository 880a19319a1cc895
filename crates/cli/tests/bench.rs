//! `oxla bench` as a user runs it.
#![allow(clippy::unwrap_used)]

mod common;

use common::oxla;

/// The `threads` field is the pool the kernels ran on, which
/// `RAYON_NUM_THREADS` sets, not the number of CPUs.
#[test]
fn bench_reports_the_threads_kernels_ran_on() {
    for threads in [1, 3] {
        let out = oxla()
            .env("RAYON_NUM_THREADS", threads.to_string())
            .args(["bench", "--json", "--min-time", "0.001"])
            .args(["--case", "gradient-all-f64-6"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let line = String::from_utf8(out.stdout).unwrap();
        assert!(
            line.contains(&format!("\"threads\":{threads},")),
            "{threads} threads: {line}"
        );
    }
}
