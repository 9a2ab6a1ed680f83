//! The learning-rate protocol of a grid search (`select_best`), as the
//! paper states it and made robust:
//!
//! - the pick of a group (runs that differ only in the searched setting)
//!   is the run with the best validation error at its last epoch ("the
//!   best validation error achieved by the end of training"; ties: the
//!   first listed); diverged runs are never picked;
//! - `extend_edges = N`: when a group's pick is the smallest or largest
//!   value tried, the group gets one more run, one half-decade step past
//!   that edge (1e-3 -> 3e-3 -> 1e-2 ...), up to N such runs per group.
//!   A value past a diverged one is never tried: the diverged value is
//!   the edge;
//! - `seeds = S`: once a group's pick is settled (no extension left to
//!   try), its value is trained with S - 1 more seeds (the pick's seed
//!   + 1 ..= + S - 1).
//!
//! Which runs these are depends on the results, so [`Sweep::resolve`]
//! computes them from what a folder holds: the same folder always gives
//! the same runs, with ids built like the spec's (`..._lr-0.03`,
//! `..._seed-2`), so any worker, `collect` and `reproduce paper` agree.

use std::path::Path;

use toml::Value;

use super::run::run_file;
use super::{expand, Sweep, SweepRun};
use crate::analysis;
use crate::analysis::groups::{best_of_groups, groups_differing_only_in};
use crate::error::Result;
use crate::record::read;
use crate::record::schema::RunStatus;
use crate::record::Recorder;

/// Where a run of a sweep comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The spec lists it.
    Spec,
    /// One half-decade step past an edge its group picked.
    Extension,
    /// Another seed of its group's pick.
    Seed,
}

impl Origin {
    /// `spec`, `extension` or `seed`, as `sweep.h5` and `sweep.csv` show it.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Spec => "spec",
            Origin::Extension => "extension",
            Origin::Seed => "seed",
        }
    }
}

/// A finished run as the protocol sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Finished {
    /// Its validation accuracy at the last epoch.
    Scored(f64),
    /// Diverged, or without a finite validation loss: never picked.
    Excluded,
}

/// Tolerance for reading a value's mantissa as 1 or 3.
const MANTISSA_TOL: f64 = 1e-6;

/// One half-decade step from `x` (> 0), up or down, on the 1-3-10
/// ladder: 1e-3 <-> 3e-3 <-> 1e-2. A value off the ladder moves by a
/// factor sqrt(10).
pub fn half_decade(x: f64, up: bool) -> f64 {
    let k = x.log10().floor();
    let m = x / 10f64.powf(k);
    let (m2, k2) = if (m - 1.0).abs() < MANTISSA_TOL {
        if up {
            (3.0, k)
        } else {
            (3.0, k - 1.0)
        }
    } else if (m - 3.0).abs() < MANTISSA_TOL {
        if up {
            (1.0, k + 1.0)
        } else {
            (1.0, k)
        }
    } else if up {
        return x * 10f64.sqrt();
    } else {
        return x / 10f64.sqrt();
    };
    // Through the decimal text, so that 3e-5 is the f64 nearest 3e-5.
    format!("{m2}e{k2}").parse().unwrap_or(m2 * 10f64.powf(k2))
}

/// What a folder says of a run: `None` while it is missing or unfinished.
pub fn finished_in(dir: &Path, run: &SweepRun) -> Option<Finished> {
    let path = run_file(dir, &run.id);
    if !path.is_file() {
        return None;
    }
    match Recorder::status(&path).ok()? {
        RunStatus::Diverged => Some(Finished::Excluded),
        RunStatus::Complete => {
            let acc = read::curves(&path)
                .ok()
                .and_then(|c| analysis::summarise(&c))
                .map(|s| s.last.val_acc)
                .filter(|a| a.is_finite());
            Some(acc.map_or(Finished::Excluded, Finished::Scored))
        }
        _ => None,
    }
}

