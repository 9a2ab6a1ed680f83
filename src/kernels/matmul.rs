//! Dense matrix products through faer, always `Par::Seq`: parallelism
//! lives one level up (samples or models across cores), so a product is
//! one thread's job and its rounding never depends on the thread count.

use faer::linalg::matmul::matmul as faer_matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `dst (M x N) = lhs (M x K) * rhs (K x N)`, or `+=` with
/// `Accum::Add`. Views may have any strides.
#[track_caller]
pub fn matmul(dst: MatMut<'_, f32>, accum: Accum, lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) {
    faer_matmul(dst, accum, lhs, rhs, 1.0f32, Par::Seq);
}

/// The naive triple loop `matmul` must agree with (accumulated in f64).
pub fn matmul_ref(
    mut dst: MatMut<'_, f32>,
    accum: Accum,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
) {
    assert_eq!(lhs.ncols(), rhs.nrows());
    assert_eq!((dst.nrows(), dst.ncols()), (lhs.nrows(), rhs.ncols()));
    for i in 0..dst.nrows() {
        for j in 0..dst.ncols() {
            let mut acc = 0.0f64;
            for k in 0..lhs.ncols() {
                acc += lhs[(i, k)] as f64 * rhs[(k, j)] as f64;
            }
            let prev = match accum {
                Accum::Replace => 0.0,
                Accum::Add => dst[(i, j)] as f64,
            };
            dst[(i, j)] = (prev + acc) as f32;
        }
    }
}

/// A row-major `rows x cols` view of `buf` (which may be longer).
#[track_caller]
pub fn view(buf: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&buf[..rows * cols], rows, cols)
}

/// A mutable row-major `rows x cols` view of `buf` (which may be longer).
#[track_caller]
pub fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(&mut buf[..rows * cols], rows, cols)
}
