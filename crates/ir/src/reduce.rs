//! The one summation order of `reduce_sum`.
//!
//! Floating-point addition is not associative, so "the sum" must name an
//! order. Every evaluator (the reference interpreter, fused kernels, any
//! thread count) follows this one, which is why their results agree bit for
//! bit. It is chosen so that a fused kernel walking its input row-major, in
//! tiles along the innermost axis and in parallel over rows, can follow it
//! without buffering more than one partial sum per chunk:
//!
//! - **innermost axis kept** (or nothing reduced along it): each output is a
//!   left-to-right fold, `acc = -0.0; acc = acc + x` over its reduced
//!   indices in row-major order;
//! - **innermost axis reduced**: each row (a run along the innermost axis)
//!   is cut into chunks of [`CHUNK`] elements starting at index 0; a chunk's
//!   sum adds element `i` into lane `i % LANES` (lanes start at `-0.0`) and
//!   then combines the lanes as a fixed tree; the output is the left-to-right
//!   fold of its chunk sums in row-major order.
//!
//! An empty sum is `+0.0`, as in NumPy. Starting folds at `-0.0` (the exact
//! additive identity) makes a one-element sum return that element bit for bit.

use crate::Element;

/// Elements per chunk of a row; a multiple of [`LANES`].
pub const CHUNK: usize = 1024;
/// Independent accumulators inside a chunk.
pub const LANES: usize = 8;

/// Which of the two orders above a `reduce_sum` over `axes` (increasing, as
/// the op requires) of a rank-`ndim` operand follows: true when the
/// innermost axis is reduced.
///
/// ```
/// assert!(oxla_ir::reduce::innermost_reduced(&[0, 2], 3));
/// assert!(!oxla_ir::reduce::innermost_reduced(&[0, 1], 3));
/// ```
pub fn innermost_reduced(axes: &[usize], ndim: usize) -> bool {
    ndim > 0 && axes.last() == Some(&(ndim - 1))
}

/// Combine the lane accumulators of a chunk: `((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7))`.
#[inline]
pub fn combine_lanes<T: Element>(l: [T; LANES]) -> T {
    let a = l[0].add(l[1]).add(l[2].add(l[3]));
    let b = l[4].add(l[5]).add(l[6].add(l[7]));
    a.add(b)
}

/// The sum of one chunk (at most [`CHUNK`] elements, starting at a chunk boundary).
///
/// ```
/// use oxla_ir::reduce::chunk_sum;
/// assert_eq!(chunk_sum(&[1.0f64, 2.0, 3.0]), 6.0);
/// assert_eq!(chunk_sum(&[-0.0f64]).to_bits(), (-0.0f64).to_bits());
/// ```
pub fn chunk_sum<T: Element>(xs: &[T]) -> T {
    let mut lanes = [T::NEG_ZERO; LANES];
    for (i, &x) in xs.iter().enumerate() {
        lanes[i % LANES] = lanes[i % LANES].add(x);
    }
    combine_lanes(lanes)
}

/// The sum of one output's reduced elements, given as `rows` consecutive
/// runs of `row_len` elements along the innermost axis (case "innermost
/// axis reduced").
pub fn sum_rows<T: Element>(block: &[T], row_len: usize) -> T {
    if block.is_empty() {
        return T::ZERO;
    }
    let mut acc = T::NEG_ZERO;
    for row in block.chunks(row_len) {
        for chunk in row.chunks(CHUNK) {
            acc = acc.add(chunk_sum(chunk));
        }
    }
    acc
}

/// The left-to-right fold of one output's reduced elements (case "innermost axis kept").
pub fn sum_sequential<T: Element>(block: impl ExactSizeIterator<Item = T>) -> T {
    if block.len() == 0 {
        return T::ZERO;
    }
    block.fold(T::NEG_ZERO, |acc, x| acc.add(x))
}
