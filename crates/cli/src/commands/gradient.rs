//! `oxla gradient`: read the `.npy` inputs, call [`oxla::numpy::gradient`],
//! evaluate, and write one `.npy` per axis, all or nothing.
//!
//! Every argument rule (axis range, repeats, spacing count and shapes, edge
//! order, axis length, booleans) is the library's: this module only turns
//! words into [`Spacing`]/[`Axes`] values and adds file names to the errors.

use std::io::Write;
use std::path::Path;

use oxla::{ArrayValue, Axes, GradientError, Spacing, Tensor};

use crate::args::{GradientArgs, SpacingArg};
use crate::error::CliError;
use crate::npy::{self, numpy_shape};
use crate::output;

/// Run the command; report each file written as one line on `out`.
pub fn run(args: &GradientArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let f = read_tensor(&args.input)?;
    let shape = f.shape().to_vec();

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
        shape: numpy_shape(&shape),
        context: spacing_context(&source, &spacing_args),
        source: Box::new(source),
    };
    let outputs =
        oxla::numpy::gradient(&f, &spacing, axes, args.edge_order).map_err(gradient_error)?;
    let values = oxla::eval(&outputs).map_err(gradient_error)?;

    if values.is_empty() {
        // A 0-d array has no axes: NumPy returns an empty list.
        let _ = writeln!(
            std::io::stderr(),
            "oxla: note: {} is 0-d, so it has no gradient; nothing written",
            args.input.display()
        );
        return Ok(());
    }

    // The library has validated the axes; name each output by its axis.
    let axis_numbers = output_axes(&args.axis, shape.len());
    let files: Vec<(String, &ArrayValue)> = axis_numbers
        .iter()
        .zip(&values)
        .map(|(a, v)| (format!("grad_axis{a}.npy"), v))
        .collect();
    let written = output::write_all(&args.out_dir, &files)?;
    for (path, value) in written.iter().zip(&values) {
        writeln!(
            out,
            "wrote {} ({}, shape {})",
            path.display(),
            value.dtype().numpy_name(),
            numpy_shape(value.shape())
        )?;
    }
    Ok(())
}

/// Read a `.npy` file and apply the library's entry rules (ints to f64,
/// booleans rejected), naming the file in any error.
fn read_tensor(path: &Path) -> Result<Tensor, CliError> {
    let host = npy::read(path).map_err(|e| CliError::input(path, e))?;
    Tensor::from_host(host).map_err(|source| CliError::Rejected {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
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
}
