//! Progress on stderr through `indicatif`: a bar with ETA for one run,
//! and for a sweep one bar per running run under a totals bar. Nothing is
//! drawn when stderr is not a terminal; the lines a sweep prints per
//! finished run go to stdout either way. `--quiet` ([`set_quiet`]) draws
//! no bars and prints no per-run lines: only the final summary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use preinterp::error::Result;
use preinterp::sweep::run::{Event, Outcome};
use preinterp::train::{EpochMetrics, Observer, PerSample, Trainer};

/// Whether `--quiet` was given (set once, before a command runs).
static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no bars and no per-run lines from here on.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Where bars draw: stderr (when a terminal), or nowhere with `--quiet`.
fn target() -> ProgressDrawTarget {
    if quiet() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// `83s` -> `1m23s`.
pub fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-")
}

/// Epoch progress of one run.
pub struct RunBar {
    bar: ProgressBar,
}

impl RunBar {
    /// A bar for `epochs` epochs, starting after `done` of them.
    pub fn new(epochs: usize, done: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(epochs as u64), target());
        bar.set_style(style("[{bar:30}] epoch {pos}/{len}  {msg}  ETA {eta}"));
        bar.set_position(done as u64);
        bar.reset_eta();
        RunBar { bar }
    }

    /// Clears the bar (call before printing the summary).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunBar {
    fn epoch_end(&mut self, m: &EpochMetrics, _: &PerSample, _: &Trainer) -> Result<()> {
        self.bar.set_position(m.epoch as u64);
        self.bar.set_message(format!(
            "train {:.4} ({:.1}%)  val {:.4} ({:.1}%)",
            m.train.loss,
            100.0 * m.train.acc,
            m.val.loss,
            100.0 * m.val.acc
        ));
        Ok(())
    }
}

/// A sweep's bars: one per running run (its id, epoch, validation loss)
/// under a totals bar (done, failed, ETA).
pub struct SweepBars {
    multi: MultiProgress,
    total: ProgressBar,
    runs: Mutex<HashMap<String, ProgressBar>>,
    failed: AtomicUsize,
}

impl SweepBars {
    /// Bars for a sweep of `runs` runs.
    pub fn new(runs: usize) -> Self {
        let multi = MultiProgress::with_draw_target(target());
        let total = multi.add(ProgressBar::new(runs as u64));
        total.set_style(style("[{bar:30}] {pos}/{len} runs done  {msg}  ETA {eta}"));
        total.set_message("0 failed");
        SweepBars {
            multi,
            total,
            runs: Mutex::new(HashMap::new()),
            failed: AtomicUsize::new(0),
        }
    }

    /// `n` more runs to do (the grid protocol added them).
    pub fn add_runs(&self, n: usize) {
        self.total.inc_length(n as u64);
    }

    /// Runs that failed so far.
    pub fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }

    /// Updates the bars on `e`; a finished run's line goes to stdout.
    pub fn on_event(&self, e: Event<'_>) {
        match e {
            Event::Started { run } => {
                let bar = self
                    .multi
                    .add(ProgressBar::new(run.cfg.stop.max_epochs() as u64));
                bar.set_style(style("  {prefix} [{bar:20}] epoch {pos}/{len}  {msg}"));
                bar.set_prefix(run.id.clone());
                if let Ok(mut m) = self.runs.lock() {
                    m.insert(run.id.clone(), bar);
                }
            }
            Event::Epoch { run, metrics } => {
                if let Some(bar) = self.runs.lock().ok().and_then(|m| m.get(&run.id).cloned()) {
                    bar.set_position(metrics.epoch as u64);
                    bar.set_message(format!("val loss {:.4}", metrics.val.loss));
                }
            }
            Event::Finished {
                run,
                outcome,
                finished,
                total,
                secs,
            } => {
                if let Some(bar) = self.runs.lock().ok().and_then(|mut m| m.remove(&run.id)) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let what = match outcome {
                    Outcome::Skipped(s) => format!("already {s}"),
                    Outcome::Done(s) => format!("{s:?}").to_lowercase(),
                    Outcome::Failed(m) => {
                        self.failed.fetch_add(1, Ordering::SeqCst);
                        format!("FAILED: {m}")
                    }
                    Outcome::Held(w) => format!("held by another worker ({w})"),
                };
                if !quiet() {
                    self.multi.suspend(|| {
                        println!("[{finished}/{total}] {} {what} ({secs:.1} s)", run.id);
                    });
                }
                self.total.inc(1);
                self.total.set_message(format!("{} failed", self.failed()));
            }
        }
    }

    /// Clears every bar.
    pub fn finish(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}
