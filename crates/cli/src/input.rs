//! [`InputArray`]: the array `oxla gradient` differentiates, read a run of
//! rows at a time.
//!
//! The file's data is the C-order array of its *memory shape*: the shape,
//! reversed for a Fortran-order file. Rows are taken along the first axis
//! of that shape, so a run of rows is one contiguous read, whatever the
//! file's order; a Fortran-order array is differentiated as its mirror
//! (axis `a` of the array is axis `ndim - 1 - a` of the memory shape).

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use bytemuck::Pod;
use oxla::{ArrayElement, DType, Tensor};
use oxla_npy::{ByteOrder, Descr, Element, Header};

use crate::error::CliError;

/// An open `.npy` input: its checked header and where its data starts.
pub struct InputArray {
    path: PathBuf,
    /// The checked header.
    pub header: Header,
    file: File,
    data_offset: u64,
}

impl InputArray {
    /// Open `path` and check its header (nothing of the data is read).
    /// Booleans are refused here, with the library's reason.
    pub fn open(path: &Path) -> Result<InputArray, CliError> {
        let input_error = |e| CliError::input(path, e);
        let mut file = oxla_npy::open(path).map_err(input_error)?;
        let len = file
            .metadata()
            .map_err(|e| input_error(oxla_npy::NpyError::Read(e)))?
            .len();
        let prelude = oxla_npy::read_prelude(&mut file, len).map_err(input_error)?;
        if prelude.header.descr.element == Element::Bool {
            return Err(CliError::Rejected {
                path: path.to_path_buf(),
                source: Box::new(oxla::IrError::BooleanInput),
            });
        }
        Ok(InputArray {
            path: path.to_path_buf(),
            header: prelude.header,
            file,
            data_offset: prelude.data_offset,
        })
    }

    /// The file, as the user named it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dtype `gradient` computes in: integers become f64.
    pub fn dtype(&self) -> DType {
        match self.header.descr.element {
            Element::F16 => DType::F16,
            Element::F32 => DType::F32,
            Element::C64 => DType::C64,
            Element::C128 => DType::C128,
            _ => DType::F64,
        }
    }

    /// The shape of the data in the file (the shape, reversed for Fortran order).
    pub fn memory_shape(&self) -> Vec<usize> {
        self.header.memory_shape()
    }

    /// True if axis `a` of the array is axis `ndim - 1 - a` of the memory shape.
    pub fn mirrored(&self) -> bool {
        self.header.fortran_order
    }

    /// Elements in one row (first axis of the memory shape).
    pub fn row_elements(&self) -> usize {
        self.memory_shape().iter().skip(1).product()
    }

    /// Bytes of one row in the file.
    pub fn row_bytes_in_file(&self) -> u64 {
        (self.row_elements() * self.header.descr.element.size()) as u64
    }

    /// Rows `rows` of the memory shape, as a tensor in the compute dtype:
    /// one seek and one read, into a buffer recycled from earlier slabs.
    pub fn read_rows(&mut self, rows: Range<usize>) -> Result<Tensor, CliError> {
        let mut shape = self.memory_shape();
        if let Some(first) = shape.first_mut() {
            *first = rows.len();
        }
        let offset = self.data_offset + rows.start as u64 * self.row_bytes_in_file();
        let read_error = |e| CliError::input(&self.path, oxla_npy::NpyError::Read(e));
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(read_error)?;
        let descr = self.header.descr;
        let file = &self.file;
        let value = match descr.element {
            Element::F16 => typed::<oxla::half::f16>(file, offset, &shape, descr),
            Element::F32 => typed::<f32>(file, offset, &shape, descr),
            Element::F64 => typed::<f64>(file, offset, &shape, descr),
            Element::C64 => typed::<oxla::num_complex::Complex32>(file, offset, &shape, descr),
            Element::C128 => typed::<oxla::num_complex::Complex64>(file, offset, &shape, descr),
            _ => {
                // integers: their own dtype, then the library's f64 entry rule
                let header = Header::new(descr, shape.clone(), false);
                oxla_npy::read_data(&mut self.file, &header).and_then(|host| {
                    host.into_value()
                        .map_err(|e| oxla_npy::NpyError::Malformed(e.to_string()))
                })
            }
        }
        .map_err(|e| CliError::input(&self.path, e))?;
        Ok(Tensor::literal(value))
    }

    /// The header `numpy.save` writes for `numpy.gradient`'s result: the
    /// input's byte order for float and complex inputs (integers become
    /// native f64), and its Fortran order unless the result is also C
    /// contiguous (at most one axis longer than 1, or no elements).
    pub fn output_header(&self, dtype: DType) -> Header {
        let element = oxla_npy::element_of(dtype);
        let keeps_order = matches!(
            self.header.descr.element,
            Element::F16 | Element::F32 | Element::F64 | Element::C64 | Element::C128
        );
        let byte_order = if keeps_order {
            self.header.descr.byte_order
        } else {
            ByteOrder::NATIVE
        };
        let shape = &self.header.shape;
        let long_axes = shape.iter().filter(|&&d| d > 1).count();
        let fortran = self.header.fortran_order && long_axes >= 2 && !self.header.is_empty();
        Header::new(
            Descr {
                element,
                byte_order,
            },
            shape.clone(),
            fortran,
        )
    }
}

/// Read `shape`'s elements of a float or complex type at `offset` into a
/// recycled buffer, in parallel parts.
fn typed<T: ArrayElement + Pod>(
    file: &File,
    offset: u64,
    shape: &[usize],
    descr: Descr,
) -> Result<oxla::ArrayValue, oxla_npy::NpyError> {
    let len: usize = shape.iter().product();
    let mut data: Vec<T> = oxla::pool::try_take(len).ok_or(oxla_npy::NpyError::OutOfMemory {
        bytes: (len * std::mem::size_of::<T>()) as u64,
    })?;
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut data);
    crate::parallel_io::read_exact_at(file, bytes, offset).map_err(oxla_npy::NpyError::Read)?;
    oxla_npy::to_native(bytes, descr);
    let array = oxla::ndarray::ArrayD::from_shape_vec(oxla::ndarray::IxDyn(shape), data)
        .map_err(|e| oxla_npy::NpyError::Malformed(e.to_string()))?;
    Ok(T::wrap(array))
}
