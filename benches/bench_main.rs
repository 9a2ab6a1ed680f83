//! Criterion benches guarding the hot loops (`cargo bench`).

mod benchmarks;

criterion::criterion_main!(
    benchmarks::train_step::benches,
    benchmarks::kernels::benches,
    benchmarks::eval::benches,
    benchmarks::record::benches
);
