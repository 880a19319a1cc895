//! One straightforward array function per primitive. Slow on purpose:
//! simple enough to trust, the oracle for every faster path.

use ndarray::{ArrayD, IxDyn, Slice, Zip};

use crate::Element;
use crate::math::Compare;
use crate::reduce::{sum_rows, sum_sequential};

pub(super) fn binary<T: Element>(a: &ArrayD<T>, b: &ArrayD<T>, f: impl Fn(T, T) -> T) -> ArrayD<T> {
    Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))
}

/// `a cmp b ? x : y`, elementwise.
pub(super) fn select<T: Element>(cmp: Compare, [a, b, x, y]: [&ArrayD<T>; 4]) -> ArrayD<T> {
    Zip::from(a)
        .and(b)
        .and(x)
        .and(y)
        .map_collect(|&a, &b, &x, &y| if a.compare(cmp, b) { x } else { y })
}

pub(super) fn slice<T: Element>(
    a: &ArrayD<T>,
    start: &[usize],
    limit: &[usize],
    stride: &[usize],
) -> ArrayD<T> {
    a.slice_each_axis(|ax| {
        let d = ax.axis.index();
        Slice::new(
            start[d] as isize,
            Some(limit[d] as isize),
            stride[d] as isize,
        )
    })
    .as_standard_layout()
    .into_owned()
}

/// LAX pad: fill with `value`, then place operand element `i` of axis `d` at
/// `lo[d] + i * (interior[d] + 1)` when that position exists.
pub(super) fn pad<T: Element>(
    a: &ArrayD<T>,
    value: T,
    lo: &[i64],
    interior: &[usize],
    out_shape: &[usize],
) -> ArrayD<T> {
    let mut out = ArrayD::from_elem(IxDyn(out_shape), value);
    // Per axis: the operand indices that land inside the output, and where.
    let mut src = Vec::with_capacity(a.ndim());
    let mut dst = Vec::with_capacity(a.ndim());
    for d in 0..a.ndim() {
        let step = interior[d] as i64 + 1;
        let n = a.shape()[d] as i64;
        let size = out_shape[d] as i64;
        // first i with lo + i*step >= 0, last i with lo + i*step < size
        let first = if lo[d] >= 0 {
            0
        } else {
            (-lo[d] + step - 1) / step
        };
        let end = if size - lo[d] <= 0 {
            0
        } else {
            ((size - lo[d] + step - 1) / step).min(n)
        };
        if first >= end {
            return out;
        }
        src.push(Slice::new(first as isize, Some(end as isize), 1));
        let pos = lo[d] + first * step;
        dst.push(Slice::new(
            pos as isize,
            Some((pos + (end - first - 1) * step + 1) as isize),
            step as isize,
        ));
    }
    let from = a.slice_each_axis(|ax| src[ax.axis.index()]);
    out.slice_each_axis_mut(|ax| dst[ax.axis.index()])
        .assign(&from);
    out
}

pub(super) fn reshape<T: Element>(a: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    let data: Vec<T> = a.iter().copied().collect();
    ArrayD::from_shape_vec(IxDyn(shape), data)
        .expect("reshape keeps the element count (checked at build)")
}

pub(super) fn broadcast_in_dim<T: Element>(
    a: &ArrayD<T>,
    shape: &[usize],
    dims: &[usize],
) -> ArrayD<T> {
    let mut expanded = vec![1; shape.len()];
    for (i, &d) in dims.iter().enumerate() {
        expanded[d] = a.shape()[i];
    }
    let a = reshape(a, &expanded);
    a.broadcast(IxDyn(shape))
        .expect("operand axes are 1 or match (checked at build)")
        .as_standard_layout()
        .into_owned()
}

pub(super) fn transpose<T: Element>(a: &ArrayD<T>, perm: &[usize]) -> ArrayD<T> {
    a.view()
        .permuted_axes(IxDyn(perm))
        .as_standard_layout()
        .into_owned()
}

/// `reduce_sum` in the order of [`crate::reduce`]: move the kept axes first,
/// so each output's reduced elements form one contiguous row-major block.
pub(super) fn reduce_sum<T: Element>(a: &ArrayD<T>, axes: &[usize]) -> ArrayD<T> {
    let ndim = a.ndim();
    let kept: Vec<usize> = (0..ndim).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let moved = transpose(a, &perm);
    let out_shape: Vec<usize> = kept.iter().map(|&d| a.shape()[d]).collect();
    let block: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let innermost_reduced = crate::reduce::innermost_reduced(axes, ndim);
    let row_len = if ndim > 0 { a.shape()[ndim - 1] } else { 1 };
    let data = moved.as_slice().expect("standard layout");
    let sums: Vec<T> = if block == 0 {
        vec![T::ZERO; out_shape.iter().product()]
    } else {
        data.chunks(block)
            .map(|b| {
                if innermost_reduced {
                    sum_rows(b, row_len)
                } else {
                    sum_sequential(b.iter().copied())
                }
            })
            .collect()
    };
    ArrayD::from_shape_vec(IxDyn(&out_shape), sums).expect("one sum per output element")
}
