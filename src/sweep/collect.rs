//! `preinterp sweep collect DIR`: one row per run in `DIR/sweep.h5`
//! (dimension `run`, the run ids as its coordinate, so xarray indexes the
//! table by id), the scatter plots of figures 2 and 3, and a list of the
//! runs that are missing or still going.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::select::{self as sweep_select, CriterionSummary};
use super::Sweep;
use crate::analysis::select::{self, RobustCurves, Selection};
use crate::analysis::{self, CurveSummary, Point};
use crate::config::{RunConfig, Settings};
use crate::error::{Error, ErrorKind, Result};
use crate::plot::{self, ScatterPoint};
use crate::record::h5::{self, attr_str};
use crate::record::h5ds;
use crate::record::read::RunFile;
use crate::record::schema::{attr, var, RunStatus};

/// One run's row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Run id.
    pub id: String,
    /// Where the run stands.
    pub status: RowStatus,
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
    /// The epoch each selection criterion picks, and the test accuracy
    /// there.
    pub selection: Selection,
}

/// Where a run of the sweep stands.
#[derive(Clone, Debug, PartialEq)]
pub enum RowStatus {
    /// Its file says so.
    Run(RunStatus),
    /// No run file yet.
    Missing,
    /// The file cannot be read (why).
    Unreadable(String),
}

impl std::fmt::Display for RowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowStatus::Run(s) => s.fmt(f),
            RowStatus::Missing => f.write_str("missing"),
            RowStatus::Unreadable(e) => write!(f, "unreadable: {e}"),
        }
    }
}

/// What each selection criterion picks in run file `f` (the median and
/// trimmed-mean criteria need its robust curves).
fn selection_of(f: &RunFile) -> Selection {
    let robust = f.robust.as_ref().map(|r| RobustCurves {
        median: r[1].clone(),
        trimmed_mean: r[6].clone(),
    });
    select::select(&f.curves, robust.as_ref())
}

/// What collecting found.
pub struct Collected {
    /// The sweep.
    pub sweep: Sweep,
    /// Every run, in sweep order.
    pub rows: Vec<Row>,
    /// What each selection criterion leads to over the sweep.
    pub criteria: Vec<CriterionSummary>,
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
    let sweep = Sweep::read(&spec, &Settings::default())?;
    let mut rows = vec![];
    for r in &sweep.runs {
        let path = super::run::run_file(dir, &r.id);
        let train_set = format!("{} {}", r.cfg.dataset.label(), r.cfg.train_size);
        let (status, epochs, summary, selection) = if path.is_file() {
            match RunFile::read(&path) {
                Ok(f) => (
                    RowStatus::Run(f.status),
                    f.curves.len(),
                    analysis::summarise(&f.curves),
                    selection_of(&f),
                ),
                Err(e) => (
                    RowStatus::Unreadable(e.to_string()),
                    0,
                    None,
                    Selection::default(),
                ),
            }
        } else {
            (RowStatus::Missing, 0, None, Selection::default())
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
            selection,
        });
    }
    if let Some(key) = &sweep.select_best {
        select_best(&sweep, key, &mut rows);
    }
    let table = dir.join("sweep.h5");
    write_table(&table, &sweep, &rows).map_err(|e| h5(&table, e))?;
    let mut files = vec![table];
    files.extend(scatter_plots(dir, &sweep, &rows)?);
    let criteria = super::select::summarise(&sweep, &rows);
    Ok(Collected {
        sweep,
        rows,
        criteria,
        files,
    })
}

/// The scatter plots of figures 2 and 3 over the selected runs (none
/// when no run has data).
fn scatter_plots(dir: &Path, sweep: &Sweep, rows: &[Row]) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
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
    Ok(files)
}

/// Reads one metric of a [`Point`].
type Metric = fn(&Point) -> f64;

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
        // The validation accuracy at the end of training (the last epoch).
        .map(|r| r.summary.as_ref().map(|s| s.last.val_acc))
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

/// The columns of `sweep.h5`, each over the `run` coordinate.
struct Columns {
    file: hdf5::File,
    run: hdf5::Dataset,
}

