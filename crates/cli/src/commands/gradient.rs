//! `oxla gradient`: read the `.npy` inputs, call [`oxla::numpy::gradient`],
//! evaluate, and write one `.npy` per axis, all or nothing, each byte for
//! byte what `numpy.save(path, numpy.gradient(numpy.load(input), ...))`
//! writes.
//!
//! Every argument rule (axis range, repeats, spacing count and shapes, edge
//! order, axis length, booleans) is the library's: this module only turns
//! words into [`Spacing`]/[`Axes`] values and adds file names to the errors.
//! The arguments are checked on the input's header alone, before its data
//! is read, and the memory the run needs is checked against what the
//! system has (see [`crate::memory`]).
//!
//! NumPy's layout rules are kept: `numpy.gradient` returns arrays laid out
//! like its input (`empty_like`), so a Fortran-order input gives
//! Fortran-order outputs, and a big-endian float input big-endian outputs.
//! A Fortran-order array is the C-order array of the reversed shape, so it
//! is differentiated as that, along the mirrored axes, without a copy.

use std::io::{BufWriter, Write};
use std::path::Path;

use oxla::{Axes, DType, GradientError, Spacing, Tensor};
use oxla_npy::{ByteOrder, Descr, Element, Header, escape};

use crate::args::{GradientArgs, SpacingArg};
use crate::error::CliError;
use crate::memory;
use crate::output::OutputSet;

