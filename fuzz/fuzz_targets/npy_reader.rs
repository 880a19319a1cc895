//! Any bytes as a `.npy` file: typed errors, linear-time header parsing,
//! and bit-exact write-back (`tests/fuzz_checks/mod.rs`).
#![no_main]

#[path = "../../tests/agreement/mod.rs"]
mod agreement;
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::npy_reader(data));
