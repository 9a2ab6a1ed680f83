//! The paper's claims, each judged by a criterion fixed here, before
//! any data is seen: pure functions from measured evidence to a
//! [`Judged`] claim (verdict, the numbers behind it, the criterion in
//! words). `evidence` reads the numbers from the run files.

use serde::Serialize;

use crate::analysis::groups::groups_differing_only_in;
use crate::stats;

/// How a claim came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The criterion is met.
    Holds,
    /// Part of it is met.
    Partly,
    /// It is not met.
    DoesNotHold,
    /// The runs it needs are missing or did not record what it needs.
    NoEvidence,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Partly => "partly",
            Verdict::DoesNotHold => "does not hold",
            Verdict::NoEvidence => "no evidence",
        })
    }
}

/// One claim, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    /// 1..=10, as numbered in the report.
    pub number: u8,
    /// What the paper says.
    pub claim: &'static str,
    /// The criterion, fixed in code.
    pub criterion: &'static str,
    /// The measured numbers.
    pub evidence: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// Widths up to this are "narrow" in fig2 (claims 1 and 2).
pub(crate) const NARROW_MAX_WIDTH: usize = 20;
/// A share of runs at or above this is "most" runs.
pub(crate) const MOST: f64 = 0.75;
/// A share at or above this is "half".
pub(crate) const HALF: f64 = 0.5;
/// A share at or above this (and below the "holds" bar) is "partly".
pub(crate) const SOME: f64 = 0.25;
/// Rank correlation for claim 3: at least this holds, at least
/// [`WEAK_RHO`] partly.
pub(crate) const STRONG_RHO: f64 = 0.5;
/// See [`STRONG_RHO`].
pub(crate) const WEAK_RHO: f64 = 0.2;
/// The "top few percent" of claims 6 and 9: the 99th percentile.
pub(crate) const TOP_QUANTILE: f64 = 0.99;
/// The "low quantile" of claim 6: the 10th percentile.
pub(crate) const LOW_QUANTILE: f64 = 0.10;
/// Claim 7: the training set's 99th-percentile loss may grow by at most
/// this factor after the minimum validation loss ("only a little").
pub(crate) const TRAIN_RISE_MAX: f64 = 2.0;
/// Claim 10: "early" is within this fraction of the training epochs.
pub(crate) const EARLY: f64 = 0.25;
/// Claim 10: accuracy "stable" means it fell by less than this many
/// percentage points after the minimum.
pub(crate) const STABLE_ACC_POINTS: f64 = 0.25;

/// One run of a sweep as the claims see it: its setting values (other
/// than the learning rate) and its curve summary.
#[derive(Clone, Debug)]
pub(crate) struct SweepPoint {
    /// `(key, value)` as in the spec, without `lr`.
    pub settings: Vec<(String, String)>,
    /// Hidden-layer width.
    pub width: usize,
    /// Minimum validation loss.
    pub min_val_loss: f64,
    /// Validation loss at the final epoch minus at the minimum.
    pub loss_change: f64,
    /// Validation accuracy at the final epoch minus at the minimum (a
    /// fraction).
    pub acc_change: f64,
    /// Both rose.
    pub triangle: bool,
}

