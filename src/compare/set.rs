//! One set (validation or evaluation) compared across runs: the samples
//! they share, each run's final above-fence and top-k sets on them, the
//! pairwise Jaccard indices with their chance levels, Spearman's rank
//! correlation, and per sample the number of runs it is an outlier in.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::input::SetFinal;
use super::stats::{above, jaccard, poisson_binomial, top_k, Chance};
use crate::analysis::upper_fence;
use crate::error::{Error, Result};
use crate::stats::{average_ranks, pearson};

/// How many top-loss samples each run's top-k set holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TopK {
    /// Exactly this many (at most all shared samples).
    Count(usize),
    /// This fraction of the shared samples, rounded, at least one.
    Fraction(f64),
}

impl Default for TopK {
    /// 1% of the shared samples.
    fn default() -> Self {
        TopK::Fraction(0.01)
    }
}

impl TopK {
    /// `50` or `1%` (as `--top-k` takes it).
    pub fn parse(s: &str) -> Result<TopK> {
        let bad = || {
            Error::usage(format!(
                "--top-k {s}: give a count (e.g. 50) or a percentage of the shared samples (e.g. 1%)"
            ))
        };
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(bad());
            }
            return Ok(TopK::Fraction(p / 100.0));
        }
        match s.trim().parse::<usize>() {
            Ok(k) if k > 0 => Ok(TopK::Count(k)),
            _ => Err(bad()),
        }
    }

    /// `k` for `n` shared samples.
    pub fn of(&self, n: usize) -> usize {
        match *self {
            TopK::Count(k) => k.min(n),
            TopK::Fraction(f) => ((f * n as f64).round() as usize).clamp(1, n.max(1)).min(n),
        }
    }

    /// How it was chosen, in words.
    pub(crate) fn describe(&self) -> String {
        match *self {
            TopK::Count(k) => format!("{k} samples (--top-k)"),
            TopK::Fraction(f) => format!("{}% of the shared samples, rounded", 100.0 * f),
        }
    }
}

/// A square matrix over runs (`run x run_b`), row-major.
#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    /// Runs.
    pub n: usize,
    /// Values, `v[a * n + b]`.
    pub v: Vec<f64>,
}

impl Matrix {
    fn new(n: usize) -> Matrix {
        Matrix {
            n,
            v: vec![f64::NAN; n * n],
        }
    }
    /// The value of runs `a` and `b`.
    pub fn get(&self, a: usize, b: usize) -> f64 {
        self.v[a * self.n + b]
    }
    fn set(&mut self, a: usize, b: usize, x: f64) {
        self.v[a * self.n + b] = x;
        self.v[b * self.n + a] = x;
    }
}

/// The pairwise matrices of one set.
#[derive(Clone, Debug, Serialize)]
pub struct Pairs {
    /// Jaccard index of the final above-fence sets.
    pub jaccard_outliers: Matrix,
    /// Its chance level (random sets of the same sizes).
    pub jaccard_outliers_chance: Matrix,
    /// Jaccard index of the top-k loss sets.
    pub jaccard_top_k: Matrix,
    /// Its chance level.
    pub jaccard_top_k_chance: Matrix,
    /// Spearman's rank correlation of the final losses.
    pub spearman: Matrix,
}

