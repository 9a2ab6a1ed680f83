//! The training step and loop, top to bottom.
//!
//! A step: gather the batch (on the input columns it uses, when that
//! pays) -> forward -> fused loss + gradient -> backward, which hands
//! each block of the gradient to the optimiser while it is still in
//! cache. On several threads, a step splits its wide layers across
//! them, bit-identical to one thread ([`crate::net::split`]). All
//! buffers (one set per thread) and the thread pool belong to the
//! [`Trainer`] and are made once; a step allocates nothing.
//!
//! The loop: evaluate all three sets (epoch 0), then each epoch shuffle
//! the training set from its own seeded stream, take every batch (the
//! last partial one included, as PyTorch's DataLoader does), evaluate
//! all three sets, and stop on the rule, on divergence or on a signal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::config::{RunConfig, Stop};
use crate::data::split::Split;
use crate::data::{Dataset, Samples};
use crate::error::{Error, Result};
use crate::eval::{Evaluator, SetEval, SetSummary};
use crate::kernels::denormals::FlushDenormals;
use crate::model::{LayerSpan, Shape};
use crate::net::split::Splitting;
use crate::net::{
    backward_parallel, forward_parallel, gather_input, GradSink, InputMode, IntoBuffer,
    PartBuffers, Workspace,
};
use crate::optim::{Optimizer, OptimizerKind, StepUpdate};
use crate::rng::{self, Purpose};
use crate::threads::Threads;

/// One model's parameters, gradients, optimiser state and buffers.
pub struct Trainer {
    /// Architecture.
    pub shape: Shape,
    /// Layer offsets into the buffers.
    pub layers: Vec<LayerSpan>,
    /// All parameters, one buffer.
    pub params: Vec<f32>,
    /// All gradients, same layout: filled by [`Trainer::gradient`]. A
    /// step applies each block of its gradient as soon as it is computed
    /// and does not keep it here.
    pub grads: Vec<f32>,
    /// Optimiser and its state.
    pub opt: Optimizer,
    /// Batch buffers.
    pub ws: Workspace,
    /// Updates taken.
    pub iteration: u64,
    /// How a step cuts its wide layers.
    splitting: Splitting,
    /// The threads the parts run on (`None`: one thread, the caller's).
    pool: Option<rayon::ThreadPool>,
    /// One set of buffers per thread of `pool` (empty without one).
    bufs: Vec<PartBuffers>,
    /// How the first layer's input is laid out (the results are the
    /// same either way; `bench` times the choices).
    input: InputMode,
}

impl Trainer {
    /// A trainer starting from `params`, for batches of up to `batch`,
    /// on one thread.
    pub fn new(shape: Shape, params: Vec<f32>, opt: OptimizerKind, batch: usize) -> Self {
        let n = params.len();
        Trainer {
            layers: shape.layers(),
            ws: Workspace::new(&shape, batch),
            grads: vec![0.0; n],
            opt: Optimizer::new(opt, n),
            params,
            shape,
            iteration: 0,
            splitting: Splitting::ONE,
            pool: None,
            bufs: vec![],
            input: InputMode::Auto,
        }
    }

    /// This trainer with the first layer's input laid out as `mode`
    /// (instead of [`InputMode::Auto`]): bit-identical results, other
    /// speed.
    pub(crate) fn with_input(mut self, mode: InputMode) -> Self {
        self.input = mode;
        self
    }

