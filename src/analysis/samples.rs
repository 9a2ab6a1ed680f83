//! Per-sample statistics of one set over the epochs of a run: which
//! samples are Tukey outliers and for how long, when each is learnt for
//! good, how often it is forgotten, and its data-map coordinates.
//!
//! Rows are epochs (row `r` holds epoch `epochs[r]`, 0 = before
//! training). The training-dynamics statistics count the epochs
//! `1..=last`, i.e. the evaluations after each training epoch, as
//! Toneva et al. and Swayamdipta et al. do; epoch 0 (the untrained
//! network) is left out of them. `epochs_above_fence` counts every
//! recorded epoch, epoch 0 included, exactly as Fig. 7 and
//! [`super::tukey_outliers`] do.
//!
//! - forgetting events (Toneva et al., "An empirical study of example
//!   forgetting during deep neural network learning", ICLR 2019):
//!   correct at epoch `t`, wrong at `t + 1`, with correctness taken at
//!   epoch ends (not at every mini-batch, as in the paper);
//! - confidence and variability (Swayamdipta et al., "Dataset
//!   cartography", EMNLP 2020): mean and population standard deviation
//!   of the true-class probability `exp(-loss)`; correctness: fraction of
//!   epochs correct;
//! - area under the margin (Pleiss et al., "Identifying mislabeled data
//!   using the area under the margin ranking", NeurIPS 2020): mean of the
//!   logit margin `z_y - max_{j != y} z_j`.

use super::upper_fence;

/// The first epoch the training-dynamics statistics count.
pub(crate) const FIRST_COUNTED_EPOCH: i64 = 1;

/// One set's per-epoch records: `epochs.len()` rows of `n` samples,
/// row-major.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PerEpochView<'a> {
    /// The epoch of each row (0 = before training).
    pub epochs: &'a [i64],
    /// Samples per row.
    pub n: usize,
    /// Per-sample losses (nats).
    pub loss: &'a [f32],
    /// 1 where the sample is classified correctly.
    pub correct: &'a [u8],
    /// Predicted classes, when recorded.
    pub pred: Option<&'a [u8]>,
    /// Logit margins `z_y - max_{j != y} z_j`, when recorded.
    pub margin: Option<&'a [f32]>,
}

impl PerEpochView<'_> {
    /// Rows (epochs).
    pub fn rows(&self) -> usize {
        self.epochs.len()
    }

    /// Whether every array holds `rows x n` values.
    fn consistent(&self) -> bool {
        let len = self.rows() * self.n;
        self.loss.len() == len
            && self.correct.len() == len
            && self.pred.is_none_or(|p| p.len() == len)
            && self.margin.is_none_or(|m| m.len() == len)
    }

    /// The last row of `v`.
    fn last<'b, T>(&self, v: &'b [T]) -> &'b [T] {
        &v[(self.rows() - 1) * self.n..]
    }
}

/// Every sample's statistics, one value per sample in each vector.
#[derive(Clone, Debug)]
pub(crate) struct SampleStats {
    /// Epochs the training-dynamics statistics count (`1..=last`).
    pub epochs_counted: usize,
    /// Epochs `epochs_above_fence` counts (all recorded, 0 included).
    pub fence_epochs: usize,
    /// The last epoch recorded.
    pub final_epoch: i64,
    /// Loss at the last epoch.
    pub final_loss: Vec<f32>,
    /// Correctness at the last epoch.
    pub final_correct: Vec<u8>,
    /// Prediction at the last epoch (when predictions were recorded).
    pub final_pred: Option<Vec<u8>>,
    /// Epochs (0 included) whose loss was strictly above that epoch's
    /// upper Tukey fence.
    pub epochs_above_fence: Vec<i64>,
    /// Above the fence at the last epoch.
    pub above_fence_at_end: Vec<bool>,
    /// First epoch from which the sample stays correct to the end; -1
    /// if it is wrong at the end.
    pub first_stable_correct_epoch: Vec<i64>,
    /// Correct at epoch `t`, wrong at `t + 1` (epochs `1..=last`).
    pub forgetting_events: Vec<i64>,
    /// Mean of `exp(-loss)` over epochs `1..=last`.
    pub confidence: Vec<f64>,
    /// Population standard deviation of `exp(-loss)` over them.
    pub variability: Vec<f64>,
    /// Fraction of them the sample is correct in.
    pub correctness: Vec<f64>,
    /// Mean logit margin over them (when margins were recorded).
    pub aum: Option<Vec<f64>>,
}

