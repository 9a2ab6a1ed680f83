//! Model selection by several criteria: the epoch each would pick, and
//! what the evaluation (test) set says of the model at that epoch. The
//! paper warns that the mean validation loss is a poor guide once a few
//! samples carry it; the median and the trimmed mean are robust to
//! them, and validation accuracy ignores the loss altogether.

use serde::Serialize;

use super::Curves;

/// What one criterion selects.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pick {
    /// The epoch selected.
    pub epoch: i64,
    /// The criterion's value there (a loss in nats or an accuracy).
    pub value: f64,
    /// Mean validation loss there.
    pub val_loss: f64,
    /// Validation accuracy there.
    pub val_accuracy: f64,
    /// Evaluation (test) set accuracy there.
    pub eval_accuracy: f64,
    /// Evaluation (test) set mean loss there.
    pub eval_loss: f64,
}

/// The robust per-epoch validation statistics, one value per row of
/// the curves.
#[derive(Clone, Debug, Default)]
pub struct RobustCurves {
    /// Median validation loss.
    pub median: Vec<f64>,
    /// 10% trimmed mean of the validation loss.
    pub trimmed_mean: Vec<f64>,
}

/// The epoch each criterion selects (`None`: not available for this
/// run). Ties go to the earliest epoch; NaN values are skipped.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Selection {
    /// Minimum mean validation loss.
    pub min_val_loss: Option<Pick>,
    /// Minimum median validation loss.
    pub min_val_loss_median: Option<Pick>,
    /// Minimum 10% trimmed mean of the validation loss.
    pub min_val_loss_trimmed_mean: Option<Pick>,
    /// Maximum validation accuracy.
    pub max_val_accuracy: Option<Pick>,
    /// The last epoch recorded.
    pub last_epoch: Option<Pick>,
}

impl Selection {
    /// The criteria in order, with a short description, for printing.
    pub fn picks(&self) -> [(&'static str, Option<Pick>); 5] {
        [
            ("minimum mean validation loss", self.min_val_loss),
            ("minimum median validation loss", self.min_val_loss_median),
            (
                "minimum 10% trimmed mean validation loss",
                self.min_val_loss_trimmed_mean,
            ),
            ("maximum validation accuracy", self.max_val_accuracy),
            ("last epoch", self.last_epoch),
        ]
    }
}

/// The first row where `better(v, best)` never beats `v` (NaN skipped).
fn best_row(values: &[f64], better: fn(f64, f64) -> bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &v) in values.iter().enumerate() {
        if !v.is_nan() && best.is_none_or(|b| better(v, values[b])) {
            best = Some(i);
        }
    }
    best
}

/// What the curves say at row `i`, for a criterion worth `value`.
fn pick(c: &Curves, i: usize, value: f64) -> Pick {
    Pick {
        epoch: c.epoch[i],
        value,
        val_loss: c.val_loss[i],
        val_accuracy: c.val_acc[i],
        eval_accuracy: c.eval_acc[i],
        eval_loss: c.eval_loss[i],
    }
}

/// The criterion minimising (or maximising) `values` over the rows of `c`.
fn by(c: &Curves, values: &[f64], minimise: bool) -> Option<Pick> {
    let values = &values[..values.len().min(c.len())];
    let better: fn(f64, f64) -> bool = if minimise { |a, b| a < b } else { |a, b| a > b };
    best_row(values, better).map(|i| pick(c, i, values[i]))
}

/// What each criterion selects over `c`; the median and trimmed-mean
/// criteria need `robust`.
pub fn select(c: &Curves, robust: Option<&RobustCurves>) -> Selection {
    if c.is_empty() {
        return Selection::default();
    }
    let last = c.len() - 1;
    Selection {
        min_val_loss: by(c, &c.val_loss, true),
        min_val_loss_median: robust.and_then(|r| by(c, &r.median, true)),
        min_val_loss_trimmed_mean: robust.and_then(|r| by(c, &r.trimmed_mean, true)),
        max_val_accuracy: by(c, &c.val_acc, false),
        last_epoch: Some(pick(c, last, c.val_loss[last])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves() -> Curves {
        Curves {
            epoch: vec![0, 1, 2, 3, 4],
            iteration: vec![0, 10, 20, 30, 40],
            train_loss: vec![2.0, 1.0, 0.5, 0.1, 0.01],
            train_acc: vec![0.1, 0.7, 0.9, 0.99, 1.0],
            val_loss: vec![2.3, 0.4, 0.3, 0.35, 0.5],
            val_acc: vec![0.1, 0.88, 0.9, 0.93, 0.93],
            eval_loss: vec![2.3, 0.41, 0.31, 0.36, 0.52],
            eval_acc: vec![0.1, 0.87, 0.89, 0.92, 0.925],
        }
    }

    #[test]
    fn each_criterion_by_hand() {
        let c = curves();
        let r = RobustCurves {
            median: vec![2.3, 0.2, 0.1, 0.05, f64::NAN],
            trimmed_mean: vec![2.3, 0.3, 0.2, 0.2, 0.25],
        };
        let s = select(&c, Some(&r));
        let epoch = |p: Option<Pick>| p.unwrap().epoch;
        assert_eq!(epoch(s.min_val_loss), 2);
        assert_eq!(epoch(s.min_val_loss_median), 3);
        // Ties take the earliest epoch.
        assert_eq!(epoch(s.min_val_loss_trimmed_mean), 2);
        assert_eq!(epoch(s.max_val_accuracy), 3);
        assert_eq!(epoch(s.last_epoch), 4);
        let m = s.min_val_loss_median.unwrap();
        assert_eq!((m.value, m.eval_accuracy, m.eval_loss), (0.05, 0.92, 0.36));
        assert_eq!(s.last_epoch.unwrap().eval_accuracy, 0.925);
        let without = select(&c, None);
        assert!(without.min_val_loss_median.is_none() && without.min_val_loss.is_some());
        assert!(select(&Curves::default(), None).last_epoch.is_none());
    }
}
