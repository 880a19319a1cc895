#![allow(clippy::unwrap_used)]
//! What fused evaluation promises about NaNs, tested exactly as documented
//! (docs/ARCHITECTURE.md, "Every fused path is bit-identical to the
//! reference interpreter"):
//!
//! - every element whose interpreted value is not a NaN is bit-identical in
//!   the fused result (signed zeros, infinities, subnormals included);
//! - every element (complex: every component) whose interpreted value is a
//!   NaN is a NaN in the fused result, with unspecified sign and payload.
//!
//! Sign and payload are unspecified because Rust (through LLVM) does not
//! preserve them: an optimized build may commute an addition of two NaNs or
//! fold a negation into a constant factor, differently in the interpreter's
//! loops and the kernels'. This file runs in debug (`cargo test`) and in
//! release (`.ci/run` runs it with `--release`), where the difference shows.
//! (The other bit-identity suites additionally require equal NaN bits in
//! debug builds, which keep source order, as a check that both evaluators
//! perform the same operations in the same operand order.)

use oxla::half::f16;
use oxla::ndarray::{ArrayD, IxDyn};
use oxla::num_complex::{Complex32, Complex64};
use oxla::{ArrayValue, Axes, DType, Element, Spacing, Tensor, numpy};

mod agreement;
use agreement::fused_agrees_with_reference;

/// NaNs of every kind: quiet and signalling, both signs, with payloads.
/// (bits for f64; narrowed per dtype by `nan_of`)
const NAN_KINDS: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

/// A NaN of `dtype` (complex: in the real or imaginary part), signalling
/// or quiet, negative or not, with a nonzero payload.
fn nan_of(dtype: DType, signalling: bool, negative: bool, in_imag: bool) -> ArrayValue {
    let s64 = (u64::from(negative) << 63)
        | 0x7ff0_0000_0000_0000
        | if signalling {
            0x0004_0000_0000_0321
        } else {
            0x0008_0000_0000_0321
        };
    let s32 = (u32::from(negative) << 31)
        | 0x7f80_0000
        | if signalling { 0x0020_0321 } else { 0x0040_0321 };
    let s16 = (u16::from(negative) << 15) | 0x7c00 | if signalling { 0x0121 } else { 0x0221 };
    let (f, d) = (f32::from_bits(s32), f64::from_bits(s64));
    let one = |v| ArrayValue::from(ArrayD::from_elem(IxDyn(&[]), v));
    match dtype {
        DType::F16 => one(f16::from_bits(s16)),
        DType::F32 => ArrayValue::from(ArrayD::from_elem(IxDyn(&[]), f)),
        DType::F64 => ArrayValue::from(ArrayD::from_elem(IxDyn(&[]), d)),
        DType::C64 => {
            let v = if in_imag {
                Complex32::new(0.5, f)
            } else {
                Complex32::new(f, 0.5)
            };
            ArrayValue::from(ArrayD::from_elem(IxDyn(&[]), v))
        }
        DType::C128 => {
            let v = if in_imag {
                Complex64::new(0.5, d)
            } else {
                Complex64::new(d, 0.5)
            };
            ArrayValue::from(ArrayD::from_elem(IxDyn(&[]), v))
        }
    }
}

/// A 3x4 array of `dtype` with ordinary values and `nan` at flat index `at`.
fn with_nan_at(dtype: DType, at: usize, nan: &ArrayValue) -> Tensor {
    fn put<T: Element + oxla::ArrayElement>(
        dtype: DType,
        at: usize,
        nan: &ArrayValue,
    ) -> ArrayValue {
        let base = ArrayValue::from(ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| {
            ((i[0] * 7 + i[1] * 3) % 5) as f64 - 1.25
        }))
        .astype(dtype);
        let mut a = base.as_array::<T>().unwrap().to_owned();
        let n = *nan.as_array::<T>().unwrap().first().unwrap();
        *a.iter_mut().nth(at).unwrap() = n;
        T::wrap(a)
    }
    let v = match dtype {
        DType::F16 => put::<f16>(dtype, at, nan),
        DType::F32 => put::<f32>(dtype, at, nan),
        DType::F64 => put::<f64>(dtype, at, nan),
        DType::C64 => put::<Complex32>(dtype, at, nan),
        DType::C128 => put::<Complex64>(dtype, at, nan),
    };
    Tensor::literal(v)
}

const DTYPES: [DType; 5] = [DType::F16, DType::F32, DType::F64, DType::C64, DType::C128];

fn spacings() -> Vec<(&'static str, Vec<Spacing>)> {
    let coords = |v: Vec<f64>| {
        Spacing::Array(Tensor::literal(ArrayValue::from(
            ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap(),
        )))
    };
    vec![
        ("weak", vec![Spacing::Scalar(-0.3)]),
        (
            "strong",
            vec![Spacing::Array(Tensor::scalar(DType::F64, 0.7))],
        ),
        (
            "coords",
            vec![
                coords(vec![0.0, 0.5, 2.0]),
                coords(vec![1.0, 1.25, 2.0, 4.0]),
            ],
        ),
    ]
}

#[test]
fn gradient_nans_agree_as_documented() {
    for dtype in DTYPES {
        for (signalling, negative) in NAN_KINDS {
            for in_imag in [false, true] {
                if in_imag && !dtype.is_complex() {
                    continue;
                }
                let nan = nan_of(dtype, signalling, negative, in_imag);
                for at in 0..12 {
                    let f = with_nan_at(dtype, at, &nan);
                    for (label, spacing) in spacings() {
                        for edge_order in [1, 2] {
                            let g = numpy::gradient(&f, &spacing, Axes::All, edge_order).unwrap();
                            fused_agrees_with_reference(
                                &g,
                                &format!(
                                    "{dtype} nan({signalling},{negative},{in_imag}) at {at} {label} eo{edge_order}"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn derivative_nans_agree_as_documented() {
    for dtype in [DType::F32, DType::F64] {
        for (signalling, negative) in NAN_KINDS {
            let nan = nan_of(dtype, signalling, negative, false);
            for at in 0..12 {
                let f = with_nan_at(dtype, at, &nan);
                for (label, spacing) in spacings() {
                    for edge_order in [1, 2] {
                        // value_and_grad of sum(|grad f|^2): NaN in the primal
                        let (loss, g) = oxla::value_and_grad(
                            |xs: &[Tensor]| {
                                let mut total: Option<Tensor> = None;
                                for d in numpy::gradient(&xs[0], &spacing, Axes::All, edge_order)? {
                                    let s = d.mul(&d)?.reduce_sum(&[0, 1])?;
                                    total = Some(match total {
                                        Some(t) => t.add(&s)?,
                                        None => s,
                                    });
                                }
                                Ok::<_, oxla::Error>(total.into_iter().collect())
                            },
                            std::slice::from_ref(&f),
                        )
                        .unwrap();
                        let what = format!(
                            "{dtype} nan({signalling},{negative}) at {at} {label} eo{edge_order}"
                        );
                        fused_agrees_with_reference(
                            &[loss, g[0].clone()],
                            &format!("value_and_grad {what}"),
                        );
                        // the VJP with a NaN in the cotangent
                        let (outs, pullback) = oxla::vjp(
                            |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
                                numpy::gradient(&xs[0], &spacing, Axes::All, edge_order)
                            },
                            std::slice::from_ref(&f),
                        )
                        .unwrap();
                        let ct_f = pullback.call(&vec![f.clone(); outs.len()]).unwrap();
                        fused_agrees_with_reference(&ct_f, &format!("vjp {what}"));
                    }
                }
            }
        }
    }
}
