//! Streamed outputs stored straight from the loop, for the instruction
//! that writes every forward `gradient`'s interior.
//!
//! A streamed output (`exec::stream`) is normally computed into an L1
//! scratch tile and then copied out with non-temporal stores: the tile is
//! written and read once more than needed, and the copy cannot start
//! before the loop ends. `examples/store_model.rs` measured storing from
//! the loop instead at 1.2-1.3x faster; the general version, every loop
//! taking a streamed destination, made the jit's release build over three
//! times slower (LLVM's loop passes on the one function per SIMD width
//! that every loop is inlined into), and a line that reaches its
//! non-temporal store through memory is slower than the staged tile. So
//! this module does it for one instruction only, in small functions of
//! their own (called once per tile, not inlined into the per-width copy of
//! the executor): [`FusedOp::Scaled`](crate::isa::FusedOp::Scaled) with two
//! slice operands, `±post(a op b, s)`, in f32 and f64, with each 64-byte
//! line computed in registers and stored by the width's own non-temporal
//! store. That is the central difference `(f[i+1] - f[i-1]) * s` of every
//! axis of a forward `gradient`.
//!
//! Every element gets the same IEEE operations in the same order as the
//! staged loop (`loops::scaled`), each rounded on its own; the partial
//! lines at the tile's ends go through that loop itself. So the bits do not
//! change, only the stores (the streamed-outputs tests in
//! `tests/simd_widths.rs` and the unit tests below check it at every
//! width). The portable width keeps the staged path.
//!
//! `OXLA_STREAM_DIRECT=0` turns this off, to measure it against the
//! staged path on each machine.

use oxla_ir::{ArrayElement, DType};

use crate::exec::loops::{self, Src};
use crate::exec::simd::{Simd, active_simd};
use crate::exec::stream::{LINE, whole_lines};
use crate::isa::{BinOp, Post, Scale, ScaledOp};

/// False if `OXLA_STREAM_DIRECT=0` (read once per process): streamed
/// outputs are then all staged, as before this module.
pub(crate) fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        !matches!(
            std::env::var("OXLA_STREAM_DIRECT")
                .as_deref()
                .map(str::trim),
            Ok("0")
        )
    })
}

/// Write `out[k] = ±post(a[k] op b[k], s)` with the whole 64-byte lines of
/// `out` stored by non-temporal stores straight from registers, the rest
/// by ordinary stores. Returns false, having written nothing, when this
/// instruction, type or width has no such loop (the caller stages the
/// tile instead). The caller fences after its work item (`exec::stream::fence`).
pub(crate) fn scaled<T: ArrayElement>(f: ScaledOp, out: &mut [T], a: &[T], b: &[T], s: T) -> bool {
    let Some(op) = f.op else {
        return false;
    };
    let Some(width) = width_for(T::DTYPE) else {
        return false;
    };
    if a.len() < out.len() || b.len() < out.len() {
        return false;
    }
    let (a, b) = (&a[..out.len()], &b[..out.len()]);
    // f32 and f64 (`width_for`) are aligned to their size, which divides
    // a line: the head and body are whole elements.
    let size = std::mem::size_of::<T>();
    let (head, body) = whole_lines(out.as_ptr() as usize, std::mem::size_of_val(out));
    let (head, body) = (head / size, body / size);
    let (out_head, rest) = out.split_at_mut(head);
    let (out_body, out_tail) = rest.split_at_mut(body);
    let (a_head, a_rest) = a.split_at(head);
    let (a_body, a_tail) = a_rest.split_at(body);
    let (b_head, b_rest) = b.split_at(head);
    let (b_body, b_tail) = b_rest.split_at(body);
    if body > 0 && !lines(width, op, f.post, out_body, a_body, b_body, s) {
        return false;
    }
    let staged =
        |o: &mut [T], x: &[T], y: &[T]| loops::scaled(f, o, Src::Slice(x), Some(Src::Slice(y)), s);
    staged(out_head, a_head, b_head);
    staged(out_tail, a_tail, b_tail);
    true
}

/// The width whose line loops run for `dtype`, if any (the portable
/// width has none).
fn width_for(dtype: DType) -> Option<Simd> {
    let width = active_simd();
    let has_loops = matches!(dtype, DType::F32 | DType::F64) && width != Simd::Portable;
    (has_loops && enabled()).then_some(width)
}

