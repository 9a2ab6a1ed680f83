//! The paper's analysis of one run: where validation loss bottoms out,
//! when the training set is interpolated, how the metrics move between
//! the two, and which validation samples are Tukey outliers.
//!
//! Quantiles are linear-interpolated (numpy's default, "type 7", see
//! [`crate::stats::quantile`]). A sample is an outlier at an epoch when its loss
//! lies strictly above the upper Tukey fence `Q3 + 1.5 (Q3 - Q1)` of that
//! epoch's validation losses.
//!
//! [`samples`] computes every sample's statistics over the epochs
//! (forgetting events, data-map coordinates, area under the margin, ...),
//! [`select`] the epoch each model-selection criterion picks, [`groups`]
//! the runs of a sweep that differ only in one setting.

use serde::Serialize;

use crate::stats::quantile_sorted;

pub mod calibration;
pub mod groups;
pub mod samples;
pub mod select;

/// Per-epoch means, as in the run file's `/curves`.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    /// Epoch numbers (0 = before training).
    pub epoch: Vec<i64>,
    /// Updates at each epoch's end.
    pub iteration: Vec<i64>,
    /// Mean training loss.
    pub train_loss: Vec<f64>,
    /// Training accuracy.
    pub train_acc: Vec<f64>,
    /// Mean validation loss.
    pub val_loss: Vec<f64>,
    /// Validation accuracy.
    pub val_acc: Vec<f64>,
    /// Mean evaluation loss.
    pub eval_loss: Vec<f64>,
    /// Evaluation accuracy.
    pub eval_acc: Vec<f64>,
}

/// All metrics at one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The epoch.
    pub epoch: i64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_acc: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_acc: f64,
    /// Mean evaluation loss.
    pub eval_loss: f64,
    /// Evaluation accuracy.
    pub eval_acc: f64,
}

impl Curves {
    /// Epochs recorded.
    pub fn len(&self) -> usize {
        self.epoch.len()
    }
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.epoch.is_empty()
    }
    /// The metrics at row `i`.
    pub fn point(&self, i: usize) -> Point {
        Point {
            epoch: self.epoch[i],
            train_loss: self.train_loss[i],
            train_acc: self.train_acc[i],
            val_loss: self.val_loss[i],
            val_acc: self.val_acc[i],
            eval_loss: self.eval_loss[i],
            eval_acc: self.eval_acc[i],
        }
    }
}

/// The row of minimum validation loss (the first on ties; NaN skipped).
pub fn min_val_loss(c: &Curves) -> Option<usize> {
    first_min(&c.val_loss)
}

/// The row of the smallest of `values` (the first on ties; NaN skipped).
pub(crate) fn first_min(values: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        if best.is_none_or(|b| v < values[b]) {
            best = Some(i);
        }
    }
    best
}

/// The first row with 100% training accuracy.
pub fn interpolation(c: &Curves) -> Option<usize> {
    c.train_acc.iter().position(|&a| a >= 1.0)
}

/// The row the paper calls final: the first interpolation, or, for a
/// run that never interpolates, the (first) row of maximum training
/// accuracy.
pub(crate) fn final_row(c: &Curves) -> Option<usize> {
    interpolation(c).or_else(|| {
        let mut best: Option<usize> = None;
        for (i, &a) in c.train_acc.iter().enumerate() {
            if !a.is_nan() && best.is_none_or(|b| a > c.train_acc[b]) {
                best = Some(i);
            }
        }
        best
    })
}

/// The upper Tukey fence `Q3 + 1.5 IQR` of `losses` (`None` if empty).
pub(crate) fn upper_fence(losses: &[f32], scratch: &mut Vec<f64>) -> Option<f64> {
    scratch.clear();
    scratch.extend(losses.iter().filter(|x| !x.is_nan()).map(|&x| x as f64));
    if scratch.is_empty() {
        return None;
    }
    scratch.sort_by(f64::total_cmp);
    let (q1, q3) = (
        quantile_sorted(scratch, 0.25),
        quantile_sorted(scratch, 0.75),
    );
    Some(q3 + 1.5 * (q3 - q1))
}

/// What the outlier analysis finds over `epochs x samples` losses.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Outliers {
    /// Per sample: epochs spent strictly above the upper fence.
    pub epochs_above: Vec<u32>,
    /// Per sample: its loss at the last epoch.
    pub final_loss: Vec<f32>,
    /// Fraction of samples above the fence at the last epoch.
    pub frac_above_at_end: f64,
    /// Their share of the total loss at the last epoch.
    pub loss_share_at_end: f64,
    /// Fraction of samples that were never above the fence.
    pub frac_never: f64,
    /// Fraction above the fence in at least half of the epochs.
    pub frac_most_epochs: f64,
}

