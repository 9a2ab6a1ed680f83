//! The run file's schema, in one place: group, variable and attribute
//! names with their units and long names, the run status, and the
//! `/state` variables. The writer ([`super::layout`]), the reader
//! ([`super::read`]), `report`, `sweep run` and `sweep collect` all name
//! things through this module. `docs/hdf5-layout.md` describes it for
//! readers of the files.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::train::Status;

/// Group of per-epoch means (dimension `epoch`).
pub(crate) const CURVES: &str = "curves";
/// Group of every validation sample's loss at every epoch end.
pub(crate) const VAL_PER_EPOCH: &str = "val_per_epoch";
/// Group of every training sample's loss at every epoch end.
pub(crate) const TRAIN_PER_EPOCH: &str = "train_per_epoch";
/// Group of the per-epoch reliability tables (`epoch x confidence_bin`),
/// apart from `/curves` so that `/curves` stays one row per epoch for
/// `to_dataframe()`.
pub(crate) const RELIABILITY: &str = "reliability";
/// Group of log-spaced checkpoints (dimension `iteration`).
pub(crate) const CHECKPOINTS: &str = "checkpoints";
/// Group of what a resume needs, overwritten at every epoch end.
pub(crate) const STATE: &str = "state";

/// Root attributes.
pub mod attr {
    /// CF conventions version.
    pub(crate) const CONVENTIONS: &str = "Conventions";
    /// One-line title.
    pub(crate) const TITLE: &str = "title";
    /// `preinterp`.
    pub(crate) const TOOL: &str = "tool";
    /// The crate version.
    pub(crate) const TOOL_VERSION: &str = "tool_version";
    /// The command line that made the file.
    pub(crate) const COMMAND_LINE: &str = "command_line";
    /// The resolved run configuration, as JSON.
    pub(crate) const CONFIG: &str = "config";
    /// The recording options, as JSON.
    pub(crate) const RECORD_OPTIONS: &str = "record_options";
    /// The run's seed.
    pub(crate) const SEED: &str = "seed";
    /// Evaluation threads used.
    pub(crate) const THREADS: &str = "threads";
    /// Dataset label.
    pub(crate) const DATASET: &str = "dataset";
    /// The four dataset files read, one per line.
    pub(crate) const DATASET_FILES: &str = "dataset_files";
    /// Their SHA-256, one per line.
    pub(crate) const DATASET_SHA256: &str = "dataset_sha256";
    /// CPU model.
    pub const CPU: &str = "cpu";
    /// SIMD level of the kernels.
    pub const SIMD: &str = "simd";
    /// UTC start time.
    pub(crate) const STARTED_AT: &str = "started_at";
    /// UTC end time (empty while running).
    pub(crate) const FINISHED_AT: &str = "finished_at";
    /// A [`super::RunStatus`].
    pub(crate) const STATUS: &str = "status";
    /// How the per-sample loss is computed.
    pub(crate) const LOSS_DEFINITION: &str = "loss_definition";
    /// CF `units` of a variable.
    pub(crate) const UNITS: &str = "units";
    /// CF `long_name` of a variable.
    pub(crate) const LONG_NAME: &str = "long_name";
    /// A group's description.
    pub(crate) const DESCRIPTION: &str = "description";
    /// CF `history`: one line per invocation that wrote the file,
    /// `<UTC ISO 8601>: <command line>`, oldest first.
    pub(crate) const HISTORY: &str = "history";
    /// CF `source`: `preinterp <version>`.
    pub(crate) const SOURCE: &str = "source";
    /// CF `references`: the paper reproduced.
    pub(crate) const REFERENCES: &str = "references";
    /// CF `flag_values` of a flag variable (its own type).
    pub(crate) const FLAG_VALUES: &str = "flag_values";
    /// CF `flag_meanings`: one word per flag value, blank-separated.
    pub(crate) const FLAG_MEANINGS: &str = "flag_meanings";
    /// netCDF `_FillValue` of a float variable (NaN, its own type).
    pub(crate) const FILL_VALUE: &str = "_FillValue";
    /// CF `bounds`: the variable holding a coordinate's cell edges.
    pub(crate) const BOUNDS: &str = "bounds";
    /// CF `coordinates`: the auxiliary coordinates of a variable.
    pub(crate) const COORDINATES: &str = "coordinates";
}

