#![allow(clippy::unwrap_used)]
//! Every input the fuzz targets found (and a minimized corpus of what they
//! explored) replayed through the same checks, so `cargo test` keeps them
//! fixed without a fuzzer: `fuzz/regressions/<target>/*`. See
//! `fuzz/README.md` for running the fuzzers and adding what they find.

mod agreement;
mod fuzz_checks;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        count += 1;
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn npy_reader_regressions_pass() {
    assert!(replay("npy_reader", fuzz_checks::npy_reader) >= 1);
}

#[test]
fn gradient_regressions_pass() {
    assert!(replay("gradient", fuzz_checks::gradient_call) >= 1);
}

/// A few thousand seeded random inputs through both checks on every
/// `cargo test`: a fuzzer's first seconds, without the fuzzer.
#[test]
fn seeded_random_inputs_pass() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let valid = {
        let mut v = Vec::new();
        let data = oxla::ArrayValue::from(oxla::ndarray::arr1(&[1.0f64, 2.0, 4.0]).into_dyn());
        let header = oxla_npy::Header::new(
            oxla_npy::Descr::native(oxla_npy::Element::F64),
            vec![3],
            false,
        );
        oxla_npy::write_npy(&mut v, &header, &data).unwrap();
        v
    };
    for i in 0..2000 {
        let len = (next() % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        fuzz_checks::gradient_call(&bytes);
        // mutate a valid file in a few places
        let mut file = valid.clone();
        for _ in 0..1 + i % 4 {
            let at = (next() as usize) % file.len();
            file[at] = next() as u8;
        }
        fuzz_checks::npy_reader(&file);
        fuzz_checks::npy_reader(&bytes);
    }
}
