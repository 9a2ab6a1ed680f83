//! `preinterp report`: a run file -> the paper's figures and a
//! `summary.json` (the CLI prints the short human summary). Works on
//! finished, interrupted and still-running (SWMR) runs, and says which.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{self, CurveSummary, Outliers};
use crate::error::{Error, ErrorKind, Result};
use crate::plot;
use crate::record::read::RunFile;
use crate::record::schema::RunStatus;

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
pub struct Shape {
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
    pub shape: Option<Shape>,
    /// Figures written (file names in the report folder).
    pub figures: Vec<String>,
}

fn status_note(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Complete => "the run finished",
        RunStatus::Running => "the run is still going (or its writer was killed): this report covers what was flushed so far",
        RunStatus::Interrupted => "the run was interrupted; continue it with `preinterp train --resume`",
        RunStatus::Diverged => "the run diverged (a non-finite loss); the report covers the epochs before it",
    }
}

fn shape(c: &CurveSummary, o: Option<&OutlierSummary>, last_epoch: i64) -> Shape {
    Shape {
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

/// Reads `run`, writes the figures and `summary.json` into `out`.
pub fn report(run: &Path, out: &Path) -> Result<Summary> {
    let rf = RunFile::read(run)?;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(out, format!("cannot create the report folder: {e}")))?;
    let title = rf.title.trim_start_matches("preinterp run: ").to_string();
    let curves = analysis::summarise(&rf.curves);
    let outliers = analysis::tukey_outliers(&rf.val_losses, rf.val_epochs, rf.val_n);
    let mut figures = vec![];
    if !rf.curves.is_empty() {
        let marks = plot::Marks {
            min_val: curves.as_ref().map(|c| c.min_val_loss.epoch),
            interpolation: analysis::interpolation(&rf.curves).map(|i| rf.curves.epoch[i]),
        };
        figures.extend(plot::curves(out, &title, &rf.curves, &marks)?);
    }
    if !rf.iterations.is_empty() {
        figures.extend(plot::loss_heatmaps(
            out,
            &title,
            &rf.iterations,
            &rf.loss_hist,
        )?);
        figures.extend(plot::weight_heatmaps(
            out,
            &title,
            &rf.iterations,
            &rf.weight_hist,
        )?);
    }
    if let Some(o) = &outliers {
        figures.extend(plot::outliers(out, &title, o, rf.val_epochs)?);
    }
    let osum = outliers
        .as_ref()
        .map(|o| outlier_summary(o, rf.val_epochs, &rf.val_correct_last));
    let last_epoch = rf.curves.epoch.last().copied().unwrap_or(0);
    let summary = Summary {
        run_file: run.to_path_buf(),
        status_note: status_note(rf.status).to_string(),
        status: rf.status.to_string(),
        title,
        config: serde_json::from_str(&rf.config).unwrap_or(serde_json::Value::Null),
        epochs_recorded: rf.curves.len(),
        shape: curves.as_ref().map(|c| shape(c, osum.as_ref(), last_epoch)),
        curves,
        outliers: osum,
        figures: figures
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect(),
    };
    let path = out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))?;
    Ok(summary)
}
