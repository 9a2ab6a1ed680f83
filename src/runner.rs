//! One recorded run, new or resumed: the piece `train --out`,
//! `train --resume` and sweeps share. Nothing here prints.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::config::RunConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::record::{RecordOpts, Recorder, ResumePoint};
use crate::train::{train_from, Both, Observer, Resume, Sets, Status, TrainReport, Trainer};

/// Trains `trainer` on `sets`, recording into the open `rec`; whatever
/// happens, the file ends with a status. The first error is returned.
#[allow(clippy::too_many_arguments)]
fn drive(
    cfg: &RunConfig,
    sets: &Sets<'_>,
    trainer: &mut Trainer,
    ev: &mut Evaluator,
    rec: &mut Recorder,
    obs: &mut dyn Observer,
    stop: &AtomicBool,
    from: Option<Resume>,
) -> Result<TrainReport> {
    let result = train_from(cfg, sets, trainer, ev, &mut Both(obs, rec), stop, from);
    let status = result
        .as_ref()
        .map(|r| r.status)
        .unwrap_or(Status::Interrupted);
    let finished = rec.finish(status);
    let report = result?;
    finished?;
    Ok(report)
}

/// A new run of `cfg` from `params`, recorded into `out`.
#[allow(clippy::too_many_arguments)]
pub fn run_recorded(
    cfg: &RunConfig,
    sets: &Sets<'_>,
    trainer: &mut Trainer,
    out: &Path,
    force: bool,
    opts: RecordOpts,
    ev: &mut Evaluator,
    obs: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<TrainReport> {
    let mut rec = Recorder::create(out, force, cfg, sets, opts, ev.threads())?;
    drive(cfg, sets, trainer, ev, &mut rec, obs, stop, None)
}

/// The trainer a resume point describes.
pub fn restore(path: &Path, cfg: &RunConfig, p: &ResumePoint) -> Result<Trainer> {
    if p.params.len() != cfg.shape.n_params() {
        return Err(Error::data(
            path,
            "its saved weights do not fit its configuration",
        ));
    }
    let mut t = Trainer::new(cfg.shape, p.params.clone(), cfg.optimizer, cfg.batch_size);
    if !t.opt.m.is_empty() {
        t.opt.m.copy_from_slice(&p.opt_m);
    }
    if !t.opt.v.is_empty() {
        t.opt.v.copy_from_slice(&p.opt_v);
    }
    t.opt.step = p.opt_step;
    t.iteration = p.iteration;
    Ok(t)
}

/// Continues the unfinished run in `path` on `data` (checked against the
/// recorded checksums) with `threads` evaluation threads.
pub fn resume_recorded(
    path: &Path,
    p: &ResumePoint,
    opts: RecordOpts,
    data: &Dataset,
    threads: usize,
    obs: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<(TrainReport, Trainer)> {
    let mut cfg = p.cfg.clone();
    cfg.threads = threads;
    if data.sha256.join("\n") != p.dataset_sha256 {
        return Err(Error::data(
            path,
            "was recorded on dataset files with other checksums than the ones found now",
        ));
    }
    let sets = Sets::new(data, &cfg)?;
    let mut trainer = restore(path, &cfg, p)?;
    let mut ev = Evaluator::new(&cfg.shape, cfg.threads)?;
    let mut rec = Recorder::reopen(path, p, opts, sets.split.train.len())?;
    let from = Resume {
        epoch: p.epoch,
        wall_s: p.wall_time,
    };
    let report = drive(
        &cfg,
        &sets,
        &mut trainer,
        &mut ev,
        &mut rec,
        obs,
        stop,
        Some(from),
    )?;
    Ok((report, trainer))
}
