//! `preinterp bench`: the standard workloads, timed on this machine, on
//! the real datasets, against a roofline; saved and compared for
//! regression tracking. The library returns a [`BenchReport`]; the CLI
//! prints it.
//!
//! Training configs run one thread, Adam, epochs of 5000 samples of the
//! training pool (one warm-up epoch, then `repeats` timed ones: median
//! and spread). Evaluation runs over 10,000 test samples on one thread
//! and on all cores. A row per dataset (MNIST, Fashion-MNIST), so the
//! sparse first layer's gain and its "never slower" claim both show.

pub mod data;
pub mod history;
pub mod roofline;
pub mod workloads;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use data::synthetic;
use data::{BenchData, DataInfo};
use roofline::{eval_bound, eval_phase_bounds, Bound, EpochWork};
use workloads::{Stat, Timing};

use crate::data::registry::DatasetId;
use crate::data::Locator;
use crate::error::{Error, Result};
use crate::eval::num_cpus;
use crate::machine::{adam_divider_gelems, bandwidth_curve, peak_gflops, triad_gbs, MachineId};
use crate::model::Shape;
use crate::net::{compact_max_cols, COMPACT_MAX_COLS};

/// A section of the benchmark (what `--only` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// A training config: depth, width, batch.
    Train(usize, usize, usize),
    /// Evaluation throughput, 3x100 and 3x1000, 1 and all threads.
    Eval,
    /// Evaluation thread scaling of 3x100.
    Scaling,
    /// The monitored epoch.
    Monitored,
    /// One epoch of fig3's heaviest runs (3x1000, batch 16, 55k
    /// samples); not in the default set (tens of seconds).
    Fig3,
    /// The first layer dense against compacted per batch, side by side.
    Sparse,
    /// Where each training config's time goes, phase by phase; not in
    /// the default set.
    Breakdown,
}

/// The training configs [`Section::Sparse`] times dense and compacted.
pub(crate) const SPARSE_CONFIGS: [(usize, usize, usize); 4] =
    [(3, 100, 16), (3, 100, 64), (3, 100, 256), (3, 1000, 64)];

/// The training configs.
pub(crate) const TRAIN_CONFIGS: [(usize, usize, usize); 5] = [
    (3, 100, 64),
    (3, 100, 16),
    (3, 100, 256),
    (3, 1000, 64),
    (10, 100, 64),
];

impl Section {
    /// Every part, in report order.
    pub fn all() -> Vec<Section> {
        let mut v: Vec<Section> = TRAIN_CONFIGS
            .iter()
            .map(|&(d, w, b)| Section::Train(d, w, b))
            .collect();
        v.extend([
            Section::Eval,
            Section::Scaling,
            Section::Monitored,
            Section::Sparse,
            Section::Fig3,
            Section::Breakdown,
        ]);
        v
    }
    /// One line on what the part times (for `--only`'s help).
    pub fn describe(&self) -> String {
        match self {
            Section::Train(d, w, b) => {
                format!("training, {d}x{w}, batch {b}, one thread, one epoch of 5000 samples")
            }
            Section::Eval => {
                "per-sample evaluation, 3x100 and 3x1000, one thread and all cores".into()
            }
            Section::Scaling => "evaluation thread scaling of 3x100".into(),
            Section::Monitored => {
                "a monitored epoch (training plus evaluation and statistics)".into()
            }
            Section::Sparse => "the first layer dense against compacted per batch".into(),
            Section::Fig3 => {
                "one epoch of fig3's heaviest run, 3x1000 b16 on 55k samples (not by default)"
                    .into()
            }
            Section::Breakdown => {
                "where each training config's and evaluation's time goes, phase by phase (not by default)".into()
            }
        }
    }
    /// What runs when `--only` is not given (all but [`Section::Fig3`] and
    /// [`Section::Breakdown`]).
    pub(crate) fn default_set() -> Vec<Section> {
        Self::all()
            .into_iter()
            .filter(|p| !matches!(p, Section::Fig3 | Section::Breakdown))
            .collect()
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Train(d, w, b) => write!(f, "{d}x{w}-b{b}"),
            Section::Eval => f.write_str("eval"),
            Section::Scaling => f.write_str("scaling"),
            Section::Monitored => f.write_str("monitored"),
            Section::Fig3 => f.write_str("fig3"),
            Section::Sparse => f.write_str("sparse"),
            Section::Breakdown => f.write_str("breakdown"),
        }
    }
}

