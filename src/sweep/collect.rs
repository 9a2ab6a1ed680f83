//! `preinterp sweep collect DIR`: one row per run in `DIR/sweep.h5`
//! (dimension `run`, the run ids as its coordinate, so xarray indexes the
//! table by id), the scatter plots of figures 2 and 3, and a list of the
//! runs that are missing or still going.

mod csv;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::protocol::Finished;
pub use super::row::{Row, RowStatus};
use super::schema;
use super::select::{self as sweep_select, CriterionSummary};
use super::{Sweep, SweepRun};
use crate::analysis::calibration::{self, CalibrationSummary};
use crate::analysis::select::{self, Criterion, Selection};
use crate::analysis::{self, CurveSummary, Point};
use crate::config::{RunConfig, Settings};
use crate::error::{Error, Result};
use crate::plot::{self, ScatterPoint};
use crate::record::h5::{self, attr_str, path_err, unicode};
use crate::record::read::RunFile;
use crate::record::schema::RunStatus;
use crate::record::schema::{attr, var, Var};
use crate::record::{cf, h5ds};

/// What each selection criterion picks in run file `f` (the median and
/// trimmed-mean criteria need its robust curves, the scaled one its
/// calibration).
fn selection_of(f: &RunFile) -> Selection {
    select::select(&f.curves, select::Extra::of(f, f.robust.as_ref()))
}

