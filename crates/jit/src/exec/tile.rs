//! The loops of the executor: one primitive over one tile, straight loops
//! over slices that LLVM vectorizes. Every element goes through the same
//! [`Element`] operation as in the reference interpreter.

use oxla_ir::Element;
use oxla_ir::reduce::{CHUNK, LANES, combine_lanes};

use crate::kexpr::BinOp;
use crate::program::{Scale, ScaledOp, SelfOp, Side, TwiceOp};

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

/// Bind `$p` to the scaling step `±post(t, s)` and run `$body`, once per
/// combination so each loop stays straight.
macro_rules! with_post {
    ($T:ty, $post:expr, $negate:expr, $s:expr, |$p:ident| $body:expr) => {{
        let s: $T = $s;
        match ($post, $negate) {
            (Scale::Div, false) => {
                let $p = |t: $T| t.div(s);
                $body
            }
            (Scale::Div, true) => {
                let $p = |t: $T| t.div(s).neg();
                $body
            }
            (Scale::Mul, false) => {
                let $p = |t: $T| t.mul(s);
                $body
            }
            (Scale::Mul, true) => {
                let $p = |t: $T| t.mul(s).neg();
                $body
            }
        }
    }};
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
    let b = b.unwrap_or(Src::Scalar(T::ZERO));
    match f.op {
        None => with_post!(T, f.post, f.negate, s, |p| map1(out, a, p)),
        Some(BinOp::Add) => with_post!(T, f.post, f.negate, s, |p| map2(out, a, b, |x, y| p(
            x.add(y)
        ))),
        Some(BinOp::Sub) => with_post!(T, f.post, f.negate, s, |p| map2(out, a, b, |x, y| p(
            x.sub(y)
        ))),
        Some(BinOp::Mul) => with_post!(T, f.post, f.negate, s, |p| map2(out, a, b, |x, y| p(
            x.mul(y)
        ))),
        Some(BinOp::Div) => with_post!(T, f.post, f.negate, s, |p| map2(out, a, b, |x, y| p(
            x.div(y)
        ))),
    }
}

/// Bind `$f` to the stencil step `post(op(x, y), s)` of a fused instruction
/// (an unnegated scaled sum or difference, the ones the planner fuses) and
/// run `$body`, once per combination so each loop stays straight; return
/// `None` from the enclosing function for any other.
macro_rules! with_stencil {
    ($T:ty, $inner:expr, $s:expr, |$f:ident| $body:expr) => {{
        let s: $T = $s;
        match ($inner.op, $inner.post, $inner.negate) {
            (Some(BinOp::Sub), Scale::Mul, false) => {
                let $f = |x: $T, y: $T| x.sub(y).mul(s);
                $body
            }
            (Some(BinOp::Sub), Scale::Div, false) => {
                let $f = |x: $T, y: $T| x.sub(y).div(s);
                $body
            }
            (Some(BinOp::Add), Scale::Mul, false) => {
                let $f = |x: $T, y: $T| x.add(y).mul(s);
                $body
            }
            (Some(BinOp::Add), Scale::Div, false) => {
                let $f = |x: $T, y: $T| x.add(y).div(s);
                $body
            }
            _ => return None,
        }
    }};
}

/// Add `post(op(a, b), s)` squared into a reduction's lanes (see
/// [`VInstr::SquareSum`](crate::program::VInstr::SquareSum)), for row
/// positions `col..col + a.len()`; `None` for a stencil step the planner
/// never fuses.
#[allow(clippy::too_many_arguments)] // the operands of one instruction
#[inline(always)]
pub(crate) fn square_sum<T: Element>(
    inner: ScaledOp,
    cursor: &mut ChunkCursor,
    lanes: &mut [T; LANES],
    partials: &mut Vec<T>,
    col: usize,
    a: &[T],
    b: &[T],
    s: T,
) -> Option<()> {
    with_stencil!(T, inner, s, |f| cursor.add_mapped(
        lanes,
        partials,
        col,
        a,
        b,
        |x, y| {
            let t = f(x, y);
            t.mul(t)
        }
    ));
    Some(())
}

