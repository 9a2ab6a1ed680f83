//! Fused bias + ReLU: one pass over a block while it is still in cache.
//!
//! Forward: `a[b, o] = max(z[b, o] + bias[o], 0)`, in place on `z (B x O)`.
//! Backward: `dz[b, o] = da[b, o] * (a[b, o] > 0)` in place on `da`, and
//! `dbias[o] += sum_b dz[b, o]` in the same pass.

/// In place on `z`, row-major `B x O` with `O = bias.len()`.
#[inline]
pub fn bias_relu_forward(z: &mut [f32], bias: &[f32]) {
    let o = bias.len();
    debug_assert_eq!(z.len() % o, 0);
    for row in z.chunks_exact_mut(o) {
        for (x, &b) in row.iter_mut().zip(bias) {
            *x = (*x + b).max(0.0);
        }
    }
}

/// Scalar twin of [`bias_relu_forward`].
pub fn bias_relu_forward_ref(z: &mut [f32], bias: &[f32]) {
    let o = bias.len();
    for (i, x) in z.iter_mut().enumerate() {
        let v = *x + bias[i % o];
        *x = if v > 0.0 { v } else { 0.0 };
    }
}

/// `da` becomes `dz` in place (masked by `a > 0`, `a` the post-ReLU
/// activations, both `B x O`), and `dbias (O)` is overwritten with the
/// column sums of `dz`.
#[inline]
pub fn bias_relu_backward(da: &mut [f32], a: &[f32], dbias: &mut [f32]) {
    let o = dbias.len();
    debug_assert_eq!(da.len(), a.len());
    dbias.fill(0.0);
    for (drow, arow) in da.chunks_exact_mut(o).zip(a.chunks_exact(o)) {
        bias_relu_backward_row(drow, arow, dbias);
    }
}

/// One row of [`bias_relu_backward`] (or a run of its columns): `da`
/// becomes `dz` in place, masked by `a > 0`, and `dz` is added to
/// `dbias`. Called on every row in order, from `dbias = 0`, it gives
/// [`bias_relu_backward`]'s sums exactly.
#[inline]
pub(crate) fn bias_relu_backward_row(da: &mut [f32], a: &[f32], dbias: &mut [f32]) {
    for ((d, &x), db) in da.iter_mut().zip(a).zip(dbias.iter_mut()) {
        let g = if x > 0.0 { *d } else { 0.0 };
        *d = g;
        *db += g;
    }
}

/// Scalar twin of [`bias_relu_backward`].
pub fn bias_relu_backward_ref(da: &mut [f32], a: &[f32], dbias: &mut [f32]) {
    let o = dbias.len();
    for v in dbias.iter_mut() {
        *v = 0.0;
    }
    for i in 0..da.len() {
        if a[i] <= 0.0 {
            da[i] = 0.0;
        }
        dbias[i % o] += da[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_match_ref() {
        let (b, o) = (7, 13);
        let z: Vec<f32> = (0..b * o)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.25)
            .collect();
        let bias: Vec<f32> = (0..o).map(|i| (i as f32 - 6.0) * 0.1).collect();
        let (mut a1, mut a2) = (z.clone(), z.clone());
        bias_relu_forward(&mut a1, &bias);
        bias_relu_forward_ref(&mut a2, &bias);
        assert_eq!(a1, a2);
        assert!(a1.contains(&0.0) && a1.iter().any(|&x| x > 0.0));
        let da: Vec<f32> = (0..b * o).map(|i| (i as f32).sin()).collect();
        let (mut d1, mut d2) = (da.clone(), da.clone());
        let (mut db1, mut db2) = (vec![9.0; o], vec![9.0; o]);
        bias_relu_backward(&mut d1, &a1, &mut db1);
        bias_relu_backward_ref(&mut d2, &a1, &mut db2);
        assert_eq!(d1, d2);
        assert_eq!(db1, db2);
    }
}
