//! `preinterp report`: a run file -> the paper's figures, the
//! calibration figures, the per-sample statistics (`samples.h5`) and
//! their figures, and a `summary.json` (the CLI prints the short human
//! summary). Works on
//! finished, interrupted and still-running (SWMR) runs, and says which.
//! It draws what the file's records allow and lists what it skipped.

mod samples;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::calibration::{self, CalibrationSummary};
use crate::analysis::select::{self, RobustCurves, Selection};
use crate::analysis::{self, CurveSummary, Outliers};
use crate::data::Locator;
use crate::error::{Error, ErrorKind, Result};
use crate::plot;
use crate::record::read::{PerEpoch, RunFile, NO_CALIBRATION};
use crate::record::schema::{self, RunStatus};
use crate::stats::loss_stats;
pub(crate) use samples::SamplesSummary;

/// Outlier statistics for the summary (without per-sample arrays).
#[derive(Clone, Debug, Serialize)]
pub struct OutlierSummary {
    /// Validation samples analysed.
    pub samples: usize,
    /// Epochs analysed.
    pub epochs: usize,
    /// Quantile method.
    pub quantiles: &'static str,
    /// Fraction above the fence at the last epoch.
    pub frac_above_at_end: f64,
    /// Their share of the total validation loss at the last epoch.
    pub loss_share_at_end: f64,
    /// Fraction never above the fence.
    pub frac_never: f64,
    /// Fraction above the fence in at least half of the epochs.
    pub frac_most_epochs: f64,
    /// Most epochs any sample spent above the fence.
    pub max_epochs_above: u32,
    /// Fraction of validation samples misclassified at the last epoch.
    pub misclassified_frac_at_end: Option<f64>,
    /// Their share of the total validation loss at the last epoch.
    pub misclassified_loss_share: Option<f64>,
}

/// Whether the run shows the paper's shape.
#[derive(Clone, Debug, Serialize)]
pub struct PaperShape {
    /// The minimum validation loss comes in the first quarter of the run.
    pub min_val_loss_early: bool,
    /// Validation loss at the last epoch is above its minimum.
    pub val_loss_rises: bool,
    /// Validation accuracy at the last epoch is at least its value at
    /// the minimum-validation-loss epoch.
    pub val_acc_holds: bool,
    /// Fewer than a quarter of the validation samples are outliers in
    /// most epochs, and the samples above the fence at the end carry
    /// more than half of the loss.
    pub outlier_minority_carries_the_loss: bool,
}

/// The whole `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The run file.
    pub run_file: PathBuf,
    /// `complete`, `running`, `interrupted` or `diverged`.
    pub status: String,
    /// A sentence about the status.
    pub status_note: String,
    /// The run's title.
    pub title: String,
    /// Its configuration.
    pub config: serde_json::Value,
    /// Epochs recorded.
    pub epochs_recorded: usize,
    /// Curve analysis.
    pub curves: Option<CurveSummary>,
    /// Outlier analysis (needs `--record-samples all`).
    pub outliers: Option<OutlierSummary>,
    /// The paper's shape.
    pub shape: Option<PaperShape>,
    /// The validation set's calibration at the minimum validation loss
    /// and at the end (files since issue 20 with a validation set).
    pub calibration: Option<CalibrationSummary>,
    /// The epoch each model-selection criterion picks, and the
    /// evaluation (test) set's accuracy and loss there.
    pub selection: Selection,
    /// Where the median and trimmed-mean criteria come from.
    pub selection_source: Option<String>,
    /// The per-sample statistics (`samples.h5`), if written.
    pub samples: Option<SamplesSummary>,
    /// Figures written (file names in the report folder).
    pub figures: Vec<String>,
    /// What was not drawn or computed, and why.
    pub skipped: Vec<String>,
}

fn status_note(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Complete => "the run finished",
        RunStatus::Running => "the run is still going (or its writer was killed): this report covers what was flushed so far",
        RunStatus::Interrupted => "the run was interrupted; continue it with `preinterp train --resume`",
        RunStatus::Diverged => "the run diverged (a non-finite loss); the report covers the epochs before it",
    }
}

