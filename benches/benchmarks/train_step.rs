//! One training step (gather, forward, fused loss, backward, Adam) for
//! the standard configs, with FLOP throughput.

use criterion::{BenchmarkId, Criterion, Throughput};
use preinterp::bench::synthetic;
use preinterp::config::adam_default;
use preinterp::model::{init_params, Shape};
use preinterp::train::Trainer;

fn train_step(c: &mut Criterion) {
    let data = synthetic(1024, 1);
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
        let idx: Vec<u32> = (0..batch as u32).collect();
        g.throughput(Throughput::Elements(
            (shape.train_flops_per_sample() * batch) as u64,
        ));
        g.bench_function(
            BenchmarkId::new("adam", format!("{depth}x{width}-b{batch}")),
            |b| b.iter(|| t.step(&data, &idx)),
        );
    }
    g.finish();
}

criterion::criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = train_step
}
