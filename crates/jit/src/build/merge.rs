//! Axis merging: adjacent iteration axes that every view walks as one
//! become one axis, so a kernel runs longer rows.
//!
//! The executor pays a fixed cost per row (its box, its views' offsets,
//! its prefetch, one dispatch per instruction), which a 256-wide row of a
//! 3-d array does not amortize: `gradient` along axis 0 of a 256^3 array
//! ran 1.6x slower than the same traffic over 4096x4096. When no box cut
//! falls inside the inner axis of a pair and every view's stride along
//! the outer one is the inner one's times its extent, `(i, j)` and
//! `i * n + j` address the same elements, so the pair is one axis of
//! `n_outer * n` elements, cut where the outer one was (times `n`).
//!
//! Architecture invariant: merging changes which elements a tile holds,
//! never what is computed for an element, so fused results stay
//! bit-identical to the interpreter. That is why a kernel with a
//! reduction is never merged: row sums are chunked along the innermost
//! axis, and longer rows would sum in another order.

use crate::isa::ReduceSpec;
use crate::kexpr::KExpr;

/// Merge every mergeable pair of adjacent axes of `it_shape`, rewriting
/// the views and masks of `expr` to the merged space; returns the merged
/// shape (the same elements in the same row-major order).
pub(crate) fn merge_axes(
    it_shape: &[usize],
    expr: &mut KExpr,
    reductions: &[ReduceSpec],
) -> Vec<usize> {
    let mut shape = it_shape.to_vec();
    if !reductions.is_empty() || shape.contains(&0) {
        return shape;
    }
    // innermost pair first, so a merged axis can merge again outward
    for outer in (0..shape.len().saturating_sub(1)).rev() {
        if mergeable(&shape, expr, outer) {
            merge(&mut shape, expr, outer);
        }
    }
    shape
}

/// Axes `outer` and `outer + 1` are one walk for every view, and no mask
/// cuts the inner one.
fn mergeable(shape: &[usize], expr: &KExpr, outer: usize) -> bool {
    let inner = outer + 1;
    let n = shape[inner] as i64;
    let uncut = expr
        .masks
        .iter()
        .flatten()
        .all(|iv| iv.dim as usize != inner || (iv.lo <= 0 && iv.hi >= n));
    let one_walk = expr.views.iter().all(|v| {
        shape[outer] == 1 || shape[inner] == 1 || v.strides[outer] == v.strides[inner] * n
    });
    uncut && one_walk
}

/// Merge axis `outer + 1` into axis `outer`.
fn merge(shape: &mut Vec<usize>, expr: &mut KExpr, outer: usize) {
    let inner = outer + 1;
    let n = shape[inner];
    for v in &mut expr.views {
        // the merged index is `i * n + j`: its stride is the inner one's,
        // unless the inner axis has one element and `j` is always 0
        let stride = if n == 1 {
            v.strides[outer]
        } else {
            v.strides[inner]
        };
        v.strides[outer] = stride;
        v.strides.remove(inner);
    }
    let merged_len = (shape[outer] * n) as i64;
    for iv in expr.masks.iter_mut().flatten() {
        let dim = iv.dim as usize;
        if dim == outer {
            iv.lo *= n as i64;
            iv.hi *= n as i64;
        } else if dim == inner {
            // mergeable: it holds along the whole inner axis
            (iv.lo, iv.hi) = (0, merged_len);
            iv.dim = outer as u8;
        } else if dim > inner {
            iv.dim -= 1;
        }
    }
    shape[outer] *= n;
    shape.remove(inner);
}
