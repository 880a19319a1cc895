//! `gradient` over slabs of the input: runs of rows along the first axis of
//! its memory shape, each read with its halo, differentiated with
//! [`oxla::numpy::gradient_block`] (bit for bit the whole array's values)
//! and appended to every output file. The in-memory run is one slab.
//!
//! [`SlabPlan::within`] sizes the slabs so that what a slab holds at once
//! (its input in the file's dtype and, for integers, in f64; its outputs)
//! stays within a memory limit. Slabs have equal sizes (within a row), so
//! every slab reuses the buffers of the one before.

use std::io::Write;
use std::ops::Range;

use oxla::{Axes, AxisWindow, EdgeOrder, Spacing};
use rayon::prelude::*;

use crate::error::CliError;
use crate::input::InputArray;
use crate::memory::human;
use crate::output::OutputSet;
use crate::progress::Progress;

/// Memory a run needs beyond its arrays: the program, its threads, the
/// allocator's and the compiled kernels' bookkeeping.
pub const OVERHEAD_BYTES: u64 = 48 << 20;

/// Most rows a slab's input holds beyond its own (its halo).
const MAX_HALO_ROWS: u64 = 2;

/// What one row of the memory shape costs in memory during a run.
#[derive(Clone, Copy, Debug)]
pub struct RowCost {
    /// Bytes of the input row as computed on (and, for integers, as read).
    pub input: u64,
    /// Bytes of all the outputs' rows.
    pub outputs: u64,
}

impl RowCost {
    /// The cost of a row of `input` with `outputs` outputs.
    pub fn of(input: &InputArray, outputs: usize) -> RowCost {
        let elements = input.row_elements() as u64;
        let compute = input.dtype().size_bytes() as u64;
        let file = input.header.descr.element.size() as u64;
        let converted = if file == compute { 0 } else { file };
        RowCost {
            input: elements * (compute + converted),
            outputs: elements * compute * outputs as u64,
        }
    }

    /// Bytes a slab of `rows` own rows holds at once.
    fn slab(&self, rows: u64) -> u64 {
        (rows + MAX_HALO_ROWS) * self.input + rows * self.outputs
    }
}

/// How the rows of the memory shape's first axis are cut into slabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlabPlan {
    rows: usize,
    per_slab: usize,
}

impl SlabPlan {
    /// One slab of all `rows`.
    pub fn whole(rows: usize) -> SlabPlan {
        SlabPlan {
            rows,
            per_slab: rows.max(1),
        }
    }

    /// Slabs of `rows` rows small enough that a run stays within `limit`
    /// bytes; an error naming the smallest workable limit if one row and
    /// its halo do not fit.
    pub fn within(
        limit: u64,
        rows: usize,
        cost: RowCost,
        given: bool,
    ) -> Result<SlabPlan, CliError> {
        let minimum = OVERHEAD_BYTES + cost.slab(1);
        if limit < minimum {
            return Err(CliError::MemoryLimit {
                limit,
                minimum,
                given,
            });
        }
        let budget = limit - OVERHEAD_BYTES;
        // the most own rows whose slab fits the budget
        let per_row = cost.input + cost.outputs;
        let fit = budget
            .saturating_sub(MAX_HALO_ROWS * cost.input)
            .checked_div(per_row)
            .unwrap_or(rows as u64);
        let fit = fit.clamp(1, rows.max(1) as u64) as usize;
        // as few slabs as fit, all of one size but the last, so that every
        // slab's buffers fit the next one's (the last is smaller)
        let slabs = rows.div_ceil(fit).max(1);
        Ok(SlabPlan {
            rows,
            per_slab: rows.div_ceil(slabs).max(1),
        })
    }

    /// Number of slabs.
    pub fn count(&self) -> usize {
        self.rows.div_ceil(self.per_slab).max(1)
    }

    /// The own rows of each slab, in order.
    pub fn slabs(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        (0..self.count()).map(|k| k * self.per_slab..((k + 1) * self.per_slab).min(self.rows))
    }

