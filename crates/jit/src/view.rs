//! Views: how a node's index depends on a kernel's iteration index.
//!
//! Movement ops never copy inside a fused kernel; they transform an
//! [`IndexMap`] on the way from a kernel's root down to the loads (as
//! tinygrad's views do). Every axis of every node is an affine function of
//! at most one iteration axis, so a load is `offset + sum(stride[j] * it[j])`
//! and a pad's validity is a conjunction of intervals on iteration axes.

use smallvec::SmallVec;

/// Axis `d` of a node: `index = offset + stride * it[source]` (a constant when `source` is `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct AxisMap {
    pub offset: i64,
    pub stride: i64,
    pub source: Option<u8>,
}

/// One [`AxisMap`] per axis of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IndexMap(pub SmallVec<[AxisMap; 4]>);

/// `lo <= it[dim] < hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Interval {
    pub dim: u8,
    pub lo: i64,
    pub hi: i64,
}

/// Where a pad's operand is valid, in iteration space.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Mask {
    /// Valid wherever all intervals hold (always, if there are none).
    Within(SmallVec<[Interval; 2]>),
    /// Never valid: the pad only ever reads its padding value here.
    Never,
}

impl IndexMap {
    /// The map of a kernel root: node axis `d` is iteration axis `d`.
    pub fn identity(ndim: usize) -> IndexMap {
        IndexMap(
            (0..ndim)
                .map(|d| AxisMap {
                    offset: 0,
                    stride: 1,
                    source: Some(d as u8),
                })
                .collect(),
        )
    }

    /// `slice`: operand index `start + stride * index`.
    pub fn slice(&self, start: &[usize], stride: &[usize]) -> IndexMap {
        IndexMap(
            self.0
                .iter()
                .zip(start.iter().zip(stride))
                .map(|(a, (&s, &k))| AxisMap {
                    offset: s as i64 + k as i64 * a.offset,
                    stride: k as i64 * a.stride,
                    source: a.source,
                })
                .collect(),
        )
    }

    /// `pad` without interior padding: operand index `index - lo`.
    pub fn shift(&self, lo: &[i64]) -> IndexMap {
        IndexMap(
            self.0
                .iter()
                .zip(lo)
                .map(|(a, &l)| AxisMap {
                    offset: a.offset - l,
                    ..*a
                })
                .collect(),
        )
    }

    /// `broadcast_in_dim`: operand axis `i` reads output axis `dims[i]`, or
    /// index 0 if it is stretched from size 1.
    pub fn broadcast(&self, operand: &[usize], shape: &[usize], dims: &[usize]) -> IndexMap {
        IndexMap(
            dims.iter()
                .enumerate()
                .map(|(i, &d)| {
                    if operand[i] == shape[d] {
                        self.0[d]
                    } else {
                        AxisMap {
                            offset: 0,
                            stride: 0,
                            source: None,
                        }
                    }
                })
                .collect(),
        )
    }

    /// `transpose`: operand axis `perm[i]` is output axis `i`.
    pub fn transpose(&self, perm: &[usize]) -> IndexMap {
        let mut axes = self.0.clone();
        for (i, &p) in perm.iter().enumerate() {
            axes[p] = self.0[i];
        }
        IndexMap(axes)
    }

