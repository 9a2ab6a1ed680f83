//! `preinterp bench`: the standard workloads, timed on this machine.
//!
//! Training configs run one thread on 5000 synthetic MNIST-like samples
//! (19% non-zero pixels, like MNIST), Adam, one warm-up epoch, then the
//! best of `repeats` timed epochs. Per-sample evaluation is timed over
//! 10,000 samples on 1 thread and on all cores.

use std::time::Instant;

use serde::Serialize;

use crate::config::adam_default;
use crate::data::Samples;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{num_cpus, Evaluator, SetEval};
use crate::machine::{cpu_features, cpu_model};
use crate::model::{init_params, Shape, INPUTS};
use crate::rng::{self, Purpose};
use crate::train::Trainer;

/// What `preinterp bench` runs.
#[derive(Clone, Debug, Default)]
pub struct BenchOpts {
    /// JSON instead of a table.
    pub json: bool,
    /// Timed repeats per workload.
    pub repeats: usize,
    /// Only these parts (training config ids, `eval`, `scaling`,
    /// `monitored`); all when empty.
    pub only: Vec<String>,
}

/// One training measurement.
#[derive(Clone, Debug, Serialize)]
pub struct TrainBench {
    /// e.g. `3x100-b64`.
    pub id: String,
    /// Best epoch time.
    pub ms_per_epoch: f64,
    /// Training samples per second.
    pub samples_per_s: f64,
    /// Useful FLOPs per second (forward + backward), in GFLOP/s.
    pub gflops: f64,
    /// `gflops` as a percentage of the measured one-core peak.
    pub pct_of_peak: f64,
}

/// One evaluation measurement.
#[derive(Clone, Debug, Serialize)]
pub struct EvalBench {
    /// e.g. `3x100`.
    pub model: String,
    /// Threads used.
    pub threads: usize,
    /// Samples per second.
    pub samples_per_s: f64,
    /// Forward FLOPs per second, in GFLOP/s.
    pub gflops: f64,
    /// Speed-up over one thread (for the scaling series).
    pub speedup: f64,
}

/// The monitored epoch: one epoch of preset-A-sized training plus
/// per-sample evaluation of 5k train, 5k validation and 10k evaluation
/// samples, one thread.
#[derive(Clone, Debug, Serialize)]
pub struct MonitoredEpoch {
    /// Training part.
    pub train_ms: f64,
    /// Evaluation part (20,000 samples).
    pub eval_ms: f64,
    /// Both.
    pub total_ms: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// preinterp's version.
    pub version: &'static str,
    /// CPU model name.
    pub cpu: String,
    /// SIMD features the CPU reports.
    pub cpu_features: Vec<&'static str>,
    /// The dispatched kernel paths.
    pub kernel_path: String,
    /// Logical cores.
    pub cores: usize,
    /// Measured one-core f32 FMA peak, GFLOP/s.
    pub peak_gflops: f64,
    /// Training configs.
    pub train: Vec<TrainBench>,
    /// Evaluation throughput, 3x100 and 3x1000 on 1 and all threads.
    pub eval: Vec<EvalBench>,
    /// Evaluation thread scaling of 3x100, 1..=cores threads.
    pub scaling: Vec<EvalBench>,
    /// The monitored epoch.
    pub monitored_epoch: Option<MonitoredEpoch>,
}

/// The one-core f32 peak: 12 independent FMA chains on the widest SIMD
/// vectors, timed over ~0.2 s (best of 3). FLOPs = 2 per lane per FMA.
pub fn peak_gflops() -> f64 {
    struct Op(u64);
    impl pulp::WithSimd for Op {
        type Output = f32;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, s: S) -> f32 {
            let mut acc = [s.splat_f32s(0.0); 12];
            let (a, b) = (s.splat_f32s(0.999_999), s.splat_f32s(1e-7));
            for _ in 0..self.0 {
                for x in acc.iter_mut() {
                    *x = s.mul_add_f32s(*x, a, b);
                }
            }
            let mut t = s.splat_f32s(0.0);
            for x in acc {
                t = s.add_f32s(t, x);
            }
            s.reduce_sum_f32s(t)
        }
    }
    let lanes = pulp::Arch::new().dispatch(LanesOp) as f64;
    let iters = 4_000_000u64;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        std::hint::black_box(pulp::Arch::new().dispatch(Op(std::hint::black_box(iters))));
        best = best.min(start.elapsed().as_secs_f64());
    }
    (iters as f64 * 12.0 * lanes * 2.0) / best / 1e9
}

