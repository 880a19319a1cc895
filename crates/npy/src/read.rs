//! Reading: the prelude first, checked against the file size before
//! anything is allocated; then the data in one large read into one
//! fallibly reserved buffer.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use bytemuck::Pod;
use half::f16;
use ndarray::{ArrayD, IxDyn};
use num_complex::{Complex32, Complex64};
use oxla_ir::HostArray;

use crate::NpyError;
use crate::descr::{ByteOrder, Descr, Element};
use crate::escape::escape;
use crate::header::{Header, MAX_HEADER_LEN, Version};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// A file's header and where its data starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prelude {
    /// The format version.
    pub version: Version,
    /// The checked header.
    pub header: Header,
    /// Offset of the first data byte from the start of the file.
    pub data_offset: u64,
}

/// Read a whole `.npy` file: its header and its data, in the file's own
/// dtype and in memory order (see [`read_data`]).
pub fn read_file(path: &Path) -> Result<(Header, HostArray), NpyError> {
    let mut file = open(path)?;
    let len = file.metadata().map_err(NpyError::Read)?.len();
    let prelude = read_prelude(&mut file, len)?;
    let data = read_data(&mut file, &prelude.header)?;
    Ok((prelude.header, data))
}

/// Open `path` for reading, refusing directories.
pub fn open(path: &Path) -> Result<File, NpyError> {
    let file = File::open(path).map_err(NpyError::Open)?;
    if file.metadata().map_err(NpyError::Read)?.is_dir() {
        return Err(NpyError::Directory);
    }
    Ok(file)
}

