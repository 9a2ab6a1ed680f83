//! The numbers the claims are judged on, read from the run files: a
//! [`SweepPoint`] per run of a collected sweep, a [`CaseEvidence`] per
//! case's run file (one case, one seed).
//!
//! A case's evidence comes from its per-epoch validation losses
//! (`/val_per_epoch`, read by [`RunFile::read`]) and its log-spaced
//! checkpoints (`/checkpoints`): the per-sample training, validation and
//! evaluation losses, the weight L2 norms and the weight histograms.
//! Large per-sample tables are reduced here to what the claims read
//! (quantile series, fence counts, the outliers' series), so holding
//! every case and seed at once stays small.

use std::path::Path;

use hdf5::{Group, H5Type};

use super::claims::{nearest, CaseEvidence, SetSeries, SweepPoint};
use super::criteria::{TAIL_QUANTILE, TOP_QUANTILE};
use crate::analysis;
use crate::error::Result;
use crate::record::h5;
use crate::record::read::{Hist, RunFile};
use crate::record::schema::{self, ckpt};
use crate::stats;
use crate::sweep::collect::Collected;

/// Every run of `c` with a curve summary (only the runs its grid search
/// selected, when `selected_only`).
pub(crate) fn sweep_points(c: &Collected, selected_only: bool) -> Vec<SweepPoint> {
    c.rows
        .iter()
        .zip(&c.sweep.runs)
        .filter(|(row, _)| row.selected || !selected_only)
        .filter_map(|(row, run)| {
            let s = row.summary.as_ref()?;
            Some(SweepPoint {
                settings: run
                    .settings
                    .iter()
                    .filter(|(k, _)| k != "lr")
                    .cloned()
                    .collect(),
                width: run.cfg.shape.width,
                min_val_loss: s.min_val_loss.val_loss,
                loss_change: s.change_to_final.val_loss,
                acc_change: s.change_to_final.val_acc,
                last_val_acc: s.last.val_acc,
                triangle: s.triangle,
            })
        })
        .collect()
}

/// A row-major table: `rows` rows of `n` values.
#[derive(Clone, Debug, Default)]
struct Matrix<T> {
    rows: usize,
    n: usize,
    v: Vec<T>,
}

impl<T: Copy> Matrix<T> {
    /// Row `r` (empty when out of range).
    fn row(&self, r: usize) -> &[T] {
        self.v.get(r * self.n..(r + 1) * self.n).unwrap_or(&[])
    }

    /// The value at row `r`, column `i`.
    fn at(&self, r: usize, i: usize) -> Option<T> {
        self.row(r).get(i).copied()
    }
}

/// The first `rows` rows at most of `/checkpoints/name` (over
/// `iteration x ...`, the trailing dimensions flattened); `None` when
/// the file does not have it.
fn read_rows<T: H5Type + Copy>(
    g: &Group,
    name: &str,
    rows: usize,
) -> hdf5::Result<Option<Matrix<T>>> {
    if !g.link_exists(name) {
        return Ok(None);
    }
    let d = g.dataset(name)?;
    let shape = d.shape();
    let n: usize = shape.iter().skip(1).product();
    let mut v: Vec<T> = d.read_raw()?;
    let rows = shape.first().copied().unwrap_or(0).min(rows);
    let rows = v.len().checked_div(n).map_or(0, |r| rows.min(r));
    v.truncate(rows * n);
    Ok(Some(Matrix { rows, n, v }))
}

/// What the claims read from `/checkpoints`.
#[derive(Debug, Default)]
struct Checkpoints {
    /// Fractional epoch of each checkpoint.
    epoch: Vec<f64>,
    /// Per-sample losses of the training, validation and evaluation
    /// sets (absent when not recorded).
    train: Option<Matrix<f32>>,
    val: Option<Matrix<f32>>,
    eval: Option<Matrix<f32>>,
    /// Per layer, per checkpoint: the weight L2 norm.
    weight_l2: Vec<Vec<f64>>,
}

impl Checkpoints {
    /// The first `rows` checkpoints of `path` (the complete ones).
    fn read(path: &Path, rows: usize) -> Result<Checkpoints> {
        let err = |e: hdf5::Error| h5::err(path, "cannot read the checkpoints", e);
        let file = h5::open_read(path).map_err(err)?;
        let g = file.group(schema::CHECKPOINTS).map_err(err)?;
        let set = |s: &str| read_rows::<f32>(&g, &ckpt::set_vars(s)[0], rows).map_err(err);
        let epoch = read_rows::<f64>(&g, ckpt::EPOCH.name, rows).map_err(err)?;
        let norms = read_rows::<f64>(&g, ckpt::NORMS[0].name, rows).map_err(err)?;
        Ok(Checkpoints {
            epoch: epoch.map(|m| m.v).unwrap_or_default(),
            train: set(schema::SETS[0].name)?,
            val: set(schema::SETS[1].name)?,
            eval: set(schema::SETS[2].name)?,
            weight_l2: norms.map(|m| per_layer(&m)).unwrap_or_default(),
        })
    }
}

