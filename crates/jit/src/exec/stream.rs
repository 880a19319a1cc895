//! Non-temporal ("streaming") stores for large outputs.
//!
//! An ordinary store to memory that is not cached first reads the line it
//! writes (a read for ownership), so writing an output costs its bytes
//! twice in memory traffic. A kernel whose outputs are larger than the
//! caches could hold for their reader ([`STREAM_MIN_BYTES`]) computes each
//! row tile into a scratch register in L1 and copies it out with
//! non-temporal stores, which write whole 64-byte lines without reading
//! them: the traffic is the bytes themselves, as a `memcpy` of that size
//! does. Partial lines (a tile's head and tail, the edges a column program
//! writes) use ordinary stores, so no line is written both ways. The values
//! stored are the same bits either way.

use crate::exec::simd::{Simd, active_simd};

/// Outputs of a kernel at least this large (in total) are streamed: half
/// the shared L3 of the machines we measure on, which could not keep them
/// for their reader alongside the inputs anyway.
pub(crate) const STREAM_MIN_BYTES: usize = 16 << 20;

/// The streaming threshold: [`STREAM_MIN_BYTES`], or the byte count in
/// `OXLA_STREAM_MIN_BYTES` (a measurement knob: `0` streams every output,
/// a huge value none).
pub(crate) fn stream_min_bytes() -> usize {
    static MIN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| {
        std::env::var("OXLA_STREAM_MIN_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(STREAM_MIN_BYTES)
    })
}

/// Bytes per cache line, the unit of a non-temporal store here.
pub(crate) const LINE: usize = 64;

/// How `bytes` bytes starting at address `start` split around whole
/// lines: the bytes before the first line boundary (at most `bytes`), and
/// the bytes of the whole lines after them; the rest is the tail.
#[inline]
pub(crate) fn whole_lines(start: usize, bytes: usize) -> (usize, usize) {
    let head = (start.wrapping_neg() % LINE).min(bytes);
    (head, (bytes - head) / LINE * LINE)
}

/// Copy `src` into `dst` as the executor writes a large output: whole
/// 64-byte lines with non-temporal stores (the rest with ordinary ones),
/// fenced before returning. Copies the `min(dst.len(), src.len())` leading
/// elements and returns that count.
///
/// This is the honest floor's copy (`oxla bench`, `examples/fd_speed`):
/// `memcpy` is not always one, because glibc switches to non-temporal
/// stores only above a threshold derived from the L3 size it detects, and
/// a VM may report an L3 ten times the real one. Below the threshold each
/// written line is read first, so such a copy moves its destination's
/// bytes twice.
///
/// ```
/// let src: Vec<f64> = (0..1000).map(f64::from).collect();
/// let mut dst = vec![0.0; 1000];
/// assert_eq!(oxla_jit::copy_streaming(&mut dst[3..], &src[3..]), 997);
/// assert_eq!(dst[3..], src[3..]);
/// assert_eq!(dst[..3], [0.0; 3]);
/// ```
pub fn copy_streaming<T: bytemuck::Pod>(dst: &mut [T], src: &[T]) -> usize {
    let n = dst.len().min(src.len());
    copy(&mut dst[..n], &src[..n]);
    fence();
    n
}

/// `dst.copy_from_slice(src)`, with the whole 64-byte lines of `dst` written
/// by non-temporal stores (the head and tail around them by ordinary ones).
/// Callers end their work with [`fence`] before other threads read `dst`.
#[inline]
pub(crate) fn copy<T: bytemuck::Pod>(dst: &mut [T], src: &[T]) {
    let dst: &mut [u8] = bytemuck::cast_slice_mut(dst);
    let src: &[u8] = bytemuck::cast_slice(src);
    let (head, body) = whole_lines(dst.as_ptr() as usize, dst.len());
    let (dst_head, rest) = dst.split_at_mut(head);
    let (dst_body, dst_tail) = rest.split_at_mut(body);
    let (src_head, rest) = src.split_at(head);
    let (src_body, src_tail) = rest.split_at(body);
    dst_head.copy_from_slice(src_head);
    if body > 0 {
        lines(dst_body, src_body);
    }
    dst_tail.copy_from_slice(src_tail);
}

