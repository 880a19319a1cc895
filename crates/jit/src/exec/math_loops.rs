//! The loops of the elementwise math instructions (`Elementwise::Unary`,
//! `BinaryFn`, `Select`): one straight loop per function over a tile, each
//! element through the same [`Math`] call as the reference interpreter
//! (std's `f32`/`f64` methods, the platform libm for transcendentals), so
//! results are the interpreter's bit for bit.
//!
//! Each function gets its own loop (the `match` is outside it), so the
//! ones that are single instructions (`sqrt`, `abs`, `maximum`, `select`)
//! vectorize; the libm calls cannot, and cost a call per element either way.
//! `inline(always)` in release builds, as `exec/loops.rs`, so the loops are
//! compiled into the AVX2 and AVX-512 copies of `run_typed`.

use oxla_ir::{BinaryFn, Compare, Element, UnaryFn};

use crate::exec::loops::{Src, map2};

#[inline(always)]
fn map1<T: Copy>(out: &mut [T], a: Src<'_, T>, f: impl Fn(T) -> T) {
    match a {
        Src::Slice(a) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x);
            }
        }
        Src::Scalar(x) => out.fill(f(x)),
    }
}

/// One loop per function: `$f` is a constant in each arm, so the
/// `Math` call's own `match` folds away.
macro_rules! per_fn {
    ($f:expr, [$($v:ident),*], |$c:ident| $body:expr) => {
        match $f {
            $(UnaryFn::$v => {
                const $c: UnaryFn = UnaryFn::$v;
                $body
            })*
        }
    };
}

/// `out = f(a)`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn unary<T: Element>(f: UnaryFn, out: &mut [T], a: Src<'_, T>) {
    per_fn!(
        f,
        [Sqrt, Exp, Log, Log1p, Expm1, Sin, Cos, Tanh, Abs, Sign],
        |F| map1(out, a, |x| x.unary(F))
    )
}

/// `out = f(a, b)`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn binary_fn<T: Element>(f: BinaryFn, out: &mut [T], a: Src<'_, T>, b: Src<'_, T>) {
    match f {
        BinaryFn::Max => map2(out, a, b, |x, y| x.binary_fn(BinaryFn::Max, y)),
        BinaryFn::Min => map2(out, a, b, |x, y| x.binary_fn(BinaryFn::Min, y)),
        BinaryFn::Pow => map2(out, a, b, |x, y| x.binary_fn(BinaryFn::Pow, y)),
    }
}

/// `out = a cmp b ? x : y`.
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn select<T: Element>(cmp: Compare, out: &mut [T], ops: [Src<'_, T>; 4]) {
    macro_rules! each {
        ($c:ident) => {{
            let pick = |a: T, b: T, x: T, y: T| if a.compare(Compare::$c, b) { x } else { y };
            select_with(out, ops, pick)
        }};
    }
    match cmp {
        Compare::Lt => each!(Lt),
        Compare::Le => each!(Le),
        Compare::Gt => each!(Gt),
        Compare::Ge => each!(Ge),
        Compare::Eq => each!(Eq),
    }
}

#[inline(always)]
fn select_with<T: Copy>(out: &mut [T], ops: [Src<'_, T>; 4], pick: impl Fn(T, T, T, T) -> T) {
    let n = out.len();
    match ops {
        // the common case (|x| and the extrema's shares: a compared with
        // a constant, branches of a tile each) without a match per element
        [Src::Slice(a), Src::Scalar(b), Src::Slice(x), Src::Slice(y)] => {
            let (a, x, y) = (&a[..n], &x[..n], &y[..n]);
            for k in 0..n {
                out[k] = pick(a[k], b, x[k], y[k]);
            }
        }
        [Src::Slice(a), Src::Slice(b), Src::Slice(x), Src::Slice(y)] => {
            let (a, b, x, y) = (&a[..n], &b[..n], &x[..n], &y[..n]);
            for k in 0..n {
                out[k] = pick(a[k], b[k], x[k], y[k]);
            }
        }
        [a, b, x, y] => {
            for (k, o) in out.iter_mut().enumerate() {
                *o = pick(a.at(k), b.at(k), x.at(k), y.at(k));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxla_ir::Math;

    /// Each loop computes, element by element, what the interpreter's
    /// `Math` calls compute, for every operand form.
    #[test]
    fn loops_are_their_elementwise_steps() {
        let a: Vec<f64> = (0..37).map(|i| (i as f64 - 18.0) * 0.37).collect();
        let b: Vec<f64> = (0..37).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.5).collect();
        let mut out = vec![0.0; 37];
        for f in UnaryFn::ALL {
            unary(f, &mut out, Src::Slice(&a));
            for k in 0..37 {
                assert_eq!(out[k].to_bits(), a[k].unary(f).to_bits(), "{f:?} {}", a[k]);
            }
        }
        for f in BinaryFn::ALL {
            for (sa, sb) in [
                (Src::Slice(&a[..]), Src::Slice(&b[..])),
                (Src::Slice(&a[..]), Src::Scalar(0.5)),
                (Src::Scalar(-1.5), Src::Slice(&b[..])),
            ] {
                binary_fn(f, &mut out, sa, sb);
                for (k, o) in out.iter().enumerate() {
                    let want = sa.at(k).binary_fn(f, sb.at(k));
                    assert_eq!(o.to_bits(), want.to_bits(), "{f:?}");
                }
            }
        }
        for c in Compare::ALL {
            for ops in [
                [
                    Src::Slice(&a[..]),
                    Src::Scalar(0.0),
                    Src::Slice(&a[..]),
                    Src::Slice(&b[..]),
                ],
                [
                    Src::Slice(&a[..]),
                    Src::Slice(&b[..]),
                    Src::Slice(&b[..]),
                    Src::Slice(&a[..]),
                ],
                [
                    Src::Scalar(1.0),
                    Src::Slice(&b[..]),
                    Src::Scalar(2.0),
                    Src::Slice(&a[..]),
                ],
            ] {
                select(c, &mut out, ops);
                for (k, o) in out.iter().enumerate() {
                    let [p, q, x, y] = ops.map(|o| o.at(k));
                    let want = if p.compare(c, q) { x } else { y };
                    assert_eq!(o.to_bits(), want.to_bits(), "{c:?}");
                }
            }
        }
    }
}