/// CF `Conventions` of every file preinterp writes.
pub(crate) const CONVENTIONS: &str = "CF-1.8";

/// CF `references` of every file preinterp writes: the paper, with its
/// DOI and arXiv id (the repository has no public URL to cite yet).
pub(crate) const REFERENCES: &str =
    "Venter, Theunissen & Davel (2021), Pre-interpolation loss behaviour in neural networks, Communications in Computer and Information Science 1342, 296-309, doi:10.1007/978-3-030-66151-9_19, arXiv:2103.07986";

/// CF `source` of every file preinterp writes.
pub(crate) const SOURCE: &str = concat!("preinterp ", env!("CARGO_PKG_VERSION"));

/// CF `flag_meanings` of the `correct` variables (flag values 0, 1).
pub(crate) const CORRECT_FLAG_MEANINGS: &str = "misclassified correctly_classified";

/// The dimension of the two edges of a cell, in the `*_bounds` variables.
pub(crate) const BOUNDS_DIM: &str = "nv";

/// What `loss_definition` says.
pub(crate) const LOSS_DEFINITION: &str =
    "per-sample cross-entropy log1p(sum_{j!=y} exp(z_j - z_y)) in nats, computed stably in float32";

/// Where a run stands, as its file's `status` attribute says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Being written (or its writer was killed).
    Running,
    /// Ran to its stop rule.
    Complete,
    /// Stopped by a signal; can be resumed.
    Interrupted,
    /// A loss became NaN or infinite.
    Diverged,
}

impl RunStatus {
    /// Whether nothing more will be trained (complete or diverged).
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Complete | RunStatus::Diverged)
    }

    /// The word in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Diverged => "diverged",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            RunStatus::Running,
            RunStatus::Complete,
            RunStatus::Interrupted,
            RunStatus::Diverged,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| Error::usage(format!("`{s}` is not a run status")))
    }
}

impl From<Status> for RunStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Complete => RunStatus::Complete,
            Status::Diverged => RunStatus::Diverged,
            Status::Interrupted => RunStatus::Interrupted,
        }
    }
}

/// One of the three sets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SetDef {
    /// `train`, `val` or `eval`: the prefix of its variables.
    pub name: &'static str,
    /// Its description in long names.
    pub long: &'static str,
    /// Which file of the dataset its samples come from.
    pub source: &'static str,
    /// Its short name in per-sample long names.
    pub short: &'static str,
}

/// The training, validation and evaluation sets, in that order.
pub(crate) const SETS: [SetDef; 3] = [
    SetDef {
        name: "train",
        long: "training set",
        source: "training",
        short: "training set",
    },
    SetDef {
        name: "val",
        long: "validation set (held out of the training pool)",
        source: "training",
        short: "validation set",
    },
    SetDef {
        name: "eval",
        long: "evaluation set (official test set)",
        source: "test",
        short: "evaluation set",
    },
];

impl SetDef {
    /// `val_sample`: the name of its sample dimension.
    pub(crate) fn sample_dim(&self) -> String {
        format!("{}_sample", self.name)
    }
}

/// A variable: name, CF units and long name.
#[derive(Clone, Copy, Debug)]
pub struct Var<'a> {
    /// Name in its group.
    pub name: &'a str,
    /// CF units.
    pub units: &'a str,
    /// CF long name.
    pub long_name: &'a str,
}

/// A variable (see [`Var`]).
pub const fn var<'a>(name: &'a str, units: &'a str, long_name: &'a str) -> Var<'a> {
    Var {
        name,
        units,
        long_name,
    }
}

/// The epoch coordinate of `/curves` and `/val_per_epoch`.
pub(crate) const EPOCH: Var<'static> = var("epoch", "1", "epochs completed (0 = before training)");

/// `/curves`, over `epoch`: the iteration (i64), then the float64 series
/// in [`CURVE_F64`].
pub(crate) const CURVE_ITERATION: Var<'static> =
    var("iteration", "1", "parameter updates completed");