impl SweepPoint {
    fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What claims 6-9 need from one case's run file.
#[derive(Clone, Debug, Default)]
pub(crate) struct CaseEvidence {
    /// `a`..`d`.
    pub letter: char,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch of the minimum validation loss.
    pub min_epoch: usize,
    /// Validation loss at the last epoch minus at the minimum.
    pub loss_change: f64,
    /// Validation accuracy at the last epoch minus at the minimum.
    pub acc_change: f64,
    /// Every validation sample's loss at the minimum epoch.
    pub val_at_min: Vec<f32>,
    /// ... and at the last epoch.
    pub val_last: Vec<f32>,
    /// The training set's 99th-percentile loss at every epoch (empty
    /// when not recorded).
    pub train_top: Vec<f64>,
    /// Per layer: weight L2 norm at the first and last checkpoint.
    pub weight_norms: Vec<(f64, f64)>,
    /// Per layer: standard deviation of the weight values at the first
    /// and last checkpoint (from the histograms).
    pub weight_spread: Vec<(f64, f64)>,
    /// Per validation sample: epochs above the upper Tukey fence.
    pub epochs_above: Vec<u32>,
    /// Per validation sample: final loss.
    pub final_loss: Vec<f32>,
    /// Fraction of validation samples never above the fence.
    pub frac_never: f64,
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// Holds at `hold`, partly at `some`, else does not hold.
fn by_share(x: f64, hold: f64, some: f64) -> Verdict {
    if x >= hold {
        Verdict::Holds
    } else if x >= some {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    }
}

/// Claim 1, fig2's narrow models.
pub(crate) fn narrow_models(fig2: &[SweepPoint]) -> Judged {
    let narrow: Vec<_> = fig2
        .iter()
        .filter(|p| p.width <= NARROW_MAX_WIDTH)
        .collect();
    let both = narrow
        .iter()
        .filter(|p| p.loss_change > 0.0 && p.acc_change < 0.0)
        .count();
    let rises = narrow.iter().filter(|p| p.loss_change > 0.0).count();
    let acc: Vec<f64> = narrow.iter().map(|p| 100.0 * p.acc_change).collect();
    let (lo, hi) = min_max(&acc);
    let f = share(both, narrow.len());
    let verdict = if narrow.is_empty() {
        Verdict::NoEvidence
    } else if f >= MOST {
        Verdict::Holds
    } else if f >= SOME || share(rises, narrow.len()) >= MOST {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    Judged {
        number: 1,
        claim: "Narrow models: validation loss rises and validation accuracy falls after the minimum.",
        criterion: "fig2 runs of width <= 20, from the minimum-validation-loss epoch to the final (interpolation) epoch: holds if loss rose and accuracy fell in >= 75% of them; partly if in >= 25%, or if loss rose in >= 75%",
        evidence: format!(
            "{both} of {} narrow runs ({}); loss rose in {rises}; accuracy change {lo:+.2} to {hi:+.2} points",
            narrow.len(),
            pct(f)
        ),
        verdict,
    }
}

fn min_max(x: &[f64]) -> (f64, f64) {
    x.iter()
        .fold((f64::NAN, f64::NAN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Claim 2, fig2's wider models.
pub(crate) fn wider_models(fig2: &[SweepPoint]) -> Judged {
    let wide: Vec<_> = fig2.iter().filter(|p| p.width > NARROW_MAX_WIDTH).collect();
    let tri = wide.iter().filter(|p| p.triangle).count();
    let f = share(tri, wide.len());
    Judged {
        number: 2,
        claim: "Wider models: validation loss and accuracy both rise, even before interpolation.",
        criterion: "fig2 runs of width > 20 whose validation loss and accuracy both rose from the minimum to the interpolation epoch (triangles): holds if >= 50%, partly if >= 25%",
        evidence: format!(
            "{tri} of {} wider runs are triangles ({}); {} of all {} fig2 runs",
            wide.len(),
            pct(f),
            fig2.iter().filter(|p| p.triangle).count(),
            fig2.len()
        ),
        verdict: if wide.is_empty() {
            Verdict::NoEvidence
        } else {
            by_share(f, HALF, SOME)
        },
    }
}

/// Spearman's rank correlation ([`stats::spearman`]: average ranks for
/// ties); `None` for fewer than 3 pairs (claim 3 asks for more than a
/// line through two points) or a constant variable.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    stats::spearman(x, y)
}

/// Claim 3, over all fig2 runs.
pub(crate) fn higher_minimum_larger_rise(fig2: &[SweepPoint]) -> Judged {
    let x: Vec<f64> = fig2.iter().map(|p| p.min_val_loss).collect();
    let y: Vec<f64> = fig2.iter().map(|p| p.loss_change).collect();
    let rho = spearman(&x, &y);
    Judged {
        number: 3,
        claim: "A higher minimum validation loss goes with a larger later increase.",
        criterion: "Spearman rank correlation over the fig2 runs between the minimum validation loss and its increase to the final epoch: holds if >= 0.5, partly if >= 0.2",
        evidence: match rho {
            Some(r) => format!("Spearman {r:.2} over {} runs", fig2.len()),
            None => format!("not computable from {} runs", fig2.len()),
        },
        verdict: match rho {
            Some(r) if r >= STRONG_RHO => Verdict::Holds,
            Some(r) if r >= WEAK_RHO => Verdict::Partly,
            Some(_) => Verdict::DoesNotHold,
            None => Verdict::NoEvidence,
        },
    }
}

/// Claim 4, over fig3's selected runs.
pub(crate) fn wide_variety(fig3: &[SweepPoint]) -> Judged {
    let tri = fig3.iter().filter(|p| p.triangle).count();
    let rose = fig3.iter().filter(|p| p.loss_change > 0.0).count();
    let f = share(tri, fig3.len());
    let mut by = vec![];
    for key in ["dataset", "optimizer"] {
        let mut levels: Vec<&str> = fig3.iter().filter_map(|p| p.setting(key)).collect();
        levels.sort_unstable();
        levels.dedup();
        for l in levels {
            let of: Vec<_> = fig3.iter().filter(|p| p.setting(key) == Some(l)).collect();
            let t = of.iter().filter(|p| p.triangle).count();
            by.push(format!("{l} {t}/{}", of.len()));
        }
    }
    Judged {
        number: 4,
        claim: "The behaviour holds over a wide variety of hyperparameters (fig3).",
        criterion: "fig3 runs chosen by the learning-rate grid search whose validation loss and accuracy both rose after the minimum (triangles): holds if >= 50%, partly if >= 25%",
        evidence: format!(
            "{tri} of {} configurations are triangles ({}); validation loss rose after its minimum in {rose}; by level: {}",
            fig3.len(),
            pct(f),
            by.join(", ")
        ),
        verdict: if fig3.is_empty() {
            Verdict::NoEvidence
        } else {
            by_share(f, HALF, SOME)
        },
    }
}

/// Which level of a factor the paper expects to show more of the
/// behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The larger value (width).
    Larger,
    /// The smaller value (training-set size).
    Smaller,
    /// Fashion-MNIST rather than MNIST (any dataset whose name has
    /// `fashion` against one whose name has not).
    Harder,
}

impl Expect {
    /// Whether level `a` is the one expected to show more than `b`
    /// (`None` when they are not comparable).
    pub fn more(self, a: &str, b: &str) -> Option<bool> {
        match self {
            Expect::Larger | Expect::Smaller => {
                let (x, y) = (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?);
                (x != y).then_some((x > y) == (self == Expect::Larger))
            }
            Expect::Harder => {
                let (x, y) = (a.contains("fashion"), b.contains("fashion"));
                (x != y).then_some(x)
            }
        }
    }
}

/// Claim 5's factors: the setting, the level expected to show more,
/// and its name in the report.
pub(crate) const FACTORS: [(&str, Expect, &str); 3] = [
    ("width", Expect::Larger, "larger models (width)"),
    ("train_size", Expect::Smaller, "smaller training sets"),
    (
        "dataset",
        Expect::Harder,
        "the harder dataset (Fashion-MNIST)",
    ),
];

/// A factor's comparison over matched pairs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FactorEffect {
    /// Pairs of configurations equal in everything but this factor.
    pub pairs: usize,
    /// Triangles at the expected level and at the other.
    pub triangles: (usize, usize),
    /// Median validation-loss increase at each level.
    pub median_rise: (f64, f64),
}

impl FactorEffect {
    /// The expected level shows more of the behaviour: more triangles,
    /// or as many and a larger median increase.
    pub(crate) fn supports(&self) -> bool {
        self.pairs > 0
            && (self.triangles.0 > self.triangles.1
                || (self.triangles.0 == self.triangles.1
                    && self.median_rise.0 > self.median_rise.1))
    }
}

/// The median of `x`, NaN sorted last and kept (NaN when empty).
fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    stats::quantile_sorted(&x, 0.5)
}

/// Pairs of runs equal in every setting but `key`, the first at the
/// level `expect` names.
pub(crate) fn factor_effect(fig3: &[SweepPoint], key: &str, expect: Expect) -> FactorEffect {
    let settings = fig3.iter().map(|p| p.settings.as_slice());
    let (mut t, mut rise) = ((0, 0), (vec![], vec![]));
    let mut pairs = 0;
    for g in groups_differing_only_in(settings, key) {
        // The group's runs that have the setting, with its level.
        let levels: Vec<(&SweepPoint, &str)> = g
            .iter()
            .filter_map(|&i| Some((&fig3[i], fig3[i].setting(key)?)))
            .collect();
        for &(a, la) in &levels {
            for &(b, lb) in &levels {
                if expect.more(la, lb) != Some(true) {
                    continue;
                }
                pairs += 1;
                t.0 += a.triangle as usize;
                t.1 += b.triangle as usize;
                rise.0.push(a.loss_change);
                rise.1.push(b.loss_change);
            }
        }
    }
    FactorEffect {
        pairs,
        triangles: t,
        median_rise: (median(rise.0), median(rise.1)),
    }
}

/// Claim 5, over fig3's selected runs.
pub(crate) fn larger_smaller_harder(fig3: &[SweepPoint], quick: bool) -> Judged {
    let mut parts = vec![];
    let (mut support, mut measured) = (0, 0);
    for (key, expect, name) in FACTORS {
        let e = factor_effect(fig3, key, expect);
        if e.pairs == 0 {
            parts.push(format!("{name}: no matched pairs"));
            continue;
        }
        measured += 1;
        support += e.supports() as usize;
        parts.push(format!(
            "{name}: {} matched pairs, triangles {} vs {}, median loss increase {:.3} vs {:.3}{}",
            e.pairs,
            e.triangles.0,
            e.triangles.1,
            e.median_rise.0,
            e.median_rise.1,
            if e.supports() { "" } else { " (not more)" }
        ));
    }
    let caveat = if quick {
        "; fig3-quick: width is compared at depth 1 with 5,000 samples, training-set size at width 100 (see the spec)"
    } else {
        ""
    };
    Judged {
        number: 5,
        claim: "It occurs more for larger models, smaller training sets and harder datasets.",
        criterion: "for each factor, fig3 configurations equal in everything else are paired; the factor supports the claim if the expected level has more triangles, or as many and a larger median validation-loss increase; holds if all three factors support it, partly if one or two",
        evidence: format!("{}{caveat}", parts.join("; ")),
        verdict: if measured == 0 {
            Verdict::NoEvidence
        } else if support == FACTORS.len() {
            Verdict::Holds
        } else if support > 0 {
            Verdict::Partly
        } else {
            Verdict::DoesNotHold
        },
    }
}

/// The `p`-quantile of the losses that are not NaN.
fn quantile(x: &[f32], p: f64) -> f64 {
    stats::nan_quantile(x.iter().map(|&v| v as f64), p)
}

/// Claim 6's numbers for one case: the share of samples whose loss fell
/// from the minimum epoch to the last, and the low, median and top
/// quantiles at both.
#[derive(Clone, Debug)]
pub(crate) struct Divergence {
    /// Share of validation samples whose loss fell.
    pub fell: f64,
    /// (at the minimum, at the end) of the 10th percentile.
    pub low: (f64, f64),
    /// ... of the median.
    pub median: (f64, f64),
    /// ... of the 99th percentile.
    pub top: (f64, f64),
}

impl Divergence {
    /// From a case's per-sample losses.
    pub fn of(c: &CaseEvidence) -> Option<Divergence> {
        if c.val_at_min.is_empty() || c.val_at_min.len() != c.val_last.len() {
            return None;
        }
        let fell = c
            .val_at_min
            .iter()
            .zip(&c.val_last)
            .filter(|(a, b)| b < a)
            .count();
        let q = |p| (quantile(&c.val_at_min, p), quantile(&c.val_last, p));
        Some(Divergence {
            fell: share(fell, c.val_at_min.len()),
            low: q(LOW_QUANTILE),
            median: q(0.5),
            top: q(TOP_QUANTILE),
        })
    }

