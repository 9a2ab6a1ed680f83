//! The same seed gives bit-identical results, whatever the thread count
//! (training and evaluation), resumed or not.

use preinterp::config::{Preset, RecordOpts, RunConfig};
use preinterp::data::{self, DatasetSpec, Locator};
use preinterp::error::Result;
use preinterp::eval::{Evaluator, SetEval};
use preinterp::model::init_params;
use preinterp::net::split::Splitting;
use preinterp::record::{Overwrite, Recorder};
use preinterp::run::Run;
use preinterp::train::{EpochMetrics, Observer, PerSample, Status, TrainReport, Trainer};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::fixtures;

fn run(threads: usize, seed: u64) -> (TrainReport, Vec<f32>) {
    let d = data::load(
        &DatasetSpec::Folder(fixtures().join("mnist-small")),
        &Locator::default(),
    )
    .unwrap();
    let mut cfg = Preset::A.config();
    cfg.train_size = 600;
    cfg.batch_size = 50;
    cfg.threads = threads;
    cfg.seed = seed;
    cfg.shape.width = 20;
    cfg.stop = preinterp::config::Stop::Epochs { epochs: 3 };
    let mut run = Run::seeded(cfg, &d).unwrap();
    let r = run.train(&mut (), &AtomicBool::new(false)).unwrap();
    (r, run.trainer.params)
}

fn curves(r: &TrainReport) -> Vec<[u64; 6]> {
    r.epochs
        .iter()
        .map(|m| {
            [
                m.train.loss,
                m.train.acc,
                m.val.loss,
                m.val.acc,
                m.eval.loss,
                m.eval.acc,
            ]
            .map(f64::to_bits)
        })
        .collect()
}

#[test]
fn one_two_and_three_threads_give_identical_runs() {
    let (r1, p1) = run(1, 3);
    let (r2, p2) = run(2, 3);
    let (r3, p3) = run(3, 3);
    assert_eq!(curves(&r1), curves(&r2));
    assert_eq!(curves(&r1), curves(&r3));
    assert_eq!(p1, p2);
    assert_eq!(p1, p3);
    let (r4, _) = run(1, 4);
    assert_ne!(curves(&r1), curves(&r4), "another seed gives another run");
}

/// Stops a run after epoch `.1`.
struct StopAfter<'a>(&'a AtomicBool, usize);

impl Observer for StopAfter<'_> {
    fn epoch_end(&mut self, m: &EpochMetrics, _: &PerSample, _: &Trainer) -> Result<()> {
        if m.epoch == self.1 {
            self.0.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A 2x300 model at batch 128 has every hidden layer cut across the
/// run's threads: runs on 1, 2 and 3 threads are bit-identical, and so
/// is one recorded on 2 threads, stopped after epoch 1 and resumed on 3.
#[test]
fn wide_layers_cut_across_threads_and_resumed_on_others_give_identical_runs() {
    let d = data::load(
        &DatasetSpec::Folder(fixtures().join("mnist-small")),
        &Locator::default(),
    )
    .unwrap();
    let mut cfg = Preset::A.config();
    cfg.train_size = 600;
    cfg.batch_size = 128;
    cfg.shape = preinterp::model::Shape::new(2, 300).unwrap();
    cfg.stop = preinterp::config::Stop::Epochs { epochs: 3 };
    let layers = cfg.shape.layers();
    assert!(Splitting::new(2).may_split(&layers, 128, 300));
    let never = AtomicBool::new(false);
    let mut runs = vec![];
    for threads in [1, 2, 3] {
        let cfg = RunConfig {
            threads,
            ..cfg.clone()
        };
        let mut run = Run::seeded(cfg, &d).unwrap();
        assert_eq!(run.trainer.threads(), threads);
        let r = run.train(&mut (), &never).unwrap();
        runs.push((curves(&r), run.trainer.params));
    }
    assert!(runs[1] == runs[0] && runs[2] == runs[0], "1, 2, 3 threads");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    let stop = AtomicBool::new(false);
    let cfg2 = RunConfig {
        threads: 2,
        ..cfg.clone()
    };
    let mut run = Run::seeded(cfg2, &d).unwrap();
    let opts = RecordOpts::default();
    let mut obs = StopAfter(&stop, 1);
    let r = run
        .train_recorded(&path, Overwrite::Refuse, opts, &mut obs, &stop)
        .unwrap();
    assert_eq!(r.status, Status::Interrupted);
    let point = Recorder::resume_point(&path).unwrap();
    assert_eq!(point.epoch, 1);
    let mut resumed = Run::resumed(&path, &point, &d, 3).unwrap();
    assert_eq!(resumed.trainer.threads(), 3);
    let r = resumed
        .continue_recorded(&path, &point, &mut (), &never)
        .unwrap();
    assert_eq!(curves(&r)[..], runs[0].0[2..], "epochs after the resume");
    assert!(resumed.trainer.params == runs[0].1, "final weights");
}

#[test]
fn per_sample_losses_do_not_depend_on_threads_or_block_size() {
    let d = data::load(
        &DatasetSpec::Folder(fixtures().join("mnist-small")),
        &Locator::default(),
    )
    .unwrap();
    let idx: Vec<u32> = (0..d.test.len() as u32).rev().collect();
    assert!(idx.len() > 333, "the set spans several blocks");
    for (depth, width) in [(2, 37), (3, 100), (1, 300)] {
        check_threads_and_blocks(&d.test, &idx, depth, width);
    }
}

fn check_threads_and_blocks(
    src: &preinterp::data::Samples,
    idx: &[u32],
    depth: usize,
    width: usize,
) {
    let shape = preinterp::model::Shape::new(depth, width).unwrap();
    let params = init_params(&shape, 9);
    let mut outs = vec![];
    let default = preinterp::eval::EVAL_BLOCK;
    for (threads, block) in [
        (1, default),
        (2, default),
        (5, default),
        (1, 7),
        (2, 100),
        (3, 333),
    ] {
        let mut ev = Evaluator::with_block(&shape, threads, block).unwrap();
        let mut out = SetEval::with_len(idx.len());
        ev.evaluate(&params, src, idx, &mut out);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        outs.push((bits(&out.loss), out.pred.clone(), out.correct.clone()));
    }
    for (k, o) in outs.iter().enumerate().skip(1) {
        assert!(
            o == &outs[0],
            "{depth}x{width}: run {k} differs from the first"
        );
    }
}
