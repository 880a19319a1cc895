//! `oxla derivative`: read a `.npy` array, take one finite-difference
//! derivative of it with [`oxla::fd::derivative`], and write the result,
//! all or nothing.
//!
//! Every argument rule is the library's ([`oxla::fd::FdSpec`]), checked on
//! the input's header before its data is read; this module turns words
//! into a [`Derivative`] and adds file names to the errors. The output
//! keeps the input's layout as `gradient`'s does (Fortran order, the byte
//! order of float inputs), computed on the mirrored C-order view.

use std::io::Write;
use std::path::Path;

use oxla::fd::{Boundary, Derivative, FdError};
use oxla::{Spacing, Tensor};
use oxla_npy::escape;

use crate::args::SpacingArg;
use crate::commands::gradient::read_tensor;
use crate::derivative_args::DerivativeArgs;
use crate::error::CliError;
use crate::input::InputArray;
use crate::output::OutputSet;

/// Run the command; report the file written as one line on `out`.
pub fn run(args: &DerivativeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut input = InputArray::open(&args.input)?;
    let spacing_arg = SpacingArg::parse(&args.spacing);
    let spacing = match &spacing_arg {
        SpacingArg::Step(h) => Spacing::Scalar(*h),
        SpacingArg::File(path) => Spacing::Array(read_tensor(path)?),
    };
    let shape = input.header.shape.clone();
    let ndim = shape.len() as i64;
    let d = Derivative {
        axis: args.axis,
        order: args.order,
        accuracy: args.accuracy,
        spacing,
        boundary: if args.periodic {
            Boundary::Periodic {
                period: args.period,
            }
        } else {
            Boundary::OneSided
        },
    };
    let shape_text = input.header.shape_text();
    let failed = |source: oxla::Error| CliError::Derivative {
        input: args.input.clone(),
        shape: shape_text.clone(),
        context: spacing_context(&source, &spacing_arg),
        source: Box::new(source),
    };
    // Every argument, on the header alone.
    oxla::fd::derivative(&Tensor::parameter(&shape, input.dtype()), &d).map_err(failed)?;

    // The data in memory order: a Fortran-order file is the C-order array
    // of the reversed shape, differentiated along the mirrored axis.
    let axis = if args.axis < 0 {
        args.axis + ndim
    } else {
        args.axis
    };
    let memory_axis = if input.mirrored() {
        ndim - 1 - axis
    } else {
        axis
    };
    let rows = input.memory_shape().first().copied().unwrap_or(1);
    let f = input.read_rows(0..rows)?;
    let d = Derivative {
        axis: memory_axis,
        ..d
    };
    let result = oxla::fd::derivative(&f, &d)
        .and_then(|t| oxla::eval(&[t]))
        .map_err(failed)?
        .remove(0);

    let (dir, name) = split(&args.out);
    let mut staged = OutputSet::create(dir, &[name])?;
    let header = input.output_header(input.dtype());
    let path = staged.path(0).to_path_buf();
    let write_error = |source| CliError::Output {
        path: path.clone(),
        source,
    };
    staged
        .file(0)
        .write_all(&header.encode())
        .map_err(write_error)?;
    oxla_npy::write_data(staged.file(0), &result, header.descr).map_err(write_error)?;
    let written = staged.commit()?;
    for path in &written {
        writeln!(
            out,
            "wrote {} ({}, shape {})",
            escape(&path.display().to_string()),
            input.dtype().numpy_name(),
            input.header.shape_text()
        )?;
    }
    Ok(())
}

/// The directory and file name of `--out` (a bare name is in the current directory).
fn split(out: &Path) -> (&Path, String) {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// Name the `--spacing` file an error is about, if it came from one.
fn spacing_context(err: &oxla::Error, spacing: &SpacingArg) -> String {
    let about_coordinates = matches!(
        err,
        oxla::Error::Fd(
            FdError::SpacingNotOneDimensional { .. }
                | FdError::CoordinateLengthMismatch { .. }
                | FdError::ComplexSpacing { .. }
                | FdError::NonFiniteCoordinate { .. }
                | FdError::CoordinatesNotIncreasing { .. }
                | FdError::InvalidStep { .. }
        )
    );
    match spacing {
        SpacingArg::File(path) if about_coordinates => {
            format!(" [--spacing {}]", path.display())
        }
        _ => String::new(),
    }
}
