//! Reading and writing NumPy `.npy` files.
//!
//! The header is checked here before anything is allocated: the magic
//! string, the format version (1.0, 2.0 or 3.0), the header length against
//! the file size, the dtype (bool, int8..int64, uint8..uint64, float16/32/64,
//! complex64/128, either byte order), and the number of data bytes the shape
//! claims against the bytes the file really holds. Only then are the
//! elements decoded, with `npyz`'s typed readers (which handle byte order),
//! into an `ndarray` in C or Fortran order as the header says.
//!
//! Outputs are written with `npyz` too: C order, native byte order, format 1.0.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use npyz::{Deserialize, TypeChar, TypeRead, TypeStr};
use num_complex::{Complex32, Complex64};
use oxla::{ArrayValue, HostArray};
use py_literal::Value;

use half::f16;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted, NumPy's own default `max_header_size`.
/// Headers of the supported dtypes are well under 200 bytes.
pub const MAX_HEADER_LEN: u64 = 10_000;

/// Deepest bracket nesting accepted in a header (a plain header has 2 levels).
const MAX_NESTING: usize = 16;

/// Why a `.npy` file could not be read. The file name is added by the caller.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be opened (missing, no permission...).
    #[error("cannot open: {0}")]
    Open(io::Error),
    /// The path names a directory.
    #[error("is a directory, not a .npy file")]
    Directory,
    /// Reading failed part-way.
    #[error("cannot read: {0}")]
    Read(io::Error),
    /// The file does not start with the `.npy` magic string.
    #[error("not a .npy file (it does not start with the NumPy magic string \\x93NUMPY)")]
    NotNpy,
    /// A format version other than 1.0, 2.0, 3.0.
    #[error("unsupported .npy format version {0}.{1} (versions 1.0, 2.0 and 3.0 are supported)")]
    Version(u8, u8),
    /// The file ends inside its header.
    #[error(
        "truncated .npy file: its header needs {needed} bytes but the file has only {available}"
    )]
    TruncatedHeader {
        /// Bytes up to the end of the header.
        needed: u64,
        /// The file size.
        available: u64,
    },
    /// The header is longer than NumPy itself accepts.
    #[error(
        "the .npy header is {0} bytes long; more than {MAX_HEADER_LEN} is refused, as NumPy does"
    )]
    HeaderTooLarge(u64),
    /// The header is not the dict NumPy writes.
    #[error("malformed .npy header: {0}")]
    Malformed(String),
    /// A dtype gradient cannot take (strings, dates, objects, records...).
    #[error(
        "unsupported dtype '{descr}' ({kind}): gradient needs integer, floating-point or complex numbers"
    )]
    UnsupportedDType {
        /// The dtype as written in the header.
        descr: String,
        /// What it is, in NumPy's words.
        kind: String,
    },
    /// The shape's element or byte count does not even fit in 64 bits.
    #[error("the header's shape {shape} describes more data than any file can hold")]
    Overflow {
        /// The shape as written.
        shape: String,
    },
    /// The file holds fewer data bytes than the header's shape needs.
    #[error(
        "truncated .npy file: the header describes shape {shape} of '{descr}' ({expected} bytes of data) but only {available} bytes follow the header"
    )]
    TruncatedData {
        /// The shape, as NumPy prints it.
        shape: String,
        /// The dtype.
        descr: String,
        /// Data bytes the shape needs.
        expected: u64,
        /// Data bytes present.
        available: u64,
    },
    /// The data bytes could not be decoded.
    #[error("cannot decode the data: {0}")]
    Decode(io::Error),
}

/// The parsed, checked header of a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The element type, with its byte order.
    pub dtype: TypeStr,
    /// What the element type decodes to.
    pub element: Element,
    /// The shape.
    pub shape: Vec<usize>,
    /// True if the data is stored in Fortran (column-major) order.
    pub fortran_order: bool,
    /// Number of elements (the product of `shape`).
    pub len: usize,
}