/// The float64 series of `/curves`, in the order the writer fills them.
pub(crate) const CURVE_F64: [Var<'static>; 7] = [
    var("wall_time", "s", "seconds since training started"),
    var(
        "train_loss",
        "1",
        "mean cross-entropy loss (nats), training set",
    ),
    var(
        "train_accuracy",
        "1",
        "fraction classified correctly, training set",
    ),
    var(
        "val_loss",
        "1",
        "mean cross-entropy loss (nats), validation set (held out of the training pool)",
    ),
    var(
        "val_accuracy",
        "1",
        "fraction classified correctly, validation set (held out of the training pool)",
    ),
    var(
        "eval_loss",
        "1",
        "mean cross-entropy loss (nats), evaluation set (official test set)",
    ),
    var(
        "eval_accuracy",
        "1",
        "fraction classified correctly, evaluation set (official test set)",
    ),
];

/// Robust statistics of the validation losses (float64 over `epoch`, in
/// every run), in the order of [`crate::stats::LossStats`]'s fields.
pub(crate) const CURVE_ROBUST: [Var<'static>; 7] = [
    var("val_loss_q1", "1", "first quartile of the per-sample validation loss (nats; linear interpolation, numpy's default)"),
    var("val_loss_median", "1", "median of the per-sample validation loss (nats)"),
    var("val_loss_q3", "1", "third quartile of the per-sample validation loss (nats; linear interpolation)"),
    var("val_loss_fence", "1", "upper Tukey fence Q3 + 1.5 (Q3 - Q1) of the per-sample validation loss (nats)"),
    var("val_frac_above_fence", "1", "fraction of validation samples whose loss is strictly above the fence"),
    var("val_loss_share_above_fence", "1", "share of the summed validation loss carried by the samples above the fence"),
    var("val_loss_trimmed_mean", "1", "mean validation loss with 10% cut from each end (scipy.stats.trim_mean(x, 0.1))"),
];

/// Per-epoch calibration (issue 20): for the validation and the
/// evaluation set, in `/curves`, `<set>_<name>` over `epoch` (float64, in
/// the order of [`crate::stats::Calibration`]'s fields) and a status
/// flag; in `/reliability`, the reliability table over `epoch x
/// confidence_bin`. Files written before it have none of these.
pub(crate) mod calibration {
    use super::{var, Var};

    /// The sets calibrated, by their names in [`super::SETS`].
    pub(crate) const SETS: [&str; 2] = ["val", "eval"];

    /// The float64 series, each named `<set>_<name>`, with its units and
    /// long name (the set's long name is appended).
    pub(crate) const SERIES: [Var<'static>; 9] = [
        var("temperature", "1", "temperature T* minimising the mean cross-entropy of logits / T (Guo et al. 2017), searched over [1e-4, 1e4]; NaN where calibration_status is not ok"),
        var("loss_at_temperature", "1", "mean cross-entropy loss (nats) of logits / T*, in the log1p form of the per-sample losses"),
        var("ece", "1", "expected calibration error of the softmax at T = 1 over 15 equal-width confidence bins ((b-1)/15, b/15]"),
        var("max_logit_correct", "1", "mean largest logit of the correctly classified samples"),
        var("max_logit_wrong", "1", "mean largest logit of the misclassified samples"),
        var("margin_correct", "1", "mean logit margin z_y - max_(j != y) z_j of the correctly classified samples"),
        var("margin_wrong", "1", "mean logit margin z_y - max_(j != y) z_j of the misclassified samples"),
        var("wrong_loss_share", "1", "share of the summed cross-entropy loss carried by the misclassified samples"),
        var("wrong_loss_mean", "1", "mean cross-entropy loss (nats) of the misclassified samples"),
    ];
    /// Why `T*` is (not) finite, per epoch (uint8 flags).
    pub(crate) const STATUS: Var<'static> = var(
        "calibration_status",
        "1",
        "whether the temperature T* exists (0 = ok), and if not why",
    );
    /// The reliability table: samples, accuracy and mean confidence per
    /// confidence bin.
    pub(crate) const BIN_COUNT: Var<'static> = var(
        "reliability_count",
        "1",
        "samples per confidence bin (largest softmax probability at T = 1)",
    );
    /// See [`BIN_COUNT`].
    pub(crate) const BIN_ACCURACY: Var<'static> = var(
        "reliability_accuracy",
        "1",
        "fraction classified correctly among the samples of the confidence bin (NaN when empty)",
    );
    /// See [`BIN_COUNT`].
    pub(crate) const BIN_CONFIDENCE: Var<'static> = var(
        "reliability_confidence",
        "1",
        "mean confidence (largest softmax probability at T = 1) of the samples of the bin (NaN when empty)",
    );
    /// The confidence-bin coordinate.
    pub(crate) const BIN: Var<'static> = var(
        "confidence_bin",
        "1",
        "confidence bin b = 0..14, holding confidences in (b/15, (b+1)/15]",
    );
    /// Its CF bounds.
    pub(crate) const BIN_BOUNDS: Var<'static> = var(
        "confidence_bin_bounds",
        "1",
        "lower and upper edge of the confidence bin ((lower, upper])",
    );
    /// The root attribute summarising every epoch's status, written when
    /// the run ends.
    pub(crate) const STATUS_ATTR: &str = "calibration_status";

    /// `<set>_<name>`.
    pub(crate) fn name(set: &str, v: &str) -> String {
        format!("{set}_{v}")
    }
}