/// `checkpoint x layer` as `[layer][checkpoint]`.
fn per_layer(m: &Matrix<f64>) -> Vec<Vec<f64>> {
    (0..m.n)
        .map(|l| (0..m.rows).filter_map(|r| m.at(r, l)).collect())
        .collect()
}

/// The largest |w| a weight bin can hold: its larger |edge|, an open
/// outer bin its finite edge (NaN for a bin open at both ends).
fn bin_abs(lo: f64, hi: f64) -> f64 {
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => lo.abs().max(hi.abs()),
        (true, false) => lo.abs(),
        (false, true) => hi.abs(),
        (false, false) => f64::NAN,
    }
}

/// The `p`-quantile of |w| over row `row` of a weight histogram, at bin
/// resolution. The bins are linear and symmetric around 0, with an
/// underflow and an overflow bin; each bin counts at the largest |w| it
/// can hold ([`bin_abs`]: its larger |edge|, the finite edge for an open
/// bin), and the quantile is the smallest such value at or below which
/// at least a share `p` of the weights lie. Weights in the open bins
/// count at the histogram's range, so the value saturates there. NaN for
/// an empty row.
pub(crate) fn hist_abs_quantile(h: &Hist, row: usize, p: f64) -> f64 {
    let Some(counts) = h.counts.get(row * h.bins..(row + 1) * h.bins) else {
        return f64::NAN;
    };
    let mut bins: Vec<(f64, u64)> = counts
        .iter()
        .enumerate()
        .map(|(b, &c)| {
            let edge = |e: &[f64]| e.get(b).copied().unwrap_or(f64::NAN);
            (bin_abs(edge(&h.lower), edge(&h.upper)), c)
        })
        .filter(|(x, _)| !x.is_nan())
        .collect();
    bins.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = bins.iter().map(|b| b.1).sum();
    let need = p * total as f64;
    let mut seen = 0u64;
    for (x, c) in bins {
        seen += c;
        if total > 0 && seen as f64 >= need {
            return x;
        }
    }
    f64::NAN
}

/// Per row of the training set's losses (NaN ignored): the
/// [`TOP_QUANTILE`], the largest and the median (NaN for a row without
/// values).
fn train_series(m: &Matrix<f32>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut top, mut max, mut median) = (vec![], vec![], vec![]);
    let mut row = Vec::with_capacity(m.n);
    for r in 0..m.rows {
        row.clear();
        row.extend(m.row(r).iter().filter(|x| !x.is_nan()).map(|&x| x as f64));
        row.sort_by(f64::total_cmp);
        top.push(stats::quantile_sorted(&row, TOP_QUANTILE));
        max.push(row.last().copied().unwrap_or(f64::NAN));
        median.push(stats::quantile_sorted(&row, 0.5));
    }
    (top, max, median)
}

/// The checkpoints after the minimum-validation-loss epoch: their rows
/// and iterations.
struct AfterMin {
    rows: Vec<usize>,
    iterations: Vec<f64>,
}

/// A set's series over the rows of `m` (epochs or checkpoints) with the
/// minimum validation loss at row `min_row`: fence counts from
/// [`analysis::tukey_outliers`], and for the samples strictly above the
/// upper fence at the last row their losses at the checkpoints after
/// the minimum (from `ckpt`, the same set's checkpoint losses).
fn set_series(
    m: &Matrix<f32>,
    min_row: usize,
    ckpt: Option<&Matrix<f32>>,
    after: &AfterMin,
) -> SetSeries {
    if m.rows <= min_row || m.n == 0 {
        return SetSeries::default();
    }
    let Some(o) = analysis::tukey_outliers(&m.v, m.rows, m.n) else {
        return SetSeries::default();
    };
    let last = m.row(m.rows - 1);
    let outliers: Vec<usize> = analysis::upper_fence(last, &mut vec![])
        .map(|f| (0..last.len()).filter(|&i| last[i] as f64 > f).collect())
        .unwrap_or_default();
    let (iterations, outlier_series) = match ckpt {
        Some(c) if c.n == m.n => (
            after.iterations.clone(),
            outliers
                .iter()
                .map(|&i| {
                    after
                        .rows
                        .iter()
                        .map(|&r| c.at(r, i).unwrap_or(f32::NAN))
                        .collect()
                })
                .collect(),
        ),
        _ => (vec![], vec![]),
    };
    SetSeries {
        rows: m.rows,
        at_min: m.row(min_row).to_vec(),
        last: o.final_loss,
        rows_above: o.epochs_above,
        after_min_iterations: iterations,
        outlier_series,
    }
}

