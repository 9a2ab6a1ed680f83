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

use super::schedule::{Queue, Slot};
use super::SweepRun;
use crate::data::{self, Dataset, Locator};
use crate::error::{Error, Result};
use crate::record::schema::RunStatus;
use crate::record::{lock, Overwrite, Recorder};
use crate::run::Run;
use crate::train::{EpochMetrics, Observer, PerSample, Status, Trainer};

/// How a sweep runs.
pub struct RunOpts {
    /// Output folder.
    pub out: PathBuf,
    /// Runs at once (one core each).
    pub jobs: usize,
    /// Where datasets are found.
    pub locator: Locator,
}

/// What happened to one run.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already finished before this invocation (its status).
    Skipped(RunStatus),
    /// Trained (or resumed) to this status now.
    Done(Status),
    /// Failed with this message (also in `<id>.error`).
    Failed(String),
}

/// What a sweep reports while it runs.
pub enum Event<'a> {
    /// A run starts (or resumes) on `threads` threads.
    Started {
        /// The run.
        run: &'a SweepRun,
    },
    /// A run finished an epoch.
    Epoch {
        /// The run.
        run: &'a SweepRun,
        /// Its metrics.
        metrics: &'a EpochMetrics,
    },
    /// A run ended.
    Finished {
        /// The run.
        run: &'a SweepRun,
        /// What happened.
        outcome: &'a Outcome,
        /// Runs ended so far (this shard).
        finished: usize,
        /// Runs in this shard.
        total: usize,
        /// Seconds this run took.
        secs: f64,
    },
}

/// Receives a sweep's [`Event`]s, from any of its workers.
pub(crate) type OnEvent<'a> = dyn Fn(Event<'_>) + Sync + 'a;

/// The file of run `id`.
pub(crate) fn run_file(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.h5"))
}

/// Forwards a run's epochs as [`Event::Epoch`].
struct Epochs<'a> {
    run: &'a SweepRun,
    on_event: &'a OnEvent<'a>,
}

impl Observer for Epochs<'_> {
    fn epoch_end(&mut self, m: &EpochMetrics, _: &PerSample, _: &Trainer) -> Result<()> {
        (self.on_event)(Event::Epoch {
            run: self.run,
            metrics: m,
        });
        Ok(())
    }
}

/// Runs (or resumes, or skips) one run of the sweep.
fn run_one(
    run: &SweepRun,
    data: &Dataset,
    o: &RunOpts,
    threads: usize,
    obs: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let path = run_file(&o.out, &run.id);
    if path.exists() {
        match Recorder::status(&path) {
            Ok(s) if s.is_final() => return Ok(Outcome::Skipped(s)),
            Ok(_) => {
                if let Ok(point) = Recorder::resume_point(&path) {
                    let resumed = Run::resumed(&path, &point, data, threads)
                        .and_then(|mut r| r.continue_recorded(&path, &point, obs, stop));
                    // A file a kill left unreadable past its last epoch
                    // is started again below (the run is deterministic);
                    // one that another process is writing is left alone.
                    match resumed {
                        Ok(report) => return Ok(Outcome::Done(report.status)),
                        Err(e) if lock::held_by_another(&path) => return Err(e),
                        Err(_) => {}
                    }
                }
            }
            Err(_) => {}
        }
        // No complete epoch to resume from, unreadable, or a resume that
        // failed: start again.
    }
    let cfg = crate::config::RunConfig {
        threads,
        ..run.cfg.clone()
    };
    let mut r = Run::seeded(cfg, data)?;
    let report = r.train_recorded(&path, Overwrite::Replace, run.record, obs, stop)?;
    Ok(Outcome::Done(report.status))
}

/// Keeps the spec in `DIR/sweep.toml`; refuses a folder of another sweep.
fn claim_folder(out: &Path, spec: &Path) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(out, format!("cannot create the sweep folder: {e}")))?;
    let copy = out.join("sweep.toml");
    let text = std::fs::read_to_string(spec).map_err(|e| Error::io(spec, e))?;
    match std::fs::read_to_string(&copy) {
        Ok(old) if old != text => Err(Error::usage(format!(
            "{}: the folder holds another sweep (its sweep.toml differs from {}); use another --out",
            out.display(),
            spec.display()
        ))),
        Ok(_) => Ok(()),
        Err(_) => std::fs::write(&copy, &text).map_err(|e| Error::io(&copy, e)),
    }
}

/// Each dataset the runs use, loaded once.
fn load_datasets(runs: &[&SweepRun], loc: &Locator) -> Result<HashMap<String, Dataset>> {
    let mut datasets = HashMap::new();
    for r in runs {
        if let std::collections::hash_map::Entry::Vacant(e) = datasets.entry(r.cfg.dataset.label())
        {
            e.insert(data::load(&r.cfg.dataset, loc)?);
        }
    }
    Ok(datasets)
}

/// Runs `runs` (this shard of `spec`'s sweep) under `o`, reporting
/// through `on_event`; returns every run's outcome, in order.
pub fn run_sweep(
    spec: &Path,
    runs: &[&SweepRun],
    o: &RunOpts,
    stop: &AtomicBool,
    on_event: &OnEvent<'_>,
) -> Result<Vec<(String, Outcome)>> {
    claim_folder(&o.out, spec)?;
    let datasets = load_datasets(runs, &o.locator)?;
    // Fewer runs left than workers: the idle cores train (wide layers)
    // and evaluate too (results never depend on the thread count).
    let queue = Queue::new(runs.len(), o.jobs);
    let finished = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; runs.len()]);
    let worker = || {
        while let Some(Slot { index: k, threads }) = queue.take() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let run = runs[k];
            on_event(Event::Started { run });
            let start = Instant::now();
            let mut obs = Epochs { run, on_event };
            let data = &datasets[&run.cfg.dataset.label()];
            let error_file = o.out.join(format!("{}.error", run.id));
            let outcome = match run_one(run, data, o, threads, &mut obs, stop) {
                Ok(x) => {
                    let _ = std::fs::remove_file(&error_file);
                    x
                }
                Err(e) => {
                    let _ = std::fs::write(&error_file, format!("{e}\n"));
                    Outcome::Failed(e.to_string())
                }
            };
            on_event(Event::Finished {
                run,
                outcome: &outcome,
                finished: finished.fetch_add(1, Ordering::SeqCst) + 1,
                total: runs.len(),
                secs: start.elapsed().as_secs_f64(),
            });
            if let Ok(mut r) = results.lock() {
                r[k] = Some(outcome);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 0..queue.workers() {
            s.spawn(worker);
        }
    });
    let results = results.into_inner().unwrap_or_default();
    Ok(runs
        .iter()
        .zip(results)
        .filter_map(|(r, o)| o.map(|o| (r.id.clone(), o)))
        .collect())
}