/// One set compared across runs (runs in comparison order).
#[derive(Clone, Debug)]
pub struct SetComparison {
    /// The dataset indices of the samples every run has, ascending.
    pub sample: Vec<u32>,
    /// Per run: how many samples its own set has.
    pub own_samples: Vec<usize>,
    /// Per run: the epoch (validation) or iteration (evaluation) used.
    pub at: Vec<i64>,
    /// Per run: its upper Tukey fence, over its own whole set.
    pub fence: Vec<f64>,
    /// Per run and shared sample: the final loss.
    pub loss: Vec<Vec<f32>>,
    /// Per run and shared sample: strictly above the run's fence.
    pub outlier: Vec<Vec<bool>>,
    /// Per run: outliers among the shared samples.
    pub n_outliers: Vec<usize>,
    /// Per run: outliers in its own whole set.
    pub n_outliers_own: Vec<usize>,
    /// Size of each top-k set.
    pub k: usize,
    /// The pairwise numbers.
    pub pairs: Pairs,
    /// Per shared sample: the runs it is an outlier in.
    pub outlier_runs: Vec<u32>,
    /// Shared samples that are outliers in exactly `k` runs, `k = 0..=N`.
    pub hist: Vec<u64>,
    /// The same if every run picked its outliers independently at its
    /// own rate (a Poisson-binomial distribution), in samples.
    pub hist_independent: Vec<f64>,
}

/// The samples every one of `sets` holds, ascending.
pub(crate) fn shared_samples(sets: &[&[u32]]) -> Vec<u32> {
    let Some(first) = sets.first() else {
        return vec![];
    };
    let mut shared = first.to_vec();
    shared.sort_unstable();
    shared.dedup();
    for s in &sets[1..] {
        let h: HashSet<u32> = s.iter().copied().collect();
        shared.retain(|x| h.contains(x));
    }
    shared
}

/// `values` at the positions of `shared` in `own`.
pub(super) fn gather<T: Copy>(own: &[u32], values: &[T], shared: &[u32]) -> Vec<T> {
    let at: HashMap<u32, usize> = own.iter().enumerate().map(|(i, &x)| (x, i)).collect();
    shared
        .iter()
        .filter_map(|x| at.get(x).map(|&i| values[i]))
        .collect()
}

/// Compares `runs` on the samples they share; `None` when they share
/// none.
pub(crate) fn compare_set(runs: &[&SetFinal], top: TopK) -> Option<SetComparison> {
    let sets: Vec<&[u32]> = runs.iter().map(|r| r.sample.as_slice()).collect();
    let sample = shared_samples(&sets);
    if sample.is_empty() {
        return None;
    }
    let mut scratch = vec![];
    let fence: Vec<f64> = runs
        .iter()
        .map(|r| upper_fence(&r.loss, &mut scratch).unwrap_or(f64::NAN))
        .collect();
    let loss: Vec<Vec<f32>> = runs
        .iter()
        .map(|r| gather(&r.sample, &r.loss, &sample))
        .collect();
    let outlier: Vec<Vec<bool>> = loss.iter().zip(&fence).map(|(l, &f)| above(l, f)).collect();
    let count = |o: &[bool]| o.iter().filter(|&&x| x).count();
    let n_outliers_own = runs
        .iter()
        .zip(&fence)
        .map(|(r, &f)| count(&above(&r.loss, f)))
        .collect();
    let k = top.of(sample.len());
    let pairs = pairs(&loss, &outlier, k);
    let outlier_runs: Vec<u32> = (0..sample.len())
        .map(|j| outlier.iter().filter(|o| o[j]).count() as u32)
        .collect();
    let mut hist = vec![0u64; runs.len() + 1];
    for &c in &outlier_runs {
        hist[c as usize] += 1;
    }
    let n = sample.len() as f64;
    let n_outliers: Vec<usize> = outlier.iter().map(|o| count(o)).collect();
    let rates: Vec<f64> = n_outliers.iter().map(|&a| a as f64 / n).collect();
    Some(SetComparison {
        own_samples: runs.iter().map(|r| r.sample.len()).collect(),
        at: runs.iter().map(|r| r.at).collect(),
        hist_independent: poisson_binomial(&rates).iter().map(|p| p * n).collect(),
        sample,
        fence,
        loss,
        outlier,
        n_outliers,
        n_outliers_own,
        k,
        pairs,
        outlier_runs,
        hist,
    })
}

