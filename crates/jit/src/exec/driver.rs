//! Running a [`FusedKernel`]: its inputs bound, its outputs taken from the
//! pool, its iteration space cut into work items, the items run, and the
//! results assembled.
//!
//! The iteration space is walked as rows (all axes but the innermost) of
//! `row_len` elements. Work is cut into items whose boundaries depend only
//! on the shape, never on the thread count: blocks of whole rows, or, for a
//! single long row, blocks of whole reduction chunks. Items run in parallel
//! on rayon's pool; each writes a disjoint part of every output and keeps
//! its own reduction partials, which are folded afterwards in item order.
//! So results are the same bit for bit on any number of threads.

use oxla_ir::ndarray::{ArrayD, IxDyn};
use oxla_ir::reduce::CHUNK;
use oxla_ir::{ArrayElement, ArrayValue, DType, with_array, with_dtype};
use rayon::prelude::*;

use crate::borrowed::Buffer;
use crate::error::{JitError, internal};
use crate::exec::reduction::finish_reduction;
use crate::exec::rows::{Item, run_item};
use crate::exec::storage::{Banks, Inputs, OutSlices};
use crate::isa::FusedKernel;

/// Elements per work item (a multiple of the reduction chunk).
const ITEM_ELEMENTS: usize = 64 * CHUNK;
/// Below this many elements a kernel runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;

/// Run `k`, reading `buffers`; returns the values of its roots (stores, then reductions).
pub(crate) fn run_kernel(
    k: &FusedKernel,
    buffers: &[Option<Buffer<'_>>],
) -> Result<Vec<(usize, ArrayValue)>, JitError> {
    let row_len = k.it_shape.last().copied().unwrap_or(1);
    let n_rows: usize = k.it_shape.iter().rev().skip(1).product();
    let total = row_len * n_rows;
    let inputs = bind_inputs(k, buffers)?;
    let mut outs = take_outputs(k, total)?;
    let out_bytes: usize = outs.iter().map(|o| o.len() * o.dtype().size_bytes()).sum();
    let stream = out_bytes >= crate::exec::stream::stream_min_bytes();
    let mut results: Vec<Banks> = Vec::new();
    if total > 0 {
        let (item_rows, item_cols) = if k.sequential || total < PARALLEL_MIN {
            (n_rows, row_len)
        } else if n_rows > 1 {
            ((ITEM_ELEMENTS / row_len).max(1), row_len)
        } else {
            (1, ITEM_ELEMENTS)
        };
        let mut items = Vec::new();
        for r0 in (0..n_rows).step_by(item_rows) {
            for c0 in (0..row_len).step_by(item_cols) {
                items.push((
                    r0..(r0 + item_rows).min(n_rows),
                    c0..(c0 + item_cols).min(row_len),
                ));
            }
        }
        let mut parts = split_outputs(&mut outs, item_rows * item_cols, items.len())?;
        let items = items
            .into_iter()
            .zip(parts.drain(..))
            .map(|((rows, cols), outs)| Item { rows, cols, outs });
        if item_rows >= n_rows && item_cols >= row_len {
            // One item: run it here (a small call should not go through rayon).
            results.extend(items.filter_map(|item| run_item(k, &inputs, item, stream)));
        } else {
            let items: Vec<Item<'_>> = items.collect();
            let banks: Vec<Option<Banks>> = items
                .into_par_iter()
                .map(|item| run_item(k, &inputs, item, stream))
                .collect();
            results.extend(banks.into_iter().flatten());
        }
    }
    let mut values = Vec::with_capacity(k.stores.len() + k.reductions.len());
    values.extend(k.stores.iter().map(|s| s.buffer).zip(outs));
    for (r, spec) in k.reductions.iter().enumerate() {
        let v = with_dtype!(spec.dtype, |T| finish_reduction::<T>(k, r, &results))?;
        values.push((spec.buffer, v));
    }
    Ok(values)
}

/// Each view's buffer as a slice of its element type.
fn bind_inputs<'a>(
    k: &FusedKernel,
    buffers: &'a [Option<Buffer<'_>>],
) -> Result<Inputs<'a>, JitError> {
    let mut inputs = Inputs::default();
    for d in DType::ALL {
        with_dtype!(d, |T| T::of_mut(&mut inputs).resize(k.views.len(), &[]));
    }
    for (v, view) in k.views.iter().enumerate() {
        let buffer = buffers
            .get(view.buffer)
            .and_then(|b| b.as_ref())
            .ok_or_else(|| internal!("kernel input {} is not computed", view.buffer))?;
        with_dtype!(buffer.dtype(), |T| {
            let slice = buffer
                .as_slice::<T>()
                .ok_or_else(|| internal!("kernel input {} is not contiguous", view.buffer))?;
            <T as ArrayElement>::of_mut(&mut inputs)[v] = slice;
        });
    }
    Ok(inputs)
}

/// An array from the pool, shaped like the iteration space, for every
/// store; running out of memory is an error, not an abort.
fn take_outputs(k: &FusedKernel, total: usize) -> Result<Vec<ArrayValue>, JitError> {
    k.stores
        .iter()
        .map(|s| {
            with_dtype!(s.dtype, |T| {
                let data = oxla_ir::pool::try_take::<T>(total).ok_or(JitError::OutOfMemory {
                    bytes: (total as u64).saturating_mul(std::mem::size_of::<T>() as u64),
                })?;
                ArrayD::from_shape_vec(IxDyn(&k.shape), data)
                    .map(T::wrap)
                    .map_err(|e| internal!("{e}"))
            })
        })
        .collect()
}

/// Every output cut into consecutive parts of `chunk` elements (the last
/// may be shorter), one per item.
fn split_outputs(
    outs: &mut [ArrayValue],
    chunk: usize,
    items: usize,
) -> Result<Vec<OutSlices<'_>>, JitError> {
    let mut parts: Vec<OutSlices<'_>> = (0..items).map(|_| OutSlices::default()).collect();
    for part in &mut parts {
        for d in DType::ALL {
            with_dtype!(d, |T| T::of_mut(part)
                .resize_with(outs.len(), Default::default));
        }
    }
    for (s, out) in outs.iter_mut().enumerate() {
        with_array!(out, |a: T| {
            let data = a
                .as_slice_mut()
                .ok_or_else(|| internal!("a fresh output is not contiguous"))?;
            for (part, piece) in parts.iter_mut().zip(data.chunks_mut(chunk)) {
                <T as ArrayElement>::of_mut(part)[s] = piece;
            }
        });
    }
    Ok(parts)
}