/// `out = ±post2(outer(post(op(a, b), s)), s2)`, plus `c` when
/// `t.addend` says so, in one pass (see [`TwiceOp`]); `None` for a
/// combination the planner never fuses. Each operation rounds to `T` on its
/// own, exactly as separate passes would.
#[allow(clippy::too_many_arguments)] // the operands of one instruction
#[inline(always)]
pub(crate) fn twice<T: Element>(
    t: TwiceOp,
    out: &mut [T],
    a: &[T],
    b: &[T],
    c: Option<&[T]>,
    s: T,
    s2: T,
) -> Option<()> {
    // the square is never scaled or added to (TwiceOp::supported)
    if t.outer == SelfOp::Square {
        return match (t.post, t.addend) {
            (None, None) => {
                with_stencil!(T, t.inner, s, |f| map2(
                    out,
                    Src::Slice(a),
                    Src::Slice(b),
                    |x, y| {
                        let t = f(x, y);
                        t.mul(t)
                    }
                ));
                Some(())
            }
            _ => None,
        };
    }
    // the doubling is always scaled: `±post2(t + t, s2)`
    let (post, negate) = t.post?;
    with_stencil!(T, t.inner, s, |f| with_post!(T, post, negate, s2, |p| {
        let g = |x: T, y: T| {
            let t = f(x, y);
            p(t.add(t))
        };
        match (t.addend, c) {
            (None, _) => map2(out, Src::Slice(a), Src::Slice(b), g),
            (Some(Side::Left), Some(c)) => map3(out, a, b, c, |x, y, z| g(x, y).add(z)),
            (Some(Side::Right), Some(c)) => map3(out, a, b, c, |x, y, z| z.add(g(x, y))),
            (Some(_), None) => return None,
        }
    }));
    Some(())
}

