//! Model selection by several criteria: the epoch each would pick, and
//! what the evaluation (test) set says of the model at that epoch. The
//! paper warns that the mean validation loss is a poor guide once a few
//! samples carry it; the median and the trimmed mean are robust to
//! them, and validation accuracy ignores the loss altogether. The
//! temperature-scaled loss (issue 20) takes the over-confidence out of
//! the mean loss: if the rise is over-confidence, it keeps falling.

use serde::Serialize;

use super::Curves;
pub(crate) use crate::stats::RobustCurves;

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

/// A model-selection criterion: which epoch of a run it picks. Adding
/// one is adding a variant here (and its arms below): its key, what it
/// picks, how a grid search ranks runs by it; everything else (the
/// `sweep.h5` columns, summaries, reports) iterates [`Criterion::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Criterion {
    /// Minimum mean validation loss.
    MinValLoss,
    /// Minimum median validation loss.
    MinValLossMedian,
    /// Minimum 10% trimmed mean of the validation loss.
    MinValLossTrimmedMean,
    /// Minimum mean validation loss at each epoch's best temperature `T*`.
    MinScaledValLoss,
    /// Maximum validation accuracy.
    MaxValAccuracy,
    /// The last epoch recorded.
    LastEpoch,
}

/// The per-epoch series some criteria need beyond the mean curves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extra<'a> {
    /// The robust validation-loss statistics (median, trimmed mean).
    pub robust: Option<&'a RobustCurves>,
    /// The validation loss at `T*` (`/curves/val_loss_at_temperature`).
    pub scaled_val_loss: Option<&'a [f64]>,
}

impl<'a> Extra<'a> {
    /// The series of run file `f`, with `robust` (its own, or computed
    /// from its per-epoch losses by the caller).
    pub(crate) fn of(
        f: &'a crate::record::read::RunFile,
        robust: Option<&'a RobustCurves>,
    ) -> Self {
        let val = f.calibration.val.as_ref();
        Extra {
            robust,
            scaled_val_loss: val.map(|c| c.loss_at_temperature.as_slice()),
        }
    }
}

impl Criterion {
    /// Every criterion, in report order.
    pub const ALL: [Criterion; 6] = [
        Criterion::MinValLoss,
        Criterion::MinValLossMedian,
        Criterion::MinValLossTrimmedMean,
        Criterion::MinScaledValLoss,
        Criterion::MaxValAccuracy,
        Criterion::LastEpoch,
    ];

    /// Its key: the field of `summary.json`'s `selection`, the column
    /// infix of `sweep.h5` (`select_<key>_epoch`).
    pub const fn name(self) -> &'static str {
        match self {
            Criterion::MinValLoss => "min_val_loss",
            Criterion::MinValLossMedian => "min_val_loss_median",
            Criterion::MinValLossTrimmedMean => "min_val_loss_trimmed_mean",
            Criterion::MinScaledValLoss => "min_scaled_val_loss",
            Criterion::MaxValAccuracy => "max_val_accuracy",
            Criterion::LastEpoch => "last_epoch",
        }
    }

    /// A short description, for printing and `long_name`s.
    pub const fn description(self) -> &'static str {
        match self {
            Criterion::MinValLoss => "minimum mean validation loss",
            Criterion::MinValLossMedian => "minimum median validation loss",
            Criterion::MinValLossTrimmedMean => "minimum 10% trimmed mean validation loss",
            Criterion::MinScaledValLoss => "minimum temperature-scaled validation loss",
            Criterion::MaxValAccuracy => "maximum validation accuracy",
            Criterion::LastEpoch => "last epoch",
        }
    }

    /// How good a run looks to this criterion when a grid search
    /// compares runs (larger is better): the negated loss it minimises,
    /// the accuracy it maximises, or, for the last epoch, the validation
    /// accuracy there.
    pub(crate) fn merit(self, p: &Pick) -> f64 {
        match self {
            Criterion::MaxValAccuracy | Criterion::LastEpoch => p.val_accuracy,
            Criterion::MinValLoss
            | Criterion::MinValLossMedian
            | Criterion::MinValLossTrimmedMean
            | Criterion::MinScaledValLoss => -p.value,
        }
    }

    /// The epoch it picks over the rows of `c` (`None`: not available,
    /// e.g. a robust criterion without `extra.robust`).
    fn pick(self, c: &Curves, extra: Extra<'_>) -> Option<Pick> {
        let robust = extra.robust;
        match self {
            Criterion::MinValLoss => by(c, &c.val_loss, true),
            Criterion::MinValLossMedian => robust.and_then(|r| by(c, &r.median, true)),
            Criterion::MinValLossTrimmedMean => robust.and_then(|r| by(c, &r.trimmed_mean, true)),
            Criterion::MinScaledValLoss => extra.scaled_val_loss.and_then(|v| by(c, v, true)),
            Criterion::MaxValAccuracy => by(c, &c.val_acc, false),
            Criterion::LastEpoch => {
                let last = c.len().checked_sub(1)?;
                Some(pick(c, last, c.val_loss[last]))
            }
        }
    }
}

