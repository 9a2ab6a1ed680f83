//! Model selection across a sweep: for each criterion of
//! [`crate::analysis::select`], the test accuracy it leads to over the
//! sweep's runs (mean and worst), and, for a grid search
//! (`select_best = "lr"`), which value of the searched setting each
//! criterion picks in every group and what test accuracy follows.

use serde::Serialize;

use super::row::{Row, RowStatus};
use super::{Origin, Sweep};
use crate::analysis::groups::{best_of_groups, groups_differing_only_in};
use crate::analysis::select::Criterion;
use crate::record::schema::RunStatus;

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

/// Which of the first `n` runs of `sweep` a grid search over setting
/// `key` picks by `score` (larger is better, `None`: not judged): the
/// best of each group of runs differing only in `key`, the first on ties.
/// The protocol's other seeds of a pick ([`Origin::Seed`]) are no part
/// of the grid and never picked.
pub(crate) fn grid_best(
    sweep: &Sweep,
    key: &str,
    n: usize,
    score: impl Fn(usize) -> Option<f64>,
) -> Vec<bool> {
    let settings = sweep.runs.iter().take(n).map(|r| r.settings.as_slice());
    let grid = |i: usize| score(i).filter(|_| sweep.runs[i].origin != Origin::Seed);
    best_of_groups(&groups_differing_only_in(settings, key), n, grid)
}

/// A run a grid search may pick: not diverged.
pub(crate) fn eligible(r: &Row) -> bool {
    r.status != RowStatus::Run(RunStatus::Diverged)
}

/// Which run each grid group picks (`picked[i]`) judged by `c`.
pub(crate) fn grid_picks(sweep: &Sweep, key: &str, rows: &[Row], c: Criterion) -> Vec<bool> {
    grid_best(sweep, key, rows.len(), |i| {
        let r = &rows[i];
        r.selection
            .get(c)
            .filter(|_| eligible(r))
            .map(|p| c.merit(&p))
    })
}

/// Every criterion's summary over `rows` (the runs `rows[i].selected`
/// marks, when there is no grid search; with one, every run with data).
pub fn summarise(sweep: &Sweep, rows: &[Row]) -> Vec<CriterionSummary> {
    Criterion::ALL
        .iter()
        .map(|&k| {
            let accs: Vec<f64> = rows
                .iter()
                .filter(|r| sweep.select_best.is_some() || r.selected)
                .filter_map(|r| r.selection.get(k))
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
                    .filter_map(|&i| rows[i].selection.get(k))
                    .map(|p| p.eval_accuracy)
                    .collect();
                GridSummary {
                    groups: chosen.len(),
                    mean_eval_accuracy: mean(&acc),
                    picked,
                }
            });
            CriterionSummary {
                criterion: k.name(),
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
