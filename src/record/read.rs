//! Reading a run file back: curves, per-epoch validation losses,
//! checkpoint histograms and provenance. Opens files that are still
//! being written (SWMR) and files left by a killed writer.

use std::path::{Path, PathBuf};

use hdf5::Group;

use super::h5::{self, read_attr_str};
use super::schema::{self, attr, ckpt, RunStatus, SETS};
use crate::analysis::Curves;
use crate::error::{Error, Result};
use crate::stats::RobustCurves;

/// Histograms over checkpoints: `counts[c * bins + b]`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hist {
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
#[derive(Clone, Debug)]
pub(crate) struct RunFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Where the run stands.
    pub status: RunStatus,
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
    /// The per-epoch robust statistics of the validation losses (absent
    /// in files written before they were recorded).
    pub robust: Option<RobustCurves>,
    /// The per-epoch calibration of the validation and evaluation sets
    /// (absent in files written before it was recorded, issue 20).
    pub calibration: Calibrations,
}

/// The sentence for a file without calibration.
pub(crate) const NO_CALIBRATION: &str =
    "recorded before calibration was added (preinterp since issue 20)";

/// One set's per-epoch calibration series (see
/// [`schema::calibration`]), each `epochs` long.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetCalibration {
    /// `T*` (NaN where `status` is not 0).
    pub temperature: Vec<f64>,
    /// Mean loss at `T*`.
    pub loss_at_temperature: Vec<f64>,
    /// Expected calibration error at `T = 1`.
    pub ece: Vec<f64>,
    /// Mean largest logit, correct samples.
    pub max_logit_correct: Vec<f64>,
    /// Mean largest logit, wrong samples.
    pub max_logit_wrong: Vec<f64>,
    /// Mean margin, correct samples.
    pub margin_correct: Vec<f64>,
    /// Mean margin, wrong samples.
    pub margin_wrong: Vec<f64>,
    /// Share of the loss on wrong samples.
    pub wrong_loss_share: Vec<f64>,
    /// Mean loss of wrong samples.
    pub wrong_loss_mean: Vec<f64>,
    /// [`crate::stats::calibration::Status`] per epoch.
    pub status: Vec<u8>,
    /// Reliability table, `epochs x ECE_BINS` each.
    pub bin_count: Vec<u64>,
    /// See `bin_count`.
    pub bin_accuracy: Vec<f64>,
    /// See `bin_count`.
    pub bin_confidence: Vec<f64>,
}

/// The calibrated sets of a run file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Calibrations {
    /// The validation set's.
    pub val: Option<SetCalibration>,
    /// The evaluation set's.
    pub eval: Option<SetCalibration>,
}

impl Calibrations {
    /// Whether the file has any.
    pub fn is_recorded(&self) -> bool {
        self.val.is_some() || self.eval.is_some()
    }
}

/// The calibration series of `/curves` (`c`) and their reliability
/// tables (`r`, `/reliability`), first `n` epochs; a set is read only if
/// every variable of it is there.
fn read_calibration(c: &Group, r: Option<&Group>, n: usize) -> hdf5::Result<Calibrations> {
    use crate::stats::calibration::ECE_BINS;
    use schema::calibration as cal;
    let one = |set: &str| -> hdf5::Result<Option<SetCalibration>> {
        let at = |v: &schema::Var<'_>| cal::name(set, v.name);
        let Some(r) = r else {
            return Ok(None);
        };
        let in_curves = cal::SERIES.iter().chain([&cal::STATUS]);
        let tables = [&cal::BIN_COUNT, &cal::BIN_ACCURACY, &cal::BIN_CONFIDENCE];
        if !in_curves.into_iter().all(|v| c.link_exists(&at(v)))
            || !tables.iter().all(|v| r.link_exists(&at(v)))
        {
            return Ok(None);
        }
        fn first<T: hdf5::H5Type + Clone>(
            c: &Group,
            name: &str,
            len: usize,
            fill: T,
        ) -> hdf5::Result<Vec<T>> {
            let mut v: Vec<T> = c.dataset(name)?.read_raw()?;
            v.resize(len, fill);
            Ok(v)
        }
        let f = |v: &schema::Var<'_>| first(c, &at(v), n, f64::NAN);
        let table = |v: &schema::Var<'_>| first(r, &at(v), n * ECE_BINS, f64::NAN);
        let [t, lt, ece, mlc, mlw, mc, mw, wls, wlm] = &cal::SERIES;
        Ok(Some(SetCalibration {
            temperature: f(t)?,
            loss_at_temperature: f(lt)?,
            ece: f(ece)?,
            max_logit_correct: f(mlc)?,
            max_logit_wrong: f(mlw)?,
            margin_correct: f(mc)?,
            margin_wrong: f(mw)?,
            wrong_loss_share: f(wls)?,
            wrong_loss_mean: f(wlm)?,
            status: first(c, &at(&cal::STATUS), n, u8::MAX)?,
            bin_count: first(r, &at(&cal::BIN_COUNT), n * ECE_BINS, 0)?,
            bin_accuracy: table(&cal::BIN_ACCURACY)?,
            bin_confidence: table(&cal::BIN_CONFIDENCE)?,
        }))
    };
    Ok(Calibrations {
        val: one(cal::SETS[0])?,
        eval: one(cal::SETS[1])?,
    })
}