impl FromStr for Section {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Section::all()
            .into_iter()
            .find(|p| p.to_string() == s)
            .ok_or_else(|| {
                let names: Vec<String> = Section::all().iter().map(|p| p.to_string()).collect();
                format!("no such part; choose from {}", names.join(", "))
            })
    }
}

/// What `preinterp bench` runs.
#[derive(Clone, Debug, Default)]
pub struct BenchOpts {
    /// Timed repeats per workload.
    pub repeats: usize,
    /// Only these parts; [`Section::default_set`] when empty.
    pub only: Vec<Section>,
    /// Datasets (default: MNIST and Fashion-MNIST).
    pub datasets: Vec<DatasetId>,
    /// Where datasets are looked for (`--data-dir`, then the
    /// environment, as `train` does; never downloaded).
    pub locator: Locator,
    /// Percent added to every timed repeat: tests of `--compare` only.
    pub slowdown_pct: f64,
}

/// The machine and build a report was measured on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fingerprint {
    /// What identifies the machine (compared before any comparison).
    pub machine: MachineId,
    /// Measured one-core f32 FMA peak on the kernels' SIMD path, GFLOP/s.
    pub peak_gflops: f64,
    /// Measured one-core rate of Adam's square root and division,
    /// G elements/s (0 in reports made before it was measured).
    #[serde(default)]
    pub adam_divider_gelems: f64,
    /// Measured one-core triad bandwidth past the caches, GB/s.
    pub bandwidth_gbs: f64,
    /// Measured all-core triad bandwidth past the caches, GB/s.
    pub bandwidth_all_gbs: f64,
    /// One-core triad bandwidth by working-set size: (bytes, GB/s).
    pub bandwidth_curve: Vec<(usize, f64)>,
    /// preinterp's version.
    pub version: String,
    /// The compiler that built it.
    pub rustc: String,
    /// The git commit it was built from.
    pub commit: String,
    /// When the report was made (UTC, ISO 8601).
    pub date: String,
}

/// One training measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainRow {
    /// e.g. `3x100-b64`.
    pub id: String,
    /// Dataset name.
    pub dataset: String,
    /// ms per epoch.
    pub ms: Stat,
    /// Samples per epoch.
    pub samples: usize,
    /// Samples per second (median).
    pub samples_per_s: f64,
    /// Useful GFLOP/s (median; zero pixels excluded).
    pub gflops: f64,
    /// The roofline bound.
    pub bound: Bound,
    /// Bound / median, percent.
    pub pct_of_bound: f64,
    /// Fraction of batches whose first layer ran compacted.
    pub compact_batches: f64,
    /// Mean fraction of the 784 input columns a batch used.
    pub used_cols: f64,
}

/// One evaluation measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalRow {
    /// e.g. `3x100`.
    pub model: String,
    /// Dataset name.
    pub dataset: String,
    /// Threads.
    pub threads: usize,
    /// ms per pass over the samples.
    pub ms: Stat,
    /// Samples per pass.
    pub samples: usize,
    /// Samples per second (median).
    pub samples_per_s: f64,
    /// Useful GFLOP/s (median).
    pub gflops: f64,
    /// The roofline bound.
    pub bound: Bound,
    /// Bound / median, percent.
    pub pct_of_bound: f64,
    /// Speed-up over one thread.
    pub speedup: f64,
}

/// The monitored epoch (3x100 b64, one thread: 5k training + evaluation
/// of 20k samples).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonitoredRow {
    /// Dataset name.
    pub dataset: String,
    /// Training part, ms.
    pub train_ms: Stat,
    /// Evaluation part, ms.
    pub eval_ms: Stat,
    /// Both, ms.
    pub total_ms: Stat,
    /// The evaluation with the logits kept and both sets calibrated, ms
    /// (absent in results saved before calibration).
    #[serde(default)]
    pub eval_calibrated_ms: Option<Stat>,
    /// Per repeat, how much longer the epoch is with calibration (%).
    #[serde(default)]
    pub calibration_cost_pct: Option<Stat>,
}

