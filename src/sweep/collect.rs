//! `preinterp sweep collect DIR`: one row per run in `DIR/sweep.h5`
//! (dimension `run`, the run ids as its coordinate, so xarray indexes the
//! table by id), the scatter plots of figures 2 and 3, and a list of the
//! runs that are missing or still going.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::Sweep;
use crate::analysis::{self, CurveSummary, Point};
use crate::error::{Error, ErrorKind, Result};
use crate::plot::{self, ScatterPoint};
use crate::record::h5ds;
use crate::record::read::RunFile;

/// One run's row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Run id.
    pub id: String,
    /// `complete`, `running`, `interrupted`, `diverged` or `missing`.
    pub status: String,
    /// Its dataset label and training-set size, e.g. `mnist 5000`.
    pub train_set: String,
    /// Width of the hidden layers.
    pub width: usize,
    /// Epochs recorded.
    pub epochs: usize,
    /// The analysis, when the run has curves.
    pub summary: Option<CurveSummary>,
    /// Chosen by the spec's grid search (`select_best`); every run with
    /// data is selected when there is none.
    pub selected: bool,
}

/// What collecting found.
pub struct Collected {
    /// The sweep.
    pub sweep: Sweep,
    /// Every run, in sweep order.
    pub rows: Vec<Row>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

fn h5(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}

/// Reads every run of the sweep in `dir` and writes the table and plots.
pub fn collect(dir: &Path) -> Result<Collected> {
    let spec = dir.join("sweep.toml");
    if !spec.is_file() {
        return Err(Error::usage(format!(
            "{}: no sweep.toml here; is this a `sweep run --out` folder?",
            dir.display()
        )));
    }
    let sweep = Sweep::read(&spec)?;
    let mut rows = vec![];
    for r in &sweep.runs {
        let path = super::run::run_file(dir, &r.id);
        let train_set = format!("{} {}", r.cfg.dataset.label(), r.cfg.train_size);
        let (status, epochs, summary) = if path.is_file() {
            match RunFile::read(&path) {
                Ok(f) => (
                    f.status.clone(),
                    f.curves.len(),
                    analysis::summarise(&f.curves),
                ),
                Err(e) => (format!("unreadable: {e}"), 0, None),
            }
        } else {
            ("missing".to_string(), 0, None)
        };
        let selected = summary.is_some();
        rows.push(Row {
            id: r.id.clone(),
            status,
            train_set,
            width: r.cfg.shape.width,
            epochs,
            summary,
            selected,
        });
    }
    if let Some(key) = &sweep.select_best {
        select_best(&sweep, key, &mut rows);
    }
    let table = dir.join("sweep.h5");
    write_table(&table, &sweep, &rows).map_err(|e| h5(&table, e))?;
    let mut files = vec![table];
    let pts: Vec<ScatterPoint> = rows
        .iter()
        .filter(|r| r.selected)
        .filter_map(|r| {
            r.summary.as_ref().map(|s| ScatterPoint {
                min_loss: s.min_val_loss.val_loss,
                final_loss: s.final_point.val_loss,
                min_acc: s.min_val_loss.val_acc,
                final_acc: s.final_point.val_acc,
                width: r.width,
                train_set: r.train_set.clone(),
                triangle: s.triangle,
            })
        })
        .collect();
    if !pts.is_empty() {
        let title = format!("sweep {}: {} runs", sweep.name, pts.len());
        files.extend(plot::scatter(
            dir,
            "scatter_by_width",
            &title,
            &pts,
            plot::ScatterColour::Width,
        )?);
        files.extend(plot::scatter(
            dir,
            "scatter_by_train_set",
            &title,
            &pts,
            plot::ScatterColour::TrainSet,
        )?);
    }
    Ok(Collected { sweep, rows, files })
}

/// Reads one metric of a [`Point`].
type Metric = dyn Fn(&Point) -> f64;

/// Among runs whose settings differ only in `key`, keeps the one with the
/// best final validation error (the first on ties).
fn select_best(sweep: &Sweep, key: &str, rows: &mut [Row]) {
    let groups: Vec<Vec<(String, String)>> = sweep
        .runs
        .iter()
        .map(|r| {
            r.settings
                .iter()
                .filter(|(k, _)| k != key)
                .cloned()
                .collect()
        })
        .collect();
    let accs: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.summary.as_ref().map(|s| s.final_point.val_acc))
        .collect();
    for i in 0..rows.len() {
        let Some(acc) = accs[i] else {
            rows[i].selected = false;
            continue;
        };
        let beaten = (0..rows.len()).any(|j| {
            j != i
                && groups[j] == groups[i]
                && accs[j].is_some_and(|a| a > acc || (a == acc && j < i))
        });
        rows[i].selected = !beaten;
    }
}