#[inline(always)]
fn map3<T: Copy>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(x, y, z);
    }
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
        match values {
            Src::Slice(v) => self.add_mapped(lanes, partials, col, &v[..len], &v[..len], |x, _| x),
            Src::Scalar(x) => {
                for (c, ks) in chunk_runs(col, len) {
                    self.enter(c / CHUNK, lanes, partials);
                    for p in c..c + ks.len() {
                        lanes[p % LANES] = lanes[p % LANES].add(x);
                    }
                }
            }
        }
    }

    /// Add `f(a[k], b[k])` for row positions `col..col + a.len()`, as `add`
    /// would add them from a tile holding them, without the tile.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn add_mapped<T: Element>(
        &mut self,
        lanes: &mut [T; LANES],
        partials: &mut Vec<T>,
        col: usize,
        a: &[T],
        b: &[T],
        f: impl Fn(T, T) -> T,
    ) {
        // a loop rather than a callback per run: LLVM did not inline the
        // callback, which then ran without AVX2
        for (c, ks) in chunk_runs(col, a.len()) {
            self.enter(c / CHUNK, lanes, partials);
            accumulate(lanes, c % LANES, &a[ks.clone()], &b[ks], &f);
        }
    }

    /// Make `chunk` the open chunk, closing the previous one.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn enter<T: Element>(&mut self, chunk: usize, lanes: &mut [T; LANES], partials: &mut Vec<T>) {
        if self.0 != Some(chunk) {
            self.finish(lanes, partials);
            self.0 = Some(chunk);
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

    /// Every combination `twice` has a loop for gives, bit for bit, what
    /// its steps give as separate passes (`scaled` and `binary`), NaNs,
    /// infinities and signed zeros included; the others are refused.
    #[test]
    fn twice_matches_its_steps_one_pass_at_a_time() {
        let specials = [
            0.0,
            -0.0,
            1.5,
            -3.25,
            f64::INFINITY,
            f64::NAN,
            1e308,
            7e-310,
        ];
        let value = |i: usize| specials[(i * 5 + i / 3) % specials.len()] + (i % 4) as f64;
        let a: Vec<f64> = (0..67).map(value).collect();
        let b: Vec<f64> = (0..67).map(|i| value(i + 11)).collect();
        let c: Vec<f64> = (0..67).map(|i| value(i + 29)).collect();
        let (s, s2) = (0.3, -1.7);
        let n = a.len();
        let scale = |post, negate| [(Scale::Mul, negate), (Scale::Div, negate)][post];
        for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div] {
            for inner_post in [Scale::Mul, Scale::Div] {
                for outer in [SelfOp::Double, SelfOp::Square] {
                    for post in [None, Some(scale(0, false)), Some(scale(1, true))] {
                        for addend in [None, Some(Side::Left), Some(Side::Right)] {
                            let inner = ScaledOp {
                                op: Some(op),
                                post: inner_post,
                                negate: false,
                            };
                            let t = TwiceOp {
                                inner,
                                outer,
                                post,
                                addend,
                            };
                            let mut fused = vec![0.0; n];
                            let ran = twice(t, &mut fused, &a, &b, Some(&c), s, s2);
                            let mut step = vec![0.0; n];
                            scaled(inner, &mut step, Src::Slice(&a), Some(Src::Slice(&b)), s);
                            let self_op = match outer {
                                SelfOp::Double => BinOp::Add,
                                SelfOp::Square => BinOp::Mul,
                            };
                            let mut u = vec![0.0; n];
                            match post {
                                None => {
                                    binary(self_op, &mut u, Src::Slice(&step), Src::Slice(&step))
                                }
                                Some((post, negate)) => {
                                    let f = ScaledOp {
                                        op: Some(self_op),
                                        post,
                                        negate,
                                    };
                                    scaled(
                                        f,
                                        &mut u,
                                        Src::Slice(&step),
                                        Some(Src::Slice(&step)),
                                        s2,
                                    )
                                }
                            }
                            let mut want = vec![0.0; n];
                            match addend {
                                None => want.copy_from_slice(&u),
                                Some(Side::Left) => {
                                    binary(BinOp::Add, &mut want, Src::Slice(&u), Src::Slice(&c))
                                }
                                Some(Side::Right) => {
                                    binary(BinOp::Add, &mut want, Src::Slice(&c), Src::Slice(&u))
                                }
                            }
                            let fusable = matches!(op, BinOp::Add | BinOp::Sub)
                                && match outer {
                                    SelfOp::Square => post.is_none() && addend.is_none(),
                                    SelfOp::Double => post.is_some(),
                                };
                            assert_eq!(ran.is_some(), fusable, "{t:?}");
                            if fusable {
                                let bits =
                                    |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                                assert_eq!(bits(&fused), bits(&want), "{t:?}");
                            }
                        }
                    }
                }
            }
        }
    }

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

    /// A fused square sum adds what squaring a tile of stencil values and
    /// reducing that tile would, chunk boundaries and lane offsets included.
    #[test]
    fn square_sum_matches_squaring_then_reducing() {
        let f: Vec<f64> = (0..2600)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.003 - 1.1)
            .collect();
        let (a, b) = (&f[2..2502], &f[..2500]);
        let inner = ScaledOp {
            op: Some(BinOp::Sub),
            post: Scale::Div,
            negate: false,
        };
        let s = 0.7;
        let mut step = vec![0.0; 2500];
        scaled(inner, &mut step, Src::Slice(a), Some(Src::Slice(b)), s);
        let squares: Vec<f64> = step.iter().map(|t| t * t).collect();
        let want: Vec<f64> = squares.chunks(CHUNK).map(chunk_sum).collect();
        for (start, len) in [(0, 2500), (3, 1021), (1020, 9)] {
            let mut lanes = [f64::NEG_ZERO; LANES];
            let (mut partials, mut cursor) = (Vec::new(), ChunkCursor::default());
            let mut at = 0;
            for (c0, n) in [(0, start), (start, len), (start + len, 2500 - start - len)] {
                let (x, y) = (&a[c0..c0 + n], &b[c0..c0 + n]);
                square_sum(inner, &mut cursor, &mut lanes, &mut partials, c0, x, y, s).unwrap();
                at += n;
            }
            assert_eq!(at, 2500);
            cursor.finish(&mut lanes, &mut partials);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&partials), bits(&want), "{start} {len}");
        }
    }
}
