//! The roofline: a lower bound on each workload's time from the useful
//! arithmetic at the measured FMA peak plus the optimiser's and the
//! data's memory traffic at the measured bandwidth.
//!
//! Useful arithmetic excludes multiplications by zero pixels: the first
//! layer counts `2 h` FLOPs per non-zero pixel (forward) and as many
//! again for its weight gradient; every other layer `2 I O` per sample
//! forward, and twice that backward (weight and input gradients).
//! Traffic: the optimiser reads and writes parameters and both Adam
//! moments once per step (24 bytes per parameter; the gradient stays in
//! cache, fused into backward), and the pixels are read once (1 byte
//! each). The bandwidth is the one-core triad measured at the smallest
//! size holding the optimiser's working set (`12` bytes per parameter),
//! so a model that lives in L2 is held to L2's bandwidth.

use serde::{Deserialize, Serialize};

use crate::machine::bandwidth_for;
use crate::model::{Shape, INPUTS};

/// Adam's traffic per parameter per step: p, m, v read and written.
pub const ADAM_BYTES_PER_PARAM: usize = 24;

/// One workload against its bound.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Bound {
    /// Useful GFLOP.
    pub gflop: f64,
    /// Bytes moved (optimiser + data), MB.
    pub mbytes: f64,
    /// Bandwidth used for the traffic, GB/s.
    pub gbs: f64,
    /// The lower bound, ms.
    pub ms: f64,
}

impl Bound {
    /// `flop` at `peak` GFLOP/s plus `bytes` at `gbs` GB/s.
    pub fn new(flop: f64, bytes: f64, peak: f64, gbs: f64) -> Self {
        Bound {
            gflop: flop / 1e9,
            mbytes: bytes / 1e6,
            gbs,
            ms: 1e3 * (flop / (peak * 1e9) + bytes / (gbs * 1e9)),
        }
    }
}

/// FLOPs of the layers after the first, per sample, forward.
fn rest_flops(shape: &Shape) -> f64 {
    shape.layers()[1..]
        .iter()
        .map(|l| 2.0 * (l.fan_in * l.fan_out) as f64)
        .sum()
}

/// A training epoch: `samples` samples in `steps` steps with `nonzeros`
/// non-zero pixels in all.
pub fn train_bound(
    shape: &Shape,
    samples: usize,
    steps: usize,
    nonzeros: usize,
    peak: f64,
    curve: &[(usize, f64)],
) -> Bound {
    let first = 2.0 * 2.0 * shape.width as f64 * nonzeros as f64;
    let flop = first + 3.0 * rest_flops(shape) * samples as f64;
    let params = shape.n_params();
    let bytes = (ADAM_BYTES_PER_PARAM * params * steps + INPUTS * samples) as f64;
    Bound::new(flop, bytes, peak, bandwidth_for(curve, 12 * params))
}

/// Per-sample evaluation of `samples` samples on `threads` threads.
pub fn eval_bound(
    shape: &Shape,
    samples: usize,
    nonzeros: usize,
    threads: usize,
    peak: f64,
    gbs: f64,
) -> Bound {
    let flop = 2.0 * shape.width as f64 * nonzeros as f64 + rest_flops(shape) * samples as f64;
    Bound::new(flop, (INPUTS * samples) as f64, peak * threads as f64, gbs)
}