fn shape(c: &CurveSummary, o: Option<&OutlierSummary>, last_epoch: i64) -> PaperShape {
    PaperShape {
        min_val_loss_early: (c.min_val_loss.epoch as f64) <= 0.25 * last_epoch as f64,
        val_loss_rises: c.last.val_loss > c.min_val_loss.val_loss,
        val_acc_holds: c.last.val_acc >= c.min_val_loss.val_acc,
        outlier_minority_carries_the_loss: o
            .is_some_and(|o| o.frac_most_epochs < 0.25 && o.loss_share_at_end > 0.5),
    }
}

fn outlier_summary(o: &Outliers, epochs: usize, correct: &[u8]) -> OutlierSummary {
    let mis = analysis::misclassified_share(&o.final_loss, correct);
    OutlierSummary {
        misclassified_frac_at_end: mis.map(|m| m.0),
        misclassified_loss_share: mis.map(|m| m.1),
        samples: o.epochs_above.len(),
        epochs,
        quantiles: "linear interpolation (numpy default); outlier = loss strictly above Q3 + 1.5 (Q3 - Q1) of that epoch",
        frac_above_at_end: o.frac_above_at_end,
        loss_share_at_end: o.loss_share_at_end,
        frac_never: o.frac_never,
        frac_most_epochs: o.frac_most_epochs,
        max_epochs_above: o.epochs_above.iter().copied().max().unwrap_or(0),
    }
}

/// The paper's figures 1, 5, 6 and 7, as far as the records allow.
fn paper_figures(
    out: &Path,
    title: &str,
    rf: &RunFile,
    outliers: Option<&Outliers>,
    skipped: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    let mut figures = vec![];
    let curves = analysis::summarise(&rf.curves);
    if !rf.curves.is_empty() {
        let marks = plot::Marks {
            min_val: curves.as_ref().map(|c| c.min_val_loss.epoch),
            interpolation: analysis::interpolation(&rf.curves).map(|i| rf.curves.epoch[i]),
        };
        figures.extend(plot::curves(out, title, &rf.curves, &marks)?);
    }
    if !rf.iterations.is_empty() {
        figures.extend(plot::loss_heatmaps(
            out,
            title,
            &rf.iterations,
            &rf.loss_hist,
        )?);
        figures.extend(plot::weight_heatmaps(
            out,
            title,
            &rf.iterations,
            &rf.weight_hist,
        )?);
    } else {
        skipped.push("figures 5 and 6 (loss and weight heatmaps): no checkpoints recorded; record them with `--checkpoints-per-decade N` (N > 0)".into());
    }
    match outliers {
        Some(o) => figures.extend(plot::outliers(out, title, o, rf.val_epochs)?),
        None => skipped.push("figure 7 (Tukey outliers): the run file has no per-epoch validation losses (/val_per_epoch); record them with `--record-samples all`".into()),
    }
    Ok(figures)
}

/// The calibration figures (`calibration`, `reliability`), when the
/// file records calibration.
fn calibration_figures(
    out: &Path,
    title: &str,
    rf: &RunFile,
    skipped: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    if !rf.calibration.is_recorded() {
        skipped.push(format!("calibration figures and summary: {NO_CALIBRATION}"));
        return Ok(vec![]);
    }
    if rf.curves.is_empty() {
        skipped.push("calibration figures and summary: no epoch recorded yet".into());
        return Ok(vec![]);
    }
    let mut figures = plot::calibration(out, title, &rf.curves, &rf.calibration)?;
    figures.extend(plot::reliability(out, title, &rf.curves, &rf.calibration)?);
    Ok(figures)
}