    /// [`Trainer::new`] on `threads` threads (0 = all cores): each step
    /// splits its wide layers across them (see [`crate::net::split`]),
    /// bit-identical to one thread. The pool and the per-thread buffers
    /// are made here, once.
    pub fn with_threads(
        shape: Shape,
        params: Vec<f32>,
        opt: OptimizerKind,
        batch: usize,
        threads: usize,
    ) -> Result<Self> {
        let mut t = Self::new(shape, params, opt, batch);
        let threads = Threads::from(threads).get();
        if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("preinterp-train-{i}"))
                .build()
                .map_err(|e| {
                    Error::usage(format!(
                        "--threads {threads}: cannot start the thread pool: {e}"
                    ))
                })?;
            t.splitting = Splitting::new(threads);
            t.pool = Some(pool);
            t.bufs = (0..threads).map(|_| PartBuffers::new(&shape)).collect();
        }
        Ok(t)
    }

    /// This trainer, cutting products of at least `cut` multiply-adds
    /// into parts of at least `part` (instead of
    /// [`crate::net::split::default_min_macs`]; to test the cuts on small
    /// models).
    #[cfg(test)]
    pub(crate) fn with_min_macs(mut self, cut: usize, part: usize) -> Self {
        self.splitting.min_cut_macs = cut;
        self.splitting.min_part_macs = part.max(1);
        self
    }

    /// Threads a step may use.
    pub fn threads(&self) -> usize {
        self.splitting.threads
    }

    /// One update on samples `batch` of `src`; returns the batch's mean
    /// loss before the update (NaN or inf if the model diverged).
    pub fn step(&mut self, src: &Samples, batch: &[u32]) -> f32 {
        let rows = batch.len();
        debug_assert!(rows > 0 && rows <= self.ws.rows);
        let loss = self.pass(src, batch, Sink::Update);
        self.iteration += 1;
        loss
    }

    /// The gradient of the mean loss over samples `batch` of `src` into
    /// [`Trainer::grads`], without an update; returns the mean loss.
    /// (What [`Trainer::step`] applies, computed the same way.)
    pub fn gradient(&mut self, src: &Samples, batch: &[u32]) -> f32 {
        self.pass(src, batch, Sink::Gradient)
    }

    /// Forward and backward on samples `batch` of `src`, the gradient to
    /// `sink`; returns the mean loss. Gathers the batch on the caller's
    /// thread, then runs the passes in the pool when some layer is wide
    /// enough to cut, else on the caller's thread too.
    fn pass(&mut self, src: &Samples, batch: &[u32], sink: Sink) -> f32 {
        let rows = batch.len();
        let Trainer {
            layers,
            params,
            grads,
            opt,
            ws,
            splitting,
            pool,
            bufs,
            input,
            ..
        } = self;
        let splitting = *splitting;
        // Subnormals flushed for this pass only (see kernels::denormals);
        // each part on another thread flushes its own.
        let _flush = FlushDenormals::on();
        gather_input(src, batch, ws, *input, false);
        let cut = splitting.may_split(layers, rows, ws.x_cols());
        let mut work = || {
            let _flush = FlushDenormals::on(); // on the pool's thread
            forward_parallel(layers, params, ws, rows, splitting);
            match sink {
                Sink::Update => {
                    let mut update = opt.begin_update();
                    backward_parallel(layers, params, ws, rows, &mut update, splitting, bufs);
                }
                Sink::Gradient => {
                    let mut into = IntoBuffer::new(grads);
                    backward_parallel(layers, params, ws, rows, &mut into, splitting, bufs);
                }
            }
        };
        match pool {
            Some(pool) if cut => pool.install(work),
            _ => work(),
        }
        self.mean_loss(rows)
    }

    fn mean_loss(&self, rows: usize) -> f32 {
        let sum: f64 = self.ws.loss[..rows].iter().map(|&x| x as f64).sum();
        (sum / rows as f64) as f32
    }
}

/// Where a pass's gradient goes.
#[derive(Clone, Copy)]
enum Sink {
    /// Into the optimiser, block by block ([`Trainer::step`]).
    Update,
    /// Into [`Trainer::grads`] ([`Trainer::gradient`]).
    Gradient,
}