/// The groups of per-sample values at every epoch end, each over
/// `epoch x <set>_sample`: the group and the index of its set in [`SETS`].
pub(crate) const PER_EPOCH: [(&str, usize); 2] = [(VAL_PER_EPOCH, 1), (TRAIN_PER_EPOCH, 0)];

/// Variables of a per-epoch group.
pub(crate) mod per_epoch {
    /// Per-sample loss (float32).
    pub(crate) const LOSS: &str = "loss";
    /// 1 if classified correctly (uint8).
    pub(crate) const CORRECT: &str = "correct";
    /// Predicted class (uint8).
    pub(crate) const PRED: &str = "pred";
    /// True class (uint8, over the sample dimension only).
    pub(crate) const LABEL: &str = "label";
    /// Logit margin (float32), with `--record-margins`.
    pub(crate) const MARGIN: &str = "margin";
}

/// `/val_per_epoch`, over `epoch x val_sample`.
pub(crate) const VAL_LOSS: Var<'static> = var(
    "loss",
    "1",
    "per-sample cross-entropy loss (nats), validation set",
);
/// See [`VAL_LOSS`].
pub(crate) const VAL_CORRECT: Var<'static> =
    var("correct", "1", "1 if the sample is classified correctly");

/// `/checkpoints` coordinates and per-checkpoint variables.
pub(crate) mod ckpt {
    use super::{var, Var};

    /// The checkpoint coordinate.
    pub(crate) const ITERATION: Var<'static> = var(
        "iteration",
        "1",
        "parameter updates completed (log-spaced checkpoints)",
    );
    /// Fractional epoch of each checkpoint.
    pub(crate) const EPOCH: Var<'static> = var("epoch", "1", "iteration / updates per epoch");
    /// Loss-bin coordinate.
    pub(crate) const LOSS_BIN: Var<'static> = var(
        "loss_bin",
        "1",
        "loss histogram bin (0 = underflow incl. exact 0, last = overflow)",
    );
    /// Lower loss-bin edges.
    pub(crate) const LOSS_BIN_LOWER: Var<'static> =
        var("loss_bin_lower", "1", "lower edge of the loss bin (nats)");
    /// Upper loss-bin edges.
    pub(crate) const LOSS_BIN_UPPER: Var<'static> = var(
        "loss_bin_upper",
        "1",
        "upper edge of the loss bin (nats, exclusive)",
    );
    /// CF bounds of the loss bins: `(lower, upper)` edges per bin.
    pub(crate) const LOSS_BIN_BOUNDS: Var<'static> = var(
        "loss_bin_bounds",
        "1",
        "lower and upper edge of the loss bin (nats; [lower, upper))",
    );
    /// Layer coordinate.
    pub(crate) const LAYER: Var<'static> =
        var("layer", "1", "layer (0 = first hidden, last = output)");
    /// Weight-bin coordinate.
    pub(crate) const WEIGHT_BIN: Var<'static> = var(
        "weight_bin",
        "1",
        "weight histogram bin (0 = underflow, last = overflow)",
    );
    /// Lower weight-bin edges, per layer.
    pub(crate) const WEIGHT_BIN_LOWER: Var<'static> = var(
        "weight_bin_lower",
        "1",
        "lower edge of the weight bin, per layer",
    );
    /// Upper weight-bin edges, per layer.
    pub(crate) const WEIGHT_BIN_UPPER: Var<'static> = var(
        "weight_bin_upper",
        "1",
        "upper edge of the weight bin, per layer",
    );
    /// CF bounds of the weight bins: `(lower, upper)` edges per layer
    /// and bin.
    pub(crate) const WEIGHT_BIN_BOUNDS: Var<'static> = var(
        "weight_bin_bounds",
        "1",
        "lower and upper edge of the weight bin, per layer ([lower, upper))",
    );
    /// Weight histograms.
    pub(crate) const WEIGHT_HIST: Var<'static> =
        var("weight_hist", "1", "weights per bin, per layer");
    /// Bias histograms.
    pub(crate) const BIAS_HIST: Var<'static> = var(
        "bias_hist",
        "1",
        "biases per bin, per layer (same bins as the weights)",
    );
    /// Per-layer norms, over `iteration x layer`, in the order the
    /// recorder computes them.
    pub(crate) const NORMS: [Var<'static>; 4] = [
        var("weight_l2", "1", "L2 norm of the layer's weights"),
        var("weight_max_abs", "1", "largest |w| of the layer"),
        var("bias_l2", "1", "L2 norm of the layer's biases"),
        var("bias_max_abs", "1", "largest |b| of the layer"),
    ];
    /// Per-set variable names: `train_loss`, `train_correct`,
    /// `train_loss_hist`, `train_loss_nan`.
    pub(crate) fn set_vars(set: &str) -> [String; 4] {
        ["loss", "correct", "loss_hist", "loss_nan"].map(|v| format!("{set}_{v}"))
    }
}

