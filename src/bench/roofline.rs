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
//! so a model that lives in L2 is held to L2's bandwidth, and counted
//! as the hardware moves it: 16 bytes per triad element, not STREAM's
//! 12, since the triad's write first reads its line (Adam's writes go to
//! lines it has just read, so all its 24 bytes are real traffic).
//!
//! Adam also needs a square root and a division per parameter per step
//! for PyTorch's exact arithmetic (its other division, by a constant,
//! needs none), and these share one divider unit, far slower than the
//! FMA units: the optimiser's time is at
//! least the larger of its traffic and its divider work at the measured
//! divider rate ([`crate::machine::adam_divider_gelems`]). At batch 16
//! that, not the products, is most of the bound.

use serde::{Deserialize, Serialize};

use crate::machine::bandwidth_for;
use crate::model::{Shape, INPUTS};

/// Bytes a triad element moves (with its write's line fill) per byte
/// STREAM counts.
pub(crate) const TRIAD_LINE_FILL: f64 = 16.0 / 12.0;

/// Adam's traffic per parameter per step: p, m, v read and written.
pub(crate) const ADAM_BYTES_PER_PARAM: usize = 24;

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
    /// Of which the optimiser's divider work (square roots and
    /// divisions at the measured rate), ms; 0 without an optimiser or
    /// in reports made before it was measured.
    #[serde(default)]
    pub divider_ms: f64,
}

impl Bound {
    /// `flop` at `peak` GFLOP/s plus `bytes` at `gbs` GB/s.
    pub fn new(flop: f64, bytes: f64, peak: f64, gbs: f64) -> Self {
        Bound {
            gflop: flop / 1e9,
            mbytes: bytes / 1e6,
            gbs,
            ms: 1e3 * (flop / (peak * 1e9) + bytes / (gbs * 1e9)),
            divider_ms: 0.0,
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

/// The work of a training epoch with Adam, and its lower bound.
pub(crate) struct EpochWork {
    fwd_flop: f64,
    bwd_flop: f64,
    adam_bytes: f64,
    data_bytes: f64,
    gbs: f64,
    divider_ms: f64,
}

impl EpochWork {
    /// `samples` samples in `steps` steps with `nonzeros` non-zero
    /// pixels in all; `adam_gelems` is the divider's rate in G
    /// elements/s (not counted when not positive), `curve` the one-core
    /// triad bandwidth by working set.
    pub fn new(
        shape: &Shape,
        samples: usize,
        steps: usize,
        nonzeros: usize,
        adam_gelems: f64,
        curve: &[(usize, f64)],
    ) -> Self {
        // The first layer: forward and weight gradient on the non-zero
        // pixels only, no input gradient; the others: forward, and
        // weight and input gradients backward.
        let first = 2.0 * shape.width as f64 * nonzeros as f64;
        let rest = rest_flops(shape) * samples as f64;
        let params = shape.n_params();
        EpochWork {
            fwd_flop: first + rest,
            bwd_flop: first + 2.0 * rest,
            adam_bytes: (ADAM_BYTES_PER_PARAM * params * steps) as f64,
            data_bytes: (INPUTS * samples) as f64,
            gbs: TRIAD_LINE_FILL * bandwidth_for(curve, 12 * params),
            divider_ms: if adam_gelems > 0.0 {
                1e3 * (params * steps) as f64 / (adam_gelems * 1e9)
            } else {
                0.0
            },
        }
    }

    /// The lower bound at `peak` GFLOP/s: the phases plus the data's
    /// traffic.
    pub fn bound(&self, peak: f64) -> Bound {
        let [fwd, bwd, opt] = self.phases_ms(peak);
        Bound {
            gflop: (self.fwd_flop + self.bwd_flop) / 1e9,
            mbytes: (self.adam_bytes + self.data_bytes) / 1e6,
            gbs: self.gbs,
            ms: fwd + bwd + opt + 1e3 * self.data_bytes / (self.gbs * 1e9),
            divider_ms: self.divider_ms,
        }
    }

    /// The phases, ms: forward and backward at `peak`; the optimiser,
    /// the larger of its traffic and its divider work (the data's
    /// traffic, a few per cent, left out).
    pub(crate) fn phases_ms(&self, peak: f64) -> [f64; 3] {
        let traffic_ms = 1e3 * self.adam_bytes / (self.gbs * 1e9);
        [
            1e3 * self.fwd_flop / (peak * 1e9),
            1e3 * self.bwd_flop / (peak * 1e9),
            traffic_ms.max(self.divider_ms),
        ]
    }
}

/// Per-sample evaluation of `samples` samples on `threads` threads.
pub(crate) fn eval_bound(
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

/// The phases of one thread's evaluation of `samples` samples with
/// `nonzeros` non-zero pixels, ms: the input (its pixels read once at
/// `gbs`), the first layer (`2 h` FLOPs per non-zero pixel) and the
/// later layers, at `peak`.
pub(crate) fn eval_phase_bounds(
    shape: &Shape,
    samples: usize,
    nonzeros: usize,
    peak: f64,
    gbs: f64,
) -> [f64; 3] {
    [
        1e3 * (INPUTS * samples) as f64 / (gbs * 1e9),
        1e3 * 2.0 * shape.width as f64 * nonzeros as f64 / (peak * 1e9),
        1e3 * rest_flops(shape) * samples as f64 / (peak * 1e9),
    ]
}