/// Tukey outliers of each row of `losses` (`rows` epochs of `n`
/// samples, row-major); `None` when there are no rows or no samples.
pub(crate) fn tukey_outliers(losses: &[f32], rows: usize, n: usize) -> Option<Outliers> {
    if rows == 0 || n == 0 {
        return None;
    }
    let mut count = vec![0u32; n];
    let mut scratch = Vec::with_capacity(n);
    let mut above_end = vec![false; n];
    for r in 0..rows {
        let row = &losses[r * n..(r + 1) * n];
        let Some(fence) = upper_fence(row, &mut scratch) else {
            continue;
        };
        for (i, &x) in row.iter().enumerate() {
            let above = (x as f64) > fence;
            count[i] += above as u32;
            if r == rows - 1 {
                above_end[i] = above;
            }
        }
    }
    let last = &losses[(rows - 1) * n..rows * n];
    let total: f64 = last.iter().map(|&x| x as f64).sum();
    let out: f64 = last
        .iter()
        .zip(&above_end)
        .filter(|(_, &a)| a)
        .map(|(&x, _)| x as f64)
        .sum();
    let nf = n as f64;
    Some(Outliers {
        frac_above_at_end: above_end.iter().filter(|&&a| a).count() as f64 / nf,
        loss_share_at_end: if total > 0.0 { out / total } else { 0.0 },
        frac_never: count.iter().filter(|&&c| c == 0).count() as f64 / nf,
        frac_most_epochs: count.iter().filter(|&&c| 2 * c as usize >= rows).count() as f64 / nf,
        epochs_above: count,
        final_loss: last.to_vec(),
    })
}

/// The fraction of samples misclassified and their share of the total
/// loss (`None` without samples).
pub(crate) fn misclassified_share(loss: &[f32], correct: &[u8]) -> Option<(f64, f64)> {
    if loss.is_empty() || loss.len() != correct.len() {
        return None;
    }
    let total: f64 = loss.iter().map(|&x| x as f64).sum();
    let wrong: f64 = loss
        .iter()
        .zip(correct)
        .filter(|(_, &c)| c == 0)
        .map(|(&x, _)| x as f64)
        .sum();
    let n_wrong = correct.iter().filter(|&&c| c == 0).count();
    Some((
        n_wrong as f64 / loss.len() as f64,
        if total > 0.0 { wrong / total } else { 0.0 },
    ))
}

/// The summary of a run's curves.
#[derive(Clone, Debug, Serialize)]
pub struct CurveSummary {
    /// At the minimum validation loss.
    pub min_val_loss: Point,
    /// At the paper's final row (first interpolation, else max train accuracy).
    pub final_point: Point,
    /// Whether the run interpolated (100% training accuracy).
    pub interpolated: bool,
    /// At the last recorded epoch.
    pub last: Point,
    /// `final_point - min_val_loss`, field by field.
    pub change_to_final: Point,
    /// `last - min_val_loss`, field by field.
    pub change_to_last: Point,
    /// Validation loss AND validation accuracy both rose from the
    /// minimum-validation-loss epoch to the final (interpolation) epoch.
    pub triangle: bool,
}

fn diff(a: &Point, b: &Point) -> Point {
    Point {
        epoch: a.epoch - b.epoch,
        train_loss: a.train_loss - b.train_loss,
        train_acc: a.train_acc - b.train_acc,
        val_loss: a.val_loss - b.val_loss,
        val_acc: a.val_acc - b.val_acc,
        eval_loss: a.eval_loss - b.eval_loss,
        eval_acc: a.eval_acc - b.eval_acc,
    }
}

