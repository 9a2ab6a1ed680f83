//! The timed workloads: training epochs, per-sample evaluation, the
//! monitored epoch and fig3's heaviest run, each repeated to give a
//! median and a spread.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::data::{cycle, BenchData};
use crate::config::adam_default;
use crate::error::Result;
use crate::eval::{Evaluator, SetEval};
use crate::kernels::sparse_input::ActiveCols;
use crate::model::{init_params, Shape, CLASSES};
use crate::net::{compact_max_cols, forward, gather_input, InputMode, Workspace};
use crate::optim::Optimizer;
use crate::train::Trainer;

/// Repeated timings of one workload, in milliseconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stat {
    /// Median.
    pub median: f64,
    /// Fastest.
    pub min: f64,
    /// Slowest.
    pub max: f64,
    /// Every timed repeat, in order.
    pub runs: Vec<f64>,
}

impl Stat {
    /// The statistics of `runs` (ms).
    pub fn of(runs: Vec<f64>) -> Self {
        let mut s = runs.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => s[n / 2],
            _ => 0.5 * (s[n / 2 - 1] + s[n / 2]),
        };
        Stat {
            median,
            min: s.first().copied().unwrap_or(f64::NAN),
            max: s.last().copied().unwrap_or(f64::NAN),
            runs,
        }
    }

    /// The spread as `+-` percent of the median: half of max - min.
    pub fn spread_pct(&self) -> f64 {
        50.0 * (self.max - self.min) / self.median
    }
}

/// How a measurement is taken: repeats, and (for tests of `--compare`
/// only) an injected slowdown.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Timed repeats (after one warm-up).
    pub repeats: usize,
    /// Percent added to every timed repeat by sleeping (0 = none).
    pub slowdown_pct: f64,
}

impl Timing {
    /// Runs `f` once to warm up, then `repeats` times, timing each.
    pub fn measure(&self, mut f: impl FnMut()) -> Stat {
        f();
        let runs = (0..self.repeats.max(1))
            .map(|_| self.once(&mut f))
            .collect();
        Stat::of(runs)
    }

    /// One timed run of `f`, ms (with the injected slowdown, if any).
    fn once(&self, f: &mut dyn FnMut()) -> f64 {
        let start = Instant::now();
        f();
        let mut s = start.elapsed().as_secs_f64();
        if self.slowdown_pct > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(s * self.slowdown_pct / 100.0));
            s = start.elapsed().as_secs_f64();
        }
        s * 1e3
    }

    /// [`Timing::measure`] for several workloads, interleaved: one
    /// warm-up each, then `repeats` rounds timing each once (every other
    /// round in reverse order), so that the machine's drifts and the
    /// order's cache effects fall on all alike (side by side).
    pub(crate) fn measure_side_by_side<const K: usize>(
        &self,
        fs: &mut [&mut dyn FnMut(); K],
    ) -> [Stat; K] {
        fs.iter_mut().for_each(|f| f());
        let mut runs: [Vec<f64>; K] = std::array::from_fn(|_| vec![]);
        for round in 0..self.repeats.max(1) {
            let mut order: Vec<(&mut &mut dyn FnMut(), &mut Vec<f64>)> =
                fs.iter_mut().zip(runs.iter_mut()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for (f, r) in order {
                r.push(self.once(*f));
            }
        }
        runs.map(Stat::of)
    }
}

/// One training epoch's timing and what it ran on.
pub(crate) struct TrainRun {
    /// ms per epoch.
    pub ms: Stat,
    /// Samples per epoch.
    pub samples: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Non-zero pixels over the epoch.
    pub nonzeros: usize,
    /// Fraction of batches whose first layer ran compacted.
    pub compact_batches: f64,
    /// Mean fraction of input columns a batch used.
    pub used_cols: f64,
}

/// Times epochs of `n` training samples (cycled if the pool is smaller)
/// of `shape` at batch `batch`, Adam, one thread.
pub(crate) fn train_epochs(
    d: &BenchData,
    shape: Shape,
    batch: usize,
    n: usize,
    t: &Timing,
) -> TrainRun {
    let order = cycle(d.train.len(), n);
    let mut tr = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), batch);
    let ms = t.measure(|| {
        for b in order.chunks(batch) {
            tr.step(&d.train, b);
        }
    });
    let mut cols = ActiveCols::new();
    let (mut compact, mut used, mut steps) = (0, 0, 0);
    for b in order.chunks(batch) {
        cols.find(&d.train, b);
        compact += (cols.width() <= compact_max_cols(b.len(), shape.width)) as usize;
        used += cols.width();
        steps += 1;
    }
    TrainRun {
        ms,
        samples: n,
        steps,
        nonzeros: super::data::nonzeros(&d.train, &order),
        compact_batches: compact as f64 / steps as f64,
        used_cols: used as f64 / (steps * crate::model::INPUTS) as f64,
    }
}

