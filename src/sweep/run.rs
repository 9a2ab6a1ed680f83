//! `preinterp sweep run`: the runs of a sweep (or of one shard), one
//! model per core, each recorded into `DIR/<id>.h5`. Finished runs are
//! skipped, unfinished ones resumed, so killing a sweep and starting it
//! again loses at most the epoch each run had in flight. A run that
//! fails is recorded in `DIR/<id>.error` and the sweep goes on.
//!
//! The folder is a work queue: any number of workers (processes, on one
//! machine or many sharing the file system) may run the same spec into
//! it. Each claims a run before it starts it (`DIR/<id>.claim`, see
//! [`super::claim`]); a run another live worker holds is left to it
//! ([`Outcome::Held`]), and the worker's writer lock on the run file
//! stays as the second line of defence.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::claim::{self, Take};
use super::schedule::{Queue, Slot};
use super::{Origin, Shard, Sweep, SweepRun};
use crate::data::{self, Dataset, Locator};
use crate::error::{Error, ErrorKind, Result};
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
    /// Left alone: another live worker holds it (this names the worker,
    /// `host:pid`, or says that it writes the run file).
    Held(String),
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

/// Forwards a run's epochs as [`Event::Epoch`]; stops the run at an
/// epoch end once its claim is lost to another worker.
struct Epochs<'a> {
    run: &'a SweepRun,
    on_event: &'a OnEvent<'a>,
    lost: Option<Arc<AtomicBool>>,
}

/// The error that stops a run whose claim another worker took over.
const LOST: &str = "its claim was taken over by another worker (this one was stale)";

impl Epochs<'_> {
    /// Whether the run's claim was lost to another worker.
    fn is_lost(&self) -> bool {
        self.lost.as_ref().is_some_and(|l| l.load(Ordering::SeqCst))
    }
}

impl Observer for Epochs<'_> {
    fn epoch_end(&mut self, m: &EpochMetrics, _: &PerSample, _: &Trainer) -> Result<()> {
        if self.is_lost() {
            return Err(Error::new(ErrorKind::Io, LOST));
        }
        (self.on_event)(Event::Epoch {
            run: self.run,
            metrics: m,
        });
        Ok(())
    }
}

/// What [`Outcome::Held`] says when the run file's writer lock, not a
/// claim, kept a worker off the run.
const HELD_BY_WRITER: &str = "another process writes its run file";

/// Claims `run` in `o.out`, then runs it; a run another worker holds is
/// left to it. Its run file is opened only under the claim (a reader's
/// HDF5 lock would make a writer's create fail).
fn claim_and_run(
    run: &SweepRun,
    data: &Dataset,
    o: &RunOpts,
    threads: usize,
    obs: &mut Epochs<'_>,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let claim = match claim::try_claim(&o.out, &run.id, claim::stale_limit())? {
        Take::Held(h) => return Ok(Outcome::Held(h.to_string())),
        Take::Mine(c) => c,
    };
    obs.lost = Some(claim.lost_flag());
    match run_one(run, data, o, threads, obs, stop) {
        Err(_) if obs.is_lost() => Ok(Outcome::Held(LOST.into())),
        // The second line of defence: a writer without a claim.
        Err(_) if lock::held_by_another(&run_file(&o.out, &run.id)) => {
            Ok(Outcome::Held(HELD_BY_WRITER.into()))
        }
        x => x,
    }
}

