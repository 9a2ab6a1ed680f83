//! Model selection across a sweep: for each criterion of
//! [`crate::analysis::select`], the test accuracy it leads to over the
//! sweep's runs (mean and worst), and, for a grid search
//! (`select_best = "lr"`), which value of the searched setting each
//! criterion picks in every group and what test accuracy follows.

use serde::Serialize;

use super::collect::Row;
use super::Sweep;
use crate::analysis::select::{Pick, Selection};

/// The criteria, by key (`sweep.h5` column prefix) and description.
pub const CRITERIA: [(&str, &str); 5] = [
    ("min_val_loss", "minimum mean validation loss"),
    ("min_val_loss_median", "minimum median validation loss"),
    (
        "min_val_loss_trimmed_mean",
        "minimum 10% trimmed mean validation loss",
    ),
    ("max_val_accuracy", "maximum validation accuracy"),
    ("last_epoch", "last epoch"),
];

/// Criterion `k` (index into [`CRITERIA`]) of a selection.
pub fn criterion(s: &Selection, k: usize) -> Option<Pick> {
    s.picks()[k].1
}

/// How good a run looks to criterion `k` when a grid search compares
/// runs (larger is better): the negated loss it minimises, the accuracy
/// it maximises, or, for the last epoch, its validation accuracy there.
fn merit(k: usize, p: &Pick) -> f64 {
    match CRITERIA[k].0 {
        "max_val_accuracy" | "last_epoch" => p.val_accuracy,
        _ => -p.value,
    }
}

/// What one criterion leads to over the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct CriterionSummary {
    /// Its key.
    pub criterion: &'static str,
    /// Runs it could judge.
    pub runs: usize,
    /// Mean test accuracy at the epochs it selects.
    pub mean_eval_accuracy: f64,
    /// Worst test accuracy at the epochs it selects.
    pub worst_eval_accuracy: f64,
    /// With a grid search: groups searched, the mean test accuracy of the
    /// runs it picks, and how often it picks each value of the setting.
    pub grid: Option<GridSummary>,
}

/// A grid search judged by one criterion.
#[derive(Clone, Debug, Serialize)]
pub struct GridSummary {
    /// Groups (configurations) searched.
    pub groups: usize,
    /// Mean test accuracy of the picked runs, at their selected epochs.
    pub mean_eval_accuracy: f64,
    /// `(value, times picked)` of the searched setting, in spec order.
    pub picked: Vec<(String, usize)>,
}

/// The value of setting `key` in run `i` of the sweep.
fn value_of(sweep: &Sweep, i: usize, key: &str) -> String {
    sweep.runs[i]
        .settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// For criterion `k`: which run each grid group picks (`picked[i]`).
pub fn grid_picks(sweep: &Sweep, key: &str, rows: &[Row], k: usize) -> Vec<bool> {
    let group = |i: usize| -> Vec<&(String, String)> {
        sweep.runs[i]
            .settings
            .iter()
            .filter(|(x, _)| x != key)
            .collect()
    };
    let score = |i: usize| criterion(&rows[i].selection, k).map(|p| merit(k, &p));
    (0..rows.len())
        .map(|i| {
            let Some(mine) = score(i) else { return false };
            !(0..rows.len()).any(|j| {
                j != i
                    && group(j) == group(i)
                    && score(j).is_some_and(|s| s > mine || (s == mine && j < i))
            })
        })
        .collect()
}

/// Every criterion's summary over `rows` (the runs `rows[i].selected`
/// marks, when there is no grid search; with one, every run with data).
pub fn summarise(sweep: &Sweep, rows: &[Row]) -> Vec<CriterionSummary> {
    (0..CRITERIA.len())
        .map(|k| {
            let accs: Vec<f64> = rows
                .iter()
                .filter(|r| sweep.select_best.is_some() || r.selected)
                .filter_map(|r| criterion(&r.selection, k))
                .map(|p| p.eval_accuracy)
                .collect();
            let grid = sweep.select_best.as_deref().map(|key| {
                let picks = grid_picks(sweep, key, rows, k);
                let chosen: Vec<usize> = (0..rows.len()).filter(|&i| picks[i]).collect();
                let mut picked: Vec<(String, usize)> = vec![];
                for &i in &chosen {
                    let v = value_of(sweep, i, key);
                    match picked.iter_mut().find(|(x, _)| *x == v) {
                        Some(e) => e.1 += 1,
                        None => picked.push((v, 1)),
                    }
                }
                let acc: Vec<f64> = chosen
                    .iter()
                    .filter_map(|&i| criterion(&rows[i].selection, k))
                    .map(|p| p.eval_accuracy)
                    .collect();
                GridSummary {
                    groups: chosen.len(),
                    mean_eval_accuracy: mean(&acc),
                    picked,
                }
            });
            CriterionSummary {
                criterion: CRITERIA[k].0,
                runs: accs.len(),
                mean_eval_accuracy: mean(&accs),
                worst_eval_accuracy: accs.iter().copied().fold(f64::NAN, f64::min),
                grid,
            }
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
