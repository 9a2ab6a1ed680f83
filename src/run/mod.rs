//! A run, assembled once: a resolved configuration and a loaded dataset
//! give the three sets, the trainer and the evaluator. `train`,
//! `train --resume`, `reproduce`, sweeps, tests and benches all build
//! their runs here, and train them recorded or not. Nothing here prints.

pub mod memory;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::config::{RecordOpts, RunConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::model::init_params;
use crate::record::{Layout, Overwrite, Recorder, ResumePoint};
use crate::train::{Loop, Observer, Resume, Sets, Status, TeeObserver, TrainReport, Trainer};
use crate::weights;

/// One model on one dataset, ready to train.
pub struct Run<'d> {
    /// The resolved configuration.
    pub cfg: RunConfig,
    /// Training, validation and evaluation indices (and the dataset).
    pub sets: Sets<'d>,
    /// Parameters, optimiser state and batch buffers; steps on
    /// `cfg.threads` threads.
    pub trainer: Trainer,
    /// Per-sample evaluation on `cfg.threads` threads.
    pub evaluator: Evaluator,
    /// Where a resumed run continues; `None` for a new one.
    from: Option<Resume>,
}

/// The weights a new run of `cfg` starts from: `init_from`'s file, else
/// the seeded initialisation.
pub fn initial_params(cfg: &RunConfig) -> Result<Vec<f32>> {
    match &cfg.init_from {
        Some(p) => weights::load(p, "/", &cfg.shape),
        None => Ok(init_params(&cfg.shape, cfg.seed)),
    }
}

impl<'d> Run<'d> {
    /// A new run of `cfg` on `data`, starting from `params`; refused when
    /// it cannot fit in memory (checked before anything is allocated).
    pub fn new(cfg: RunConfig, data: &'d Dataset, params: Vec<f32>) -> Result<Self> {
        memory::check(&cfg)?;
        if params.len() != cfg.shape.n_params() {
            return Err(Error::usage(format!(
                "{} initial weights given for a {} model of {} parameters",
                params.len(),
                cfg.shape.label(),
                cfg.shape.n_params()
            )));
        }
        let sets = Sets::new(data, &cfg)?;
        let evaluator = Evaluator::new(&cfg.shape, cfg.threads)?;
        let trainer = Trainer::with_threads(
            cfg.shape,
            params,
            cfg.optimizer,
            cfg.batch_size,
            cfg.threads,
        )?;
        Ok(Run {
            cfg,
            sets,
            trainer,
            evaluator,
            from: None,
        })
    }

    /// A new run of `cfg` from its initial weights ([`initial_params`]).
    pub fn seeded(cfg: RunConfig, data: &'d Dataset) -> Result<Self> {
        memory::check(&cfg)?;
        let params = initial_params(&cfg)?;
        Self::new(cfg, data, params)
    }

    /// The run recorded in `path`, at its resume point `p`, on `data`
    /// (whose checksums must be the recorded ones), training and
    /// evaluating on `threads` threads (the results do not depend on it).
    pub fn resumed(
        path: &Path,
        p: &ResumePoint,
        data: &'d Dataset,
        threads: usize,
    ) -> Result<Self> {
        if data.sha256 != p.dataset_sha256 {
            return Err(Error::data(
                path,
                "was recorded on dataset files with other checksums than the ones found now",
            ));
        }
        if p.params.len() != p.cfg.shape.n_params() {
            return Err(Error::data(
                path,
                "its saved weights do not fit its configuration",
            ));
        }
        let cfg = RunConfig {
            threads,
            ..p.cfg.clone()
        };
        let mut run = Self::new(cfg, data, p.params.clone())?;
        run.trainer
            .opt
            .restore(&p.opt_m, &p.opt_v, p.opt_step)
            .map_err(|e| Error::data(path, e))?;
        run.trainer.iteration = p.iteration;
        run.from = Some(Resume {
            epoch: p.epoch,
            wall_s: p.wall_time,
        });
        Ok(run)
    }

    /// Trains to the stop rule (or `stop`), reporting to `obs`; records
    /// nothing.
    pub fn train(&mut self, obs: &mut dyn Observer, stop: &AtomicBool) -> Result<TrainReport> {
        let job = Loop {
            cfg: &self.cfg,
            sets: &self.sets,
            trainer: &mut self.trainer,
            ev: &mut self.evaluator,
        };
        job.run(self.from, obs, stop)
    }

    /// Trains a new run, recording it into a new file `out`.
    pub fn train_recorded(
        &mut self,
        out: &Path,
        overwrite: Overwrite,
        opts: RecordOpts,
        obs: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<TrainReport> {
        let layout = Layout {
            cfg: &self.cfg,
            sets: &self.sets,
            opts: &opts,
            threads: self.evaluator.threads(),
        };
        let rec = Recorder::create(out, overwrite, &layout)?;
        self.drive(rec, obs, stop)
    }

    /// Continues a resumed run in its file `path` (rolled back to the
    /// resume point `p` first).
    pub fn continue_recorded(
        &mut self,
        path: &Path,
        p: &ResumePoint,
        obs: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<TrainReport> {
        let rec = Recorder::reopen(path, p, self.sets.split.train.len())?;
        self.drive(rec, obs, stop)
    }

    /// Trains into `rec`; whatever happens, the file ends with a status.
    /// The first error is returned.
    fn drive(
        &mut self,
        mut rec: Recorder,
        obs: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<TrainReport> {
        let result = self.train(&mut TeeObserver(obs, &mut rec), stop);
        let status = result
            .as_ref()
            .map(|r| r.status)
            .unwrap_or(Status::Interrupted);
        let finished = rec.finish(status);
        let report = result?;
        finished?;
        Ok(report)
    }
}