/// Runs (or resumes, or skips) one run of the sweep.
fn run_one(
    run: &SweepRun,
    data: &Dataset,
    o: &RunOpts,
    threads: usize,
    obs: &mut Epochs<'_>,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let path = run_file(&o.out, &run.id);
    if path.exists() {
        match Recorder::status(&path) {
            Ok(s) if s.is_final() => return Ok(Outcome::Skipped(s)),
            _ if lock::held_by_another(&path) => return Ok(Outcome::Held(HELD_BY_WRITER.into())),
            Ok(_) => {
                if let Ok(point) = Recorder::resume_point(&path) {
                    let resumed = Run::resumed(&path, &point, data, threads)
                        .and_then(|mut r| r.continue_recorded(&path, &point, obs, stop));
                    // A file a kill left unreadable past its last epoch
                    // is started again below (the run is deterministic);
                    // one that another process is writing is left alone.
                    match resumed {
                        Ok(report) => return Ok(Outcome::Done(report.status)),
                        // Never start again over another worker's run.
                        Err(e) if obs.is_lost() => return Err(e),
                        Err(_) if lock::held_by_another(&path) => {
                            return Ok(Outcome::Held(HELD_BY_WRITER.into()))
                        }
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

/// Keeps the spec in `DIR/sweep.toml`; refuses a folder of another
/// sweep. Written to a temporary file and linked into place (no
/// replace), so workers starting together never read half a file; the
/// specs are compared as parsed TOML, not as text.
fn claim_folder(out: &Path, spec: &Path) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(out, format!("cannot create the sweep folder: {e}")))?;
    let copy = out.join("sweep.toml");
    let text = std::fs::read_to_string(spec).map_err(|e| Error::io(spec, e))?;
    let mine = parsed(spec, &text)?;
    if !copy.exists() {
        publish(&copy, &text)?;
    }
    let theirs = std::fs::read_to_string(&copy).map_err(|e| Error::io(&copy, e))?;
    if parsed(&copy, &theirs)? != mine {
        return Err(Error::usage(format!(
            "{}: the folder holds another sweep (its sweep.toml differs from {}); use another --out",
            out.display(),
            spec.display()
        )));
    }
    Ok(())
}

/// `text` as a TOML table (`path` names it in the error).
fn parsed(path: &Path, text: &str) -> Result<toml::Table> {
    text.parse()
        .map_err(|e: toml::de::Error| Error::usage(format!("{}: {}", path.display(), e.message())))
}

/// Writes `text` to `dest` unless it exists: a temporary file beside
/// it, hard-linked into place (atomic, never replacing), or renamed where
/// the file system has no hard links.
fn publish(dest: &Path, text: &str) -> Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dest.with_extension(format!("toml.{}.{nanos}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    let linked = std::fs::hard_link(&tmp, dest);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e)),
    };
    let _ = std::fs::remove_file(&tmp);
    result
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
            let mut obs = Epochs {
                run,
                on_event,
                lost: None,
            };
            let data = &datasets[&run.cfg.dataset.label()];
            let error_file = o.out.join(format!("{}.error", run.id));
            let outcome = match claim_and_run(run, data, o, threads, &mut obs, stop) {
                Ok(x @ Outcome::Held(_)) => x,
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

/// A sweep with its grid protocol ([`super::protocol`]): the spec's runs
/// of `shard`, then, round by round, the runs the protocol adds as the
/// folder's results decide them (any worker may take those: claims keep
/// them to one), until a round adds nothing this worker can take.
/// `on_round` hears how many runs each round after the first adds.
pub fn run_protocol(
    sweep: &Sweep,
    shard: Shard,
    o: &RunOpts,
    stop: &AtomicBool,
    on_event: &OnEvent<'_>,
    on_round: &dyn Fn(usize),
) -> Result<Vec<(String, Outcome)>> {
    let mut tried = std::collections::HashSet::new();
    let mut results = vec![];
    for round in 0.. {
        let resolved = if round == 0 {
            sweep.clone()
        } else {
            sweep.resolved_in(&o.out)?
        };
        let todo: Vec<&SweepRun> = resolved
            .runs
            .iter()
            .enumerate()
            .filter(|(k, r)| r.origin != Origin::Spec || shard.contains(*k))
            .map(|(_, r)| r)
            .filter(|r| !tried.contains(&r.id))
            .collect();
        if todo.is_empty() || stop.load(Ordering::SeqCst) {
            break;
        }
        if round > 0 {
            on_round(todo.len());
        }
        tried.extend(todo.iter().map(|r| r.id.clone()));
        results.extend(run_sweep(&sweep.path, &todo, o, stop, on_event)?);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_keeps_one_spec_compared_as_parsed_toml() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let spec = d.path().join("a.toml");
        std::fs::write(&spec, "name = \"a\"\n[fixed]\nwidth = 8\n").unwrap();
        claim_folder(&out, &spec).unwrap();
        // The same spec, written differently: the same sweep.
        std::fs::write(&spec, "name=\"a\"\n\n[fixed]\nwidth=8 # comment\n").unwrap();
        claim_folder(&out, &spec).unwrap();
        std::fs::write(&spec, "name = \"a\"\n[fixed]\nwidth = 9\n").unwrap();
        let e = claim_folder(&out, &spec).unwrap_err();
        assert!(e.to_string().contains("another sweep"), "{e}");
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