/// Summarises `c` (`None` if it has no finite validation loss).
pub fn summarise(c: &Curves) -> Option<CurveSummary> {
    let m = min_val_loss(c)?;
    let f = final_row(c)?;
    let (mp, fp, lp) = (c.point(m), c.point(f), c.point(c.len() - 1));
    Some(CurveSummary {
        min_val_loss: mp,
        final_point: fp,
        interpolated: interpolation(c).is_some(),
        last: lp,
        change_to_final: diff(&fp, &mp),
        change_to_last: diff(&lp, &mp),
        triangle: fp.val_loss > mp.val_loss && fp.val_acc > mp.val_acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves(val_loss: &[f64], val_acc: &[f64], train_acc: &[f64]) -> Curves {
        let n = val_loss.len();
        Curves {
            epoch: (0..n as i64).collect(),
            iteration: (0..n as i64).map(|e| e * 10).collect(),
            train_loss: vec![0.5; n],
            train_acc: train_acc.to_vec(),
            val_loss: val_loss.to_vec(),
            val_acc: val_acc.to_vec(),
            eval_loss: vec![0.7; n],
            eval_acc: vec![0.8; n],
        }
    }

    #[test]
    fn min_interpolation_final_and_triangle_by_hand() {
        // val loss: 2.0, 0.5, 0.4, 0.6, 0.9 -> minimum at epoch 2.
        // train acc reaches 1.0 first at epoch 3 -> final = 3.
        // val acc 0.90 at epoch 2, 0.92 at 3: loss and accuracy both rose.
        let c = curves(
            &[2.0, 0.5, 0.4, 0.6, 0.9],
            &[0.1, 0.88, 0.90, 0.92, 0.91],
            &[0.1, 0.9, 0.99, 1.0, 1.0],
        );
        assert_eq!(min_val_loss(&c), Some(2));
        assert_eq!(interpolation(&c), Some(3));
        let s = summarise(&c).unwrap();
        assert_eq!(s.final_point.epoch, 3);
        assert!(s.interpolated && s.triangle);
        assert!((s.change_to_final.val_loss - 0.2).abs() < 1e-12);
        assert!((s.change_to_final.val_acc - 0.02).abs() < 1e-12);
        assert!((s.change_to_last.val_loss - 0.5).abs() < 1e-12);
        assert_eq!(s.last.epoch, 4);
    }

    #[test]
    fn no_interpolation_uses_max_train_accuracy_and_ties_take_the_first() {
        // Minimum 0.3 at epochs 1 and 3 -> 1. Train acc max 0.97 at 2 and 4 -> 2.
        // Val acc falls from 0.9 to 0.85: no triangle even though loss rose.
        let c = curves(
            &[1.0, 0.3, 0.35, 0.3, 0.5],
            &[0.5, 0.9, 0.85, 0.9, 0.8],
            &[0.5, 0.9, 0.97, 0.96, 0.97],
        );
        assert_eq!(min_val_loss(&c), Some(1));
        assert_eq!(interpolation(&c), None);
        assert_eq!(final_row(&c), Some(2));
        let s = summarise(&c).unwrap();
        assert!(!s.interpolated && !s.triangle);
    }

    #[test]
    fn empty_and_nan_curves() {
        assert!(summarise(&Curves::default()).is_none());
        let c = curves(
            &[f64::NAN, 0.5, f64::NAN],
            &[0.1, 0.2, 0.3],
            &[0.1, 0.2, 0.3],
        );
        assert_eq!(min_val_loss(&c), Some(1));
    }

    #[test]
    fn upper_fence_by_hand() {
        let mut s = vec![];
        // Q1 1.75, Q3 3.25, IQR 1.5 -> fence 3.25 + 2.25 = 5.5
        assert_eq!(upper_fence(&[4.0, 1.0, 3.0, 2.0], &mut s), Some(5.5));
        assert_eq!(upper_fence(&[], &mut s), None);
    }

    #[test]
    fn tukey_outliers_by_hand_with_ties() {
        // Epoch 0: [1,1,1,1,1] -> IQR 0, fence 1: nothing strictly above.
        // Epoch 1: [1,2,3,4,100] -> Q1 2, Q3 4, fence 7: sample 4 above.
        // Epoch 2: [1,1,1,1,10]  -> Q1 1, Q3 1, fence 1: sample 4 above.
        let l: Vec<f32> = vec![
            1., 1., 1., 1., 1., 1., 2., 3., 4., 100., 1., 1., 1., 1., 10.,
        ];
        let o = tukey_outliers(&l, 3, 5).unwrap();
        assert_eq!(o.epochs_above, vec![0, 0, 0, 0, 2]);
        assert_eq!(o.frac_above_at_end, 0.2);
        assert!((o.loss_share_at_end - 10.0 / 14.0).abs() < 1e-12);
        assert_eq!(o.frac_never, 0.8);
        assert_eq!(o.frac_most_epochs, 0.2);
        assert_eq!(o.final_loss, vec![1., 1., 1., 1., 10.]);
        assert!(tukey_outliers(&[], 0, 5).is_none());
        // Two of five wrong, carrying 6 of 10 nats.
        let (f, share) = misclassified_share(&[1.0, 1.0, 2.0, 3.0, 3.0], &[1, 1, 1, 0, 0]).unwrap();
        assert_eq!((f, share), (0.4, 0.6));
        assert!(misclassified_share(&[], &[]).is_none());
        assert!(tukey_outliers(&[], 3, 0).is_none());
    }
}
