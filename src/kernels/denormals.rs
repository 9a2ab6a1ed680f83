//! Subnormal floats in the training step, flushed to zero.
//!
//! Late in training, Adam's second moments, the output gradients of
//! confidently classified samples and their products fall below
//! f32's smallest normal number (1.2e-38). x86 cores take a slow
//! microcode path for every such operand: measured on the 2-core Xeon
//! reference machine, a 3x100 batch-16 epoch on MNIST took 101 ms with
//! subnormals and 52 ms with them flushed (bench, 2 rounds each).
//! [`FlushDenormals`] sets the thread's MXCSR flush-to-zero and
//! denormals-are-zero bits for the length of one training step and
//! restores them after it; evaluation keeps IEEE subnormals, so
//! per-sample losses stay exact however tiny. The results differ from
//! PyTorch's (which keeps subnormals) only by amounts below 1.2e-38, far
//! inside the golden tests' tolerance, and stay bit-identical for any
//! thread count. `PREINTERP_DENORMALS=keep` keeps them (PyTorch's exact
//! arithmetic, at the slow path's speed).

use std::sync::OnceLock;

/// The environment variable: `keep` leaves subnormals in training.
pub(crate) const DENORMALS_ENV: &str = "PREINTERP_DENORMALS";

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

/// Whether training flushes subnormals (unless `PREINTERP_DENORMALS=keep`).
pub(crate) fn flushing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var(DENORMALS_ENV).map_or(true, |v| v != "keep"))
}

/// Flushes subnormals on this thread until dropped.
pub(crate) struct FlushDenormals {
    #[cfg(target_arch = "x86_64")]
    saved: Option<u32>,
}

impl FlushDenormals {
    /// Turns flushing on (when [`flushing`] says so).
    #[inline]
    pub fn on() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if !flushing() {
                return FlushDenormals { saved: None };
            }
            let saved = mxcsr::get();
            mxcsr::set(saved | FTZ_DAZ);
            FlushDenormals { saved: Some(saved) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        FlushDenormals {}
    }
}

impl Drop for FlushDenormals {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if let Some(s) = self.saved {
            mxcsr::set(s);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod mxcsr {
    /// The thread's MXCSR.
    #[inline]
    pub fn get() -> u32 {
        let mut v: u32 = 0;
        // SAFETY: stmxcsr stores the 32-bit control register to `v`.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags));
        }
        v
    }

    /// Sets the thread's MXCSR.
    #[inline]
    pub fn set(v: u32) {
        // SAFETY: ldmxcsr loads a value read by `get` with only the
        // FTZ/DAZ bits changed, both valid on every x86-64 CPU with SSE2
        // (DAZ is reported by every CPU this code runs its SIMD paths on).
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, preserves_flags, readonly));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormals_flush_inside_and_not_outside() {
        let tiny = std::hint::black_box(1e-30f32);
        let kept = std::hint::black_box(tiny) * std::hint::black_box(1e-10f32);
        assert!(
            kept > 0.0 && kept < f32::MIN_POSITIVE,
            "a subnormal: {kept:e}"
        );
        if flushing() && cfg!(target_arch = "x86_64") {
            let g = FlushDenormals::on();
            let flushed = std::hint::black_box(tiny) * std::hint::black_box(1e-10f32);
            drop(g);
            assert_eq!(flushed, 0.0);
        }
        let again = std::hint::black_box(tiny) * std::hint::black_box(1e-10f32);
        assert_eq!(again, kept, "restored after the guard");
    }
}