/// Case `letter`'s evidence from the run file of its seed `seed`.
pub(crate) fn case_evidence(letter: char, seed: u64, path: &Path) -> Result<CaseEvidence> {
    let f = RunFile::read(path)?;
    let mut e = CaseEvidence {
        letter,
        seed,
        ..CaseEvidence::default()
    };
    let Some(s) = analysis::summarise(&f.curves) else {
        return Ok(e);
    };
    e.calibration = f
        .calibration
        .val
        .as_ref()
        .and_then(|v| analysis::calibration::summarise(&f.curves, v));
    e.epochs = s.last.epoch.max(0) as usize;
    e.min_epoch = s.min_val_loss.epoch.max(0) as usize;
    e.loss_change = s.change_to_last.val_loss;
    e.acc_change = s.change_to_last.val_acc;
    let k = Checkpoints::read(path, f.iterations.len())?;
    let after_rows: Vec<usize> = (0..k.epoch.len())
        .filter(|&i| k.epoch[i] > e.min_epoch as f64)
        .collect();
    let after = AfterMin {
        iterations: after_rows
            .iter()
            .filter_map(|&i| f.iterations.get(i).map(|&it| it as f64))
            .collect(),
        rows: after_rows,
    };
    let val_epochs = Matrix {
        rows: f.val_epochs,
        n: f.val_n,
        v: f.val_losses,
    };
    e.val = set_series(&val_epochs, e.min_epoch, k.val.as_ref(), &after);
    if let Some(c_min) = nearest(&k.epoch, e.min_epoch as f64) {
        if let Some(v) = &k.val {
            e.val_ckpt = set_series(v, c_min, Some(v), &after);
        }
        if let Some(v) = &k.eval {
            e.eval_ckpt = set_series(v, c_min, Some(v), &after);
        }
    }
    if let Some(t) = &k.train {
        (e.train_top, e.train_max, e.train_median) = train_series(t);
    }
    e.ckpt_epoch = k.epoch;
    e.weight_l2 = k.weight_l2;
    e.weight_tail = f
        .weight_hist
        .iter()
        .map(|h| {
            (0..h.rows)
                .map(|r| hist_abs_quantile(h, r, TAIL_QUANTILE))
                .collect()
        })
        .collect();
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row: underflow, [-1, -0.5), [-0.5, 0), [0, 0.5), [0.5, 1),
    /// overflow.
    fn hist(counts: [u64; 6]) -> Hist {
        let inf = f64::INFINITY;
        Hist {
            rows: 1,
            bins: 6,
            counts: counts.to_vec(),
            lower: vec![-inf, -1.0, -0.5, 0.0, 0.5, 1.0],
            upper: vec![-1.0, -0.5, 0.0, 0.5, 1.0, inf],
        }
    }

    #[test]
    fn tail_weight_at_bin_resolution() {
        let h = hist([0, 1, 499, 499, 1, 0]);
        assert_eq!(hist_abs_quantile(&h, 0, 0.5), 0.5);
        // 998 of 1000 lie within |w| <= 0.5: the 99.9th percentile is
        // in the next bins out.
        assert_eq!(hist_abs_quantile(&h, 0, TAIL_QUANTILE), 1.0);
        assert_eq!(hist_abs_quantile(&h, 0, 0.998), 0.5);
        // The open bins count at their finite edge.
        assert_eq!(hist_abs_quantile(&hist([5, 0, 0, 0, 0, 5]), 0, 0.999), 1.0);
        assert!(hist_abs_quantile(&hist([0; 6]), 0, 0.999).is_nan());
        assert!(hist_abs_quantile(&h, 1, 0.5).is_nan());
    }

    #[test]
    fn training_series_ignore_nan() {
        let m = Matrix {
            rows: 2,
            n: 3,
            v: vec![1.0, f32::NAN, 3.0, f32::NAN, f32::NAN, f32::NAN],
        };
        let (top, max, median) = train_series(&m);
        assert_eq!(max[0], 3.0);
        assert_eq!(median[0], 2.0);
        assert!((top[0] - 2.98).abs() < 1e-12);
        assert!(top[1].is_nan() && max[1].is_nan() && median[1].is_nan());
    }

    #[test]
    fn set_series_follows_the_outliers() {
        // 3 rows of 8 samples; sample 7 explodes at the end.
        let mut v = vec![];
        for r in 0..3 {
            for i in 0..8 {
                v.push(if i == 7 && r == 2 {
                    50.0
                } else {
                    1.0 + i as f32 * 0.1
                });
            }
        }
        let m = Matrix { rows: 3, n: 8, v };
        let after = AfterMin {
            rows: vec![1, 2],
            iterations: vec![10.0, 20.0],
        };
        let s = set_series(&m, 0, Some(&m), &after);
        assert_eq!(s.rows, 3);
        assert_eq!(s.rows_above[7], 1);
        assert_eq!(s.outlier_series, vec![vec![1.7, 50.0]]);
        assert_eq!(s.after_min_iterations, vec![10.0, 20.0]);
        assert_eq!(s.at_min.len(), 8);
        assert_eq!(s.last[7], 50.0);
        // The minimum beyond the rows: nothing.
        assert!(set_series(&m, 3, None, &after).last.is_empty());
    }
}
