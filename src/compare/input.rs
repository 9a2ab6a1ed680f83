//! Reading what a comparison needs from a run file: its provenance, the
//! validation losses of its last recorded epoch (with the epochs each
//! sample spent above the fence), and the evaluation losses of its last
//! checkpoint. Files without them are refused, naming the flag that
//! would have recorded them.

use std::path::{Path, PathBuf};

use hdf5::Group;
use ndarray::s;

use crate::analysis::upper_fence;
use crate::error::{Error, Result};
use crate::record::h5::{self, read_attr_str};
use crate::record::schema::{self, attr, ckpt, SETS};

/// The flag that records what `compare` needs.
pub(crate) const RECORD_FLAG: &str = "--record-samples all";

/// One set's per-sample record at one moment of a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetFinal {
    /// Each sample's index in the dataset file.
    pub sample: Vec<u32>,
    /// Its loss.
    pub loss: Vec<f32>,
    /// The predicted class, when the file records it.
    pub pred: Option<Vec<u8>>,
    /// The epoch (validation) or iteration (evaluation) it was taken at.
    pub at: i64,
}

/// What a comparison reads from one run file.
#[derive(Clone, Debug)]
pub(crate) struct RunInput {
    /// The file.
    pub path: PathBuf,
    /// Its id in the comparison (the file's stem, made unique).
    pub id: String,
    /// The run's title.
    pub title: String,
    /// Its configuration (JSON).
    pub config: String,
    /// Its status attribute.
    pub status: String,
    /// The dataset label.
    pub dataset: String,
    /// The dataset files it read.
    pub dataset_files: Vec<PathBuf>,
    /// Their SHA-256.
    pub dataset_sha256: Vec<String>,
    /// Validation set at the last recorded epoch.
    pub val: SetFinal,
    /// Per validation sample: epochs spent strictly above that epoch's
    /// upper Tukey fence, over every recorded epoch.
    pub epochs_above: Vec<u32>,
    /// Validation labels (`/val_per_epoch/label`), when recorded.
    pub label: Option<Vec<u8>>,
    /// Evaluation set at the last checkpoint, or why there is none.
    pub eval: std::result::Result<SetFinal, String>,
}

fn refuse(path: &Path, what: &str) -> Error {
    Error::usage(format!(
        "{}: {what}; compare needs per-sample losses, recorded with `{RECORD_FLAG}` (train or sweep run)",
        path.display()
    ))
}

impl RunInput {
    /// Reads `path` (a file still being written is read through SWMR);
    /// `id` names it in the comparison.
    pub fn read(path: &Path, id: String) -> Result<RunInput> {
        if !path.is_file() {
            return Err(Error::usage(format!(
                "{}: no such run file",
                path.display()
            )));
        }
        let err = |e: hdf5::Error| h5::err(path, "cannot read the run file", e);
        let f = h5::open_read(path).map_err(err)?;
        if read_attr_str(&f, attr::CONFIG).is_err() {
            return Err(Error::usage(format!(
                "{}: not a preinterp run file (no `config` attribute)",
                path.display()
            )));
        }
        let Ok(g) = f.group(schema::VAL_PER_EPOCH) else {
            return Err(refuse(path, "no per-epoch validation losses"));
        };
        let (val, epochs_above) = read_val(&g).map_err(err)?;
        if val.loss.is_empty() {
            return Err(refuse(
                path,
                "no epoch with per-sample validation losses yet",
            ));
        }
        let label = g
            .dataset("label")
            .ok()
            .map(|d| d.read_raw::<u8>())
            .transpose()
            .map_err(err)?;
        let lines = |name: &str| -> hdf5::Result<Vec<String>> {
            Ok(read_attr_str(&f, name)?.lines().map(String::from).collect())
        };
        Ok(RunInput {
            path: path.to_path_buf(),
            id,
            title: read_attr_str(&f, attr::TITLE).map_err(err)?,
            config: read_attr_str(&f, attr::CONFIG).map_err(err)?,
            status: read_attr_str(&f, attr::STATUS).map_err(err)?,
            dataset: read_attr_str(&f, attr::DATASET).map_err(err)?,
            dataset_files: lines(attr::DATASET_FILES)
                .map_err(err)?
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            dataset_sha256: lines(attr::DATASET_SHA256).map_err(err)?,
            val,
            epochs_above,
            label,
            eval: read_eval(&f).map_err(err)?,
        })
    }
}