/// A per-epoch group (`/val_per_epoch`, `/train_per_epoch`): every
/// sample's values at every epoch end, row-major `epochs x n`.
#[derive(Clone, Debug)]
pub(crate) struct PerEpoch {
    /// Each sample's index in the dataset's training file.
    pub samples: Vec<u32>,
    /// True classes (absent in older files).
    pub labels: Option<Vec<u8>>,
    /// Rows (epochs 0, 1, ...).
    pub epochs: usize,
    /// Samples per row.
    pub n: usize,
    /// Losses.
    pub loss: Vec<f32>,
    /// 1 if correct.
    pub correct: Vec<u8>,
    /// Predicted classes (absent in older files).
    pub pred: Option<Vec<u8>>,
    /// Logit margins (with `--record-margins`).
    pub margin: Option<Vec<f32>>,
}

impl PerEpoch {
    /// Group `group` of the run file `path` (e.g. [`schema::TRAIN_PER_EPOCH`]),
    /// its first `epochs` rows at most; `None` when the file has no such
    /// group (recorded without `--record-samples all`).
    pub fn read(path: &Path, group: &str, epochs: usize) -> Result<Option<PerEpoch>> {
        let err = |e: hdf5::Error| h5::err(path, "cannot read the run file", e);
        let file = h5::open_read(path).map_err(err)?;
        let Ok(g) = file.group(group) else {
            return Ok(None);
        };
        Self::from_group(&g, epochs).map(Some).map_err(err)
    }

    fn from_group(g: &Group, epochs: usize) -> hdf5::Result<PerEpoch> {
        use schema::per_epoch::*;
        let d = g.dataset(LOSS)?;
        let sh = d.shape();
        let rows = sh[0].min(epochs).min(g.dataset(CORRECT)?.shape()[0]);
        let n = sh[1];
        let sample_dim = g
            .member_names()?
            .into_iter()
            .find(|m| m.ends_with("_sample"))
            .ok_or_else(|| hdf5::Error::from("no sample coordinate"))?;
        let rows_of = |name: &str| -> hdf5::Result<Option<usize>> {
            Ok(if g.link_exists(name) {
                Some(g.dataset(name)?.shape()[0])
            } else {
                None
            })
        };
        let rows = [rows_of(PRED)?, rows_of(MARGIN)?]
            .into_iter()
            .flatten()
            .fold(rows, usize::min);
        fn first<T: hdf5::H5Type>(g: &Group, name: &str, len: usize) -> hdf5::Result<Vec<T>> {
            let mut v: Vec<T> = g.dataset(name)?.read_raw()?;
            v.truncate(len);
            Ok(v)
        }
        let optional = |name: &str| g.link_exists(name);
        Ok(PerEpoch {
            samples: g.dataset(&sample_dim)?.read_raw()?,
            labels: optional(LABEL)
                .then(|| g.dataset(LABEL).and_then(|d| d.read_raw()))
                .transpose()?,
            epochs: rows,
            n,
            loss: first(g, LOSS, rows * n)?,
            correct: first(g, CORRECT, rows * n)?,
            pred: optional(PRED)
                .then(|| first(g, PRED, rows * n))
                .transpose()?,
            margin: optional(MARGIN)
                .then(|| first(g, MARGIN, rows * n))
                .transpose()?,
        })
    }
}