struct LanesOp;
impl pulp::WithSimd for LanesOp {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> usize {
        S::F32_LANES
    }
}

/// Synthetic MNIST-like samples (deterministic).
pub fn synthetic(n: usize, seed: u64) -> Samples {
    let mut r = rng::stream(seed, Purpose::Init, 99);
    let mut pixels = vec![0u8; n * INPUTS];
    for p in &mut pixels {
        if r.unit_f32() < 0.19 {
            *p = 1 + r.below(255) as u8;
        }
    }
    let labels = (0..n).map(|_| r.below(10) as u8).collect();
    Samples { pixels, labels }
}

/// The training workloads: (depth, width, batch).
pub const TRAIN_CONFIGS: [(usize, usize, usize); 5] = [
    (3, 100, 64),
    (3, 100, 16),
    (3, 100, 256),
    (3, 1000, 64),
    (10, 100, 64),
];

/// Times one epoch of 5000 samples for each config.
pub fn bench_train(depth: usize, width: usize, batch: usize, repeats: usize) -> TrainBench {
    let n = 5000;
    let data = synthetic(n, 1);
    let shape = Shape { depth, width };
    let mut t = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), batch);
    let order: Vec<u32> = (0..n as u32).collect();
    let mut best = f64::INFINITY;
    for rep in 0..=repeats {
        let start = Instant::now();
        for b in order.chunks(batch) {
            t.step(&data, b);
        }
        let s = start.elapsed().as_secs_f64();
        if rep > 0 {
            best = best.min(s);
        }
    }
    TrainBench {
        id: format!("{depth}x{width}-b{batch}"),
        ms_per_epoch: best * 1e3,
        samples_per_s: n as f64 / best,
        gflops: (shape.train_flops_per_sample() * n) as f64 / best / 1e9,
        pct_of_peak: 0.0,
    }
}

/// Per-sample evaluation throughput over 10,000 samples.
pub fn bench_eval(shape: Shape, threads: usize, repeats: usize) -> Result<EvalBench> {
    let n = 10_000;
    let data = synthetic(n, 2);
    let params = init_params(&shape, 0);
    let idx: Vec<u32> = (0..n as u32).collect();
    let mut ev = Evaluator::new(&shape, threads)?;
    let mut out = SetEval::with_len(n);
    let mut best = f64::INFINITY;
    for rep in 0..=repeats {
        let start = Instant::now();
        ev.evaluate(&params, &data, &idx, &mut out);
        if rep > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    Ok(EvalBench {
        model: shape.label(),
        threads: ev.threads(),
        samples_per_s: n as f64 / best,
        gflops: (2 * shape.forward_macs() * n) as f64 / best / 1e9,
        speedup: 1.0,
    })
}

/// The monitored epoch (see [`MonitoredEpoch`]).
pub fn bench_monitored(repeats: usize) -> Result<MonitoredEpoch> {
    let shape = Shape {
        depth: 3,
        width: 100,
    };
    let train = synthetic(5000, 1);
    let val = synthetic(5000, 3);
    let test = synthetic(10_000, 2);
    let mut t = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), 64);
    let mut ev = Evaluator::new(&shape, 1)?;
    let order: Vec<u32> = (0..5000).collect();
    let test_idx: Vec<u32> = (0..10_000).collect();
    let (mut o5a, mut o5b, mut o10) = (
        SetEval::with_len(5000),
        SetEval::with_len(5000),
        SetEval::with_len(10_000),
    );
    let mut best = (f64::INFINITY, f64::INFINITY);
    for rep in 0..=repeats {
        let s = Instant::now();
        for b in order.chunks(64) {
            t.step(&train, b);
        }
        let tr = s.elapsed().as_secs_f64();
        let s = Instant::now();
        ev.evaluate(&t.params, &train, &order, &mut o5a);
        ev.evaluate(&t.params, &val, &order, &mut o5b);
        ev.evaluate(&t.params, &test, &test_idx, &mut o10);
        let e = s.elapsed().as_secs_f64();
        if rep > 0 && tr + e < best.0 + best.1 {
            best = (tr, e);
        }
    }
    Ok(MonitoredEpoch {
        train_ms: best.0 * 1e3,
        eval_ms: best.1 * 1e3,
        total_ms: (best.0 + best.1) * 1e3,
    })
}

