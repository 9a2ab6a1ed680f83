//! `compare.h5`'s names, units and long names, in one place (as
//! [`crate::record::schema`] is for run files). The root holds the `run`
//! coordinate and what each run is; the groups [`VAL`] and [`EVAL`] hold
//! one set's comparison over the dimensions `run`, `run_b` (the second
//! run of a pair), `sample` and `k` (a number of runs).

use crate::record::schema::{var, Var};

/// Group of the validation-set comparison.
pub(crate) const VAL: &str = "val";
/// Group of the evaluation-set comparison.
pub(crate) const EVAL: &str = "eval";

/// The run coordinate (run ids, in comparison order).
pub const RUN: Var<'static> = var("run", "1", "run id (the run file's stem)");
/// The second run of a pair (the same ids).
pub(crate) const RUN_B: Var<'static> = var("run_b", "1", "run id of the second run of the pair");
/// The shared samples.
pub(crate) const SAMPLE: Var<'static> = var(
    "sample",
    "1",
    "index of the sample in its dataset file (samples every run has)",
);
/// A number of runs.
pub const K: Var<'static> = var("k", "1", "number of runs");

/// Per run, at the root.
pub mod run {
    use super::{var, Var};
    /// Its title.
    pub(crate) const TITLE: Var<'static> = var("title", "1", "the run's title");
    /// Its file.
    pub(crate) const FILE: Var<'static> = var("run_file", "1", "the run file");
    /// Its configuration.
    pub(crate) const CONFIG: Var<'static> = var("config", "1", "the run's configuration (JSON)");
    /// Its status.
    pub(crate) const STATUS: Var<'static> = var("status", "1", "the run's status when compared");
}

/// Per run, in a set's group.
pub(crate) const AT: Var<'static> = var(
    "at",
    "1",
    "epoch (validation) or iteration (evaluation) whose losses are compared",
);
/// Samples of the run's own set.
pub(crate) const OWN_SAMPLES: Var<'static> =
    var("own_samples", "1", "samples in the run's own set");
/// The fence.
pub(crate) const FENCE: Var<'static> = var(
    "fence",
    "1",
    "upper Tukey fence Q3 + 1.5 IQR (nats) of the run's final losses over its own set",
);
/// Outliers among the shared samples.
pub(crate) const N_OUTLIERS: Var<'static> = var(
    "n_outliers",
    "1",
    "shared samples strictly above the run's fence",
);
/// Outliers in the run's own set.
pub(crate) const N_OUTLIERS_OWN: Var<'static> = var(
    "n_outliers_own",
    "1",
    "samples of the run's own set strictly above its fence",
);

/// The pairwise matrices (`run x run_b`), in [`super::set::Pairs`] order.
pub(crate) const PAIRS: [Var<'static>; 5] = [
    var(
        "jaccard_outliers",
        "1",
        "Jaccard index of the two runs' final above-fence sets on the shared samples (NaN: both empty)",
    ),
    var(
        "jaccard_outliers_chance",
        "1",
        "expected Jaccard index of two random sets of the same sizes drawn from the shared samples",
    ),
    var(
        "jaccard_top_k",
        "1",
        "Jaccard index of the two runs' top-k final-loss sets on the shared samples",
    ),
    var(
        "jaccard_top_k_chance",
        "1",
        "expected Jaccard index of two random k-sets drawn from the shared samples",
    ),
    var(
        "spearman",
        "1",
        "Spearman rank correlation of the two runs' final losses on the shared samples (average ranks for ties)",
    ),
];

/// Per run and shared sample: the final loss.
pub(crate) const FINAL_LOSS: Var<'static> = var("final_loss", "1", "final per-sample loss (nats)");
/// Per run and shared sample: 1 if above the fence.
pub(crate) const OUTLIER: Var<'static> = var(
    "outlier",
    "1",
    "1 if the sample's final loss is strictly above the run's fence",
);
/// Per run and shared sample: the final prediction.
pub(crate) const PRED: Var<'static> = var("pred", "1", "predicted class at the final epoch");
/// Per run and shared sample: the epochs above the fence.
pub(crate) const EPOCHS_ABOVE: Var<'static> = var(
    "epochs_above",
    "1",
    "epochs the sample spent strictly above that epoch's fence, over the run's recorded epochs",
);
/// Per shared sample: its label.
pub(crate) const LABEL: Var<'static> = var("label", "1", "the sample's label");
/// Per shared sample: the runs it is an outlier in.
pub(crate) const OUTLIER_RUNS: Var<'static> = var(
    "outlier_runs",
    "1",
    "number of runs in which the sample is strictly above the fence at the end",
);
/// Over `k`: shared samples that are outliers in `k` runs.
pub(crate) const HIST: Var<'static> = var(
    "outlier_runs_hist",
    "1",
    "shared samples that are outliers in exactly k runs",
);
/// Over `k`: the same for independent runs.
pub(crate) const HIST_INDEPENDENT: Var<'static> = var(
    "outlier_runs_hist_independent",
    "1",
    "expected shared samples outliers in exactly k runs if each run picked its outliers independently at its own rate (Poisson-binomial)",
);
