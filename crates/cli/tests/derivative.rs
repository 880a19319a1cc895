//! `oxla derivative`: results are the library's bit for bit (in the
//! input's layout and byte order), order 1 accuracy 2 is `oxla gradient
//! --edge-order 2` byte for byte, and every bad argument is exit status 2
//! with one line on stderr and no file written.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use common::{listing, one_error_line, read_npy};
use oxla::fd::{Boundary, Derivative};
use oxla::{ArrayValue, Spacing, Tensor};
use oxla_npy::{ByteOrder, Descr, Element, Header};

/// Write `value` (logical shape `shape`, C order) as a `.npy` file, in
/// Fortran order if asked (its memory is then the transpose), with `order` bytes.
fn save(path: &Path, value: &ArrayValue, fortran: bool, order: ByteOrder) {
    let shape = value.shape().to_vec();
    let data = if fortran {
        let reversed: Vec<usize> = (0..shape.len()).rev().collect();
        let t = Tensor::literal(value.clone()).transpose(&reversed).unwrap();
        oxla::eval(&[t]).unwrap().remove(0)
    } else {
        value.clone()
    };
    let descr = Descr {
        element: oxla_npy::element_of(value.dtype()),
        byte_order: order,
    };
    let mut bytes = Vec::new();
    oxla_npy::write_npy(&mut bytes, &Header::new(descr, shape, fortran), &data).unwrap();
    fs::write(path, bytes).unwrap();
}

/// Save `value` as a native-endian C-order `.npy` file.
fn save_c(path: &Path, value: &ArrayValue) {
    save(path, value, false, ByteOrder::NATIVE);
}

fn f64_value(shape: &[usize], seed: u64) -> ArrayValue {
    let mut rng = oxla::SplitMix64::new(seed);
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    ArrayValue::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), data).unwrap())
}

fn oxla_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("oxla").unwrap();
    cmd.current_dir(dir);
    cmd
}

#[test]
fn order_one_accuracy_two_is_gradient_with_edge_order_two_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    save_c(&dir.join("f.npy"), &f64_value(&[7, 9], 1));
    let x: Vec<f64> = (0..9)
        .map(|i| f64::from(i) * 0.3 + f64::from(i * i) * 0.01)
        .collect();
    save_c(
        &dir.join("x.npy"),
        &ArrayValue::from(ndarray::arr1(&x).into_dyn()),
    );
    for spacing in ["0.3", "x.npy"] {
        oxla_in(dir)
            .args(["derivative", "f.npy", "--axis", "1", "--order", "1"])
            .args(["--accuracy", "2", "--spacing", spacing, "--out", "d.npy"])
            .assert()
            .success();
        oxla_in(dir)
            .args(["gradient", "f.npy", "--axis", "1", "--edge-order", "2"])
            .args(["--spacing", spacing, "--out-dir", "g"])
            .assert()
            .success();
        assert_eq!(
            fs::read(dir.join("d.npy")).unwrap(),
            fs::read(dir.join("g/grad_axis1.npy")).unwrap(),
            "--spacing {spacing}"
        );
    }
}

/// Run `oxla derivative` in `dir` and compare its output's data with the
/// library's result on the logical array.
fn matches_library(dir: &Path, input: &ArrayValue, fortran: bool, words: &[&str], d: Derivative) {
    let out = oxla_in(dir)
        .args(["derivative", "in.npy", "--out", "out/d.npy"])
        .args(words)
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("wrote out/d.npy"), "{stdout}");
    let expected = oxla::fd::derivative(&Tensor::literal(input.clone()), &d).unwrap();
    let expected = oxla::eval(&[expected]).unwrap().remove(0);
    let path = dir.join("expected.npy");
    save(&path, &expected, fortran, ByteOrder::NATIVE);
    let (got, want) = (read_npy(&dir.join("out/d.npy")), read_npy(&path));
    assert_eq!(got.fortran_order, fortran, "{words:?}");
    assert_eq!(got.data, want.data, "{words:?}");
}

#[test]
fn results_are_the_librarys_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let v = f64_value(&[12, 10], 2);
    // uniform, one-sided, along either axis; periodic; C and Fortran order
    for fortran in [false, true] {
        save(&dir.join("in.npy"), &v, fortran, ByteOrder::NATIVE);
        for (axis, order, accuracy, periodic) in
            [(0, 2, 4, false), (1, 3, 2, true), (-1, 1, 6, false)]
        {
            let mut words = vec![
                "--axis".to_string(),
                axis.to_string(),
                "--order".into(),
                order.to_string(),
                "--accuracy".into(),
                accuracy.to_string(),
                "--spacing".into(),
                "-0.25".into(),
            ];
            let mut d = Derivative::new(axis, order)
                .accuracy(accuracy)
                .spacing(-0.25);
            if periodic {
                words.push("--periodic".into());
                d = d.periodic();
            }
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            matches_library(dir, &v, fortran, &words, d);
        }
    }
    // periodic coordinates with their period
    save_c(&dir.join("in.npy"), &v);
    let x: Vec<f64> = (0..10)
        .map(|i| f64::from(i) + 0.2 * f64::from(i).sin())
        .collect();
    let xs = ArrayValue::from(ndarray::arr1(&x).into_dyn());
    save_c(&dir.join("x.npy"), &xs);
    matches_library(
        dir,
        &v,
        false,
        &[
            "--axis",
            "1",
            "--order",
            "2",
            "--accuracy",
            "4",
            "--spacing",
            "x.npy",
            "--periodic",
            "--period",
            "10.5",
        ],
        Derivative::new(1, 2)
            .accuracy(4)
            .spacing(Spacing::Array(Tensor::literal(xs)))
            .boundary(Boundary::periodic_with_period(10.5)),
    );
}