/// Running sums over the counted epochs, one slot per sample.
struct Acc {
    /// Counted rows so far.
    k: usize,
    /// Welford mean and sum of squared deviations of `exp(-loss)`.
    mean: Vec<f64>,
    m2: Vec<f64>,
    correct: Vec<i64>,
    prev_correct: Vec<u8>,
    forgetting: Vec<i64>,
    stable_from: Vec<i64>,
    margin: Vec<f64>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Acc {
            k: 0,
            mean: vec![0.0; n],
            m2: vec![0.0; n],
            correct: vec![0; n],
            prev_correct: vec![0; n],
            forgetting: vec![0; n],
            stable_from: vec![-1; n],
            margin: vec![0.0; n],
        }
    }

    /// Adds one counted epoch (`loss`, `correct`, optional `margin`).
    fn add(&mut self, epoch: i64, loss: &[f32], correct: &[u8], margin: Option<&[f32]>) {
        self.k += 1;
        let k = self.k as f64;
        for (i, (&l, &c)) in loss.iter().zip(correct).enumerate() {
            let p = (-(l as f64)).exp();
            let d = p - self.mean[i];
            self.mean[i] += d / k;
            self.m2[i] += d * (p - self.mean[i]);
            let c = (c != 0) as u8;
            self.correct[i] += c as i64;
            if self.k > 1 && self.prev_correct[i] == 1 && c == 0 {
                self.forgetting[i] += 1;
            }
            self.prev_correct[i] = c;
            if c == 0 {
                self.stable_from[i] = -1;
            } else if self.stable_from[i] < 0 {
                self.stable_from[i] = epoch;
            }
        }
        if let Some(m) = margin {
            for (s, &v) in self.margin.iter_mut().zip(m) {
                *s += v as f64;
            }
        }
    }
}

/// Per row: the upper Tukey fence `Q3 + 1.5 IQR` of that row's losses
/// (linear-interpolated quantiles, NaN losses left out; NaN for a row
/// without any).
pub(crate) fn row_fences(loss: &[f32], rows: usize, n: usize) -> Vec<f64> {
    let mut scratch = Vec::with_capacity(n);
    (0..rows)
        .map(|r| upper_fence(&loss[r * n..(r + 1) * n], &mut scratch).unwrap_or(f64::NAN))
        .collect()
}