/// The element types oxla reads from `.npy` files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Element {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    F32,
    F64,
    C64,
    C128,
}

impl Element {
    /// The element type of `dtype`, if oxla reads it.
    fn of(dtype: &TypeStr) -> Option<Element> {
        Some(match (dtype.type_char(), dtype.size_field()) {
            (TypeChar::Bool, 1) => Element::Bool,
            (TypeChar::Int, 1) => Element::I8,
            (TypeChar::Int, 2) => Element::I16,
            (TypeChar::Int, 4) => Element::I32,
            (TypeChar::Int, 8) => Element::I64,
            (TypeChar::Uint, 1) => Element::U8,
            (TypeChar::Uint, 2) => Element::U16,
            (TypeChar::Uint, 4) => Element::U32,
            (TypeChar::Uint, 8) => Element::U64,
            (TypeChar::Float, 2) => Element::F16,
            (TypeChar::Float, 4) => Element::F32,
            (TypeChar::Float, 8) => Element::F64,
            (TypeChar::Complex, 8) => Element::C64,
            (TypeChar::Complex, 16) => Element::C128,
            _ => return None,
        })
    }
}

/// Read a `.npy` file into a [`HostArray`] of the file's own dtype.
pub fn read(path: &Path) -> Result<HostArray, NpyError> {
    let file = File::open(path).map_err(NpyError::Open)?;
    let meta = file.metadata().map_err(NpyError::Read)?;
    if meta.is_dir() {
        return Err(NpyError::Directory);
    }
    read_from(&mut BufReader::new(file), meta.len())
}

/// Read a `.npy` stream of `file_len` bytes.
pub fn read_from(r: &mut impl Read, file_len: u64) -> Result<HostArray, NpyError> {
    let header = read_header(r, file_len)?;
    read_data(r, &header)
}

/// Read and check the header of a `.npy` stream of `file_len` bytes, leaving
/// `r` at the first data byte. Nothing larger than the header itself
/// (at most [`MAX_HEADER_LEN`] bytes) is allocated, and the data the shape
/// claims is checked against the bytes left in the file.
pub fn read_header(r: &mut impl Read, file_len: u64) -> Result<Header, NpyError> {
    let mut magic = [0u8; 8];
    let got = read_up_to(r, &mut magic)?;
    if got < magic.len() {
        // A prefix of the magic string is a truncated file; anything else is not .npy.
        let n = got.min(MAGIC.len());
        return if got > 0 && magic[..n] == MAGIC[..n] {
            Err(NpyError::TruncatedHeader {
                needed: 10,
                available: file_len,
            })
        } else {
            Err(NpyError::NotNpy)
        };
    }
    if &magic[..6] != MAGIC {
        return Err(NpyError::NotNpy);
    }
    let (major, minor) = (magic[6], magic[7]);
    let len_bytes: usize = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::Version(major, minor)),
    };
    let mut len_field = [0u8; 4];
    let got = read_up_to(r, &mut len_field[..len_bytes])?;
    if got < len_bytes {
        return Err(NpyError::TruncatedHeader {
            needed: 8 + len_bytes as u64,
            available: file_len,
        });
    }
    let header_len = u64::from(u32::from_le_bytes(len_field));
    let data_offset = 8 + len_bytes as u64 + header_len;
    if data_offset > file_len {
        return Err(NpyError::TruncatedHeader {
            needed: data_offset,
            available: file_len,
        });
    }
    if header_len > MAX_HEADER_LEN {
        return Err(NpyError::HeaderTooLarge(header_len));
    }
    let mut text = vec![0u8; header_len as usize];
    r.read_exact(&mut text).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => NpyError::TruncatedHeader {
            needed: data_offset,
            available: file_len,
        },
        _ => NpyError::Read(e),
    })?;
    let text = if major >= 3 {
        String::from_utf8(text).map_err(|_| malformed("the header is not valid UTF-8"))?
    } else {
        // Versions 1 and 2 are latin-1: every byte is one character.
        text.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header_text(&text)?;
    let item_size = header.dtype.num_bytes().unwrap_or(usize::MAX) as u64;
    let overflow = || NpyError::Overflow {
        shape: numpy_shape(&header.shape),
    };
    let expected = (header.len as u64)
        .checked_mul(item_size)
        .ok_or_else(overflow)?;
    let available = file_len - data_offset;
    if expected > available {
        return Err(NpyError::TruncatedData {
            shape: numpy_shape(&header.shape),
            descr: header.dtype.to_string(),
            expected,
            available,
        });
    }
    Ok(header)
}