/// Rows of `g`'s datasets `names` that all of them hold (a reader may
/// catch a writer between two of them).
fn common_rows(g: &Group, names: &[&str]) -> hdf5::Result<usize> {
    let mut rows = usize::MAX;
    for n in names {
        rows = rows.min(g.dataset(n)?.shape()[0]);
    }
    Ok(rows)
}

/// The last complete epoch of `/val_per_epoch` and the epochs every
/// sample spent above the fence (empty when no epoch is complete).
fn read_val(g: &Group) -> hdf5::Result<(SetFinal, Vec<u32>)> {
    let has_pred = g.dataset("pred").is_ok();
    let mut names = vec![
        schema::EPOCH.name,
        schema::VAL_LOSS.name,
        schema::VAL_CORRECT.name,
    ];
    if has_pred {
        names.push("pred");
    }
    let rows = common_rows(g, &names)?;
    if rows == 0 {
        return Ok((SetFinal::default(), vec![]));
    }
    let sample: Vec<u32> = g.dataset(&SETS[1].sample_dim())?.read_raw()?;
    let loss_ds = g.dataset(schema::VAL_LOSS.name)?;
    let mut above = vec![0u32; sample.len()];
    let mut scratch = Vec::with_capacity(sample.len());
    let mut loss = vec![];
    for r in 0..rows {
        loss = loss_ds.read_slice_1d::<f32, _>(s![r, ..])?.to_vec();
        if let Some(fence) = upper_fence(&loss, &mut scratch) {
            for (c, &x) in above.iter_mut().zip(&loss) {
                *c += ((x as f64) > fence) as u32;
            }
        }
    }
    let last = |name: &str| -> hdf5::Result<Vec<u8>> {
        Ok(g.dataset(name)?
            .read_slice_1d::<u8, _>(s![rows - 1, ..])?
            .to_vec())
    };
    let epochs: Vec<i64> = g.dataset(schema::EPOCH.name)?.read_raw()?;
    let fin = SetFinal {
        sample,
        loss,
        pred: has_pred.then(|| last("pred")).transpose()?,
        at: epochs[rows - 1],
    };
    Ok((fin, above))
}

/// The evaluation set at the last complete checkpoint, or why there is
/// none.
fn read_eval(f: &hdf5::File) -> hdf5::Result<std::result::Result<SetFinal, String>> {
    let Ok(k) = f.group(schema::CHECKPOINTS) else {
        return Ok(Err("no /checkpoints group".into()));
    };
    let [loss, correct, _, _] = ckpt::set_vars(SETS[2].name);
    if k.dataset(&loss).is_err() {
        return Ok(Err(format!(
            "no per-sample evaluation losses (recorded with {RECORD_FLAG} or checkpoints)"
        )));
    }
    let rows = common_rows(&k, &[ckpt::ITERATION.name, &loss, &correct])?;
    if rows == 0 {
        return Ok(Err(
            "no checkpoint recorded (--checkpoints-per-decade 0, the sweep default)".into(),
        ));
    }
    let last_f32 = k
        .dataset(&loss)?
        .read_slice_1d::<f32, _>(s![rows - 1, ..])?;
    let iterations: Vec<i64> = k.dataset(ckpt::ITERATION.name)?.read_raw()?;
    Ok(Ok(SetFinal {
        sample: k.dataset(&SETS[2].sample_dim())?.read_raw()?,
        loss: last_f32.to_vec(),
        pred: None,
        at: iterations[rows - 1],
    }))
}