/// One workload with the first layer's input always dense and as
/// chosen per batch (compacted to the used columns when that pays),
/// timed side by side.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SparseRow {
    /// e.g. `train/3x100-b64` or `eval/3x100`.
    pub workload: String,
    /// Dataset name.
    pub dataset: String,
    /// Always dense, ms.
    pub dense: Stat,
    /// Chosen per batch (what preinterp runs), ms.
    pub auto: Stat,
    /// `auto / dense - 1`, percent (negative: faster).
    pub change_pct: f64,
    /// The noise-aware verdict on dense -> auto (as `--compare` gives it,
    /// at a 2% threshold): "slower" would break "never slower".
    pub verdict: history::Verdict,
    /// Fraction of batches (or evaluation blocks) run compacted.
    pub compact: f64,
}

/// Where one training config's epoch goes (medians, ms; see
/// [`workloads::Breakdown`]), against its roofline's phases.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BreakdownRow {
    /// e.g. `3x100-b64`.
    pub id: String,
    /// Dataset name.
    pub dataset: String,
    /// Steps per epoch.
    pub steps: usize,
    /// Gathering the batches.
    pub gather_ms: f64,
    /// The forward pass.
    pub forward_ms: f64,
    /// The backward pass (loss, gradients), without the update.
    pub backward_ms: f64,
    /// What the update adds to the step (Adam fused into backward).
    pub update_ms: f64,
    /// The whole epoch.
    pub epoch: Stat,
    /// Adam alone over the whole buffer, once per step.
    pub adam_alone_ms: f64,
    /// The roofline's forward, backward and optimiser phases, ms.
    pub bound_ms: [f64; 3],
}

/// Where one thread's evaluation goes (see
/// [`workloads::EvalBreakdown`]; the phases are medians, each over the
/// runs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalBreakdownRow {
    /// e.g. `3x100`.
    pub model: String,
    /// Dataset name.
    pub dataset: String,
    /// Samples evaluated.
    pub samples: usize,
    /// Packing the first layer's weights (once per evaluation).
    pub pack_ms: f64,
    /// Preparing every block's input.
    pub input_ms: f64,
    /// The first layer.
    pub first_ms: f64,
    /// The later layers and the losses.
    pub rest_ms: f64,
    /// The whole evaluation.
    pub all: Stat,
    /// Blocks whose first layer ran on the non-zero pixels, fraction.
    pub sparse: f64,
    /// The roofline's input, first-layer and later-layer phases, ms.
    pub bound_ms: [f64; 3],
}

/// The whole report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// Always [`history::FORMAT`].
    pub format: String,
    /// Always [`history::SCHEMA`].
    pub schema: u32,
    /// Machine and build.
    pub fingerprint: Fingerprint,
    /// The kernels' paths, in words.
    pub kernel_path: String,
    /// Timed repeats per workload.
    pub repeats: usize,
    /// The datasets used.
    pub data: Vec<DataInfo>,
    /// Training configs, per dataset.
    pub train: Vec<TrainRow>,
    /// Evaluation throughput, per dataset.
    pub eval: Vec<EvalRow>,
    /// Evaluation thread scaling (first dataset).
    pub scaling: Vec<EvalRow>,
    /// The monitored epoch, per dataset.
    pub monitored: Vec<MonitoredRow>,
    /// fig3's heaviest run, one epoch, per dataset.
    pub fig3: Vec<TrainRow>,
    /// Dense against compacted first layer, per dataset.
    #[serde(default)]
    pub sparse: Vec<SparseRow>,
    /// Per-phase account of the training configs, per dataset.
    #[serde(default)]
    pub breakdown: Vec<BreakdownRow>,
    /// Where one thread's evaluation goes (`--only breakdown`; empty in
    /// reports from before it was measured).
    #[serde(default)]
    pub eval_breakdown: Vec<EvalBreakdownRow>,
}

