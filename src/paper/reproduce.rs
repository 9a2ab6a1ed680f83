//! The reproduction's loop: each part's sweep in turn (finished runs
//! skipped, unfinished ones resumed), the wall time of the parts that
//! trained something added to `DIR/timings.json`, failed runs counted,
//! a stop request honoured between parts; then the report. What is
//! shown while it runs is the caller's: it gets every [`Progress`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::{parts, prepare, sweep_of, write_report, Fig3, Paper, Part, Timings, REPORT};
use crate::data::Locator;
use crate::error::{Error, ErrorKind, Result};
use crate::sweep::run::{run_protocol, Event, Outcome, RunOpts};
use crate::sweep::Shard;

/// What to reproduce, and how.
pub struct Options {
    /// The reproduction's folder.
    pub dir: PathBuf,
    /// Which fig3 sweep.
    pub fig3: Fig3,
    /// For tests: a folder with the specs to use instead of the built-in
    /// ones (see [`parts`]).
    pub specs: Option<PathBuf>,
    /// Runs at once (at least 1).
    pub jobs: usize,
    /// Seeds per case in place of the spec's (`--seeds`).
    pub seeds: Option<usize>,
    /// Where datasets are found.
    pub locator: Locator,
}

/// What a reproduction reports while it runs, from any sweep worker.
pub enum Progress<'a> {
    /// A part starts: `runs` runs into `dir`.
    Part {
        /// The part.
        part: &'a Part,
        /// Its runs.
        runs: usize,
        /// Its folder.
        dir: &'a Path,
    },
    /// The grid protocol added `runs` runs to the current part.
    Added {
        /// How many.
        runs: usize,
    },
    /// A run of the current part started, finished an epoch or ended.
    Run(Event<'a>),
    /// The current part's sweep returned (successfully or not).
    PartEnd,
    /// The stop flag was raised: the reproduction stopped after `secs`
    /// on the current part, and returns an
    /// [`ErrorKind::Interrupted`] error next.
    Interrupted {
        /// Seconds spent on the part.
        secs: f64,
    },
}

/// Receives a reproduction's [`Progress`].
pub(crate) type OnProgress<'a> = dyn Fn(Progress<'_>) + Sync + 'a;

/// A finished reproduction.
pub struct Reproduced {
    /// What the report was made from (the claims, judged).
    pub paper: Paper,
    /// The report's path (`DIR/REPORT.md`).
    pub report: PathBuf,
    /// Runs that failed (each has its `<id>.error` in its part's folder).
    pub failed: usize,
}

/// Runs the three parts into `o.dir` (refusing a folder that holds
/// something else), then writes the report. Stops between runs once
/// `stop` is raised, with an [`ErrorKind::Interrupted`] error; the same
/// call on the same folder resumes.
pub fn reproduce(o: &Options, stop: &AtomicBool, on: &OnProgress<'_>) -> Result<Reproduced> {
    let parts = parts(o.fig3, o.specs.as_deref(), o.seeds)?;
    let specs = prepare(&o.dir, &parts)?;
    let mut failed = 0;
    for (part, spec) in parts.iter().zip(&specs) {
        failed += run_part(o, part, spec, stop, on)?;
    }
    let paper = write_report(&o.dir, &parts, o.fig3 == Fig3::Quick, &o.locator)?;
    Ok(Reproduced {
        paper,
        report: o.dir.join(REPORT),
        failed,
    })
}

/// One part's sweep; returns its failed runs.
fn run_part(
    o: &Options,
    part: &Part,
    spec: &Path,
    stop: &AtomicBool,
    on: &OnProgress<'_>,
) -> Result<usize> {
    let sweep = sweep_of(spec)?;
    let runs: Vec<_> = sweep.runs.iter().collect();
    let out = o.dir.join(&part.name);
    on(Progress::Part {
        part,
        runs: runs.len(),
        dir: &out,
    });
    let ro = RunOpts {
        out: out.clone(),
        jobs: o.jobs.max(1),
        locator: o.locator.clone(),
    };
    let start = Instant::now();
    let results = run_protocol(
        &sweep,
        Shard::ALL,
        &ro,
        stop,
        &|e| on(Progress::Run(e)),
        &|runs| on(Progress::Added { runs }),
    );
    on(Progress::PartEnd);
    let results = results?;
    if results.iter().any(|(_, r)| matches!(r, Outcome::Done(_))) {
        Timings::add(&o.dir, &part.name, start.elapsed().as_secs_f64())?;
    }
    let failed = results
        .iter()
        .filter(|(_, r)| matches!(r, Outcome::Failed(_)))
        .count();
    if stop.load(Ordering::SeqCst) {
        on(Progress::Interrupted {
            secs: start.elapsed().as_secs_f64(),
        });
        return Err(Error::new(
            ErrorKind::Interrupted,
            "reproduce paper interrupted",
        ));
    }
    Ok(failed)
}
