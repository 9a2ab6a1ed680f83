//! Instruction counts (callgrind, through gungraun) of the hot kernels
//! and one training step: deterministic, so a small threshold can fail
//! CI on a real regression whatever else the machine is doing.
//!
//! valgrind cannot decode AVX-512, and every kernel here picks its SIMD
//! path from CPUID at run time, so under valgrind they take the AVX2+FMA
//! path: these counts measure that path. Run with `scripts/instr-gate`.

use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use preinterp::bench::synthetic;
use preinterp::config::adam_default;
use preinterp::data::Samples;
use preinterp::eval::{Evaluator, SetEval};
use preinterp::kernels::bias_relu::{bias_relu_backward, bias_relu_forward};
use preinterp::kernels::exp::exp_inplace;
use preinterp::kernels::pixel_sparse::{first_layer_sparse, NonZeros, PackedFirst};
use preinterp::kernels::softmax_xent::{softmax_xent_forward_backward, BlockOut};
use preinterp::model::{init_params, Shape};
use preinterp::optim::{adam_update, AdamConsts};
use preinterp::train::Trainer;

fn rows(n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * scale)
        .collect()
}

#[library_benchmark]
#[bench::h100(rows(64 * 100, 2.0))]
fn bias_relu_fwd_64x100(mut z: Vec<f32>) -> Vec<f32> {
    bias_relu_forward(&mut z, black_box(&[0.01; 100]));
    z
}

#[library_benchmark]
#[bench::h100((rows(64 * 100, 2.0), rows(64 * 100, 1.0)))]
fn bias_relu_bwd_64x100((mut da, a): (Vec<f32>, Vec<f32>)) -> Vec<f32> {
    let mut db = vec![0.0; 100];
    bias_relu_backward(&mut da, black_box(&a), &mut db);
    db
}

#[library_benchmark]
#[bench::b64(rows(64 * 10, 20.0))]
fn softmax_xent_64(mut z: Vec<f32>) -> Vec<f32> {
    let labels: Vec<u8> = (0..64).map(|i| (i % 10) as u8).collect();
    let (mut dz, mut db, mut loss, mut pred) =
        (vec![0.0; 640], vec![0.0; 10], vec![0.0; 64], vec![0; 64]);
    softmax_xent_forward_backward(
        &mut z,
        &[0.0; 10],
        &labels,
        1.0 / 64.0,
        &mut dz,
        &mut db,
        BlockOut {
            loss: &mut loss,
            pred: &mut pred,
        },
    );
    loss
}

#[library_benchmark]
#[bench::n4096(rows(4096, 30.0))]
fn exp_4096(mut x: Vec<f32>) -> Vec<f32> {
    for v in x.iter_mut() {
        *v = -v.abs();
    }
    exp_inplace(&mut x);
    x
}

#[library_benchmark]
#[bench::p99710((rows(99_710, 1.0), rows(99_710, 0.01)))]
fn adam_3x100((mut p, g): (Vec<f32>, Vec<f32>)) -> Vec<f32> {
    let (mut m, mut v) = (vec![0.0; p.len()], vec![0.0; p.len()]);
    adam_update(
        &mut p,
        black_box(&g),
        &mut m,
        &mut v,
        &AdamConsts::new(1e-3, 0.9, 0.999, 1e-8, 3),
    );
    p
}

fn step_setup(batch: usize) -> (Trainer, Samples, Vec<u32>) {
    let shape = Shape {
        depth: 3,
        width: 100,
    };
    let mut t = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), batch);
    let data = synthetic(batch, 1);
    let idx: Vec<u32> = (0..batch as u32).collect();
    t.step(&data, &idx); // warm up faer's dispatch and caches outside the count
    (t, data, idx)
}

#[library_benchmark]
#[bench::b64(step_setup(64))]
fn train_step_3x100((mut t, data, idx): (Trainer, Samples, Vec<u32>)) -> f32 {
    t.step(black_box(&data), black_box(&idx))
}

/// 192 images of 19% non-zero pixels (MNIST's density) and 3x100
/// weights, the first layer packed.
fn sparse_setup() -> (Samples, Vec<u32>, NonZeros, PackedFirst) {
    let data = synthetic(192, 2);
    let idx: Vec<u32> = (0..192).collect();
    let w = init_params(
        &Shape {
            depth: 3,
            width: 100,
        },
        0,
    );
    let mut packed = PackedFirst::new(100);
    packed.pack(&w[..100 * 784], 100);
    let mut nz = NonZeros::new(192);
    nz.fill(&data, &idx);
    (data, idx, nz, packed)
}

#[library_benchmark]
#[bench::b192(sparse_setup())]
fn nonzeros_fill_192((data, idx, mut nz, _): (Samples, Vec<u32>, NonZeros, PackedFirst)) -> usize {
    nz.fill(black_box(&data), black_box(&idx))
}

#[library_benchmark]
#[bench::b192x100(sparse_setup())]
fn sparse_first_layer_192x100(
    (_, _, mut nz, packed): (Samples, Vec<u32>, NonZeros, PackedFirst),
) -> Vec<f32> {
    let mut out = vec![0.0; 192 * 100];
    first_layer_sparse(black_box(&packed), &mut nz, &mut out, 100, 1);
    out
}

fn eval_setup(n: usize) -> (Evaluator, Vec<f32>, Samples, Vec<u32>) {
    let shape = Shape {
        depth: 3,
        width: 100,
    };
    let mut ev = Evaluator::new(&shape, 1).expect("one thread");
    let params = init_params(&shape, 0);
    let data = synthetic(n, 2);
    let idx: Vec<u32> = (0..n as u32).collect();
    ev.evaluate(&params, &data, &idx, &mut SetEval::with_len(n)); // warm up
    (ev, params, data, idx)
}

// Per-sample evaluation of one 192-sample block: the first layer's
// weights packed, the non-zeros listed, every layer, the losses.
#[library_benchmark]
#[bench::b192(eval_setup(192))]
fn eval_3x100((mut ev, params, data, idx): (Evaluator, Vec<f32>, Samples, Vec<u32>)) -> Vec<f32> {
    let mut out = SetEval::with_len(idx.len());
    ev.evaluate(black_box(&params), black_box(&data), &idx, &mut out);
    out.loss
}

library_benchmark_group!(
    name = kernels;
    benchmarks = bias_relu_fwd_64x100, bias_relu_bwd_64x100, softmax_xent_64, exp_4096, adam_3x100, train_step_3x100,
        nonzeros_fill_192, sparse_first_layer_192x100, eval_3x100
);

main!(library_benchmark_groups = kernels);
