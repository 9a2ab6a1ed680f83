//! `preinterp sweep plan`: how long a sweep will take on a number of
//! cores. A cost model ([`super::cost`]) fitted to the run files of
//! sweeps already run predicts every run of the spec; the scheduler of
//! `sweep run` ([`super::schedule`]) plays them out on each core count,
//! in spec order and longest first.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cost::{Model, Observation};
use super::measured::Measured;
use super::schedule::{simulate, Speedup};
use super::timing::{quantile, read_folders, RunTimes};
use super::workload::Workloads;
use super::Sweep;
use crate::config::{RunConfig, Settings, Stop};
use crate::data::Locator;
use crate::error::{Error, Result};

/// What `sweep plan` is asked.
pub struct PlanOpts {
    /// Core counts to schedule on.
    pub cores: Vec<usize>,
    /// Sweep folders whose run files calibrate the model.
    pub calibrate: Vec<PathBuf>,
    /// Measured epoch times that override the model.
    pub measured: Vec<Measured>,
    /// Weight of a measured value in the fit, in run files (0: override only).
    pub measured_weight: f64,
    /// Measured 1-vs-2-thread speed-up of one heavy run.
    pub speedup2: f64,
    /// Quantile of a run's per-epoch times taken as its epoch time.
    pub quantile: f64,
    /// Where the datasets are.
    pub locator: Locator,
}

/// How well the model fits the runs it was fitted on.
#[derive(Clone, Debug, Serialize)]
pub struct FitError {
    /// Runs.
    pub runs: usize,
    /// Median of |predicted - measured| / measured epoch time.
    pub median_abs_rel_err: f64,
    /// Its maximum.
    pub max_abs_rel_err: f64,
}

/// A `--measured` value against the model fitted without it.
#[derive(Clone, Debug, Serialize)]
pub struct MeasuredCheck {
    /// As given.
    pub measured: String,
    /// Its seconds per epoch.
    pub seconds: f64,
    /// The model's, fitted on the run files only.
    pub model_without_it_s: f64,
}

/// One run of the spec, predicted.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Epochs it trains.
    pub epochs: usize,
    /// Where that number comes from: spec, run file or max_epochs.
    pub epochs_from: &'static str,
    /// Seconds per epoch on one thread.
    pub epoch_s: f64,
    /// Whether `epoch_s` is a `--measured` value.
    pub from_measured: bool,
    /// Seconds of training and evaluation (epoch 0 and every epoch).
    pub run_s: f64,
    /// `run_s` plus the per-run overhead: what the schedule uses.
    pub seconds: f64,
    /// The wall time a calibration run file of the same id recorded, on
    /// one thread.
    pub measured_run_s: Option<f64>,
}

/// The sweep on one core count.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Cores (`sweep run --jobs`).
    pub cores: usize,
    /// Wall time with the runs in spec order (s).
    pub spec_order_s: f64,
    /// Wall time with the longest runs first (s).
    pub longest_first_s: f64,
    /// Work, on one thread (core-hours).
    pub core_hours: f64,
    /// The longest run (s).
    pub longest_run_s: f64,
}

/// The plan: the model, every run's prediction and the schedules.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The spec.
    pub spec: PathBuf,
    /// Its name.
    pub sweep: String,
    /// The calibration folders.
    pub calibrate: Vec<PathBuf>,
    /// Run files read.
    pub runs_read: usize,
    /// Run files that could not be read, with the reason.
    pub skipped: Vec<String>,
    /// Run files left out of the fit: they ran on more than one thread.
    pub left_out_threaded: usize,
    /// The quantile of the per-epoch times fitted.
    pub quantile: f64,
    /// The 1-vs-2-thread speed-up assumed.
    pub speedup2: f64,
    /// Seconds each run costs beyond its epochs (file set-up and close).
    pub per_run_overhead_s: f64,
    /// The fitted model.
    pub model: Model,
    /// Its error on the runs fitted.
    pub fit_error: Option<FitError>,
    /// Each `--measured` value against the model without it.
    pub measured: Vec<MeasuredCheck>,
    /// Every run of the spec, in spec order.
    pub targets: Vec<Target>,
    /// One row per core count.
    pub schedule: Vec<Row>,
}