impl Columns {
    /// Creates `path` with its provenance and the `run` coordinate.
    fn create(path: &Path, sweep: &Sweep, ids: &[&str]) -> hdf5::Result<Columns> {
        let file = hdf5::File::create(path)?;
        attr_str(&file, attr::CONVENTIONS, "CF-1.8")?;
        attr_str(
            &file,
            attr::TITLE,
            &format!("preinterp sweep {}", sweep.name),
        )?;
        attr_str(&file, attr::TOOL_VERSION, env!("CARGO_PKG_VERSION"))?;
        let spec = std::fs::read_to_string(&sweep.path).unwrap_or_default();
        attr_str(&file, "spec", &spec)?;
        attr_str(&file, "final_definition", "final = first epoch with 100% training accuracy, or the epoch of maximum training accuracy for a run that never interpolates")?;
        let run = file
            .new_dataset::<VarLenUnicode>()
            .shape(ids.len())
            .create("run")?;
        run.write_raw(&unicode(ids.iter().copied())?)?;
        h5ds::set_scale(&run, "run")?;
        Ok(Columns { file, run })
    }

    fn column<T: hdf5::H5Type>(&self, name: &str, long: &str, v: &[T]) -> hdf5::Result<()> {
        let ds = self.file.new_dataset::<T>().shape(v.len()).create(name)?;
        ds.write_raw(v)?;
        h5::describe(&ds, &var(name, "1", long))?;
        h5ds::attach_scale(&ds, &self.run, 0)
    }

    fn strings(&self, name: &str, long: &str, v: &[String]) -> hdf5::Result<()> {
        self.column(name, long, &unicode(v.iter().map(String::as_str))?)
    }

    fn ints(&self, name: &str, long: &str, v: impl Iterator<Item = i64>) -> hdf5::Result<()> {
        self.column(name, long, &v.collect::<Vec<_>>())
    }

    fn floats(&self, name: &str, long: &str, v: impl Iterator<Item = f64>) -> hdf5::Result<()> {
        self.column(name, long, &v.collect::<Vec<_>>())
    }
}

fn unicode<'a>(v: impl Iterator<Item = &'a str>) -> hdf5::Result<Vec<VarLenUnicode>> {
    v.map(|s| s.parse().map_err(|e| hdf5::Error::from(format!("{e:?}"))))
        .collect()
}

/// The metrics of a [`Point`], by column suffix.
const METRICS: [(&str, Metric); 6] = [
    ("train_loss", |p| p.train_loss),
    ("train_accuracy", |p| p.train_acc),
    ("val_loss", |p| p.val_loss),
    ("val_accuracy", |p| p.val_acc),
    ("eval_loss", |p| p.eval_loss),
    ("eval_accuracy", |p| p.eval_acc),
];

/// The settings columns, from each run's configuration.
fn write_settings(t: &Columns, rows: &[Row], cfgs: &[&RunConfig]) -> hdf5::Result<()> {
    let status: Vec<String> = rows.iter().map(|r| r.status.to_string()).collect();
    t.strings("status", "run status (missing = no run file)", &status)?;
    let labels: Vec<String> = cfgs.iter().map(|c| c.dataset.label()).collect();
    t.strings("dataset", "dataset", &labels)?;
    let opts: Vec<String> = cfgs.iter().map(|c| c.optimizer.name().into()).collect();
    t.strings("optimizer", "optimiser", &opts)?;
    t.ints(
        "train_size",
        "training samples",
        cfgs.iter().map(|c| c.train_size as i64),
    )?;
    t.ints(
        "depth",
        "hidden layers",
        cfgs.iter().map(|c| c.shape.depth as i64),
    )?;
    t.ints(
        "width",
        "units per hidden layer",
        cfgs.iter().map(|c| c.shape.width as i64),
    )?;
    t.ints(
        "batch_size",
        "minibatch size",
        cfgs.iter().map(|c| c.batch_size as i64),
    )?;
    t.ints("seed", "seed", cfgs.iter().map(|c| c.seed as i64))?;
    t.floats("lr", "learning rate", cfgs.iter().map(|c| c.optimizer.lr()))?;
    t.ints(
        "epochs_recorded",
        "epochs recorded (incl. epoch 0)",
        rows.iter().map(|r| r.epochs as i64),
    )
}

