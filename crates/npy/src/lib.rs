//! oxla-npy: NumPy `.npy` files, read with NumPy's rules and written with
//! NumPy's bytes.
//!
//! The main types and how they meet:
//!
//! - [`Header`]: `descr`, `fortran_order` and `shape`. [`Header::parse`]
//!   reads the header text with NumPy's rules (exactly three keys, the last
//!   of a duplicated key, NumPy's `descr` spellings, at most 64
//!   dimensions) through [`literal`], a Python-literal reader whose work is
//!   linear in the text's length; [`Header::encode`] writes the prelude
//!   byte for byte as `numpy.save` does.
//! - [`Descr`]: an [`Element`] type and a [`ByteOrder`].
//! - [`read_prelude`] checks a stream's prelude against its size before
//!   allocating anything; [`read_data`] then reads the elements in one
//!   large read into one fallibly reserved buffer, as an
//!   [`oxla_ir::HostArray`] in memory order; [`read_file`] does both.
//! - [`write_npy`] / [`write_data`] write an [`oxla_ir::ArrayValue`] in
//!   either byte order, in large writes.
//! - [`NpyError`]: every refusal, one line each; text quoted from a file
//!   goes through [`escape`] first, so no message carries terminal
//!   control sequences.
//!
//! ```
//! use oxla_npy::{read_data, read_prelude, write_npy, Descr, Element, Header};
//! use oxla_ir::{ArrayValue, HostArray};
//! // a 2x3 f64 array, as numpy.save writes it
//! let data = ArrayValue::from(ndarray::Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64).into_dyn());
//! let mut file = Vec::new();
//! write_npy(&mut file, &Header::new(Descr::native(Element::F64), vec![2, 3], false), &data)?;
//! assert!(file.starts_with(b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"));
//! let prelude = read_prelude(&mut &file[..], file.len() as u64)?;
//! assert_eq!(prelude.data_offset, 128);
//! let HostArray::F64(a) = read_data(&mut &file[128..], &prelude.header)? else { unreachable!() };
//! assert_eq!(a[[1, 2]], 5.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod descr;
mod error;
mod escape;
mod header;
pub mod literal;
mod read;
mod write;

pub use descr::{ByteOrder, Descr, DescrError, Element};
pub use error::NpyError;
pub use escape::escape;
pub use header::{Header, MAX_DIMS, MAX_HEADER_LEN, Version, shape_text};
pub use read::{Prelude, open, read_data, read_file, read_into, read_prelude, to_native};
pub use write::{element_of, write_data, write_npy};
