//! The loops of the executor: one instruction over one tile, straight
//! loops over slices that LLVM vectorizes. Every element goes through the
//! same [`Element`] operation as in the reference interpreter.
//!
//! All loops are `inline(always)` in release builds, so that they are
//! compiled into the AVX2 copy of `exec::vector::run_typed` on CPUs that
//! have it; no contraction into FMAs happens without fast-math, so every
//! element still gets the same IEEE operation.

use oxla_ir::Element;

use crate::exec::chunks::RowSum;
use crate::isa::{AddSub, BinOp, Post, Scale, ScaledOp, Side, Stencil};

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

/// A stencil bound to one tile: `post(a[k] ± b[k], s)` for each `k`.
#[derive(Clone, Copy)]
pub(crate) struct StencilTaps<'a, T> {
    pub stencil: Stencil,
    pub a: &'a [T],
    pub b: &'a [T],
    pub s: T,
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

#[inline(always)]
fn map3<T: Copy>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(x, y, z);
    }
}

/// `out = a op b`.
#[inline(always)]
pub(crate) fn binary<T: Element>(op: BinOp, out: &mut [T], a: Src<'_, T>, b: Src<'_, T>) {
    match op {
        BinOp::Add => map2(out, a, b, T::add),
        BinOp::Sub => map2(out, a, b, T::sub),
        BinOp::Mul => map2(out, a, b, T::mul),
        BinOp::Div => map2(out, a, b, T::div),
    }
}

/// Bind `$p` to `$f` or, if `$negate`, to its negation, and run `$body`:
/// one straight loop for each.
macro_rules! with_sign {
    ($T:ty, $negate:expr, $f:expr, |$p:ident| $body:expr) => {{
        let f = $f;
        if $negate {
            let $p = |t: $T| f(t).neg();
            $body
        } else {
            let $p = f;
            $body
        }
    }};
}

/// Bind `$p` to the scaling step `±post(t, s)` and run `$body`, once per
/// combination so each loop stays straight.
macro_rules! with_post {
    ($T:ty, $post:expr, $s:expr, |$p:ident| $body:expr) => {{
        let s: $T = $s;
        let post: Post = $post;
        match post.scale {
            Scale::Div => with_sign!($T, post.negate, |t: $T| t.div(s), |$p| $body),
            Scale::Mul => with_sign!($T, post.negate, |t: $T| t.mul(s), |$p| $body),
        }
    }};
}

/// Bind `$f` to `post(g(x, y), s)`, unnegated, and run `$body`: one
/// straight loop for each scaling.
macro_rules! with_scale {
    ($T:ty, $scale:expr, $s:expr, $g:expr, |$f:ident| $body:expr) => {{
        let (g, s): (_, $T) = ($g, $s);
        match $scale {
            Scale::Mul => {
                let $f = |x: $T, y: $T| g(x, y).mul(s);
                $body
            }
            Scale::Div => {
                let $f = |x: $T, y: $T| g(x, y).div(s);
                $body
            }
        }
    }};
}

/// Bind `$f` to the stencil step `post(x ± y, s)` and run `$body`, once
/// per combination so each loop stays straight.
macro_rules! with_stencil {
    ($T:ty, $stencil:expr, $s:expr, |$f:ident| $body:expr) => {{
        let stencil: Stencil = $stencil;
        match stencil.op {
            AddSub::Sub => with_scale!($T, stencil.scale, $s, |x: $T, y: $T| x.sub(y), |$f| $body),
            AddSub::Add => with_scale!($T, stencil.scale, $s, |x: $T, y: $T| x.add(y), |$f| $body),
        }
    }};
}

/// `out = ±post(op(a, b), s)` (or `±post(a, s)` without `op`) in one pass:
/// each operation rounds to `T` on its own, exactly as separate passes would.
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
        None => with_post!(T, f.post, s, |p| map1(out, a, p)),
        Some(BinOp::Add) => with_post!(T, f.post, s, |p| map2(out, a, b, |x, y| p(x.add(y)))),
        Some(BinOp::Sub) => with_post!(T, f.post, s, |p| map2(out, a, b, |x, y| p(x.sub(y)))),
        Some(BinOp::Mul) => with_post!(T, f.post, s, |p| map2(out, a, b, |x, y| p(x.mul(y)))),
        Some(BinOp::Div) => with_post!(T, f.post, s, |p| map2(out, a, b, |x, y| p(x.div(y)))),
    }
}

/// `out = t * t` with `t` the stencil (a `FusedOp::StencilSquare`).
#[inline(always)]
pub(crate) fn stencil_square<T: Element>(out: &mut [T], st: StencilTaps<'_, T>) {
    with_stencil!(T, st.stencil, st.s, |f| map2(
        out,
        Src::Slice(st.a),
        Src::Slice(st.b),
        |x, y| {
            let t = f(x, y);
            t.mul(t)
        }
    ));
}

/// `out = ±post(t + t, s2)` with `t` the stencil, plus `c` on the given
/// side (a `FusedOp::StencilDouble`).
#[inline(always)]
pub(crate) fn stencil_double<T: Element>(
    out: &mut [T],
    st: StencilTaps<'_, T>,
    post: Post,
    s2: T,
    addend: Option<(Side, &[T])>,
) {
    let (a, b) = (st.a, st.b);
    with_stencil!(T, st.stencil, st.s, |f| with_post!(T, post, s2, |p| {
        let g = |x: T, y: T| {
            let t = f(x, y);
            p(t.add(t))
        };
        match addend {
            None => map2(out, Src::Slice(a), Src::Slice(b), g),
            Some((Side::Left, c)) => map3(out, a, b, c, |x, y, z| g(x, y).add(z)),
            Some((Side::Right, c)) => map3(out, a, b, c, |x, y, z| z.add(g(x, y))),
        }
    }));
}

