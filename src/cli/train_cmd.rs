//! `preinterp train`: load, train, summarise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::args::TrainArgs;
use crate::config::RunConfig;
use crate::data::{self, Dataset, Locator};
use crate::error::{Error, ErrorKind, Result};
use crate::eval::Evaluator;
use crate::model::init_params;
use crate::progress::{fmt_secs, Progress};
use crate::record::Recorder;
use crate::runner;
use crate::train::{train, EpochMetrics, Sets, Status, TrainReport, Trainer};
use crate::weights;

/// Set by SIGINT/SIGTERM; the loop finishes its step and stops.
pub(crate) fn stop_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let f = Arc::new(AtomicBool::new(false));
        let g = f.clone();
        // If a handler is already installed (tests), keep going without.
        let _ = ctrlc::set_handler(move || g.store(true, Ordering::SeqCst));
        f
    })
    .clone()
}

/// Loads the dataset of `cfg`.
pub(crate) fn load_data(cfg: &RunConfig, a: &TrainArgs) -> Result<Dataset> {
    let loc = Locator::from_env(a.data_dir.clone(), a.mirror.clone(), !a.no_download);
    data::load(&cfg.dataset, &loc)
}

pub(crate) fn run(a: &TrainArgs) -> Result<u8> {
    if let Some(path) = &a.resume {
        return resume(a, path);
    }
    let cfg = a.to_config()?;
    let record_opts = a.record_opts()?;
    // Refuse an existing output before hours of training, not after.
    if let Some(p) = a.out.as_ref().filter(|p| p.exists() && !a.force) {
        return Err(Error::usage(format!(
            "{}: already exists; pass --force to overwrite it",
            p.display()
        )));
    }
    for p in [&a.save_init, &a.save_final].into_iter().flatten() {
        if p.exists() {
            return Err(Error::usage(format!(
                "{}: already exists; remove it or choose another name",
                p.display()
            )));
        }
    }
    let data = load_data(&cfg, a)?;
    let sets = Sets::new(&data, &cfg)?;
    let params = match &cfg.init_from {
        Some(p) => weights::load(p, "/", &cfg.shape)?,
        None => init_params(&cfg.shape, cfg.seed),
    };
    if let Some(p) = &a.save_init {
        weights::save(p, &cfg.shape, &params)?;
    }
    let mut trainer = Trainer::new(cfg.shape, params, cfg.optimizer, cfg.batch_size);
    let mut ev = Evaluator::new(&cfg.shape, cfg.threads)?;
    let stop = stop_flag();
    let mut progress = Progress::new(cfg.stop.max_epochs());
    let report = match &a.out {
        Some(path) => runner::run_recorded(
            &cfg,
            &sets,
            &mut trainer,
            path,
            a.force,
            record_opts,
            &mut ev,
            &mut progress,
            &stop,
        )?,
        None => train(&cfg, &sets, &mut trainer, &mut ev, &mut progress, &stop)?,
    };
    progress.finish();
    report_and_exit(a, &cfg, &data, &sets, &ev, &trainer, &report)
}

/// `train --resume RUN.h5`: continue an interrupted or killed run from
/// the last epoch its file completed.
fn resume(a: &TrainArgs, path: &std::path::Path) -> Result<u8> {
    let (point, opts) = Recorder::resume_point(path)?;
    let mut cfg = point.cfg.clone();
    if let Some(t) = a.threads {
        cfg.threads = t;
    }
    let data = load_data(&cfg, a)?;
    let sets = Sets::new(&data, &cfg)?;
    let stop = stop_flag();
    let mut progress = Progress::new(cfg.stop.max_epochs());
    let (report, trainer) =
        runner::resume_recorded(path, &point, opts, &data, cfg.threads, &mut progress, &stop)?;
    progress.finish();
    if !a.json {
        println!("resumed {} after epoch {}", path.display(), point.epoch);
    }
    let ev = Evaluator::new(&cfg.shape, cfg.threads)?;
    report_and_exit(a, &cfg, &data, &sets, &ev, &trainer, &report)
}

