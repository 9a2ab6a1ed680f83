//! Fused softmax + cross-entropy over a block of rows: output bias,
//! loss, prediction and (optionally) the gradient in three passes over
//! a `B x C` block that stays in L1.
//!
//! The loss is `log1p(sum_{j != y} exp(z_j - z_y))`, evaluated as
//! `(m - z_y) + log1p(sum_{j != k} exp(z_j - m))` with `m = z_k` the row
//! maximum. For a confident, correct sample (`k = y`) this is
//! `log1p(tiny)`: exact down to f32's smallest normal numbers, where the
//! textbook `logsumexp(z) - z_y` rounds to 0.
//!
//! The gradient of the mean loss over `B` rows is
//! `dz_j = (p_j - [j = y]) * scale` with `scale = 1 / B`; its `j = y`
//! entry is computed as `-(sum_{j != y} e_j) / s` so that it keeps its
//! relative accuracy when `p_y` is close to 1.

use super::exp::exp_inplace;

/// What the fused kernel returns for a block: per-row values are written
/// into the caller's slices.
pub struct BlockOut<'a> {
    /// Per-sample loss (`B`).
    pub loss: &'a mut [f32],
    /// Predicted class (`B`), the first index of the row maximum.
    pub pred: &'a mut [u8],
}

/// Adds `bias (C)` to `z (B x C)`, then writes each row's loss and
/// prediction into `out`. `z` is left holding `exp(z + b - m)`.
/// A row with a non-finite logit gets a NaN (or inf) loss.
pub(crate) fn softmax_xent_forward(z: &mut [f32], bias: &[f32], labels: &[u8], out: BlockOut<'_>) {
    let c = bias.len();
    prepare_rows(z, bias, labels, out.pred, out.loss);
    exp_inplace(z);
    for ((e, loss), &k) in z
        .chunks_exact(c)
        .zip(out.loss.iter_mut())
        .zip(out.pred.iter())
    {
        let t = sum_except(e, k as usize);
        *loss += t.ln_1p();
    }
}

/// [`softmax_xent_forward`] plus the gradient of the block's loss times
/// `scale` into `dz (B x C)`, and `dbias (C)` overwritten with its
/// column sums.
pub fn softmax_xent_forward_backward(
    z: &mut [f32],
    bias: &[f32],
    labels: &[u8],
    scale: f32,
    dz: &mut [f32],
    dbias: &mut [f32],
    out: BlockOut<'_>,
) {
    let c = bias.len();
    prepare_rows(z, bias, labels, out.pred, out.loss);
    exp_inplace(z);
    dbias.fill(0.0);
    let rows = z.chunks_exact(c).zip(dz.chunks_exact_mut(c));
    for (((e, d), loss), (&k, &y)) in rows
        .zip(out.loss.iter_mut())
        .zip(out.pred.iter().zip(labels))
    {
        let (k, y) = (k as usize, y as usize);
        let t = sum_except(e, k);
        *loss += t.ln_1p();
        let inv_s = 1.0 / (1.0 + t);
        let not_y = if k == y { t } else { sum_except(e, y) };
        for (j, (dj, &ej)) in d.iter_mut().zip(e).enumerate() {
            let g = if j == y { -not_y * inv_s } else { ej * inv_s };
            *dj = g * scale;
        }
        for (db, &dj) in dbias.iter_mut().zip(d.iter()) {
            *db += dj;
        }
    }
}

/// Pass 1: `z += bias`, row max `m` and argmax `k`, `z -= m`, and
/// `loss = m - z_y` (the non-log part of the loss).
#[inline]
fn prepare_rows(z: &mut [f32], bias: &[f32], labels: &[u8], pred: &mut [u8], loss: &mut [f32]) {
    let c = bias.len();
    debug_assert_eq!(z.len(), labels.len() * c);
    for (((row, &y), p), l) in z
        .chunks_exact_mut(c)
        .zip(labels)
        .zip(pred.iter_mut())
        .zip(loss.iter_mut())
    {
        let mut k = 0;
        let mut m = f32::NEG_INFINITY;
        let mut finite = true;
        for (j, (x, &b)) in row.iter_mut().zip(bias).enumerate() {
            *x += b;
            finite &= x.is_finite();
            if *x > m {
                m = *x;
                k = j;
            }
        }
        *p = k as u8;
        let zy = row[y as usize];
        for x in row.iter_mut() {
            *x -= m;
        }
        *l = if finite { m - zy } else { f32::NAN };
    }
}

#[inline]
fn sum_except(e: &[f32], skip: usize) -> f32 {
    let mut t = 0.0f32;
    for (j, &v) in e.iter().enumerate() {
        if j != skip {
            t += v;
        }
    }
    t
}

