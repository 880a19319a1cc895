//! What fused evaluation promises against the reference interpreter
//! (docs/ARCHITECTURE.md): every element whose interpreted value is not a
//! NaN is bit-identical; every element (complex: every component) that is
//! a NaN there is a NaN in the fused result, sign and payload unspecified.
//! Shared by `tests/nan_semantics.rs`, the fuzz checks and the fuzz targets.
#![allow(dead_code, clippy::unwrap_used)]

use oxla::half::f16;
use oxla::num_complex::{Complex32, Complex64};
use oxla::{ArrayValue, DType, Tensor};

/// Evaluate `outputs` fused and with the reference interpreter and panic
/// unless they agree as promised (or both fail).
pub fn fused_agrees_with_reference(outputs: &[Tensor], what: &str) {
    let fused = oxla::eval(outputs);
    let reference = oxla::eval_reference(outputs);
    let (fused, reference) = match (fused, reference) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(_), Err(_)) => return,
        (f, r) => panic!("{what}: fused {:?}, reference {:?}", f.err(), r.err()),
    };
    for (f, r) in fused.iter().zip(&reference) {
        assert_eq!((f.dtype(), f.shape()), (r.dtype(), r.shape()), "{what}");
        let (fb, rb) = (components(f), components(r));
        for (k, (x, y)) in fb.iter().zip(&rb).enumerate() {
            assert!(
                x.1 == y.1 || (x.0.is_nan() && y.0.is_nan()),
                "{what}: component {k} fused {:#x}, reference {:#x}",
                x.1,
                y.1
            );
        }
    }
}

/// Every real component: (value, bits).
fn components(v: &ArrayValue) -> Vec<(f64, u64)> {
    match v.dtype() {
        DType::F16 => v
            .as_array::<f16>()
            .unwrap()
            .iter()
            .map(|x| (x.to_f64(), u64::from(x.to_bits())))
            .collect(),
        DType::F32 => v
            .as_array::<f32>()
            .unwrap()
            .iter()
            .map(|x| (f64::from(*x), u64::from(x.to_bits())))
            .collect(),
        DType::F64 => v
            .as_array::<f64>()
            .unwrap()
            .iter()
            .map(|x| (*x, x.to_bits()))
            .collect(),
        DType::C64 => v
            .as_array::<Complex32>()
            .unwrap()
            .iter()
            .flat_map(|x| [x.re, x.im])
            .map(|x| (f64::from(x), u64::from(x.to_bits())))
            .collect(),
        DType::C128 => v
            .as_array::<Complex64>()
            .unwrap()
            .iter()
            .flat_map(|x| [x.re, x.im])
            .map(|x| (x, x.to_bits()))
            .collect(),
    }
}
