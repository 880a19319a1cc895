//! The running sum of one row of a reduction whose innermost axis is
//! reduced: chunks of [`CHUNK`] elements, each summed in [`LANES`] lanes,
//! exactly as [`oxla_ir::reduce`] defines, however the row is cut into tiles.

use oxla_ir::Element;
use oxla_ir::reduce::{CHUNK, LANES, combine_lanes};

use crate::exec::loops::Src;

/// Which chunk of a row is open.
#[derive(Clone, Copy, Default)]
pub(crate) struct ChunkCursor(Option<usize>);

/// One row's sum in progress: its cursor, the lanes of the open chunk and
/// the row's finished chunk sums.
pub(crate) struct RowSum<'a, T> {
    pub cursor: &'a mut ChunkCursor,
    pub lanes: &'a mut [T; LANES],
    pub partials: &'a mut Vec<T>,
}

impl<T: Element> RowSum<'_, T> {
    /// Add the values at row positions `col..col + len` (one `Src` element each).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add(&mut self, col: usize, values: Src<'_, T>, len: usize) {
        match values {
            Src::Slice(v) => self.add_mapped(col, &v[..len], &v[..len], |x, _| x),
            Src::Scalar(x) => {
                for (c, ks) in chunk_runs(col, len) {
                    self.enter(c / CHUNK);
                    for p in c..c + ks.len() {
                        self.lanes[p % LANES] = self.lanes[p % LANES].add(x);
                    }
                }
            }
        }
    }

    /// Add `f(a[k], b[k])` for row positions `col..col + a.len()`, as `add`
    /// would add them from a tile holding them, without the tile.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add_mapped(&mut self, col: usize, a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
        // a loop rather than a callback per run: LLVM did not inline the
        // callback, which then ran without AVX2
        for (c, ks) in chunk_runs(col, a.len()) {
            self.enter(c / CHUNK);
            accumulate(self.lanes, c % LANES, &a[ks.clone()], &b[ks], &f);
        }
    }

    /// Make `chunk` the open chunk, closing the previous one.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn enter(&mut self, chunk: usize) {
        if self.cursor.0 != Some(chunk) {
            self.finish();
            self.cursor.0 = Some(chunk);
        }
    }

    /// Add one value at row position `col` (column tiles add one per row).
    #[inline]
    pub fn add_one(&mut self, col: usize, value: T) {
        if self.cursor.0 == Some(col / CHUNK) {
            self.lanes[col % LANES] = self.lanes[col % LANES].add(value);
        } else {
            self.add(col, Src::Scalar(value), 1);
        }
    }

    /// Close the open chunk (at the end of a row or of a work item).
    pub fn finish(&mut self) {
        if self.cursor.0.take().is_some() {
            self.partials.push(combine_lanes(*self.lanes));
            *self.lanes = [T::NEG_ZERO; LANES];
        }
    }
}

/// The runs of row positions `c..c + ks.len()` that cover `col..col + len`
/// without crossing a chunk boundary, with `ks` their indices in the tile.
#[cfg_attr(not(debug_assertions), inline(always))]
fn chunk_runs(col: usize, len: usize) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> {
    let end = col + len;
    std::iter::successors(Some(col), move |&c| Some((c / CHUNK + 1) * CHUNK))
        .take_while(move |&c| c < end)
        .map(move |c| {
            (
                c,
                c - col..(c / CHUNK + 1).saturating_mul(CHUNK).min(end) - col,
            )
        })
}

/// Add `f(a[i], b[i])` into lane `(first_lane + i) % LANES`, in order per lane.
#[cfg_attr(not(debug_assertions), inline(always))]
fn accumulate<T: Element>(
    lanes: &mut [T; LANES],
    first_lane: usize,
    a: &[T],
    b: &[T],
    f: impl Fn(T, T) -> T,
) {
    let n = a.len().min(b.len());
    let head = ((LANES - first_lane) % LANES).min(n);
    for i in 0..head {
        lanes[first_lane + i] = lanes[first_lane + i].add(f(a[i], b[i]));
    }
    let (a_blocks, a_tail) = a[head..n].as_chunks::<LANES>();
    let (b_blocks, b_tail) = b[head..n].as_chunks::<LANES>();
    for (x, y) in a_blocks.iter().zip(b_blocks) {
        for l in 0..LANES {
            lanes[l] = lanes[l].add(f(x[l], y[l]));
        }
    }
    for (l, (&x, &y)) in a_tail.iter().zip(b_tail).enumerate() {
        lanes[l] = lanes[l].add(f(x, y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxla_ir::reduce::chunk_sum;

    #[test]
    fn chunk_cursor_matches_the_reference_chunk_sums_however_the_row_is_cut() {
        let row: Vec<f64> = (0..2500)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.001 - 0.3)
            .collect();
        let want: Vec<f64> = row.chunks(CHUNK).map(chunk_sum).collect();
        for cuts in [
            vec![0, 2500],
            vec![0, 1, 2499, 2500],
            vec![0, 3, 700, 1024, 1030, 2048, 2500],
        ] {
            let mut lanes = [f64::NEG_ZERO; LANES];
            let mut partials = Vec::new();
            let mut cursor = ChunkCursor::default();
            let mut sum = RowSum {
                cursor: &mut cursor,
                lanes: &mut lanes,
                partials: &mut partials,
            };
            for w in cuts.windows(2) {
                for start in (w[0]..w[1]).step_by(256) {
                    let len = 256.min(w[1] - start);
                    sum.add(start, Src::Slice(&row[start..start + len]), len);
                }
            }
            sum.finish();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&partials), bits(&want), "cuts {cuts:?}");
        }
    }
}
