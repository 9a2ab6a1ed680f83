//! `preinterp sweep run`: the runs of a sweep (or of one shard), one
//! model per core, each recorded into `DIR/<id>.h5`. Finished runs are
//! skipped, unfinished ones resumed, so killing a sweep and starting it
//! again loses at most the epoch each run had in flight. A run that
//! fails is recorded in `DIR/<id>.error` and the sweep goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::{Shard, Sweep, SweepRun};
use crate::data::{self, Dataset, Locator};
use crate::error::{Error, ErrorKind, Result};
use crate::eval::Evaluator;
use crate::model::init_params;
use crate::record::{RecordOpts, Recorder};
use crate::runner;
use crate::train::{Sets, Status, Trainer};

/// How a sweep runs.
pub struct RunOpts {
    /// Output folder.
    pub out: PathBuf,
    /// Runs at once (one core each).
    pub jobs: usize,
    /// Which runs.
    pub shard: Shard,
    /// Where datasets are found.
    pub locator: Locator,
    /// What each run file records (sweeps default to per-epoch curves
    /// only: no per-sample records and no checkpoints, which is all that
    /// collecting needs).
    pub record: RecordOpts,
}

/// What happened to one run.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already finished before this invocation (its status).
    Skipped(String),
    /// Trained (or resumed) to this status now.
    Done(Status),
    /// Failed with this message (also in `<id>.error`).
    Failed(String),
}

/// One finished run, for progress reports.
pub struct Event<'a> {
    /// The run.
    pub run: &'a SweepRun,
    /// What happened.
    pub outcome: &'a Outcome,
    /// Runs finished so far, and in all (this shard).
    pub finished: usize,
    /// Runs in this shard.
    pub total: usize,
    /// Runs still going.
    pub running: usize,
    /// Seconds this run took.
    pub secs: f64,
}

/// The file of run `id`.
pub fn run_file(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.h5"))
}

fn status_of(path: &Path) -> Result<String> {
    let f = match hdf5::File::open(path) {
        Ok(f) => f,
        Err(_) => hdf5::File::open_as(path, hdf5::file::OpenMode::ReadSWMR)
            .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))?,
    };
    let s = f
        .attr("status")
        .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
        .map_err(|e| Error::new(ErrorKind::Io, format!("{}: no status: {e}", path.display())))?;
    Ok(s.as_str().to_string())
}

fn one(
    run: &SweepRun,
    data: &Dataset,
    dir: &Path,
    record: RecordOpts,
    threads: usize,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let path = run_file(dir, &run.id);
    if path.exists() {
        let status = status_of(&path).unwrap_or_else(|_| "unreadable".into());
        match status.as_str() {
            "complete" | "diverged" => return Ok(Outcome::Skipped(status)),
            "running" | "interrupted" => {
                if let Ok((point, opts)) = Recorder::resume_point(&path) {
                    let (report, _) =
                        runner::resume_recorded(&path, &point, opts, data, threads, &mut (), stop)?;
                    return Ok(Outcome::Done(report.status));
                }
            }
            _ => {}
        }
        // No complete epoch to resume from, or unreadable: start again.
    }
    let mut cfg = run.cfg.clone();
    cfg.threads = threads;
    let sets = Sets::new(data, &cfg)?;
    let mut trainer = Trainer::new(
        cfg.shape,
        init_params(&cfg.shape, cfg.seed),
        cfg.optimizer,
        cfg.batch_size,
    );
    let mut ev = Evaluator::new(&cfg.shape, threads)?;
    let report = runner::run_recorded(
        &cfg,
        &sets,
        &mut trainer,
        &path,
        true,
        record,
        &mut ev,
        &mut (),
        stop,
    )?;
    Ok(Outcome::Done(report.status))
}

/// Runs `sweep` under `o`, calling `on_event` as runs finish; returns
/// every run's outcome (in sweep order, this shard only).
pub fn run_sweep(
    sweep: &Sweep,
    o: &RunOpts,
    stop: &AtomicBool,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Vec<(String, Outcome)>> {
    std::fs::create_dir_all(&o.out)
        .map_err(|e| Error::io(&o.out, format!("cannot create the sweep folder: {e}")))?;
    let spec_copy = o.out.join("sweep.toml");
    let text = std::fs::read_to_string(&sweep.path).map_err(|e| Error::io(&sweep.path, e))?;
    match std::fs::read_to_string(&spec_copy) {
        Ok(old) if old != text => {
            return Err(Error::usage(format!(
                "{}: the folder holds another sweep (its sweep.toml differs from {}); use another --out",
                o.out.display(),
                sweep.path.display()
            )))
        }
        Ok(_) => {}
        Err(_) => std::fs::write(&spec_copy, &text).map_err(|e| Error::io(&spec_copy, e))?,
    }
    let mine: Vec<&SweepRun> = sweep
        .runs
        .iter()
        .enumerate()
        .filter(|(k, _)| o.shard.contains(*k))
        .map(|(_, r)| r)
        .collect();
    // Each dataset once, shared by every run.
    let mut datasets: HashMap<String, Dataset> = HashMap::new();
    for r in &mine {
        let key = r.cfg.dataset.label();
        if let std::collections::hash_map::Entry::Vacant(e) = datasets.entry(key) {
            e.insert(data::load(&r.cfg.dataset, &o.locator)?);
        }
    }
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let running = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; mine.len()]);
    std::thread::scope(|s| {
        for _ in 0..o.jobs.max(1).min(mine.len().max(1)) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                if k >= mine.len() || stop.load(Ordering::SeqCst) {
                    break;
                }
                let run = mine[k];
                // Fewer runs left than workers: the idle cores evaluate.
                // (Results never depend on the thread count.)
                let left = mine.len() - k;
                let threads = if left < o.jobs {
                    (o.jobs / left).max(1)
                } else {
                    1
                };
                running.fetch_add(1, Ordering::SeqCst);
                let start = Instant::now();
                let data = &datasets[&run.cfg.dataset.label()];
                let outcome = match one(run, data, &o.out, o.record, threads, stop) {
                    Ok(x) => {
                        let _ = std::fs::remove_file(o.out.join(format!("{}.error", run.id)));
                        x
                    }
                    Err(e) => {
                        let _ = std::fs::write(
                            o.out.join(format!("{}.error", run.id)),
                            format!("{e}\n"),
                        );
                        Outcome::Failed(e.to_string())
                    }
                };
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                let still = running.fetch_sub(1, Ordering::SeqCst) - 1;
                on_event(Event {
                    run,
                    outcome: &outcome,
                    finished: n,
                    running: still,
                    total: mine.len(),
                    secs: start.elapsed().as_secs_f64(),
                });
                if let Ok(mut r) = results.lock() {
                    r[k] = Some(outcome);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    Ok(mine
        .iter()
        .zip(results)
        .filter_map(|(r, o)| o.map(|o| (r.id.clone(), o)))
        .collect())
}