/// What the calibration folders give.
struct Calibration {
    runs: Vec<RunTimes>,
    skipped: Vec<String>,
    fitted: Vec<Observation>,
    threaded: usize,
    overhead: f64,
}

/// An epoch time of the run `c`, as the fit sees it: measured in a run
/// file (`epoch0_s` known, weight 1) or given with `--measured`.
fn observation(
    w: &mut Workloads,
    c: &RunConfig,
    epoch_s: f64,
    epoch0_s: Option<f64>,
    weight: f64,
) -> Result<Observation> {
    Ok(Observation {
        dataset: c.dataset.label(),
        shape: (
            c.shape.depth,
            c.shape.width,
            c.train_size,
            c.batch_size,
            c.val_size,
        ),
        features: w.features(c)?,
        epoch_s,
        epoch0_s,
        weight,
        measured: epoch0_s.is_none(),
    })
}

fn calibrate(o: &PlanOpts, w: &mut Workloads) -> Result<Calibration> {
    let (runs, skipped) = read_folders(&o.calibrate, o.quantile, "--calibrate")?;
    let mut fitted = vec![];
    let mut threaded = 0;
    for r in &runs {
        match r.epoch_s {
            Some(_) if r.threads != 1 => threaded += 1,
            Some(e) => fitted.push(observation(w, &r.cfg, e, Some(r.epoch0_s), 1.0)?),
            None => {}
        }
    }
    let overheads: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.duration_s.map(|d| (d - r.wall_s).max(0.0)))
        .collect();
    Ok(Calibration {
        skipped: skipped
            .iter()
            .map(|(p, e)| format!("{}: {e}", p.display()))
            .collect(),
        overhead: quantile(overheads, 0.5).unwrap_or(0.0),
        runs,
        fitted,
        threaded,
    })
}

fn measured_observations(o: &PlanOpts, w: &mut Workloads) -> Result<Vec<Observation>> {
    o.measured
        .iter()
        .map(|m| observation(w, &m.cfg, m.seconds, None, o.measured_weight))
        .collect()
}

fn fit_error(model: &Model, fitted: &[Observation]) -> Option<FitError> {
    let errs: Vec<f64> = fitted
        .iter()
        .map(|o| {
            let p = model.fit_for(&o.dataset).epoch(&o.features);
            ((p - o.epoch_s) / o.epoch_s).abs()
        })
        .collect();
    Some(FitError {
        runs: errs.len(),
        max_abs_rel_err: errs.iter().fold(0.0, |a: f64, &b| a.max(b)),
        median_abs_rel_err: quantile(errs, 0.5)?,
    })
}

/// Epochs of a run of the spec, and where that number comes from.
fn epochs(stop: Stop, id: &str, cal: &Calibration) -> (usize, &'static str) {
    match stop {
        Stop::Epochs { epochs } => (epochs, "spec"),
        Stop::UntilInterpolation { max_epochs } => cal
            .runs
            .iter()
            .find(|r| r.id == id && r.status.is_final())
            .map_or((max_epochs, "max_epochs"), |r| (r.epochs, "run file")),
    }
}

fn targets(
    sweep: &Sweep,
    o: &PlanOpts,
    model: &Model,
    cal: &Calibration,
    w: &mut Workloads,
) -> Result<Vec<Target>> {
    let mut out = vec![];
    for run in &sweep.runs {
        let cfg = &run.cfg;
        let fit = model.fit_for(&cfg.dataset.label());
        let f = w.features(cfg)?;
        let (modelled, m) = (fit.epoch(&f), Measured::best(&o.measured, cfg));
        let epoch_s = m.map_or(modelled, |m| m.seconds);
        let ratio = if modelled > 0.0 {
            epoch_s / modelled
        } else {
            1.0
        };
        let (epochs, epochs_from) = epochs(cfg.stop, &run.id, cal);
        let run_s = fit.epoch0(&f) * ratio + epochs as f64 * epoch_s;
        let measured_run_s = cal
            .runs
            .iter()
            .find(|r| r.id == run.id && r.threads == 1 && r.status.is_final())
            .map(|r| r.wall_s);
        out.push(Target {
            id: run.id.clone(),
            title: cfg.title(),
            epochs,
            epochs_from,
            epoch_s,
            from_measured: m.is_some(),
            run_s,
            seconds: run_s + cal.overhead,
            measured_run_s,
        });
    }
    Ok(out)
}

