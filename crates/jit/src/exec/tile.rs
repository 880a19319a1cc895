//! The loops of the executor: one primitive over one tile, straight loops
//! over slices that LLVM vectorizes. Every element goes through the same
//! [`Element`] operation as in the reference interpreter.

use oxla_ir::Element;
use oxla_ir::reduce::{CHUNK, LANES, combine_lanes};

use crate::kexpr::BinOp;
use crate::program::{Scale, ScaledOp, SelfOp, TwiceOp};

/// A tile operand: a run of values or one value repeated.
#[derive(Clone, Copy)]
pub(crate) enum Src<'a, T> {
    Slice(&'a [T]),
    Scalar(T),
}

impl<T: Copy> Src<'_, T> {
    /// Element `k` of the tile.
    #[inline]
    pub fn at(&self, k: usize) -> T {
        match self {
            Src::Slice(v) => v[k],
            Src::Scalar(x) => *x,
        }
    }
}

#[inline(always)]
fn map2<T: Copy>(out: &mut [T], a: Src<'_, T>, b: Src<'_, T>, f: impl Fn(T, T) -> T) {
    match (a, b) {
        (Src::Slice(a), Src::Slice(b)) => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        }
        (Src::Slice(a), Src::Scalar(y)) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x, y);
            }
        }
        (Src::Scalar(x), Src::Slice(b)) => {
            for (o, &y) in out.iter_mut().zip(b) {
                *o = f(x, y);
            }
        }
        (Src::Scalar(x), Src::Scalar(y)) => out.fill(f(x, y)),
    }
}

#[inline(always)]
fn map1<A: Copy, B: Copy>(out: &mut [B], a: Src<'_, A>, f: impl Fn(A) -> B) {
    match a {
        Src::Slice(a) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x);
            }
        }
        Src::Scalar(x) => out.fill(f(x)),
    }
}