/// A group's state: its runs (indices into the sweep's runs) and pick.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Its grid runs (spec and extensions), in sweep order.
    pub runs: Vec<usize>,
    /// The pick, once every run of the group finished (`None` also when
    /// every run was excluded).
    pub pick: Option<usize>,
    /// Every run finished.
    pub decided: bool,
}

/// The searched setting's value of a run, as a number.
fn value(run: &SweepRun, key: &str) -> Option<f64> {
    run.settings
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// A group as a report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupView {
    /// The values tried (spec and extensions), ascending.
    pub values: Vec<f64>,
    /// The picked value.
    pub pick: Option<f64>,
    /// The pick is the largest (`Some(true)`) or smallest (`Some(false)`)
    /// value tried.
    pub edge: Option<bool>,
    /// Extension runs the group has.
    pub extensions: usize,
    /// Its runs that diverged (or have no finite validation loss).
    pub excluded: Vec<usize>,
}

impl Sweep {
    /// What a report says of group `g` (`state` as for [`Sweep::groups`]).
    pub fn view(&self, g: &Group, state: &[Option<Finished>]) -> GroupView {
        let key = self.select_best.as_deref().unwrap_or("lr");
        let mut values: Vec<f64> = g
            .runs
            .iter()
            .filter_map(|&i| value(&self.runs[i], key))
            .collect();
        values.sort_by(f64::total_cmp);
        let pick = g.pick.and_then(|p| value(&self.runs[p], key));
        let edge = pick.filter(|_| values.len() > 1).and_then(|v| {
            if Some(&v) == values.last() {
                Some(true)
            } else if Some(&v) == values.first() {
                Some(false)
            } else {
                None
            }
        });
        GroupView {
            values,
            pick,
            edge,
            extensions: g
                .runs
                .iter()
                .filter(|&&i| self.runs[i].origin == Origin::Extension)
                .count(),
            excluded: g
                .runs
                .iter()
                .copied()
                .filter(|&i| state.get(i).copied().flatten() == Some(Finished::Excluded))
                .collect(),
        }
    }

    /// The grid groups (seed runs left out) of `self.runs`, each with
    /// its pick by `state` (indexed like `self.runs`).
    pub fn groups(&self, state: &[Option<Finished>]) -> Vec<Group> {
        let Some(key) = &self.select_best else {
            return vec![];
        };
        let grid: Vec<usize> = (0..self.runs.len())
            .filter(|&i| self.runs[i].origin != Origin::Seed)
            .collect();
        let settings = grid.iter().map(|&i| self.runs[i].settings.as_slice());
        groups_differing_only_in(settings, key)
            .into_iter()
            .map(|g| {
                let runs: Vec<usize> = g.iter().map(|&j| grid[j]).collect();
                let decided = runs
                    .iter()
                    .all(|&i| state.get(i).copied().flatten().is_some());
                let score = |a: usize| match state.get(runs[a]).copied().flatten() {
                    Some(Finished::Scored(x)) => Some(x),
                    _ => None,
                };
                let all: Vec<usize> = (0..runs.len()).collect();
                let best = best_of_groups(&[all], runs.len(), score);
                let pick = decided
                    .then(|| best.iter().position(|&b| b).map(|a| runs[a]))
                    .flatten();
                Group {
                    runs,
                    pick,
                    decided,
                }
            })
            .collect()
    }