/// Checkpoint rows that are complete (the histograms are written last).
fn complete_checkpoints(k: &Group) -> hdf5::Result<usize> {
    let mut rows = k.dataset(ckpt::ITERATION.name)?.shape()[0];
    for s in SETS {
        let [_, _, hist, _] = ckpt::set_vars(s.name);
        rows = rows.min(k.dataset(&hist)?.shape()[0]);
    }
    Ok(rows.min(k.dataset(ckpt::WEIGHT_HIST.name)?.shape()[0]))
}

/// The per-epoch means; rows are complete up to the shortest variable (a
/// reader may catch a writer between two of them).
fn read_curves(c: &Group) -> hdf5::Result<Curves> {
    let mut n = c.dataset(schema::EPOCH.name)?.shape()[0];
    n = n.min(c.dataset(schema::CURVE_ITERATION.name)?.shape()[0]);
    for v in &schema::CURVE_F64[1..] {
        n = n.min(c.dataset(v.name)?.shape()[0]);
    }
    let i64s = |name: &str| -> hdf5::Result<Vec<i64>> {
        let mut v: Vec<i64> = c.dataset(name)?.read_raw()?;
        v.truncate(n);
        Ok(v)
    };
    let f64s = |name: &str| -> hdf5::Result<Vec<f64>> {
        let mut v: Vec<f64> = c.dataset(name)?.read_raw()?;
        v.truncate(n);
        Ok(v)
    };
    Ok(Curves {
        epoch: i64s(schema::EPOCH.name)?,
        iteration: i64s(schema::CURVE_ITERATION.name)?,
        train_loss: f64s("train_loss")?,
        train_acc: f64s("train_accuracy")?,
        val_loss: f64s("val_loss")?,
        val_acc: f64s("val_accuracy")?,
        eval_loss: f64s("eval_loss")?,
        eval_acc: f64s("eval_accuracy")?,
    })
}

/// The robust validation-loss statistics over the first `n` epochs, if
/// the file has them.
fn read_robust(c: &Group, n: usize) -> hdf5::Result<Option<RobustCurves>> {
    if !c.link_exists(schema::CURVE_ROBUST[0].name) {
        return Ok(None);
    }
    let one = |i: usize| -> hdf5::Result<Vec<f64>> {
        let mut v: Vec<f64> = c.dataset(schema::CURVE_ROBUST[i].name)?.read_raw()?;
        v.resize(n, f64::NAN);
        Ok(v)
    };
    // CURVE_ROBUST lists them in the order of LossStats's fields.
    Ok(Some(RobustCurves::from_series([
        one(0)?,
        one(1)?,
        one(2)?,
        one(3)?,
        one(4)?,
        one(5)?,
        one(6)?,
    ])))
}

/// `/val_per_epoch`'s first `epochs` rows: (losses, rows, samples,
/// correctness at the last row).
fn read_val_per_epoch(g: &Group, epochs: usize) -> hdf5::Result<(Vec<f32>, usize, usize, Vec<u8>)> {
    let d = g.dataset(schema::VAL_LOSS.name)?;
    let sh = d.shape();
    let (rows, n) = (sh[0].min(epochs), sh[1]);
    let mut losses = d.read_raw::<f32>()?;
    losses.truncate(rows * n);
    let mut last = vec![];
    if rows > 0 {
        let c: Vec<u8> = g.dataset(schema::VAL_CORRECT.name)?.read_raw()?;
        last = c[(rows - 1) * n..rows * n].to_vec();
    }
    Ok((losses, rows, n, last))
}