/// True if the CPU has AVX2 and FMA (checked once; cheap afterwards).
#[cfg(target_arch = "x86_64")]
pub(crate) fn wide() -> bool {
    static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WIDE.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

/// `out = a op b`. (All loops here are `inline(always)` where it matters, so
/// that they are compiled into the AVX2 copy of `exec::vector::run_typed`
/// on CPUs that have it; no contraction into FMAs happens without fast-math,
/// so every element still gets the same IEEE operation.)
#[inline(always)]
pub(crate) fn binary<T: Element>(op: BinOp, out: &mut [T], a: Src<'_, T>, b: Src<'_, T>) {
    match op {
        BinOp::Add => map2(out, a, b, T::add),
        BinOp::Sub => map2(out, a, b, T::sub),
        BinOp::Mul => map2(out, a, b, T::mul),
        BinOp::Div => map2(out, a, b, T::div),
    }
}

/// `out = ±post(op(a, b), s)` (or `±post(a, s)` without `op`) in one pass:
/// each operation rounds to `T` on its own, exactly as separate passes would.
/// One loop per combination of operations, so each stays a straight,
/// vectorizable loop.
#[inline(always)]
pub(crate) fn scaled<T: Element>(
    f: ScaledOp,
    out: &mut [T],
    a: Src<'_, T>,
    b: Option<Src<'_, T>>,
    s: T,
) {
    macro_rules! with_post {
        (|$p:ident| $body:expr) => {
            match (f.post, f.negate) {
                (Scale::Div, false) => {
                    let $p = |t: T| t.div(s);
                    $body
                }
                (Scale::Div, true) => {
                    let $p = |t: T| t.div(s).neg();
                    $body
                }
                (Scale::Mul, false) => {
                    let $p = |t: T| t.mul(s);
                    $body
                }
                (Scale::Mul, true) => {
                    let $p = |t: T| t.mul(s).neg();
                    $body
                }
            }
        };
    }
    let b = b.unwrap_or(Src::Scalar(T::ZERO));
    match f.op {
        None => with_post!(|p| map1(out, a, p)),
        Some(BinOp::Add) => with_post!(|p| map2(out, a, b, |x, y| p(x.add(y)))),
        Some(BinOp::Sub) => with_post!(|p| map2(out, a, b, |x, y| p(x.sub(y)))),
        Some(BinOp::Mul) => with_post!(|p| map2(out, a, b, |x, y| p(x.mul(y)))),
        Some(BinOp::Div) => with_post!(|p| map2(out, a, b, |x, y| p(x.div(y)))),
    }
}

/// `out = ±post2(outer(post(op(a, b), s)), s2)` in one pass (see
/// [`TwiceOp`]); `None` for a combination the planner never fuses. Each
/// operation rounds to `T` on its own, exactly as separate passes would.
#[inline(always)]
pub(crate) fn twice<T: Element>(
    t: TwiceOp,
    out: &mut [T],
    a: &[T],
    b: &[T],
    s: T,
    s2: T,
) -> Option<()> {
    macro_rules! with_inner {
        (|$f:ident| $body:expr) => {
            match (t.inner.op, t.inner.post, t.inner.negate) {
                (Some(BinOp::Sub), Scale::Mul, false) => {
                    let $f = |x: T, y: T| x.sub(y).mul(s);
                    $body
                }
                (Some(BinOp::Sub), Scale::Div, false) => {
                    let $f = |x: T, y: T| x.sub(y).div(s);
                    $body
                }
                (Some(BinOp::Add), Scale::Mul, false) => {
                    let $f = |x: T, y: T| x.add(y).mul(s);
                    $body
                }
                (Some(BinOp::Add), Scale::Div, false) => {
                    let $f = |x: T, y: T| x.add(y).div(s);
                    $body
                }
                _ => return None,
            }
        };
    }
    macro_rules! with_outer {
        ($self_op:ident, |$g:ident| $body:expr) => {
            match t.post {
                None => {
                    let $g = |t: T| t.$self_op(t);
                    $body
                }
                Some((Scale::Mul, false)) => {
                    let $g = |t: T| t.$self_op(t).mul(s2);
                    $body
                }
                Some((Scale::Mul, true)) => {
                    let $g = |t: T| t.$self_op(t).mul(s2).neg();
                    $body
                }
                Some((Scale::Div, false)) => {
                    let $g = |t: T| t.$self_op(t).div(s2);
                    $body
                }
                Some((Scale::Div, true)) => {
                    let $g = |t: T| t.$self_op(t).div(s2).neg();
                    $body
                }
            }
        };
    }
    let (a, b) = (Src::Slice(a), Src::Slice(b));
    with_inner!(|f| match t.outer {
        SelfOp::Double => with_outer!(add, |g| map2(out, a, b, |x, y| g(f(x, y)))),
        SelfOp::Square => with_outer!(mul, |g| map2(out, a, b, |x, y| g(f(x, y)))),
    });
    Some(())
}

/// `out = -a`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn neg<T: Element>(out: &mut [T], a: Src<'_, T>) {
    map1(out, a, T::neg);
}

/// `out = convert(a)`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn convert<A: Element, B: Element>(out: &mut [B], a: Src<'_, A>) {
    map1(out, a, oxla_ir::element::convert::<A, B>);
}

/// `out = a`, through the cache.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn copy<T: Element>(out: &mut [T], a: Src<'_, T>) {
    match a {
        Src::Slice(a) => out.copy_from_slice(&a[..out.len()]),
        Src::Scalar(x) => out.fill(x),
    }
}

/// `acc = acc + a`, elementwise (running sums of a reduction keeping the innermost axis).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn add_into<T: Element>(acc: &mut [T], a: Src<'_, T>) {
    match a {
        Src::Slice(a) => {
            for (s, &x) in acc.iter_mut().zip(a) {
                *s = s.add(x);
            }
        }
        Src::Scalar(x) => {
            for s in acc.iter_mut() {
                *s = s.add(x);
            }
        }
    }
}

/// `out[k] = buf[start + k * stride]`; `None` (and nothing written) if an
/// index falls outside `buf`. Gathers always step forward: a view with
/// stride 0 along the tile is a scalar, and views never reverse an axis.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn gather<T: Element>(out: &mut [T], buf: &[T], start: i64, stride: i64) -> Option<()> {
    let Some(last_k) = out.len().checked_sub(1) else {
        return Some(());
    };
    let start = usize::try_from(start).ok()?;
    let step = usize::try_from(stride).ok().filter(|&s| s > 0)?;
    let last = last_k.checked_mul(step)?.checked_add(start)?;
    if last >= buf.len() {
        return None;
    }
    // bounds checked once above, not per element
    for (o, x) in out.iter_mut().zip(buf[start..].iter().step_by(step)) {
        *o = *x;
    }
    Some(())
}