    /// The rows a slab reads: its own rows and two more (its halo, and one
    /// more where an edge leaves only one side), so that every slab but the
    /// last reads the same number of rows and reuses the same buffers. They
    /// hold every row the slab's stencils read (`block_input_rows`).
    pub fn input_rows(&self, own: Range<usize>) -> Range<usize> {
        let want = own.len() + MAX_HALO_ROWS as usize;
        let hi = (own.start.saturating_sub(1) + want).min(self.rows);
        hi.saturating_sub(want)..hi
    }
}

/// The `gradient` call, in the memory shape's terms.
pub struct Call<'a> {
    /// The spacing arguments (per selected axis, in the axes' order).
    pub spacing: &'a [Spacing],
    /// The selected axes of the memory shape, in output order.
    pub axes: Vec<usize>,
    /// 1 or 2.
    pub edge_order: i64,
}

/// Differentiate `input` slab by slab into `outputs` (headers first, then
/// every slab's rows of every output), reporting bytes read to `progress`.
pub fn run(
    input: &mut InputArray,
    plan: &SlabPlan,
    call: &Call,
    outputs: &mut OutputSet,
    progress: &mut Progress,
) -> Result<(), CliError> {
    let shape = input.memory_shape();
    let first_axis_selected = call.axes.contains(&0);
    let edge_order =
        EdgeOrder::try_from(call.edge_order).map_err(|e| gradient_error(input)(e.into()))?;
    let headers: Vec<_> = (0..call.axes.len())
        .map(|_| input.output_header(input.dtype()))
        .collect();
    let mut header_bytes = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let encoded = h.encode();
        write_output(outputs, i, &encoded)?;
        header_bytes.push(encoded.len() as u64);
    }
    let row_elements: usize = shape.iter().skip(1).product();
    let out_row_bytes: Vec<u64> = headers
        .iter()
        .map(|h| (row_elements * h.descr.element.size()) as u64)
        .collect();
    let axes = Axes::Some(call.axes.iter().map(|&a| a as i64).collect());
    for own in plan.slabs() {
        let rows = if first_axis_selected {
            plan.input_rows(own.clone())
        } else {
            own.clone()
        };
        debug_assert!({
            let needed = oxla::numpy::block_input_rows(shape[0], edge_order, own.clone());
            !first_axis_selected || (rows.start <= needed.start && needed.end <= rows.end)
        });
        let f = input.read_rows(rows.clone())?;
        let mut windows = vec![
            AxisWindow::new(shape[0], rows.clone(), own.clone())
                .map_err(|why| CliError::Usage(format!("internal: {why}")))?,
        ];
        windows.extend(shape[1..].iter().map(|&n| AxisWindow::whole(n)));
        let parts =
            oxla::numpy::gradient_block(&f, &windows, call.spacing, axes.clone(), call.edge_order)
                .map_err(gradient_error(input))?;
        let values = oxla::eval(&parts).map_err(gradient_error(input))?;
        drop((f, parts));
        // every output at once: writes to one file take its inode's lock
        // in turn, writes to different files do not
        let outs: &OutputSet = outputs;
        (0..values.len()).into_par_iter().try_for_each(|i| {
            let at = header_bytes[i] + own.start as u64 * out_row_bytes[i];
            write_at(outs.file_ref(i), &values[i], headers[i].descr, at).map_err(|source| {
                CliError::Output {
                    path: outs.path(i).to_path_buf(),
                    source,
                }
            })
        })?;
        progress.advance(rows.len() as u64 * input.row_bytes_in_file());
    }
    progress.finish();
    Ok(())
}

/// Write `value`'s elements (memory order) at `offset`: in parallel parts
/// in native byte order, else byte-swapped in order.
fn write_at(
    file: &std::fs::File,
    value: &oxla::ArrayValue,
    descr: oxla_npy::Descr,
    offset: u64,
) -> std::io::Result<()> {
    if let (true, Some(bytes)) = (
        descr.byte_order == oxla_npy::ByteOrder::NATIVE,
        value.as_bytes(),
    ) {
        return crate::parallel_io::write_all_at(file, bytes, offset);
    }
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    oxla_npy::write_data(&mut f, value, descr)
}

