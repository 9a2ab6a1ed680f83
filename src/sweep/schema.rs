//! The names in `sweep.h5`, the table `sweep collect` writes: one
//! netCDF-4 variable per column over the `run` coordinate (the run ids,
//! in sweep order), readable with `xarray.open_dataset(path,
//! engine="h5netcdf")`. Every column has CF `units` and `long_name`.
//!
//! Columns: the settings ([`STATUS`] to [`EPOCHS_RECORDED`]); per point of the curves ([`POINTS`]: `min` at the minimum validation
//! loss, `final` at the final epoch) `<point>_epoch` and
//! `<point>_<metric>` for each of [`METRICS`]; the flags
//! [`INTERPOLATION_EPOCH`], [`SELECTED`], [`TRIANGLE`]; the validation
//! set's calibration ([`CAL_SCALED_MIN_EPOCH`], [`CAL_FLOATS`],
//! [`CAL_SCALED_DOES_NOT_RISE`]); and per selection criterion ([`crate::analysis::select::Criterion`], by its
//! name) [`select_epoch`], [`select_eval_accuracy`],
//! [`select_eval_loss`], and with a grid search [`grid_picked`].
//! Missing values: `-1` in integer columns, NaN in float ones.

use crate::analysis::select::Criterion;
use crate::record::schema::{var, Var};

/// The file's name in the sweep folder.
pub(crate) const FILE: &str = "sweep.h5";

/// The same table as CSV, one row per run (`run` first), in the sweep
/// folder.
pub(crate) const CSV_FILE: &str = "sweep.csv";

/// The coordinate: every run's id, in sweep order.
pub const RUN: &str = "run";

/// File attributes (besides the run file's `Conventions`, `title`,
/// `tool_version`, `history` (the collect invocation), `source` and
/// `references`).
pub mod attr {
    /// The sweep spec (`sweep.toml`) as read.
    pub(crate) const SPEC: &str = "spec";
    /// What "final" means in the `final_*` columns.
    pub(crate) const FINAL_DEFINITION: &str = "final_definition";
    /// Its value.
    pub(crate) const FINAL_DEFINITION_TEXT: &str = "final = first epoch with 100% training accuracy, or the epoch of maximum training accuracy for a run that never interpolates";
}

/// CF `Conventions` of the file.
pub(crate) const CONVENTIONS: &str = crate::record::schema::CONVENTIONS;

/// Run status (string; `missing` = no run file).
pub(crate) const STATUS: Var<'static> = var("status", "1", "run status (missing = no run file)");
/// Where the run comes from (string): `spec`, or added by the grid
/// protocol (`extension` past a picked edge, `seed` of a pick).
pub(crate) const ORIGIN: Var<'static> = var(
    "origin",
    "1",
    "spec = listed by the spec; extension = a half-decade step past a picked edge; seed = another seed of a pick",
);
/// Dataset label (string).
pub(crate) const DATASET: Var<'static> = var("dataset", "1", "dataset");
/// Optimiser name (string).
pub(crate) const OPTIMIZER: Var<'static> = var("optimizer", "1", "optimiser");
/// Training samples (int64).
pub(crate) const TRAIN_SIZE: Var<'static> = var("train_size", "1", "training samples");
/// Hidden layers (int64).
pub(crate) const DEPTH: Var<'static> = var("depth", "1", "hidden layers");
/// Units per hidden layer (int64).
pub(crate) const WIDTH: Var<'static> = var("width", "1", "units per hidden layer");
/// Minibatch size (int64).
pub(crate) const BATCH_SIZE: Var<'static> = var("batch_size", "1", "minibatch size");
/// Seed (int64).
pub(crate) const SEED: Var<'static> = var("seed", "1", "seed");
/// Learning rate (float64).
pub(crate) const LR: Var<'static> = var("lr", "1", "learning rate");
/// Epochs recorded, including epoch 0 (int64).
pub(crate) const EPOCHS_RECORDED: Var<'static> =
    var("epochs_recorded", "1", "epochs recorded (incl. epoch 0)");

/// The points of each run's curves with columns of their own: (column
/// prefix, where, as the `long_name`s say it).
pub(crate) const POINTS: [(&str, &str); 2] = [
    ("min", "at the minimum validation loss"),
    (
        "final",
        "at the final epoch (first interpolation, else max train accuracy)",
    ),
];

/// The metrics recorded at each of [`POINTS`] (float64), by column
/// suffix.
pub(crate) const METRICS: [&str; 6] = [
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "eval_loss",
    "eval_accuracy",
];

/// `<point>_epoch` (int64, -1 = no data).
pub(crate) fn point_epoch(point: &str) -> String {
    format!("{point}_epoch")
}

/// `<point>_<metric>` (float64, NaN = no data).
pub(crate) fn point_metric(point: &str, metric: &str) -> String {
    format!("{point}_{metric}")
}