/// The loss histograms of the three sets, first `rows` checkpoints.
fn read_loss_hists(k: &Group, rows: usize) -> hdf5::Result<[Hist; 3]> {
    let lower: Vec<f64> = k.dataset(ckpt::LOSS_BIN_LOWER.name)?.read_raw()?;
    let upper: Vec<f64> = k.dataset(ckpt::LOSS_BIN_UPPER.name)?.read_raw()?;
    let one = |set: &str| -> hdf5::Result<Hist> {
        let [_, _, hist, _] = ckpt::set_vars(set);
        let mut counts: Vec<u64> = k.dataset(&hist)?.read_raw()?;
        counts.truncate(rows * lower.len());
        Ok(Hist {
            rows,
            bins: lower.len(),
            counts,
            lower: lower.clone(),
            upper: upper.clone(),
        })
    };
    Ok([one(SETS[0].name)?, one(SETS[1].name)?, one(SETS[2].name)?])
}

/// The weight histograms, one per layer, first `rows` checkpoints.
fn read_weight_hists(k: &Group, rows: usize) -> hdf5::Result<Vec<Hist>> {
    let w = k.dataset(ckpt::WEIGHT_HIST.name)?;
    let sh = w.shape();
    let (layers, wb) = (sh[1], sh[2]);
    let all: Vec<u64> = w.read_raw()?;
    let wlo: Vec<f64> = k.dataset(ckpt::WEIGHT_BIN_LOWER.name)?.read_raw()?;
    let whi: Vec<f64> = k.dataset(ckpt::WEIGHT_BIN_UPPER.name)?.read_raw()?;
    Ok((0..layers)
        .map(|l| Hist {
            rows,
            bins: wb,
            counts: (0..rows)
                .flat_map(|r| all[(r * layers + l) * wb..(r * layers + l + 1) * wb].to_vec())
                .collect(),
            lower: wlo[l * wb..(l + 1) * wb].to_vec(),
            upper: whi[l * wb..(l + 1) * wb].to_vec(),
        })
        .collect())
}

/// Only the per-epoch curves of the run file at `path` (a file still
/// open for writing is read through SWMR).
pub(crate) fn curves(path: &Path) -> Result<Curves> {
    let err = |e: hdf5::Error| h5::err(path, "cannot read the curves", e);
    let file = h5::open_read(path).map_err(err)?;
    read_curves(&file.group(schema::CURVES).map_err(err)?).map_err(err)
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
        let err = |e: hdf5::Error| h5::err(path, "cannot read the run file", e);
        let file = h5::open_read(path).map_err(err)?;
        let mut rf = Self::from_file(path, &file).map_err(err)?;
        let status = read_attr_str(&file, attr::STATUS).map_err(err)?;
        rf.status = status
            .parse()
            .map_err(|e| Error::data(path, format!("unreadable status: {e}")))?;
        Ok(rf)
    }

    fn from_file(path: &Path, f: &hdf5::File) -> hdf5::Result<RunFile> {
        let c = f.group(schema::CURVES)?;
        let curves = read_curves(&c)?;
        let robust = read_robust(&c, curves.len())?;
        let r = f.group(schema::RELIABILITY).ok();
        let calibration = read_calibration(&c, r.as_ref(), curves.len())?;
        let (val_losses, val_epochs, val_n, val_correct_last) = match f.group(schema::VAL_PER_EPOCH)
        {
            Ok(g) => read_val_per_epoch(&g, curves.len())?,
            Err(_) => (vec![], 0, 0, vec![]),
        };
        let k = f.group(schema::CHECKPOINTS)?;
        let rows = complete_checkpoints(&k)?;
        let mut iterations: Vec<i64> = k.dataset(ckpt::ITERATION.name)?.read_raw()?;
        iterations.truncate(rows);
        Ok(RunFile {
            path: path.to_path_buf(),
            status: RunStatus::Running,
            title: read_attr_str(f, attr::TITLE)?,
            config: read_attr_str(f, attr::CONFIG)?,
            curves,
            val_losses,
            val_epochs,
            val_n,
            val_correct_last,
            iterations,
            loss_hist: read_loss_hists(&k, rows)?,
            weight_hist: read_weight_hists(&k, rows)?,
            robust,
            calibration,
        })
    }
}
