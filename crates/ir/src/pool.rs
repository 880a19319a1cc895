//! Recycling of large array buffers.
//!
//! On Linux, a fresh large allocation is backed by pages the kernel maps and
//! zeroes on first touch. On the VMs we measure on, that costs more than the
//! whole fused `gradient` pass (166 ms to first-touch 256 MB, against 21 ms
//! to compute two 128 MB outputs into warm memory). So, like the caching
//! allocators of JAX and PyTorch, oxla keeps the buffers of dropped
//! [`ArrayValue`](crate::ArrayValue)s of at least [`MIN_POOLED_BYTES`] in a
//! bounded pool and hands them out again for new results of a matching size.
//! Fresh large buffers are advised to use transparent huge pages, which makes
//! their first touch about five times cheaper.
//!
//! The pool never holds more than [`MAX_POOLED_BYTES`] in at most
//! [`MAX_POOLED_BUFFERS`] buffers;
//! [`release_cached_memory`] empties it.

use std::any::Any;
use std::sync::Mutex;

use crate::value::ArrayElement;

/// Buffers smaller than this are left to the system allocator, which is fast for them.
///
/// Not larger: glibc serves blocks above 128 KiB with `mmap` or trims them
/// off the top of the heap when freed, so a buffer of a few hundred KiB that
/// is not pooled is page-faulted in again on every call (a 256 x 256 f64
/// gradient took 570-740 us with a 1 MiB threshold, 56 us with this one).
pub const MIN_POOLED_BYTES: usize = 64 << 10;
/// The most memory the pool keeps.
pub const MAX_POOLED_BYTES: usize = 1 << 30;
/// The most buffers the pool keeps, so that looking one up stays cheap.
pub const MAX_POOLED_BUFFERS: usize = 256;

/// A buffer waiting to be reused: a `Vec<T>` of some [`ArrayElement`] `T`.
struct Pooled {
    bytes: usize,
    buf: Box<dyn Any + Send>,
}

struct Pool {
    buffers: Vec<Pooled>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: Vec::new(),
    bytes: 0,
});

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    // A panic while holding the lock cannot leave the pool inconsistent
    // (every update is a push or a remove plus a counter change), so a
    // poisoned lock is still usable.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A vector of exactly `len` elements with unspecified (but initialized)
/// contents, reusing a pooled buffer when one of a close size is free.
/// Callers overwrite every element (debug builds check that by poisoning).
pub fn take<T: ArrayElement>(len: usize) -> Vec<T> {
    let mut v = reuse(len).unwrap_or_else(|| fresh(len));
    poison_in_debug(&mut v);
    v
}

/// [`take`], failing instead of aborting when the memory cannot be had
/// (an address-space limit, an exhausted machine): `None` if no pooled
/// buffer fits and `len` elements cannot be allocated even after the
/// pool's own buffers are released.
///
/// ```
/// let v: Vec<f64> = oxla_ir::pool::try_take(1000).unwrap();
/// assert_eq!(v.len(), 1000);
/// assert!(oxla_ir::pool::try_take::<f64>(usize::MAX / 16).is_none());
/// ```
pub fn try_take<T: ArrayElement>(len: usize) -> Option<Vec<T>> {
    let mut v = match reuse(len) {
        Some(v) => v,
        None => {
            if !can_allocate::<T>(len) {
                release_cached_memory();
                if !can_allocate::<T>(len) {
                    return None;
                }
            }
            fresh(len)
        }
    };
    poison_in_debug(&mut v);
    Some(v)
}

/// Whether `len` elements can be allocated now: a fallible reservation,
/// released at once (so that `fresh` can still ask for zeroed pages,
/// which large allocations get untouched from the kernel).
fn can_allocate<T>(len: usize) -> bool {
    let mut probe: Vec<T> = Vec::new();
    probe.try_reserve_exact(len).is_ok()
}

/// A pooled buffer resized to `len`, if one of a close size is free.
fn reuse<T: ArrayElement>(len: usize) -> Option<Vec<T>> {
    if len * std::mem::size_of::<T>() < MIN_POOLED_BYTES {
        return None;
    }
    let mut pool = lock();
    let fits = |p: &Pooled| {
        let cap = p.bytes / std::mem::size_of::<T>();
        p.buf.is::<Vec<T>>() && cap >= len && cap <= len + len / 4
    };
    let i = pool.buffers.iter().position(fits)?;
    // `remove`, not `swap_remove`: the rest stay oldest first, for eviction
    let p = pool.buffers.remove(i);
    pool.bytes -= p.bytes;
    drop(pool);
    let mut v = *p.buf.downcast::<Vec<T>>().ok()?;
    v.resize(len, T::ZERO); // truncates, or grows within the capacity
    Some(v)
}

/// The bits of the poison NaN (as an `f64`; narrower types round it).
const POISON_BITS: u64 = 0x7ff8_dead_beef_0002;

