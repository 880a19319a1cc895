//! Bad input to `oxla gradient`: exit status 2, exactly one line on stderr
//! naming the problem (and the file), no panic, and no file left in the
//! output directory.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use common::{listing, oxla};

/// Run `oxla gradient WORDS... --out-dir DIR` and check the failure contract;
/// every `needles` entry must appear in the one stderr line.
fn fails_in(out_dir: &Path, words: &[&str], needles: &[&str]) -> String {
    let before = listing(out_dir);
    let assert = oxla()
        .arg("gradient")
        .args(words)
        .arg("--out-dir")
        .arg(out_dir)
        .assert()
        .code(2)
        .stdout("");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.ends_with('\n') && stderr.lines().count() == 1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("oxla: error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    }
    assert_eq!(
        listing(out_dir),
        before,
        "output directory changed: {stderr}"
    );
    stderr
}

/// Like [`fails_in`], with a fresh output directory that must not be created.
fn fails(words: &[&str], needles: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let stderr = fails_in(&out_dir, words, needles);
    assert!(!out_dir.exists(), "output directory created: {stderr}");
    stderr
}

// ---- unreadable files ----

#[test]
fn missing_file() {
    fails(&["nope.npy"], &["nope.npy: cannot open", "No such file"]);
}

#[test]
fn directory_instead_of_a_file() {
    fails(&["."], &[".: is a directory"]);
}

#[test]
fn not_an_npy_file() {
    fails(&["not_npy.npy"], &["not_npy.npy: not a .npy file"]);
}

#[test]
fn empty_file() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.npy");
    fs::write(&empty, b"").unwrap();
    fails(&[empty.to_str().unwrap()], &["empty.npy: not a .npy file"]);
}

#[test]
fn truncated_data() {
    fails(
        &["truncated.npy"],
        &[
            "truncated.npy: truncated .npy file",
            "shape (4, 5)",
            "'<f8'",
            "160 bytes",
            "only 148",
        ],
    );
}

#[test]
fn truncated_header() {
    fails(
        &["truncated_header.npy"],
        &["truncated_header.npy: truncated .npy file: its header"],
    );
}

#[test]
fn truncated_magic() {
    fails(
        &["truncated_magic.npy"],
        &["truncated_magic.npy: truncated .npy file"],
    );
}

#[test]
fn header_claims_more_data_than_the_file_holds() {
    // 8 TB claimed, 64 bytes present: refused before any allocation.
    fails(
        &["huge_shape.npy"],
        &[
            "huge_shape.npy: truncated .npy file",
            "(1000000000000,)",
            "8000000000000 bytes",
            "only 64",
        ],
    );
}

#[test]
fn header_shape_overflows() {
    fails(
        &["overflow_shape.npy"],
        &["overflow_shape.npy:", "more data than any array can hold"],
    );
}

#[test]
fn header_length_beyond_the_file() {
    fails(
        &["huge_header.npy"],
        &["huge_header.npy: truncated .npy file: its header needs 4294967307 bytes"],
    );
}

#[test]
fn unknown_format_version() {
    fails(
        &["version_4.npy"],
        &["version_4.npy: unsupported .npy format version 4.0"],
    );
}

// ---- unsupported dtypes ----

#[test]
fn unicode_strings() {
    fails(
        &["unicode.npy"],
        &["unicode.npy: unsupported dtype '<U5' (str)"],
    );
}

#[test]
fn datetimes() {
    fails(
        &["datetime.npy"],
        &["datetime.npy: unsupported dtype '<M8[D]' (datetime64)"],
    );
}

#[test]
fn timedeltas() {
    fails(
        &["timedelta.npy"],
        &["timedelta.npy: unsupported dtype '<m8[s]' (timedelta64)"],
    );
}

#[test]
fn byte_strings() {
    fails(
        &["bytes.npy"],
        &["bytes.npy: unsupported dtype '|S2' (bytes)"],
    );
}

#[test]
fn objects() {
    fails(
        &["object.npy"],
        &["object.npy: unsupported dtype '|O' (object)"],
    );
}

#[test]
fn structured_arrays() {
    fails(
        &["structured.npy"],
        &["structured.npy: unsupported dtype", "(structured)"],
    );
}

#[test]
fn extended_precision() {
    fails(
        &["longdouble.npy"],
        &["longdouble.npy: unsupported dtype '<f16' (float128"],
    );
}

#[test]
fn booleans() {
    fails(
        &["bool.npy"],
        &["bool.npy: boolean arrays are not supported"],
    );
}

// ---- spacing files ----

#[test]
fn missing_coordinate_file() {
    fails(
        &[
            "float64_le.npy",
            "--axis",
            "1",
            "--spacing",
            "x_missing.npy",
        ],
        &["x_missing.npy: cannot open"],
    );
}