    /// `reshape` that only inserts or removes axes of size 1; `None` for any
    /// other reshape (which is not affine and needs its operand materialized).
    pub fn squeeze_reshape(&self, operand: &[usize], shape: &[usize]) -> Option<IndexMap> {
        let big_in: Vec<usize> = (0..operand.len()).filter(|&d| operand[d] != 1).collect();
        let big_out: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] != 1).collect();
        if big_in.len() != big_out.len()
            || big_in
                .iter()
                .zip(&big_out)
                .any(|(&i, &o)| operand[i] != shape[o])
        {
            return None;
        }
        let zero = AxisMap {
            offset: 0,
            stride: 0,
            source: None,
        };
        let mut axes: SmallVec<[AxisMap; 4]> = smallvec::smallvec![zero; operand.len()];
        for (&i, &o) in big_in.iter().zip(&big_out) {
            axes[i] = self.0[o];
        }
        Some(IndexMap(axes))
    }

    /// The validity of a pad's operand (extent `n`, placed at `lo`) under this map.
    pub fn pad_mask(&self, lo: &[i64], n: &[usize], it_shape: &[usize]) -> Mask {
        let mut intervals = SmallVec::new();
        for (d, a) in self.0.iter().enumerate() {
            let (start, end) = (lo[d], lo[d] + n[d] as i64);
            match a.source {
                Some(src) if a.stride > 0 => {
                    let extent = it_shape[src as usize] as i64;
                    let first = div_ceil(start - a.offset, a.stride).clamp(0, extent);
                    let last = div_ceil(end - a.offset, a.stride).clamp(0, extent);
                    if first >= last {
                        return Mask::Never;
                    }
                    if first > 0 || last < extent {
                        intervals.push(Interval {
                            dim: src,
                            lo: first,
                            hi: last,
                        });
                    }
                }
                _ => {
                    if a.offset < start || a.offset >= end {
                        return Mask::Never;
                    }
                }
            }
        }
        Mask::Within(intervals)
    }

    /// Offset and per-iteration-axis strides of this map into a row-major buffer of `shape`.
    pub fn linear(&self, shape: &[usize], it_ndim: usize) -> (i64, SmallVec<[i64; 4]>) {
        let mut strides: SmallVec<[i64; 4]> = smallvec::smallvec![0; it_ndim];
        let mut offset = 0;
        let mut row = 1i64;
        for d in (0..shape.len()).rev() {
            let a = self.0[d];
            offset += a.offset * row;
            if let Some(src) = a.source {
                strides[src as usize] += a.stride * row;
            }
            row *= shape[d] as i64;
        }
        (offset, strides)
    }
}

/// True if reshaping `from` to `to` only adds or removes unit axes: then
/// the reshape is a view, and fuses like any other movement op.
pub(crate) fn is_view_reshape(from: &[usize], to: &[usize]) -> bool {
    IndexMap::identity(to.len())
        .squeeze_reshape(from, to)
        .is_some()
}

fn div_ceil(a: i64, b: i64) -> i64 {
    a.div_euclid(b) + i64::from(a.rem_euclid(b) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_then_pad_masks_the_placed_rows() {
        // out[i] = pad(slice(f, 2..n), lo=1): valid for i in 1..n-1 of an n=6 iteration axis
        let root = IndexMap::identity(1);
        assert_eq!(
            root.pad_mask(&[1], &[4], &[6]),
            Mask::Within(smallvec::smallvec![Interval {
                dim: 0,
                lo: 1,
                hi: 5
            }])
        );
        let operand = root.shift(&[1]).slice(&[2], &[1]);
        assert_eq!(operand.linear(&[6], 1), (1, smallvec::smallvec![1]));
    }

    #[test]
    fn broadcast_and_transpose_compose_into_strides() {
        // a 1-d coefficient along axis 1 of a (3, 4) iteration space, read transposed
        let root = IndexMap::identity(2);
        let coef = root.broadcast(&[4], &[3, 4], &[1]);
        assert_eq!(coef.linear(&[4], 2), (0, smallvec::smallvec![0, 1]));
        let t = root.transpose(&[1, 0]);
        assert_eq!(t.linear(&[4, 3], 2), (0, smallvec::smallvec![1, 3]));
    }

    #[test]
    fn padding_outside_the_iteration_space_is_never_valid() {
        let root = IndexMap::identity(1);
        assert_eq!(root.pad_mask(&[10], &[2], &[6]), Mask::Never);
        assert_eq!(
            root.pad_mask(&[0], &[6], &[6]),
            Mask::Within(SmallVec::new())
        );
    }

    #[test]
    fn squeeze_reshape_only_moves_unit_axes() {
        let root = IndexMap::identity(2);
        assert!(root.squeeze_reshape(&[3, 1, 4], &[3, 4]).is_some());
        assert!(root.squeeze_reshape(&[12], &[3, 4]).is_none());
    }
}
