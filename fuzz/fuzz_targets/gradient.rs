//! Any `gradient` arguments and data: typed errors, and fused evaluation
//! (of `G` and of its VJP) agreeing with the reference interpreter
//! (`tests/fuzz_checks/mod.rs`).
#![no_main]

#[path = "../../tests/agreement/mod.rs"]
mod agreement;
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::gradient_call(data));