/// Training epochs as in [`train_epochs`], with the first layer's input
/// always dense and as chosen per batch ([`InputMode::Auto`]), timed
/// side by side: `[dense, auto]`.
pub(crate) fn train_sparse_pair(
    d: &BenchData,
    shape: Shape,
    batch: usize,
    n: usize,
    t: &Timing,
) -> [Stat; 2] {
    let order = cycle(d.train.len(), n);
    let trainer = |mode| {
        Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), batch).with_input(mode)
    };
    let (mut dense, mut auto) = (trainer(InputMode::Dense), trainer(InputMode::Auto));
    let mut run_dense = || {
        for c in order.chunks(batch) {
            dense.step(&d.train, c);
        }
    };
    let mut run_auto = || {
        for c in order.chunks(batch) {
            auto.step(&d.train, c);
        }
    };
    t.measure_side_by_side(&mut [&mut run_dense, &mut run_auto])
}

/// Evaluation as in [`eval_pass`] (one thread), dense and as chosen per
/// block, side by side: `[dense, auto]`.
pub(crate) fn eval_sparse_pair(
    d: &BenchData,
    shape: Shape,
    n: usize,
    t: &Timing,
) -> Result<[Stat; 2]> {
    let idx = cycle(d.test.len(), n);
    let params = init_params(&shape, 0);
    let mut dense = Evaluator::new(&shape, 1)?.with_input(InputMode::Dense);
    let mut auto = Evaluator::new(&shape, 1)?;
    let (mut out_d, mut out_a) = (SetEval::with_len(n), SetEval::with_len(n));
    let mut run_dense = || dense.evaluate(&params, &d.test, &idx, &mut out_d);
    let mut run_auto = || auto.evaluate(&params, &d.test, &idx, &mut out_a);
    Ok(t.measure_side_by_side(&mut [&mut run_dense, &mut run_auto]))
}

/// Where a training epoch's time goes, from timings of its nested
/// prefixes side by side (each phase = one prefix minus the one before):
/// gathering the batches, then also the forward pass, then also the
/// backward pass into a gradient buffer (no update), then the whole
/// step with Adam fused into the backward pass; and, apart, Adam alone
/// over the whole parameter buffer once per step.
pub struct Breakdown {
    /// Gathering the batches' inputs and labels, ms.
    pub gather: Stat,
    /// Gather + forward, ms.
    pub forward: Stat,
    /// Gather + forward + backward (gradient kept), ms.
    pub gradient: Stat,
    /// The whole training step (Adam fused), ms.
    pub step: Stat,
    /// Adam alone, once per step over all parameters, ms.
    pub adam: Stat,
    /// Steps per epoch.
    pub steps: usize,
}

/// Times the phases of [`train_epochs`]'s epoch (see [`Breakdown`]).
pub fn breakdown(d: &BenchData, shape: Shape, batch: usize, n: usize, t: &Timing) -> Breakdown {
    let order = cycle(d.train.len(), n);
    let params = init_params(&shape, 0);
    let layers = shape.layers();
    let mut ws = Workspace::new(&shape, batch);
    let mut run_gather = || {
        for b in order.chunks(batch) {
            gather_input(&d.train, b, &mut ws, InputMode::Auto, false);
        }
    };
    let mut ws2 = Workspace::new(&shape, batch);
    let mut run_forward = || {
        for b in order.chunks(batch) {
            gather_input(&d.train, b, &mut ws2, InputMode::Auto, false);
            forward(&layers, &params, &mut ws2, b.len());
            std::hint::black_box(&ws2.logits);
        }
    };
    let mut grad = Trainer::new(shape, params.clone(), adam_default(1e-3), batch);
    let mut run_gradient = || {
        for b in order.chunks(batch) {
            grad.gradient(&d.train, b);
        }
    };
    let mut step = Trainer::new(shape, params.clone(), adam_default(1e-3), batch);
    let mut run_step = || {
        for b in order.chunks(batch) {
            step.step(&d.train, b);
        }
    };
    let (mut p, g) = (params.clone(), vec![1e-3f32; params.len()]);
    let mut opt = Optimizer::new(adam_default(1e-3), p.len());
    let steps = order.chunks(batch).count();
    let mut run_adam = || {
        for _ in 0..steps {
            opt.update(&mut p, &g);
        }
    };
    let [gather, forward, gradient, step, adam] = t.measure_side_by_side(&mut [
        &mut run_gather,
        &mut run_forward,
        &mut run_gradient,
        &mut run_step,
        &mut run_adam,
    ]);
    Breakdown {
        gather,
        forward,
        gradient,
        step,
        adam,
        steps,
    }
}

