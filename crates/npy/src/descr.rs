//! [`Descr`]: the `descr` of a `.npy` header, with NumPy's spellings.
//!
//! NumPy reads `descr` with `numpy.dtype(descr)`, which accepts more than
//! the `'<f8'` form it writes: `'=f8'`, `'|f8'`, `'f8'`, `'f08'`, `'d'`,
//! `'<d'`, `'float64'`, `'double'`, `'float'`... `Descr::parse` accepts
//! exactly the spellings of the numeric types NumPy accepts (on 64-bit
//! Linux, where `'l'` and `'long'` are 64 bits), checked against a table
//! that NumPy itself wrote (`tests/fixtures/descr_table.json`), and names
//! every other dtype NumPy knows (strings, dates, objects, extended
//! precision) as unsupported rather than unknown.

use std::fmt;

/// What one element of the array is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Element::Bool | Element::I8 | Element::U8 => 1,
            Element::I16 | Element::U16 | Element::F16 => 2,
            Element::I32 | Element::U32 | Element::F32 => 4,
            Element::I64 | Element::U64 | Element::F64 | Element::C64 => 8,
            Element::C128 => 16,
        }
    }

    /// Bytes per byte-swapped unit: the whole element, or one part of a complex.
    pub fn swap_unit(self) -> usize {
        match self {
            Element::C64 => 4,
            Element::C128 => 8,
            other => other.size(),
        }
    }

    /// NumPy's kind and size code, as in `'<f8'`: `"f8"`.
    pub fn code(self) -> &'static str {
        match self {
            Element::Bool => "b1",
            Element::I8 => "i1",
            Element::I16 => "i2",
            Element::I32 => "i4",
            Element::I64 => "i8",
            Element::U8 => "u1",
            Element::U16 => "u2",
            Element::U32 => "u4",
            Element::U64 => "u8",
            Element::F16 => "f2",
            Element::F32 => "f4",
            Element::F64 => "f8",
            Element::C64 => "c8",
            Element::C128 => "c16",
        }
    }

    /// The element of NumPy's dtype code `kind` (`b i u f c`) of `size` bytes.
    fn of_kind(kind: char, size: usize) -> Option<Element> {
        Some(match (kind, size) {
            ('b', 1) => Element::Bool,
            ('i', 1) => Element::I8,
            ('i', 2) => Element::I16,
            ('i', 4) => Element::I32,
            ('i', 8) => Element::I64,
            ('u', 1) => Element::U8,
            ('u', 2) => Element::U16,
            ('u', 4) => Element::U32,
            ('u', 8) => Element::U64,
            ('f', 2) => Element::F16,
            ('f', 4) => Element::F32,
            ('f', 8) => Element::F64,
            ('c', 8) => Element::C64,
            ('c', 16) => Element::C128,
            _ => return None,
        })
    }

    /// NumPy's one-letter type codes.
    fn of_char(c: char) -> Option<Element> {
        Some(match c {
            '?' => Element::Bool,
            'b' => Element::I8,
            'h' => Element::I16,
            'i' => Element::I32,
            'l' | 'q' | 'n' | 'p' => Element::I64,
            'B' => Element::U8,
            'H' => Element::U16,
            'I' => Element::U32,
            'L' | 'Q' | 'N' | 'P' => Element::U64,
            'e' => Element::F16,
            'f' => Element::F32,
            'd' => Element::F64,
            'F' => Element::C64,
            'D' => Element::C128,
            _ => return None,
        })
    }

    /// NumPy's type names (accepted without a byte-order prefix only).
    fn of_name(name: &str) -> Option<Element> {
        Some(match name {
            "bool" | "bool_" => Element::Bool,
            "int8" | "byte" => Element::I8,
            "int16" | "short" => Element::I16,
            "int32" | "intc" => Element::I32,
            "int64" | "int" | "int_" | "intp" | "long" | "longlong" => Element::I64,
            "uint8" | "ubyte" => Element::U8,
            "uint16" | "ushort" => Element::U16,
            "uint32" | "uintc" => Element::U32,
            "uint64" | "uint" | "uintp" | "ulong" | "ulonglong" => Element::U64,
            "float16" | "half" => Element::F16,
            "float32" | "single" => Element::F32,
            "float64" | "double" | "float" => Element::F64,
            "complex64" | "csingle" => Element::C64,
            "complex128" | "cdouble" | "complex" => Element::C128,
            _ => return None,
        })
    }
}

/// Byte order of the elements in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first (`<`).
    Little,
    /// Most significant byte first (`>`).
    Big,
}

