//! The properties the fuzz targets check (`fuzz/fuzz_targets/*.rs` include
//! this file), shared with `cargo test`, which replays every input kept in
//! `fuzz/regressions/` (`tests/fuzz_regressions.rs`). A violated property
//! panics, which is what libFuzzer reports.
//!
//! - [`npy_reader`]: any bytes read as a `.npy` file give a typed error or
//!   a result, never a panic; the header parse does work linear in its
//!   length; a result written back with `write_npy` reads back bit for bit.
//! - [`gradient_call`]: any `gradient` arguments and data give a typed
//!   error or outputs; outputs (and the VJP's) evaluate fused exactly as the
//!   reference interpreter does (bits equal, or both NaN: the documented
//!   promise, `tests/nan_semantics.rs`).
#![allow(dead_code, clippy::unwrap_used)]

use oxla::half::f16;
use oxla::ndarray::{ArrayD, IxDyn};
use oxla::num_complex::{Complex32, Complex64};
use oxla::{ArrayValue, Axes, DType, Spacing, Tensor, numpy};

use crate::agreement::fused_agrees_with_reference as agree;
use oxla_npy::literal::{self, Dialect};

/// Read fuzz bytes as `.npy` and check the reader's properties.
pub fn npy_reader(data: &[u8]) {
    // the parser alone, on the bytes as latin-1 text, in both dialects
    let text: String = data.iter().map(|&b| char::from(b)).collect();
    for dialect in [Dialect::Python3, Dialect::AllowLongSuffix] {
        let parsed = literal::parse(&text, dialect);
        assert!(
            parsed.work <= 2 * text.chars().count() + 8,
            "parse work {} for {} characters",
            parsed.work,
            text.len()
        );
    }
    let Ok(prelude) = oxla_npy::read_prelude(&mut &data[..], data.len() as u64) else {
        return;
    };
    let rest = &data[prelude.data_offset as usize..];
    let Ok(host) = oxla_npy::read_data(&mut &rest[..], &prelude.header) else {
        return;
    };
    let Ok(value) = host.into_value() else {
        return; // booleans
    };
    if value.dtype() == DType::F64 && prelude.header.descr.element != oxla_npy::Element::F64 {
        return; // integers became f64: nothing to write back in their type
    }
    let mut written = Vec::new();
    oxla_npy::write_npy(&mut written, &prelude.header, &value).unwrap();
    let again = oxla_npy::read_prelude(&mut &written[..], written.len() as u64).unwrap();
    assert_eq!(again.header, prelude.header);
    let back = oxla_npy::read_data(&mut &written[again.data_offset as usize..], &again.header)
        .unwrap()
        .into_value()
        .unwrap();
    assert!(
        back.bit_eq(&value),
        "a written file does not read back bit for bit"
    );
}

/// A cursor over fuzz bytes; past the end it reads zeros.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())]
    }

    /// A value: often small and exact, sometimes any f64 bit pattern
    /// (NaN payloads, subnormals, infinities, huge).
    fn value(&mut self) -> f64 {
        match self.byte() % 4 {
            0 => {
                let mut bits = [0u8; 8];
                for b in &mut bits {
                    *b = self.byte();
                }
                f64::from_le_bytes(bits)
            }
            1 => self.pick(&[0.0, -0.0, f64::INFINITY, f64::NAN, 5e-324, 1e300, -1e-310]),
            _ => f64::from(self.byte() as i8) / 4.0,
        }
    }

    fn array(&mut self, shape: &[usize], dtype: DType) -> Tensor {
        let n: usize = shape.iter().product();
        let re: Vec<f64> = (0..n).map(|_| self.value()).collect();
        let v = match dtype {
            DType::F16 => wrap(shape, re.iter().map(|&x| f16::from_f64(x)).collect()),
            DType::F32 => wrap(shape, re.iter().map(|&x| x as f32).collect()),
            DType::F64 => wrap(shape, re),
            DType::C64 => {
                let c: Vec<Complex32> = re
                    .iter()
                    .map(|&x| Complex32::new(x as f32, self.value() as f32))
                    .collect();
                wrap(shape, c)
            }
            DType::C128 => {
                let c: Vec<Complex64> = re
                    .iter()
                    .map(|&x| Complex64::new(x, self.value()))
                    .collect();
                wrap(shape, c)
            }
        };
        Tensor::literal(v)
    }
}

fn wrap<T>(shape: &[usize], data: Vec<T>) -> ArrayValue
where
    ArrayValue: From<ArrayD<T>>,
{
    ArrayValue::from(ArrayD::from_shape_vec(IxDyn(shape), data).unwrap())
}

const DTYPES: [DType; 5] = [DType::F16, DType::F32, DType::F64, DType::C64, DType::C128];

/// Decode fuzz bytes into a `gradient` call and check its properties.
pub fn gradient_call(data: &[u8]) {
    let mut b = Bytes { data, pos: 0 };
    let dtype = b.pick(&DTYPES);
    let ndim = b.below(5);
    let shape: Vec<usize> = (0..ndim).map(|_| b.below(7)).collect();
    let f = b.array(&shape, dtype);
    let axes = match b.below(3) {
        0 => Axes::All,
        _ => {
            let n = b.below(ndim + 2);
            Axes::Some(
                (0..n)
                    .map(|_| b.below(2 * ndim + 3) as i64 - ndim as i64 - 1)
                    .collect(),
            )
        }
    };
    let count = b.below(ndim + 2);
    let spacing: Vec<Spacing> = (0..count)
        .map(|_| match b.below(4) {
            0 => Spacing::Scalar(b.value()),
            1 => {
                let dtype = b.pick(&DTYPES[..3]);
                Spacing::Array(b.array(&[], dtype))
            }
            2 => {
                // coordinates for some axis (usually the right length)
                let len = if b.below(4) == 0 {
                    b.below(7)
                } else {
                    shape.get(b.below(ndim.max(1))).copied().unwrap_or(3)
                };
                let dtype = b.pick(&DTYPES);
                Spacing::Array(b.array(&[len], dtype))
            }
            _ => {
                let shape = [b.below(3), b.below(3)];
                Spacing::Array(b.array(&shape, DType::F64))
            }
        })
        .collect();
    let edge_order = b.pick(&[1i64, 2, 1, 2, 0, 3, -1]);

    let outputs = match numpy::gradient(&f, &spacing, axes.clone(), edge_order) {
        Ok(outputs) => outputs,
        Err(e) => {
            assert!(
                matches!(e, oxla::Error::Gradient(_) | oxla::Error::Ir(_)),
                "untyped error {e:?}"
            );
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    agree(&outputs, "gradient");
    if dtype.is_complex() || outputs.is_empty() || b.below(2) == 1 {
        return;
    }
    // the adjoint stencil G^T, with cotangents from the same bytes
    let (outs, pullback) = oxla::vjp(
        |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
            numpy::gradient(&xs[0], &spacing, axes.clone(), edge_order)
        },
        std::slice::from_ref(&f),
    )
    .unwrap();
    let cts: Vec<Tensor> = outs.iter().map(|o| b.array(o.shape(), o.dtype())).collect();
    agree(&pullback.call(&cts).unwrap(), "vjp");
}
