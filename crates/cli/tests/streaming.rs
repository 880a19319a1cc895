//! `oxla gradient --memory-limit`: slab by slab, the same bytes as the
//! in-memory run (NumPy's files), for C and Fortran order, every dtype and
//! several slab counts; too small a limit is exit 2 naming the minimum.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::{case, cases, listing, oxla};

/// The smallest workable limit for a case, in bytes, from the error a
/// 1-byte limit gives ("... needs at least 48.0 MiB (50331888 bytes)").
fn minimum_limit(input: &str, args: &[String]) -> u64 {
    let tmp = tempfile::tempdir().unwrap();
    let out = oxla()
        .arg("gradient")
        .arg(input)
        .args(args)
        .args(["--memory-limit", "1"])
        .arg("--out-dir")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--memory-limit 1 B is too small"),
        "{stderr}"
    );
    let bytes = stderr.rsplit('(').next().unwrap();
    bytes.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn slabs_write_the_in_memory_bytes() {
    let mut checked = 0;
    for c in cases() {
        let minimum = minimum_limit(&c.input, &c.args);
        // one row per slab, a few rows, and everything at once
        for extra in [0u64, 150, 1 << 30] {
            let tmp = tempfile::tempdir().unwrap();
            let out_dir = tmp.path().join("out");
            let limit = (minimum + extra).to_string();
            let run = oxla()
                .arg("gradient")
                .arg(&c.input)
                .args(&c.args)
                .args(["--memory-limit", &limit])
                .arg("--out-dir")
                .arg(&out_dir)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                run.status.success() && stderr.is_empty(),
                "{}: {stderr}",
                c.name
            );
            let expected = common::fixtures().join("expected").join(&c.name);
            for name in listing(&expected) {
                let got = fs::read(out_dir.join(&name)).unwrap();
                let want = fs::read(expected.join(&name)).unwrap();
                assert!(
                    got == want,
                    "{} with --memory-limit {limit}: {name} differs",
                    c.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked}");
}

#[test]
fn a_big_array_in_many_slabs_is_the_in_memory_result() {
    let tmp = tempfile::tempdir().unwrap();
    // 300 x 257 f32 in C order and 300 x 257 f64 in Fortran order, written by hand
    let mut bytes = Vec::new();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (300, 257), }";
    bytes.extend(b"\x93NUMPY\x01\x00");
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for i in 0..300 * 257u32 {
        bytes.extend(((i.wrapping_mul(2_654_435_761) % 1000) as f32 * 0.37 - 100.0).to_le_bytes());
    }
    fs::write(tmp.path().join("c.npy"), &bytes).unwrap();
    let run = |limit: Option<&str>, out: &str| {
        let mut cmd = oxla();
        cmd.current_dir(tmp.path()).args([
            "gradient",
            "c.npy",
            "--edge-order",
            "2",
            "--out-dir",
            out,
        ]);
        if let Some(l) = limit {
            cmd.args(["--memory-limit", l]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(None, "whole");
    let minimum: u64 = 48 << 20; // slabs::OVERHEAD_BYTES
    for rows in [1u64, 2, 7, 64] {
        let limit = minimum + (rows + 2) * 257 * 4 + rows * 257 * 8;
        let out = format!("slabs{rows}");
        run(Some(&limit.to_string()), &out);
        for name in ["grad_axis0.npy", "grad_axis1.npy"] {
            assert_eq!(
                fs::read(tmp.path().join(&out).join(name)).unwrap(),
                fs::read(tmp.path().join("whole").join(name)).unwrap(),
                "{rows} rows per slab: {name}"
            );
        }
    }
}

#[test]
fn too_small_a_limit_is_refused_with_the_minimum() {
    let c = case("float64_le");
    let tmp = tempfile::tempdir().unwrap();
    let out = oxla()
        .args(["gradient", &c.input, "--memory-limit", "1MiB", "--out-dir"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("oxla: error: --memory-limit 1.0 MiB is too small"),
        "{stderr}"
    );
    assert!(stderr.contains("needs at least"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    assert!(!tmp.path().join("out").exists());
    for bad in ["lots", "-5MiB", "12 parsecs"] {
        let out = oxla()
            .args([
                "gradient",
                &c.input,
                &format!("--memory-limit={bad}"),
                "--out-dir",
            ])
            .arg(tmp.path().join("out"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a size"),
            "{bad}"
        );
    }
}

#[test]
fn an_unwritable_output_directory_leaves_nothing() {
    let c = case("float64_le");
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a-file"), "x").unwrap();
    let out = oxla()
        .args(["gradient", &c.input, "--memory-limit", "64MiB", "--out-dir"])
        .arg(tmp.path().join("a-file/out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(listing(tmp.path()), ["a-file"]);
}
