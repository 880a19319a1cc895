#![allow(clippy::unwrap_used)]
//! A result too large to allocate is an error, not an abort of the process
//! (which, in the Python package, would be the user's interpreter).

use oxla_ir::{DType, Tensor};
use oxla_jit::JitError;

#[test]
fn an_impossible_result_is_out_of_memory() {
    // 2^44 f64 = 128 TiB: no machine (and no address space limit) has it
    let huge = Tensor::scalar(DType::F64, 1.5)
        .broadcast_in_dim(&[1 << 22, 1 << 22], &[])
        .unwrap();
    let doubled = huge.add(&huge).unwrap();
    match oxla_jit::eval(&[doubled]) {
        Err(JitError::OutOfMemory { bytes }) => assert_eq!(bytes, 8 << 44),
        other => panic!("expected OutOfMemory, got {:?}", other.map(|v| v.len())),
    }
    // and the process goes on: a small evaluation still works
    let small = Tensor::scalar(DType::F64, 1.5);
    assert_eq!(
        oxla_jit::eval(&[small.add(&small).unwrap()]).unwrap().len(),
        1
    );
}