#[test]
fn boolean_coordinates() {
    fails(
        &[
            "float64_le.npy",
            "--axis",
            "0",
            "--spacing",
            "coords_bool.npy",
        ],
        &["coords_bool.npy: boolean arrays are not supported"],
    );
}

#[test]
fn complex_coordinates() {
    fails(
        &[
            "float64_le.npy",
            "--axis",
            "0",
            "--spacing",
            "coords_complex.npy",
        ],
        &["distances must be real", "[--spacing coords_complex.npy]"],
    );
}

// ---- the argument errors of docs/gradient-spec.md ----

#[test]
fn axis_out_of_range() {
    fails(
        &["float64_le.npy", "--axis", "2"],
        &[
            "float64_le.npy (shape (4, 5))",
            "axis 2 is out of bounds for array of dimension 2",
        ],
    );
    fails(
        &["float64_le.npy", "--axis", "-3"],
        &["axis -3 is out of bounds for array of dimension 2"],
    );
}

#[test]
fn repeated_axis() {
    fails(
        &["float64_le.npy", "--axis", "1", "--axis", "-1"],
        &["repeated axis"],
    );
}

#[test]
fn wrong_spacing_count() {
    fails(
        &[
            "float64_le.npy",
            "--spacing",
            "1",
            "--spacing",
            "2",
            "--spacing",
            "3",
        ],
        &["invalid number of arguments: 3 spacing value(s) for 2 axis/axes"],
    );
    // NumPy also rejects one coordinate array for several axes.
    fails(
        &["float64_le.npy", "--spacing", "x5_nonuniform.npy"],
        &["invalid number of arguments"],
    );
}

#[test]
fn coordinate_length_mismatch() {
    fails(
        &[
            "float64_le.npy",
            "--axis",
            "0",
            "--spacing",
            "x5_nonuniform.npy",
        ],
        &[
            "distances must match the length of the corresponding dimension",
            "[--spacing x5_nonuniform.npy]",
        ],
    );
}

#[test]
fn two_dimensional_coordinates() {
    fails(
        &[
            "float64_le.npy",
            "--axis",
            "1",
            "--spacing",
            "coords_2d.npy",
        ],
        &[
            "distances must be either scalars or 1d",
            "[--spacing coords_2d.npy]",
        ],
    );
}

#[test]
fn edge_order_zero_and_three() {
    fails(
        &["float64_le.npy", "--edge-order", "0"],
        &["'edge_order' must be 1 or 2, got 0"],
    );
    fails(
        &["float64_le.npy", "--edge-order", "3"],
        &["'edge_order' must be 1 or 2, got 3"],
    );
    fails(
        &["float64_le.npy", "--edge-order", "-1"],
        &["'edge_order' must be 1 or 2, got -1"],
    );
}

#[test]
fn axis_too_short() {
    fails(
        &["short_2x5.npy", "--edge-order", "2"],
        &[
            "Shape of array too small to calculate a numerical gradient",
            "axis 0 has 2 element(s)",
        ],
    );
    fails(
        &["short_1x5.npy"],
        &["Shape of array too small", "axis 0 has 1 element(s)"],
    );
}

// ---- the command line itself ----

#[test]
fn usage_errors_are_one_line_too() {
    fails(
        &["float64_le.npy", "--bogus"],
        &["unexpected argument '--bogus'"],
    );
    fails(
        &["float64_le.npy", "--edge-order", "two"],
        &["invalid value 'two' for '--edge-order"],
    );
    fails(
        &["float64_le.npy", "--axis", "1.5"],
        &["invalid value '1.5' for '--axis"],
    );
}

#[test]
fn missing_out_dir() {
    let assert = oxla().args(["gradient", "float64_le.npy"]).assert().code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--out-dir"), "{stderr}");
}

// ---- the output side ----

#[test]
fn out_dir_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("taken");
    fs::write(&file, b"x").unwrap();
    fails_in(
        &file,
        &["float64_le.npy"],
        &["cannot create output directory", "taken"],
    );
    assert_eq!(fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_failed_write_leaves_no_file() {
    // grad_axis1.npy is taken by a non-empty directory: its rename fails
    // after grad_axis0.npy was moved into place, which must be undone.
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("grad_axis1.npy/keep")).unwrap();
    fails_in(
        tmp.path(),
        &["float64_le.npy"],
        &["cannot write", "grad_axis1.npy"],
    );
    assert_eq!(listing(tmp.path()), ["grad_axis1.npy"]);
}

#[test]
fn an_error_leaves_existing_files_alone() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("grad_axis0.npy"), b"old").unwrap();
    fails_in(
        tmp.path(),
        &["float64_le.npy", "--axis", "5"],
        &["out of bounds"],
    );
    assert_eq!(fs::read(tmp.path().join("grad_axis0.npy")).unwrap(), b"old");
}
