//! The numbers the claims are judged on, read from the run files: a
//! [`SweepPoint`] per run of a collected sweep, a [`CaseEvidence`] per
//! case's run file.

use std::path::Path;

use super::claims::{CaseEvidence, SweepPoint, TOP_QUANTILE};
use crate::analysis;
use crate::error::Result;
use crate::record::h5;
use crate::record::read::{Hist, PerEpoch, RunFile};
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
                triangle: s.triangle,
            })
        })
        .collect()
}

/// Standard deviation of the values a histogram row counts (bin
/// centres; an open outer bin counts at its finite edge).
fn hist_std(h: &Hist, row: usize) -> f64 {
    let counts = &h.counts[row * h.bins..(row + 1) * h.bins];
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for (b, &c) in counts.iter().enumerate() {
        let (lo, hi) = (h.lower[b], h.upper[b]);
        let x = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => 0.5 * (lo + hi),
            (true, false) => lo,
            (false, true) => hi,
            (false, false) => 0.0,
        };
        let c = c as f64;
        n += c;
        s += c * x;
        s2 += c * x * x;
    }
    if n == 0.0 {
        return f64::NAN;
    }
    let m = s / n;
    (s2 / n - m * m).max(0.0).sqrt()
}

/// Per layer: the weight L2 norm at the first and the last checkpoint.
fn weight_norms(path: &Path, checkpoints: usize) -> Result<Vec<(f64, f64)>> {
    let err = |e: hdf5::Error| h5::err(path, "cannot read the weight norms", e);
    let file = h5::open_read(path).map_err(err)?;
    let Ok(d) = file.dataset(&format!("{}/{}", schema::CHECKPOINTS, ckpt::NORMS[0].name)) else {
        return Ok(vec![]);
    };
    let shape = d.shape();
    let v: Vec<f64> = d.read_raw().map_err(err)?;
    let (rows, layers) = (
        shape[0].min(checkpoints),
        shape.get(1).copied().unwrap_or(0),
    );
    if rows == 0 {
        return Ok(vec![]);
    }
    Ok((0..layers)
        .map(|l| (v[l], v[(rows - 1) * layers + l]))
        .collect())
}

/// Case `letter`'s evidence from its run file.
pub(crate) fn case_evidence(letter: char, path: &Path) -> Result<CaseEvidence> {
    let f = RunFile::read(path)?;
    let mut e = CaseEvidence {
        letter,
        ..CaseEvidence::default()
    };
    let Some(s) = analysis::summarise(&f.curves) else {
        return Ok(e);
    };
    e.epochs = s.last.epoch.max(0) as usize;
    e.min_epoch = s.min_val_loss.epoch.max(0) as usize;
    e.loss_change = s.change_to_last.val_loss;
    e.acc_change = s.change_to_last.val_acc;
    let (rows, n) = (f.val_epochs, f.val_n);
    if rows > e.min_epoch && n > 0 {
        e.val_at_min = f.val_losses[e.min_epoch * n..(e.min_epoch + 1) * n].to_vec();
        e.val_last = f.val_losses[(rows - 1) * n..rows * n].to_vec();
        if let Some(o) = analysis::tukey_outliers(&f.val_losses, rows, n) {
            e.frac_never = o.frac_never;
            e.epochs_above = o.epochs_above;
            e.final_loss = o.final_loss;
        }
    }
    if let Some(t) = PerEpoch::read(path, schema::TRAIN_PER_EPOCH, f.curves.len())? {
        let mut row = Vec::with_capacity(t.n);
        for r in 0..t.epochs {
            row.clear();
            row.extend(
                t.loss[r * t.n..(r + 1) * t.n]
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|&x| x as f64),
            );
            row.sort_by(f64::total_cmp);
            if !row.is_empty() {
                e.train_top.push(stats::quantile_sorted(&row, TOP_QUANTILE));
            }
        }
    }
    e.weight_norms = weight_norms(path, f.iterations.len())?;
    e.weight_spread = f
        .weight_hist
        .iter()
        .filter(|h| h.rows > 0)
        .map(|h| (hist_std(h, 0), hist_std(h, h.rows - 1)))
        .collect();
    Ok(e)
}