/// Copy whole lines: `dst` starts on a 64-byte boundary and both are a
/// multiple of 64 bytes long.
#[allow(unsafe_code)]
fn lines(dst: &mut [u8], src: &[u8]) {
    debug_assert!((dst.as_ptr() as usize).is_multiple_of(LINE) && dst.len().is_multiple_of(LINE));
    debug_assert_eq!(dst.len(), src.len());
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `lines_avx512` and `lines_avx` need only the CPU features of
    // their `target_feature` attributes, which `active_simd` reports only
    // when the CPU has them (AVX-512 implies AVX; SSE2 is baseline on
    // x86-64); their other requirements are this function's contract,
    // checked above in debug builds and kept by `copy`, its only caller.
    unsafe {
        match active_simd() {
            Simd::Avx512 => lines_avx512(dst, src),
            Simd::Avx2 => lines_avx(dst, src),
            Simd::Portable => lines_sse2(dst, src),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(src);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(unsafe_code)]
unsafe fn lines_avx512(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m512i, _mm512_loadu_si512, _mm512_stream_si512};
    for (d, s) in dst.chunks_exact_mut(LINE).zip(src.chunks_exact(LINE)) {
        // SAFETY: `s` is 64 readable bytes (an unaligned load is allowed);
        // `d` is 64 writable bytes on a 64-byte boundary, as the stream
        // store requires (the caller's contract).
        unsafe {
            let v = _mm512_loadu_si512(s.as_ptr().cast::<__m512i>());
            _mm512_stream_si512(d.as_mut_ptr().cast::<__m512i>(), v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[allow(unsafe_code)]
unsafe fn lines_avx(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
    for (d, s) in dst.chunks_exact_mut(32).zip(src.chunks_exact(32)) {
        // SAFETY: as in `lines_avx512`, with 32-byte halves of 64-byte
        // aligned lines (so 32-byte aligned, as the store requires).
        unsafe {
            let v = _mm256_loadu_si256(s.as_ptr().cast::<__m256i>());
            _mm256_stream_si256(d.as_mut_ptr().cast::<__m256i>(), v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
unsafe fn lines_sse2(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
    for (d, s) in dst.chunks_exact_mut(16).zip(src.chunks_exact(16)) {
        // SAFETY: as in `lines_avx512`, with 16-byte quarters of 64-byte
        // aligned lines (16-byte aligned, as the store requires); SSE2 is
        // part of the x86-64 baseline.
        unsafe {
            let v = _mm_loadu_si128(s.as_ptr().cast::<__m128i>());
            _mm_stream_si128(d.as_mut_ptr().cast::<__m128i>(), v);
        }
    }
}

/// Order this thread's non-temporal stores before its later stores (and so
/// before the work item is seen finished by another thread): they are
/// weakly ordered otherwise.
#[allow(unsafe_code)]
pub(crate) fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` needs only SSE, part of the x86-64 baseline.
    unsafe {
        std::arch::x86_64::_mm_sfence();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alignment and length: the copy is exact, whatever width runs.
    #[test]
    fn streamed_copies_are_exact_at_every_offset() {
        let src: Vec<f64> = (0..300).map(|i| i as f64 * 1.5 - 7.0).collect();
        for simd in Simd::ALL {
            if !crate::exec::simd::force_simd(Some(simd)) {
                continue;
            }
            for start in 0..9 {
                for len in [0, 1, 7, 8, 9, 63, 64, 65, 200, 291 - start] {
                    let mut dst = vec![0.0f64; 300];
                    copy(&mut dst[start..start + len], &src[start..start + len]);
                    fence();
                    assert_eq!(&dst[start..start + len], &src[start..start + len]);
                    assert!(
                        dst[..start]
                            .iter()
                            .chain(&dst[start + len..])
                            .all(|&x| x == 0.0)
                    );
                }
            }
        }
        crate::exec::simd::force_simd(None);
    }

    /// The public copy takes the common length, whichever side is shorter.
    #[test]
    fn copy_streaming_copies_the_common_prefix() {
        let src = [1.0f32, 2.0, 3.0];
        let mut dst = [0.0f32; 5];
        assert_eq!(copy_streaming(&mut dst, &src), 3);
        assert_eq!(dst, [1.0, 2.0, 3.0, 0.0, 0.0]);
        assert_eq!(copy_streaming(&mut dst[..2], &[9.0; 4]), 2);
        assert_eq!(dst, [9.0, 9.0, 3.0, 0.0, 0.0]);
    }
}