/// First epoch with 100% training accuracy (int64, -1 = never).
pub(crate) const INTERPOLATION_EPOCH: Var<'static> = var(
    "interpolation_epoch",
    "1",
    "first epoch with 100% training accuracy (-1 = never)",
);
/// 1 if the run is plotted (int64): chosen by the grid search, or any
/// run with data without one.
pub(crate) const SELECTED: &str = "selected";
/// 1 if validation loss and accuracy both rose from the minimum to the
/// final epoch (int64).
pub(crate) const TRIANGLE: Var<'static> = var(
    "triangle",
    "1",
    "1 if validation loss and accuracy both rose from the minimum to the final epoch",
);

/// The validation set's calibration
/// ([`crate::analysis::calibration::CalibrationSummary`]), float64, NaN
/// for a run without calibration (recorded before issue 20, or without
/// a validation set) and where `T*` does not exist; `min` is the epoch of
/// the minimum (raw) validation loss, as in `min_epoch`.
pub(crate) const CAL_FLOATS: [Var<'static>; 10] = [
    var("cal_temperature_at_min", "1", "temperature T* of the validation set at the minimum validation loss"),
    var("cal_temperature_at_end", "1", "temperature T* of the validation set at the last epoch"),
    var("cal_scaled_loss_at_min", "1", "validation loss at T* (nats) at the minimum validation loss"),
    var("cal_scaled_loss_at_end", "1", "validation loss at T* (nats) at the last epoch"),
    var("cal_ece_at_min", "1", "expected calibration error of the validation set (T = 1, 15 bins) at the minimum validation loss"),
    var("cal_ece_at_end", "1", "expected calibration error of the validation set (T = 1, 15 bins) at the last epoch"),
    var("cal_raw_loss_at_end", "1", "mean validation loss (nats) at the last epoch"),
    var("cal_raw_change", "1", "mean validation loss at the last epoch minus its minimum (nats)"),
    var("cal_scaled_change", "1", "validation loss at T* at the last epoch minus its value at the minimum validation loss (nats)"),
    var("cal_wrong_loss_share_at_end", "1", "share of the validation loss carried by the misclassified samples at the last epoch"),
];

/// Epoch of the minimum validation loss at `T*` (int64).
pub(crate) const CAL_SCALED_MIN_EPOCH: Var<'static> = var(
    "cal_scaled_min_epoch",
    "1",
    "epoch of the minimum validation loss at T* (-1 = no calibration, or T* at no epoch)",
);

/// 1 if the validation loss at `T*` does not rise from the minimum
/// validation loss to the last epoch (int64, -1 = no calibration).
pub(crate) const CAL_SCALED_DOES_NOT_RISE: Var<'static> = var(
    "cal_scaled_does_not_rise",
    "1",
    "1 if the validation loss at T* at the last epoch is at most its value at the minimum validation loss (-1 = no calibration)",
);

/// The `flag_meanings` of [`CAL_SCALED_DOES_NOT_RISE`] (0, 1).
pub(crate) const CAL_SCALED_DOES_NOT_RISE_MEANINGS: &str =
    "scaled_loss_rises scaled_loss_does_not_rise";

/// `select_<criterion>_epoch`: the epoch the criterion selects (int64,
/// -1 = not available).
pub(crate) fn select_epoch(c: Criterion) -> String {
    format!("select_{}_epoch", c.name())
}

/// `select_<criterion>_eval_accuracy`: test accuracy there (float64).
pub(crate) fn select_eval_accuracy(c: Criterion) -> String {
    format!("select_{}_eval_accuracy", c.name())
}

/// `select_<criterion>_eval_loss`: test mean loss there (float64).
pub(crate) fn select_eval_loss(c: Criterion) -> String {
    format!("select_{}_eval_loss", c.name())
}

/// `grid_<criterion>_picked`: 1 if a grid search judged by the
/// criterion picks the run (int64; only with `select_best`).
pub(crate) fn grid_picked(c: Criterion) -> String {
    format!("grid_{}_picked", c.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_as_readers_know_them() {
        assert_eq!(point_epoch("min"), "min_epoch");
        assert_eq!(point_metric("final", "val_accuracy"), "final_val_accuracy");
        let c = Criterion::MinValLossMedian;
        assert_eq!(select_epoch(c), "select_min_val_loss_median_epoch");
        assert_eq!(
            select_eval_accuracy(Criterion::LastEpoch),
            "select_last_epoch_eval_accuracy"
        );
        assert_eq!(select_eval_loss(c), "select_min_val_loss_median_eval_loss");
        assert_eq!(
            grid_picked(Criterion::MaxValAccuracy),
            "grid_max_val_accuracy_picked"
        );
    }

    #[test]
    fn calibration_columns_are_distinct_and_prefixed() {
        let mut names: Vec<&str> = CAL_FLOATS.iter().map(|v| v.name).collect();
        names.extend([CAL_SCALED_MIN_EPOCH.name, CAL_SCALED_DOES_NOT_RISE.name]);
        assert!(names.iter().all(|n| n.starts_with("cal_")));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(CAL_SCALED_DOES_NOT_RISE_MEANINGS.split(' ').count(), 2);
    }
}
