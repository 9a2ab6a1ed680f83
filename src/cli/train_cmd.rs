//! `preinterp train`: load, train, summarise.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::json;

use preinterp::config::{DataLocation, RecordOpts, RunConfig, Settings};
use preinterp::data;
use preinterp::error::{Error, ErrorKind, Result};
use preinterp::record::{check_output, Overwrite, Recorder};
use preinterp::run::{initial_params, memory, Run};
use preinterp::train::{EpochMetrics, Sets, Status, TrainReport};
use preinterp::weights;

use super::args::TrainArgs;
use super::progress::{fmt_secs, RunBar};

/// Raised by SIGINT, SIGTERM or SIGHUP; the loop finishes its step and stops.
static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The signal that raised [`STOP`] (0: none yet).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Atomic loads and stores only (`OnceLock::get` is one): no lock, no
    // allocation, so async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
    if let Some(f) = STOP.get() {
        f.store(true, Ordering::SeqCst);
    }
}

/// Set by SIGINT/SIGTERM/SIGHUP; the loop finishes its step and stops.
pub(crate) fn stop_flag() -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let f = Arc::new(AtomicBool::new(false));
        // Installed once, after the flag exists (`get_or_init` runs this
        // closure once).
        install_handlers();
        f
    })
    .clone()
}

fn install_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `sigaction` is plain old data (all-zero is valid); the
        // handler only does atomic loads and stores, async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The exit code of a command the stop flag ended: 128 + the signal
/// (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
pub(crate) fn stopped_exit_code() -> u8 {
    match SIGNAL.load(Ordering::SeqCst) {
        libc::SIGTERM => 143,
        libc::SIGHUP => 129,
        _ => 130,
    }
}

/// The error a command the stop flag ended returns: its kind gives
/// [`stopped_exit_code`].
pub(crate) fn stopped_error(msg: &str) -> Error {
    let kind = match stopped_exit_code() {
        143 => ErrorKind::Terminated,
        129 => ErrorKind::HangUp,
        _ => ErrorKind::Interrupted,
    };
    Error::new(kind, msg)
}

/// What a training command writes, besides its summary.
pub(super) struct Writes {
    /// The run file.
    pub out: Option<PathBuf>,
    /// Whether an existing run file may be replaced.
    pub overwrite: Overwrite,
    /// The initial weights.
    pub save_init: Option<PathBuf>,
    /// The final weights.
    pub save_final: Option<PathBuf>,
    /// A JSON summary instead of the table.
    pub json: bool,
}

/// `train`: a new run, or `--resume` of a recorded one.
pub(super) fn run(a: &TrainArgs) -> Result<u8> {
    let loc = a.data.parse()?;
    let settings = a.settings.parse()?;
    let w = Writes {
        out: a.out.clone(),
        overwrite: if a.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        },
        save_init: a.save_init.clone(),
        save_final: a.save_final.clone(),
        json: a.json,
    };
    let Some(path) = &a.resume else {
        return train_new(&settings, &loc, &w);
    };
    let extra = a.settings.names().into_iter().find(|f| f != "--threads");
    if let Some(flag) = extra.or(a.save_init.as_ref().map(|_| "--save-init".into())) {
        return Err(Error::usage(format!(
            "--resume: {flag} cannot be given; a resumed run takes its settings from its file (only data-location flags, --threads, --save-final and --json may be given)"
        )));
    }
    train_resume(path, settings.threads, &loc, &w)
}

/// Trains a new run of `settings`, writing what `w` asks for.
pub(super) fn train_new(settings: &Settings, loc: &DataLocation, w: &Writes) -> Result<u8> {
    let cfg = settings.resolve()?;
    let record_opts = settings.record_opts(RecordOpts::default())?;
    memory::check(&cfg)?;
    // Refuse an existing output before hours of training, not after.
    if let Some(p) = &w.out {
        check_output(p, w.overwrite)?;
    }
    for p in [&w.save_init, &w.save_final].into_iter().flatten() {
        if p.exists() {
            return Err(Error::usage(format!(
                "{}: already exists; remove it or choose another name",
                p.display()
            )));
        }
    }
    let data = data::load(&cfg.dataset, &loc.locator())?;
    let params = initial_params(&cfg)?;
    if let Some(p) = &w.save_init {
        weights::save(p, &cfg.shape, &params)?;
    }
    let mut run = Run::new(cfg, &data, params)?;
    let stop = stop_flag();
    let mut bar = RunBar::new(run.cfg.stop.max_epochs(), 0);
    let report = match &w.out {
        Some(path) => run.train_recorded(path, w.overwrite, record_opts, &mut bar, &stop)?,
        None => run.train(&mut bar, &stop)?,
    };
    bar.finish();
    report_and_exit(w, &run, &report)
}

/// Continues the interrupted or killed run recorded in `path` from the
/// last epoch its file completed, on the data it was trained on (found
/// where it was first, else through `loc`).
pub(super) fn train_resume(
    path: &Path,
    threads: Option<usize>,
    loc: &DataLocation,
    w: &Writes,
) -> Result<u8> {
    let point = Recorder::resume_point(path)?;
    let data = data::load_recorded(
        &point.cfg.dataset,
        &point.dataset_files,
        &point.dataset_sha256,
        &loc.locator(),
    )?;
    let threads = threads.unwrap_or(point.cfg.threads);
    let mut run = Run::resumed(path, &point, &data, threads)?;
    let stop = stop_flag();
    let mut bar = RunBar::new(run.cfg.stop.max_epochs(), point.epoch);
    let report = run.continue_recorded(path, &point, &mut bar, &stop)?;
    bar.finish();
    if !w.json {
        println!("resumed {} after epoch {}", path.display(), point.epoch);
    }
    report_and_exit(w, &run, &report)
}

/// Saves the final weights if asked, prints the summary, and maps the
/// run's status to the exit code.
fn report_and_exit(w: &Writes, run: &Run<'_>, report: &TrainReport) -> Result<u8> {
    let (cfg, sets) = (&run.cfg, &run.sets);
    if let Some(p) = &w.save_final {
        weights::save(p, &cfg.shape, &run.trainer.params)?;
    }
    if w.json {
        let data = sets.data;
        let doc = json!({
            "config": cfg,
            "dataset": { "name": cfg.dataset.label(), "files": data.files, "sha256": data.sha256 },
            "sizes": { "train": sets.split.train.len(), "val": sets.split.val.len(), "eval": sets.eval.len() },
            "threads": run.evaluator.threads(),
            "simd": preinterp::kernels::simd_level(),
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
        Status::Interrupted => stopped_exit_code(),
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