/// Scalar twin computed in f64 (the reference for tests): per-row loss,
/// prediction, and `dz = (softmax - onehot) * scale`.
pub fn softmax_xent_ref(
    z: &[f32],
    bias: &[f32],
    labels: &[u8],
    scale: f32,
) -> (Vec<f64>, Vec<u8>, Vec<f64>) {
    let c = bias.len();
    let (mut loss, mut pred, mut dz) = (vec![], vec![], vec![]);
    for (row, &y) in z.chunks_exact(c).zip(labels) {
        let x: Vec<f64> = row
            .iter()
            .zip(bias)
            .map(|(&a, &b)| (a + b) as f64)
            .collect();
        let mut k = 0;
        for j in 1..c {
            if x[j] > x[k] {
                k = j;
            }
        }
        let y = y as usize;
        let rest: f64 = (0..c)
            .filter(|&j| j != y)
            .map(|j| (x[j] - x[y]).exp())
            .sum();
        loss.push(rest.ln_1p());
        pred.push(k as u8);
        let m = x[k];
        let s: f64 = x.iter().map(|v| (v - m).exp()).sum();
        // p_y - 1 as -sum_{j != y} p_j: no cancellation in the reference.
        let rest_p: f64 = (0..c)
            .filter(|&j| j != y)
            .map(|j| (x[j] - m).exp() / s)
            .sum();
        for (j, v) in x.iter().enumerate() {
            let g = if j == y { -rest_p } else { (v - m).exp() / s };
            dz.push(g * scale as f64);
        }
    }
    (loss, pred, dz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(z: Vec<f32>, labels: Vec<u8>) {
        let c = 10;
        let b = labels.len();
        let bias: Vec<f32> = (0..c).map(|j| j as f32 * 0.01 - 0.05).collect();
        let (want_loss, want_pred, want_dz) = softmax_xent_ref(&z, &bias, &labels, 1.0 / b as f32);
        let mut zz = z.clone();
        let (mut loss, mut pred) = (vec![0.0; b], vec![0; b]);
        let (mut dz, mut db) = (vec![0.0; b * c], vec![0.0; c]);
        softmax_xent_forward_backward(
            &mut zz,
            &bias,
            &labels,
            1.0 / b as f32,
            &mut dz,
            &mut db,
            BlockOut {
                loss: &mut loss,
                pred: &mut pred,
            },
        );
        assert_eq!(pred, want_pred);
        for (g, w) in loss.iter().zip(&want_loss) {
            assert!(
                ((*g as f64) - w).abs() <= 1e-5 * w.abs() + 1e-37,
                "loss {g} vs {w}"
            );
        }
        for (g, w) in dz.iter().zip(&want_dz) {
            assert!(
                ((*g as f64) - w).abs() <= 1e-5 * w.abs() + 1e-30,
                "dz {g} vs {w}"
            );
        }
        for j in 0..c {
            let s: f64 = (0..b).map(|i| dz[i * c + j] as f64).sum();
            assert!((db[j] as f64 - s).abs() <= 1e-6);
        }
        let mut zz = z;
        let (mut loss2, mut pred2) = (vec![0.0; b], vec![0; b]);
        softmax_xent_forward(
            &mut zz,
            &bias,
            &labels,
            BlockOut {
                loss: &mut loss2,
                pred: &mut pred2,
            },
        );
        assert_eq!(loss, loss2);
        assert_eq!(pred, pred2);
    }

    #[test]
    fn agrees_with_f64_reference_on_ordinary_rows() {
        let b = 37;
        let z: Vec<f32> = (0..b * 10)
            .map(|i| ((i * 7919 % 101) as f32 - 50.0) * 0.13)
            .collect();
        let labels: Vec<u8> = (0..b).map(|i| (i * 3 % 10) as u8).collect();
        check(z, labels);
    }

    #[test]
    fn tiny_losses_stay_exact_where_logsumexp_gives_zero() {
        // Label logit 30 above the rest: loss = 9 e^-30 ~ 8.4e-13.
        let b = 4;
        let mut z = vec![0.0f32; b * 10];
        let labels = vec![3u8, 0, 9, 5];
        for (i, &y) in labels.iter().enumerate() {
            z[i * 10 + y as usize] = 30.0 + i as f32;
        }
        check(z.clone(), labels.clone());
        // And the textbook f32 formula really does round to zero here.
        let row = &z[..10];
        let m = row.iter().cloned().fold(f32::MIN, f32::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
        assert_eq!(lse - row[3], 0.0);
    }

    #[test]
    fn huge_logits_do_not_overflow_and_nan_is_reported() {
        let mut z = vec![0.0f32; 20];
        z[2] = 1e30;
        z[10] = f32::NAN;
        let (mut loss, mut pred) = (vec![0.0; 2], vec![0; 2]);
        let bias = vec![0.0; 10];
        softmax_xent_forward(
            &mut z,
            &bias,
            &[1, 0],
            BlockOut {
                loss: &mut loss,
                pred: &mut pred,
            },
        );
        assert_eq!(loss[0], 1e30);
        assert_eq!(pred[0], 2);
        assert!(loss[1].is_nan());
    }
}
