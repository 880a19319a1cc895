//! `oxla gradient`: read the `.npy` inputs, call `gradient`, and write one
//! `.npy` per axis, all or nothing, each byte for byte what
//! `numpy.save(path, numpy.gradient(numpy.load(input), ...))` writes.
//!
//! Every argument rule (axis range, repeats, spacing count and shapes, edge
//! order, axis length, booleans) is the library's: this module only turns
//! words into [`Spacing`]/[`Axes`] values and adds file names to the errors.
//! The arguments are checked on the input's header alone, before its data
//! is read. Then the run is planned: one slab if it fits in memory (the
//! limit given with `--memory-limit`, else the memory available), slabs
//! otherwise ([`crate::slabs`]); either way the results are the same bytes.
//!
//! NumPy's layout rules are kept: `numpy.gradient` returns arrays laid out
//! like its input (`empty_like`), so a Fortran-order input gives
//! Fortran-order outputs, and a big-endian float input big-endian outputs.
//! A Fortran-order array is differentiated as the C-order array of the
//! reversed shape, along the mirrored axes, without a copy.

use std::io::Write;
use std::path::Path;

use oxla::{Axes, GradientError, Spacing, Tensor};
use oxla_npy::escape;

use crate::args::{GradientArgs, SpacingArg};
use crate::error::CliError;
use crate::input::InputArray;
use crate::memory;
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::slabs::{self, Call, RowCost, SlabPlan};

/// Run the command; report each file written as one line on `out`.
pub fn run(args: &GradientArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let limit = match &args.memory_limit {
        Some(text) => Some(memory::parse_size(text).ok_or_else(|| {
            CliError::Usage(format!(
                "--memory-limit {text:?} is not a size (write e.g. 512MiB, 4GiB or 2e9)"
            ))
        })?),
        None => None,
    };
    let mut input = InputArray::open(&args.input)?;
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

    // Check every argument on the header alone, in the user's axis terms.
    let shape = input.header.shape.clone();
    let planned = Tensor::parameter(&shape, input.dtype());
    let outputs =
        oxla::numpy::gradient(&planned, &spacing, axes, args.edge_order).map_err(|source| {
            CliError::Gradient {
                input: args.input.clone(),
                shape: input.header.shape_text(),
                context: spacing_context(&source, &spacing_args),
                source: Box::new(source),
            }
        })?;
    if outputs.is_empty() {
        // A 0-d array has no axes: NumPy returns an empty list.
        let _ = writeln!(
            std::io::stderr(),
            "oxla: note: {} is 0-d, so it has no gradient; nothing written",
            escape(&args.input.display().to_string())
        );
        return Ok(());
    }

    let axis_numbers = output_axes(&args.axis, shape.len());
    let plan = plan(&input, outputs.len(), limit)?;
    let names: Vec<String> = axis_numbers
        .iter()
        .map(|a| format!("grad_axis{a}.npy"))
        .collect();
    let mut staged = OutputSet::create(&args.out_dir, &names)?;
    staged.sync_to_disk(args.fsync);
    let call = Call {
        spacing: &spacing,
        axes: memory_axes(&axis_numbers, shape.len(), input.mirrored()),
        edge_order: args.edge_order,
    };
    let total = input.memory_shape().first().map_or(0, |&n| n as u64) * input.row_bytes_in_file();
    let mut progress = Progress::new(total, plan.count() > 1);
    slabs::run(&mut input, &plan, &call, &mut staged, &mut progress)?;
    let written = staged.commit()?;
    let dtype = input.dtype().numpy_name();
    for path in &written {
        writeln!(
            out,
            "wrote {} ({dtype}, shape {})",
            escape(&path.display().to_string()),
            input.header.shape_text()
        )?;
    }
    Ok(())
}

/// One slab if the run fits (within the limit given, or the memory
/// available); slabs within the limit otherwise, announced on stderr when
/// the user did not ask for them.
fn plan(input: &InputArray, outputs: usize, limit: Option<u64>) -> Result<SlabPlan, CliError> {
    let rows = input.memory_shape().first().copied().unwrap_or(1);
    let cost = RowCost::of(input, outputs);
    match limit {
        Some(limit) => SlabPlan::within(limit, rows, cost, true),
        None => {
            let needed = slabs::OVERHEAD_BYTES + rows as u64 * (cost.input + cost.outputs);
            match memory::available() {
                Some(available) if needed > available => {
                    // leave half of it: the address space also holds the
                    // threads' stacks and the allocator's arenas, and the
                    // page cache serves the reads and writes
                    let limit = available / 2;
                    let plan = SlabPlan::within(limit, rows, cost, false)?;
                    slabs::announce(
                        &format!(
                            "the input and outputs need {}, more than the {} available",
                            memory::human(needed),
                            memory::human(available)
                        ),
                        &plan,
                        limit,
                    );
                    Ok(plan)
                }
                _ => Ok(SlabPlan::whole(rows)),
            }
        }
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

/// The same axes in the memory shape: `a`, or `ndim - 1 - a` when mirrored.
fn memory_axes(axes: &[i64], ndim: usize, mirrored: bool) -> Vec<usize> {
    axes.iter()
        .map(|&a| {
            if mirrored {
                ndim - 1 - a as usize
            } else {
                a as usize
            }
        })
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

    #[test]
    fn mirrored_axes_count_from_the_other_end() {
        assert_eq!(memory_axes(&[0, 1, 2], 3, true), vec![2, 1, 0]);
        assert_eq!(memory_axes(&[2, 0], 3, true), vec![0, 2]);
        assert_eq!(memory_axes(&[2, 0], 3, false), vec![2, 0]);
    }
}
