//! Robust statistics of a set's per-sample losses at one epoch, by
//! selection (`select_nth_unstable`, O(n)) instead of a full sort: the
//! quartiles (linear interpolation between order statistics, numpy's
//! default, see [`super::quantile`]; an exact order statistic is taken
//! as is even next to an infinite loss, where numpy gives NaN, as run
//! files have always recorded it), the upper Tukey fence, the fraction of samples strictly
//! above it and the share of the summed loss they carry, and a trimmed
//! mean. Every run records them at every epoch (`/curves`), whatever it
//! records per sample.

use super::quantile::position;

/// Fraction cut from each end for the trimmed mean (as
/// `scipy.stats.trim_mean(x, 0.1)`).
pub(crate) const TRIM: f64 = 0.1;

/// The robust statistics of one epoch's losses.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossStats {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Upper Tukey fence `Q3 + 1.5 (Q3 - Q1)`.
    pub fence: f64,
    /// Fraction of samples whose loss is strictly above the fence.
    pub frac_above: f64,
    /// Their share of the summed loss.
    pub share_above: f64,
    /// Mean of the sorted losses `[k, n - k)`, `k = floor(TRIM n)`.
    pub trimmed_mean: f64,
}

impl LossStats {
    /// NaN everywhere (no samples).
    pub const NAN: LossStats = LossStats {
        q1: f64::NAN,
        median: f64::NAN,
        q3: f64::NAN,
        fence: f64::NAN,
        frac_above: f64::NAN,
        share_above: f64::NAN,
        trimmed_mean: f64::NAN,
    };
}

/// The robust statistics of every epoch, one series per field of
/// [`LossStats`] (the run file's `/curves/val_loss_*`, in the order of
/// [`crate::record::schema::CURVE_ROBUST`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RobustCurves {
    /// First quartile.
    pub q1: Vec<f64>,
    /// Median.
    pub median: Vec<f64>,
    /// Third quartile.
    pub q3: Vec<f64>,
    /// Upper Tukey fence.
    pub fence: Vec<f64>,
    /// Fraction of samples strictly above the fence.
    pub frac_above: Vec<f64>,
    /// Their share of the summed loss.
    pub share_above: Vec<f64>,
    /// Trimmed mean ([`TRIM`] cut from each end).
    pub trimmed_mean: Vec<f64>,
}

impl RobustCurves {
    /// From the seven series in [`LossStats`]'s field order.
    pub(crate) fn from_series(s: [Vec<f64>; 7]) -> RobustCurves {
        let [q1, median, q3, fence, frac_above, share_above, trimmed_mean] = s;
        RobustCurves {
            q1,
            median,
            q3,
            fence,
            frac_above,
            share_above,
            trimmed_mean,
        }
    }

    /// Appends one epoch's statistics.
    pub fn push(&mut self, s: &LossStats) {
        self.q1.push(s.q1);
        self.median.push(s.median);
        self.q3.push(s.q3);
        self.fence.push(s.fence);
        self.frac_above.push(s.frac_above);
        self.share_above.push(s.share_above);
        self.trimmed_mean.push(s.trimmed_mean);
    }
}

/// The values of `x` at the given sorted `ranks`, selected in
/// increasing rank order, each selection working right of the previous
/// one (a few linear passes in all). Afterwards every selected rank's
/// value sits at its sorted position, with smaller values left of it and
/// larger ones right of it.
fn select_ranks(x: &mut [f32], ranks: &[usize], values: &mut [f64]) {
    let mut order: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
    let order = &mut order[..ranks.len()];
    order.sort_by_key(|&i| ranks[i]);
    let mut from = 0;
    let mut last: Option<(usize, f64)> = None;
    for &i in order.iter() {
        let r = ranks[i];
        values[i] = match last {
            Some((lr, v)) if lr == r => v,
            _ => {
                let (_, v, _) = x[from..].select_nth_unstable_by(r - from, f32::total_cmp);
                let v = *v as f64;
                from = r + 1;
                last = Some((r, v));
                v
            }
        };
    }
}

