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
use crate::model::{init_params, Shape};
use crate::net::COMPACT_MAX_COLS;
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
            .map(|_| {
                let start = Instant::now();
                f();
                let mut s = start.elapsed().as_secs_f64();
                if self.slowdown_pct > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64(s * self.slowdown_pct / 100.0));
                    s = start.elapsed().as_secs_f64();
                }
                s * 1e3
            })
            .collect();
        Stat::of(runs)
    }
}

/// One training epoch's timing and what it ran on.
pub struct TrainRun {
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
pub fn train_epochs(d: &BenchData, shape: Shape, batch: usize, n: usize, t: &Timing) -> TrainRun {
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
        compact += (cols.width() <= COMPACT_MAX_COLS) as usize;
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

/// Times per-sample evaluation of `n` test samples on `threads`.
pub fn eval_pass(
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

/// The monitored epoch: one training epoch of 5k samples (3x100, batch
/// 64) plus evaluation of 5k training, 5k validation and 10k test
/// samples, one thread. Returns (training, evaluation, both).
pub fn monitored(d: &BenchData, t: &Timing) -> Result<[Stat; 3]> {
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
    let (mut tr_ms, mut ev_ms) = (vec![], vec![]);
    // Every recorded epoch also summarises the validation losses.
    let mut scratch = Vec::with_capacity(5000);
    let total = t.measure(|| {
        let s = Instant::now();
        for batch in train.chunks(64) {
            tr.step(&d.train, batch);
        }
        tr_ms.push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        ev.evaluate(&tr.params, &d.train, &train, &mut a);
        ev.evaluate(&tr.params, &d.train, &val, &mut b);
        ev.evaluate(&tr.params, &d.test, &test, &mut c);
        std::hint::black_box(crate::stats::loss_stats(&b.loss, &mut scratch));
        ev_ms.push(s.elapsed().as_secs_f64() * 1e3);
    });
    // Drop the warm-up's parts.
    Ok([
        Stat::of(tr_ms[1..].to_vec()),
        Stat::of(ev_ms[1..].to_vec()),
        total,
    ])
}