fn write_table(path: &Path, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    let f = hdf5::File::create(path)?;
    let vs = |s: &str| -> hdf5::Result<VarLenUnicode> {
        s.parse().map_err(|e| hdf5::Error::from(format!("{e:?}")))
    };
    let attr = |k: &str, v: &str| -> hdf5::Result<()> {
        f.new_attr::<VarLenUnicode>()
            .create(k)?
            .write_scalar(&vs(v)?)
    };
    attr("Conventions", "CF-1.8")?;
    attr("title", &format!("preinterp sweep {}", sweep.name))?;
    attr("tool_version", env!("CARGO_PKG_VERSION"))?;
    attr(
        "spec",
        &std::fs::read_to_string(&sweep.path).unwrap_or_default(),
    )?;
    attr("final_definition", "final = first epoch with 100% training accuracy, or the epoch of maximum training accuracy for a run that never interpolates")?;
    let n = rows.len();
    let ids: Vec<VarLenUnicode> = rows
        .iter()
        .map(|r| vs(&r.id))
        .collect::<hdf5::Result<_>>()?;
    let run = f.new_dataset::<VarLenUnicode>().shape(n).create("run")?;
    run.write_raw(&ids)?;
    h5ds::set_scale(&run, "run")?;
    let describe = |ds: &hdf5::Dataset, long: &str| -> hdf5::Result<()> {
        ds.new_attr::<VarLenUnicode>()
            .create("long_name")?
            .write_scalar(&vs(long)?)?;
        ds.new_attr::<VarLenUnicode>()
            .create("units")?
            .write_scalar(&vs("1")?)?;
        h5ds::attach_scale(ds, &run, 0)
    };
    let strings = |name: &str, long: &str, v: Vec<String>| -> hdf5::Result<()> {
        let vals: Vec<VarLenUnicode> = v.iter().map(|s| vs(s)).collect::<hdf5::Result<_>>()?;
        let ds = f.new_dataset::<VarLenUnicode>().shape(n).create(name)?;
        ds.write_raw(&vals)?;
        describe(&ds, long)
    };
    let ints = |name: &str, long: &str, v: Vec<i64>| -> hdf5::Result<()> {
        let ds = f.new_dataset::<i64>().shape(n).create(name)?;
        ds.write_raw(&v)?;
        describe(&ds, long)
    };
    let floats = |name: &str, long: &str, v: Vec<f64>| -> hdf5::Result<()> {
        let ds = f.new_dataset::<f64>().shape(n).create(name)?;
        ds.write_raw(&v)?;
        describe(&ds, long)
    };
    let cfgs: Vec<_> = rows
        .iter()
        .map(|r| {
            &sweep
                .runs
                .iter()
                .find(|x| x.id == r.id)
                .expect("row of the sweep")
                .cfg
        })
        .collect();
    strings(
        "status",
        "run status (missing = no run file)",
        rows.iter().map(|r| r.status.clone()).collect(),
    )?;
    strings(
        "dataset",
        "dataset",
        cfgs.iter().map(|c| c.dataset.label()).collect(),
    )?;
    strings(
        "optimizer",
        "optimiser",
        cfgs.iter()
            .map(|c| c.optimizer.name().to_string())
            .collect(),
    )?;
    ints(
        "train_size",
        "training samples",
        cfgs.iter().map(|c| c.train_size as i64).collect(),
    )?;
    ints(
        "depth",
        "hidden layers",
        cfgs.iter().map(|c| c.shape.depth as i64).collect(),
    )?;
    ints(
        "width",
        "units per hidden layer",
        cfgs.iter().map(|c| c.shape.width as i64).collect(),
    )?;
    ints(
        "batch_size",
        "minibatch size",
        cfgs.iter().map(|c| c.batch_size as i64).collect(),
    )?;
    ints("seed", "seed", cfgs.iter().map(|c| c.seed as i64).collect())?;
    floats(
        "lr",
        "learning rate",
        cfgs.iter().map(|c| c.optimizer.lr()).collect(),
    )?;
    ints(
        "epochs_recorded",
        "epochs recorded (incl. epoch 0)",
        rows.iter().map(|r| r.epochs as i64).collect(),
    )?;
    let pick = |f: &dyn Fn(&CurveSummary) -> f64| {
        rows.iter()
            .map(|r| r.summary.as_ref().map(f).unwrap_or(f64::NAN))
            .collect::<Vec<f64>>()
    };
    let metrics: [(&str, &Metric); 6] = [
        ("train_loss", &|p| p.train_loss),
        ("train_accuracy", &|p| p.train_acc),
        ("val_loss", &|p| p.val_loss),
        ("val_accuracy", &|p| p.val_acc),
        ("eval_loss", &|p| p.eval_loss),
        ("eval_accuracy", &|p| p.eval_acc),
    ];
    for (at, which, long) in [
        ("min", 0, "at the minimum validation loss"),
        (
            "final",
            1,
            "at the final epoch (first interpolation, else max train accuracy)",
        ),
    ] {
        let point = |s: &CurveSummary| {
            if which == 0 {
                s.min_val_loss
            } else {
                s.final_point
            }
        };
        ints(
            &format!("{at}_epoch"),
            &format!("epoch {long} (-1 = no data)"),
            rows.iter()
                .map(|r| r.summary.as_ref().map(|s| point(s).epoch).unwrap_or(-1))
                .collect(),
        )?;
        for (name, get) in metrics {
            floats(
                &format!("{at}_{name}"),
                &format!("{name} {long}"),
                pick(&|s| get(&point(s))),
            )?;
        }
    }
    ints(
        "interpolation_epoch",
        "first epoch with 100% training accuracy (-1 = never)",
        rows.iter()
            .map(|r| {
                r.summary
                    .as_ref()
                    .filter(|s| s.interpolated)
                    .map(|s| s.final_point.epoch)
                    .unwrap_or(-1)
            })
            .collect(),
    )?;
    ints(
        "selected",
        &match &sweep.select_best {
            Some(k) => format!(
                "1 if plotted: the best final validation error among runs differing only in {k}"
            ),
            None => "1 if plotted: every run with data".into(),
        },
        rows.iter().map(|r| r.selected as i64).collect(),
    )?;
    ints(
        "triangle",
        "1 if validation loss and accuracy both rose from the minimum to the final epoch",
        rows.iter()
            .map(|r| r.summary.as_ref().map(|s| s.triangle as i64).unwrap_or(0))
            .collect(),
    )?;
    Ok(())
}