/// The optimiser as a [`GradSink`]: each block is updated as it comes.
impl GradSink for StepUpdate<'_> {
    fn take(&mut self, at: usize, params: &mut [f32], grad: &[f32]) {
        self.apply(at, params, grad);
    }

    fn split_off(&mut self, at: usize) -> Self {
        StepUpdate::split_off(self, at)
    }
}

/// The three sets of a run: indices into the pool (train, validation)
/// and into the test set (evaluation).
pub struct Sets<'a> {
    /// The dataset.
    pub data: &'a Dataset,
    /// Train/validation split of the pool.
    pub split: Split,
    /// Evaluation indices (the whole test set).
    pub eval: Vec<u32>,
}

impl<'a> Sets<'a> {
    /// Draws the split of `cfg` from `data`.
    pub fn new(data: &'a Dataset, cfg: &RunConfig) -> Result<Self> {
        let split = crate::data::split::split(
            data.pool.len(),
            cfg.train_size,
            cfg.val_size,
            cfg.split_seed(),
        )?;
        Ok(Sets {
            data,
            split,
            eval: (0..data.test.len() as u32).collect(),
        })
    }
}

/// Mean loss and accuracy of the three sets after an epoch.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EpochMetrics {
    /// Epoch (0 = before training).
    pub epoch: usize,
    /// Updates so far.
    pub iteration: u64,
    /// Seconds since training started.
    pub wall_s: f64,
    /// Training set.
    pub train: SetSummary,
    /// Validation set.
    pub val: SetSummary,
    /// Evaluation (test) set.
    pub eval: SetSummary,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ran to its stop rule.
    Complete,
    /// A loss became NaN or infinite.
    Diverged,
    /// Stopped by SIGINT/SIGTERM.
    Interrupted,
}

/// What a run produced.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// How it ended.
    pub status: Status,
    /// The first epoch with 100% training accuracy.
    pub interpolation_epoch: Option<usize>,
    /// The iteration where divergence was seen.
    pub diverged_at_iteration: Option<u64>,
    /// Per-epoch metrics, epoch 0 first.
    pub epochs: Vec<EpochMetrics>,
}

/// Watches a run (progress display, recording).
pub trait Observer {
    /// Whether iteration `it` (updates so far, asked once per update and
    /// for 0 before training) is a checkpoint: then all three sets are
    /// evaluated and [`Observer::checkpoint`] is called.
    fn wants_checkpoint(&mut self, _it: u64) -> bool {
        false
    }
    /// At a checkpoint, with fresh per-sample results.
    fn checkpoint(&mut self, _it: u64, _sets: &PerSample, _t: &Trainer) -> Result<()> {
        Ok(())
    }
    /// After each epoch's evaluation (and after epoch 0).
    fn epoch_end(&mut self, _m: &EpochMetrics, _sets: &PerSample, _t: &Trainer) -> Result<()> {
        Ok(())
    }
    /// Whether [`PerSample`]'s validation and evaluation sets keep their
    /// logits and labels (for calibration), asked once before training.
    fn wants_logits(&self) -> bool {
        false
    }
}

/// Two observers as one (a tee): both see every event.
pub(crate) struct TeeObserver<'a>(pub &'a mut dyn Observer, pub &'a mut dyn Observer);

impl Observer for TeeObserver<'_> {
    fn wants_checkpoint(&mut self, it: u64) -> bool {
        // Both are asked (each tracks its own schedule).
        let a = self.0.wants_checkpoint(it);
        let b = self.1.wants_checkpoint(it);
        a || b
    }
    fn checkpoint(&mut self, it: u64, sets: &PerSample, t: &Trainer) -> Result<()> {
        self.0.checkpoint(it, sets, t)?;
        self.1.checkpoint(it, sets, t)
    }
    fn epoch_end(&mut self, m: &EpochMetrics, sets: &PerSample, t: &Trainer) -> Result<()> {
        self.0.epoch_end(m, sets, t)?;
        self.1.epoch_end(m, sets, t)
    }
    fn wants_logits(&self) -> bool {
        self.0.wants_logits() || self.1.wants_logits()
    }
}