/// Run the command; report each file written as one line on `out`.
pub fn run(args: &GradientArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut input = Input::open(&args.input)?;
    let shape_text = input.header.shape_text();
    let spacing_args: Vec<SpacingArg> = args.spacing.iter().map(SpacingArg::parse).collect();
    let spacing = spacing_args
        .iter()
        .map(|s| match s {
            SpacingArg::Step(h) => Ok(Spacing::Scalar(*h)),
            SpacingArg::File(path) => read_tensor(path).map(Spacing::Array),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let axes = if args.axis.is_empty() {
        Axes::All
    } else {
        Axes::Some(args.axis.clone())
    };
    let gradient_error = |source: oxla::Error| CliError::Gradient {
        input: args.input.clone(),
        shape: shape_text.clone(),
        context: spacing_context(&source, &spacing_args),
        source: Box::new(source),
    };

    // Check every argument on the header alone, in the user's axis terms.
    let shape = input.header.shape.clone();
    let planned = Tensor::parameter(&shape, input.dtype());
    let outputs = oxla::numpy::gradient(&planned, &spacing, axes.clone(), args.edge_order)
        .map_err(gradient_error)?;
    if outputs.is_empty() {
        // A 0-d array has no axes: NumPy returns an empty list.
        let _ = writeln!(
            std::io::stderr(),
            "oxla: note: {} is 0-d, so it has no gradient; nothing written",
            escape(&args.input.display().to_string())
        );
        return Ok(());
    }
    input.check_memory(outputs.len(), &args.input)?;

    let axis_numbers = output_axes(&args.axis, shape.len());
    let names: Vec<String> = axis_numbers
        .iter()
        .map(|a| format!("grad_axis{a}.npy"))
        .collect();
    let mut staged = OutputSet::create(&args.out_dir, &names)?;

    let (f, mirrored) = input.read()?;
    let axes = if mirrored {
        mirror(&axis_numbers, shape.len())
    } else {
        axes
    };
    let outputs =
        oxla::numpy::gradient(&f, &spacing, axes, args.edge_order).map_err(gradient_error)?;
    let values = oxla::eval(&outputs).map_err(gradient_error)?;
    drop((f, outputs));

    for (i, value) in values.iter().enumerate() {
        let header = input.output_header(value.dtype());
        let output_error = |source| CliError::Output {
            path: args.out_dir.join(&names[i]),
            source,
        };
        let mut w = BufWriter::with_capacity(1 << 16, staged.file(i));
        oxla_npy::write_npy(&mut w, &header, value).map_err(output_error)?;
        w.flush().map_err(output_error)?;
    }
    let written = staged.commit()?;
    for (path, value) in written.iter().zip(&values) {
        writeln!(
            out,
            "wrote {} ({}, shape {})",
            escape(&path.display().to_string()),
            value.dtype().numpy_name(),
            shape_text
        )?;
    }
    Ok(())
}

/// The input array: its checked header, and the file positioned at its data.
struct Input {
    path: std::path::PathBuf,
    header: Header,
    file: std::fs::File,
}

impl Input {
    fn open(path: &Path) -> Result<Input, CliError> {
        let input_error = |e| CliError::input(path, e);
        let mut file = oxla_npy::open(path).map_err(input_error)?;
        let len = file
            .metadata()
            .map_err(|e| input_error(oxla_npy::NpyError::Read(e)))?
            .len();
        let header = oxla_npy::read_prelude(&mut file, len)
            .map_err(input_error)?
            .header;
        if header.descr.element == Element::Bool {
            // refused before its data is read, with the library's reason
            return Err(CliError::Rejected {
                path: path.to_path_buf(),
                source: Box::new(oxla::IrError::BooleanInput),
            });
        }
        Ok(Input {
            path: path.to_path_buf(),
            header,
            file,
        })
    }

    /// The dtype `gradient` computes in: integers become f64.
    fn dtype(&self) -> DType {
        match self.header.descr.element {
            Element::F16 => DType::F16,
            Element::F32 => DType::F32,
            Element::C64 => DType::C64,
            Element::C128 => DType::C128,
            _ => DType::F64,
        }
    }

    /// Refuse a run whose input, converted input and outputs would not fit
    /// in the memory the system says is available.
    fn check_memory(&self, outputs: usize, path: &Path) -> Result<(), CliError> {
        let len = self.header.len() as u64;
        let file_bytes = len * self.header.descr.element.size() as u64;
        let converted = if self.dtype().size_bytes() == self.header.descr.element.size() {
            0
        } else {
            len * self.dtype().size_bytes() as u64
        };
        let needed =
            file_bytes + converted + outputs as u64 * len * self.dtype().size_bytes() as u64;
        match memory::available() {
            Some(available) if needed > available => Err(CliError::Memory {
                input: path.to_path_buf(),
                needed,
                available,
            }),
            _ => Ok(()),
        }
    }

    /// Read the data: a tensor in memory order, and whether its axes are
    /// mirrored (a Fortran-order file: the C-order array of the reversed shape).
    fn read(&mut self) -> Result<(Tensor, bool), CliError> {
        let host = oxla_npy::read_data(&mut self.file, &self.header)
            .map_err(|e| CliError::input(&self.path, e))?;
        let tensor = Tensor::from_host(host).map_err(|source| CliError::Rejected {
            path: self.path.clone(),
            source: Box::new(source),
        })?;
        Ok((tensor, self.header.fortran_order))
    }

    /// The header `numpy.save` writes for `numpy.gradient`'s result: the
    /// input's byte order for float and complex inputs (integers become
    /// native f64), and its Fortran order unless the result is also C
    /// contiguous (at most one axis longer than 1, or no elements).
    fn output_header(&self, dtype: DType) -> Header {
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

/// Read a `.npy` file and apply the library's entry rules (ints to f64,
/// booleans rejected), naming the file in any error.
fn read_tensor(path: &Path) -> Result<Tensor, CliError> {
    let (_, host) = oxla_npy::read_file(path).map_err(|e| CliError::input(path, e))?;
    // A spacing is 0-d or 1-d, where Fortran and C order are the same
    // data; any other rank is refused by its number of dimensions alone.
    let value = host.into_value().map_err(|source| CliError::Rejected {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(Tensor::literal(value))
}

/// The output axes, normalized to `0..ndim`, in output order.
fn output_axes(given: &[i64], ndim: usize) -> Vec<i64> {
    if given.is_empty() {
        return (0..ndim as i64).collect();
    }
    given
        .iter()
        .map(|&a| if a < 0 { a + ndim as i64 } else { a })
        .collect()
}

/// The same axes of the reversed shape: `a` becomes `ndim - 1 - a`.
fn mirror(axes: &[i64], ndim: usize) -> Axes {
    Axes::Some(axes.iter().map(|&a| ndim as i64 - 1 - a).collect())
}

/// Name the `--spacing` file an error is about, if it came from a file.
fn spacing_context(err: &oxla::Error, spacing: &[SpacingArg]) -> String {
    let index = match err {
        oxla::Error::Gradient(
            GradientError::SpacingNotOneDimensional { index, .. }
            | GradientError::CoordinateLengthMismatch { index, .. }
            | GradientError::ComplexSpacing { index, .. },
        ) => *index,
        _ => return String::new(),
    };
    match spacing.get(index) {
        Some(SpacingArg::File(path)) => format!(" [--spacing {}]", path.display()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_named_from_zero() {
        assert_eq!(output_axes(&[], 3), vec![0, 1, 2]);
        assert_eq!(output_axes(&[-1, 0], 3), vec![2, 0]);
    }

    #[test]
    fn mirrored_axes_count_from_the_other_end() {
        assert_eq!(mirror(&[0, 1, 2], 3), Axes::Some(vec![2, 1, 0]));
        assert_eq!(mirror(&[2, 0], 3), Axes::Some(vec![0, 2]));
    }
}