/// The validation set's calibration summary of run file `f`, if it
/// records one.
fn calibration_of(f: &RunFile) -> Option<CalibrationSummary> {
    let val = f.calibration.val.as_ref()?;
    calibration::summarise(&f.curves, val)
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

impl Collected {
    /// What the grid protocol sees of each run (indexed like the rows).
    pub fn state(&self) -> Vec<Option<Finished>> {
        self.rows
            .iter()
            .map(|r| match r.status {
                RowStatus::Run(RunStatus::Diverged) => Some(Finished::Excluded),
                RowStatus::Run(RunStatus::Complete) => Some(
                    r.summary
                        .as_ref()
                        .map(|s| s.last.val_acc)
                        .filter(|a| a.is_finite())
                        .map_or(Finished::Excluded, Finished::Scored),
                ),
                _ => None,
            })
            .collect()
    }
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
    let sweep = Sweep::read(&spec, &Settings::default())?.resolved_in(dir)?;
    let mut rows = vec![];
    for r in &sweep.runs {
        let path = super::run::run_file(dir, &r.id);
        let train_set = format!("{} {}", r.cfg.dataset.label(), r.cfg.train_size);
        let (status, epochs, summary, calibration, selection) = if path.is_file() {
            match RunFile::read(&path) {
                Ok(f) => (
                    RowStatus::Run(f.status),
                    f.curves.len(),
                    analysis::summarise(&f.curves),
                    calibration_of(&f),
                    selection_of(&f),
                ),
                Err(e) => (
                    RowStatus::Unreadable(e.to_string()),
                    0,
                    None,
                    None,
                    Selection::default(),
                ),
            }
        } else {
            (RowStatus::Missing, 0, None, None, Selection::default())
        };
        let selected = summary.is_some();
        rows.push(Row {
            id: r.id.clone(),
            status,
            train_set,
            width: r.cfg.shape.width,
            epochs,
            summary,
            calibration,
            selected,
            selection,
        });
    }
    if let Some(key) = &sweep.select_best {
        select_best(&sweep, key, &mut rows);
    }
    let table = dir.join(schema::FILE);
    let cols = write_table(&table, &sweep, &rows).map_err(|e| path_err(&table, e))?;
    let text = dir.join(schema::CSV_FILE);
    std::fs::write(&text, csv::table(&cols)).map_err(|e| path_err(&text, e))?;
    let mut files = vec![table, text];
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
/// best final validation error (the first on ties; diverged runs and the
/// protocol's other seeds are never picked).
fn select_best(sweep: &Sweep, key: &str, rows: &mut [Row]) {
    // The validation accuracy at the end of training (the last epoch).
    let picked = sweep_select::grid_best(sweep, key, rows.len(), |i| {
        let r = &rows[i];
        r.summary
            .as_ref()
            .filter(|_| sweep_select::eligible(r))
            .map(|s| s.last.val_acc)
    });
    for (r, p) in rows.iter_mut().zip(picked) {
        r.selected = p;
    }
}

/// The columns of `sweep.h5`, each over the `run` coordinate, and the
/// same columns as text for `sweep.csv` (`run` first).
struct Columns {
    file: hdf5::File,
    run: hdf5::Dataset,
    csv: RefCell<Vec<csv::Column>>,
}

impl Columns {
    /// Creates `path` with its provenance and the `run` coordinate.
    fn create(path: &Path, sweep: &Sweep, ids: &[&str]) -> hdf5::Result<Columns> {
        let file = hdf5::File::create(path)?;
        attr_str(&file, attr::CONVENTIONS, schema::CONVENTIONS)?;
        attr_str(
            &file,
            attr::TITLE,
            &format!("preinterp sweep {}", sweep.name),
        )?;
        attr_str(&file, attr::TOOL_VERSION, env!("CARGO_PKG_VERSION"))?;
        cf::globals(&file)?;
        let spec = std::fs::read_to_string(&sweep.path).unwrap_or_default();
        attr_str(&file, schema::attr::SPEC, &spec)?;
        attr_str(
            &file,
            schema::attr::FINAL_DEFINITION,
            schema::attr::FINAL_DEFINITION_TEXT,
        )?;
        let run = file
            .new_dataset::<VarLenUnicode>()
            .shape(ids.len())
            .create(schema::RUN)?;
        run.write_raw(&unicode(ids.iter().copied())?)?;
        h5ds::set_scale(&run, schema::RUN)?;
        let ids = ids.iter().map(|s| s.to_string()).collect();
        let csv = RefCell::new(vec![(schema::RUN.to_string(), ids)]);
        Ok(Columns { file, run, csv })
    }

    /// Writes the column `c` holding `v`, whose cells in `sweep.csv` are
    /// `text`.
    fn column<T: hdf5::H5Type>(&self, c: &Var<'_>, v: &[T], text: Vec<String>) -> hdf5::Result<()> {
        let ds = h5::new_var::<T>(&self.file).shape(v.len()).create(c.name)?;
        ds.write_raw(v)?;
        h5::describe(&ds, c)?;
        h5::fill_attr::<T>(&ds)?;
        self.csv.borrow_mut().push((c.name.to_string(), text));
        h5ds::attach_scale(&ds, &self.run, 0)
    }

    fn strings(&self, c: &Var<'_>, v: &[String]) -> hdf5::Result<()> {
        let h = unicode(v.iter().map(String::as_str))?;
        self.column(c, &h, v.to_vec())
    }

    fn ints(&self, c: &Var<'_>, v: impl Iterator<Item = i64>) -> hdf5::Result<()> {
        let v: Vec<i64> = v.collect();
        self.column(c, &v, v.iter().map(i64::to_string).collect())
    }

    /// A 0/1 column, with CF `flag_values` and `flag_meanings`.
    fn flags(
        &self,
        c: &Var<'_>,
        v: impl Iterator<Item = bool>,
        meanings: &str,
    ) -> hdf5::Result<()> {
        self.ints(c, v.map(i64::from))?;
        cf::int_flags(&self.file.dataset(c.name)?, meanings)
    }

    /// A 0/1 column with -1 where the value is missing, with CF
    /// `flag_values` and `flag_meanings` of 0 and 1.
    fn flags_or_missing(
        &self,
        c: &Var<'_>,
        v: impl Iterator<Item = Option<bool>>,
        meanings: &str,
    ) -> hdf5::Result<()> {
        self.ints(c, v.map(|b| b.map_or(-1, i64::from)))?;
        cf::int_flags(&self.file.dataset(c.name)?, meanings)
    }

    fn floats(&self, c: &Var<'_>, v: impl Iterator<Item = f64>) -> hdf5::Result<()> {
        let v: Vec<f64> = v.collect();
        self.column(c, &v, v.iter().map(|&x| csv::float(x)).collect())
    }
}

/// The metrics of a [`Point`], in the order of [`schema::METRICS`].
const METRICS: [Metric; 6] = [
    |p| p.train_loss,
    |p| p.train_acc,
    |p| p.val_loss,
    |p| p.val_acc,
    |p| p.eval_loss,
    |p| p.eval_acc,
];

/// The settings columns, from each run's configuration.
fn write_settings(t: &Columns, rows: &[Row], runs: &[&SweepRun]) -> hdf5::Result<()> {
    let status: Vec<String> = rows.iter().map(|r| r.status.to_string()).collect();
    t.strings(&schema::STATUS, &status)?;
    let origin: Vec<String> = runs.iter().map(|r| r.origin.name().into()).collect();
    t.strings(&schema::ORIGIN, &origin)?;
    let cfgs: Vec<&RunConfig> = runs.iter().map(|r| &r.cfg).collect();
    let labels: Vec<String> = cfgs.iter().map(|c| c.dataset.label()).collect();
    t.strings(&schema::DATASET, &labels)?;
    let opts: Vec<String> = cfgs.iter().map(|c| c.optimizer.name().into()).collect();
    t.strings(&schema::OPTIMIZER, &opts)?;
    let int = |f: fn(&RunConfig) -> usize| cfgs.iter().map(move |c| f(c) as i64);
    t.ints(&schema::TRAIN_SIZE, int(|c| c.train_size))?;
    t.ints(&schema::DEPTH, int(|c| c.shape.depth))?;
    t.ints(&schema::WIDTH, int(|c| c.shape.width))?;
    t.ints(&schema::BATCH_SIZE, int(|c| c.batch_size))?;
    t.ints(&schema::SEED, cfgs.iter().map(|c| c.seed as i64))?;
    t.floats(&schema::LR, cfgs.iter().map(|c| c.optimizer.lr()))?;
    t.ints(
        &schema::EPOCHS_RECORDED,
        rows.iter().map(|r| r.epochs as i64),
    )
}

/// The metric columns at the minimum validation loss and at the final
/// epoch, and the flags.
fn write_metrics(t: &Columns, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    type At = fn(&CurveSummary) -> Point;
    let points: [At; 2] = [|s| s.min_val_loss, |s| s.final_point];
    for ((at, long), point) in schema::POINTS.into_iter().zip(points) {
        let epoch = rows
            .iter()
            .map(|r| r.summary.as_ref().map_or(-1, |s| point(s).epoch));
        let (name, desc) = (
            schema::point_epoch(at),
            format!("epoch {long} (-1 = no data)"),
        );
        t.ints(&var(&name, "1", &desc), epoch)?;
        for (metric, get) in schema::METRICS.into_iter().zip(METRICS) {
            let v = rows
                .iter()
                .map(|r| r.summary.as_ref().map_or(f64::NAN, |s| get(&point(s))));
            let name = schema::point_metric(at, metric);
            t.floats(&var(&name, "1", &format!("{metric} {long}")), v)?;
        }
    }
    let interp = rows.iter().map(|r| {
        r.summary
            .as_ref()
            .filter(|s| s.interpolated)
            .map_or(-1, |s| s.final_point.epoch)
    });
    t.ints(&schema::INTERPOLATION_EPOCH, interp)?;
    let selected = match &sweep.select_best {
        Some(k) => format!(
            "1 if plotted: the best final validation error among runs differing only in {k}"
        ),
        None => "1 if plotted: every run with data".into(),
    };
    t.flags(
        &var(schema::SELECTED, "1", &selected),
        rows.iter().map(|r| r.selected),
        "not_selected selected",
    )?;
    t.flags(
        &schema::TRIANGLE,
        rows.iter()
            .map(|r| r.summary.as_ref().is_some_and(|s| s.triangle)),
        "no_triangle triangle",
    )
}

/// Reads one number of a [`CalibrationSummary`].
type CalNumber = fn(&CalibrationSummary) -> f64;

/// The numbers of a [`CalibrationSummary`], in the order of
/// [`schema::CAL_FLOATS`].
const CAL_FLOATS: [CalNumber; 10] = [
    |c| c.temperature_at_raw_min,
    |c| c.temperature_at_end,
    |c| c.scaled_loss_at_raw_min,
    |c| c.scaled_loss_at_end,
    |c| c.ece_at_raw_min,
    |c| c.ece_at_end,
    |c| c.raw_loss_at_end,
    |c| c.raw_change,
    |c| c.scaled_change,
    |c| c.wrong_loss_share_at_end,
];

/// The validation set's calibration columns (NaN, -1 without).
fn write_calibration(t: &Columns, rows: &[Row]) -> hdf5::Result<()> {
    fn cal(r: &Row) -> Option<&CalibrationSummary> {
        r.calibration.as_ref()
    }
    let epoch = rows
        .iter()
        .map(|r| cal(r).and_then(|c| c.scaled_min_epoch).unwrap_or(-1));
    t.ints(&schema::CAL_SCALED_MIN_EPOCH, epoch)?;
    for (c, get) in schema::CAL_FLOATS.iter().zip(CAL_FLOATS) {
        t.floats(c, rows.iter().map(|r| cal(r).map_or(f64::NAN, get)))?;
    }
    t.flags_or_missing(
        &schema::CAL_SCALED_DOES_NOT_RISE,
        rows.iter().map(|r| cal(r).map(|c| c.scaled_does_not_rise)),
        schema::CAL_SCALED_DOES_NOT_RISE_MEANINGS,
    )
}

/// Per criterion: the epoch it selects in each run, the test accuracy
/// and loss there, and with a grid search whether it picks the run.
fn write_selection(t: &Columns, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<()> {
    for c in Criterion::ALL {
        let long = c.description();
        let pick = |r: &Row| r.selection.get(c);
        let epochs = rows.iter().map(|r| pick(r).map_or(-1, |p| p.epoch));
        let desc = format!("epoch selected by the {long} (-1 = not available)");
        t.ints(&var(&schema::select_epoch(c), "1", &desc), epochs)?;
        let acc = rows
            .iter()
            .map(|r| pick(r).map_or(f64::NAN, |p| p.eval_accuracy));
        let desc = format!("evaluation (test) accuracy at the epoch selected by the {long}");
        t.floats(&var(&schema::select_eval_accuracy(c), "1", &desc), acc)?;
        let loss = rows
            .iter()
            .map(|r| pick(r).map_or(f64::NAN, |p| p.eval_loss));
        let desc = format!("evaluation (test) mean loss at the epoch selected by the {long}");
        t.floats(&var(&schema::select_eval_loss(c), "1", &desc), loss)?;
        if let Some(setting) = &sweep.select_best {
            let picks = sweep_select::grid_picks(sweep, setting, rows, c);
            let desc =
                format!("1 if a grid search over {setting} judged by the {long} picks this run");
            t.flags(
                &var(&schema::grid_picked(c), "1", &desc),
                picks.into_iter(),
                "not_picked picked",
            )?;
        }
    }
    Ok(())
}

/// Writes `sweep.h5` at `path`; returns its columns as text, for
/// `sweep.csv`.
fn write_table(path: &Path, sweep: &Sweep, rows: &[Row]) -> hdf5::Result<Vec<csv::Column>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let t = Columns::create(path, sweep, &ids)?;
    let runs: Vec<&SweepRun> = rows
        .iter()
        .map(|r| {
            sweep
                .runs
                .iter()
                .find(|x| x.id == r.id)
                .ok_or_else(|| hdf5::Error::from(format!("{} is not a run of the sweep", r.id)))
        })
        .collect::<hdf5::Result<_>>()?;
    write_settings(&t, rows, &runs)?;
    write_metrics(&t, sweep, rows)?;
    write_calibration(&t, rows)?;
    write_selection(&t, sweep, rows)?;
    Ok(t.csv.into_inner())
}
