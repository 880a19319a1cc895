//! Which copy of the executor's loops runs: portable, AVX2 or AVX-512.
//!
//! The tile loops are compiled three times (`exec::vector`): for the
//! baseline target, with AVX2 and FMA, and with AVX-512. Every copy does the
//! same IEEE operation on every element (no contraction, no reassociation),
//! so results do not depend on the copy; only speed does. The widest copy
//! the CPU has runs, unless [`force_simd`] asks for another (the tests run
//! every bit-identity suite under each width the CPU has).

use std::sync::atomic::{AtomicU8, Ordering};

/// A copy of the executor's loops, by vector width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Simd {
    /// Compiled for the baseline target (SSE2 on x86-64).
    Portable,
    /// AVX2 and FMA: 256-bit vectors.
    Avx2,
    /// AVX-512 (F, VL, DQ, BW): 512-bit vectors.
    Avx512,
}

impl Simd {
    /// Every width, narrowest first.
    pub const ALL: [Simd; 3] = [Simd::Portable, Simd::Avx2, Simd::Avx512];

    /// True if this CPU can run this copy.
    pub fn available(self) -> bool {
        match self {
            Simd::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => {
                Simd::Avx2.available()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    fn code(self) -> u8 {
        self as u8 + 1
    }
}

/// 0: the widest available; otherwise `Simd::code` of the forced width.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// The widest copy this CPU can run.
pub fn detected_simd() -> Simd {
    static DETECTED: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *DETECTED.get_or_init(|| {
        Simd::ALL
            .into_iter()
            .rev()
            .find(|s| s.available())
            .unwrap_or(Simd::Portable)
    })
}

/// The width the environment asks for (`OXLA_SIMD=portable|avx2|avx512`),
/// if this CPU has it: how `.ci/run` runs the bit-identity suites under
/// every width.
fn from_environment() -> Option<Simd> {
    static CHOSEN: std::sync::OnceLock<Option<Simd>> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let wanted = match std::env::var("OXLA_SIMD")
            .ok()?
            .to_ascii_lowercase()
            .as_str()
        {
            "portable" => Simd::Portable,
            "avx2" => Simd::Avx2,
            "avx512" => Simd::Avx512,
            _ => return None,
        };
        wanted.available().then_some(wanted)
    })
}

/// The copy that runs now: the one [`force_simd`] forced, else the one
/// `OXLA_SIMD` names, else the widest available.
pub fn active_simd() -> Simd {
    match FORCED.load(Ordering::Relaxed) {
        0 => from_environment().unwrap_or_else(detected_simd),
        code => Simd::ALL[usize::from(code - 1)],
    }
}

/// Run every later kernel with copy `simd` (`None`: the widest available
/// again). For tests and benchmarks; results are the same bits either way.
/// Returns `false`, changing nothing, if this CPU cannot run `simd`.
///
/// ```
/// use oxla_jit::{Simd, active_simd, force_simd};
/// assert!(force_simd(Some(Simd::Portable)));
/// assert_eq!(active_simd(), Simd::Portable);
/// force_simd(None);
/// ```
pub fn force_simd(simd: Option<Simd>) -> bool {
    match simd {
        None => FORCED.store(0, Ordering::Relaxed),
        Some(s) if s.available() => FORCED.store(s.code(), Ordering::Relaxed),
        Some(_) => return false,
    }
    true
}