/// Read and check the prelude of a `.npy` stream of `file_len` bytes,
/// leaving `r` at the first data byte. Nothing larger than the header
/// itself (at most [`MAX_HEADER_LEN`] bytes) is allocated, the parse is
/// linear in the header's length, and the data the shape claims is checked
/// against the bytes left in the file.
pub fn read_prelude(r: &mut impl Read, file_len: u64) -> Result<Prelude, NpyError> {
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
    let version = match (magic[6], magic[7]) {
        (1, 0) => Version::V1,
        (2, 0) => Version::V2,
        (3, 0) => Version::V3,
        (major, minor) => return Err(NpyError::Version(major, minor)),
    };
    let len_bytes = version.length_bytes();
    let mut len_field = [0u8; 4];
    if read_up_to(r, &mut len_field[..len_bytes])? < len_bytes {
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
    let text = match version {
        Version::V3 => String::from_utf8(text)
            .map_err(|_| NpyError::Syntax("the header is not valid UTF-8".into()))?,
        // Versions 1 and 2 are latin-1: every byte is one character.
        Version::V1 | Version::V2 => text.iter().map(|&b| char::from(b)).collect(),
    };
    let header = Header::parse(&text, version)?;
    let expected = header
        .checked_data_bytes()
        .ok_or_else(|| NpyError::Overflow {
            shape: header.shape_text(),
        })?;
    let available = file_len - data_offset;
    if expected > available {
        return Err(NpyError::TruncatedData {
            shape: header.shape_text(),
            descr: escape(&header.descr.to_string()).into_owned(),
            expected,
            available,
        });
    }
    Ok(Prelude {
        version,
        header,
        data_offset,
    })
}

/// Read the data that follows a checked header: `header.len()` elements
/// in the file's dtype, as a C-order array of [`Header::memory_shape`]
/// (for a Fortran-order file, the reversed shape: reverse its axes for the
/// logical array). The buffer is reserved fallibly ([`NpyError::OutOfMemory`]
/// instead of an abort) and filled by one `read_exact`.
pub fn read_data(r: &mut impl Read, header: &Header) -> Result<HostArray, NpyError> {
    Ok(match header.descr.element {
        Element::Bool => {
            let bytes: ArrayD<u8> = typed(r, header)?;
            let mut flags = Vec::new();
            flags
                .try_reserve_exact(bytes.len())
                .map_err(|_| out_of_memory(bytes.len()))?;
            flags.extend(bytes.iter().map(|&b| b != 0));
            HostArray::Bool(shaped(header, flags)?)
        }
        Element::I8 => HostArray::I8(typed(r, header)?),
        Element::I16 => HostArray::I16(typed(r, header)?),
        Element::I32 => HostArray::I32(typed(r, header)?),
        Element::I64 => HostArray::I64(typed(r, header)?),
        Element::U8 => HostArray::U8(typed(r, header)?),
        Element::U16 => HostArray::U16(typed(r, header)?),
        Element::U32 => HostArray::U32(typed(r, header)?),
        Element::U64 => HostArray::U64(typed(r, header)?),
        Element::F16 => HostArray::F16(typed::<f16>(r, header)?),
        Element::F32 => HostArray::F32(typed(r, header)?),
        Element::F64 => HostArray::F64(typed(r, header)?),
        Element::C64 => HostArray::C64(typed::<Complex32>(r, header)?),
        Element::C128 => HostArray::C128(typed::<Complex64>(r, header)?),
    })
}

/// Fill `out` with the next `out.len()` elements of a stream of `descr`
/// elements (`T` must be the element's type): one `read_exact` into its
/// bytes, then a byte swap in place if the file's order is not native.
pub fn read_into<T: Pod>(r: &mut impl Read, out: &mut [T], descr: Descr) -> Result<(), NpyError> {
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(out);
    r.read_exact(bytes).map_err(NpyError::Read)?;
    to_native(bytes, descr);
    Ok(())
}

/// Turn raw `descr` elements read from a file into native byte order, in
/// place (nothing to do if the file's order is native).
pub fn to_native(bytes: &mut [u8], descr: Descr) {
    if descr.byte_order != ByteOrder::NATIVE {
        swap_units(bytes, descr.element.swap_unit());
    }
}

/// Reverse the bytes of every `unit`-byte group (no-op for 1-byte units).
pub(crate) fn swap_units(bytes: &mut [u8], unit: usize) {
    if unit > 1 {
        for group in bytes.chunks_exact_mut(unit) {
            group.reverse();
        }
    }
}

fn typed<T: Pod>(r: &mut impl Read, header: &Header) -> Result<ArrayD<T>, NpyError> {
    let len = header.len();
    let mut data: Vec<T> = Vec::new();
    data.try_reserve_exact(len)
        .map_err(|_| out_of_memory(len.saturating_mul(std::mem::size_of::<T>())))?;
    data.resize(len, T::zeroed());
    read_into(r, &mut data, header.descr)?;
    shaped(header, data)
}

fn shaped<T>(header: &Header, data: Vec<T>) -> Result<ArrayD<T>, NpyError> {
    ArrayD::from_shape_vec(IxDyn(&header.memory_shape()), data)
        .map_err(|e| NpyError::Malformed(e.to_string()))
}

fn out_of_memory(bytes: usize) -> NpyError {
    NpyError::OutOfMemory {
        bytes: bytes as u64,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descr::Descr;

    /// Data that cannot be allocated is an error, not an abort.
    #[test]
    fn an_impossible_allocation_is_an_error() {
        let header = Header::new(Descr::native(Element::F64), vec![1 << 59], false);
        let err = read_data(&mut &[][..], &header).unwrap_err();
        assert!(
            matches!(err, NpyError::OutOfMemory { bytes } if bytes == 1 << 62),
            "{err}"
        );
    }

    /// Every prefix of a valid file is an error, never a panic; any single
    /// corrupted header byte is a result or an error, never a panic.
    #[test]
    fn truncations_and_corruptions_never_panic() {
        let data = oxla_ir::ArrayValue::from(ndarray::ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| {
            i[0] as f64 - 0.5
        }));
        let mut bytes = Vec::new();
        crate::write_npy(
            &mut bytes,
            &Header::new(Descr::native(Element::F64), vec![2, 3], false),
            &data,
        )
        .unwrap();
        let read = |b: &[u8]| {
            read_prelude(&mut &b[..], b.len() as u64)
                .and_then(|p| read_data(&mut &b[p.data_offset as usize..], &p.header))
        };
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
        assert!(read(&bytes).is_ok());
        for i in 0..128 {
            for b in [0u8, b'(', b'[', b'9', b'-', b',', b'\'', b' ', 0xff, b'\\'] {
                let mut corrupt = bytes.clone();
                corrupt[i] = b;
                let _ = read(&corrupt);
            }
        }
    }

    #[test]
    fn big_endian_and_fortran_data_are_read_in_memory_order() {
        let header = Header::parse(
            "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }",
            Version::V1,
        )
        .unwrap();
        let data: Vec<u8> = (1i16..=6).flat_map(|v| v.to_be_bytes()).collect();
        let HostArray::I16(a) = read_data(&mut &data[..], &header).unwrap() else {
            panic!()
        };
        // memory order: the C-order array of the reversed shape
        assert_eq!(a, ndarray::array![[1i16, 2], [3, 4], [5, 6]].into_dyn());
        assert_eq!(
            a.reversed_axes(),
            ndarray::array![[1i16, 3, 5], [2, 4, 6]].into_dyn()
        );
    }
}