fn numpy_shape_u64(dims: &[String]) -> String {
    match dims {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    }
}

/// A shape as NumPy prints it: `()`, `(5,)`, `(4, 5)`.
pub fn numpy_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    numpy_shape_u64(&dims)
}

fn malformed(reason: impl Into<String>) -> NpyError {
    NpyError::Malformed(reason.into())
}

/// Read until `buf` is full or the stream ends; return the count read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, NpyError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(NpyError::Read(e)),
        }
    }
    Ok(filled)
}

fn parse_dict(text: &str) -> Result<Vec<(Value, Value)>, NpyError> {
    // Refuse deep nesting before a recursive parser sees it.
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(malformed("brackets nested too deeply"));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    match text.trim().parse::<Value>() {
        Ok(Value::Dict(items)) => Ok(items),
        Ok(_) => Err(malformed("the header is not a Python dict")),
        Err(_) => Err(malformed("the header is not a Python literal")),
    }
}

fn lookup<'a>(dict: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    dict.iter()
        .find(|(k, _)| matches!(k, Value::String(s) if s == key))
        .map(|(_, v)| v)
}

/// Parse the header dict: `{'descr': '<f8', 'fortran_order': False, 'shape': (4, 5), }`.
fn parse_header_text(text: &str) -> Result<Header, NpyError> {
    let dict = parse_dict(text)?;
    let get = |key: &str| {
        lookup(&dict, key).ok_or_else(|| malformed(format!("the header has no '{key}' key")))
    };
    let (dtype, element) = match get("descr")? {
        Value::String(s) => parse_dtype(s)?,
        Value::List(_) => {
            return Err(NpyError::UnsupportedDType {
                descr: get("descr")?.to_string(),
                kind: "structured".into(),
            });
        }
        _ => return Err(malformed("'descr' is neither a string nor a list")),
    };
    let fortran_order = match get("fortran_order")? {
        Value::Boolean(b) => *b,
        _ => return Err(malformed("'fortran_order' is not True or False")),
    };
    let Value::Tuple(dims) = get("shape")? else {
        return Err(malformed("'shape' is not a tuple"));
    };
    let overflow = || NpyError::Overflow {
        shape: numpy_shape_u64(&dims.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
    };
    let mut shape = Vec::with_capacity(dims.len());
    let mut len: u64 = 1;
    for d in dims {
        let Value::Integer(d) = d else {
            return Err(malformed("'shape' holds something other than integers"));
        };
        let d = match u64::try_from(d) {
            Ok(d) => d,
            Err(_) if d.to_string().starts_with('-') => {
                return Err(malformed("'shape' has a negative dimension"));
            }
            Err(_) => return Err(overflow()),
        };
        len = len.checked_mul(d).ok_or_else(overflow)?;
        shape.push(usize::try_from(d).map_err(|_| overflow())?);
    }
    let len = usize::try_from(len).map_err(|_| overflow())?;
    Ok(Header {
        dtype,
        element,
        shape,
        fortran_order,
        len,
    })
}

/// Parse a type string like `'<f8'` and check that gradient can take it.
fn parse_dtype(descr: &str) -> Result<(TypeStr, Element), NpyError> {
    let unsupported = |kind: &str| NpyError::UnsupportedDType {
        descr: descr.to_string(),
        kind: kind.to_string(),
    };
    let dtype: TypeStr = descr
        .parse()
        .map_err(|_| unsupported("not a type NumPy writes"))?;
    if let Some(element) = Element::of(&dtype) {
        return Ok((dtype, element));
    }
    let bits = dtype.size_field().saturating_mul(8);
    Err(unsupported(&match dtype.type_char() {
        TypeChar::Float => format!("float{bits}: extended precision"),
        TypeChar::Complex => format!("complex{bits}: extended precision"),
        TypeChar::TimeDelta => "timedelta64".into(),
        TypeChar::DateTime => "datetime64".into(),
        TypeChar::ByteStr => "bytes".into(),
        TypeChar::UnicodeStr => "str".into(),
        TypeChar::Object => "object".into(),
        TypeChar::RawData => "void: raw bytes".into(),
        _ => "unexpected size".into(),
    }))
}

/// Decode the data that follows a checked header.
pub fn read_data(r: &mut impl Read, header: &Header) -> Result<HostArray, NpyError> {
    Ok(match header.element {
        Element::Bool => HostArray::Bool(decode(r, header)?),
        Element::I8 => HostArray::I8(decode(r, header)?),
        Element::I16 => HostArray::I16(decode(r, header)?),
        Element::I32 => HostArray::I32(decode(r, header)?),
        Element::I64 => HostArray::I64(decode(r, header)?),
        Element::U8 => HostArray::U8(decode(r, header)?),
        Element::U16 => HostArray::U16(decode(r, header)?),
        Element::U32 => HostArray::U32(decode(r, header)?),
        Element::U64 => HostArray::U64(decode(r, header)?),
        Element::F16 => HostArray::F16(decode::<f16>(r, header)?),
        Element::F32 => HostArray::F32(decode(r, header)?),
        Element::F64 => HostArray::F64(decode(r, header)?),
        Element::C64 => HostArray::C64(decode::<Complex32>(r, header)?),
        Element::C128 => HostArray::C128(decode::<Complex64>(r, header)?),
    })
}

fn decode<T: Deserialize>(r: &mut impl Read, header: &Header) -> Result<ArrayD<T>, NpyError> {
    let reader = T::reader(&npyz::DType::Plain(header.dtype.clone()))
        .map_err(|e| malformed(e.to_string()))?;
    // `read_header` checked that the file holds `len` elements, so this
    // allocation is bounded by the file size.
    let mut data = Vec::with_capacity(header.len);
    for _ in 0..header.len {
        data.push(reader.read_one(&mut *r).map_err(NpyError::Decode)?);
    }
    let shape = IxDyn(&header.shape);
    let array = if header.fortran_order {
        ArrayD::from_shape_vec(shape.f(), data)
    } else {
        ArrayD::from_shape_vec(shape, data)
    };
    array.map_err(|e| malformed(e.to_string()))
}

/// Write `value` as a `.npy` (format 1.0, C order, native byte order).
pub fn write(w: impl Write, value: &ArrayValue) -> io::Result<()> {
    match value {
        ArrayValue::F16(a) => write_array(w, a),
        ArrayValue::F32(a) => write_array(w, a),
        ArrayValue::F64(a) => write_array(w, a),
        ArrayValue::C64(a) => write_array(w, a),
        ArrayValue::C128(a) => write_array(w, a),
    }
}

fn write_array<T: npyz::AutoSerialize + Clone>(w: impl Write, a: &ArrayD<T>) -> io::Result<()> {
    use npyz::WriterBuilder;
    let shape: Vec<u64> = a.shape().iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(w)
        .begin_nd()?;
    // `iter` walks in logical (C) order whatever the memory layout.
    writer.extend(a.iter().cloned())?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn bytes_of(value: &ArrayValue) -> Vec<u8> {
        let mut buf = Vec::new();
        write(&mut buf, value).unwrap();
        buf
    }

    fn read_bytes(bytes: &[u8]) -> Result<HostArray, NpyError> {
        read_from(&mut &bytes[..], bytes.len() as u64)
    }

    fn sample() -> ArrayValue {
        ArrayValue::from(ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| {
            (i[0] * 3 + i[1]) as f64 - 1.5
        }))
    }

    #[test]
    fn every_dtype_round_trips() {
        for dtype in [
            oxla::DType::F16,
            oxla::DType::F32,
            oxla::DType::F64,
            oxla::DType::C64,
            oxla::DType::C128,
        ] {
            let v = sample().astype(dtype);
            let back = read_bytes(&bytes_of(&v)).unwrap().into_value().unwrap();
            assert!(back.bit_eq(&v), "{dtype}");
        }
    }

    #[test]
    fn zero_d_round_trips() {
        let v = ArrayValue::scalar(oxla::DType::F64, 2.5);
        let back = read_bytes(&bytes_of(&v)).unwrap().into_value().unwrap();
        assert!(back.bit_eq(&v));
    }

    /// Every prefix of a valid file is an error, never a panic.
    #[test]
    fn every_truncation_is_an_error() {
        let bytes = bytes_of(&sample());
        for len in 0..bytes.len() {
            assert!(read_bytes(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
        assert!(read_bytes(&bytes).is_ok());
    }

    /// Any single corrupted header byte gives a result or an error, never a panic.
    #[test]
    fn corrupted_headers_never_panic() {
        let bytes = bytes_of(&sample());
        let header_end = bytes.len() - 6 * 8;
        for i in 0..header_end {
            for b in [0u8, b'(', b'[', b'9', b'-', b',', b'\'', b' ', 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[i] = b;
                let _ = read_bytes(&corrupt);
            }
        }
    }

    fn with_header(text: &str) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([1, 0]);
        bytes.extend((text.len() as u16).to_le_bytes());
        bytes.extend(text.as_bytes());
        bytes
    }

    fn error_of(text: &str) -> String {
        read_bytes(&with_header(text)).unwrap_err().to_string()
    }

    #[test]
    fn header_errors_are_named() {
        let nested = format!("{}{}", "[".repeat(4_000), "]".repeat(4_000));
        for (header, named) in [
            (nested.as_str(), "nested too deeply"),
            ("{'descr': '<f8', 'fortran_order': False}", "no 'shape' key"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
                "negative dimension",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
                "'fortran_order'",
            ),
            ("[1, 2]", "not a Python dict"),
            ("{'descr': ", "not a Python literal"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (10**3,)}",
                "not a Python literal",
            ),
            (
                "{'descr': 'zz', 'fortran_order': False, 'shape': (1,)}",
                "unsupported dtype 'zz'",
            ),
        ] {
            let error = error_of(header);
            assert!(error.contains(named), "{header:.60}: {error}");
        }
    }

    #[test]
    fn fortran_order_is_honored() {
        // Column-major data [1, 2, 3, 4, 5, 6] of shape (2, 3) is [[1, 3, 5], [2, 4, 6]].
        let mut bytes = with_header("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }\n");
        for v in 1i16..=6 {
            bytes.extend(v.to_le_bytes());
        }
        let HostArray::I16(a) = read_bytes(&bytes).unwrap() else {
            panic!("not int16")
        };
        assert_eq!(a, ndarray::array![[1i16, 3, 5], [2, 4, 6]].into_dyn());
    }

    #[test]
    fn big_endian_is_honored() {
        let mut bytes = with_header("{'descr': '>u4', 'fortran_order': False, 'shape': (2,), }\n");
        bytes.extend(1u32.to_be_bytes());
        bytes.extend(0xdead_beefu32.to_be_bytes());
        let HostArray::U32(a) = read_bytes(&bytes).unwrap() else {
            panic!("not uint32")
        };
        assert_eq!(a.as_slice().unwrap(), &[1, 0xdead_beef]);
    }

    #[test]
    fn numpy_shapes_print_like_numpy() {
        assert_eq!(numpy_shape(&[]), "()");
        assert_eq!(numpy_shape(&[5]), "(5,)");
        assert_eq!(numpy_shape(&[4, 5]), "(4, 5)");
    }
}