/// The line loop of `width` for `T` over `out` (on a line boundary, whole
/// lines long); false, writing nothing, if `T` is not f32 or f64.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn lines<T: ArrayElement>(
    width: Simd,
    op: BinOp,
    post: Post,
    out: &mut [T],
    a: &[T],
    b: &[T],
    s: T,
) -> bool {
    debug_assert!((out.as_ptr() as usize).is_multiple_of(LINE));
    debug_assert!(std::mem::size_of_val(out).is_multiple_of(LINE));
    /// The operands as `$E`, then the line loop `$f`.
    macro_rules! call {
        ($E:ty, $f:ident) => {{
            let (Ok(o), Ok(x), Ok(y), Ok(s)) = (
                bytemuck::try_cast_slice_mut::<T, $E>(out),
                bytemuck::try_cast_slice::<T, $E>(a),
                bytemuck::try_cast_slice::<T, $E>(b),
                bytemuck::try_cast::<T, $E>(s),
            ) else {
                return false;
            };
            // SAFETY: `$f` needs only the CPU features of its
            // `target_feature` attribute, and `width_for` took `width`
            // from `active_simd`, which reports a width only if
            // `Simd::available` found all of them; `out` starts on a line
            // boundary and is whole lines long (asserted above in debug
            // builds; `scaled` cuts it so), as its aligned stores require;
            // `a` and `b` are as long as `out`.
            unsafe { $f(op, post, o, x, y, s) }
        }};
    }
    match (T::DTYPE, width) {
        (DType::F64, Simd::Avx512) => call!(f64, avx512_f64),
        (DType::F32, Simd::Avx512) => call!(f32, avx512_f32),
        (DType::F64, Simd::Avx2) => call!(f64, avx2_f64),
        (DType::F32, Simd::Avx2) => call!(f32, avx2_f32),
        _ => return false,
    }
    true
}

/// No line loops on other architectures: the staged path runs.
#[cfg(not(target_arch = "x86_64"))]
fn lines<T: ArrayElement>(_: Simd, _: BinOp, _: Post, _: &mut [T], _: &[T], _: &[T], _: T) -> bool {
    false
}

/// One function per (width, element type): `out[k] = ±post(a[k] op b[k], s)`
/// a vector at a time, each vector stored with a non-temporal store. One
/// straight loop per combination of `op`, `post.scale` and `post.negate`
/// (the match is outside the loops); the closures inherit the function's
/// target features.
macro_rules! line_loop {
    ($name:ident, $features:literal, $E:ty, $lanes:literal,
     $load:ident, $stream:ident, $set1:ident,
     $add:ident, $sub:ident, $mul:ident, $div:ident, $xor:ident) => {
        /// The line loop of one width and element type (see `line_loop!`).
        ///
        /// # Safety
        /// The CPU has every feature named in the attribute; `out` starts on
        /// a 64-byte boundary and its length is a multiple of 64 bytes; `a`
        /// and `b` are at least as long as `out`.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(unsafe_code)]
        unsafe fn $name(op: BinOp, post: Post, out: &mut [$E], a: &[$E], b: &[$E], s: $E) {
            use std::arch::x86_64::*;
            let scale = $set1(s);
            let sign = $set1(-0.0);
            macro_rules! each {
                ($g:expr) => {{
                    let g = $g;
                    let vectors = out
                        .chunks_exact_mut($lanes)
                        .zip(a.chunks_exact($lanes))
                        .zip(b.chunks_exact($lanes));
                    for ((o, x), y) in vectors {
                        // SAFETY: `x` and `y` are `$lanes` readable
                        // elements (the loads allow any alignment); `o` is
                        // `$lanes` writable elements whose start is aligned
                        // to the vector's size, because `out` starts on a
                        // line boundary and lines are whole vectors.
                        unsafe { $stream(o.as_mut_ptr(), g($load(x.as_ptr()), $load(y.as_ptr()))) }
                    }
                }};
            }
            macro_rules! with_post {
                ($t:expr) => {
                    match (post.scale, post.negate) {
                        (Scale::Mul, false) => each!(|x, y| $mul($t(x, y), scale)),
                        (Scale::Div, false) => each!(|x, y| $div($t(x, y), scale)),
                        (Scale::Mul, true) => each!(|x, y| $xor($mul($t(x, y), scale), sign)),
                        (Scale::Div, true) => each!(|x, y| $xor($div($t(x, y), scale), sign)),
                    }
                };
            }
            match op {
                BinOp::Add => with_post!(|x, y| $add(x, y)),
                BinOp::Sub => with_post!(|x, y| $sub(x, y)),
                BinOp::Mul => with_post!(|x, y| $mul(x, y)),
                BinOp::Div => with_post!(|x, y| $div(x, y)),
            }
        }
    };
}