/// The statistics of `losses`, using `scratch` (resized once to
/// `losses.len()`, so no allocation after the first call for a set).
pub fn loss_stats(losses: &[f32], scratch: &mut Vec<f32>) -> LossStats {
    let n = losses.len();
    if n == 0 {
        return LossStats::NAN;
    }
    scratch.clear();
    scratch.extend_from_slice(losses);
    let k = (TRIM * n as f64).floor() as usize;
    let (q1lo, q1f) = position(n, 0.25);
    let (mlo, mf) = position(n, 0.5);
    let (q3lo, q3f) = position(n, 0.75);
    let next = |r: usize| (r + 1).min(n - 1);
    let ranks = [
        k,
        q1lo,
        next(q1lo),
        mlo,
        next(mlo),
        q3lo,
        next(q3lo),
        n - k - 1,
    ];
    let mut v = [0.0f64; 8];
    select_ranks(scratch, &ranks, &mut v);
    let interp = |a: f64, b: f64, f: f64| if f == 0.0 { a } else { a + f * (b - a) };
    let (q1, median, q3) = (
        interp(v[1], v[2], q1f),
        interp(v[3], v[4], mf),
        interp(v[5], v[6], q3f),
    );
    // Ranks k and n - k - 1 are in place, so positions k..n-k hold the
    // sorted values k..n-k (in some order).
    let trimmed: f64 = scratch[k..n - k].iter().map(|&v| v as f64).sum();
    let fence = q3 + 1.5 * (q3 - q1);
    let (mut above, mut above_sum, mut total) = (0usize, 0.0f64, 0.0f64);
    for &l in losses {
        let l = l as f64;
        total += l;
        if l > fence {
            above += 1;
            above_sum += l;
        }
    }
    LossStats {
        q1,
        median,
        q3,
        fence,
        frac_above: above as f64 / n as f64,
        share_above: if total > 0.0 { above_sum / total } else { 0.0 },
        trimmed_mean: trimmed / (n - 2 * k) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::super::quantile::quantile_sorted as quantile;
    use super::*;

    /// The same statistics by a full sort.
    fn by_sort(losses: &[f32]) -> LossStats {
        let mut x: Vec<f64> = losses.iter().map(|&v| v as f64).collect();
        x.sort_by(f64::total_cmp);
        let n = x.len();
        let (q1, median, q3) = (quantile(&x, 0.25), quantile(&x, 0.5), quantile(&x, 0.75));
        let fence = q3 + 1.5 * (q3 - q1);
        let k = (TRIM * n as f64).floor() as usize;
        let above: Vec<f64> = x.iter().copied().filter(|&l| l > fence).collect();
        let total: f64 = x.iter().sum();
        LossStats {
            q1,
            median,
            q3,
            fence,
            frac_above: above.len() as f64 / n as f64,
            share_above: if total > 0.0 {
                above.iter().sum::<f64>() / total
            } else {
                0.0
            },
            trimmed_mean: x[k..n - k].iter().sum::<f64>() / (n - 2 * k) as f64,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    #[test]
    fn selection_equals_a_full_sort() {
        let mut scratch = vec![];
        let mut state = 12345u64;
        for n in [1usize, 2, 3, 4, 5, 7, 10, 11, 100, 1001, 5000] {
            for ties in [false, true] {
                let losses: Vec<f32> = (0..n)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let u = (state >> 40) as f32 / (1u64 << 24) as f32;
                        if ties {
                            (u * 5.0).floor()
                        } else {
                            (-20.0 * u).exp() * 30.0
                        }
                    })
                    .collect();
                let (a, b) = (loss_stats(&losses, &mut scratch), by_sort(&losses));
                for (x, y, what) in [
                    (a.q1, b.q1, "q1"),
                    (a.median, b.median, "median"),
                    (a.q3, b.q3, "q3"),
                    (a.fence, b.fence, "fence"),
                    (a.frac_above, b.frac_above, "frac"),
                    (a.share_above, b.share_above, "share"),
                    (a.trimmed_mean, b.trimmed_mean, "trimmed"),
                ] {
                    assert!(close(x, y), "n {n} ties {ties} {what}: {x} vs {y}");
                }
            }
        }
        assert!(loss_stats(&[], &mut scratch).median.is_nan());
    }

    #[test]
    fn robust_curves_name_the_fields_in_order() {
        let s = loss_stats(&[1.0, 2.0, 3.0, 4.0, 100.0], &mut vec![]);
        let mut pushed = RobustCurves::default();
        pushed.push(&s);
        let f = |v: f64| vec![v];
        let built = RobustCurves::from_series([
            f(s.q1),
            f(s.median),
            f(s.q3),
            f(s.fence),
            f(s.frac_above),
            f(s.share_above),
            f(s.trimmed_mean),
        ]);
        assert_eq!(pushed, built);
        assert_eq!((built.q1[0], built.median[0], built.q3[0]), (2.0, 3.0, 4.0));
        assert_eq!(built.fence[0], 7.0);
        assert_eq!(built.frac_above[0], 0.2);
    }

    #[test]
    fn a_minority_above_the_fence_carries_the_loss() {
        let mut losses = vec![1e-6f32; 95];
        losses.extend([5.0f32; 5]);
        let s = loss_stats(&losses, &mut vec![]);
        assert_eq!(s.median, 1e-6f32 as f64);
        assert_eq!(s.frac_above, 0.05);
        assert!(s.share_above > 0.9999);
        // The 10% trimmed mean drops the five large losses.
        assert!(s.trimmed_mean < 1e-5);
    }
}
