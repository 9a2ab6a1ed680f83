//! Is the rise over-confidence? One run's validation calibration read at
//! the two epochs the paper compares: the minimum of the raw mean
//! validation loss and the end of the run. If the loss at the best
//! temperature `T*` does not rise between them while the raw loss does,
//! the rise is the logits' scale, not lost knowledge (Guo et al. 2017).
//! `summary.json`, `sweep collect` and `reproduce paper` all read it
//! from here.

use serde::Serialize;

use super::{min_val_loss, Curves};
use crate::record::read::SetCalibration;

/// The validation set's calibration at the raw minimum and at the end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CalibrationSummary {
    /// The epoch of the minimum raw mean validation loss.
    pub raw_min_epoch: i64,
    /// The epoch of the minimum temperature-scaled validation loss
    /// (`None` when `T*` exists at no epoch).
    pub scaled_min_epoch: Option<i64>,
    /// The last epoch recorded.
    pub last_epoch: i64,
    /// Raw mean validation loss at the raw minimum.
    pub raw_loss_at_raw_min: f64,
    /// Scaled validation loss (at that epoch's `T*`) at the raw minimum.
    pub scaled_loss_at_raw_min: f64,
    /// `T*` at the raw minimum.
    pub temperature_at_raw_min: f64,
    /// Expected calibration error (`T = 1`) at the raw minimum.
    pub ece_at_raw_min: f64,
    /// Raw mean validation loss at the end.
    pub raw_loss_at_end: f64,
    /// Scaled validation loss at the end.
    pub scaled_loss_at_end: f64,
    /// `T*` at the end.
    pub temperature_at_end: f64,
    /// Expected calibration error at the end.
    pub ece_at_end: f64,
    /// `raw_loss_at_end - raw_loss_at_raw_min` (>= 0).
    pub raw_change: f64,
    /// `scaled_loss_at_end - scaled_loss_at_raw_min`.
    pub scaled_change: f64,
    /// Share of the validation loss on misclassified samples at the end.
    pub wrong_loss_share_at_end: f64,
    /// The run's answer: the scaled loss at the end is at most its value
    /// at the raw minimum (NaN compares false).
    pub scaled_does_not_rise: bool,
}

/// The summary of `cal` over the epochs of `c` (`None` without a finite
/// raw validation loss).
pub(crate) fn summarise(c: &Curves, cal: &SetCalibration) -> Option<CalibrationSummary> {
    let m = min_val_loss(c)?;
    let last = c.len() - 1;
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
    let scaled = &cal.loss_at_temperature;
    let scaled_min = scaled
        .iter()
        .take(c.len())
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((i, v)),
        });
    let (s_min, s_end) = (at(scaled, m), at(scaled, last));
    Some(CalibrationSummary {
        raw_min_epoch: c.epoch[m],
        scaled_min_epoch: scaled_min.map(|(i, _)| c.epoch[i]),
        last_epoch: c.epoch[last],
        raw_loss_at_raw_min: c.val_loss[m],
        scaled_loss_at_raw_min: s_min,
        temperature_at_raw_min: at(&cal.temperature, m),
        ece_at_raw_min: at(&cal.ece, m),
        raw_loss_at_end: c.val_loss[last],
        scaled_loss_at_end: s_end,
        temperature_at_end: at(&cal.temperature, last),
        ece_at_end: at(&cal.ece, last),
        raw_change: c.val_loss[last] - c.val_loss[m],
        scaled_change: s_end - s_min,
        wrong_loss_share_at_end: at(&cal.wrong_loss_share, last),
        scaled_does_not_rise: s_end <= s_min,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves(val_loss: &[f64]) -> Curves {
        let n = val_loss.len();
        Curves {
            epoch: (0..n as i64).collect(),
            iteration: (0..n as i64).collect(),
            train_loss: vec![0.1; n],
            train_acc: vec![0.9; n],
            val_loss: val_loss.to_vec(),
            val_acc: vec![0.9; n],
            eval_loss: vec![0.1; n],
            eval_acc: vec![0.9; n],
        }
    }

    fn cal(scaled: &[f64], t: &[f64]) -> SetCalibration {
        SetCalibration {
            loss_at_temperature: scaled.to_vec(),
            temperature: t.to_vec(),
            ece: vec![0.01; scaled.len()],
            wrong_loss_share: vec![0.9; scaled.len()],
            ..SetCalibration::default()
        }
    }

    #[test]
    fn a_rise_that_temperature_removes_is_over_confidence() {
        let c = curves(&[2.3, 0.5, 0.4, 0.6, 0.9]);
        let s = summarise(
            &c,
            &cal(&[2.3, 0.49, 0.39, 0.38, 0.385], &[1.0, 1.0, 1.1, 1.8, 2.5]),
        )
        .unwrap();
        assert_eq!(
            (s.raw_min_epoch, s.scaled_min_epoch, s.last_epoch),
            (2, Some(3), 4)
        );
        assert!((s.raw_change - 0.5).abs() < 1e-12);
        assert!((s.scaled_change + 0.005).abs() < 1e-12);
        assert_eq!((s.temperature_at_raw_min, s.temperature_at_end), (1.1, 2.5));
        assert!(s.scaled_does_not_rise);
    }

    #[test]
    fn a_rise_that_survives_scaling_is_not() {
        let c = curves(&[2.3, 0.5, 0.4, 0.6, 0.9]);
        let s = summarise(&c, &cal(&[2.3, 0.49, 0.39, 0.5, 0.7], &[1.0; 5])).unwrap();
        assert!(!s.scaled_does_not_rise);
        assert_eq!(s.scaled_min_epoch, Some(2));
        // No T* at the end: NaN, and no verdict of "does not rise".
        let s = summarise(&c, &cal(&[2.3, 0.49, 0.39, 0.38, f64::NAN], &[1.0; 5])).unwrap();
        assert!(!s.scaled_does_not_rise && s.scaled_loss_at_end.is_nan());
        assert_eq!(s.scaled_min_epoch, Some(3));
    }
}