/// Add the stencil's squares into a row's sum at row positions
/// `col..col + len` (a `FusedSum` of a `FusedOp::StencilSquare`).
#[inline(always)]
pub(crate) fn stencil_square_sum<T: Element>(
    sum: &mut RowSum<'_, T>,
    col: usize,
    st: StencilTaps<'_, T>,
) {
    with_stencil!(T, st.stencil, st.s, |f| sum.add_mapped(
        col,
        st.a,
        st.b,
        |x, y| {
            let t = f(x, y);
            t.mul(t)
        }
    ));
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

/// `out[k] = buf[start + k * stride]`. Validation keeps every gather inside
/// its buffer and its stride positive (views never reverse an axis, and a
/// view with stride 0 along the tile is a scalar).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn gather<T: Element>(out: &mut [T], buf: &[T], start: usize, stride: usize) {
    // one slice bounds check here, not one per element
    let Some(last_k) = out.len().checked_sub(1) else {
        return;
    };
    let window = &buf[start..=start + last_k * stride];
    for (o, x) in out.iter_mut().zip(window.iter().step_by(stride)) {
        *o = *x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::chunks::ChunkCursor;
    use oxla_ir::reduce::{CHUNK, LANES, chunk_sum};

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every stencil instruction gives, bit for bit, what its steps give as
    /// separate passes (`scaled` and `binary`), NaNs, infinities and signed
    /// zeros included. (The combinations without a loop cannot be built:
    /// `Stencil` and `FusedOp` hold only these.)
    #[test]
    fn stencil_instructions_match_their_steps_one_pass_at_a_time() {
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
        for op in [AddSub::Add, AddSub::Sub] {
            for scale in [Scale::Mul, Scale::Div] {
                let stencil = Stencil { op, scale };
                let st = StencilTaps {
                    stencil,
                    a: &a,
                    b: &b,
                    s,
                };
                let mut t = vec![0.0; n];
                scaled(
                    stencil.scaled(),
                    &mut t,
                    Src::Slice(&a),
                    Some(Src::Slice(&b)),
                    s,
                );
                // the square
                let mut want = vec![0.0; n];
                binary(BinOp::Mul, &mut want, Src::Slice(&t), Src::Slice(&t));
                let mut fused = vec![0.0; n];
                stencil_square(&mut fused, st);
                assert_eq!(bits(&fused), bits(&want), "square {stencil:?}");
                // the scaled doubling, alone or added to c on either side
                for post in [
                    Post {
                        scale: Scale::Mul,
                        negate: false,
                    },
                    Post {
                        scale: Scale::Div,
                        negate: true,
                    },
                ] {
                    let double = ScaledOp {
                        op: Some(BinOp::Add),
                        post,
                    };
                    let mut u = vec![0.0; n];
                    scaled(double, &mut u, Src::Slice(&t), Some(Src::Slice(&t)), s2);
                    for addend in [None, Some(Side::Left), Some(Side::Right)] {
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
                        let mut fused = vec![0.0; n];
                        let addend = addend.map(|side| (side, c.as_slice()));
                        stencil_double(&mut fused, st, post, s2, addend);
                        let what = format!("double {stencil:?} {post:?} {addend:?}");
                        assert_eq!(bits(&fused), bits(&want), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn gather_reads_strided_elements() {
        let buf: Vec<f64> = (0..10).map(f64::from).collect();
        let mut out = [0.0; 3];
        gather(&mut out, &buf, 1, 4);
        assert_eq!(out, [1.0, 5.0, 9.0]);
        gather(&mut [], &buf, 50, 3);
    }

    #[test]
    #[should_panic(expected = "range end index 10 out of range for slice of length 10")]
    fn gather_outside_its_buffer_panics_rather_than_reading_it() {
        let buf: Vec<f64> = (0..10).map(f64::from).collect();
        let mut out = [7.0; 3];
        gather(&mut out, &buf, 2, 4);
    }

    /// A fused square sum adds what squaring a tile of stencil values and
    /// reducing that tile would, chunk boundaries and lane offsets included.
    #[test]
    fn square_sum_matches_squaring_then_reducing() {
        let f: Vec<f64> = (0..2600)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.003 - 1.1)
            .collect();
        let (a, b) = (&f[2..2502], &f[..2500]);
        let stencil = Stencil {
            op: AddSub::Sub,
            scale: Scale::Div,
        };
        let s = 0.7;
        let mut step = vec![0.0; 2500];
        scaled(
            stencil.scaled(),
            &mut step,
            Src::Slice(a),
            Some(Src::Slice(b)),
            s,
        );
        let squares: Vec<f64> = step.iter().map(|t| t * t).collect();
        let want: Vec<f64> = squares.chunks(CHUNK).map(chunk_sum).collect();
        for (start, len) in [(0, 2500), (3, 1021), (1020, 9)] {
            let mut lanes = [f64::NEG_ZERO; LANES];
            let (mut partials, mut cursor) = (Vec::new(), ChunkCursor::default());
            let mut sum = RowSum {
                cursor: &mut cursor,
                lanes: &mut lanes,
                partials: &mut partials,
            };
            let mut at = 0;
            for (c0, n) in [(0, start), (start, len), (start + len, 2500 - start - len)] {
                let st = StencilTaps {
                    stencil,
                    a: &a[c0..c0 + n],
                    b: &b[c0..c0 + n],
                    s,
                };
                stencil_square_sum(&mut sum, c0, st);
                at += n;
            }
            assert_eq!(at, 2500);
            sum.finish();
            assert_eq!(bits(&partials), bits(&want), "{start} {len}");
        }
    }
}
