//! The hot loops of one MLP step, each with a plain scalar `_ref` twin.
//!
//! Shape letters used throughout:
//! - `B`: rows in a block (samples), `I`: inputs of a layer (fan-in),
//! - `O`: outputs of a layer (fan-out), `C`: classes (10).
//!
//! Every activation buffer is row-major `B x features`; every weight
//! matrix is row-major `O x I` (PyTorch's `nn.Linear` layout), so
//! `Z = A W^T + b`.

pub mod bias_relu;
pub(crate) mod denormals;
pub mod exp;
pub(crate) mod matmul;
pub mod pixel_sparse;
pub mod softmax_xent;

pub(crate) mod sparse_input;

use std::sync::OnceLock;

/// The environment variable that forces a SIMD path: `avx2` runs every
/// kernel (pulp's and faer's matrix products) on the AVX2+FMA path even
/// where AVX-512 is present, so both can be timed on one machine;
/// unset, empty or `native` picks the widest path the CPU has.
pub(crate) const SIMD_ENV: &str = "PREINTERP_SIMD";

/// The SIMD path the kernels run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SimdPath {
    /// AVX-512F (16 f32 lanes).
    Avx512,
    /// AVX2 + FMA (8 lanes).
    Avx2,
    /// SSE2 or scalar code.
    Baseline,
}

impl SimdPath {
    /// `"avx512f"`, `"avx2+fma"`, `"sse2"` (or `"scalar"` off x86-64).
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "avx512f",
            SimdPath::Avx2 => "avx2+fma",
            SimdPath::Baseline if cfg!(target_arch = "x86_64") => "sse2",
            SimdPath::Baseline => "scalar",
        }
    }
}

/// The widest path the CPU offers.
pub(crate) fn native_path() -> SimdPath {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return SimdPath::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return SimdPath::Avx2;
        }
    }
    SimdPath::Baseline
}

/// The path chosen by [`SIMD_ENV`], or an error line naming it.
pub(crate) fn requested_path() -> Result<SimdPath, String> {
    let native = native_path();
    match std::env::var(SIMD_ENV).as_deref() {
        Err(_) | Ok("") | Ok("native") => Ok(native),
        Ok("avx2") if native == SimdPath::Baseline => {
            Err(format!("{SIMD_ENV}=avx2: this CPU has no AVX2+FMA"))
        }
        Ok("avx2") => Ok(SimdPath::Avx2),
        Ok(other) => Err(format!(
            "{SIMD_ENV}={other}: not a SIMD path; use avx2 or native (or leave it unset)"
        )),
    }
}

/// The path every kernel runs on in this process (read once; an
/// invalid [`SIMD_ENV`] falls back to the native path, and `bench`
/// refuses it up front).
pub(crate) fn simd_path() -> SimdPath {
    static PATH: OnceLock<SimdPath> = OnceLock::new();
    *PATH.get_or_init(|| requested_path().unwrap_or_else(|_| native_path()))
}

/// The SIMD level the kernels dispatch to, for provenance and the
/// bench report.
pub fn simd_level() -> &'static str {
    simd_path().name()
}

/// pulp's dispatcher for [`simd_path`]: the kernels written with pulp
/// call `arch().dispatch(op)`.
#[inline]
pub(crate) fn arch() -> pulp::Arch {
    #[cfg(target_arch = "x86_64")]
    {
        static ARCH: OnceLock<pulp::Arch> = OnceLock::new();
        *ARCH.get_or_init(|| match simd_path() {
            SimdPath::Avx2 => pulp::x86::V3::try_new()
                .map(pulp::Arch::V3)
                .unwrap_or_default(),
            _ => pulp::Arch::new(),
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        pulp::Arch::new()
    }
}

/// `b / 255`, rounded exactly as IEEE division rounds it, from one
/// multiply and two fused multiply-adds (the quotient, then its
/// remainder's correction), which vectorise far cheaper than division.
/// A test checks all 256 bytes.
#[inline(always)]
pub(crate) fn byte_to_unit(b: u8) -> f32 {
    const R: f32 = 1.0 / 255.0;
    let x = b as f32;
    let q = x * R;
    let e = (-q).mul_add(255.0, x);
    e.mul_add(R, q)
}
