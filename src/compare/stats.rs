//! The statistics of a comparison, on plain slices: Jaccard indices and
//! their chance level, above-fence and
//! top-k sets, and the distribution of "outlier in k of N runs" if runs
//! picked their outliers independently. (Ranks and Spearman's
//! correlation are [`crate::stats::rank`]'s.)

/// `|A ∩ B| / |A ∪ B|` of two sets given as membership flags over the
/// same samples; NaN when both are empty (undefined).
pub(crate) fn jaccard(a: &[bool], b: &[bool]) -> f64 {
    let (mut both, mut either) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        both += (x && y) as usize;
        either += (x || y) as usize;
    }
    if either == 0 {
        f64::NAN
    } else {
        both as f64 / either as f64
    }
}

/// `ln(k!)` for `k = 0..=n`.
fn log_factorials(n: usize) -> Vec<f64> {
    let mut lf = Vec::with_capacity(n + 1);
    let mut acc = 0.0f64;
    lf.push(0.0);
    for k in 1..=n {
        acc += (k as f64).ln();
        lf.push(acc);
    }
    lf
}

/// The expected Jaccard index of two sets of sizes `a` and `b` drawn
/// uniformly and independently from `n` samples. Their overlap `k` is
/// hypergeometric, `P(k) = C(a, k) C(n - a, b - k) / C(n, b)`, and
/// `E[J] = sum_k P(k) k / (a + b - k)`. NaN when `a = b = 0` (the
/// Jaccard index of two empty sets is undefined) or when `a` or `b`
/// exceeds `n`.
#[cfg(test)]
pub(crate) fn expected_jaccard(n: usize, a: usize, b: usize) -> f64 {
    Chance::new(n).expected_jaccard(a, b)
}

/// [`expected_jaccard`] for many pairs of sets drawn from the same `n`
/// samples (the log-factorials are computed once).
#[derive(Clone, Debug)]
pub(crate) struct Chance {
    lf: Vec<f64>,
}

impl Chance {
    /// For sets drawn from `n` samples.
    pub fn new(n: usize) -> Chance {
        Chance {
            lf: log_factorials(n),
        }
    }

    /// See [`expected_jaccard`].
    pub(crate) fn expected_jaccard(&self, a: usize, b: usize) -> f64 {
        let n = self.lf.len() - 1;
        if (a == 0 && b == 0) || a > n || b > n {
            return f64::NAN;
        }
        let lf = &self.lf;
        let ln_choose = |m: usize, k: usize| lf[m] - lf[k] - lf[m - k];
        let denom = ln_choose(n, b);
        let lo = (a + b).saturating_sub(n).max(1);
        (lo..=a.min(b))
            .map(|k| {
                let p = (ln_choose(a, k) + ln_choose(n - a, b - k) - denom).exp();
                p * k as f64 / (a + b - k) as f64
            })
            .fold(0.0, |acc, x| acc + x)
    }
}

/// Which of `loss` lie strictly above `fence`.
pub fn above(loss: &[f32], fence: f64) -> Vec<bool> {
    loss.iter().map(|&x| (x as f64) > fence).collect()
}

/// The `k` highest of `loss` as membership flags; among equal losses the
/// earlier position (the lower dataset index, as callers order samples)
/// comes first.
pub fn top_k(loss: &[f32], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..loss.len()).collect();
    order.sort_by(|&i, &j| loss[j].total_cmp(&loss[i]).then(i.cmp(&j)));
    let mut set = vec![false; loss.len()];
    for &i in order.iter().take(k) {
        set[i] = true;
    }
    set
}

