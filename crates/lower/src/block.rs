//! Block evaluation: `gradient` and its adjoint for one block of a larger
//! array, bit for bit the whole array's values at the block's cells.
//!
//! A block is described by one [`AxisWindow`] per dimension: the global
//! rows its input holds (its own cells plus a halo) and the rows it
//! computes (its own cells). Arguments are validated once against the
//! *whole* array's shape ([`GradientSpec::for_shape`]): axis lengths, edge
//! order and spacing are the whole array's, and so is the choice between
//! NumPy's uniform formula and the coordinate one (made from the whole
//! coordinate array, never from a block's slice of it).
//!
//! Why the bits match: every output cell depends on at most three input
//! cells along the axis and on the coordinates around it, and
//! [`GradientOp`]'s windowed lowering builds each row with the same
//! expression, coefficients and order of operations as the whole axis (see
//! `stencil.rs`). The adjoint sums each cell's contributions in the order
//! the whole adjoint does, and the cotangents of several axes in the order
//! `vjp` does.

use std::ops::Range;
use std::sync::Arc;

use oxla_ir::Tensor;

use crate::stencil::Stencil;
use crate::window::AxisWindow;
use crate::{AxisSpacing, GradientError, GradientOp, GradientSpec, SpacingKind, WeakStep};

/// The global input rows needed to compute output rows `rows` of an axis
/// of `len` rows: one row of halo on each side inside the array, and
/// `edge_order` rows inwards from a global edge.
///
/// ```
/// use oxla_lower::{block_input_rows, EdgeOrder};
/// assert_eq!(block_input_rows(100, EdgeOrder::One, 40..50), 39..51);
/// assert_eq!(block_input_rows(100, EdgeOrder::Two, 0..1), 0..3);
/// assert_eq!(block_input_rows(100, EdgeOrder::Two, 99..100), 97..100);
/// ```
pub fn block_input_rows(
    len: usize,
    edge_order: crate::EdgeOrder,
    rows: Range<usize>,
) -> Range<usize> {
    Stencil::reach_of(len, edge_order, rows)
}

/// The cotangent rows needed to compute the adjoint at rows `rows` of an
/// axis of `len` rows: every output row whose stencil reads one of them.
///
/// ```
/// use oxla_lower::{block_cotangent_rows, EdgeOrder};
/// assert_eq!(block_cotangent_rows(100, EdgeOrder::One, 40..50), 39..51);
/// assert_eq!(block_cotangent_rows(100, EdgeOrder::Two, 2..3), 0..4); // row 0's edge stencil reads row 2
/// ```
pub fn block_cotangent_rows(
    len: usize,
    edge_order: crate::EdgeOrder,
    rows: Range<usize>,
) -> Range<usize> {
    if rows.is_empty() {
        return rows;
    }
    let eo = edge_order.get();
    // interior rows i read i-1..=i+1; row 0 reads 0..=eo; row len-1 reads len-1-eo..len
    let lo = if rows.start <= eo { 0 } else { rows.start - 1 };
    let hi = if rows.end + eo >= len {
        len
    } else {
        rows.end + 1
    };
    lo..hi
}

/// `gradient` of one block: `f` holds the block's input cells (every
/// dimension: `block[d].input()`), and the results cover its own cells
/// (`block[d].output()`), one per axis of `spec`, each bit for bit the
/// whole array's `gradient` at those cells.
///
/// `spec` is the whole array's ([`GradientSpec::for_shape`] of the global
/// shape). Fails if the block does not fit the spec's array or if its
/// input lacks halo cells its outputs read ([`block_input_rows`]).
pub fn gradient_block(
    f: &Tensor,
    block: &[AxisWindow],
    spec: &GradientSpec,
) -> Result<Vec<Tensor>, GradientError> {
    check_block(f.shape(), block, spec)?;
    spec.axes()
        .iter()
        .map(|(axis, spacing)| {
            let needed =
                block_input_rows(block[*axis].len, spec.edge_order(), block[*axis].output());
            require(*axis, &needed, &block[*axis].input())?;
            let g = gradient_op(f, *axis, spacing, spec, block[*axis], false)?;
            own_cells(&g, block, Some(*axis))
        })
        .collect()
}

