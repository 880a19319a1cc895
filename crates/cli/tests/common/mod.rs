//! Helpers shared by the integration tests: running the built `oxla`
//! binary on the committed fixtures and reading `.npy` files back.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `tests/fixtures` of this crate.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `tests/fixtures/inputs`: the working directory of every run, so that
/// file arguments are written as users type them.
pub fn inputs() -> PathBuf {
    fixtures().join("inputs")
}

/// The `oxla` binary, run from the inputs directory.
pub fn oxla() -> Command {
    let mut cmd = Command::cargo_bin("oxla").unwrap();
    cmd.current_dir(inputs());
    cmd
}

/// The names in a directory, sorted (empty if it does not exist).
pub fn listing(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return vec![];
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A `.npy` file taken apart: dtype descr, shape, Fortran flag, raw data bytes.
#[derive(Debug, PartialEq)]
pub struct Npy {
    pub descr: String,
    pub shape: Vec<u64>,
    pub fortran_order: bool,
    pub data: Vec<u8>,
}

/// Read a `.npy` file with `npyz` (an independent reader of the format).
pub fn read_npy(path: &Path) -> Npy {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let descr = file.dtype().descr();
    let shape = file.shape().to_vec();
    let fortran_order = file.order() == npyz::Order::Fortran;
    let data = file.into_inner().to_vec();
    Npy {
        descr,
        shape,
        fortran_order,
        data,
    }
}

/// One success case of `cases.tsv`.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub input: String,
    pub axes: Vec<usize>,
    pub args: Vec<String>,
}

/// All cases of `cases.tsv`, written by `gen_npy_fixtures.py`.
pub fn cases() -> Vec<Case> {
    let text = fs::read_to_string(fixtures().join("cases.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "bad manifest line {line:?}");
            Case {
                name: cols[0].to_string(),
                input: cols[1].to_string(),
                axes: cols[2].split(',').map(|a| a.parse().unwrap()).collect(),
                args: cols[3].split_whitespace().map(str::to_string).collect(),
            }
        })
        .collect()
}

/// The case called `name`.
pub fn case(name: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name} in cases.tsv"))
}

/// The stderr of a failed run, checked against the failure contract:
/// exactly one line, `oxla: error: ...`, no panic.
pub fn one_error_line(output: &std::process::Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(
        stderr.ends_with('\n') && stderr.lines().count() == 1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("oxla: error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}
