//! Per-sample evaluation of 10,000 samples on 1 thread and on all cores
//! (throughput in samples).

use criterion::{BenchmarkId, Criterion, Throughput};
use preinterp::bench::synthetic;
use preinterp::eval::{num_cpus, Evaluator, SetEval};
use preinterp::model::{init_params, Shape};

fn eval(c: &mut Criterion) {
    let n = 10_000;
    let data = synthetic(n, 2);
    let idx: Vec<u32> = (0..n as u32).collect();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(n as u64));
    for width in [100, 1000] {
        let shape = Shape { depth: 3, width };
        let params = init_params(&shape, 0);
        let mut out = SetEval::with_len(n);
        let mut threads = vec![1];
        if num_cpus() > 1 {
            threads.push(num_cpus());
        }
        for t in threads {
            let mut ev = Evaluator::new(&shape, t).unwrap();
            g.bench_function(
                BenchmarkId::new(format!("3x{width}"), format!("{t}threads")),
                |b| b.iter(|| ev.evaluate(&params, &data, &idx, &mut out)),
            );
        }
    }
    g.finish();
}

criterion::criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = eval
}
