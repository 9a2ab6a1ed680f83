//! `preinterp bench`: the standard workloads, timed on this machine.
//!
//! Training configs run one thread on 5000 synthetic MNIST-like samples
//! (19% non-zero pixels, like MNIST), Adam, one warm-up epoch, then the
//! best of `repeats` timed epochs. Per-sample evaluation is timed over
//! 10,000 samples on 1 thread and on all cores.

use std::time::Instant;

use serde::Serialize;

use crate::cli::args_bench::BenchOpts;
use crate::config::adam_default;
use crate::data::Samples;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{num_cpus, Evaluator, SetEval};
use crate::model::{init_params, Shape, INPUTS};
use crate::rng::{self, Purpose};
use crate::train::Trainer;

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
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// CPU model name.
    pub cpu: String,
    /// Dispatched SIMD level.
    pub simd: &'static str,
    /// Logical cores.
    pub cores: usize,
    /// Training configs.
    pub train: Vec<TrainBench>,
    /// Evaluation throughput.
    pub eval: Vec<EvalBench>,
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
    })
}

/// The CPU's model name (from /proc/cpuinfo on Linux).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Runs the benchmark and prints it.
pub fn run(o: &BenchOpts) -> Result<u8> {
    let mut report = BenchReport {
        cpu: cpu_model(),
        simd: crate::kernels::simd_level(),
        cores: num_cpus(),
        train: vec![],
        eval: vec![],
    };
    for (d, w, b) in TRAIN_CONFIGS {
        let id = format!("{d}x{w}-b{b}");
        if !o.only.is_empty() && !o.only.iter().any(|x| x == &id) {
            continue;
        }
        report.train.push(bench_train(d, w, b, o.repeats.max(1)));
    }
    if o.only.is_empty() {
        for shape in [
            Shape {
                depth: 3,
                width: 100,
            },
            Shape {
                depth: 3,
                width: 1000,
            },
        ] {
            let mut threads = vec![1];
            if num_cpus() > 1 {
                threads.push(num_cpus());
            }
            for t in threads {
                report.eval.push(bench_eval(shape, t, o.repeats.max(1))?);
            }
        }
    }
    if o.json {
        let s = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        println!("{s}");
    } else {
        println!(
            "preinterp bench on {} ({} cores, {} kernels)",
            report.cpu, report.cores, report.simd
        );
        println!("training, 1 thread, Adam, 5000 samples/epoch:");
        println!(
            "  {:<14} {:>10} {:>12} {:>8}",
            "config", "ms/epoch", "samples/s", "GFLOPS"
        );
        for t in &report.train {
            println!(
                "  {:<14} {:>10.2} {:>12.0} {:>8.1}",
                t.id, t.ms_per_epoch, t.samples_per_s, t.gflops
            );
        }
        if !report.eval.is_empty() {
            println!("per-sample evaluation, 10,000 samples:");
            for e in &report.eval {
                println!(
                    "  {:<8} {:>2} thread(s) {:>12.0} samples/s",
                    e.model, e.threads, e.samples_per_s
                );
            }
        }
    }
    Ok(0)
}
