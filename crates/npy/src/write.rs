//! Writing: `numpy.save`'s exact bytes, in large writes.

use std::io::{self, Write};

use oxla_ir::{ArrayValue, DType, with_array};

use crate::descr::{ByteOrder, Descr, Element};
use crate::header::Header;
use crate::read::swap_units;

/// Bytes converted per write when the data must be byte-swapped.
const SWAP_CHUNK_BYTES: usize = 1 << 20;

/// The `.npy` element type of a result dtype.
pub fn element_of(dtype: DType) -> Element {
    match dtype {
        DType::F16 => Element::F16,
        DType::F32 => Element::F32,
        DType::F64 => Element::F64,
        DType::C64 => Element::C64,
        DType::C128 => Element::C128,
    }
}

/// Write a whole `.npy` file: `header`'s prelude, then `data`, which holds
/// the elements in memory order (a C-order array of
/// [`Header::memory_shape`]) and must match the header's element type and
/// length. The bytes are `numpy.save`'s for the same array.
///
/// ```
/// use oxla_npy::{read_data, read_prelude, write_npy, ByteOrder, Descr, Header};
/// use oxla_ir::{ArrayValue, HostArray};
/// let data = ArrayValue::from(ndarray::arr1(&[1.5f32, -2.0]).into_dyn());
/// let header = Header::new(Descr { byte_order: ByteOrder::Big, ..Descr::native(oxla_npy::Element::F32) }, vec![2], false);
/// let mut file = Vec::new();
/// write_npy(&mut file, &header, &data)?;
/// let prelude = read_prelude(&mut &file[..], file.len() as u64)?;
/// let HostArray::F32(back) = read_data(&mut &file[prelude.data_offset as usize..], &prelude.header)? else { panic!() };
/// assert_eq!(back.as_slice(), Some(&[1.5f32, -2.0][..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_npy(w: &mut impl Write, header: &Header, data: &ArrayValue) -> io::Result<()> {
    if element_of(data.dtype()) != header.descr.element || data.len() != header.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "data of {} x {} does not match the header's {} x {}",
                data.len(),
                data.dtype(),
                header.len(),
                header.descr
            ),
        ));
    }
    w.write_all(&header.encode())?;
    write_data(w, data, header.descr)
}

/// Write `data`'s elements in memory order, as `descr` says (its element
/// type must be the data's): one `write_all` of the buffer itself in
/// native order, else byte-swapped copies of up to 1 MiB.
pub fn write_data(w: &mut impl Write, data: &ArrayValue, descr: Descr) -> io::Result<()> {
    let standard;
    let data = if data.is_standard_layout() {
        data
    } else {
        standard = data.to_standard_layout();
        &standard
    };
    let bytes: &[u8] = with_array!(data, |a: T| bytemuck::cast_slice(
        a.as_slice().unwrap_or_default()
    ));
    if descr.byte_order == ByteOrder::NATIVE || descr.element.size() == 1 {
        return w.write_all(bytes);
    }
    let unit = descr.element.swap_unit();
    let mut chunk = Vec::with_capacity(SWAP_CHUNK_BYTES.min(bytes.len()));
    for part in bytes.chunks(SWAP_CHUNK_BYTES) {
        chunk.clear();
        chunk.extend_from_slice(part);
        swap_units(&mut chunk, unit);
        w.write_all(&chunk)?;
    }
    Ok(())
}