impl ByteOrder {
    /// The order of the machine running this code (NumPy's `=` and `|`).
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
}

/// A parsed, supported `descr`: the element type and its byte order.
///
/// ```
/// use oxla_npy::{ByteOrder, Descr, Element};
/// let d = Descr::parse(">c16").unwrap();
/// assert_eq!((d.element, d.byte_order), (Element::C128, ByteOrder::Big));
/// assert_eq!(Descr::parse("=f8").unwrap(), Descr::parse("float64").unwrap());
/// assert_eq!(d.to_string(), ">c16");
/// assert!(Descr::parse("<U5").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Descr {
    /// The element type.
    pub element: Element,
    /// Its byte order (meaningless, and [`ByteOrder::NATIVE`], for 1-byte elements).
    pub byte_order: ByteOrder,
}

/// Why a `descr` string is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DescrError {
    /// NumPy knows this dtype, but `gradient` cannot take it; the reason in NumPy's words.
    Unsupported(&'static str),
    /// Not a dtype NumPy would read.
    Invalid,
}

impl Descr {
    /// A native-order descr of `element`.
    pub fn native(element: Element) -> Descr {
        Descr {
            element,
            byte_order: ByteOrder::NATIVE,
        }
    }

    /// Parse a `descr` string as `numpy.dtype` would.
    pub fn parse(text: &str) -> Result<Descr, DescrError> {
        let (order, body) = match text.chars().next() {
            Some('<') => (Some(ByteOrder::Little), &text[1..]),
            Some('>') => (Some(ByteOrder::Big), &text[1..]),
            Some('=' | '|') => (Some(ByteOrder::NATIVE), &text[1..]),
            _ => (None, text),
        };
        let element = if order.is_none()
            && let Some(e) = Element::of_name(body)
        {
            e
        } else {
            Self::code(body, order.is_none())?
        };
        let byte_order = match (element.size(), order) {
            (1, _) | (_, None) => ByteOrder::NATIVE,
            (_, Some(o)) => o,
        };
        Ok(Descr {
            element,
            byte_order,
        })
    }

    /// A one-letter code or a kind and a size (`f8`, `f08`, `c16`).
    fn code(body: &str, bare: bool) -> Result<Element, DescrError> {
        let mut chars = body.chars();
        let Some(first) = chars.next() else {
            return Err(DescrError::Invalid);
        };
        let digits = chars.as_str();
        if digits.is_empty() {
            if let Some(e) = Element::of_char(first) {
                return Ok(e);
            }
        } else if digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 6 {
            let size: usize = digits.parse().map_err(|_| DescrError::Invalid)?;
            if let Some(e) = Element::of_kind(first, size) {
                return Ok(e);
            }
            match (first, size) {
                ('f', 16) => return Err(DescrError::Unsupported("float128: extended precision")),
                ('c', 32) => return Err(DescrError::Unsupported("complex256: extended precision")),
                _ => {}
            }
        }
        Err(match (first, digits.is_empty()) {
            ('g', true) => DescrError::Unsupported("float128: extended precision"),
            ('G', true) => DescrError::Unsupported("complex256: extended precision"),
            ('S' | 'a' | 'c', _) => DescrError::Unsupported("bytes"),
            ('U', _) => DescrError::Unsupported("str"),
            ('V', _) => DescrError::Unsupported("void: raw bytes"),
            ('O', true) => DescrError::Unsupported("object"),
            ('M', _) => DescrError::Unsupported("datetime64"),
            ('m', _) => DescrError::Unsupported("timedelta64"),
            _ if bare => Self::unsupported_name(body).ok_or(DescrError::Invalid)?,
            _ => DescrError::Invalid,
        })
    }

    fn unsupported_name(name: &str) -> Option<DescrError> {
        let why = match name {
            "longdouble" | "float128" => "float128: extended precision",
            "clongdouble" | "complex256" => "complex256: extended precision",
            "str" | "str_" | "unicode" => "str",
            "bytes" | "bytes_" => "bytes",
            "object" | "object_" => "object",
            "void" => "void: raw bytes",
            _ if name.starts_with("datetime64") => "datetime64",
            _ if name.starts_with("timedelta64") => "timedelta64",
            _ => return None,
        };
        Some(DescrError::Unsupported(why))
    }
}

impl fmt::Display for Descr {
    /// NumPy's own spelling: `'<f8'`, `'>c16'`, `'|u1'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = match (self.element.size(), self.byte_order) {
            (1, _) => '|',
            (_, ByteOrder::Little) => '<',
            (_, ByteOrder::Big) => '>',
        };
        write!(f, "{order}{}", self.element.code())
    }
}