/// The statistics of every sample of `p`. `None` when there are no
/// samples, no epoch after training began (`epoch >= 1`), or the arrays
/// do not hold `rows x n` values.
pub(crate) fn sample_stats(p: &PerEpochView<'_>) -> Option<SampleStats> {
    let (rows, n) = (p.rows(), p.n);
    if n == 0 || !p.consistent() || !p.epochs.iter().any(|&e| e >= FIRST_COUNTED_EPOCH) {
        return None;
    }
    let fences = row_fences(p.loss, rows, n);
    let mut above = vec![0i64; n];
    let mut acc = Acc::new(n);
    for (r, (&epoch, &fence)) in p.epochs.iter().zip(&fences).enumerate() {
        let row = r * n..(r + 1) * n;
        let loss = &p.loss[row.clone()];
        for (a, &l) in above.iter_mut().zip(loss) {
            *a += (l as f64 > fence) as i64;
        }
        if epoch >= FIRST_COUNTED_EPOCH {
            let margin = p.margin.map(|m| &m[row.clone()]);
            acc.add(epoch, loss, &p.correct[row], margin);
        }
    }
    let final_loss = p.last(p.loss).to_vec();
    let fence_end = fences[rows - 1];
    let k = acc.k as f64;
    Some(SampleStats {
        epochs_counted: acc.k,
        fence_epochs: rows,
        final_epoch: p.epochs[rows - 1],
        above_fence_at_end: final_loss.iter().map(|&l| l as f64 > fence_end).collect(),
        final_loss,
        final_correct: p.last(p.correct).iter().map(|&c| (c != 0) as u8).collect(),
        final_pred: p.pred.map(|v| p.last(v).to_vec()),
        epochs_above_fence: above,
        first_stable_correct_epoch: acc.stable_from,
        forgetting_events: acc.forgetting,
        variability: acc.m2.iter().map(|&m| (m / k).sqrt()).collect(),
        confidence: acc.mean,
        correctness: acc.correct.iter().map(|&c| c as f64 / k).collect(),
        aum: p
            .margin
            .map(|_| acc.margin.iter().map(|&s| s / k).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tukey_outliers;

    /// Four epochs (0..=3) of `n` samples from per-sample columns.
    fn per_epoch<'a>(
        epochs: &'a [i64],
        loss: &'a [f32],
        correct: &'a [u8],
        n: usize,
    ) -> PerEpochView<'a> {
        PerEpochView {
            epochs,
            n,
            loss,
            correct,
            pred: None,
            margin: None,
        }
    }

    #[test]
    fn forgetting_and_first_stable_epoch_by_hand() {
        // Columns are samples; rows epochs 0, 1, 2, 3.
        // s0: -, correct, wrong, correct  -> 1 forgetting, stable from 3
        // s1: correct at 0, then always wrong -> 0 (epoch 0 not counted), -1
        // s2: always correct -> 0, stable from 1
        // s3: -, wrong, correct, correct -> 0 forgetting, stable from 2
        // s4: -, correct, wrong, wrong -> 1 forgetting, -1
        #[rustfmt::skip]
        let correct: Vec<u8> = vec![
            0, 1, 1, 0, 0,
            1, 0, 1, 0, 1,
            0, 0, 1, 1, 0,
            1, 0, 1, 1, 0,
        ];
        let loss = vec![0.5f32; 20];
        let s = sample_stats(&per_epoch(&[0, 1, 2, 3], &loss, &correct, 5)).unwrap();
        assert_eq!(s.forgetting_events, vec![1, 0, 0, 0, 1]);
        assert_eq!(s.first_stable_correct_epoch, vec![3, -1, 1, 2, -1]);
        assert_eq!(s.correctness, vec![2. / 3., 0., 1., 2. / 3., 1. / 3.]);
        assert_eq!(s.final_correct, vec![1, 0, 1, 1, 0]);
        assert_eq!((s.epochs_counted, s.fence_epochs, s.final_epoch), (3, 4, 3));
        assert!(s.aum.is_none() && s.final_pred.is_none());
    }

    #[test]
    fn confidence_and_variability_by_hand() {
        // One sample: epoch 0 ignored; p = 1/2 then 1/4 -> mean 3/8, std 1/8.
        let loss = [9.0f32, 2f32.ln(), 4f32.ln()];
        let s = sample_stats(&per_epoch(&[0, 1, 2], &loss, &[0, 1, 1], 1)).unwrap();
        assert!((s.confidence[0] - 0.375).abs() < 1e-7);
        assert!((s.variability[0] - 0.125).abs() < 1e-7);
        assert_eq!(s.final_loss, vec![4f32.ln()]);
    }

    #[test]
    fn aum_and_predictions() {
        let loss = [1.0f32; 6];
        let margin = [-9.0f32, 5.0, 1.0, -1.0, 3.0, -3.0];
        let pred = [0u8, 1, 2, 3, 4, 5];
        let p = PerEpochView {
            pred: Some(&pred),
            margin: Some(&margin),
            ..per_epoch(&[0, 1, 2], &loss, &[0; 6], 2)
        };
        let s = sample_stats(&p).unwrap();
        // Epochs 1 and 2 only: (1 + 3) / 2 and (-1 - 3) / 2.
        assert_eq!(s.aum, Some(vec![2.0, -2.0]));
        assert_eq!(s.final_pred, Some(vec![4, 5]));
    }

    #[test]
    fn fence_counts_equal_fig7s() {
        let (rows, n) = (7usize, 101usize);
        let mut state = 99u64;
        let loss: Vec<f32> = (0..rows * n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 * -12.0).exp() * 5.0
            })
            .collect();
        let epochs: Vec<i64> = (0..rows as i64).collect();
        let correct = vec![1u8; rows * n];
        let s = sample_stats(&per_epoch(&epochs, &loss, &correct, n)).unwrap();
        let o = tukey_outliers(&loss, rows, n).unwrap();
        let fig7: Vec<i64> = o.epochs_above.iter().map(|&c| c as i64).collect();
        assert_eq!(s.epochs_above_fence, fig7);
        assert!(fig7.iter().any(|&c| c > 0));
        let at_end = s.above_fence_at_end.iter().filter(|&&a| a).count();
        assert_eq!(at_end as f64 / n as f64, o.frac_above_at_end);
    }

    #[test]
    fn nothing_to_count() {
        // Only epoch 0, no samples, or inconsistent lengths.
        assert!(sample_stats(&per_epoch(&[0], &[1.0], &[1], 1)).is_none());
        assert!(sample_stats(&per_epoch(&[0, 1], &[], &[], 0)).is_none());
        assert!(sample_stats(&per_epoch(&[0, 1], &[1.0], &[1], 1)).is_none());
    }
}
