//! Per-sample evaluation of a whole set on all cores.
//!
//! The set is cut into fixed blocks of [`EVAL_BLOCK`] samples (aligned
//! at sample 0, whatever the thread count); each worker takes a
//! contiguous run of blocks with its own preallocated [`Workspace`] and
//! faer `Par::Seq` inside. Every sample's loss therefore comes out of
//! the same arithmetic on any number of threads, and the means are
//! summed afterwards in sample order.

use rayon::prelude::*;

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::kernels::pixel_sparse::PackedFirst;
use crate::model::{LayerSpan, Shape, CLASSES};
use crate::net::{forward_eval, gather_input, loss_forward, InputMode, Workspace};
use crate::threads::Threads;

/// Logical cores (kept here for callers; see [`crate::threads`]).
pub use crate::threads::num_cpus;

/// Samples per evaluation block: two 96-row panels of faer's AVX-512
/// micro-kernel, so no remainder kernel runs (measured about 4% faster
/// than 256 for 3x100; results do not depend on it).
pub const EVAL_BLOCK: usize = 192;

/// Per-sample results of one set, preallocated once and refilled.
#[derive(Clone, Debug, Default)]
pub struct SetEval {
    /// Per-sample loss.
    pub loss: Vec<f32>,
    /// Per-sample predicted class.
    pub pred: Vec<u8>,
    /// Per-sample correctness (1 or 0).
    pub correct: Vec<u8>,
    /// Per-sample logit margin `z_y - max_{j != y} z_j` (positive when
    /// correct, up to ties).
    pub margin: Vec<f32>,
    /// The logits `z + b` (`n x CLASSES`, row-major), held until the next
    /// evaluation for calibration; empty (and not filled) unless made by
    /// [`SetEval::with_logits`].
    pub logits: Vec<f32>,
    /// The true classes, filled beside `logits`.
    pub label: Vec<u8>,
}

impl SetEval {
    /// Buffers for `n` samples.
    pub fn with_len(n: usize) -> Self {
        SetEval {
            loss: vec![0.0; n],
            pred: vec![0; n],
            correct: vec![0; n],
            margin: vec![0.0; n],
            logits: vec![],
            label: vec![],
        }
    }
    /// [`SetEval::with_len`] that also keeps each evaluation's logits and
    /// labels (`n x CLASSES` floats) for [`crate::stats::Calibrator`].
    pub fn with_logits(n: usize) -> Self {
        SetEval {
            logits: vec![0.0; n * CLASSES],
            label: vec![0; n],
            ..Self::with_len(n)
        }
    }
    /// The mean loss and accuracy, summed in sample order (f64); NaN for
    /// an empty set (`--val-size 0`).
    pub fn summary(&self) -> SetSummary {
        let n = self.loss.len() as f64;
        let loss = self.loss.iter().map(|&x| x as f64).sum::<f64>() / n;
        let acc = self.correct.iter().map(|&c| c as u64).sum::<u64>() as f64 / n;
        SetSummary { loss, acc }
    }
}

/// Mean loss and accuracy of a set.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SetSummary {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction classified correctly.
    pub acc: f64,
}

/// Evaluates sets of samples with one workspace per thread.
pub struct Evaluator {
    pool: rayon::ThreadPool,
    workspaces: Vec<Workspace>,
    layers: Vec<LayerSpan>,
    block: usize,
    input: InputMode,
    /// The first layer's weights as the sparse first layer reads them,
    /// packed once per [`Evaluator::evaluate`].
    packed: PackedFirst,
}

impl Evaluator {
    /// An evaluator for `shape` on `threads` threads (0 = all cores).
    pub fn new(shape: &Shape, threads: usize) -> Result<Self> {
        Self::with_block(shape, threads, EVAL_BLOCK)
    }