impl BenchReport {
    /// Every timed workload as `(key, ms)`: what `--compare` compares
    /// and the service formats carry.
    pub fn metrics(&self) -> Vec<(String, &Stat)> {
        let mut v = vec![];
        for t in &self.train {
            v.push((format!("train/{}/{}", t.id, t.dataset), &t.ms));
        }
        let cores = self.fingerprint.machine.cores;
        for e in self.eval.iter().chain(&self.scaling) {
            v.push((
                format!(
                    "eval/{}/{}/{}",
                    e.model,
                    threads_key(e.threads, cores),
                    e.dataset
                ),
                &e.ms,
            ));
        }
        for m in &self.monitored {
            v.push((format!("monitored/{}", m.dataset), &m.total_ms));
        }
        for t in &self.fig3 {
            v.push((format!("fig3/{}/{}", t.id, t.dataset), &t.ms));
        }
        for t in &self.sparse {
            v.push((format!("dense/{}/{}", t.workload, t.dataset), &t.dense));
        }
        v.dedup_by(|a, b| a.0 == b.0);
        v
    }
}

/// A thread count in a metric key: `tall` on all of the machine's cores,
/// else `t<N>` (`t1`), so a key does not change with the runner's core
/// count. Keys are made from a report's rows, so reports saved when the
/// all-cores key was `t<cores>` read as `tall` too.
pub(crate) fn threads_key(threads: usize, cores: usize) -> String {
    if threads == cores && threads > 1 {
        "tall".to_string()
    } else {
        format!("t{threads}")
    }
}

/// Measures the machine, then runs the parts asked for.
pub fn run(o: &BenchOpts) -> Result<BenchReport> {
    crate::kernels::requested_path().map_err(Error::usage)?;
    let t = Timing {
        repeats: o.repeats.max(1),
        slowdown_pct: o.slowdown_pct,
    };
    let fingerprint = measure_machine();
    let ids = if o.datasets.is_empty() {
        DatasetId::ALL.to_vec()
    } else {
        o.datasets.clone()
    };
    let sets: Vec<BenchData> = ids.iter().map(|&id| data::load(id, &o.locator)).collect();
    let parts = if o.only.is_empty() {
        Section::default_set()
    } else {
        o.only.clone()
    };
    let mut r = BenchReport {
        format: history::FORMAT.to_string(),
        schema: history::SCHEMA,
        kernel_path: format!(
            "matmul: faer (Par::Seq), first layer compacted to a batch's used input columns when that pays (for 100 units: at most {}/{}/{} of 784 at 16/64/192 rows; never above {}); exp, Adam (division by its step constant without the divider), gathers: pulp; SIMD path {}",
            compact_max_cols(16, 100),
            compact_max_cols(64, 100),
            compact_max_cols(192, 100),
            COMPACT_MAX_COLS,
            crate::kernels::simd_level()
        ),
        fingerprint,
        repeats: t.repeats,
        data: sets.iter().map(|d| d.info.clone()).collect(),
        train: vec![],
        eval: vec![],
        scaling: vec![],
        monitored: vec![],
        fig3: vec![],
        sparse: vec![],
        breakdown: vec![],
        eval_breakdown: vec![],
    };
    for part in parts {
        run_part(&mut r, part, &sets, &t)?;
    }
    Ok(r)
}