/// The adjoint of `gradient` (its VJP) at one block: `cts` holds one
/// cotangent per axis of `spec`, each over the block's input cells, and
/// the result covers the block's own cells: bit for bit the whole array's
/// VJP there (the sum over axes in the order `oxla::vjp` adds them).
///
/// Fails if the block does not fit the spec's array or if a cotangent
/// lacks rows whose stencils read the block's cells ([`block_cotangent_rows`]).
pub fn gradient_block_adjoint(
    cts: &[Tensor],
    block: &[AxisWindow],
    spec: &GradientSpec,
) -> Result<Tensor, GradientError> {
    if cts.len() != spec.axes().len() {
        return Err(GradientError::InvalidBlock {
            axis: 0,
            reason: format!("{} cotangents for {} axes", cts.len(), spec.axes().len()),
        });
    }
    let mut total: Option<Tensor> = None;
    // `vjp` transposes the outputs' nodes in reverse order, adding each
    // contribution to the sum so far
    for ((axis, spacing), ct) in spec.axes().iter().zip(cts).rev() {
        check_block(ct.shape(), block, spec)?;
        let needed =
            block_cotangent_rows(block[*axis].len, spec.edge_order(), block[*axis].output());
        require(*axis, &needed, &block[*axis].input())?;
        // the adjoint's window reads cotangent rows (the block's input) and
        // writes the block's own rows
        let g = gradient_op(ct, *axis, spacing, spec, block[*axis], true)?;
        let part = own_cells(&g, block, Some(*axis))?;
        total = Some(match total {
            Some(t) => t.add(&part)?,
            None => part,
        });
    }
    match total {
        Some(t) => Ok(t),
        None => Err(GradientError::InvalidBlock {
            axis: 0,
            reason: "no axes: the adjoint of an empty gradient is zero".into(),
        }),
    }
}

/// One windowed `GradientOp` along `axis`.
fn gradient_op(
    input: &Tensor,
    axis: usize,
    spacing: &AxisSpacing,
    spec: &GradientSpec,
    window: AxisWindow,
    adjoint: bool,
) -> Result<Tensor, GradientError> {
    let (kind, step) = match spacing {
        AxisSpacing::Weak(h) => (SpacingKind::Weak(WeakStep::new(*h)), None),
        AxisSpacing::Step(h) => (SpacingKind::Step, Some(h.clone())),
        AxisSpacing::Coords(x) => (SpacingKind::Coords, Some(x.clone())),
    };
    let op = GradientOp {
        axis,
        edge_order: spec.edge_order(),
        spacing: kind,
        adjoint,
        window: (!window.is_whole()).then_some(window),
    };
    let inputs: Vec<Tensor> = std::iter::once(input.clone()).chain(step).collect();
    Ok(Tensor::composite(Arc::new(op), &inputs)?)
}

/// `t` cut to the block's own cells along every axis but `done` (whose
/// rows are already the own rows).
fn own_cells(
    t: &Tensor,
    block: &[AxisWindow],
    done: Option<usize>,
) -> Result<Tensor, GradientError> {
    let mut out = t.clone();
    for (d, w) in block.iter().enumerate() {
        if Some(d) == done {
            continue;
        }
        let (input, own) = (w.input(), w.output());
        if own != input {
            out = out.slice_axis(d, own.start - input.start, own.end - input.start)?;
        }
    }
    Ok(out)
}

fn check_block(
    shape: &[usize],
    block: &[AxisWindow],
    spec: &GradientSpec,
) -> Result<(), GradientError> {
    if block.len() != shape.len() || block.len() != spec.shape().len() {
        return Err(GradientError::InvalidBlock {
            axis: 0,
            reason: format!(
                "{} windows for a {}-d block of a {}-d array",
                block.len(),
                shape.len(),
                spec.shape().len()
            ),
        });
    }
    for (d, (w, (&rows, &global))) in block.iter().zip(shape.iter().zip(spec.shape())).enumerate() {
        let reason = if w.len != global {
            format!(
                "the window is for an axis of {} rows, the array's has {global}",
                w.len
            )
        } else if rows != w.input().len() {
            format!(
                "the block has {rows} rows, its window's input {:?}",
                w.input()
            )
        } else if w.output().start < w.input().start || w.output().end > w.input().end {
            format!(
                "own rows {:?} are not within the input rows {:?}",
                w.output(),
                w.input()
            )
        } else {
            continue;
        };
        return Err(GradientError::InvalidBlock { axis: d, reason });
    }
    Ok(())
}

fn require(axis: usize, needed: &Range<usize>, given: &Range<usize>) -> Result<(), GradientError> {
    if needed.start < given.start || needed.end > given.end {
        return Err(GradientError::MissingHalo {
            axis,
            needed: (needed.start, needed.end),
            given: (given.start, given.end),
        });
    }
    Ok(())
}