    /// [`Evaluator::new`] with blocks of `block` samples instead of
    /// [`EVAL_BLOCK`] (the results are the same; tests check it).
    pub fn with_block(shape: &Shape, threads: usize, block: usize) -> Result<Self> {
        let block = block.max(1);
        let threads = Threads::from(threads).get();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("preinterp-eval-{i}"))
            .build()
            .map_err(|e| {
                Error::usage(format!(
                    "--threads {threads}: cannot start the thread pool: {e}"
                ))
            })?;
        let workspaces = (0..threads)
            .map(|_| Workspace::for_eval(shape, block))
            .collect();
        Ok(Evaluator {
            pool,
            workspaces,
            packed: PackedFirst::new(shape.width),
            layers: shape.layers(),
            block,
            input: InputMode::Auto,
        })
    }

    /// This evaluator with the first layer's input laid out as `mode`
    /// (instead of [`InputMode::Auto`]): the same results, other speed.
    pub(crate) fn with_input(mut self, mode: InputMode) -> Self {
        self.input = mode;
        self
    }

    /// Threads in use.
    pub fn threads(&self) -> usize {
        self.workspaces.len()
    }

    /// Evaluates samples `idx` of `src` under `params` into `out`
    /// (whose buffers must be `idx.len()` long).
    pub fn evaluate(&mut self, params: &[f32], src: &Samples, idx: &[u32], out: &mut SetEval) {
        let n = idx.len();
        assert_eq!(out.loss.len(), n, "SetEval sized for another set");
        if n == 0 {
            return;
        }
        let block = self.block;
        let blocks = n.div_ceil(block);
        let per_worker = blocks.div_ceil(self.workspaces.len()) * block;
        let (layers, input) = (&self.layers, self.input);
        // The first layer's weights packed once for every block.
        let first = &layers[0];
        let sparse_ok = matches!(input, InputMode::Auto | InputMode::Sparse)
            && self.packed.pack(&params[first.w_range()], first.fan_out);
        let packed = sparse_ok.then_some(&self.packed);
        let keep = !out.logits.is_empty();
        assert!(!keep || out.logits.len() == n * CLASSES && out.label.len() == n);
        let run = |mut share: Share<'_>, idx: &[u32], ws: &mut Workspace| {
            for (k, ix) in idx.chunks(block).enumerate() {
                let at = k * block;
                let (margin, logits) = share.block(at, ix.len(), keep);
                eval_block(
                    layers,
                    (params, packed),
                    (src, ix, input),
                    ws,
                    margin,
                    logits,
                );
                share.store(at, ix.len(), ws, keep);
            }
        };
        if let [ws] = &mut self.workspaces[..] {
            // One thread: on the caller's, without entering the pool.
            run(Share::whole(out), idx, ws);
            return;
        }
        let workers = self.workspaces.len();
        let workspaces = &mut self.workspaces;
        let SetEval {
            loss,
            pred,
            correct,
            margin,
            logits,
            label,
        } = out;
        self.pool.install(|| {
            loss.par_chunks_mut(per_worker)
                .zip(pred.par_chunks_mut(per_worker))
                .zip(correct.par_chunks_mut(per_worker))
                .zip(margin.par_chunks_mut(per_worker))
                .zip(chunks_or_none(logits, per_worker * CLASSES, workers))
                .zip(chunks_or_none(label, per_worker, workers))
                .map(
                    |(((((loss, pred), correct), margin), logits), label)| Share {
                        loss,
                        pred,
                        correct,
                        margin,
                        logits,
                        label,
                    },
                )
                .zip(idx.par_chunks(per_worker))
                .zip(workspaces.par_iter_mut())
                .for_each(|((share, idx), ws)| run(share, idx, ws));
        });
    }
}

/// One worker's share of a [`SetEval`]'s buffers (`logits` and `label`
/// empty when not kept).
struct Share<'a> {
    loss: &'a mut [f32],
    pred: &'a mut [u8],
    correct: &'a mut [u8],
    margin: &'a mut [f32],
    logits: &'a mut [f32],
    label: &'a mut [u8],
}

