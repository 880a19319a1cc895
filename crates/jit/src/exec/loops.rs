//! The loops of the executor: one instruction over one tile, straight
//! loops over slices that LLVM vectorizes. Every element goes through the
//! same [`Element`] operation as in the reference interpreter.
//!
//! All loops are `inline(always)` in release builds, so that they are
//! compiled into the AVX2 copy of `exec::vector::run_typed` on CPUs that
//! have it; no contraction into FMAs happens without fast-math, so every
//! element still gets the same IEEE operation.

use oxla_ir::{Element, UnaryFn};

use crate::error::unvalidated;
use crate::exec::chunks::RowSum;
use crate::isa::{AddSub, BinOp, MAX_PAIRS, Post, Scale, ScaledOp, Side, Stencil};

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
pub(crate) fn map2<T: Copy>(out: &mut [T], a: Src<'_, T>, b: Src<'_, T>, f: impl Fn(T, T) -> T) {
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

/// Two stencils of one kind and scale bound to one tile: `t1 =
/// post(taps[0] ± taps[1], s)` and `t2 = post(taps[2] ± taps[3], s)`.
#[derive(Clone, Copy)]
pub(crate) struct StencilPairTaps<'a, T> {
    pub stencil: Stencil,
    pub taps: [&'a [T]; 4],
    pub s: T,
}

/// `out = ±post((t1 + t1) op (t2 + t2), s2)`, plus `c` on the given side
/// (a `FusedOp::StencilPair`), each step rounded on its own.
#[inline(always)]
pub(crate) fn stencil_pair<T: Element>(
    out: &mut [T],
    st: StencilPairTaps<'_, T>,
    op: AddSub,
    post: Post,
    s2: T,
    addend: Option<(Side, &[T])>,
) {
    with_stencil!(T, st.stencil, st.s, |f| with_post!(
        T,
        post,
        s2,
        |p| match op {
            AddSub::Sub => map_pair(out, st.taps, addend, |a1, b1, a2, b2| {
                let (t1, t2) = (f(a1, b1), f(a2, b2));
                p(t1.add(t1).sub(t2.add(t2)))
            }),
            AddSub::Add => map_pair(out, st.taps, addend, |a1, b1, a2, b2| {
                let (t1, t2) = (f(a1, b1), f(a2, b2));
                p(t1.add(t1).add(t2.add(t2)))
            }),
        }
    ));
}

/// `out[k] = g(taps[..][k])`, plus `c[k]` on the given side.
#[inline(always)]
fn map_pair<T: Element>(
    out: &mut [T],
    taps: [&[T]; 4],
    addend: Option<(Side, &[T])>,
    g: impl Fn(T, T, T, T) -> T,
) {
    let n = out.len();
    // cut every operand to the tile first: no bounds checks in the loops
    let [a1, b1, a2, b2] = taps.map(|t| &t[..n]);
    match addend {
        None => {
            for k in 0..n {
                out[k] = g(a1[k], b1[k], a2[k], b2[k]);
            }
        }
        Some((Side::Left, c)) => {
            let c = &c[..n];
            for k in 0..n {
                out[k] = g(a1[k], b1[k], a2[k], b2[k]).add(c[k]);
            }
        }
        Some((Side::Right, c)) => {
            let c = &c[..n];
            for k in 0..n {
                out[k] = c[k].add(g(a1[k], b1[k], a2[k], b2[k]));
            }
        }
    }
}

/// `out = sqrt(((a1 - b1)^2 + (a2 - b2)^2) + c)`, or `s / sqrt(...)` with
/// `recip` (a `FusedOp::DiffNorm`), each step rounded on its own.
#[inline(always)]
pub(crate) fn diff_norm<T: Element>(out: &mut [T], taps: [&[T]; 4], c: T, recip: Option<T>) {
    let norm = |a1: T, b1: T, a2: T, b2: T| {
        let (d1, d2) = (a1.sub(b1), a2.sub(b2));
        d1.mul(d1).add(d2.mul(d2)).add(c).unary(UnaryFn::Sqrt)
    };
    match recip {
        None => map_pair(out, taps, None, norm),
        Some(s) => map_pair(out, taps, None, |a1, b1, a2, b2| {
            s.div(norm(a1, b1, a2, b2))
        }),
    }
}

/// `out = ±(w * (d + d))` with `d = a - b` (`w` on the given side of the
/// product), plus `c` on the given side (a `FusedOp::WeightedDouble`).
#[inline(always)]
pub(crate) fn weighted_double<T: Element>(
    out: &mut [T],
    (a, b): (&[T], &[T]),
    (side, w): (Side, &[T]),
    negate: bool,
    addend: Option<(Side, &[T])>,
) {
    // one straight loop per side and sign (`with_sign!` on the triple)
    macro_rules! with_term {
        (|$g:ident| $body:expr) => {
            match side {
                Side::Left => with_sign!(
                    (T, T, T),
                    negate,
                    |(x, y, w): (T, T, T)| {
                        let d = x.sub(y);
                        w.mul(d.add(d))
                    },
                    |$g| $body
                ),
                Side::Right => with_sign!(
                    (T, T, T),
                    negate,
                    |(x, y, w): (T, T, T)| {
                        let d = x.sub(y);
                        d.add(d).mul(w)
                    },
                    |$g| $body
                ),
            }
        };
    }
    with_term!(|g| match addend {
        None => map3(out, a, b, w, |x, y, w| g((x, y, w))),
        Some((Side::Left, c)) => map4(out, [a, b, w, c], |x, y, w, c| g((x, y, w)).add(c)),
        Some((Side::Right, c)) => map4(out, [a, b, w, c], |x, y, w, c| c.add(g((x, y, w)))),
    })
}

/// `out[k] = f(a[k], b[k], c[k], d[k])`.
#[inline(always)]
fn map4<T: Copy>(out: &mut [T], ops: [&[T]; 4], f: impl Fn(T, T, T, T) -> T) {
    let n = out.len();
    let [a, b, c, d] = ops.map(|t| &t[..n]);
    for k in 0..n {
        out[k] = f(a[k], b[k], c[k], d[k]);
    }
}

/// A pair sum bound to one tile (a `FusedOp::PairSum`).
#[derive(Clone, Copy)]
pub(crate) struct PairSumTaps<'a, T> {
    pub op: AddSub,
    pub center: Option<(&'a [T], T)>,
    /// `(a, b, w, scale)` per pair; `pairs[..count]` are summed.
    pub pairs: [(&'a [T], &'a [T], T, Scale); MAX_PAIRS],
    pub count: usize,
}

/// Elements of a pair sum computed per pass over its pairs: each pass
/// over a pair is a straight vectorized loop, long enough that its setup
/// (slicing, the scaling's `match`) is amortized, short enough that the
/// running sum stays in L1 with the taps.
const SUM_CHUNK: usize = 256;

/// `out = (centre or first pair) + (a ± b) ∘ w + ...`, plus `c` on the
/// given side: each step rounded on its own, in the interpreter's order.
/// One instruction whatever the stencil's width: the running sum is
/// written once per pair into `out`, which stays in L1.
#[inline(always)]
pub(crate) fn pair_sum<T: Element>(
    out: &mut [T],
    st: PairSumTaps<'_, T>,
    addend: Option<(Side, &[T])>,
) {
    match st.op {
        AddSub::Add => pair_sum_with(out, st, addend, T::add),
        AddSub::Sub => pair_sum_with(out, st, addend, T::sub),
    }
}

#[inline(always)]
fn pair_sum_with<T: Element>(
    out: &mut [T],
    st: PairSumTaps<'_, T>,
    addend: Option<(Side, &[T])>,
    combine: impl Fn(T, T) -> T + Copy,
) {
    let scale = st.pairs[0].3;
    if st.pairs[..st.count].iter().all(|p| p.3 == scale) {
        macro_rules! in_registers {
            ($($count:literal)*) => {
                match (st.count, scale) {
                    $((
                        $count, Scale::Mul) => summed_in_registers::<T, $count, false>(out, &st, combine),
                        ($count, Scale::Div) => summed_in_registers::<T, $count, true>(out, &st, combine),
                    )*
                    _ => unvalidated("a pair sum of 1 to MAX_PAIRS pairs"),
                }
            };
        }
        in_registers!(1 2 3 4 5 6);
        add_addend(out, addend, 0);
        return;
    }
    let n = out.len();
    let mut k = 0;
    while k < n {
        let len = SUM_CHUNK.min(n - k);
        pair_sum_chunk(&mut out[k..k + len], &st, addend, combine, k);
        k += len;
    }
}

/// A pair sum whose pairs all scale the same way, its pair count known
/// here: the element loop is outside, the pairs unrolled inside it, so the
/// running sum stays in a vector register and every tap is read once (one
/// pass over the tile, as `gradient`'s stencil). Same steps, same order as
/// [`pair_sum_chunk`].
#[inline(always)]
fn summed_in_registers<T: Element, const N: usize, const DIV: bool>(
    out: &mut [T],
    st: &PairSumTaps<'_, T>,
    combine: impl Fn(T, T) -> T + Copy,
) {
    let n = out.len();
    let a: [&[T]; N] = std::array::from_fn(|p| &st.pairs[p].0[..n]);
    let b: [&[T]; N] = std::array::from_fn(|p| &st.pairs[p].1[..n]);
    let w: [T; N] = std::array::from_fn(|p| st.pairs[p].2);
    match st.center {
        Some((c, w0)) => {
            let c = &c[..n];
            for (j, o) in out.iter_mut().enumerate() {
                let mut sum = c[j].mul(w0);
                for p in 0..N {
                    sum = sum.add(scaled_tap::<T, DIV>(combine(a[p][j], b[p][j]), w[p]));
                }
                *o = sum;
            }
        }
        None => {
            for (j, o) in out.iter_mut().enumerate() {
                let mut sum = scaled_tap::<T, DIV>(combine(a[0][j], b[0][j]), w[0]);
                for p in 1..N {
                    sum = sum.add(scaled_tap::<T, DIV>(combine(a[p][j], b[p][j]), w[p]));
                }
                *o = sum;
            }
        }
    }
}

#[inline(always)]
fn scaled_tap<T: Element, const DIV: bool>(d: T, w: T) -> T {
    if DIV { d.div(w) } else { d.mul(w) }
}

/// `out.len()` elements of a pair sum from element `k` of the operands,
/// one straight zip per pair.
#[inline(always)]
fn pair_sum_chunk<T: Element>(
    out: &mut [T],
    st: &PairSumTaps<'_, T>,
    addend: Option<(Side, &[T])>,
    combine: impl Fn(T, T) -> T + Copy,
    k: usize,
) {
    let len = out.len();
    let mut pairs = st.pairs[..st.count].iter();
    match (st.center, pairs.next()) {
        (Some((c, w)), first) => {
            for (o, &x) in out.iter_mut().zip(&c[k..k + len]) {
                *o = x.mul(w);
            }
            if let Some(&pair) = first {
                add_pair(out, pair, combine, k);
            }
        }
        (None, Some(&(a, b, w, scale))) => {
            let (a, b) = (&a[k..k + len], &b[k..k + len]);
            match scale {
                Scale::Mul => {
                    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                        *o = combine(x, y).mul(w);
                    }
                }
                Scale::Div => {
                    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                        *o = combine(x, y).div(w);
                    }
                }
            }
        }
        (None, None) => {}
    }
    for &pair in pairs {
        add_pair(out, pair, combine, k);
    }
    add_addend(out, addend, k);
}