/// In debug builds (what the tests run), fill a buffer handed out by
/// [`take`] with a NaN no computation makes, so that a kernel leaving any
/// element unwritten shows up as a wrong result instead of passing on
/// zeroed or recycled memory that happens to be right.
fn poison_in_debug<T: ArrayElement>(v: &mut [T]) {
    if cfg!(debug_assertions) {
        let sentinel = T::from_f64(f64::from_bits(POISON_BITS));
        v.fill(sentinel);
    }
}

/// A new zeroed vector. For `f32`/`f64` the standard library asks the
/// allocator for zeroed memory, which large allocations get untouched from
/// the kernel; huge pages make their first touch cheaper.
fn fresh<T: ArrayElement>(len: usize) -> Vec<T> {
    let mut v = vec![T::ZERO; len];
    if std::mem::size_of_val(v.as_slice()) >= 4 * HUGE_PAGE {
        advise_huge_pages(&mut v);
    }
    v
}

const HUGE_PAGE: usize = 2 << 20;

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge_pages<T>(v: &mut [T]) {
    let start = v.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(v);
    let (a, b) = (
        (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1),
        end & !(HUGE_PAGE - 1),
    );
    if b > a {
        // SAFETY: [a, b) is rounded inward from the live allocation behind
        // `v`, which we borrow mutably, so it is mapped memory of this
        // process, and both ends are page aligned as madvise requires.
        // MADV_HUGEPAGE only tells the kernel how to back those pages; it
        // never changes their contents or their validity, so no Rust
        // invariant depends on the call (its result is advisory and ignored).
        unsafe {
            libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_: &mut [T]) {}

/// Offer a buffer back to the pool; buffers too small or too large, or
/// that would exceed the caps after evicting the oldest, are freed instead.
pub(crate) fn give<T: ArrayElement>(v: Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if !(MIN_POOLED_BYTES..=MAX_POOLED_BYTES).contains(&bytes) {
        return;
    }
    let mut pool = lock();
    while pool.bytes + bytes > MAX_POOLED_BYTES || pool.buffers.len() >= MAX_POOLED_BUFFERS {
        let oldest = pool.buffers.remove(0);
        pool.bytes -= oldest.bytes;
    }
    pool.bytes += bytes;
    pool.buffers.push(Pooled {
        bytes,
        buf: Box::new(v),
    });
}

/// Free every buffer the pool holds. Memory in use is not affected.
///
/// ```
/// oxla_ir::release_cached_memory();
/// assert_eq!(oxla_ir::cached_memory_bytes(), 0);
/// ```
pub fn release_cached_memory() {
    let mut pool = lock();
    pool.buffers.clear();
    pool.bytes = 0;
}

/// How many bytes the pool currently holds for reuse.
pub fn cached_memory_bytes() -> usize {
    lock().bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArrayValue;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn dropped_large_values_are_reused() {
        let len = (8 * HUGE_PAGE) / 8 + 3; // large enough for the huge-page advice
        let mut v: Vec<f64> = take(len);
        assert_eq!(v.len(), len);
        // exercise the advised memory: every element written and read back
        for (i, x) in v.iter_mut().enumerate() {
            *x = i as f64;
        }
        assert_eq!(v[len - 1], (len - 1) as f64);
        let ptr = v.as_ptr();
        let value = ArrayValue::from(ArrayD::from_shape_vec(IxDyn(&[len]), v).unwrap());
        drop(value);
        // Other tests may race on the global pool; the buffer is either ours or another fit.
        let again: Vec<f64> = take(len);
        assert_eq!(again.len(), len);
        if again.as_ptr() == ptr {
            let last = again[len - 1];
            if cfg!(debug_assertions) {
                assert_eq!(last.to_bits(), POISON_BITS, "poisoned for the tests");
            } else {
                assert_eq!(last, (len - 1) as f64, "left as they were in release");
            }
        }
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_buffers() {
        let len = MIN_POOLED_BYTES / 4;
        for _ in 0..MAX_POOLED_BUFFERS + 10 {
            give(vec![0.0f32; len]);
        }
        // other tests may give and take concurrently, but never past the caps
        assert!(lock().buffers.len() <= MAX_POOLED_BUFFERS);
        assert!(cached_memory_bytes() <= MAX_POOLED_BYTES);
    }

    #[test]
    fn small_buffers_are_not_pooled() {
        let before = cached_memory_bytes();
        drop(ArrayValue::from(ArrayD::from_elem(IxDyn(&[4]), 1.0f32)));
        assert!(cached_memory_bytes() <= before.max(MAX_POOLED_BYTES));
        let v: Vec<f32> = take(4);
        assert_eq!(v.len(), 4);
        if cfg!(debug_assertions) {
            assert!(
                v.iter().all(|x| x.is_nan()),
                "debug builds poison every buffer"
            );
        }
    }
}