/// `/state`: what a resume needs.
pub(crate) mod state {
    /// The group's description.
    pub(crate) const DESCRIPTION: &str = "weights (preinterp's in-memory layout), optimiser state and counters at the end of `epoch`, in slot `epoch % 2` (the other slot holds the epoch before, so a writer killed while saving leaves the last complete epoch intact); epoch -1 = no epoch completed yet";
    /// Parameters (float32, one per parameter).
    pub(crate) const PARAMS: &str = "params";
    /// First moment / momentum buffer.
    pub(crate) const OPT_M: &str = "opt_m";
    /// Second moment.
    pub(crate) const OPT_V: &str = "opt_v";
    /// Optimiser steps (i64).
    pub(crate) const OPT_STEP: &str = "opt_step";
    /// The last complete epoch (i64, -1 = none).
    pub(crate) const EPOCH: &str = "epoch";
    /// Updates at its end (i64).
    pub(crate) const ITERATION: &str = "iteration";
    /// Wall time at its end (f64).
    pub(crate) const WALL_TIME: &str = "wall_time";
    /// The next epoch's shuffle RNG state (u64).
    pub(crate) const SHUFFLE_SEED: &str = "shuffle_seed";
    /// Its long name.
    pub(crate) const SHUFFLE_SEED_LONG: &str = "RNG state of the next epoch's shuffle: Xoshiro256PlusPlus::seed_from_u64(shuffle_seed) (rand_xoshiro), then a Fisher-Yates shuffle of the training indices";
    /// The dimension of the two state slots (written alternately).
    pub(crate) const SLOT_DIM: &str = "slot";
    /// The dimension of the per-parameter variables.
    pub(crate) const PARAM_DIM: &str = "param";
    /// The dimension of the one-value variables.
    pub(crate) const VALUE_DIM: &str = "value";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in [
            RunStatus::Running,
            RunStatus::Complete,
            RunStatus::Interrupted,
            RunStatus::Diverged,
        ] {
            assert_eq!(s.to_string().parse::<RunStatus>().unwrap(), s);
        }
        assert!("done".parse::<RunStatus>().is_err());
        assert!(RunStatus::Diverged.is_final() && !RunStatus::Interrupted.is_final());
    }

    #[test]
    fn curve_long_names_name_their_set() {
        for s in SETS {
            for v in CURVE_F64.iter().filter(|v| v.name.starts_with(s.name)) {
                assert!(v.long_name.ends_with(s.long), "{}", v.name);
            }
        }
    }
}