impl<'a> Share<'a> {
    /// The margins and (if kept, else empty) logits of rows `at..at + rows`.
    fn block(&mut self, at: usize, rows: usize, keep: bool) -> (&mut [f32], &mut [f32]) {
        let logits = match keep {
            true => &mut self.logits[at * CLASSES..(at + rows) * CLASSES],
            false => &mut [][..],
        };
        (&mut self.margin[at..at + rows], logits)
    }

    /// Copies a block's losses, predictions, correctness (and labels,
    /// if kept) from `ws` into rows `at..at + rows`.
    fn store(&mut self, at: usize, rows: usize, ws: &Workspace, keep: bool) {
        let r = at..at + rows;
        self.loss[r.clone()].copy_from_slice(&ws.loss[..rows]);
        self.pred[r.clone()].copy_from_slice(&ws.pred[..rows]);
        if keep {
            self.label[r.clone()].copy_from_slice(&ws.labels[..rows]);
        }
        for ((c, &p), &y) in self.correct[r]
            .iter_mut()
            .zip(&ws.pred[..rows])
            .zip(&ws.labels[..rows])
        {
            *c = (p == y) as u8;
        }
    }

    /// All of `e`.
    fn whole(e: &'a mut SetEval) -> Self {
        Share {
            loss: &mut e.loss,
            pred: &mut e.pred,
            correct: &mut e.correct,
            margin: &mut e.margin,
            logits: &mut e.logits,
            label: &mut e.label,
        }
    }
}

/// `v` in chunks of `size`, or `workers` empty slices when `v` is empty
/// (a buffer that is not kept).
fn chunks_or_none<T: Send>(
    v: &mut [T],
    size: usize,
    workers: usize,
) -> impl IndexedParallelIterator<Item = &mut [T]> {
    if v.is_empty() {
        rayon::iter::Either::Right((0..workers).into_par_iter().map(|_| <&mut [T]>::default()))
    } else {
        rayon::iter::Either::Left(v.par_chunks_mut(size))
    }
}

/// Loss and prediction of samples `ix` of `src` (the first layer's
/// input laid out as `input`) into `ws.loss` and `ws.pred`, their
/// logit margins into `margin` and, unless it is empty, their logits
/// into `logits`.
fn eval_block(
    layers: &[LayerSpan],
    (params, packed): (&[f32], Option<&PackedFirst>),
    (src, ix, input): (&Samples, &[u32], InputMode),
    ws: &mut Workspace,
    margin: &mut [f32],
    logits: &mut [f32],
) {
    let rows = ix.len();
    gather_input(src, ix, ws, input, packed.is_some());
    forward_eval(layers, params, ws, rows, packed);
    let out = layers.last().expect("at least one layer");
    margins(
        &ws.logits[..rows * CLASSES],
        &params[out.b_range()],
        &ws.labels[..rows],
        margin,
        logits,
    );
    loss_forward(layers, params, ws, rows);
}

/// Each row's logit margin `(z_y + b_y) - max_{j != y} (z_j + b_j)`, from
/// the output layer's product `z (B x C)` before its bias `b` is added
/// (the same f32 sums the loss kernel forms); the sums themselves go to
/// `logits` unless it is empty.
fn margins(z: &[f32], b: &[f32], labels: &[u8], out: &mut [f32], logits: &mut [f32]) {
    let c = b.len();
    for (i, ((row, &y), m)) in z.chunks_exact(c).zip(labels).zip(out).enumerate() {
        let y = y as usize;
        let mut other = f32::NEG_INFINITY;
        for (j, (&zj, &bj)) in row.iter().zip(b).enumerate() {
            if j != y {
                other = other.max(zj + bj);
            }
        }
        *m = (row[y] + b[y]) - other;
        if let Some(dst) = logits.get_mut(i * c..(i + 1) * c) {
            for ((d, &zj), &bj) in dst.iter_mut().zip(row).zip(b) {
                *d = zj + bj;
            }
        }
    }
}