fn run_part(r: &mut BenchReport, part: Section, sets: &[BenchData], t: &Timing) -> Result<()> {
    match part {
        Section::Train(depth, width, batch) => {
            for d in sets {
                let row = train_row(r, d, Shape { depth, width }, batch, 5000, t);
                r.train.push(row);
            }
        }
        Section::Fig3 => {
            let shape = Shape {
                depth: 3,
                width: 1000,
            };
            for d in sets {
                let row = train_row(r, d, shape, 16, 55_000, t);
                r.fig3.push(row);
            }
        }
        Section::Eval => {
            for d in sets {
                for width in [100, 1000] {
                    let shape = Shape { depth: 3, width };
                    let one = eval_row(r, d, shape, 1, 1.0, t)?;
                    let base = one.samples_per_s;
                    r.eval.push(one);
                    if num_cpus() > 1 {
                        let all = eval_row(r, d, shape, num_cpus(), base, t)?;
                        r.eval.push(all);
                    }
                }
            }
        }
        Section::Scaling => {
            let shape = Shape {
                depth: 3,
                width: 100,
            };
            let d = &sets[0];
            let one = eval_row(r, d, shape, 1, 1.0, t)?;
            let base = one.samples_per_s;
            r.scaling.push(one);
            for threads in 2..=num_cpus() {
                let row = eval_row(r, d, shape, threads, base, t)?;
                r.scaling.push(row);
            }
        }
        Section::Sparse => sparse_rows(r, sets, t)?,
        Section::Breakdown => {
            for d in sets {
                for &(depth, width, batch) in &TRAIN_CONFIGS {
                    let row = breakdown_row(r, d, Shape { depth, width }, batch, t);
                    r.breakdown.push(row);
                }
            }
            for d in sets {
                for width in [100, 1000] {
                    let row = eval_breakdown_row(r, d, Shape { depth: 3, width }, t);
                    r.eval_breakdown.push(row);
                }
            }
        }
        Section::Monitored => {
            for d in sets {
                let m = workloads::monitored(d, t)?;
                r.monitored.push(MonitoredRow {
                    dataset: d.info.name.clone(),
                    train_ms: m.train,
                    eval_ms: m.eval,
                    total_ms: m.total,
                    eval_calibrated_ms: Some(m.eval_calibrated),
                    calibration_cost_pct: Some(m.calibration_cost_pct),
                });
            }
        }
    }
    Ok(())
}

/// [`Section::Sparse`]: the first layer dense against compacted per
/// batch, for the training configs and both evaluation widths.
fn sparse_rows(r: &mut BenchReport, sets: &[BenchData], t: &Timing) -> Result<()> {
    for d in sets {
        for &(depth, width, batch) in &SPARSE_CONFIGS {
            let shape = Shape { depth, width };
            let [dense, auto] = workloads::train_sparse_pair(d, shape, batch, 5000, t);
            let compact = workloads::compact_fraction(&d.train, 5000, batch, width);
            let id = format!("train/{}-b{batch}", shape.label());
            r.sparse.push(sparse_row(id, d, dense, auto, compact));
        }
        for width in [100, 1000] {
            let shape = Shape { depth: 3, width };
            let [dense, auto] = workloads::eval_sparse_pair(d, shape, 10_000, t)?;
            let compact =
                workloads::compact_fraction(&d.test, 10_000, crate::eval::EVAL_BLOCK, width);
            let id = format!("eval/{}", shape.label());
            r.sparse.push(sparse_row(id, d, dense, auto, compact));
        }
    }
    Ok(())
}

fn train_row(
    r: &BenchReport,
    d: &BenchData,
    shape: Shape,
    batch: usize,
    n: usize,
    t: &Timing,
) -> TrainRow {
    let run = workloads::train_epochs(d, shape, batch, n, t);
    let f = &r.fingerprint;
    let bound = EpochWork::new(
        &shape,
        run.samples,
        run.steps,
        run.nonzeros,
        f.adam_divider_gelems,
        &f.bandwidth_curve,
    )
    .bound(f.peak_gflops);
    let s = run.ms.median / 1e3;
    TrainRow {
        id: format!("{}-b{batch}", shape.label()),
        dataset: d.info.name.clone(),
        samples: run.samples,
        samples_per_s: run.samples as f64 / s,
        gflops: bound.gflop / s,
        pct_of_bound: 100.0 * bound.ms / run.ms.median,
        bound,
        compact_batches: run.compact_batches,
        used_cols: run.used_cols,
        ms: run.ms,
    }
}

fn sparse_row(workload: String, d: &BenchData, dense: Stat, auto: Stat, compact: f64) -> SparseRow {
    SparseRow {
        workload,
        dataset: d.info.name.clone(),
        change_pct: 100.0 * (auto.median / dense.median - 1.0),
        verdict: history::verdict(&dense, &auto, 2.0),
        compact,
        dense,
        auto,
    }
}