line_loop!(
    avx512_f64,
    "avx512f,avx512dq",
    f64,
    8,
    _mm512_loadu_pd,
    _mm512_stream_pd,
    _mm512_set1_pd,
    _mm512_add_pd,
    _mm512_sub_pd,
    _mm512_mul_pd,
    _mm512_div_pd,
    _mm512_xor_pd
);
line_loop!(
    avx512_f32,
    "avx512f,avx512dq",
    f32,
    16,
    _mm512_loadu_ps,
    _mm512_stream_ps,
    _mm512_set1_ps,
    _mm512_add_ps,
    _mm512_sub_ps,
    _mm512_mul_ps,
    _mm512_div_ps,
    _mm512_xor_ps
);
line_loop!(
    avx2_f64,
    "avx",
    f64,
    4,
    _mm256_loadu_pd,
    _mm256_stream_pd,
    _mm256_set1_pd,
    _mm256_add_pd,
    _mm256_sub_pd,
    _mm256_mul_pd,
    _mm256_div_pd,
    _mm256_xor_pd
);
line_loop!(
    avx2_f32,
    "avx",
    f32,
    8,
    _mm256_loadu_ps,
    _mm256_stream_ps,
    _mm256_set1_ps,
    _mm256_add_ps,
    _mm256_sub_ps,
    _mm256_mul_ps,
    _mm256_div_ps,
    _mm256_xor_ps
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::simd::force_simd;
    use crate::exec::stream::fence;

    /// Values with every special a subtraction and scaling can meet:
    /// signed zeros, infinities, NaNs (two payloads), subnormals, and
    /// numbers whose difference rounds.
    fn values<T: ArrayElement + From<f32>>(n: usize, seed: u32) -> Vec<T> {
        let specials = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::from_bits(0x7fc0_1234),
            1e-40,
            -3.5,
            1.0 / 3.0,
        ];
        (0..n)
            .map(|i| {
                let k = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed);
                let x = if k.is_multiple_of(7) {
                    specials[(k as usize / 7) % specials.len()]
                } else {
                    (k % 10_007) as f32 * 0.731 - 3000.0
                };
                T::from(x)
            })
            .collect()
    }

    fn bits<T: ArrayElement>(xs: &[T]) -> Vec<u8> {
        bytemuck::cast_slice(xs).to_vec()
    }

    /// Every combination, at every start offset and length around a line,
    /// at every width: the same bits as the staged loop, nothing written
    /// outside the tile.
    fn matches_the_staged_loop<T: ArrayElement + From<f32>>() {
        let n = 400;
        let (a, b) = (values::<T>(n, 1), values::<T>(n, 99));
        let scales = [T::from(0.5), T::from(-3.0), T::from(0.0), T::from(f32::NAN)];
        let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div];
        let mut any_done = false;
        let untouched = vec![T::from(7.0); n];
        for simd in Simd::ALL {
            if !force_simd(Some(simd)) {
                continue;
            }
            for op in ops {
                for scale in [Scale::Mul, Scale::Div] {
                    for negate in [false, true] {
                        let f = ScaledOp {
                            op: Some(op),
                            post: Post { scale, negate },
                        };
                        for &s in &scales {
                            for start in 0..17 {
                                for len in [0, 1, 15, 16, 17, 33, 64, 200, n - 40 - start] {
                                    let range = start..start + len;
                                    let mut want = untouched.clone();
                                    let mut got = untouched.clone();
                                    loops::scaled(
                                        f,
                                        &mut want[range.clone()],
                                        Src::Slice(&a[range.clone()]),
                                        Some(Src::Slice(&b[range.clone()])),
                                        s,
                                    );
                                    let done = scaled(
                                        f,
                                        &mut got[range.clone()],
                                        &a[range.clone()],
                                        &b[range.clone()],
                                        s,
                                    );
                                    fence();
                                    any_done |= done;
                                    // not done: nothing written, the caller stages the tile
                                    let expected = if done { &want } else { &untouched };
                                    assert_eq!(
                                        bits(&got),
                                        bits(expected),
                                        "{simd:?} {f:?} start {start} len {len}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        force_simd(None);
        assert_eq!(any_done, Simd::Avx2.available());
    }

    #[test]
    fn f64_lines_give_the_staged_loops_bits_at_every_width() {
        matches_the_staged_loop::<f64>();
    }

    #[test]
    fn f32_lines_give_the_staged_loops_bits_at_every_width() {
        matches_the_staged_loop::<f32>();
    }

    /// What has no line loop says so and writes nothing: an instruction
    /// without a binary operation, an integer type, operands too short.
    #[test]
    fn what_has_no_line_loop_is_left_to_the_staged_path() {
        let post = Post {
            scale: Scale::Mul,
            negate: false,
        };
        let mut out = vec![5.0f64; 64];
        let a = vec![1.0f64; 64];
        let unary = ScaledOp { op: None, post };
        assert!(!scaled(unary, &mut out, &a, &a, 2.0));
        let sub = ScaledOp {
            op: Some(BinOp::Sub),
            post,
        };
        assert!(!scaled(sub, &mut out, &a[..10], &a, 2.0));
        assert!(out.iter().all(|&x| x == 5.0));
        // complex64 is as wide as f64, but has no line loop
        use oxla_ir::num_complex::Complex32;
        let mut pairs = vec![Complex32::new(5.0, 0.0); 64];
        let xs = vec![Complex32::new(1.0, 2.0); 64];
        assert!(!scaled(sub, &mut pairs, &xs, &xs, Complex32::new(2.0, 0.0)));
        assert!(pairs.iter().all(|&x| x == Complex32::new(5.0, 0.0)));
    }
}