/// No-op observer.
impl Observer for () {}

/// Per-sample results of the three sets at the current epoch.
pub struct PerSample {
    /// Training set.
    pub train: SetEval,
    /// Validation set.
    pub val: SetEval,
    /// Evaluation set.
    pub eval: SetEval,
}

impl PerSample {
    /// Buffers for the per-sample results of `sets`, allocated once;
    /// the validation and evaluation sets keep their logits if `logits`.
    fn for_sets(sets: &Sets<'_>, logits: bool) -> PerSample {
        let kept = if logits {
            SetEval::with_logits
        } else {
            SetEval::with_len
        };
        PerSample {
            train: SetEval::with_len(sets.split.train.len()),
            val: kept(sets.split.val.len()),
            eval: kept(sets.eval.len()),
        }
    }
}

/// Evaluates the three sets into `out` and returns their summaries.
fn evaluate_all(
    ev: &mut Evaluator,
    t: &Trainer,
    sets: &Sets<'_>,
    out: &mut PerSample,
) -> [SetSummary; 3] {
    let d = sets.data;
    ev.evaluate(&t.params, &d.pool, &sets.split.train, &mut out.train);
    ev.evaluate(&t.params, &d.pool, &sets.split.val, &mut out.val);
    ev.evaluate(&t.params, &d.test, &sets.eval, &mut out.eval);
    [out.train.summary(), out.val.summary(), out.eval.summary()]
}

/// Where a resumed run starts: after epoch `epoch`, whose state the
/// trainer already holds, `wall_s` seconds into the run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resume {
    /// The last complete epoch.
    pub epoch: usize,
    /// Wall time recorded at its end.
    pub wall_s: f64,
}

/// What a training loop works on: the run's settings and sets, and the
/// model's trainer and evaluator.
pub(crate) struct Loop<'a> {
    /// The run's settings (batch size, stop rule, seed).
    pub cfg: &'a RunConfig,
    /// The three sets.
    pub sets: &'a Sets<'a>,
    /// Parameters, optimiser and batch buffers.
    pub trainer: &'a mut Trainer,
    /// Per-sample evaluation.
    pub ev: &'a mut Evaluator,
}