fn write_output(outputs: &mut OutputSet, i: usize, bytes: &[u8]) -> Result<(), CliError> {
    let path = outputs.path(i).to_path_buf();
    outputs
        .file(i)
        .write_all(bytes)
        .map_err(|source| CliError::Output { path, source })
}

fn gradient_error(input: &InputArray) -> impl Fn(oxla::Error) -> CliError + '_ {
    move |source| CliError::Gradient {
        input: input.path().to_path_buf(),
        shape: input.header.shape_text(),
        context: String::new(),
        source: Box::new(source),
    }
}

/// A note on stderr that the run streams, and why.
pub fn announce(reason: &str, plan: &SlabPlan, limit: u64) {
    let _ = writeln!(
        std::io::stderr(),
        "oxla: note: {reason}: reading the input in {} slabs to stay within {}",
        plan.count(),
        human(limit)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file truncated after its header was checked (by another process,
    /// mid-run) fails the run part-way, and no output file is left.
    #[test]
    fn a_truncation_discovered_late_leaves_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.npy");
        let data =
            oxla::ArrayValue::from(oxla::ndarray::Array2::from_elem((40, 3), 1.5f64).into_dyn());
        let header = oxla_npy::Header::new(
            oxla_npy::Descr::native(oxla_npy::Element::F64),
            vec![40, 3],
            false,
        );
        let mut bytes = Vec::new();
        oxla_npy::write_npy(&mut bytes, &header, &data).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let mut input = InputArray::open(&path).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(bytes.len() as u64 - 500)
            .unwrap();
        let out_dir = tmp.path().join("out");
        let mut outputs = OutputSet::create(&out_dir, &["a.npy".to_owned()]).unwrap();
        let call = Call {
            spacing: &[],
            axes: vec![0],
            edge_order: 1,
        };
        let plan = SlabPlan {
            rows: 40,
            per_slab: 5,
        };
        let err = run(
            &mut input,
            &plan,
            &call,
            &mut outputs,
            &mut Progress::new(0, false),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        drop(outputs);
        assert!(!out_dir.exists());
    }

    #[test]
    fn slabs_cover_every_row_once_in_equal_parts_but_the_last() {
        let plan = SlabPlan {
            rows: 10,
            per_slab: 4,
        };
        assert_eq!(plan.slabs().collect::<Vec<_>>(), vec![0..4, 4..8, 8..10]);
        assert_eq!(SlabPlan::whole(7).slabs().collect::<Vec<_>>(), vec![0..7]);
    }

    /// Every slab reads its own rows plus two (shifted at the edges), which
    /// hold what its stencils read for either edge order.
    #[test]
    fn slab_inputs_hold_their_halo_and_have_one_size() {
        for rows in 3..40 {
            for per_slab in 1..=rows {
                let plan = SlabPlan { rows, per_slab };
                for own in plan.slabs() {
                    let input = plan.input_rows(own.clone());
                    assert_eq!(input.len(), (own.len() + 2).min(rows));
                    for eo in [EdgeOrder::One, EdgeOrder::Two] {
                        let needed = oxla::numpy::block_input_rows(rows, eo, own.clone());
                        assert!(
                            input.start <= needed.start && needed.end <= input.end,
                            "{own:?} {input:?} {needed:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn slabs_fit_the_limit_and_too_small_a_limit_names_the_minimum() {
        let cost = RowCost {
            input: 4 << 20,
            outputs: 8 << 20,
        };
        let plan = SlabPlan::within(OVERHEAD_BYTES + (100 << 20), 1000, cost, true).unwrap();
        let biggest = plan.slabs().map(|r| r.len() as u64).max().unwrap();
        assert!(cost.slab(biggest) <= 100 << 20);
        let err = SlabPlan::within(10 << 20, 1000, cost, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&human(OVERHEAD_BYTES + cost.slab(1))), "{err}");
        // a limit above the whole run is one slab
        assert_eq!(
            SlabPlan::within(u64::MAX, 1000, cost, true)
                .unwrap()
                .count(),
            1
        );
    }
}