    /// The run like `like` with `key` set to `v`, from `origin`.
    fn variant(&self, like: &SweepRun, key: &str, v: Value, origin: Origin) -> Result<SweepRun> {
        let mut named = like.named.clone();
        match named.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => named.push((key.to_string(), v)),
        }
        let mut run = expand(&self.path, &self.base, &self.fixed, named)?;
        run.origin = origin;
        Ok(run)
    }

    /// The runs one group adds next: a step past its picked edge, or
    /// the other seeds of its settled pick.
    fn next_runs(&self, g: &Group, key: &str) -> Result<Vec<SweepRun>> {
        let Some(p) = g.pick else { return Ok(vec![]) };
        let values: Vec<f64> = g
            .runs
            .iter()
            .filter_map(|&i| value(&self.runs[i], key))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let extended = g
            .runs
            .iter()
            .filter(|&&i| self.runs[i].origin == Origin::Extension)
            .count();
        let picked = value(&self.runs[p], key).filter(|v| *v > 0.0 && v.is_finite());
        if let Some(v) = picked.filter(|_| extended < self.extend_edges && lo < hi) {
            let up = if v == hi {
                Some(true)
            } else if v == lo {
                Some(false)
            } else {
                None
            };
            if let Some(up) = up {
                let next = Value::Float(half_decade(v, up));
                return Ok(vec![self.variant(
                    &self.runs[p],
                    key,
                    next,
                    Origin::Extension,
                )?]);
            }
        }
        let seed = self.runs[p].cfg.seed;
        (1..self.seeds as u64)
            .map(|s| {
                let v = Value::Integer((seed + s) as i64);
                self.variant(&self.runs[p], "seed", v, Origin::Seed)
            })
            .collect()
    }

    /// The spec's runs and every run the protocol adds, given what
    /// `finished` says of each run (`None`: not finished). Runs are
    /// added in rounds until nothing more can be decided.
    pub fn resolve(&self, finished: impl Fn(&SweepRun) -> Option<Finished>) -> Result<Sweep> {
        let mut out = self.clone();
        let Some(key) = self.select_best.clone() else {
            return Ok(out);
        };
        if self.extend_edges == 0 && self.seeds <= 1 {
            return Ok(out);
        }
        let mut state: Vec<Option<Finished>> = out.runs.iter().map(&finished).collect();
        loop {
            let mut added = vec![];
            for g in out.groups(&state) {
                for r in out.next_runs(&g, &key)? {
                    let known = out.runs.iter().chain(&added).any(|x| x.id == r.id);
                    if !known {
                        added.push(r);
                    }
                }
            }
            if added.is_empty() {
                return Ok(out);
            }
            for r in added {
                state.push(finished(&r));
                out.runs.push(r);
            }
        }
    }

    /// The spec's runs and what the protocol added, as the folder `dir`
    /// holds them.
    pub fn resolved_in(&self, dir: &Path) -> Result<Sweep> {
        self.resolve(|r| finished_in(dir, r))
    }

    /// Groups whose spec values of the searched setting span less than
    /// `decades` decades, as `(a run id of the group, span in decades)`.
    pub fn narrow_grids(&self, decades: f64) -> Vec<(String, f64)> {
        let Some(key) = &self.select_best else {
            return vec![];
        };
        let spec: Vec<usize> = (0..self.runs.len())
            .filter(|&i| self.runs[i].origin == Origin::Spec)
            .collect();
        let settings = spec.iter().map(|&i| self.runs[i].settings.as_slice());
        groups_differing_only_in(settings, key)
            .into_iter()
            .filter_map(|g| {
                let v: Vec<f64> = g
                    .iter()
                    .filter_map(|&j| value(&self.runs[spec[j]], key))
                    .filter(|v| *v > 0.0)
                    .collect();
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let span = (hi / lo).log10();
                (span.is_finite() && span < decades - 1e-9)
                    .then(|| (self.runs[spec[g[0]]].id.clone(), span))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn half_decade_steps_on_the_ladder() {
        assert_eq!(half_decade(1e-3, true), 3e-3);
        assert_eq!(half_decade(3e-3, true), 1e-2);
        assert_eq!(half_decade(0.3, true), 1.0);
        assert_eq!(half_decade(1e-4, false), 3e-5);
        assert_eq!(half_decade(3e-3, false), 1e-3);
        assert_eq!(half_decade(0.1, false), 0.03);
        // Off the ladder: a factor sqrt(10).
        let x = half_decade(2e-3, true);
        assert!((x / 2e-3 - 10f64.sqrt()).abs() < 1e-12, "{x}");
    }

    const SPEC: &str = r#"
name = "t"
select_best = "lr"
extend_edges = 2
seeds = 3
[fixed]
dataset = "mnist"
epochs = 2
[axes]
width = [10, 20]
[[variants]]
optimizer = "sgd"
lr = [0.01, 0.03, 0.1]
"#;

    fn sweep(spec: &str) -> Sweep {
        Sweep::parse(Path::new("t.toml"), spec, &Settings::default()).unwrap()
    }

    /// Validation accuracy as a function of the learning rate, peaking
    /// at `best` (a run at `diverge` or above diverges).
    fn outcome(best: f64, diverge: f64) -> impl Fn(&SweepRun) -> Option<Finished> {
        move |r| {
            let lr = r.cfg.optimizer.lr();
            if lr >= diverge {
                return Some(Finished::Excluded);
            }
            // The seeds score the same: only the grid decides.
            Some(Finished::Scored(1.0 - (lr.log10() - best.log10()).abs()))
        }
    }

    fn ids(s: &Sweep, o: Origin) -> Vec<String> {
        s.runs
            .iter()
            .filter(|r| r.origin == o)
            .map(|r| r.id.clone())
            .collect()
    }

    #[test]
    fn an_inner_pick_gets_its_seeds_and_no_extension() {
        let s = sweep(SPEC).resolve(outcome(0.03, 10.0)).unwrap();
        assert!(ids(&s, Origin::Extension).is_empty());
        assert_eq!(
            ids(&s, Origin::Seed),
            [
                "width-10_optimizer-sgd_lr-0.03_seed-1",
                "width-10_optimizer-sgd_lr-0.03_seed-2",
                "width-20_optimizer-sgd_lr-0.03_seed-1",
                "width-20_optimizer-sgd_lr-0.03_seed-2"
            ]
        );
        let seed2 = s.runs.iter().find(|r| r.id.ends_with("seed-2")).unwrap();
        assert_eq!(seed2.cfg.seed, 2);
        assert_eq!(seed2.cfg.optimizer.lr(), 0.03);
    }

    #[test]
    fn an_edge_pick_extends_up_to_the_limit_then_seeds() {
        // The best value lies far above the grid: two steps, then stop.
        let s = sweep(SPEC).resolve(outcome(10.0, 100.0)).unwrap();
        let ext = ids(&s, Origin::Extension);
        assert_eq!(ext.len(), 4, "{ext:?}");
        assert!(ext.contains(&"width-10_optimizer-sgd_lr-0.3".to_string()));
        assert!(ext.contains(&"width-10_optimizer-sgd_lr-1".to_string()));
        // Settled at the last extension (still an edge: the report says so).
        assert!(ids(&s, Origin::Seed).contains(&"width-10_optimizer-sgd_lr-1_seed-1".to_string()));
        // Below the grid: extends downwards.
        let s = sweep(SPEC).resolve(outcome(1e-3, 100.0)).unwrap();
        assert!(ids(&s, Origin::Extension).contains(&"width-20_optimizer-sgd_lr-0.003".to_string()));
    }

    #[test]
    fn a_diverged_value_is_the_edge() {
        // 0.3 diverges: the pick 0.1 is below a tried value, so it settles.
        let s = sweep(SPEC).resolve(outcome(10.0, 0.2)).unwrap();
        let ext = ids(&s, Origin::Extension);
        assert_eq!(ext.len(), 2, "{ext:?}");
        assert!(ids(&s, Origin::Seed).contains(&"width-10_optimizer-sgd_lr-0.1_seed-1".to_string()));
    }

    #[test]
    fn nothing_is_added_while_a_group_is_unfinished() {
        let s = sweep(SPEC)
            .resolve(|r| (r.cfg.shape.width == 10).then_some(Finished::Scored(0.5)))
            .unwrap();
        // Width 10 ties everywhere: the first listed (0.01) is an edge.
        assert_eq!(
            ids(&s, Origin::Extension),
            ["width-10_optimizer-sgd_lr-0.003"]
        );
        // Then it settles at 0.01 (the first listed of equals): 2 seeds.
        assert_eq!(s.runs.len(), 9);
    }

    #[test]
    fn narrow_grids_are_found() {
        assert_eq!(sweep(SPEC).narrow_grids(2.0).len(), 2);
        assert!(sweep(SPEC).narrow_grids(1.0).is_empty());
    }
}