#[test]
fn integer_input_becomes_float64_and_byte_order_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // int16 squares: the second derivative is 2 everywhere, in float64
    let squares: Vec<i16> = (0..12).map(|i| i * i).collect();
    let header = Header::new(Descr::native(Element::I16), vec![12], false);
    let mut bytes = header.encode();
    bytes.extend(squares.iter().flat_map(|v| v.to_ne_bytes()));
    fs::write(dir.join("i.npy"), bytes).unwrap();
    oxla_in(dir)
        .args(["derivative", "i.npy", "--axis", "0", "--order", "2"])
        .args(["--accuracy", "4", "--spacing", "1", "--out", "d.npy"])
        .assert()
        .success();
    let got = read_npy(&dir.join("d.npy"));
    assert_eq!(got.descr, "'<f8'");
    let values: Vec<f64> = got
        .data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(
        values.iter().all(|&v| (v - 2.0).abs() < 1e-12),
        "{values:?}"
    );
    // a big-endian float input gives a big-endian output
    save(
        &dir.join("b.npy"),
        &f64_value(&[9], 3),
        false,
        ByteOrder::Big,
    );
    oxla_in(dir)
        .args(["derivative", "b.npy", "--axis", "0", "--order", "1"])
        .args(["--accuracy", "4", "--spacing", "0.5", "--out", "db.npy"])
        .assert()
        .success();
    assert_eq!(read_npy(&dir.join("db.npy")).descr, "'>f8'");
}

/// `"AXIS ORDER ACCURACY SPACING [more words]"` as the command's arguments.
fn words(case: &str) -> Vec<&str> {
    let w: Vec<&str> = case.split(' ').collect();
    let mut out = vec![
        "--axis",
        w[0],
        "--order",
        w[1],
        "--accuracy",
        w[2],
        "--spacing",
        w[3],
    ];
    out.extend(&w[4..]);
    out
}

/// The failure contract: status 2, one line naming the problem, nothing written.
fn fails(dir: &Path, words: &[&str], needles: &[&str]) {
    let before = listing(dir);
    let assert = oxla_in(dir)
        .args(["derivative", "f.npy"])
        .args(words)
        .args(["--out", "out/d.npy"])
        .assert()
        .code(2)
        .stdout("");
    let stderr = one_error_line(assert.get_output());
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    }
    assert_eq!(listing(dir), before, "{words:?}: {stderr}");
}

#[test]
fn every_bad_argument_is_status_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    save_c(&dir.join("f.npy"), &f64_value(&[10, 6], 4));
    let bad_x = ArrayValue::from(ndarray::arr1(&[0.0, 1.0, 2.0, 2.0, 3.0, 4.0]).into_dyn());
    save_c(&dir.join("bad_x.npy"), &bad_x);
    let x = ArrayValue::from(ndarray::arr1(&[0.0, 1.0, 2.0, 2.5, 3.0, 4.0]).into_dyn());
    save_c(&dir.join("x.npy"), &x);
    // "AXIS ORDER ACCURACY SPACING [more words]" and what the one line must say
    let cases: &[(&str, &[&str])] = &[
        (
            "0 1 3 1",
            &["f.npy (shape (10, 6))", "even number", "got 3"],
        ),
        ("0 1 0 1", &["even number", "got 0"]),
        ("0 0 2 1", &["derivative order", "got 0"]),
        ("2 1 2 1", &["axis 2 is out of bounds"]),
        ("-3 1 2 1", &["axis -3 is out of bounds"]),
        ("1 2 4 1", &["axis 1 has 6 point(s)", "needs at least 7"]),
        ("0 2 2 0", &["finite and non-zero", "0.0"]),
        ("0 2 2 -0", &["finite and non-zero", "-0.0"]),
        ("0 2 2 nan", &["finite and non-zero", "NaN"]),
        ("0 2 2 inf", &["finite and non-zero", "inf"]),
        (
            "1 1 2 bad_x.npy",
            &["strictly increasing", "[--spacing bad_x.npy]"],
        ),
        ("1 1 2 x.npy --periodic", &["give its period length"]),
        (
            "1 1 2 x.npy --periodic --period 3",
            &["longer than the span"],
        ),
        ("0 1 2 0.5 --periodic --period 3", &["n*h"]),
        ("0 1 2 nope.npy", &["nope.npy"]),
        ("0 1 2 1 --period 3", &["--periodic"]),
    ];
    for (case, needles) in cases {
        fails(dir, &words(case), needles);
    }
    // a file the user had is kept when a run fails
    fs::create_dir(dir.join("out")).unwrap();
    fs::write(dir.join("out/d.npy"), "MINE").unwrap();
    fails(dir, &words("0 1 5 1"), &["got 5"]);
    assert_eq!(fs::read_to_string(dir.join("out/d.npy")).unwrap(), "MINE");
}
