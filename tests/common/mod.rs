//! Helpers shared by the facade's integration tests: decoding the committed
//! JSON fixtures (hex-encoded little-endian data, shapes, axis arguments,
//! f64 bit patterns) and naming error variants.
//!
//! Each test file includes this module with `mod common;`; not every file
//! uses every helper.
#![allow(dead_code)]

use oxla::{Axes, Error};
use serde_json::Value;

/// The bytes of a hex string (two digits per byte).
pub fn hex_bytes(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd hex length");
    hex.as_bytes()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The `"shape"` list of a fixture array.
pub fn shape(array: &Value) -> Vec<usize> {
    array["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// The f64 whose bits a hex string spells (how fixtures store Python floats exactly).
pub fn float_bits(hex: &str) -> f64 {
    f64::from_bits(u64::from_str_radix(hex, 16).unwrap())
}

/// NumPy's `axis` argument: `None`, an integer, or a list of integers.
pub fn axes(v: &Value) -> Axes {
    match v {
        Value::Null => Axes::All,
        Value::Number(n) => Axes::from(n.as_i64().unwrap()),
        Value::Array(list) => Axes::Some(list.iter().map(|a| a.as_i64().unwrap()).collect()),
        other => panic!("bad axis {other}"),
    }
}

/// The variant name of a `GradientError` (from its `Debug` form, so new
/// variants need no change here); other errors are named in full.
pub fn variant(e: &Error) -> String {
    match e {
        Error::Gradient(g) => {
            let debug = format!("{g:?}");
            let end = debug.find([' ', '(', '{']).unwrap_or(debug.len());
            debug[..end].to_owned()
        }
        other => format!("{other:?}"),
    }
}