/// Saves the final weights if asked, prints the summary, and maps the
/// run's status to the exit code.
#[allow(clippy::too_many_arguments)]
fn report_and_exit(
    a: &TrainArgs,
    cfg: &RunConfig,
    data: &Dataset,
    sets: &Sets<'_>,
    ev: &Evaluator,
    trainer: &Trainer,
    report: &TrainReport,
) -> Result<u8> {
    if let Some(p) = &a.save_final {
        weights::save(p, &cfg.shape, &trainer.params)?;
    }
    if a.json {
        let doc = json!({
            "config": cfg,
            "dataset": { "name": cfg.dataset.label(), "files": data.files, "sha256": data.sha256 },
            "sizes": { "train": sets.split.train.len(), "val": sets.split.val.len(), "eval": sets.eval.len() },
            "threads": ev.threads(),
            "simd": crate::kernels::simd_level(),
            "params": cfg.shape.n_params(),
            "report": report,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc)
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?
        );
    } else {
        print_summary(cfg, sets, report);
    }
    Ok(match report.status {
        Status::Complete => 0,
        Status::Diverged => 1,
        Status::Interrupted => 130,
    })
}

/// A loss for the table: fixed point, or scientific once tiny.
fn fmt_loss(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.3e}")
    } else {
        format!("{x:.5}")
    }
}

fn row(m: &EpochMetrics) -> String {
    format!(
        "{:>6} {:>9}  {:>9} {:>7.2}%  {:>9} {:>7.2}%  {:>9} {:>7.2}%",
        m.epoch,
        m.iteration,
        fmt_loss(m.train.loss),
        100.0 * m.train.acc,
        fmt_loss(m.val.loss),
        100.0 * m.val.acc,
        fmt_loss(m.eval.loss),
        100.0 * m.eval.acc
    )
}

fn print_summary(cfg: &RunConfig, sets: &Sets<'_>, r: &TrainReport) {
    println!("preinterp train: {}", cfg.title());
    println!(
        "sets: train {}, validation {}, evaluation {}; {} parameters",
        sets.split.train.len(),
        sets.split.val.len(),
        sets.eval.len(),
        cfg.shape.n_params()
    );
    let last = r.epochs.last();
    let wall = last.map(|m| m.wall_s).unwrap_or(0.0);
    let epochs_done = last.map(|m| m.epoch).unwrap_or(0);
    match r.status {
        Status::Complete => println!("status: complete, {epochs_done} epochs in {}", fmt_secs(wall)),
        Status::Diverged => println!(
            "status: DIVERGED (non-finite loss) at iteration {}, after {epochs_done} complete epochs",
            r.diverged_at_iteration.unwrap_or(0)
        ),
        Status::Interrupted => println!("status: interrupted after {epochs_done} complete epochs"),
    }
    println!(" epoch      iter   train loss     acc   val loss       acc  eval loss       acc");
    let n = r.epochs.len();
    let mut shown = vec![];
    let mut e = 1usize;
    shown.push(0);
    while e < n {
        shown.push(e);
        e = if e < 5 { e + 1 } else { e * 2 };
    }
    if n > 0 {
        shown.push(n - 1);
    }
    shown.dedup();
    for i in shown {
        println!("{}", row(&r.epochs[i]));
    }
    if let Some(best) = r
        .epochs
        .iter()
        .filter(|m| m.val.loss.is_finite())
        .min_by(|a, b| a.val.loss.total_cmp(&b.val.loss))
    {
        println!(
            "minimum validation loss: epoch {} (loss {:.5}, accuracy {:.2}%)",
            best.epoch,
            best.val.loss,
            100.0 * best.val.acc
        );
        if let Some(f) = last {
            println!(
                "final vs minimum: validation loss {:+.5}, validation accuracy {:+.2} points",
                f.val.loss - best.val.loss,
                100.0 * (f.val.acc - best.val.acc)
            );
        }
    }
    match r.interpolation_epoch {
        Some(e) => println!("first interpolation (100% train accuracy): epoch {e}"),
        None => println!("first interpolation: not reached"),
    }
}