/// The validation set's calibration summary; says why when there is
/// none (a file without calibration or epochs is already in `skipped`).
fn calibration_summary(rf: &RunFile, skipped: &mut Vec<String>) -> Option<CalibrationSummary> {
    if !rf.calibration.is_recorded() || rf.curves.is_empty() {
        return None;
    }
    let Some(val) = &rf.calibration.val else {
        skipped.push("calibration summary: the run has no validation set (`--val-size 0`); only the evaluation set is calibrated".into());
        return None;
    };
    let s = calibration::summarise(&rf.curves, val);
    if s.is_none() {
        skipped.push("calibration summary: no finite validation loss recorded".into());
    }
    s
}

/// The median and trimmed mean of the validation loss per epoch: from
/// `/curves` when recorded, else from `/val_per_epoch`; says where from.
fn robust_curves(rf: &RunFile, val: Option<&PerEpoch>) -> Option<(RobustCurves, String)> {
    if let Some(r) = &rf.robust {
        return Some((
            r.clone(),
            "/curves (val_loss_median, val_loss_trimmed_mean)".into(),
        ));
    }
    let v = val?;
    let mut scratch = Vec::with_capacity(v.n);
    let mut curves = RobustCurves::default();
    for r in 0..v.epochs.min(rf.curves.len()) {
        curves.push(&loss_stats(&v.loss[r * v.n..(r + 1) * v.n], &mut scratch));
    }
    Some((
        curves,
        "computed from /val_per_epoch/loss (the run file has no robust curves)".into(),
    ))
}

/// File names of `paths`.
fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect()
}

/// Reads `run`, writes the figures, `samples.h5` and `summary.json`
/// into `out`. The dataset (for the gallery's images) is found where the
/// run read it, else through `loc`; without it the gallery is skipped.
pub fn report(run: &Path, out: &Path, loc: &Locator) -> Result<Summary> {
    let rf = RunFile::read(run)?;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(out, format!("cannot create the report folder: {e}")))?;
    let title = rf.title.trim_start_matches("preinterp run: ").to_string();
    let mut skipped = vec![];
    let outliers = analysis::tukey_outliers(&rf.val_losses, rf.val_epochs, rf.val_n);
    let mut figures = paper_figures(out, &title, &rf, outliers.as_ref(), &mut skipped)?;
    figures.extend(calibration_figures(out, &title, &rf, &mut skipped)?);
    let calibration = calibration_summary(&rf, &mut skipped);
    let val = PerEpoch::read(run, schema::VAL_PER_EPOCH, rf.curves.len())?;
    let train = PerEpoch::read(run, schema::TRAIN_PER_EPOCH, rf.curves.len())?;
    let robust = robust_curves(&rf, val.as_ref());
    if robust.is_none() {
        skipped.push("model selection by the median and the trimmed mean: the run file has neither robust curves (/curves/val_loss_median, preinterp since issue 12) nor per-epoch validation losses (`--record-samples all`)".into());
    }
    let input = samples::Input {
        out,
        title: &title,
        rf: &rf,
        val: val.as_ref(),
        train: train.as_ref(),
        median: robust.as_ref().map(|r| r.0.median.as_slice()),
    };
    let made = samples::per_sample(&input, loc)?;
    figures.extend(made.figures);
    skipped.extend(made.skipped);
    let curves = analysis::summarise(&rf.curves);
    let osum = outliers
        .as_ref()
        .map(|o| outlier_summary(o, rf.val_epochs, &rf.val_correct_last));
    let last_epoch = rf.curves.epoch.last().copied().unwrap_or(0);
    let summary = Summary {
        run_file: run.to_path_buf(),
        status_note: status_note(rf.status).to_string(),
        status: rf.status.to_string(),
        config: serde_json::from_str(&rf.config).unwrap_or(serde_json::Value::Null),
        epochs_recorded: rf.curves.len(),
        shape: curves.as_ref().map(|c| shape(c, osum.as_ref(), last_epoch)),
        calibration,
        selection: select::select(
            &rf.curves,
            select::Extra::of(&rf, robust.as_ref().map(|r| &r.0)),
        ),
        selection_source: robust.map(|r| r.1),
        title,
        curves,
        outliers: osum,
        samples: made.summary,
        figures: names(&figures),
        skipped,
    };
    let path = out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))?;
    Ok(summary)
}
