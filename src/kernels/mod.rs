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
pub mod exp;
pub mod matmul;
pub mod softmax_xent;

/// The SIMD level the kernels dispatch to on this machine, for
/// provenance and the bench report.
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return "avx512f";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "avx2+fma";
        }
        "sse2"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "scalar"
    }
}
