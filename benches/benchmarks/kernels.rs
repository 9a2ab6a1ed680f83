//! The fused kernels on their own: bias+ReLU forward/backward,
//! softmax-cross-entropy forward+gradient, the Adam update.

use criterion::{Criterion, Throughput};
use preinterp::kernels::bias_relu::{bias_relu_backward, bias_relu_forward};
use preinterp::kernels::softmax_xent::{softmax_xent_forward_backward, BlockOut};
use preinterp::optim::{adam_update, sgd_momentum_update, sgd_update, AdamConsts};

fn kernels(c: &mut Criterion) {
    let (b, h) = (64, 100);
    let mut g = c.benchmark_group("kernels");
    let bias = vec![0.01f32; h];
    let mut z: Vec<f32> = (0..b * h).map(|i| (i as f32).sin()).collect();
    g.throughput(Throughput::Elements((b * h) as u64));
    g.bench_function("bias_relu_forward/64x100", |bn| {
        bn.iter(|| bias_relu_forward(&mut z, &bias))
    });
    let a = z.clone();
    let mut da: Vec<f32> = (0..b * h).map(|i| (i as f32).cos()).collect();
    let mut db = vec![0.0f32; h];
    g.bench_function("bias_relu_backward/64x100", |bn| {
        bn.iter(|| bias_relu_backward(&mut da, &a, &mut db))
    });

    let logits: Vec<f32> = (0..b * 10).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
    let labels: Vec<u8> = (0..b).map(|i| (i % 10) as u8).collect();
    let (mut work, mut dz, mut dbo) = (logits.clone(), vec![0.0f32; b * 10], vec![0.0f32; 10]);
    let (mut loss, mut pred) = (vec![0.0f32; b], vec![0u8; b]);
    g.throughput(Throughput::Elements(b as u64));
    g.bench_function("softmax_xent_forward_backward/64", |bn| {
        bn.iter(|| {
            work.copy_from_slice(&logits);
            softmax_xent_forward_backward(
                &mut work,
                &[0.0; 10],
                &labels,
                1.0 / b as f32,
                &mut dz,
                &mut dbo,
                BlockOut {
                    loss: &mut loss,
                    pred: &mut pred,
                },
            )
        })
    });

    let n = 99_710;
    let (mut p, gr, mut m, mut v) = (
        vec![0.1f32; n],
        vec![0.01f32; n],
        vec![0.0f32; n],
        vec![0.0f32; n],
    );
    let consts = AdamConsts::new(1e-3, 0.9, 0.999, 1e-8, 10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("adam_update/3x100", |bn| {
        bn.iter(|| adam_update(&mut p, &gr, &mut m, &mut v, &consts))
    });
    g.bench_function("sgd_update/3x100", |bn| {
        bn.iter(|| sgd_update(&mut p, &gr, 0.01))
    });
    let mut buf = vec![0.0f32; n];
    g.bench_function("sgd_momentum_update/3x100", |bn| {
        bn.iter(|| sgd_momentum_update(&mut p, &gr, &mut buf, 0.01, 0.9, false))
    });
    g.finish();
}

criterion::criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = kernels
}