/// `out = out + c[k..]` (`Side::Left`) or `c[k..] + out` (`Side::Right`):
/// a fused instruction's addend, added last.
#[inline(always)]
fn add_addend<T: Element>(out: &mut [T], addend: Option<(Side, &[T])>, k: usize) {
    match addend {
        None => {}
        Some((Side::Left, c)) => {
            for (o, &z) in out.iter_mut().zip(&c[k..]) {
                *o = o.add(z);
            }
        }
        Some((Side::Right, c)) => {
            for (o, &z) in out.iter_mut().zip(&c[k..]) {
                *o = z.add(*o);
            }
        }
    }
}

/// `out[j] = out[j] + (a[k + j] ± b[k + j]) ∘ w`.
#[inline(always)]
fn add_pair<T: Element>(
    out: &mut [T],
    (a, b, w, scale): (&[T], &[T], T, Scale),
    combine: impl Fn(T, T) -> T + Copy,
    k: usize,
) {
    let n = out.len();
    let (a, b) = (&a[k..k + n], &b[k..k + n]);
    match scale {
        Scale::Mul => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = o.add(combine(x, y).mul(w));
            }
        }
        Scale::Div => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = o.add(combine(x, y).div(w));
            }
        }
    }
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
    use oxla_ir::Math;
    use oxla_ir::reduce::{CHUNK, LANES, chunk_sum};

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every stencil instruction gives, bit for bit, what its steps give as
    /// separate passes (`scaled` and `binary`), NaNs, infinities and signed
    /// zeros included. (The combinations without a loop cannot be built:
    /// `Stencil` and `FusedOp` hold only these.)
    /// Element `i` of a test operand: signed zeros, infinities, NaN, huge
    /// and subnormal values, shifted so that neighbours differ.
    fn value(i: usize) -> f64 {
        const SPECIALS: [f64; 8] = [
            0.0,
            -0.0,
            1.5,
            -3.25,
            f64::INFINITY,
            f64::NAN,
            1e308,
            7e-310,
        ];
        SPECIALS[(i * 5 + i / 3) % SPECIALS.len()] + (i % 4) as f64
    }

    /// `DiffNorm` and `WeightedDouble` give, bit for bit, what their
    /// steps give one `binary`/`neg`/sqrt pass at a time, special values
    /// included, in every form (reciprocal or not, weight on either side,
    /// negated or not, addend on either side).
    #[test]
    fn magnitudes_and_weighted_doublings_match_their_steps_one_pass_at_a_time() {
        let n = 67;
        let ops: Vec<Vec<f64>> = (0..5)
            .map(|k| (0..n).map(|i| value(i + 13 * k)).collect())
            .collect();
        let [a1, b1, a2, b2, w] = [&ops[0], &ops[1], &ops[2], &ops[3], &ops[4]];
        let pass = |op: BinOp, x: &[f64], y: &[f64]| {
            let mut out = vec![0.0; n];
            binary(op, &mut out, Src::Slice(x), Src::Slice(y));
            out
        };
        let (c, s) = (1e-6, 0.5);
        let d1 = pass(BinOp::Sub, a1, b1);
        let d2 = pass(BinOp::Sub, a2, b2);
        let q = pass(
            BinOp::Add,
            &pass(BinOp::Mul, &d1, &d1),
            &pass(BinOp::Mul, &d2, &d2),
        );
        let q = pass(BinOp::Add, &q, &vec![c; n]);
        let norm: Vec<f64> = q.iter().map(|&x| x.unary(UnaryFn::Sqrt)).collect();
        let recip = pass(BinOp::Div, &vec![s; n], &norm);
        for (want, r) in [(&norm, None), (&recip, Some(s))] {
            let mut got = vec![0.0; n];
            diff_norm(&mut got, [a1, b1, a2, b2], c, r);
            assert_eq!(bits(&got), bits(want), "recip {r:?}");
        }
        let dd = pass(BinOp::Add, &d1, &d1);
        for side in [Side::Left, Side::Right] {
            let product = match side {
                Side::Left => pass(BinOp::Mul, w, &dd),
                Side::Right => pass(BinOp::Mul, &dd, w),
            };
            for negate in [false, true] {
                let term = if negate {
                    let mut out = vec![0.0; n];
                    neg(&mut out, Src::Slice(&product));
                    out
                } else {
                    product.clone()
                };
                let sums = [
                    (None, term.clone()),
                    (Some(Side::Left), pass(BinOp::Add, &term, a2)),
                    (Some(Side::Right), pass(BinOp::Add, a2, &term)),
                ];
                for (addend, want) in sums {
                    let mut got = vec![0.0; n];
                    let addend = addend.map(|side| (side, &a2[..]));
                    weighted_double(&mut got, (a1, b1), (side, w), negate, addend);
                    assert_eq!(bits(&got), bits(&want), "{side:?} {negate} {addend:?}");
                }
            }
        }
    }

    #[test]
    fn stencil_instructions_match_their_steps_one_pass_at_a_time() {
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

    /// A stencil pair gives, bit for bit, what its steps give one pass at
    /// a time: two stencils, two doublings, their sum or difference scaled
    /// (negated or not), and the addend on either side.
    #[test]
    fn stencil_pairs_match_their_steps_one_pass_at_a_time() {
        let taps: Vec<Vec<f64>> = (0..5)
            .map(|k| (0..61).map(|i| value(i + 13 * k)).collect())
            .collect();
        let (s, s2) = (0.3, -1.7);
        let n = taps[0].len();
        let step = |f: ScaledOp, a: &[f64], b: &[f64], s: f64| {
            let mut t = vec![0.0; n];
            scaled(f, &mut t, Src::Slice(a), Some(Src::Slice(b)), s);
            t
        };
        let plain = |op: BinOp, a: &[f64], b: &[f64]| {
            let mut t = vec![0.0; n];
            binary(op, &mut t, Src::Slice(a), Src::Slice(b));
            t
        };
        for stencil in [AddSub::Add, AddSub::Sub]
            .into_iter()
            .flat_map(|op| [Scale::Mul, Scale::Div].map(|scale| Stencil { op, scale }))
        {
            let t1 = step(stencil.scaled(), &taps[0], &taps[1], s);
            let t2 = step(stencil.scaled(), &taps[2], &taps[3], s);
            let (u1, u2) = (plain(BinOp::Add, &t1, &t1), plain(BinOp::Add, &t2, &t2));
            for op in [AddSub::Add, AddSub::Sub] {
                for post in [Scale::Mul, Scale::Div]
                    .into_iter()
                    .flat_map(|scale| [false, true].map(|negate| Post { scale, negate }))
                {
                    let bin = if op == AddSub::Add {
                        BinOp::Add
                    } else {
                        BinOp::Sub
                    };
                    let v = step(
                        ScaledOp {
                            op: Some(bin),
                            post,
                        },
                        &u1,
                        &u2,
                        s2,
                    );
                    for addend in [None, Some(Side::Left), Some(Side::Right)] {
                        let want = match addend {
                            None => v.clone(),
                            Some(Side::Left) => plain(BinOp::Add, &v, &taps[4]),
                            Some(Side::Right) => plain(BinOp::Add, &taps[4], &v),
                        };
                        let pair = StencilPairTaps {
                            stencil,
                            taps: [&taps[0], &taps[1], &taps[2], &taps[3]],
                            s,
                        };
                        let mut fused = vec![0.0; n];
                        let addend = addend.map(|side| (side, taps[4].as_slice()));
                        stencil_pair(&mut fused, pair, op, post, s2, addend);
                        let what = format!("{stencil:?} {op:?} {post:?} {addend:?}");
                        assert_eq!(bits(&fused), bits(&want), "{what}");
                    }
                }
            }
        }
    }

    /// A pair sum gives, bit for bit, what its steps give one pass at a
    /// time, for every count of pairs, with and without a centre, either
    /// scaling per pair, an addend on either side, and tiles shorter and
    /// longer than a chunk.
    #[test]
    fn pair_sums_match_their_steps_one_pass_at_a_time() {
        let col = |k: usize, n: usize| -> Vec<f64> { (0..n).map(|i| value(i + 7 * k)).collect() };
        for n in [1, 31, 32, 33, 70, 256, 300, 1024] {
            let slices: Vec<Vec<f64>> = (0..2 * MAX_PAIRS + 2).map(|k| col(k, n)).collect();
            let w = [0.5, -1.25, 3.0, -0.1, 7.0, 1e-3, 2.5];
            for op in [AddSub::Add, AddSub::Sub] {
                let bin = if op == AddSub::Add {
                    BinOp::Add
                } else {
                    BinOp::Sub
                };
                for count in 1..=MAX_PAIRS {
                    for centered in [false, true] {
                        for (scaling, addend) in (0..3).flat_map(|scaling| {
                            [None, Some(Side::Left), Some(Side::Right)].map(|a| (scaling, a))
                        }) {
                            // mixed scalings take the chunked loops,
                            // uniform ones the register loops
                            let scale = |p: usize| match (scaling, p.is_multiple_of(2)) {
                                (0, _) | (2, true) => Scale::Mul,
                                (1, _) | (2, false) => Scale::Div,
                                _ => unreachable!(),
                            };
                            let pair = |p: usize| {
                                (
                                    &slices[2 * p][..],
                                    &slices[2 * p + 1][..],
                                    w[p + 1],
                                    scale(p),
                                )
                            };
                            // the steps: each term, then the running sum
                            let term = |p: usize| {
                                let mut t = vec![0.0; n];
                                let post = Post {
                                    scale: scale(p),
                                    negate: false,
                                };
                                scaled(
                                    ScaledOp {
                                        op: Some(bin),
                                        post,
                                    },
                                    &mut t,
                                    Src::Slice(pair(p).0),
                                    Some(Src::Slice(pair(p).1)),
                                    w[p + 1],
                                );
                                t
                            };
                            let center = &slices[2 * MAX_PAIRS];
                            let mut want = if centered {
                                let mut t = vec![0.0; n];
                                binary(BinOp::Mul, &mut t, Src::Slice(center), Src::Scalar(w[0]));
                                t
                            } else {
                                term(0)
                            };
                            for p in usize::from(!centered)..count {
                                let t = term(p);
                                let sum = want.clone();
                                binary(BinOp::Add, &mut want, Src::Slice(&sum), Src::Slice(&t));
                            }
                            let c = &slices[2 * MAX_PAIRS + 1];
                            match addend {
                                Some(Side::Left) => {
                                    let sum = want.clone();
                                    binary(BinOp::Add, &mut want, Src::Slice(&sum), Src::Slice(c));
                                }
                                Some(Side::Right) => {
                                    let sum = want.clone();
                                    binary(BinOp::Add, &mut want, Src::Slice(c), Src::Slice(&sum));
                                }
                                None => {}
                            }
                            let taps = PairSumTaps {
                                op,
                                center: centered.then_some((&center[..], w[0])),
                                pairs: std::array::from_fn(|p| pair(if p < count { p } else { 0 })),
                                count,
                            };
                            let mut fused = vec![0.0; n];
                            pair_sum(&mut fused, taps, addend.map(|side| (side, &c[..])));
                            let what = format!(
                                "n {n} {op:?} {count} pairs centre {centered} {addend:?} scaling {scaling}"
                            );
                            assert_eq!(bits(&fused), bits(&want), "{what}");
                        }
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
