//! One training step (gather, forward, fused loss, backward, Adam) for
//! the standard configs, with FLOP throughput. Steps cycle through the
//! batches of a 5000-sample epoch, as training does: replaying one batch
//! would drive its loss to 0 and the gradients into subnormal numbers,
//! which no real epoch is made of.

use criterion::{BenchmarkId, Criterion, Throughput};
use preinterp::bench::synthetic;
use preinterp::config::adam_default;
use preinterp::model::{init_params, Shape};
use preinterp::train::Trainer;

fn train_step(c: &mut Criterion) {
    let data = synthetic(5000, 1);
    let mut g = c.benchmark_group("train_step");
    for (depth, width, batch) in [
        (3, 100, 16),
        (3, 100, 64),
        (3, 100, 256),
        (3, 1000, 64),
        (10, 100, 64),
    ] {
        let shape = Shape { depth, width };
        let mut t = Trainer::new(shape, init_params(&shape, 0), adam_default(1e-3), batch);
        let order: Vec<u32> = (0..5000).collect();
        let batches: Vec<&[u32]> = order.chunks_exact(batch).collect();
        let mut k = 0usize;
        g.throughput(Throughput::Elements(
            (shape.train_flops_per_sample() * batch) as u64,
        ));
        g.bench_function(
            BenchmarkId::new("adam", format!("{depth}x{width}-b{batch}")),
            |b| {
                b.iter(|| {
                    k = (k + 1) % batches.len();
                    t.step(&data, batches[k])
                })
            },
        );
    }
    g.finish();
}

criterion::criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = train_step
}