impl Loop<'_> {
    /// Trains to the stop rule, reporting to `obs` and checking `stop`
    /// after every step; from the start, or as the continuation after
    /// `resume`: the epochs before it (and their checkpoints) are neither
    /// run nor reported again. Each epoch's shuffle comes from its own
    /// seeded stream, so a resumed run computes exactly what the
    /// uninterrupted run would have.
    pub fn run(
        self,
        resume: Option<Resume>,
        obs: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<TrainReport> {
        let Loop {
            cfg,
            sets,
            trainer,
            ev,
        } = self;
        let start = Instant::now();
        let (first_epoch, wall0) = match resume {
            Some(r) => (r.epoch + 1, r.wall_s),
            None => (0, 0.0),
        };
        let mut per = PerSample::for_sets(sets, obs.wants_logits());
        let mut report = TrainReport {
            status: Status::Complete,
            interpolation_epoch: None,
            diverged_at_iteration: None,
            epochs: vec![],
        };
        let mut order = sets.split.train.clone();
        let max_epochs = cfg.stop.max_epochs();
        let pool = &sets.data.pool;
        if resume.is_none() && obs.wants_checkpoint(trainer.iteration) {
            evaluate_all(ev, trainer, sets, &mut per);
            obs.checkpoint(trainer.iteration, &per, trainer)?;
        }
        for epoch in first_epoch..=max_epochs {
            if epoch > 0 {
                order.copy_from_slice(&sets.split.train);
                rng::stream(cfg.seed, Purpose::Shuffle, epoch as u64).shuffle(&mut order);
                for batch in order.chunks(cfg.batch_size) {
                    let loss = trainer.step(pool, batch);
                    if !loss.is_finite() {
                        report.status = Status::Diverged;
                        report.diverged_at_iteration = Some(trainer.iteration);
                        break;
                    }
                    if obs.wants_checkpoint(trainer.iteration) {
                        evaluate_all(ev, trainer, sets, &mut per);
                        obs.checkpoint(trainer.iteration, &per, trainer)?;
                    }
                    if stop.load(Ordering::Relaxed) {
                        report.status = Status::Interrupted;
                        break;
                    }
                }
            }
            if report.status != Status::Complete {
                // A partial epoch is not an epoch: nothing is recorded for it.
                break;
            }
            let [train, val, eval] = evaluate_all(ev, trainer, sets, &mut per);
            let m = EpochMetrics {
                epoch,
                iteration: trainer.iteration,
                wall_s: wall0 + start.elapsed().as_secs_f64(),
                train,
                val,
                eval,
            };
            if report.interpolation_epoch.is_none() && train.acc == 1.0 {
                report.interpolation_epoch = Some(epoch);
            }
            report.epochs.push(m);
            obs.epoch_end(&m, &per, trainer)?;
            if matches!(cfg.stop, Stop::UntilInterpolation { .. })
                && report.interpolation_epoch.is_some()
            {
                break;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::synthetic;
    use crate::config::adam_default;
    use crate::model::{init_params, INPUTS};

    /// Adam, and SGD with and without momentum.
    fn every_optimizer() -> [OptimizerKind; 3] {
        [
            adam_default(1e-3),
            OptimizerKind::Sgd {
                lr: 0.05,
                momentum: 0.9,
            },
            OptimizerKind::Sgd {
                lr: 0.05,
                momentum: 0.0,
            },
        ]
    }

    /// The fused step (optimiser inside backward) is exactly the gradient
    /// followed by a whole-buffer update, bit for bit, for every
    /// optimiser, on a wide model whose layers take several blocks.
    #[test]
    fn fused_step_is_gradient_then_update_bit_for_bit() {
        let shape = Shape::new(2, 300).unwrap();
        let data = synthetic(64, 5);
        let kinds = every_optimizer();
        for kind in kinds {
            let init = init_params(&shape, 1);
            let mut fused = Trainer::new(shape, init.clone(), kind, 32);
            let mut plain = Trainer::new(shape, init, kind, 32);
            for b in (0..64u32).collect::<Vec<_>>().chunks(32).cycle().take(4) {
                let a = fused.step(&data, b);
                let g = plain.gradient(&data, b);
                let Trainer {
                    opt, params, grads, ..
                } = &mut plain;
                opt.update(params, grads);
                assert_eq!(a.to_bits(), g.to_bits());
            }
            assert_eq!(fused.params, plain.params, "{kind:?}");
            assert_eq!(fused.opt.m, plain.opt.m);
            assert_eq!(fused.opt.v, plain.opt.v);
        }
        assert!(grad_block_rows_used(&shape));
    }

    /// `n` images: `blob` ones like MNIST's (a patch in the middle, most
    /// columns unused, so batches take the compacted first layer), else
    /// half their pixels lit anywhere (every column used: dense).
    fn images(n: usize, blob: bool) -> Samples {
        let mut r = rng::stream(7, Purpose::Init, n as u64);
        let mut pixels = vec![0u8; n * INPUTS];
        for img in pixels.chunks_exact_mut(INPUTS) {
            for (k, p) in img.iter_mut().enumerate() {
                let (row, col) = (k / 28, k % 28);
                let lit = if blob {
                    (5..23).contains(&row) && (7..21).contains(&col) && r.unit_f32() < 0.6
                } else {
                    r.unit_f32() < 0.5
                };
                if lit {
                    *p = 1 + r.below(255) as u8;
                }
            }
        }
        let labels = (0..n).map(|_| r.below(10) as u8).collect();
        Samples { pixels, labels }
    }

    /// Everything a step leaves behind, as bits.
    fn state(t: &Trainer) -> [Vec<u32>; 3] {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect();
        [bits(&t.params), bits(&t.opt.m), bits(&t.opt.v)]
    }

    /// Steps on 2 and 3 threads, and on 16 with the layers cut as finely
    /// as faer allows, give bit for bit the losses, parameters, optimiser
    /// state and gradients of one thread: Adam, SGD with and without
    /// momentum, dense and compacted first layers, on models whose every
    /// layer but the output is cut (2x300 at batch 128, 3x1000 at batch
    /// 10), with partial batches of 3 rows and of 1.
    #[test]
    fn steps_on_several_threads_are_bit_identical_to_one() {
        let kinds = every_optimizer();
        for (depth, width, batch) in [(2, 300, 128), (3, 1000, 10)] {
            let shape = Shape::new(depth, width).unwrap();
            assert_cuts_everything(&shape, batch);
            // Two full batches, one of 3 rows, then one of 1.
            let n = 2 * batch + 4;
            let order: Vec<u32> = (0..n as u32).rev().collect();
            let batches: Vec<&[u32]> = vec![
                &order[..batch],
                &order[batch..2 * batch],
                &order[2 * batch..n - 1],
                &order[n - 1..],
            ];
            for blob in [false, true] {
                let data = images(n, blob);
                // Both first-layer paths, whatever the per-batch choice.
                let mode = if blob {
                    InputMode::Compact
                } else {
                    InputMode::Dense
                };
                for kind in kinds {
                    let init = init_params(&shape, 2);
                    let threads = |n| {
                        Trainer::with_threads(shape, init.clone(), kind, batch, n)
                            .unwrap()
                            .with_input(mode)
                    };
                    let mut one = Trainer::new(shape, init.clone(), kind, batch).with_input(mode);
                    let mut many = [threads(2), threads(3), threads(16).with_min_macs(1, 1)];
                    let what = format!("{depth}x{width} blob {blob} {kind:?}");
                    for b in &batches {
                        let want = one.step(&data, b).to_bits();
                        assert_eq!(one.ws.compact, blob, "{what}: first-layer path");
                        for t in &mut many {
                            let got = t.step(&data, b).to_bits();
                            assert_eq!(got, want, "{what}: loss on {} threads", t.threads());
                        }
                    }
                    one.gradient(&data, batches[0]);
                    for t in &mut many {
                        let what = format!("{what} on {} threads", t.threads());
                        assert!(state(t) == state(&one), "{what}: parameters or state");
                        assert_eq!(t.opt.step, one.opt.step);
                        t.gradient(&data, batches[0]);
                        assert!(t.grads == one.grads, "{what}: gradient");
                    }
                }
            }
        }
    }

    /// On 2 threads, every layer of `shape` but the output one is cut at
    /// `rows` rows, both passes (so the test above tests every cut).
    fn assert_cuts_everything(shape: &Shape, rows: usize) {
        let two = Splitting::new(2);
        let layers = shape.layers();
        let (first, hidden) = (&layers[0], &layers[1..shape.depth]);
        assert!(two.first_forward_parts(rows, first.fan_out, None) > 1);
        assert!(two.first_backward_parts(rows, first.fan_out, INPUTS) > 1);
        for l in hidden {
            assert!(two.col_parts(rows, l.fan_out, l.fan_in, rows * l.fan_in * l.fan_out) > 1);
            let plan = crate::net::split::BackwardPlan::new(&two, rows, l);
            assert!(plan.cols > 1 && plan.rows > 1, "{plan:?}");
        }
    }

    /// The test above covers several gradient blocks per layer.
    fn grad_block_rows_used(shape: &Shape) -> bool {
        shape
            .layers()
            .iter()
            .any(|l| crate::net::grad_block_rows(l.fan_in, l.fan_out) < l.fan_out)
    }
}
