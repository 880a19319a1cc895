//! [`Header`]: the dict at the start of a `.npy` file, read with NumPy's
//! rules and written exactly as `numpy.save` writes it.

use crate::NpyError;
use crate::descr::{Descr, DescrError};
use crate::escape::escape;
use crate::literal::{self, Dialect, Literal};

/// Longest header accepted: NumPy's default `max_header_size`.
pub const MAX_HEADER_LEN: u64 = 10_000;

/// Most dimensions an array may have (NumPy's `NPY_MAXDIMS`).
pub const MAX_DIMS: usize = 64;

/// The `.npy` format versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 1.0: a 2-byte header length, latin-1 text.
    V1,
    /// 2.0: a 4-byte header length, latin-1 text.
    V2,
    /// 3.0: a 4-byte header length, UTF-8 text.
    V3,
}

impl Version {
    /// Bytes of the header-length field.
    pub fn length_bytes(self) -> usize {
        match self {
            Version::V1 => 2,
            Version::V2 | Version::V3 => 4,
        }
    }
}

/// A checked `.npy` header.
///
/// ```
/// use oxla_npy::{Descr, Element, Header, Version};
/// let h = Header::parse("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 4), }", Version::V1)?;
/// assert_eq!((h.shape.as_slice(), h.fortran_order), (&[3, 4][..], true));
/// assert_eq!(h.memory_shape(), vec![4, 3]); // the data is column-major
/// let bytes = Header::new(Descr::native(Element::F64), vec![3, 4], false).encode();
/// assert_eq!(bytes.len() % 64, 0); // numpy.save aligns the data to 64 bytes
/// # Ok::<(), oxla_npy::NpyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Element type and byte order.
    pub descr: Descr,
    /// True if the data is stored in column-major (Fortran) order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<usize>,
}

impl Header {
    /// A header for data of `shape`, stored in `fortran_order` or not.
    pub fn new(descr: Descr, shape: Vec<usize>, fortran_order: bool) -> Header {
        Header {
            descr,
            fortran_order,
            shape,
        }
    }

