//! Reading a run file back: curves, per-epoch validation losses,
//! checkpoint histograms and provenance. Opens files that are still
//! being written (SWMR) and files left by a killed writer.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use crate::analysis::Curves;
use crate::error::{Error, ErrorKind, Result};

/// Histograms over checkpoints: `counts[c * bins + b]`.
#[derive(Clone, Debug, Default)]
pub struct Hist {
    /// Checkpoints (rows).
    pub rows: usize,
    /// Bins per row.
    pub bins: usize,
    /// Counts, row-major.
    pub counts: Vec<u64>,
    /// Lower edge of every bin.
    pub lower: Vec<f64>,
    /// Upper edge of every bin.
    pub upper: Vec<f64>,
}

/// Everything the report needs from a run file.
#[derive(Clone, Debug, Default)]
pub struct RunFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `running`, `complete`, `interrupted` or `diverged`.
    pub status: String,
    /// The run's one-line title.
    pub title: String,
    /// The config as JSON.
    pub config: String,
    /// Per-epoch means.
    pub curves: Curves,
    /// Validation losses per epoch (`val_epochs x val_n`), if recorded.
    pub val_losses: Vec<f32>,
    /// Rows of `val_losses`.
    pub val_epochs: usize,
    /// Validation samples.
    pub val_n: usize,
    /// Correctness of every validation sample at the last epoch read.
    pub val_correct_last: Vec<u8>,
    /// Checkpoint iterations.
    pub iterations: Vec<i64>,
    /// Loss histograms of train, validation and evaluation.
    pub loss_hist: [Hist; 3],
    /// Weight histograms, one per layer.
    pub weight_hist: Vec<Hist>,
}

fn h5(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("{}: cannot read the run file: {e}", path.display()),
    )
}

impl RunFile {
    /// Reads `path`; a file still open for writing is read through SWMR.
    pub fn read(path: &Path) -> Result<RunFile> {
        if !path.is_file() {
            return Err(Error::usage(format!(
                "{}: no such run file",
                path.display()
            )));
        }
        let file = match hdf5::File::open(path) {
            Ok(f) => f,
            Err(_) => hdf5::File::open_as(path, hdf5::file::OpenMode::ReadSWMR)
                .map_err(|e| h5(path, e))?,
        };
        Self::from_file(path, &file).map_err(|e| h5(path, e))
    }

    fn from_file(path: &Path, f: &hdf5::File) -> hdf5::Result<RunFile> {
        let s = |name: &str| -> hdf5::Result<String> {
            Ok(f.attr(name)?
                .read_scalar::<VarLenUnicode>()?
                .as_str()
                .to_string())
        };
        let c = f.group("curves")?;
        // Rows are complete up to the shortest variable (a reader may
        // catch a writer between two of them).
        let names = [
            "epoch",
            "iteration",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "eval_loss",
            "eval_accuracy",
        ];
        let rows = names
            .iter()
            .map(|n| c.dataset(n).map(|d| d.shape()[0]))
            .collect::<hdf5::Result<Vec<_>>>()?;
        let n = rows.into_iter().min().unwrap_or(0);
        let i64s = |name: &str| -> hdf5::Result<Vec<i64>> {
            Ok(c.dataset(name)?
                .read_raw::<i64>()?
                .into_iter()
                .take(n)
                .collect())
        };
        let f64s = |name: &str| -> hdf5::Result<Vec<f64>> {
            Ok(c.dataset(name)?
                .read_raw::<f64>()?
                .into_iter()
                .take(n)
                .collect())
        };
        let curves = Curves {
            epoch: i64s("epoch")?,
            iteration: i64s("iteration")?,
            train_loss: f64s("train_loss")?,
            train_acc: f64s("train_accuracy")?,
            val_loss: f64s("val_loss")?,
            val_acc: f64s("val_accuracy")?,
            eval_loss: f64s("eval_loss")?,
            eval_acc: f64s("eval_accuracy")?,
        };
        let (mut val_losses, mut val_epochs, mut val_n, mut val_correct_last) =
            (vec![], 0, 0, vec![]);
        if let Ok(g) = f.group("val_per_epoch") {
            let d = g.dataset("loss")?;
            let sh = d.shape();
            val_epochs = sh[0].min(n);
            val_n = sh[1];
            val_losses = d.read_raw::<f32>()?;
            val_losses.truncate(val_epochs * val_n);
            if val_epochs > 0 {
                let c: Vec<u8> = g.dataset("correct")?.read_raw()?;
                val_correct_last = c[(val_epochs - 1) * val_n..val_epochs * val_n].to_vec();
            }
        }
        let k = f.group("checkpoints")?;
        let mut iterations: Vec<i64> = k.dataset("iteration")?.read_raw()?;
        // Complete checkpoint rows only (the histograms are written last).
        let hist_rows = [
            "train_loss_hist",
            "val_loss_hist",
            "eval_loss_hist",
            "weight_hist",
        ]
        .iter()
        .map(|n| k.dataset(n).map(|d| d.shape()[0]))
        .collect::<hdf5::Result<Vec<_>>>()?;
        let kr = hist_rows
            .into_iter()
            .min()
            .unwrap_or(0)
            .min(iterations.len());
        iterations.truncate(kr);
        let lower: Vec<f64> = k.dataset("loss_bin_lower")?.read_raw()?;
        let upper: Vec<f64> = k.dataset("loss_bin_upper")?.read_raw()?;
        let loss_hist = ["train", "val", "eval"].map(|set| -> hdf5::Result<Hist> {
            let mut counts: Vec<u64> = k.dataset(&format!("{set}_loss_hist"))?.read_raw()?;
            counts.truncate(kr * lower.len());
            Ok(Hist {
                rows: kr,
                bins: lower.len(),
                counts,
                lower: lower.clone(),
                upper: upper.clone(),
            })
        });
        let [a, b, c2] = loss_hist;
        let loss_hist = [a?, b?, c2?];
        let w = k.dataset("weight_hist")?;
        let sh = w.shape();
        let (layers, wb) = (sh[1], sh[2]);
        let all: Vec<u64> = w.read_raw()?;
        let wlo: Vec<f64> = k.dataset("weight_bin_lower")?.read_raw()?;
        let whi: Vec<f64> = k.dataset("weight_bin_upper")?.read_raw()?;
        let weight_hist = (0..layers)
            .map(|l| Hist {
                rows: kr,
                bins: wb,
                counts: (0..kr)
                    .flat_map(|r| all[(r * layers + l) * wb..(r * layers + l + 1) * wb].to_vec())
                    .collect(),
                lower: wlo[l * wb..(l + 1) * wb].to_vec(),
                upper: whi[l * wb..(l + 1) * wb].to_vec(),
            })
            .collect();
        Ok(RunFile {
            path: path.to_path_buf(),
            status: s("status")?,
            title: s("title")?,
            config: s("config")?,
            curves,
            val_losses,
            val_epochs,
            val_n,
            val_correct_last,
            iterations,
            loss_hist,
            weight_hist,
        })
    }
}
