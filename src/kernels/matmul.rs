//! Dense matrix products through faer, always `Par::Seq`: parallelism
//! lives one level up (samples or models across cores), so a product is
//! one thread's job and its rounding never depends on the thread count.
//! With `PREINTERP_SIMD=avx2` on an AVX-512 machine the product runs on
//! faer's AVX2 micro-kernels instead (for timing both paths).

use faer::linalg::matmul::matmul as faer_matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// faer hands a product of at most this many multiply-adds (`M N K`)
/// to its small-matrix kernels (nano-gemm), which round differently
/// from its GEMM; a product cut into parts must keep every part above
/// it (see [`crate::net::split`]).
pub(crate) const FAER_SMALL_MNK: usize = 16 * 16 * 16;

/// `dst (M x N) = lhs (M x K) * rhs (K x N)`, or `+=` with
/// `Accum::Add`. Views may have any strides.
#[track_caller]
pub(crate) fn matmul(
    dst: MatMut<'_, f32>,
    accum: Accum,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if super::simd_path() == super::SimdPath::Avx2
        && super::native_path() == super::SimdPath::Avx512
    {
        return matmul_avx2(dst, accum, lhs, rhs);
    }
    faer_matmul(dst, accum, lhs, rhs, 1.0f32, Par::Seq);
}

/// [`matmul`] on faer's AVX2+FMA GEMM (the one faer itself picks on a
/// CPU without AVX-512).
#[cfg(target_arch = "x86_64")]
#[track_caller]
fn matmul_avx2(mut dst: MatMut<'_, f32>, accum: Accum, lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) {
    use private_gemm_x86 as pg;
    assert_eq!(lhs.ncols(), rhs.nrows());
    assert_eq!((dst.nrows(), dst.ncols()), (lhs.nrows(), rhs.ncols()));
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if accum == Accum::Replace {
            dst.fill(0.0);
        }
        return;
    }
    let alpha = 1.0f32;
    // SAFETY: the views are valid for their shapes and strides (faer
    // guarantees it), `dst` does not alias the inputs (it is borrowed
    // mutably), and the CPU has AVX2+FMA (checked by `simd_path`).
    unsafe {
        pg::gemm(
            pg::DType::F32,
            pg::IType::U64,
            pg::InstrSet::Avx256,
            m,
            n,
            k,
            dst.as_ptr_mut() as *mut (),
            dst.row_stride(),
            dst.col_stride(),
            std::ptr::null(),
            std::ptr::null(),
            pg::DstKind::Full,
            match accum {
                Accum::Replace => pg::Accum::Replace,
                Accum::Add => pg::Accum::Add,
            },
            lhs.as_ptr() as *const (),
            lhs.row_stride(),
            lhs.col_stride(),
            false,
            std::ptr::null(),
            0,
            rhs.as_ptr() as *const (),
            rhs.row_stride(),
            rhs.col_stride(),
            false,
            &raw const alpha as *const (),
            1,
        );
    }
}

/// The naive triple loop `matmul` must agree with (accumulated in f64).
#[cfg(test)]
pub(crate) fn matmul_ref(
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
pub(crate) fn view(buf: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&buf[..rows * cols], rows, cols)
}

/// A mutable row-major `rows x cols` view of `buf` (which may be longer).
#[track_caller]
pub(crate) fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(&mut buf[..rows * cols], rows, cols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// Deterministic values in [-1, 1).
    fn filled(rows: usize, cols: usize, seed: u32) -> Mat<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        Mat::from_fn(rows, cols, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
    }

    #[test]
    fn matmul_agrees_with_its_reference() {
        // Below and above faer's small-matrix threshold, odd shapes,
        // replace and add, a transposed (column-strided) operand.
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (16, 16, 16),
            (64, 100, 784),
            (17, 33, 129),
        ] {
            let (a, b) = (filled(m, k, 1), filled(k, n, 2));
            let bt = filled(n, k, 3);
            for accum in [Accum::Replace, Accum::Add] {
                let start = filled(m, n, 4);
                let (mut got, mut want) = (start.clone(), start.clone());
                matmul(got.as_mut(), accum, a.as_ref(), b.as_ref());
                matmul_ref(want.as_mut(), accum, a.as_ref(), b.as_ref());
                let tol = 1e-6 * (k as f32).sqrt() * 4.0;
                for i in 0..m {
                    for j in 0..n {
                        let d = (got[(i, j)] - want[(i, j)]).abs();
                        assert!(
                            d <= tol * (1.0 + want[(i, j)].abs()),
                            "{m}x{n}x{k} at ({i},{j}): {d}"
                        );
                    }
                }
                let (mut got, mut want) = (start.clone(), start);
                matmul(got.as_mut(), accum, a.as_ref(), bt.transpose());
                matmul_ref(want.as_mut(), accum, a.as_ref(), bt.transpose());
                let worst = (0..m)
                    .flat_map(|i| (0..n).map(move |j| (i, j)))
                    .map(|(i, j)| (got[(i, j)] - want[(i, j)]).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst <= tol * (1.0 + k as f32),
                    "{m}x{n}x{k} transposed: {worst}"
                );
            }
        }
    }
}