/// The distribution of how many of the runs pick a sample when run `i`
/// picks each sample independently with probability `p[i]` (a
/// Poisson-binomial distribution): `P(k)` for `k = 0..=p.len()`.
pub(crate) fn poisson_binomial(p: &[f64]) -> Vec<f64> {
    let mut dist = vec![0.0; p.len() + 1];
    dist[0] = 1.0;
    for (i, &q) in p.iter().enumerate() {
        for k in (0..=i + 1).rev() {
            let stay = dist[k] * (1.0 - q);
            let come = if k > 0 { dist[k - 1] * q } else { 0.0 };
            dist[k] = stay + come;
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * (1.0 + b.abs())
    }

    #[test]
    fn jaccard_by_hand() {
        let a = [true, true, false, false, true];
        let b = [true, false, true, false, true];
        // Both: 0 and 4; either: 0, 1, 2, 4.
        assert_eq!(jaccard(&a, &b), 0.5);
        assert_eq!(jaccard(&a, &a), 1.0);
        let none = [false; 5];
        assert_eq!(jaccard(&a, &none), 0.0);
        assert!(jaccard(&none, &none).is_nan());
    }

    /// Every subset of `0..n` with `size` members, as flags.
    fn subsets(n: usize, size: usize) -> Vec<Vec<bool>> {
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == size)
            .map(|m| (0..n).map(|i| m >> i & 1 == 1).collect())
            .collect()
    }

    #[test]
    fn chance_jaccard_equals_brute_force_enumeration() {
        for n in 1..=7 {
            for a in 0..=n {
                for b in 0..=n {
                    let (sa, sb) = (subsets(n, a), subsets(n, b));
                    let mut sum = 0.0;
                    for x in &sa {
                        for y in &sb {
                            sum += jaccard(x, y);
                        }
                    }
                    let brute = sum / (sa.len() * sb.len()) as f64;
                    let exact = expected_jaccard(n, a, b);
                    if a == 0 && b == 0 {
                        assert!(exact.is_nan() && brute.is_nan());
                    } else {
                        assert!(close(exact, brute), "n {n} a {a} b {b}: {exact} vs {brute}");
                    }
                }
            }
        }
        // By hand: n 4, a = b = 2. Overlap 0 (1/6): J 0; 1 (4/6): 1/3;
        // 2 (1/6): 1 -> E[J] = 4/18 + 1/6 = 7/18.
        assert!(close(expected_jaccard(4, 2, 2), 7.0 / 18.0));
        // Sets that must overlap completely.
        assert_eq!(expected_jaccard(5, 5, 5), 1.0);
        assert!(expected_jaccard(3, 4, 1).is_nan());
    }

    #[test]
    fn chance_jaccard_is_stable_for_large_sets() {
        // Large n: close to the mean-field value ab / (n(a+b) - ab).
        let (n, a, b) = (55_000usize, 2_000usize, 3_000usize);
        let e = expected_jaccard(n, a, b);
        let mf = (a * b) as f64 / (n as f64 * (a + b) as f64 - (a * b) as f64);
        assert!((e - mf).abs() < 1e-3, "{e} vs {mf}");
        assert!(e > 0.0 && e < 1.0);
    }

    #[test]
    fn above_and_top_k() {
        let l = [0.5, 3.0, 1.0, 3.0, 0.1];
        assert_eq!(above(&l, 1.0), vec![false, true, false, true, false]);
        // Ties at 3.0: both; then 1.0.
        assert_eq!(top_k(&l, 3), vec![false, true, true, true, false]);
        // A tie at the cut: the earlier position wins.
        assert_eq!(top_k(&l, 1), vec![false, true, false, false, false]);
        assert_eq!(top_k(&l, 0), vec![false; 5]);
        assert_eq!(top_k(&l, 9), vec![true; 5]);
    }

    #[test]
    fn poisson_binomial_by_hand() {
        let d = poisson_binomial(&[0.5, 0.5]);
        assert_eq!(d, vec![0.25, 0.5, 0.25]);
        let d = poisson_binomial(&[0.1, 0.2, 0.3]);
        assert!(close(d[0], 0.9 * 0.8 * 0.7));
        assert!(close(d[3], 0.1 * 0.2 * 0.3));
        assert!(close(d.iter().sum::<f64>(), 1.0));
        assert_eq!(poisson_binomial(&[]), vec![1.0]);
    }
}