/// Each core count's wall time, in spec order and longest first.
pub(crate) fn schedule_table(seconds: &[f64], cores: &[usize], speedup: Speedup) -> Vec<Row> {
    let mut longest_first = seconds.to_vec();
    longest_first.sort_by(|a, b| b.total_cmp(a));
    cores
        .iter()
        .map(|&p| Row {
            cores: p,
            spec_order_s: simulate(seconds, p, speedup).makespan,
            longest_first_s: simulate(&longest_first, p, speedup).makespan,
            core_hours: seconds.iter().sum::<f64>() / 3600.0,
            longest_run_s: longest_first.first().copied().unwrap_or(0.0),
        })
        .collect()
}

/// Plans the sweep of `spec` under `o`.
pub fn plan(spec: &Path, o: &PlanOpts) -> Result<Plan> {
    if o.cores.is_empty() || o.cores.contains(&0) {
        return Err(Error::usage(
            "--cores: give core counts of at least 1, e.g. 2,16,64",
        ));
    }
    if o.calibrate.is_empty() {
        return Err(Error::usage(
            "--calibrate: give the sweep folders whose run files calibrate the cost model, e.g. --calibrate runs/fig2",
        ));
    }
    let sweep = Sweep::read(spec, &Settings::default())?;
    let mut w = Workloads::new(o.locator.clone());
    let cal = calibrate(o, &mut w)?;
    let what = format!("--calibrate {}", display_all(&o.calibrate));
    let files_only = Model::fit(&cal.fitted, &what)?;
    let mut all = cal.fitted.clone();
    all.extend(measured_observations(o, &mut w)?);
    let model = if o.measured.is_empty() || o.measured_weight <= 0.0 {
        files_only.clone()
    } else {
        Model::fit(&all, &what)?
    };
    let targets = targets(&sweep, o, &model, &cal, &mut w)?;
    let seconds: Vec<f64> = targets.iter().map(|t| t.seconds).collect();
    let mut measured = vec![];
    for m in &o.measured {
        let f = w.features(&m.cfg)?;
        measured.push(MeasuredCheck {
            measured: m.text.clone(),
            seconds: m.seconds,
            model_without_it_s: files_only.fit_for(&m.cfg.dataset.label()).epoch(&f),
        });
    }
    Ok(Plan {
        spec: spec.to_path_buf(),
        sweep: sweep.name.clone(),
        calibrate: o.calibrate.clone(),
        runs_read: cal.runs.len(),
        skipped: cal.skipped.clone(),
        left_out_threaded: cal.threaded,
        quantile: o.quantile,
        speedup2: o.speedup2,
        per_run_overhead_s: cal.overhead,
        fit_error: fit_error(&model, &cal.fitted),
        model,
        measured,
        schedule: schedule_table(&seconds, &o.cores, Speedup::from_two_threads(o.speedup2)),
        targets,
    })
}

fn display_all(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_takes_the_sum_and_many_the_longest_run() {
        let secs = [30.0, 10.0, 20.0, 5.0];
        let rows = schedule_table(&secs, &[1, 4, 64], Speedup::from_two_threads(1.0));
        assert!((rows[0].spec_order_s - 65.0).abs() < 1e-9);
        assert!((rows[0].longest_first_s - 65.0).abs() < 1e-9);
        assert!((rows[1].spec_order_s - 30.0).abs() < 1e-9);
        assert!((rows[2].longest_run_s - 30.0).abs() < 1e-9);
        assert!((rows[2].core_hours * 3600.0 - 65.0).abs() < 1e-9);
    }
}
