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

fn rm(b: &[f32], r: usize, c: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&b[..r * c], r, c)
}
fn rmm(b: &mut [f32], r: usize, c: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(&mut b[..r * c], r, c)
}
fn cm(b: &[f32], r: usize, c: usize) -> MatRef<'_, f32> {
    MatRef::from_column_major_slice(&b[..r * c], r, c)
}
fn cmm(b: &mut [f32], r: usize, c: usize) -> MatMut<'_, f32> {
    MatMut::from_column_major_slice_mut(&mut b[..r * c], r, c)
}

/// Prints the best time of `f` and its rate at `flops` per call.
fn time<F: FnMut()>(name: &str, flops: f64, mut f: F) {
    for _ in 0..200 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let n = 2000;
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    println!(
        "{name:40} {:8.2} us  {:6.1} GFLOPS ({:4.1}% of 116.7)",
        best * 1e6,
        flops / best / 1e9,
        flops / best / 1e9 / 116.7 * 100.0
    );
}

fn main() {
    let v = |n: usize| {
        (0..n)
            .map(|i| ((i * 2654435761usize) % 1000) as f32 / 1000.0 - 0.5)
            .collect::<Vec<f32>>()
    };
    let b = 64;
    let x = v(b * 784);
    let w0 = v(100 * 784);
    let w1 = v(100 * 100);
    let a = v(b * 100);
    let w3 = v(10 * 100);
    let mut d = vec![0f32; 100 * 784];
    let dz = v(b * 100);
    let dz3 = v(b * 10);
    for &k in &[784usize, 492] {
        time(
            &format!("fwd L0 {b}x100x{k} rm (W packed)"),
            2.0 * (b * 100 * k) as f64,
            || {
                matmul(
                    rmm(&mut d, b, 100),
                    Accum::Replace,
                    rm(&x, b, k),
                    rm(&w0, 100, k).transpose(),
                    1.0,
                    Par::Seq,
                )
            },
        );
    }
    time("fwd L1 64x100x100 rm", 2.0 * (b * 100 * 100) as f64, || {
        matmul(
            rmm(&mut d, b, 100),
            Accum::Replace,
            rm(&a, b, 100),
            rm(&w1, 100, 100).transpose(),
            1.0,
            Par::Seq,
        )
    });
    time("fwd L3 64x10x100 rm", 2.0 * (b * 10 * 100) as f64, || {
        matmul(
            rmm(&mut d, b, 10),
            Accum::Replace,
            rm(&a, b, 100),
            rm(&w3, 10, 100).transpose(),
            1.0,
            Par::Seq,
        )
    });
    time(
        "fwd L1 64x100x100 featmajor",
        2.0 * (b * 100 * 100) as f64,
        || {
            matmul(
                cmm(&mut d, b, 100),
                Accum::Replace,
                cm(&a, b, 100),
                rm(&w1, 100, 100).transpose(),
                1.0,
                Par::Seq,
            )
        },
    );
    time(
        "fwd L0 64x100x784 featmajor",
        2.0 * (b * 100 * 784) as f64,
        || {
            matmul(
                cmm(&mut d, b, 100),
                Accum::Replace,
                cm(&x, b, 784),
                rm(&w0, 100, 784).transpose(),
                1.0,
                Par::Seq,
            )
        },
    );
    time("bwd da 64x100x100", 2.0 * (b * 100 * 100) as f64, || {
        matmul(
            rmm(&mut d, b, 100),
            Accum::Replace,
            rm(&dz, b, 100),
            rm(&w1, 100, 100),
            1.0,
            Par::Seq,
        )
    });
    time("bwd da3 64x100x10", 2.0 * (b * 100 * 10) as f64, || {
        matmul(
            rmm(&mut d, b, 100),
            Accum::Replace,
            rm(&dz3, b, 10),
            rm(&w3, 10, 100),
            1.0,
            Par::Seq,
        )
    });
    time("bwd dW 100x100x64", 2.0 * (b * 100 * 100) as f64, || {
        matmul(
            rmm(&mut d, 100, 100),
            Accum::Replace,
            rm(&dz, b, 100).transpose(),
            rm(&a, b, 100),
            1.0,
            Par::Seq,
        )
    });
    time("bwd dW3 10x100x64", 2.0 * (b * 100 * 10) as f64, || {
        matmul(
            rmm(&mut d, 10, 100),
            Accum::Replace,
            rm(&dz3, b, 10).transpose(),
            rm(&a, b, 100),
            1.0,
            Par::Seq,
        )
    });
    time("bwd dW0 83x784x64", 2.0 * (b * 83 * 784) as f64, || {
        matmul(
            rmm(&mut d, 83, 784),
            Accum::Replace,
            rm(&dz, b, 100).subcols(0, 83).transpose(),
            rm(&x, b, 784),
            1.0,
            Par::Seq,
        )
    });
    time("bwd dW0 17x784x64", 2.0 * (b * 17 * 784) as f64, || {
        matmul(
            rmm(&mut d, 17, 784),
            Accum::Replace,
            rm(&dz, b, 100).subcols(83, 17).transpose(),
            rm(&x, b, 784),
            1.0,
            Par::Seq,
        )
    });
    time("bwd dW0 83x492x64", 2.0 * (b * 83 * 492) as f64, || {
        matmul(
            rmm(&mut d, 83, 492),
            Accum::Replace,
            rm(&dz, b, 100).subcols(0, 83).transpose(),
            rm(&x, b, 492),
            1.0,
            Par::Seq,
        )
    });
}