/// The metric columns at the minimum validation loss and at the final
/// epoch, and the flags.
fn write_metrics(t: &Columns, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    let final_long = "at the final epoch (first interpolation, else max train accuracy)";
    type At = fn(&CurveSummary) -> Point;
    let points: [(&str, &str, At); 2] = [
        ("min", "at the minimum validation loss", |s| s.min_val_loss),
        ("final", final_long, |s| s.final_point),
    ];
    for (at, long, point) in points {
        let epoch = rows
            .iter()
            .map(|r| r.summary.as_ref().map_or(-1, |s| point(s).epoch));
        t.ints(
            &format!("{at}_epoch"),
            &format!("epoch {long} (-1 = no data)"),
            epoch,
        )?;
        for (name, get) in METRICS {
            let v = rows
                .iter()
                .map(|r| r.summary.as_ref().map_or(f64::NAN, |s| get(&point(s))));
            t.floats(&format!("{at}_{name}"), &format!("{name} {long}"), v)?;
        }
    }
    let interp = rows.iter().map(|r| {
        r.summary
            .as_ref()
            .filter(|s| s.interpolated)
            .map_or(-1, |s| s.final_point.epoch)
    });
    t.ints(
        "interpolation_epoch",
        "first epoch with 100% training accuracy (-1 = never)",
        interp,
    )?;
    let selected = match &sweep.select_best {
        Some(k) => format!(
            "1 if plotted: the best final validation error among runs differing only in {k}"
        ),
        None => "1 if plotted: every run with data".into(),
    };
    t.ints(
        "selected",
        &selected,
        rows.iter().map(|r| r.selected as i64),
    )?;
    t.ints(
        "triangle",
        "1 if validation loss and accuracy both rose from the minimum to the final epoch",
        rows.iter()
            .map(|r| r.summary.as_ref().map_or(0, |s| s.triangle as i64)),
    )
}

/// Per criterion: the epoch it selects in each run, the test accuracy
/// and loss there, and with a grid search whether it picks the run.
fn write_selection(t: &Columns, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    for (k, (key, long)) in sweep_select::CRITERIA.iter().enumerate() {
        let pick = |r: &Row| sweep_select::criterion(&r.selection, k);
        let epochs = rows.iter().map(|r| pick(r).map_or(-1, |p| p.epoch));
        t.ints(
            &format!("select_{key}_epoch"),
            &format!("epoch selected by the {long} (-1 = not available)"),
            epochs,
        )?;
        let acc = rows
            .iter()
            .map(|r| pick(r).map_or(f64::NAN, |p| p.eval_accuracy));
        t.floats(
            &format!("select_{key}_eval_accuracy"),
            &format!("evaluation (test) accuracy at the epoch selected by the {long}"),
            acc,
        )?;
        let loss = rows
            .iter()
            .map(|r| pick(r).map_or(f64::NAN, |p| p.eval_loss));
        t.floats(
            &format!("select_{key}_eval_loss"),
            &format!("evaluation (test) mean loss at the epoch selected by the {long}"),
            loss,
        )?;
        if let Some(setting) = &sweep.select_best {
            let picks = sweep_select::grid_picks(sweep, setting, rows, k);
            t.ints(
                &format!("grid_{key}_picked"),
                &format!("1 if a grid search over {setting} judged by the {long} picks this run"),
                picks.into_iter().map(|p| p as i64),
            )?;
        }
    }
    Ok(())
}

fn write_table(path: &Path, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let t = Columns::create(path, sweep, &ids)?;
    let cfgs: Vec<&RunConfig> = rows
        .iter()
        .map(|r| {
            sweep
                .runs
                .iter()
                .find(|x| x.id == r.id)
                .map(|x| &x.cfg)
                .ok_or_else(|| hdf5::Error::from(format!("{} is not a run of the sweep", r.id)))
        })
        .collect::<hdf5::Result<_>>()?;
    write_settings(&t, rows, &cfgs)?;
    write_metrics(&t, sweep, rows)?;
    write_selection(&t, sweep, rows)
}