/// Runs the benchmark and prints it.
pub fn run(o: &BenchOpts) -> Result<u8> {
    let peak = peak_gflops();
    let simd = crate::kernels::simd_level();
    let mut report = BenchReport {
        version: env!("CARGO_PKG_VERSION"),
        cpu: cpu_model(),
        cpu_features: cpu_features(),
        kernel_path: format!(
            "matmul: faer (run-time dispatched micro-kernels, Par::Seq); exp, Adam: pulp ({simd})"
        ),
        cores: num_cpus(),
        peak_gflops: peak,
        train: vec![],
        eval: vec![],
        scaling: vec![],
        monitored_epoch: None,
    };
    let mut known: Vec<String> = TRAIN_CONFIGS
        .iter()
        .map(|(d, w, b)| format!("{d}x{w}-b{b}"))
        .collect();
    known.extend(["eval", "scaling", "monitored"].map(String::from));
    if let Some(bad) = o.only.iter().find(|x| !known.contains(x)) {
        return Err(Error::usage(format!(
            "--only {bad}: no such part; choose from {}",
            known.join(", ")
        )));
    }
    let reps = o.repeats.max(1);
    let want = |id: &str| o.only.is_empty() || o.only.iter().any(|x| x == id);
    for (d, w, b) in TRAIN_CONFIGS {
        let id = format!("{d}x{w}-b{b}");
        if !want(&id) {
            continue;
        }
        let mut t = bench_train(d, w, b, reps);
        t.pct_of_peak = 100.0 * t.gflops / peak;
        report.train.push(t);
    }
    if want("eval") {
        for width in [100, 1000] {
            let shape = Shape { depth: 3, width };
            let one = bench_eval(shape, 1, reps)?;
            let base = one.samples_per_s;
            report.eval.push(one);
            if num_cpus() > 1 {
                let mut all = bench_eval(shape, num_cpus(), reps)?;
                all.speedup = all.samples_per_s / base;
                report.eval.push(all);
            }
        }
    }
    if want("scaling") {
        let shape = Shape {
            depth: 3,
            width: 100,
        };
        let mut base = 0.0;
        for t in 1..=num_cpus() {
            let mut e = bench_eval(shape, t, reps)?;
            if t == 1 {
                base = e.samples_per_s;
            }
            e.speedup = e.samples_per_s / base;
            report.scaling.push(e);
        }
    }
    if want("monitored") {
        report.monitored_epoch = Some(bench_monitored(reps)?);
    }
    if o.json {
        let s = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        println!("{s}");
        return Ok(0);
    }
    println!(
        "preinterp {} bench on {} ({} cores)",
        report.version, report.cpu, report.cores
    );
    println!("SIMD: {}", report.cpu_features.join(" "));
    println!("kernels: {}", report.kernel_path);
    println!("measured one-core f32 FMA peak: {peak:.1} GFLOPS");
    println!("training, 1 thread, Adam, 5000 samples/epoch:");
    println!(
        "  {:<14} {:>10} {:>12} {:>8} {:>8}",
        "config", "ms/epoch", "samples/s", "GFLOPS", "% peak"
    );
    for t in &report.train {
        println!(
            "  {:<14} {:>10.2} {:>12.0} {:>8.1} {:>7.1}%",
            t.id, t.ms_per_epoch, t.samples_per_s, t.gflops, t.pct_of_peak
        );
    }
    if !report.eval.is_empty() {
        println!("per-sample evaluation, 10,000 samples:");
        for e in &report.eval {
            println!(
                "  {:<8} {:>2} thread(s) {:>12.0} samples/s {:>7.1} GFLOPS {:>6.1}% of {} x peak",
                e.model,
                e.threads,
                e.samples_per_s,
                e.gflops,
                100.0 * e.gflops / (peak * e.threads as f64),
                e.threads
            );
        }
    }
    if !report.scaling.is_empty() {
        println!("thread scaling, 3x100 evaluation:");
        for e in &report.scaling {
            println!(
                "  {:>2} thread(s) {:>12.0} samples/s  x{:.2}",
                e.threads, e.samples_per_s, e.speedup
            );
        }
    }
    if let Some(m) = &report.monitored_epoch {
        println!(
            "monitored epoch (3x100 b64, 1 thread: 5k training + evaluation of 20k samples): {:.1} ms ({:.1} train + {:.1} evaluation)",
            m.total_ms, m.train_ms, m.eval_ms
        );
    }
    Ok(0)
}
