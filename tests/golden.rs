//! Step-by-step equivalence with PyTorch 2.15 on fixture data.
//!
//! `scripts/make_golden.py` trained four MLPs in PyTorch (float32, one
//! thread) and stored the initial weights, the batch order, the loss of
//! every step, the first step's gradients and the final weights
//! (`fixtures/golden/README.md`). Here the same initial weights are
//! replayed through preinterp's `Trainer::step` on the same batches.

use std::path::PathBuf;

use hdf5::types::VarLenUnicode;
use preinterp::config::adam_default;
use preinterp::data::{self, DatasetSpec, Locator};
use preinterp::model::{Shape, CLASSES};
use preinterp::net::{forward, gather, loss_forward, Workspace};
use preinterp::optim::OptimizerKind;
use preinterp::train::Trainer;
use preinterp::weights;

use crate::util::fixtures;

struct Golden {
    path: PathBuf,
    file: hdf5::File,
    shape: Shape,
    opt: OptimizerKind,
    batch: usize,
}

fn open(name: &str) -> Golden {
    let path = fixtures().join("golden").join(format!("{name}.h5"));
    let file = hdf5::File::open(&path).unwrap();
    let int = |k: &str| file.attr(k).unwrap().read_scalar::<i64>().unwrap() as usize;
    let float = |k: &str| file.attr(k).unwrap().read_scalar::<f64>().unwrap();
    assert_eq!(int("format_version"), 1);
    let opt_name = file
        .attr("optimizer")
        .unwrap()
        .read_scalar::<VarLenUnicode>()
        .unwrap();
    let shape = Shape::new(int("depth"), int("width")).unwrap();
    let opt = match opt_name.as_str() {
        "adam" => {
            assert_eq!(
                (float("beta1"), float("beta2"), float("eps")),
                (0.9, 0.999, 1e-8)
            );
            adam_default(float("lr"))
        }
        "sgd" => OptimizerKind::Sgd {
            lr: float("lr"),
            momentum: float("momentum"),
        },
        o => panic!("unknown optimizer {o}"),
    };
    Golden {
        batch: int("batch_size"),
        path,
        file,
        shape,
        opt,
    }
}

fn params(g: &Golden, group: &str) -> Vec<f32> {
    weights::read_group(&g.path, &g.file.group(group).unwrap(), &g.shape).unwrap()
}

fn fixture_pool() -> data::Samples {
    let spec = DatasetSpec::Folder(fixtures().join("mnist-small"));
    data::load(&spec, &Locator::default()).unwrap().pool
}

fn max_rel(got: &[f32], want: &[f32]) -> f64 {
    let scale = want
        .iter()
        .fold(0.0f64, |m, &x| m.max(x.abs() as f64))
        .max(1e-30);
    got.iter()
        .zip(want)
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .fold(0.0, f64::max)
        / scale
}

/// Replays one golden file; returns (worst per-step loss relative
/// error, worst final-weight error relative to each layer's max |w|).
fn replay(name: &str, final_tol: f64) -> (f64, f64) {
    let g = open(name);
    let pool = fixture_pool();
    let init = params(&g, "init");
    let layers = g.shape.layers();

    // The first 8 samples under the initial weights: logits and losses.
    let mut ws = Workspace::new(&g.shape, 8);
    let idx: Vec<u32> = (0..8).collect();
    gather(&pool, &idx, &mut ws.x, &mut ws.labels);
    forward(&layers, &init, &mut ws, 8);
    let out = layers.last().unwrap();
    let mut logits = ws.logits[..8 * CLASSES].to_vec();
    for (k, v) in logits.iter_mut().enumerate() {
        *v += init[out.b + k % CLASSES];
    }
    let want_logits: Vec<f32> = g.file.dataset("logits0").unwrap().read_raw().unwrap();
    assert!(max_rel(&logits, &want_logits) < 1e-5, "{name}: logits0");
    loss_forward(&layers, &init, &mut ws, 8);
    let want_loss0: Vec<f32> = g
        .file
        .dataset("per_sample_loss0")
        .unwrap()
        .read_raw()
        .unwrap();
    for (a, b) in ws.loss[..8].iter().zip(&want_loss0) {
        assert!(
            ((a - b) / b).abs() < 1e-5,
            "{name}: per-sample loss {a} vs {b}"
        );
    }

    // Replay every step.
    let offsets: Vec<u64> = g.file.dataset("batch_offsets").unwrap().read_raw().unwrap();
    let indices: Vec<u32> = g.file.dataset("batch_indices").unwrap().read_raw().unwrap();
    let losses: Vec<f32> = g.file.dataset("losses").unwrap().read_raw().unwrap();
    assert!(losses.len() >= 200, "{name}: fewer than 200 steps");
    let mut t = Trainer::new(g.shape, init, g.opt, g.batch);
    let mut worst_loss = 0.0f64;
    for (s, want) in losses.iter().enumerate() {
        let batch = &indices[offsets[s] as usize..offsets[s + 1] as usize];
        if s == 0 {
            // A step applies its gradient block by block without keeping
            // it; `gradient` computes the same one into `t.grads`.
            t.gradient(&pool, batch);
            let grad0 = params(&g, "grad0");
            for l in &layers {
                let (a, b) = (&t.grads[l.w_range()], &grad0[l.w_range()]);
                assert!(
                    max_rel(a, b) < 1e-4,
                    "{name}: grad0 weights of a layer off by {}",
                    max_rel(a, b)
                );
                let (a, b) = (&t.grads[l.b_range()], &grad0[l.b_range()]);
                assert!(
                    max_rel(a, b) < 1e-4,
                    "{name}: grad0 bias of a layer off by {}",
                    max_rel(a, b)
                );
            }
        }
        let got = t.step(&pool, batch);
        let rel = ((got - want) / want).abs() as f64;
        assert!(
            rel <= 1e-4,
            "{name}: step {s} loss {got} vs PyTorch {want} (rel {rel:.2e})"
        );
        worst_loss = worst_loss.max(rel);
    }
    let fin = params(&g, "final");
    let mut worst_w = 0.0f64;
    for l in &layers {
        for r in [l.w_range(), l.b_range()] {
            worst_w = worst_w.max(max_rel(&t.params[r.clone()], &fin[r]));
        }
    }
    assert!(
        worst_w <= final_tol,
        "{name}: final weights off by {worst_w:.2e} of a layer's max |w|"
    );
    eprintln!("{name}: worst step-loss rel err {worst_loss:.2e}, final weights {worst_w:.2e}");
    (worst_loss, worst_w)
}

#[test]
fn golden_sgd_1x50_b16() {
    replay("sgd_1x50_b16", 1e-5);
}

#[test]
fn golden_sgd_momentum_2x32_b96() {
    replay("sgdm_2x32_b96", 1e-5);
}

#[test]
fn golden_adam_3x100_b64() {
    replay("adam_3x100_b64", 1e-3);
}

#[test]
fn golden_adam_5x64_b256() {
    replay("adam_5x64_b256", 1e-3);
}