/// The fraction of the blocks of `block` samples, over `n` samples of
/// `src` as the workloads cycle them, that [`InputMode::Auto`] runs
/// compacted for a first layer of `h` units.
pub(crate) fn compact_fraction(
    src: &crate::data::Samples,
    n: usize,
    block: usize,
    h: usize,
) -> f64 {
    let order = cycle(src.len(), n);
    let mut cols = ActiveCols::new();
    let (mut compact, mut blocks) = (0, 0);
    for b in order.chunks(block) {
        cols.find(src, b);
        compact += (cols.width() <= compact_max_cols(b.len(), h)) as usize;
        blocks += 1;
    }
    compact as f64 / blocks.max(1) as f64
}

/// Where one thread's evaluation of `n` test samples goes: each phase
/// timed inside every run (a clock read per block and phase, about 0.1%
/// of a block), so that the phases add up to the run.
pub struct EvalBreakdown {
    /// The whole evaluation.
    pub all: Stat,
    /// Medians over the runs, ms: packing the first layer's weights
    /// (once per evaluation), every block's input (its non-zero pixels
    /// listed, or the dense or compacted gather), the first layer, the
    /// later layers with the losses.
    pub phases: [f64; 4],
    /// Blocks whose first layer ran on the non-zero pixels, fraction.
    pub sparse: f64,
}

/// Times the phases of one thread's evaluation (see [`EvalBreakdown`]).
pub fn eval_breakdown(d: &BenchData, shape: Shape, n: usize, t: &Timing) -> EvalBreakdown {
    use crate::kernels::pixel_sparse::PackedFirst;
    use crate::net::{first_layer_eval, later_layers_eval, loss_forward};
    let idx = cycle(d.test.len(), n);
    let params = init_params(&shape, 0);
    let layers = shape.layers();
    let block = crate::eval::EVAL_BLOCK;
    let mut ws = Workspace::for_eval(&shape, block);
    let mut packed = PackedFirst::new(shape.width);
    let w0 = &params[layers[0].w_range()];
    let (mut runs, mut sparse): ([Vec<f64>; 4], usize) = Default::default();
    let all = t.measure(|| {
        let mut ms = [0.0; 4];
        let mut clock = Instant::now();
        let mut lap = |phase: usize, ms: &mut [f64; 4]| {
            let now = Instant::now();
            ms[phase] += (now - clock).as_secs_f64() * 1e3;
            clock = now;
        };
        let finite = packed.pack(w0, shape.width);
        lap(0, &mut ms);
        sparse = 0;
        for b in idx.chunks(block) {
            gather_input(&d.test, b, &mut ws, InputMode::Auto, finite);
            sparse += ws.sparse as usize;
            lap(1, &mut ms);
            first_layer_eval(
                &layers[0],
                &params,
                &mut ws,
                b.len(),
                finite.then_some(&packed),
            );
            lap(2, &mut ms);
            later_layers_eval(&layers, &params, &mut ws, b.len());
            loss_forward(&layers, &params, &mut ws, b.len());
            std::hint::black_box(&ws.loss);
            lap(3, &mut ms);
        }
        runs.iter_mut().zip(ms).for_each(|(r, m)| r.push(m));
    });
    EvalBreakdown {
        all,
        // The first run is `measure`'s warm-up.
        phases: runs.map(|r| Stat::of(r[1..].to_vec()).median),
        sparse: sparse as f64 / idx.chunks(block).count().max(1) as f64,
    }
}

/// Times per-sample evaluation of `n` test samples on `threads`.
pub(crate) fn eval_pass(
    d: &BenchData,
    shape: Shape,
    threads: usize,
    n: usize,
    t: &Timing,
) -> Result<(Stat, usize, usize)> {
    let idx = cycle(d.test.len(), n);
    let params = init_params(&shape, 0);
    let mut ev = Evaluator::new(&shape, threads)?;
    let mut out = SetEval::with_len(n);
    let ms = t.measure(|| ev.evaluate(&params, &d.test, &idx, &mut out));
    Ok((ms, ev.threads(), super::data::nonzeros(&d.test, &idx)))
}