    /// Parse and check the header text of a file of format `version`,
    /// with NumPy's rules and in NumPy's order: a dict with exactly the keys
    /// `descr`, `fortran_order` and `shape` (a duplicated key: the last one
    /// wins, as in Python), `shape` a tuple of integers, `fortran_order` a
    /// bool, `descr` a dtype NumPy reads; then at most [`MAX_DIMS`]
    /// non-negative dimensions whose data fits in memory addresses.
    /// The work is linear in the text's length.
    pub fn parse(text: &str, version: Version) -> Result<Header, NpyError> {
        let dialect = match version {
            Version::V1 | Version::V2 => Dialect::AllowLongSuffix,
            Version::V3 => Dialect::Python3,
        };
        let value = literal::parse(text, dialect)
            .result
            .map_err(|why| NpyError::Syntax(escape(&why).into_owned()))?;
        let Literal::Dict(items) = value else {
            return Err(malformed(format!(
                "Header is not a dictionary: {}",
                value.repr(80)
            )));
        };
        let (descr, fortran_order, shape) = three_keys(&items)?;
        let Literal::Tuple(dims) = shape else {
            return Err(malformed(format!("shape is not valid: {}", shape.repr(80))));
        };
        if dims.iter().any(|d| !matches!(d, Literal::Int(_))) {
            return Err(malformed(format!("shape is not valid: {}", shape.repr(80))));
        }
        let Literal::Bool(fortran_order) = *fortran_order else {
            return Err(malformed(format!(
                "fortran_order is not a valid bool: {}",
                fortran_order.repr(80)
            )));
        };
        let descr = parse_descr(descr)?;
        if dims.len() > MAX_DIMS {
            return Err(NpyError::TooManyDimensions(dims.len()));
        }
        let overflow = || NpyError::Overflow {
            shape: shape.repr(200),
        };
        let mut checked = Vec::with_capacity(dims.len());
        for d in dims {
            let Literal::Int(d) = d else {
                unreachable!("checked above")
            };
            let d = d
                .filter(|d| i64::try_from(*d).is_ok())
                .ok_or_else(overflow)?;
            if d < 0 {
                return Err(malformed("negative dimensions are not allowed".into()));
            }
            checked.push(usize::try_from(d).map_err(|_| overflow())?);
        }
        let header = Header::new(descr, checked, fortran_order);
        header.checked_data_bytes().ok_or_else(overflow)?;
        Ok(header)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of data, if the element count and byte count fit in an `isize`
    /// (the most any allocation can hold); every parsed header does.
    pub fn checked_data_bytes(&self) -> Option<u64> {
        let len = self
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        let bytes = len.checked_mul(self.descr.element.size())?;
        isize::try_from(bytes).ok()?;
        u64::try_from(bytes).ok()
    }

    /// The shape of the data as laid out in the file: `shape`, reversed
    /// for Fortran order (whose data is the C-order data of the reversed shape).
    pub fn memory_shape(&self) -> Vec<usize> {
        let mut s = self.shape.clone();
        if self.fortran_order {
            s.reverse();
        }
        s
    }

    /// The shape as NumPy prints it: `()`, `(5,)`, `(4, 5)`.
    pub fn shape_text(&self) -> String {
        shape_text(&self.shape)
    }

    /// The whole prelude (magic, version, length, header, padding) exactly
    /// as `numpy.save` writes it: the dict's keys sorted, the shape's
    /// growth padding (`numpy.lib.format.GROWTH_AXIS_MAX_DIGITS`), spaces
    /// up to a 64-byte boundary and a newline; format 1.0 unless the header
    /// needs the 4-byte length of 2.0.
    pub fn encode(&self) -> Vec<u8> {
        const ARRAY_ALIGN: usize = 64;
        const GROWTH_AXIS_MAX_DIGITS: usize = 21;
        let mut dict = format!(
            "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
            self.descr,
            if self.fortran_order { "True" } else { "False" },
            self.shape_text()
        );
        let growth_axis = if self.fortran_order {
            self.shape.last()
        } else {
            self.shape.first()
        };
        if let Some(d) = growth_axis {
            let digits = d.to_string().len();
            dict.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
        }
        let hlen = dict.len() + 1; // the final newline
        let padded = |len_bytes: usize| hlen + ARRAY_ALIGN - (8 + len_bytes + hlen) % ARRAY_ALIGN;
        // numpy.save tries format 1.0 first; 2.0 when the length needs 4 bytes
        let (version, len_bytes) = if padded(2) <= usize::from(u16::MAX) {
            (1u8, 2)
        } else {
            (2u8, 4)
        };
        let padlen = ARRAY_ALIGN - (8 + len_bytes + hlen) % ARRAY_ALIGN;
        let total = hlen + padlen;
        let mut out = Vec::with_capacity(8 + len_bytes + total);
        out.extend_from_slice(b"\x93NUMPY");
        out.extend_from_slice(&[version, 0]);
        if len_bytes == 2 {
            out.extend_from_slice(&(total as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(total as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(out.len() + padlen, b' ');
        out.push(b'\n');
        out
    }
}

/// A shape as NumPy prints it: `()`, `(5,)`, `(4, 5)`.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn malformed(why: String) -> NpyError {
    NpyError::Malformed(why)
}

/// The values of `descr`, `fortran_order` and `shape` (the last of each,
/// as a Python dict keeps), if those are exactly the keys.
fn three_keys(items: &[(Literal, Literal)]) -> Result<(&Literal, &Literal, &Literal), NpyError> {
    let mut found: [Option<&Literal>; 3] = [None; 3];
    let mut extra = false;
    for (k, v) in items {
        match k {
            Literal::Str(s) if s == "descr" => found[0] = Some(v),
            Literal::Str(s) if s == "fortran_order" => found[1] = Some(v),
            Literal::Str(s) if s == "shape" => found[2] = Some(v),
            _ => extra = true,
        }
    }
    match found {
        [Some(d), Some(f), Some(s)] if !extra => Ok((d, f, s)),
        _ => {
            let mut keys: Vec<String> = Vec::new();
            for (k, _) in items {
                let r = k.repr(40);
                if !keys.contains(&r) {
                    keys.push(r);
                }
            }
            keys.sort();
            Err(malformed(format!(
                "Header does not contain the correct keys: [{}] (NumPy needs exactly 'descr', 'fortran_order' and 'shape')",
                keys.join(", ")
            )))
        }
    }
}

fn parse_descr(descr: &Literal) -> Result<Descr, NpyError> {
    let invalid = || {
        malformed(format!(
            "descr is not a valid dtype descriptor: {}",
            descr.repr(80)
        ))
    };
    match descr {
        Literal::Str(s) => Descr::parse(s).map_err(|e| match e {
            DescrError::Unsupported(kind) => NpyError::UnsupportedDType {
                descr: descr.repr(80),
                kind: kind.to_owned(),
            },
            DescrError::Invalid => invalid(),
        }),
        Literal::List(_) => Err(NpyError::UnsupportedDType {
            descr: descr.repr(80),
            kind: "structured".to_owned(),
        }),
        Literal::Tuple(_) => Err(NpyError::UnsupportedDType {
            descr: descr.repr(80),
            kind: "subarray".to_owned(),
        }),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descr::{ByteOrder, Element};

    fn parse(text: &str) -> Result<Header, String> {
        Header::parse(text, Version::V1).map_err(|e| e.to_string())
    }

    const OK: &str = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";

    #[test]
    fn numpys_header_is_read() {
        let h = parse(OK).unwrap();
        assert_eq!(
            h,
            Header::new(
                Descr {
                    element: Element::F64,
                    byte_order: ByteOrder::Little
                },
                vec![2],
                false
            )
        );
    }

    /// Each row was checked against `numpy.load` (NumPy 2.4).
    #[test]
    fn numpys_rules_are_kept() {
        let shape = |text: &str| parse(text).map(|h| h.shape);
        assert_eq!(
            shape("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}"),
            Ok(vec![3])
        );
        assert_eq!(
            shape("{'descr': u'<f8', 'fortran_order': False, 'shape': (0x2,)}"),
            Ok(vec![2])
        );
        assert_eq!(
            shape("{'descr': '<' 'f8', 'fortran_order': False, 'shape': ((2), +1)}"),
            Ok(vec![2, 1])
        );
        assert_eq!(
            shape("{\"descr\": '=f8', # c\n 'fortran_order': False, 'shape': (1_0,)}\r\n"),
            Ok(vec![10])
        );
        assert_eq!(
            shape("{'descr': '|f8', 'fortran_order': False, 'shape': ()} \x0c"),
            Ok(vec![])
        );
        let dims64 = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({})}}",
            "1,".repeat(64)
        );
        assert_eq!(shape(&dims64).map(|s| s.len()), Ok(64));
        assert_eq!(
            Header::parse(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,)}",
                Version::V2
            )
            .map(|h| h.shape)
            .ok(),
            Some(vec![2])
        );
        for (bad, named) in [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                "correct keys: ['descr', 'fortran_order', 'shape', 'x']",
            ),
            ("{'descr': '<f8', 'shape': (2,)}", "correct keys"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (True, 2)}",
                "shape is not valid: (True, 2)",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [2]}",
                "shape is not valid: [2]",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}",
                "shape is not valid",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
                "fortran_order is not a valid bool: 0",
            ),
            (
                "{'descr': b'<f8', 'fortran_order': False, 'shape': (2,)}",
                "descr is not a valid dtype descriptor: b'<f8'",
            ),
            (
                "{'descr': '<float64', 'fortran_order': False, 'shape': (2,)}",
                "not a valid dtype",
            ),
            (
                "{'descr': '<U5', 'fortran_order': False, 'shape': (2,)}",
                "unsupported dtype '<U5' (str)",
            ),
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}",
                "structured",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
                "negative dimensions",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "more data than",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                "more data than",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,)}",
                "Cannot parse header",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (02,)}",
                "Cannot parse header",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\0",
                "Cannot parse header",
            ),
            ("[1, 2]", "not a dictionary: [1, 2]"),
        ] {
            let e = Header::parse(bad, Version::V3).unwrap_err().to_string();
            assert!(e.contains(named), "{bad}: {e}");
        }
        let dims65 = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({})}}",
            "1,".repeat(65)
        );
        assert!(
            parse(&dims65)
                .unwrap_err()
                .contains("currently 64, found 65")
        );
    }

    #[test]
    fn messages_quote_the_header_escaped() {
        let e =
            parse("{'descr': '\x1b[2J\x07', 'fortran_order': False, 'shape': (2,)}").unwrap_err();
        assert!(!e.chars().any(|c| c.is_control()), "{e:?}");
        let e = parse("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\x1b").unwrap_err();
        assert!(!e.chars().any(|c| c.is_control()), "{e:?}");
    }

    /// Byte-for-byte equality with numpy.save is checked on NumPy's own
    /// output in `tests/numpy_fixtures.rs`; this checks the round trip.
    #[test]
    fn encoded_headers_read_back() {
        for shape in [
            vec![],
            vec![5],
            vec![3, 4, 5],
            vec![1; 64],
            vec![usize::MAX >> 4, 0],
        ] {
            for fortran in [false, true] {
                let bytes =
                    Header::new(Descr::native(Element::C64), shape.clone(), fortran).encode();
                assert_eq!(bytes.len() % 64, 0);
                let back =
                    Header::parse(std::str::from_utf8(&bytes[10..]).unwrap(), Version::V1).unwrap();
                assert_eq!((back.shape, back.fortran_order), (shape.clone(), fortran));
            }
        }
    }
}