    fn verdict(&self) -> Verdict {
        let falls = self.median.1 < self.median.0 && self.low.1 < self.low.0;
        let top_rises = self.top.1 > self.top.0;
        if falls && top_rises && self.fell >= MOST {
            Verdict::Holds
        } else if self.median.1 < self.median.0 && top_rises {
            Verdict::Partly
        } else {
            Verdict::DoesNotHold
        }
    }

    fn describe(&self) -> String {
        format!(
            "loss fell for {} of validation samples; 10th percentile {:.2e} -> {:.2e}, median {:.2e} -> {:.2e}, 99th percentile {:.3} -> {:.3}",
            pct(self.fell),
            self.low.0,
            self.low.1,
            self.median.0,
            self.median.1,
            self.top.0,
            self.top.1
        )
    }
}

const DIVERGENCE_CRITERION: &str = "case A, each validation sample's loss at the minimum-validation-loss epoch vs the last epoch: holds if the 10th percentile and the median fall, the 99th percentile rises, and >= 75% of samples fall; partly if the median falls and the 99th percentile rises";

/// Claim 6, on one case (A in the report).
pub(crate) fn most_fall_few_rise(c: &CaseEvidence) -> Judged {
    let d = Divergence::of(c);
    Judged {
        number: 6,
        claim: "For the vast majority of validation samples the loss keeps falling, while for a small minority it rises.",
        criterion: DIVERGENCE_CRITERION,
        evidence: d.as_ref().map_or_else(
            || "no per-sample validation losses recorded".into(),
            |d| format!("case {}: {}", c.letter.to_ascii_uppercase(), d.describe()),
        ),
        verdict: d.map_or(Verdict::NoEvidence, |d| d.verdict()),
    }
}

/// Claim 7, on one case.
pub(crate) fn training_outliers(c: &CaseEvidence) -> Judged {
    let t = &c.train_top;
    let criterion = "case A, the training set's 99th-percentile loss per epoch: holds if after the minimum-validation-loss epoch it grows by at most 2x (\"only a little\") and ends below its value at that epoch (\"falls again\"); partly if one of the two";
    let claim =
        "Training-set outliers rise only a little, and fall again as the set is interpolated.";
    if t.len() <= c.min_epoch {
        return Judged {
            number: 7,
            claim,
            criterion,
            evidence: "no per-sample training losses recorded".into(),
            verdict: Verdict::NoEvidence,
        };
    }
    let at_min = t[c.min_epoch];
    let peak = t[c.min_epoch..].iter().copied().fold(at_min, f64::max);
    let end = *t.last().unwrap_or(&at_min);
    let rise = peak / at_min;
    let little = rise <= TRAIN_RISE_MAX;
    let falls = end < at_min;
    Judged {
        number: 7,
        claim,
        criterion,
        evidence: format!(
            "case {}: training 99th percentile {at_min:.3} at epoch {}, peak {peak:.3} after it ({rise:.2}x), {end:.2e} at the end",
            c.letter.to_ascii_uppercase(),
            c.min_epoch
        ),
        verdict: match (little, falls) {
            (true, true) => Verdict::Holds,
            (false, false) => Verdict::DoesNotHold,
            _ => Verdict::Partly,
        },
    }
}

/// How many layers grew, of how many, in norm and in spread.
fn growth(c: &CaseEvidence) -> (usize, usize, usize) {
    let n = c.weight_norms.len();
    let norm = c.weight_norms.iter().filter(|(a, b)| b > a).count();
    let spread = c.weight_spread.iter().filter(|(a, b)| b > a).count();
    (n, norm, spread)
}

fn growth_verdict(c: &CaseEvidence) -> Verdict {
    let (n, norm, spread) = growth(c);
    if n == 0 {
        Verdict::NoEvidence
    } else if norm == n && spread == n {
        Verdict::Holds
    } else if norm + spread > 0 {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    }
}

/// Claim 8, on one case.
pub(crate) fn weights_grow(c: &CaseEvidence) -> Judged {
    let (n, norm, spread) = growth(c);
    let ratios: Vec<String> = c
        .weight_norms
        .iter()
        .map(|(a, b)| format!("{:.2}x", b / a))
        .collect();
    Judged {
        number: 8,
        claim: "Weight values grow during training: the per-layer norms and the widths of the weight distributions.",
        criterion: "case A, every layer's weight L2 norm and the standard deviation of its weight histogram, first vs last checkpoint: holds if both grow in every layer, partly if some grow",
        evidence: format!(
            "case {}: norm grew in {norm} of {n} layers (last/first: {}), spread in {spread} of {n}",
            c.letter.to_ascii_uppercase(),
            ratios.join(", ")
        ),
        verdict: growth_verdict(c),
    }
}

/// Claim 9's numbers: of the samples with the top 1% of final losses,
/// the share above the fence in at least half of the epochs; and the
/// share of samples never above it.
pub(crate) fn extreme_were_outliers(c: &CaseEvidence) -> Option<(f64, f64)> {
    let n = c.final_loss.len();
    if n == 0 || c.epochs_above.len() != n || c.epochs == 0 {
        return None;
    }
    let cut = quantile(&c.final_loss, TOP_QUANTILE);
    let top: Vec<usize> = (0..n).filter(|&i| c.final_loss[i] as f64 >= cut).collect();
    // Rows are epochs 0..=epochs.
    let rows = c.epochs + 1;
    let most = top
        .iter()
        .filter(|&&i| 2 * c.epochs_above[i] as usize >= rows)
        .count();
    Some((share(most, top.len()), c.frac_never))
}

fn outlier_verdict(c: &CaseEvidence) -> Verdict {
    match extreme_were_outliers(c) {
        None => Verdict::NoEvidence,
        Some((most, never)) => match (most >= HALF, never >= HALF) {
            (true, true) => Verdict::Holds,
            (false, false) => Verdict::DoesNotHold,
            _ => Verdict::Partly,
        },
    }
}

/// Claim 9, on one case.
pub(crate) fn outliers_most_of_training(c: &CaseEvidence) -> Judged {
    Judged {
        number: 9,
        claim: "Samples with extreme final loss were outliers for most of training (Fig. 7); a large majority of samples are never outliers, and end with small losses.",
        criterion: "case A, upper Tukey fence (Q3 + 1.5 IQR) of the validation losses at every epoch: holds if >= 50% of the samples with the top 1% of final losses were above the fence in at least half of the epochs, and >= 50% of all samples never were; partly if one of the two",
        evidence: match extreme_were_outliers(c) {
            Some((most, never)) => {
                let never_loss: Vec<f32> = c
                    .final_loss
                    .iter()
                    .zip(&c.epochs_above)
                    .filter(|(_, &e)| e == 0)
                    .map(|(&l, _)| l)
                    .collect();
                format!(
                    "case {}: {} of the top-1% samples were outliers in most epochs; {} of samples never were, with median final loss {:.2e} (all samples: {:.2e})",
                    c.letter.to_ascii_uppercase(),
                    pct(most),
                    pct(never),
                    quantile(&never_loss, 0.5),
                    quantile(&c.final_loss, 0.5)
                )
            }
            None => "no per-sample validation losses recorded".into(),
        },
        verdict: outlier_verdict(c),
    }
}

/// Claim 10's curve criterion for one case: minimum early, then loss
/// up and accuracy stable or better.
pub(crate) fn curve_shape(c: &CaseEvidence) -> bool {
    (c.min_epoch as f64) <= EARLY * c.epochs as f64
        && c.loss_change > 0.0
        && 100.0 * c.acc_change > -STABLE_ACC_POINTS
}

/// Claim 10, over cases B, C and D.
pub(crate) fn other_cases(cases: &[CaseEvidence]) -> Judged {
    let mut parts = vec![];
    let (mut shape_ok, mut all_ok) = (0, 0);
    for c in cases {
        let shape = curve_shape(c);
        let sub = [
            Divergence::of(c).map_or(Verdict::NoEvidence, |d| d.verdict()),
            growth_verdict(c),
            outlier_verdict(c),
        ];
        shape_ok += shape as usize;
        all_ok += (shape && sub.iter().all(|v| *v == Verdict::Holds)) as usize;
        parts.push(format!(
            "{}: minimum at epoch {} of {}, then loss {:+.3}, accuracy {:+.2} points{}; claim 6 {}, 8 {}, 9 {}",
            c.letter.to_ascii_uppercase(),
            c.min_epoch,
            c.epochs,
            c.loss_change,
            100.0 * c.acc_change,
            if shape { "" } else { " (shape not met)" },
            sub[0],
            sub[1],
            sub[2]
        ));
    }
    Judged {
        number: 10,
        claim: "The same holds for cases B, C and D (the appendix).",
        criterion: "for each of B, C, D: the minimum validation loss within the first quarter of training, then a higher loss at the last epoch with accuracy down by less than 0.25 points (or up), and claims 6, 8 and 9 judged on it hold; holds if all three cases pass, partly if at least one case shows the curve shape",
        evidence: parts.join("; "),
        verdict: if cases.is_empty() {
            Verdict::NoEvidence
        } else if all_ok == cases.len() {
            Verdict::Holds
        } else if shape_ok > 0 {
            Verdict::Partly
        } else {
            Verdict::DoesNotHold
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(width: usize, min: f64, dl: f64, da: f64) -> SweepPoint {
        SweepPoint {
            settings: vec![("width".into(), width.to_string())],
            width,
            min_val_loss: min,
            loss_change: dl,
            acc_change: da,
            triangle: dl > 0.0 && da > 0.0,
        }
    }

    #[test]
    fn narrow_and_wide_follow_the_signs() {
        let holds: Vec<_> = (0..4).map(|i| point(7 + i, 0.5, 0.1, -0.01)).collect();
        assert_eq!(narrow_models(&holds).verdict, Verdict::Holds);
        let fails: Vec<_> = (0..4).map(|i| point(7 + i, 0.5, -0.1, 0.01)).collect();
        assert_eq!(narrow_models(&fails).verdict, Verdict::DoesNotHold);
        // Loss rises but accuracy also rises: partly.
        let part: Vec<_> = (0..4).map(|i| point(7 + i, 0.5, 0.1, 0.01)).collect();
        assert_eq!(narrow_models(&part).verdict, Verdict::Partly);
        assert_eq!(narrow_models(&[]).verdict, Verdict::NoEvidence);
        let wide: Vec<_> = (0..4).map(|i| point(100 + i, 0.5, 0.1, 0.01)).collect();
        assert_eq!(wider_models(&wide).verdict, Verdict::Holds);
        assert_eq!(wider_models(&part).verdict, Verdict::NoEvidence);
        let flat: Vec<_> = (0..4).map(|i| point(100 + i, 0.5, -0.1, 0.01)).collect();
        assert_eq!(wider_models(&flat).verdict, Verdict::DoesNotHold);
    }

    #[test]
    fn spearman_by_hand() {
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]),
            Some(1.0)
        );
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]),
            Some(-1.0)
        );
        // Monotone but not linear: still 1.
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[1.0, 100.0, 101.0]), Some(1.0));
        // Ties take the average rank: ranks (1.5, 1.5, 3) vs (1, 2, 3).
        let r = spearman(&[5.0, 5.0, 9.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((r - 0.866_025_403_784_438_6).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        // Two pairs are not enough for claim 3 (stats::spearman gives -1).
        assert_eq!(spearman(&[1.0, 2.0], &[2.0, 1.0]), None);
        let up: Vec<_> = (0..5).map(|i| point(10, i as f64, i as f64, 0.0)).collect();
        assert_eq!(higher_minimum_larger_rise(&up).verdict, Verdict::Holds);
        let down: Vec<_> = (0..5)
            .map(|i| point(10, i as f64, -(i as f64), 0.0))
            .collect();
        assert_eq!(
            higher_minimum_larger_rise(&down).verdict,
            Verdict::DoesNotHold
        );
    }

    fn cfg(ds: &str, n: &str, w: &str, tri: bool, rise: f64) -> SweepPoint {
        SweepPoint {
            settings: vec![
                ("dataset".into(), ds.into()),
                ("train_size".into(), n.into()),
                ("width".into(), w.into()),
            ],
            width: w.parse().unwrap(),
            min_val_loss: 0.3,
            loss_change: rise,
            acc_change: if tri { 0.01 } else { -0.01 },
            triangle: tri,
        }
    }

    /// A full 2x2x2 grid where the behaviour appears only at the
    /// `expected` level of every factor (or only at the other level).
    fn grid(expected: bool) -> Vec<SweepPoint> {
        let mut v = vec![];
        for ds in ["mnist", "fashion-mnist"] {
            for n in ["5000", "55000"] {
                for w in ["100", "1000"] {
                    let score =
                        (ds == "fashion-mnist") as u8 + (n == "5000") as u8 + (w == "1000") as u8;
                    let tri = if expected { score >= 2 } else { score <= 1 };
                    v.push(cfg(ds, n, w, tri, if tri { 0.5 } else { 0.1 }));
                }
            }
        }
        v
    }

    #[test]
    fn factors_pair_matched_configurations_both_ways() {
        let yes = grid(true);
        let e = factor_effect(&yes, "width", Expect::Larger);
        assert_eq!(e.pairs, 4);
        assert!(e.supports(), "{e:?}");
        assert_eq!(larger_smaller_harder(&yes, false).verdict, Verdict::Holds);
        assert_eq!(wide_variety(&yes).verdict, Verdict::Holds);
        let no = grid(false);
        assert!(!factor_effect(&no, "dataset", Expect::Harder).supports());
        assert_eq!(Expect::Smaller.more("5000", "55000"), Some(true));
        assert_eq!(Expect::Larger.more("100", "100"), None);
        assert_eq!(
            Expect::Harder.more("mnist", "/data/fashion-mnist-small"),
            Some(false)
        );
        assert_eq!(
            larger_smaller_harder(&no, false).verdict,
            Verdict::DoesNotHold
        );
        // No matched pairs at all.
        let lone = vec![cfg("mnist", "5000", "100", true, 0.3)];
        assert_eq!(
            larger_smaller_harder(&lone, true).verdict,
            Verdict::NoEvidence
        );
    }

    /// A case where a few samples' losses explode while the rest fall.
    fn case(explode: bool) -> CaseEvidence {
        let n = 1000;
        let epochs = 200;
        let at_min: Vec<f32> = (0..n).map(|i| 0.05 + 0.001 * (i % 100) as f32).collect();
        let last: Vec<f32> = (0..n)
            .map(|i| {
                if explode && i < 20 {
                    30.0
                } else if explode {
                    at_min[i] * 0.01
                } else {
                    at_min[i] * 2.0
                }
            })
            .collect();
        let epochs_above: Vec<u32> = (0..n)
            .map(|i| {
                if explode && i < 20 {
                    190
                } else if explode {
                    0
                } else {
                    20
                }
            })
            .collect();
        CaseEvidence {
            letter: 'a',
            epochs,
            min_epoch: if explode { 10 } else { 150 },
            loss_change: if explode { 0.3 } else { -0.1 },
            acc_change: if explode { 0.002 } else { -0.01 },
            frac_never: epochs_above.iter().filter(|&&e| e == 0).count() as f64 / n as f64,
            val_at_min: at_min,
            final_loss: last.clone(),
            val_last: last,
            train_top: if explode {
                (0..=epochs).map(|e| 1.0 / (1.0 + e as f64)).collect()
            } else {
                (0..=epochs)
                    .map(|e| 0.01 * 1.05f64.powi(e as i32))
                    .collect()
            },
            weight_norms: if explode {
                vec![(1.0, 3.0), (1.0, 2.0)]
            } else {
                vec![(3.0, 1.0), (2.0, 1.0)]
            },
            weight_spread: if explode {
                vec![(0.1, 0.3), (0.1, 0.2)]
            } else {
                vec![(0.3, 0.1), (0.2, 0.1)]
            },
            epochs_above,
        }
    }

    #[test]
    fn case_claims_follow_the_evidence_both_ways() {
        let yes = case(true);
        let no = case(false);
        for (f, name) in [
            (most_fall_few_rise as fn(&CaseEvidence) -> Judged, "6"),
            (training_outliers, "7"),
            (weights_grow, "8"),
            (outliers_most_of_training, "9"),
        ] {
            assert_eq!(
                f(&yes).verdict,
                Verdict::Holds,
                "claim {name}: {}",
                f(&yes).evidence
            );
            assert_eq!(
                f(&no).verdict,
                Verdict::DoesNotHold,
                "claim {name}: {}",
                f(&no).evidence
            );
        }
        assert!(curve_shape(&yes) && !curve_shape(&no));
        let b = CaseEvidence {
            letter: 'b',
            ..yes.clone()
        };
        assert_eq!(
            other_cases(&[b.clone(), b.clone(), b.clone()]).verdict,
            Verdict::Holds
        );
        assert_eq!(other_cases(&[b, no.clone()]).verdict, Verdict::Partly);
        assert_eq!(other_cases(&[no]).verdict, Verdict::DoesNotHold);
        // Nothing recorded: no evidence, not a verdict.
        let empty = CaseEvidence::default();
        assert_eq!(most_fall_few_rise(&empty).verdict, Verdict::NoEvidence);
        assert_eq!(weights_grow(&empty).verdict, Verdict::NoEvidence);
    }
}