/// Every pair's numbers (the matrices are symmetric; the diagonal
/// compares a run with itself).
fn pairs(loss: &[Vec<f32>], outlier: &[Vec<bool>], k: usize) -> Pairs {
    let n_runs = loss.len();
    let n = loss.first().map_or(0, Vec::len);
    let ranks: Vec<Vec<f64>> = loss.iter().map(|l| average_ranks(l)).collect();
    let tops: Vec<Vec<bool>> = loss.iter().map(|l| top_k(l, k)).collect();
    let sizes: Vec<usize> = outlier
        .iter()
        .map(|o| o.iter().filter(|&&x| x).count())
        .collect();
    let mut p = Pairs {
        jaccard_outliers: Matrix::new(n_runs),
        jaccard_outliers_chance: Matrix::new(n_runs),
        jaccard_top_k: Matrix::new(n_runs),
        jaccard_top_k_chance: Matrix::new(n_runs),
        spearman: Matrix::new(n_runs),
    };
    let chance = Chance::new(n);
    let top_chance = chance.expected_jaccard(k, k);
    for a in 0..n_runs {
        for b in a..n_runs {
            p.jaccard_outliers
                .set(a, b, jaccard(&outlier[a], &outlier[b]));
            p.jaccard_outliers_chance
                .set(a, b, chance.expected_jaccard(sizes[a], sizes[b]));
            p.jaccard_top_k.set(a, b, jaccard(&tops[a], &tops[b]));
            p.jaccard_top_k_chance.set(a, b, top_chance);
            p.spearman
                .set(a, b, pearson(&ranks[a], &ranks[b]).unwrap_or(f64::NAN));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sample: &[u32], loss: &[f32]) -> SetFinal {
        SetFinal {
            sample: sample.to_vec(),
            loss: loss.to_vec(),
            pred: None,
            at: 3,
        }
    }

    #[test]
    fn top_k_flag() {
        assert_eq!(TopK::parse("50").unwrap(), TopK::Count(50));
        assert_eq!(TopK::parse("2%").unwrap(), TopK::Fraction(0.02));
        for bad in ["0", "x", "0%", "101%", "-3"] {
            let e = TopK::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("--top-k"), "{e}");
        }
        assert_eq!(TopK::default().of(55_000), 550);
        assert_eq!(TopK::default().of(10), 1);
        assert_eq!(TopK::Count(50).of(20), 20);
    }

    #[test]
    fn shared_samples_and_alignment() {
        // Run a has samples 5, 1, 9, 7; run b has 7, 5, 2. Shared: 5, 7.
        // Losses: a: 5 -> 0.1, 7 -> 4.0; b: 5 -> 0.2, 7 -> 0.3.
        let a = run(&[5, 1, 9, 7], &[0.1, 0.2, 0.3, 4.0]);
        let b = run(&[7, 5, 2], &[0.3, 0.2, 9.0]);
        let c = compare_set(&[&a, &b], TopK::Count(1)).unwrap();
        assert_eq!(c.sample, vec![5, 7]);
        assert_eq!(c.loss, vec![vec![0.1, 4.0], vec![0.2, 0.3]]);
        assert_eq!(c.own_samples, vec![4, 3]);
        // a: Q1 0.175, Q3 1.225, fence 2.8 -> sample 7 (index 3) above.
        assert_eq!(c.outlier[0], vec![false, true]);
        assert_eq!(c.n_outliers_own, vec![1, 0]);
        assert_eq!(c.outlier_runs, vec![0, 1]);
        assert_eq!(c.hist, vec![1, 1, 0]);
        assert_eq!(c.pairs.jaccard_top_k.get(0, 1), 1.0);
        assert_eq!(c.pairs.jaccard_outliers.get(0, 1), 0.0);
        assert_eq!(c.pairs.jaccard_outliers.get(0, 0), 1.0);
        assert!(c.pairs.jaccard_outliers.get(1, 1).is_nan());
        assert_eq!(c.pairs.spearman.get(0, 1), 1.0);
        let d = run(&[100, 101], &[1.0, 2.0]);
        assert!(compare_set(&[&a, &d], TopK::default()).is_none());
    }
}
