//! Recording: loss and weight histogram binning, the per-epoch robust
//! loss statistics, and one HDF5 checkpoint
//! (per-sample losses of three sets, histograms, norms) appended and
//! flushed.

use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput};
use preinterp::config::Preset;
use preinterp::data::{self, DatasetSpec, Locator};
use preinterp::eval::SetEval;
use preinterp::record::hist::Bins;
use preinterp::record::{Layout, Overwrite, RecordOpts, Recorder};
use preinterp::run::Run;
use preinterp::train::Observer;

fn binning(c: &mut Criterion) {
    let mut g = c.benchmark_group("hist");
    let n = 55_000;
    let losses: Vec<f32> = (0..n)
        .map(|i| 10f32.powf(-8.0 + 11.0 * ((i * 7919) % n) as f32 / n as f32))
        .collect();
    let bins = Bins::log(1e-8, 1e3, 10);
    let mut counts = vec![0u64; bins.len()];
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("loss_bins/55000", |b| {
        b.iter(|| bins.count(&losses, &mut counts))
    });
    // The per-epoch robust statistics every run records (quartiles,
    // fence, share above it, trimmed mean), by selection.
    let mut scratch = Vec::new();
    g.bench_function("loss_stats/55000", |b| {
        b.iter(|| preinterp::stats::loss_stats(&losses, &mut scratch))
    });
    let w: Vec<f32> = (0..78_400)
        .map(|i| ((i * 31 % 1000) as f32 - 500.0) / 2000.0)
        .collect();
    let wb = Bins::symmetric(16.0 / 28.0, 200);
    let mut wc = vec![0u64; wb.len()];
    g.throughput(Throughput::Elements(w.len() as u64));
    g.bench_function("weight_bins/78400", |b| b.iter(|| wb.count(&w, &mut wc)));
    g.finish();
}

fn checkpoint(c: &mut Criterion) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let d = data::load(
        &DatasetSpec::Folder(root.join("fixtures/mnist-small")),
        &Locator::default(),
    )
    .unwrap();
    let mut cfg = Preset::A.config();
    cfg.train_size = 500;
    cfg.stop = preinterp::config::Stop::Epochs { epochs: 1 };
    cfg.threads = 1;
    let mut run = Run::seeded(cfg, &d).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        cfg: &run.cfg,
        sets: &run.sets,
        opts: &RecordOpts::default(),
        threads: 1,
    };
    let mut rec =
        Recorder::create(&dir.path().join("bench.h5"), Overwrite::Refuse, &layout).unwrap();
    // One real epoch first, so the file holds everything a checkpoint touches.
    run.train(&mut (), &AtomicBool::new(false)).unwrap();
    let Run {
        sets,
        trainer: t,
        evaluator: mut ev,
        ..
    } = run;
    let mut per = preinterp::train::PerSample {
        train: SetEval::with_len(sets.split.train.len()),
        val: SetEval::with_len(sets.split.val.len()),
        eval: SetEval::with_len(sets.eval.len()),
    };
    ev.evaluate(&t.params, &d.pool, &sets.split.train, &mut per.train);
    ev.evaluate(&t.params, &d.pool, &sets.split.val, &mut per.val);
    ev.evaluate(&t.params, &d.test, &sets.eval, &mut per.eval);
    let mut it = 0u64;
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(
        (per.train.loss.len() + per.val.loss.len() + per.eval.loss.len()) as u64,
    ));
    g.bench_function("checkpoint_append/3x100-1000samples", |b| {
        b.iter(|| {
            it += 1;
            rec.checkpoint(it, &per, &t).unwrap()
        })
    });
    g.finish();
}

criterion::criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(2));
    targets = binning, checkpoint
}
