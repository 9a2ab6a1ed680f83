//! What a run file records, and how finely: the resolved recording
//! options (stored in every run file as its `record_options` attribute).

use serde::{Deserialize, Serialize};

/// Which per-sample values are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordSamples {
    /// Per-sample losses at checkpoints, and every validation and
    /// training sample's loss, correctness and prediction at every epoch.
    #[default]
    All,
    /// Per-sample losses at checkpoints only.
    Checkpoints,
    /// Only means, histograms and norms.
    None,
}

impl RecordSamples {
    /// The values a flag or spec may give, in order.
    pub(crate) const NAMES: &'static [&'static str] = &["all", "checkpoints", "none"];
}

/// What the recorder writes, and how finely.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordOpts {
    /// Per-sample records.
    pub samples: RecordSamples,
    /// Logit margins per sample per epoch (with `samples == All`).
    #[serde(default)]
    pub margins: bool,
    /// Checkpoints per decade of iterations.
    pub per_decade: u32,
    /// Loss histogram: lowest inner edge.
    pub loss_lo: f64,
    /// Loss histogram: highest inner edge.
    pub loss_hi: f64,
    /// Loss histogram: bins per decade.
    pub loss_bins_per_decade: usize,
    /// Weight histograms: bins over `[-r, r]`, `r = weight_range / sqrt(fan_in)`.
    pub weight_bins: usize,
    /// See `weight_bins`.
    pub weight_range: f64,
}

impl Default for RecordOpts {
    /// What `train --out` records unless told otherwise.
    fn default() -> Self {
        RecordOpts {
            samples: RecordSamples::All,
            margins: false,
            per_decade: 20,
            loss_lo: 1e-8,
            loss_hi: 1e3,
            loss_bins_per_decade: 10,
            weight_bins: 200,
            weight_range: 16.0,
        }
    }
}

impl RecordOpts {
    /// What each run of a sweep records unless told otherwise: per-epoch
    /// curves only (no per-sample records, no checkpoints), which is all
    /// that `sweep collect` needs.
    pub(crate) fn sweep_default() -> Self {
        RecordOpts {
            samples: RecordSamples::None,
            per_decade: 0,
            ..RecordOpts::default()
        }
    }
}