/// The monitored epoch's parts (ms), and its cost with calibration.
pub struct Monitored {
    /// Training.
    pub train: Stat,
    /// Evaluation of the three sets and the validation-loss statistics.
    pub eval: Stat,
    /// Both.
    pub total: Stat,
    /// The evaluation as a recorded run does it: also keeping the
    /// validation and evaluation logits and calibrating both sets.
    pub eval_calibrated: Stat,
    /// Training plus that.
    pub total_calibrated: Stat,
    /// Per repeat, `100 (total_calibrated / total - 1)`.
    pub calibration_cost_pct: Stat,
}

/// The monitored epoch: one training epoch of 5k samples (3x100, batch
/// 64) plus evaluation of 5k training, 5k validation and 10k test
/// samples, one thread. Each repeat evaluates the same weights twice,
/// without and with calibration (in alternating order), so the cost of
/// calibration is a ratio measured side by side.
pub fn monitored(d: &BenchData, t: &Timing) -> Result<Monitored> {
    let shape = Shape {
        depth: 3,
        width: 100,
    };
    let train = cycle(d.train.len(), 5000);
    let val: Vec<u32> = cycle(d.train.len(), 10_000)[5000..].to_vec();
    let test = cycle(d.test.len(), 10_000);
    let mut tr = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), 64);
    let mut ev = Evaluator::new(&shape, 1)?;
    let (mut a, mut b, mut c) = (
        SetEval::with_len(5000),
        SetEval::with_len(5000),
        SetEval::with_len(10_000),
    );
    let (mut b_cal, mut c_cal) = (SetEval::with_logits(5000), SetEval::with_logits(10_000));
    let mut cal = [
        crate::stats::Calibrator::new(),
        crate::stats::Calibrator::new(),
    ];
    let (mut tr_ms, mut ev_ms, mut cal_ms) = (vec![], vec![], vec![]);
    // Every recorded epoch also summarises the validation losses.
    let mut scratch = Vec::with_capacity(5000);
    let mut rep = 0;
    let total = t.measure(|| {
        let s = Instant::now();
        for batch in train.chunks(64) {
            tr.step(&d.train, batch);
        }
        tr_ms.push(s.elapsed().as_secs_f64() * 1e3);
        for calibrated in [rep % 2 == 1, rep % 2 == 0] {
            let s = Instant::now();
            ev.evaluate(&tr.params, &d.train, &train, &mut a);
            if calibrated {
                ev.evaluate(&tr.params, &d.train, &val, &mut b_cal);
                ev.evaluate(&tr.params, &d.test, &test, &mut c_cal);
                std::hint::black_box(crate::stats::loss_stats(&b_cal.loss, &mut scratch));
                for (k, e) in cal.iter_mut().zip([&b_cal, &c_cal]) {
                    std::hint::black_box(k.calibrate(&e.logits, &e.label, &e.loss, CLASSES));
                }
                cal_ms.push(s.elapsed().as_secs_f64() * 1e3);
            } else {
                ev.evaluate(&tr.params, &d.train, &val, &mut b);
                ev.evaluate(&tr.params, &d.test, &test, &mut c);
                std::hint::black_box(crate::stats::loss_stats(&b.loss, &mut scratch));
                ev_ms.push(s.elapsed().as_secs_f64() * 1e3);
            }
        }
        rep += 1;
    });
    let _ = total;
    // Drop the warm-up's parts.
    let (tr_ms, ev_ms, cal_ms) = (&tr_ms[1..], &ev_ms[1..], &cal_ms[1..]);
    let plain: Vec<f64> = tr_ms.iter().zip(ev_ms).map(|(a, b)| a + b).collect();
    let with: Vec<f64> = tr_ms.iter().zip(cal_ms).map(|(a, b)| a + b).collect();
    let cost = plain
        .iter()
        .zip(&with)
        .map(|(p, w)| 100.0 * (w / p - 1.0))
        .collect();
    Ok(Monitored {
        train: Stat::of(tr_ms.to_vec()),
        eval: Stat::of(ev_ms.to_vec()),
        total: Stat::of(plain),
        eval_calibrated: Stat::of(cal_ms.to_vec()),
        total_calibrated: Stat::of(with),
        calibration_cost_pct: Stat::of(cost),
    })
}