/// The chunk-and-lanes state of one reduction whose innermost axis is
/// reduced (see [`oxla_ir::reduce`]): which chunk of the row is open.
#[derive(Clone, Copy, Default)]
pub(crate) struct ChunkCursor(Option<usize>);

impl ChunkCursor {
    /// Add the values at row positions `col..col + len` (one `Src` element each).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add<T: Element>(
        &mut self,
        lanes: &mut [T; LANES],
        partials: &mut Vec<T>,
        col: usize,
        values: Src<'_, T>,
        len: usize,
    ) {
        let mut c = col;
        let mut k = 0;
        while c < col + len {
            let chunk = c / CHUNK;
            let stop = (col + len).min((chunk + 1) * CHUNK);
            if self.0 != Some(chunk) {
                self.finish(lanes, partials);
                self.0 = Some(chunk);
            }
            let n = stop - c;
            match values {
                Src::Slice(v) => accumulate(lanes, c % LANES, &v[k..k + n]),
                Src::Scalar(x) => {
                    for p in c..stop {
                        lanes[p % LANES] = lanes[p % LANES].add(x);
                    }
                }
            }
            k += n;
            c = stop;
        }
    }

    /// Add one value at row position `col` (column tiles add one per row).
    #[inline]
    pub fn add_one<T: Element>(
        &mut self,
        lanes: &mut [T; LANES],
        partials: &mut Vec<T>,
        col: usize,
        value: T,
    ) {
        if self.0 == Some(col / CHUNK) {
            lanes[col % LANES] = lanes[col % LANES].add(value);
        } else {
            self.add(lanes, partials, col, Src::Scalar(value), 1);
        }
    }

    /// Close the open chunk (at the end of a row or of a work item).
    pub fn finish<T: Element>(&mut self, lanes: &mut [T; LANES], partials: &mut Vec<T>) {
        if self.0.take().is_some() {
            partials.push(combine_lanes(*lanes));
            *lanes = [T::NEG_ZERO; LANES];
        }
    }
}

/// Add `values[i]` into lane `(first_lane + i) % LANES`, in order per lane.
#[cfg_attr(not(debug_assertions), inline(always))]
fn accumulate<T: Element>(lanes: &mut [T; LANES], first_lane: usize, values: &[T]) {
    let head = ((LANES - first_lane) % LANES).min(values.len());
    for (i, &v) in values[..head].iter().enumerate() {
        lanes[first_lane + i] = lanes[first_lane + i].add(v);
    }
    let (blocks, tail) = values[head..].as_chunks::<LANES>();
    for block in blocks {
        for l in 0..LANES {
            lanes[l] = lanes[l].add(block[l]);
        }
    }
    for (l, &v) in tail.iter().enumerate() {
        lanes[l] = lanes[l].add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxla_ir::reduce::chunk_sum;

    #[test]
    fn gather_reads_strided_elements_and_refuses_any_index_outside() {
        let buf: Vec<f64> = (0..10).map(f64::from).collect();
        let mut out = [0.0; 3];
        assert_eq!(gather(&mut out, &buf, 1, 4), Some(()));
        assert_eq!(out, [1.0, 5.0, 9.0]);
        for (start, stride) in [(2, 4), (-1, 1), (0, 0), (9, -1)] {
            let mut out = [7.0; 3];
            assert_eq!(
                gather(&mut out, &buf, start, stride),
                None,
                "{start} {stride}"
            );
            assert_eq!(out, [7.0; 3], "nothing written");
        }
        assert_eq!(gather(&mut [], &buf, 50, 3), Some(()));
    }

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
            for w in cuts.windows(2) {
                for start in (w[0]..w[1]).step_by(256) {
                    let len = 256.min(w[1] - start);
                    cursor.add(
                        &mut lanes,
                        &mut partials,
                        start,
                        Src::Slice(&row[start..start + len]),
                        len,
                    );
                }
            }
            cursor.finish(&mut lanes, &mut partials);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&partials), bits(&want), "cuts {cuts:?}");
        }
    }
}