/// The epoch each criterion selects (`None`: not available for this
/// run). Ties go to the earliest epoch; NaN values are skipped.
/// Serialised as an object keyed by [`Criterion::name`], in
/// [`Criterion::ALL`] order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    picks: [Option<Pick>; Criterion::ALL.len()],
}

impl Selection {
    /// What criterion `c` picks.
    pub fn get(&self, c: Criterion) -> Option<Pick> {
        Criterion::ALL
            .iter()
            .position(|&x| x == c)
            .and_then(|i| self.picks[i])
    }
}

impl Serialize for Selection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.picks.len()))?;
        for (c, p) in Criterion::ALL.iter().zip(&self.picks) {
            m.serialize_entry(c.name(), p)?;
        }
        m.end()
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
/// criteria need `extra.robust`, the scaled one `extra.scaled_val_loss`.
pub fn select(c: &Curves, extra: Extra<'_>) -> Selection {
    if c.is_empty() {
        return Selection::default();
    }
    Selection {
        picks: Criterion::ALL.map(|k| k.pick(c, extra)),
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
            ..RobustCurves::default()
        };
        let scaled = [2.3, 0.39, 0.29, 0.28, 0.28];
        let s = select(
            &c,
            Extra {
                robust: Some(&r),
                scaled_val_loss: Some(&scaled),
            },
        );
        let epoch = |k: Criterion| s.get(k).unwrap().epoch;
        assert_eq!(epoch(Criterion::MinValLoss), 2);
        assert_eq!(epoch(Criterion::MinValLossMedian), 3);
        // Ties take the earliest epoch.
        assert_eq!(epoch(Criterion::MinValLossTrimmedMean), 2);
        assert_eq!(epoch(Criterion::MaxValAccuracy), 3);
        assert_eq!(epoch(Criterion::LastEpoch), 4);
        // The scaled loss keeps falling where the mean loss rises.
        assert_eq!(epoch(Criterion::MinScaledValLoss), 3);
        let m = s.get(Criterion::MinValLossMedian).unwrap();
        assert_eq!((m.value, m.eval_accuracy, m.eval_loss), (0.05, 0.92, 0.36));
        assert_eq!(s.get(Criterion::LastEpoch).unwrap().eval_accuracy, 0.925);
        let without = select(&c, Extra::default());
        assert!(without.get(Criterion::MinValLossMedian).is_none());
        assert!(without.get(Criterion::MinScaledValLoss).is_none());
        assert!(without.get(Criterion::MinValLoss).is_some());
        let empty = select(&Curves::default(), Extra::default());
        assert!(empty.get(Criterion::LastEpoch).is_none());
    }

    #[test]
    fn merit_prefers_low_losses_and_high_accuracies() {
        let s = select(&curves(), Extra::default());
        let merit = |k: Criterion| k.merit(&s.get(k).unwrap());
        assert_eq!(merit(Criterion::MinValLoss), -0.3);
        assert_eq!(merit(Criterion::MaxValAccuracy), 0.93);
        // The last epoch is judged by its validation accuracy.
        assert_eq!(merit(Criterion::LastEpoch), 0.93);
    }

    #[test]
    fn serialises_keyed_by_name_in_order() {
        let s = select(&curves(), Extra::default());
        let text = serde_json::to_string(&s).unwrap();
        let at: Vec<usize> = Criterion::ALL
            .iter()
            .map(|c| text.find(&format!("\"{}\":", c.name())).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(
            text.starts_with("{\"min_val_loss\":{\"epoch\":2,"),
            "{text}"
        );
        assert!(text.contains("\"min_val_loss_median\":null"), "{text}");
    }
}