fn breakdown_row(
    r: &BenchReport,
    d: &BenchData,
    shape: Shape,
    batch: usize,
    t: &Timing,
) -> BreakdownRow {
    let n = 5000;
    let b = workloads::breakdown(d, shape, batch, n, t);
    let f = &r.fingerprint;
    let order = data::cycle(d.train.len(), n);
    let phases = EpochWork::new(
        &shape,
        n,
        b.steps,
        data::nonzeros(&d.train, &order),
        f.adam_divider_gelems,
        &f.bandwidth_curve,
    )
    .phases_ms(f.peak_gflops);
    let (g, fw, gr, st) = (
        b.gather.median,
        b.forward.median,
        b.gradient.median,
        b.step.median,
    );
    BreakdownRow {
        id: format!("{}-b{batch}", shape.label()),
        dataset: d.info.name.clone(),
        steps: b.steps,
        gather_ms: g,
        forward_ms: fw - g,
        backward_ms: gr - fw,
        update_ms: st - gr,
        epoch: b.step,
        adam_alone_ms: b.adam.median,
        bound_ms: phases,
    }
}

fn eval_breakdown_row(
    r: &BenchReport,
    d: &BenchData,
    shape: Shape,
    t: &Timing,
) -> EvalBreakdownRow {
    let n = 10_000;
    let b = workloads::eval_breakdown(d, shape, n, t);
    let f = &r.fingerprint;
    let nonzeros = data::nonzeros(&d.test, &data::cycle(d.test.len(), n));
    EvalBreakdownRow {
        model: shape.label(),
        dataset: d.info.name.clone(),
        samples: n,
        pack_ms: b.phases[0],
        input_ms: b.phases[1],
        first_ms: b.phases[2],
        rest_ms: b.phases[3],
        all: b.all,
        sparse: b.sparse,
        bound_ms: eval_phase_bounds(&shape, n, nonzeros, f.peak_gflops, f.bandwidth_gbs),
    }
}

fn eval_row(
    r: &BenchReport,
    d: &BenchData,
    shape: Shape,
    threads: usize,
    base: f64,
    t: &Timing,
) -> Result<EvalRow> {
    let n = 10_000;
    let (ms, threads, nonzeros) = workloads::eval_pass(d, shape, threads, n, t)?;
    let f = &r.fingerprint;
    let gbs = if threads > 1 {
        f.bandwidth_all_gbs
    } else {
        f.bandwidth_gbs
    };
    let bound = eval_bound(&shape, n, nonzeros, threads, f.peak_gflops, gbs);
    let s = ms.median / 1e3;
    let rate = n as f64 / s;
    Ok(EvalRow {
        model: shape.label(),
        dataset: d.info.name.clone(),
        threads,
        samples: n,
        samples_per_s: rate,
        gflops: bound.gflop / s,
        pct_of_bound: 100.0 * bound.ms / ms.median,
        bound,
        speedup: if threads == 1 { 1.0 } else { rate / base },
        ms,
    })
}

/// Measures the FMA peak and the bandwidths (about a second).
pub(crate) fn measure_machine() -> Fingerprint {
    let curve = bandwidth_curve(0.03);
    let big = *crate::machine::TRIAD_SIZES.last().expect("sizes");
    Fingerprint {
        machine: MachineId::here(),
        peak_gflops: peak_gflops(),
        adam_divider_gelems: adam_divider_gelems(),
        bandwidth_gbs: curve.last().map(|c| c.1).unwrap_or(f64::NAN),
        bandwidth_all_gbs: triad_gbs(big, num_cpus(), 0.03),
        bandwidth_curve: curve,
        version: env!("CARGO_PKG_VERSION").to_string(),
        rustc: option_env!("PREINTERP_RUSTC")
            .unwrap_or("unknown")
            .to_string(),
        commit: option_env!("PREINTERP_COMMIT")
            .unwrap_or("unknown")
            .to_string(),
        date: crate::record::utc_now(),
    }
}
