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
use preinterp::kernels::bias_relu::{bias_relu_backward, bias_relu_forward};
use preinterp::kernels::exp::exp_inplace;
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

library_benchmark_group!(
    name = kernels;
    benchmarks = bias_relu_fwd_64x100, bias_relu_bwd_64x100, softmax_xent_64, exp_4096, adam_3x100, train_step_3x100
);

main!(library_benchmark_groups = kernels);
