//! faer's GEMM on the products of a 3x100 batch-64 training step (and
//! of evaluation's feature-major layout), each alone in a hot loop: the
//! best of 7 runs of 2000 calls, in GFLOPS and against the one-core FMA
//! peak `bench` measures (116.7 on the 2-core AMD EPYC reference).
//! Issue 21 asked whether a kernel of our own would beat faer on the
//! small products; these numbers answered it (75-98% of the peak:
//! no). Not used by tests or CI.
//!
//!     cargo run --release --example faer_shapes
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use std::time::Instant;

/// The one-core FMA peak of the reference machine, GFLOPS.
const PEAK: f64 = 116.7;

fn rm(b: &[f32], r: usize, c: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&b[..r * c], r, c)
}
fn cm(b: &[f32], r: usize, c: usize) -> MatRef<'_, f32> {
    MatRef::from_column_major_slice(&b[..r * c], r, c)
}

/// Times `dst = lhs rhs` (`dst` in `out`, row-major or feature-major)
/// and prints the best time and its rate.
fn time(name: &str, out: &mut [f32], col_major: bool, lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) {
    let (m, n, k) = (lhs.nrows(), rhs.ncols(), lhs.ncols());
    let mut product = || {
        let dst = if col_major {
            MatMut::from_column_major_slice_mut(&mut out[..m * n], m, n)
        } else {
            MatMut::from_row_major_slice_mut(&mut out[..m * n], m, n)
        };
        matmul(dst, Accum::Replace, lhs, rhs, 1.0, Par::Seq);
    };
    for _ in 0..200 {
        product();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let calls = 2000;
        for _ in 0..calls {
            product();
        }
        best = best.min(t.elapsed().as_secs_f64() / calls as f64);
    }
    let gflops = 2.0 * (m * n * k) as f64 / best / 1e9;
    println!(
        "{name:40} {:8.2} us  {gflops:6.1} GFLOPS ({:4.1}% of {PEAK})",
        best * 1e6,
        100.0 * gflops / PEAK
    );
}

fn main() {
    let v = |n: usize| {
        (0..n)
            .map(|i| ((i * 2654435761usize) % 1000) as f32 / 1000.0 - 0.5)
            .collect::<Vec<f32>>()
    };
    let b = 64;
    let (x, w0, w1, w3) = (v(b * 784), v(100 * 784), v(100 * 100), v(10 * 100));
    let (a, dz, dz3) = (v(b * 100), v(b * 100), v(b * 10));
    let mut d = vec![0f32; 100 * 784];
    for k in [784, 492] {
        let name = format!("fwd L0 {b}x100x{k} rm (W packed)");
        time(
            &name,
            &mut d,
            false,
            rm(&x, b, k),
            rm(&w0, 100, k).transpose(),
        );
    }
    let w1t = rm(&w1, 100, 100).transpose();
    time("fwd L1 64x100x100 rm", &mut d, false, rm(&a, b, 100), w1t);
    let w3t = rm(&w3, 10, 100).transpose();
    time("fwd L3 64x10x100 rm", &mut d, false, rm(&a, b, 100), w3t);
    time(
        "fwd L1 64x100x100 featmajor",
        &mut d,
        true,
        cm(&a, b, 100),
        w1t,
    );
    let w0t = rm(&w0, 100, 784).transpose();
    time(
        "fwd L0 64x100x784 featmajor",
        &mut d,
        true,
        cm(&x, b, 784),
        w0t,
    );
    time(
        "bwd da 64x100x100",
        &mut d,
        false,
        rm(&dz, b, 100),
        rm(&w1, 100, 100),
    );
    time(
        "bwd da3 64x100x10",
        &mut d,
        false,
        rm(&dz3, b, 10),
        rm(&w3, 10, 100),
    );
    let dzt = rm(&dz, b, 100).transpose();
    time("bwd dW 100x100x64", &mut d, false, dzt, rm(&a, b, 100));
    time(
        "bwd dW3 10x100x64",
        &mut d,
        false,
        rm(&dz3, b, 10).transpose(),
        rm(&a, b, 100),
    );
    for (r0, r, k) in [(0, 83, 784), (83, 17, 784), (0, 83, 492)] {
        let name = format!("bwd dW0 {r}x{k}x64");
        time(&name, &mut d, false, dzt.subrows(r0, r), rm(&x, b, k));
    }
}
