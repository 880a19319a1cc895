//! `oxla gradient` against numpy.gradient, bit for bit, on every case of
//! `tests/fixtures/cases.tsv` (inputs and expected outputs written by
//! NumPy with `tests/fixtures/gen_npy_fixtures.py`).
//!
//! Each output file must be byte for byte the file
//! `numpy.save(path, numpy.gradient(numpy.load(input), ...))` writes: the
//! header (dtype with NumPy's byte order, shape, Fortran order, padding)
//! and every bit of the data, NaN and signed zeros included.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Case, case, cases, listing, oxla, read_npy};

fn run_case(c: &Case) {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let assert = oxla()
        .arg("gradient")
        .arg(&c.input)
        .args(&c.args)
        .arg("--out-dir")
        .arg(&out_dir)
        .assert()
        .success();
    let output = assert.get_output();
    assert!(
        output.stderr.is_empty(),
        "{}: stderr {:?}",
        c.name,
        String::from_utf8_lossy(&output.stderr)
    );

    let expected_dir = common::fixtures().join("expected").join(&c.name);
    let expected_names: Vec<String> = c.axes.iter().map(|a| format!("grad_axis{a}.npy")).collect();
    let mut sorted = expected_names.clone();
    sorted.sort();
    assert_eq!(listing(&expected_dir), sorted, "{}: fixture files", c.name);
    assert_eq!(listing(&out_dir), sorted, "{}: files written", c.name);

    // One line per file, in the order of the axes.
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected_names.len(), "{}: {stdout}", c.name);
    for (line, name) in lines.iter().zip(&expected_names) {
        let path = out_dir.join(name);
        assert!(
            line.starts_with(&format!("wrote {} (", path.display())),
            "{}: {line}",
            c.name
        );
    }

    for name in &expected_names {
        let got = std::fs::read(out_dir.join(name)).unwrap();
        let want = std::fs::read(expected_dir.join(name)).unwrap();
        if got != want {
            let (g, w) = (
                read_npy(&out_dir.join(name)),
                read_npy(&expected_dir.join(name)),
            );
            panic!(
                "{}: {name} is not the file numpy.save writes:\n got  {:?} {:?} fortran={} {:02x?}\n want {:?} {:?} fortran={} {:02x?}",
                c.name,
                g.descr,
                g.shape,
                g.fortran_order,
                g.data,
                w.descr,
                w.shape,
                w.fortran_order,
                w.data
            );
        }
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case(&case(stringify!($name)));
            }
        )*

        /// Every case of the manifest has a test here, and no test lacks a case.
        #[test]
        fn every_manifest_case_is_tested() {
            let mut tested = vec![$(stringify!($name)),*];
            tested.sort();
            let mut listed: Vec<String> = cases().into_iter().map(|c| c.name).collect();
            listed.sort();
            assert_eq!(listed, tested);
        }
    };
}

cases!(
    // every dtype, both byte orders (one-byte types have none)
    int8,
    int16_le,
    int16_be,
    int32_le,
    int32_be,
    int64_le,
    int64_be,
    uint8,
    uint16_le,
    uint16_be,
    uint32_le,
    uint32_be,
    uint64_le,
    uint64_be,
    float16_le,
    float16_be,
    float32_le,
    float32_be,
    float64_le,
    float64_be,
    complex64_le,
    complex64_be,
    complex128_le,
    complex128_be,
    // arguments
    f64_edge2,
    f64_mixed_spacing,
    f64_mixed_spacing_edge2,
    f64_negative_words,
    f64_axes_reversed,
    f32_negative_exponent_step,
    f64_one_step_all_axes,
    f64_uniform_coords,
    f64_be_negative_axis_edge2,
    f32_coords,
    f32_be_coords_edge2,
    f32_step_0d,
    f32_python_step,
    f16_python_step,
    f16_be_coords,
    c128_coords_edge2,
    c64_be_coords,
    i32_int_coords,
    u64_be_edge2,
    u8_no_wraparound,
    f64_1d_coords_edge2,
    f64_repeated_coords,
    // layouts and format versions
    fortran_3d_edge2,
    fortran_f32_be,
    fortran_i16_be,
    version_2,
    version_3,
    version_2_c64_be,
    version_3_fortran_u16,
);

/// `--axis=-1` (one word) works as well as `--axis -1` (two).
#[test]
fn equals_sign_forms_work_too() {
    let tmp = tempfile::tempdir().unwrap();
    oxla()
        .args([
            "gradient",
            "float64_le.npy",
            "--axis=-1",
            "--spacing=-0.5",
            "--out-dir",
        ])
        .arg(tmp.path())
        .assert()
        .success();
    let want = common::fixtures().join("expected/f64_negative_words/grad_axis1.npy");
    assert_eq!(
        read_npy(&tmp.path().join("grad_axis1.npy")),
        read_npy(&want)
    );
}

/// A 0-d array has no axes: nothing is written, and a note says so.
#[test]
fn zero_d_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let assert = oxla()
        .args(["gradient", "scalar.npy", "--out-dir"])
        .arg(&out_dir)
        .assert()
        .success()
        .stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("0-d"), "{stderr}");
    assert!(!out_dir.exists());
}

/// Existing results are replaced; unrelated files are left alone.
#[test]
fn outputs_replace_old_ones_and_leave_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("grad_axis0.npy"), b"old").unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"mine").unwrap();
    oxla()
        .args(["gradient", "float64_le.npy", "--out-dir"])
        .arg(tmp.path())
        .assert()
        .success();
    assert_eq!(
        listing(tmp.path()),
        ["grad_axis0.npy", "grad_axis1.npy", "notes.txt"]
    );
    let want = common::fixtures().join("expected/float64_le/grad_axis0.npy");
    assert_eq!(
        read_npy(&tmp.path().join("grad_axis0.npy")),
        read_npy(&want)
    );
    assert_eq!(
        std::fs::read(tmp.path().join("notes.txt")).unwrap(),
        b"mine"
    );
}
