//! The paper's claims, each judged by its criterion in
//! [`super::criteria::TABLE`] (versioned by its hash,
//! [`super::criteria::version`]): pure functions from measured evidence
//! to a [`Judged`] claim (verdict, the numbers behind it, the criterion
//! in words). `evidence` reads the numbers from the run files.
//!
//! Claims 1-5 and 11 are judged on the fig2 and fig3 sweeps. Claims 6-10
//! and 12 are judged on every seed of a case and aggregated over the
//! seeds ([`aggregate`]); claim 13 on every case and seed. The evidence
//! of an aggregated claim gives each number's median and range over the
//! seeds.

use serde::Serialize;

use super::criteria::{
    self, EARLY, HALF, LATE_GROWTH, LOW_QUANTILE, MIN_CHECKPOINTS, MOST, NARROW_MAX_WIDTH,
    RISE_AT_ALL, RISE_LITTLE, SCALED_RISE_PARTLY, SEEDS_HOLD, SEEDS_PARTLY, SMALL_LOSS, SOME,
    STABLE_ACC_POINTS, STRONG_RHO, TOP_QUANTILE, WEAK_RHO,
};
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

/// A claim's verdict on one run (one case and seed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeedVerdict {
    /// The run, e.g. `A seed 0`.
    pub label: String,
    /// The verdict on it.
    pub verdict: Verdict,
}

/// One claim, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    /// 1..=13, as numbered in the report.
    pub number: u8,
    /// What the paper says.
    pub claim: &'static str,
    /// The criterion, from [`criteria::TABLE`].
    pub criterion: &'static str,
    /// The measured numbers.
    pub evidence: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The verdict on every run it was judged on (empty for the sweep
    /// claims 1-5 and 11).
    pub per_seed: Vec<SeedVerdict>,
}

/// Claim `number` with its words from the criteria table.
fn judged(number: u8, evidence: String, verdict: Verdict, per_seed: Vec<SeedVerdict>) -> Judged {
    let c = criteria::entry(number);
    Judged {
        number,
        claim: c.claim,
        criterion: c.criterion,
        evidence,
        verdict,
        per_seed,
    }
}

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
    /// Validation accuracy at the last epoch (a fraction).
    pub last_val_acc: f64,
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

/// One set's per-sample losses over a time axis (epochs, or
/// checkpoints), reduced to what claims 6 and 9 read.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetSeries {
    /// Rows (epochs or checkpoints) the outlier counts run over.
    pub rows: usize,
    /// Each sample's loss at the row of the minimum validation loss.
    pub at_min: Vec<f32>,
    /// ... and at the last row.
    pub last: Vec<f32>,
    /// Each sample's rows strictly above that row's upper Tukey fence.
    pub rows_above: Vec<u32>,
    /// Iterations of the checkpoints after the minimum-validation-loss
    /// epoch.
    pub after_min_iterations: Vec<f64>,
    /// For each sample strictly above the fence at the last row: its
    /// losses at those checkpoints.
    pub outlier_series: Vec<Vec<f32>>,
}

/// What the case claims need from one run (one case, one seed).
#[derive(Clone, Debug, Default)]
pub(crate) struct CaseEvidence {
    /// `a`..`d`, `f`.
    pub letter: char,
    /// The run's seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch of the minimum validation loss.
    pub min_epoch: usize,
    /// Validation loss at the last epoch minus at the minimum.
    pub loss_change: f64,
    /// Validation accuracy at the last epoch minus at the minimum.
    pub acc_change: f64,
    /// The validation set over the epochs (per-epoch records).
    pub val: SetSeries,
    /// The validation set over the checkpoints.
    pub val_ckpt: SetSeries,
    /// The evaluation set over the checkpoints.
    pub eval_ckpt: SetSeries,
    /// Fractional epoch of every checkpoint.
    pub ckpt_epoch: Vec<f64>,
    /// The training set's 99th-percentile loss at every checkpoint.
    pub train_top: Vec<f64>,
    /// ... its largest loss.
    pub train_max: Vec<f64>,
    /// ... its median loss.
    pub train_median: Vec<f64>,
    /// Per layer, per checkpoint: the weight L2 norm.
    pub weight_l2: Vec<Vec<f64>>,
    /// Per layer, per checkpoint: the tail weight (the
    /// [`criteria::TAIL_QUANTILE`] of |w|).
    pub weight_tail: Vec<Vec<f64>>,
    /// The validation calibration at the raw minimum and the end (runs
    /// recorded before calibration have none).
    pub calibration: Option<crate::analysis::calibration::CalibrationSummary>,
}

/// How the report names a case: `A`..`D`, or `Fig. 1` for `f`.
pub(crate) fn case_name(letter: char) -> String {
    crate::config::Preset::parse(&letter.to_string())
        .map(|p| p.label().to_string())
        .unwrap_or_else(|_| letter.to_ascii_uppercase().to_string())
}

impl CaseEvidence {
    /// `A seed 0`.
    fn label(&self) -> String {
        format!("{} seed {}", case_name(self.letter), self.seed)
    }
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

fn is_narrow(p: &SweepPoint) -> bool {
    p.width as f64 <= NARROW_MAX_WIDTH
}

/// Claim 1, fig2's narrow models.
pub(crate) fn narrow_models(fig2: &[SweepPoint]) -> Judged {
    let narrow: Vec<_> = fig2.iter().filter(|p| is_narrow(p)).collect();
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
    let evidence = format!(
        "{both} of {} narrow runs ({}); loss rose in {rises}; accuracy change {lo:+.2} to {hi:+.2} points",
        narrow.len(),
        pct(f)
    );
    judged(1, evidence, verdict, vec![])
}

/// The smallest and largest of `x` (NaN skipped; NaN when empty).
fn min_max(x: &[f64]) -> (f64, f64) {
    x.iter()
        .fold((f64::NAN, f64::NAN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Claim 2, fig2's wider models.
pub(crate) fn wider_models(fig2: &[SweepPoint]) -> Judged {
    let wide: Vec<_> = fig2.iter().filter(|p| !is_narrow(p)).collect();
    let tri = wide.iter().filter(|p| p.triangle).count();
    let f = share(tri, wide.len());
    let evidence = format!(
        "{tri} of {} wider runs are triangles ({}); {} of all {} fig2 runs",
        wide.len(),
        pct(f),
        fig2.iter().filter(|p| p.triangle).count(),
        fig2.len()
    );
    let verdict = if wide.is_empty() {
        Verdict::NoEvidence
    } else {
        by_share(f, HALF, SOME)
    };
    judged(2, evidence, verdict, vec![])
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
    let evidence = match rho {
        Some(r) => format!("Spearman {r:.2} over {} runs", fig2.len()),
        None => format!("not computable from {} runs", fig2.len()),
    };
    let verdict = match rho {
        Some(r) if r >= STRONG_RHO => Verdict::Holds,
        Some(r) if r >= WEAK_RHO => Verdict::Partly,
        Some(_) => Verdict::DoesNotHold,
        None => Verdict::NoEvidence,
    };
    judged(3, evidence, verdict, vec![])
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
    let evidence = format!(
        "{tri} of {} configurations are triangles ({}); validation loss rose after its minimum in {rose}; by level: {}",
        fig3.len(),
        pct(f),
        by.join(", ")
    );
    let verdict = if fig3.is_empty() {
        Verdict::NoEvidence
    } else {
        by_share(f, HALF, SOME)
    };
    judged(4, evidence, verdict, vec![])
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
    /// The expected level shows more of the behaviour. For the dataset,
    /// in the paper's words, a larger median loss increase; for the
    /// others, more triangles, or as many and a larger median increase.
    pub(crate) fn supports(&self, expect: Expect) -> bool {
        let larger_rise = self.median_rise.0 > self.median_rise.1;
        self.pairs > 0
            && match expect {
                Expect::Harder => larger_rise,
                Expect::Larger | Expect::Smaller => {
                    self.triangles.0 > self.triangles.1
                        || (self.triangles.0 == self.triangles.1 && larger_rise)
                }
            }
    }
}

/// The median of `x`, NaN sorted last and kept (NaN when empty).
fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    stats::quantile_sorted(&x, 0.5)
}

/// Pairs of runs equal in every setting but `key`: (the run at the
/// level `expect` names, the other).
pub(crate) fn matched_pairs<'a>(
    fig3: &'a [SweepPoint],
    key: &str,
    expect: Expect,
) -> Vec<(&'a SweepPoint, &'a SweepPoint)> {
    let settings = fig3.iter().map(|p| p.settings.as_slice());
    let mut pairs = vec![];
    for g in groups_differing_only_in(settings, key) {
        // The group's runs that have the setting, with its level.
        let levels: Vec<(&SweepPoint, &str)> = g
            .iter()
            .filter_map(|&i| Some((&fig3[i], fig3[i].setting(key)?)))
            .collect();
        for &(a, la) in &levels {
            for &(b, lb) in &levels {
                if expect.more(la, lb) == Some(true) {
                    pairs.push((a, b));
                }
            }
        }
    }
    pairs
}

/// Claim 5's comparison of one factor over its matched pairs.
pub(crate) fn factor_effect(fig3: &[SweepPoint], key: &str, expect: Expect) -> FactorEffect {
    let pairs = matched_pairs(fig3, key, expect);
    let count = |f: fn(&(&SweepPoint, &SweepPoint)) -> bool| pairs.iter().filter(|p| f(p)).count();
    FactorEffect {
        pairs: pairs.len(),
        triangles: (count(|p| p.0.triangle), count(|p| p.1.triangle)),
        median_rise: (
            median(pairs.iter().map(|p| p.0.loss_change).collect()),
            median(pairs.iter().map(|p| p.1.loss_change).collect()),
        ),
    }
}

/// What fig3-quick compares where (claims 5 and 11).
fn quick_caveat(quick: bool) -> &'static str {
    if quick {
        "; fig3-quick: width is compared at depth 1 with 5,000 samples, training-set size at width 100 (see the spec)"
    } else {
        ""
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
        support += e.supports(expect) as usize;
        parts.push(format!(
            "{name}: {} matched pairs, triangles {} vs {}, median loss increase {:.3} vs {:.3}{}",
            e.pairs,
            e.triangles.0,
            e.triangles.1,
            e.median_rise.0,
            e.median_rise.1,
            if e.supports(expect) {
                ""
            } else {
                " (not more)"
            }
        ));
    }
    let verdict = if measured == 0 {
        Verdict::NoEvidence
    } else if support == FACTORS.len() {
        Verdict::Holds
    } else if support > 0 {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    let evidence = format!("{}{}", parts.join("; "), quick_caveat(quick));
    judged(5, evidence, verdict, vec![])
}

/// Claim 11's factors: the setting, the level claim 5 expects more of
/// the behaviour from (claim 11 expects the lower loss and the higher
/// accuracy from the other level), and the comparison in words.
const LOWER_LOSS_FACTORS: [(&str, Expect, &str); 2] = [
    ("dataset", Expect::Harder, "MNIST vs Fashion-MNIST"),
    (
        "train_size",
        Expect::Smaller,
        "larger vs smaller training set",
    ),
];

/// Claim 11, over fig3's selected runs.
pub(crate) fn mnist_and_larger_sets(fig3: &[SweepPoint], quick: bool) -> Judged {
    let mut parts = vec![];
    let mut shares = vec![];
    let mut any = false;
    for (key, expect, name) in LOWER_LOSS_FACTORS {
        let pairs = matched_pairs(fig3, key, expect);
        // `b` is the level expected to do better.
        let ok = pairs
            .iter()
            .filter(|(a, b)| b.min_val_loss < a.min_val_loss && b.last_val_acc > a.last_val_acc)
            .count();
        any |= !pairs.is_empty();
        shares.push(share(ok, pairs.len()));
        parts.push(format!(
            "{name}: {ok} of {} matched pairs have the lower minimum validation loss and the higher last validation accuracy ({})",
            pairs.len(),
            pct(share(ok, pairs.len()))
        ));
    }
    let verdict = if !any {
        Verdict::NoEvidence
    } else if shares.iter().all(|&s| s >= MOST) {
        Verdict::Holds
    } else if shares.iter().all(|&s| s >= HALF) || shares.iter().any(|&s| s >= MOST) {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    let evidence = format!("{}{}", parts.join("; "), quick_caveat(quick));
    judged(11, evidence, verdict, vec![])
}

/// How a number is written in the evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fmt {
    /// A share, as a percentage.
    Pct,
    /// A loss or a norm: 3 decimals, or 2 significant digits in
    /// scientific notation when small or large.
    Num,
    /// A ratio: `2.10x`.
    Times,
    /// A count or an epoch: whole, or one decimal.
    Count,
}

impl Fmt {
    fn show(self, x: f64) -> String {
        match self {
            Fmt::Pct => pct(x),
            Fmt::Times => format!("{x:.2}x"),
            Fmt::Count if x.fract() == 0.0 => format!("{x:.0}"),
            Fmt::Count => format!("{x:.1}"),
            Fmt::Num if x == 0.0 || (1e-2..1e3).contains(&x.abs()) => format!("{x:.3}"),
            Fmt::Num => format!("{x:.2e}"),
        }
    }
}

/// A named number of one run's evidence.
#[derive(Clone, Debug)]
pub(crate) struct Num {
    /// What it is, in words.
    pub name: String,
    /// Its value (NaN: not measured).
    pub value: f64,
    /// How it is written.
    pub fmt: Fmt,
}

fn num(name: impl Into<String>, value: f64, fmt: Fmt) -> Num {
    Num {
        name: name.into(),
        value,
        fmt,
    }
}

/// A claim judged on one run: its verdict, the numbers behind it and a
/// remark.
#[derive(Clone, Debug)]
pub(crate) struct SeedCheck {
    /// The verdict on this run.
    pub verdict: Verdict,
    /// The numbers, in the order the evidence lists them.
    pub numbers: Vec<Num>,
    /// Anything the numbers do not say.
    pub note: Option<String>,
}

impl SeedCheck {
    fn no_evidence(why: &str) -> SeedCheck {
        SeedCheck {
            verdict: Verdict::NoEvidence,
            numbers: vec![],
            note: Some(why.into()),
        }
    }
}

/// Holds if all `n` parts are met, partly if some, else does not hold.
fn by_parts(met: usize, n: usize) -> Verdict {
    if met == n {
        Verdict::Holds
    } else if met > 0 {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    }
}

/// The seed rule: holds if the claim holds in at least
/// [`SEEDS_HOLD`] of the seeds, partly if in at least [`SEEDS_PARTLY`]
/// or if every seed is at least partly, no evidence if no seed has any;
/// a seed without evidence counts as one where it does not hold.
pub(crate) fn aggregate(seeds: &[Verdict]) -> Verdict {
    if seeds.iter().all(|v| *v == Verdict::NoEvidence) {
        return Verdict::NoEvidence;
    }
    let holds = share(
        seeds.iter().filter(|v| **v == Verdict::Holds).count(),
        seeds.len(),
    );
    let all_partly = seeds
        .iter()
        .all(|v| matches!(v, Verdict::Holds | Verdict::Partly));
    if holds >= SEEDS_HOLD {
        Verdict::Holds
    } else if holds >= SEEDS_PARTLY || all_partly {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    }
}

/// `4 hold, 1 partly`: how many runs came out which way.
fn tally(v: &[Verdict]) -> String {
    let kinds = [
        (Verdict::Holds, "hold"),
        (Verdict::Partly, "partly"),
        (Verdict::DoesNotHold, "do not hold"),
        (Verdict::NoEvidence, "no evidence"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|(k, word)| {
            let n = v.iter().filter(|x| *x == k).count();
            (n > 0).then(|| format!("{n} {word}"))
        })
        .collect();
    parts.join(", ")
}

/// `name median X (range a-b)` for every number the runs measured
/// (`name X` from one run; `name not measured` from none).
pub(crate) fn spread(runs: &[&[Num]]) -> String {
    let mut names: Vec<(&str, Fmt)> = vec![];
    for n in runs.iter().flat_map(|r| r.iter()) {
        if !names.iter().any(|(m, _)| *m == n.name) {
            names.push((&n.name, n.fmt));
        }
    }
    let parts: Vec<String> = names
        .iter()
        .map(|&(name, fmt)| {
            let mut v: Vec<f64> = runs
                .iter()
                .flat_map(|r| r.iter())
                .filter(|n| n.name == name && !n.value.is_nan())
                .map(|n| n.value)
                .collect();
            v.sort_by(f64::total_cmp);
            match v.as_slice() {
                [] => format!("{name} not measured"),
                [x] => format!("{name} {}", fmt.show(*x)),
                [lo, .., hi] => {
                    let sep = if *lo < 0.0 { " to " } else { "-" };
                    format!(
                        "{name} median {} (range {}{sep}{})",
                        fmt.show(stats::quantile_sorted(&v, 0.5)),
                        fmt.show(*lo),
                        fmt.show(*hi)
                    )
                }
            }
        })
        .collect();
    parts.join("; ")
}

/// The runs of case `letter`, by seed.
fn of_case(cases: &[CaseEvidence], letter: char) -> Vec<&CaseEvidence> {
    let mut v: Vec<&CaseEvidence> = cases.iter().filter(|c| c.letter == letter).collect();
    v.sort_by_key(|c| c.seed);
    v
}

/// `check` on every run: the per-run verdicts, and the evidence: the
/// tally, each number's spread over the runs and the runs' notes.
fn over_seeds(
    what: &str,
    runs: &[&CaseEvidence],
    check: impl Fn(&CaseEvidence) -> SeedCheck,
) -> (Vec<SeedVerdict>, String) {
    let checks: Vec<(String, SeedCheck)> = runs.iter().map(|c| (c.label(), check(c))).collect();
    let verdicts: Vec<Verdict> = checks.iter().map(|(_, k)| k.verdict).collect();
    let numbers: Vec<&[Num]> = checks.iter().map(|(_, k)| k.numbers.as_slice()).collect();
    let mut text = format!(
        "{what}, {} seeds ({}): {}",
        runs.len(),
        tally(&verdicts),
        spread(&numbers)
    );
    for (label, k) in &checks {
        if let Some(n) = &k.note {
            text.push_str(&format!("; {label}: {n}"));
        }
    }
    let per_seed = checks
        .into_iter()
        .map(|(label, k)| SeedVerdict {
            label,
            verdict: k.verdict,
        })
        .collect();
    (per_seed, text)
}

/// Claim `number` judged by `check` on every seed of `runs` (case
/// `what`), aggregated by the seed rule.
fn per_seed_claim(
    number: u8,
    what: &str,
    runs: &[&CaseEvidence],
    check: impl Fn(&CaseEvidence) -> SeedCheck,
) -> Judged {
    if runs.is_empty() {
        let evidence = format!("no runs of {what}");
        return judged(number, evidence, Verdict::NoEvidence, vec![]);
    }
    let (per_seed, evidence) = over_seeds(what, runs, check);
    let verdicts: Vec<Verdict> = per_seed.iter().map(|s| s.verdict).collect();
    judged(number, evidence, aggregate(&verdicts), per_seed)
}

/// The `p`-quantile of the losses that are not NaN.
fn quantile(x: &[f32], p: f64) -> f64 {
    stats::nan_quantile(x.iter().map(|&v| v as f64), p)
}

/// Claim 6's first part for one set: the share of samples whose loss
/// fell from the minimum row to the last, and the low, median and top
/// quantiles at both.
#[derive(Clone, Debug)]
pub(crate) struct Divergence {
    /// Share of samples whose loss fell.
    pub fell: f64,
    /// (at the minimum, at the end) of the 10th percentile.
    pub low: (f64, f64),
    /// ... of the median.
    pub median: (f64, f64),
    /// ... of the 99th percentile.
    pub top: (f64, f64),
}

impl Divergence {
    /// From a set's per-sample losses.
    pub fn of(s: &SetSeries) -> Option<Divergence> {
        if s.at_min.is_empty() || s.at_min.len() != s.last.len() {
            return None;
        }
        let fell = s.at_min.iter().zip(&s.last).filter(|(a, b)| b < a).count();
        let q = |p| (quantile(&s.at_min, p), quantile(&s.last, p));
        Some(Divergence {
            fell: share(fell, s.at_min.len()),
            low: q(LOW_QUANTILE),
            median: q(0.5),
            top: q(TOP_QUANTILE),
        })
    }

    fn median_falls(&self) -> bool {
        self.median.1 < self.median.0
    }

    fn top_rises(&self) -> bool {
        self.top.1 > self.top.0
    }

    /// The 10th percentile and the median fall, the 99th percentile
    /// rises, and "the vast majority" of samples fall.
    fn holds(&self) -> bool {
        self.median_falls() && self.low.1 < self.low.0 && self.top_rises() && self.fell >= MOST
    }

    fn numbers(&self) -> Vec<Num> {
        vec![
            num("samples whose loss fell", self.fell, Fmt::Pct),
            num("10th percentile at the minimum", self.low.0, Fmt::Num),
            num("10th percentile at the end", self.low.1, Fmt::Num),
            num("median at the minimum", self.median.0, Fmt::Num),
            num("median at the end", self.median.1, Fmt::Num),
            num("99th percentile at the minimum", self.top.0, Fmt::Num),
            num("99th percentile at the end", self.top.1, Fmt::Num),
        ]
    }
}

/// Claim 6's second part: of the samples above the fence at the last
/// row, the share whose loss correlates (Spearman >= [`STRONG_RHO`])
/// with the iteration after the minimum, and how many there are; `None`
/// with fewer than [`MIN_CHECKPOINTS`] checkpoints after the minimum or
/// no such samples.
pub(crate) fn rising_share(s: &SetSeries) -> Option<(f64, usize)> {
    let x = &s.after_min_iterations;
    if (x.len() as f64) < MIN_CHECKPOINTS || s.outlier_series.is_empty() {
        return None;
    }
    let rising = s
        .outlier_series
        .iter()
        .filter(|y| {
            let (xs, ys): (Vec<f64>, Vec<f64>) = x
                .iter()
                .zip(y.iter())
                .filter(|(_, v)| !v.is_nan())
                .map(|(&a, &v)| (a, v as f64))
                .unzip();
            spearman(&xs, &ys).is_some_and(|r| r >= STRONG_RHO)
        })
        .count();
    let n = s.outlier_series.len();
    Some((share(rising, n), n))
}

/// Claim 6 on one set: both parts hold, or partly: the median falls
/// and the 99th percentile rises.
pub(crate) fn divergence_check(s: &SetSeries) -> SeedCheck {
    let Some(d) = Divergence::of(s) else {
        return SeedCheck::no_evidence("no per-sample losses recorded");
    };
    let rising = rising_share(s);
    let verdict = if d.holds() && rising.is_some_and(|(f, _)| f >= MOST) {
        Verdict::Holds
    } else if d.median_falls() && d.top_rises() {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    let mut numbers = d.numbers();
    let (f, n) = rising.map_or((f64::NAN, f64::NAN), |(f, n)| (f, n as f64));
    numbers.push(num("outliers at the end", n, Fmt::Count));
    numbers.push(num("of them rising after the minimum", f, Fmt::Pct));
    let note = rising.is_none().then(|| {
        format!(
            "progressive rise not measurable ({} checkpoints after the minimum, {} outliers at the end)",
            s.after_min_iterations.len(),
            s.outlier_series.len()
        )
    });
    SeedCheck {
        verdict,
        numbers,
        note,
    }
}

/// Claim 6, on every seed of case A.
pub(crate) fn most_fall_few_rise(a: &[&CaseEvidence]) -> Judged {
    per_seed_claim(6, "case A", a, |c| divergence_check(&c.val))
}

/// A series' largest rise above an earlier minimum (claim 7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rise {
    /// `max_k T[k] / min_{j<=k} T[j]`.
    pub ratio: f64,
    /// `T[j*]`, the earlier minimum it rose from.
    pub start: f64,
    /// The last value.
    pub end: f64,
}

impl Rise {
    /// The largest rise of `t` (NaN skipped); `None` below two values.
    pub fn of(t: &[f64]) -> Option<Rise> {
        let v: Vec<f64> = t.iter().copied().filter(|x| !x.is_nan()).collect();
        let (&first, &end) = (v.first()?, v.last()?);
        if v.len() < 2 {
            return None;
        }
        let (mut lo, mut best) = (first, (1.0, first));
        for &x in &v {
            lo = lo.min(x);
            let r = x / lo;
            if r > best.0 {
                best = (r, lo);
            }
        }
        Some(Rise {
            ratio: best.0,
            start: best.1,
            end,
        })
    }

    /// It rises at all, only a little, and ends below where it began.
    pub fn passes(&self) -> bool {
        self.ratio > RISE_AT_ALL && self.ratio <= RISE_LITTLE && self.end < self.start
    }
}

/// Claim 7 on one run: the training set's 99th percentile and maximum
/// over the checkpoints.
pub(crate) fn training_outliers_check(c: &CaseEvidence) -> SeedCheck {
    let series = [("99th percentile", &c.train_top), ("maximum", &c.train_max)];
    let rises: Vec<(&str, Option<Rise>)> = series.iter().map(|(n, t)| (*n, Rise::of(t))).collect();
    if rises.iter().all(|(_, r)| r.is_none()) {
        return SeedCheck::no_evidence("no per-sample training losses at the checkpoints");
    }
    let passed = rises
        .iter()
        .filter(|(_, r)| r.is_some_and(|r| r.passes()))
        .count();
    let mut numbers = vec![];
    for (name, r) in &rises {
        let r = r.unwrap_or(Rise {
            ratio: f64::NAN,
            start: f64::NAN,
            end: f64::NAN,
        });
        numbers.push(num(
            format!("training {name}: largest rise"),
            r.ratio,
            Fmt::Times,
        ));
        numbers.push(num(format!("{name} where it began"), r.start, Fmt::Num));
        numbers.push(num(format!("{name} at the end"), r.end, Fmt::Num));
    }
    SeedCheck {
        verdict: by_parts(passed, 2),
        numbers,
        note: None,
    }
}

/// Claim 7, on every seed of case A.
pub(crate) fn training_outliers(a: &[&CaseEvidence]) -> Judged {
    per_seed_claim(7, "case A", a, training_outliers_check)
}

/// The first index of `x` nearest `target` (NaN skipped).
pub(crate) fn nearest(x: &[f64], target: f64) -> Option<usize> {
    x.iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .min_by(|a, b| (a.1 - target).abs().total_cmp(&(b.1 - target).abs()))
        .map(|(i, _)| i)
}

/// Claim 8's checkpoints: first, nearest the minimum epoch, first with
/// the training median below [`SMALL_LOSS`], last.
struct GrowthPoints {
    first: usize,
    at_min: usize,
    trained: Option<usize>,
    last: usize,
}

/// Claim 8's numbers over the layers of one measure (`series[layer]
/// [checkpoint]`): (grew after the minimum in every layer, smallest
/// growth factor after it, the late growth met in every layer, smallest
/// share of the growth after `trained`).
fn layer_growth(series: &[Vec<f64>], p: &GrowthPoints) -> (bool, f64, bool, f64) {
    let (mut grew, mut factor, mut late, mut late_share) =
        (true, f64::INFINITY, true, f64::INFINITY);
    for v in series {
        let at = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        let end = at(p.last);
        grew &= end > at(p.at_min);
        factor = factor.min(end / at(p.at_min));
        let whole = end - at(p.first);
        match p.trained {
            Some(t) => {
                let after = end - at(t);
                late &= whole > 0.0 && after >= LATE_GROWTH * whole;
                late_share = late_share.min(after / whole);
            }
            None => late = false,
        }
    }
    if p.trained.is_none() {
        late_share = f64::NAN;
    }
    (grew, factor, late, late_share)
}

/// Claim 8 on one run.
pub(crate) fn growth_check(c: &CaseEvidence) -> SeedCheck {
    let n = c.ckpt_epoch.len();
    let layers = c.weight_l2.len();
    let complete = |s: &[Vec<f64>]| s.len() == layers && s.iter().all(|v| v.len() >= n);
    if layers == 0 || n < 2 || !complete(&c.weight_l2) || !complete(&c.weight_tail) {
        return SeedCheck::no_evidence("no weight norms or histograms at two checkpoints");
    }
    let Some(at_min) = nearest(&c.ckpt_epoch, c.min_epoch as f64) else {
        return SeedCheck::no_evidence("no checkpoint epochs");
    };
    let p = GrowthPoints {
        first: 0,
        at_min,
        trained: c.train_median.iter().position(|&m| m < SMALL_LOSS),
        last: n - 1,
    };
    let norm = layer_growth(&c.weight_l2, &p);
    let tail = layer_growth(&c.weight_tail, &p);
    let a = norm.0 && tail.0;
    let b = norm.2 && tail.2;
    let verdict = match (a, b) {
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::Partly,
        _ => Verdict::DoesNotHold,
    };
    let epoch_at = |i: Option<usize>| i.and_then(|i| c.ckpt_epoch.get(i).copied());
    let numbers = vec![
        num(
            "weight norm growth after the minimum (smallest layer)",
            norm.1,
            Fmt::Times,
        ),
        num("tail weight growth after it", tail.1, Fmt::Times),
        num(
            "epoch the training median fell below 1e-3",
            epoch_at(p.trained).unwrap_or(f64::NAN),
            Fmt::Num,
        ),
        num("share of the weight norm growth after it", norm.3, Fmt::Pct),
        num("of the tail weight growth", tail.3, Fmt::Pct),
    ];
    let note = p
        .trained
        .is_none()
        .then(|| "the training median never fell below 1e-3".to_string());
    SeedCheck {
        verdict,
        numbers,
        note,
    }
}

/// Claim 8, on every seed of case A.
pub(crate) fn weights_grow(a: &[&CaseEvidence]) -> Judged {
    per_seed_claim(8, "case A", a, growth_check)
}

/// Claim 9 on one set: (i) the top 1% of final losses were outliers in
/// at least half of the rows, (ii) most samples never were, (iii) those
/// end with small losses.
pub(crate) fn outlier_check(s: &SetSeries) -> SeedCheck {
    let n = s.last.len();
    if n == 0 || s.rows_above.len() != n || s.rows == 0 {
        return SeedCheck::no_evidence("no per-sample losses recorded");
    }
    let cut = quantile(&s.last, TOP_QUANTILE);
    let top: Vec<usize> = (0..n).filter(|&i| s.last[i] as f64 >= cut).collect();
    let most = top
        .iter()
        .filter(|&&i| s.rows_above[i] as f64 >= HALF * s.rows as f64)
        .count();
    let never: Vec<f32> = (0..n)
        .filter(|&i| s.rows_above[i] == 0)
        .map(|i| s.last[i])
        .collect();
    let (extreme, share_never) = (share(most, top.len()), share(never.len(), n));
    let never_loss = quantile(&never, 0.5);
    let met = [
        extreme >= MOST,
        share_never >= MOST,
        never_loss < SMALL_LOSS,
    ];
    SeedCheck {
        verdict: by_parts(met.iter().filter(|&&m| m).count(), met.len()),
        numbers: vec![
            num(
                "top-1% samples above the fence in at least half of the rows",
                extreme,
                Fmt::Pct,
            ),
            num("samples never above it", share_never, Fmt::Pct),
            num("their median final loss", never_loss, Fmt::Num),
        ],
        note: None,
    }
}

/// Claim 9, on every seed of case A.
pub(crate) fn outliers_most_of_training(a: &[&CaseEvidence]) -> Judged {
    per_seed_claim(9, "case A (rows: epochs)", a, |c| outlier_check(&c.val))
}

/// Claim 10's curve criterion for one run: minimum early, then loss
/// up and accuracy stable or better.
pub(crate) fn curve_shape(c: &CaseEvidence) -> bool {
    (c.min_epoch as f64) <= EARLY * c.epochs as f64
        && c.loss_change > 0.0
        && 100.0 * c.acc_change > -STABLE_ACC_POINTS
}

/// Claim 10 on one run: the curve shape, and claims 6, 8 and 9 on it.
/// Holds if all four hold; partly if any holds or is partly.
pub(crate) fn other_case_check(c: &CaseEvidence) -> SeedCheck {
    if c.epochs == 0 {
        return SeedCheck::no_evidence("no curves");
    }
    let shape = curve_shape(c);
    let sub = [
        divergence_check(&c.val).verdict,
        growth_check(c).verdict,
        outlier_check(&c.val).verdict,
    ];
    let verdict = if shape && sub.iter().all(|v| *v == Verdict::Holds) {
        Verdict::Holds
    } else if shape
        || sub
            .iter()
            .any(|v| matches!(v, Verdict::Holds | Verdict::Partly))
    {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    SeedCheck {
        verdict,
        numbers: vec![
            num("minimum at epoch", c.min_epoch as f64, Fmt::Count),
            num("epochs trained", c.epochs as f64, Fmt::Count),
            num("then loss change", c.loss_change, Fmt::Num),
            num("accuracy change (points)", 100.0 * c.acc_change, Fmt::Num),
        ],
        note: Some(format!(
            "shape {}, claim 6 {}, 8 {}, 9 {}",
            if shape { "met" } else { "not met" },
            sub[0],
            sub[1],
            sub[2]
        )),
    }
}

/// Claim 10, over every seed of cases B, C and D.
pub(crate) fn other_cases(cases: &[CaseEvidence]) -> Judged {
    per_case_claim(10, &['b', 'c', 'd'], cases, other_case_check)
}

/// Claim `number` judged by `check` on every seed of each case of
/// `letters`, by the seed rule per case; holds if every case holds,
/// partly if at least one holds or is partly.
fn per_case_claim(
    number: u8,
    letters: &[char],
    cases: &[CaseEvidence],
    check: fn(&CaseEvidence) -> SeedCheck,
) -> Judged {
    let mut parts = vec![];
    let mut per_seed = vec![];
    let mut verdicts = vec![];
    for &letter in letters {
        let runs = of_case(cases, letter);
        let what = format!("case {}", case_name(letter));
        if runs.is_empty() {
            parts.push(format!("no runs of {what}"));
            verdicts.push(Verdict::NoEvidence);
            continue;
        }
        let (seeds, text) = over_seeds(&what, &runs, check);
        let v = aggregate(&seeds.iter().map(|s| s.verdict).collect::<Vec<_>>());
        parts.push(format!("{text} => {v}"));
        verdicts.push(v);
        per_seed.extend(seeds);
    }
    let verdict = if verdicts.iter().all(|v| *v == Verdict::NoEvidence) {
        Verdict::NoEvidence
    } else if verdicts.iter().all(|v| *v == Verdict::Holds) {
        Verdict::Holds
    } else if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Holds | Verdict::Partly))
    {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    judged(number, parts.join(" | "), verdict, per_seed)
}

/// Claim 14 on one run: the validation loss at each epoch's `T*` does
/// not rise from the raw minimum to the end.
pub(crate) fn over_confidence_check(c: &CaseEvidence) -> SeedCheck {
    let Some(s) = &c.calibration else {
        return SeedCheck::no_evidence(crate::record::read::NO_CALIBRATION);
    };
    if s.raw_change.is_nan() || s.raw_change <= 0.0 {
        return SeedCheck::no_evidence("the raw validation loss did not rise after its minimum");
    }
    if s.scaled_change.is_nan() {
        return SeedCheck::no_evidence("no finite T* at the minimum or at the end");
    }
    let verdict = if s.scaled_change <= 0.0 {
        Verdict::Holds
    } else if s.scaled_change < SCALED_RISE_PARTLY * s.raw_change {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    SeedCheck {
        verdict,
        numbers: vec![
            num("raw loss change", s.raw_change, Fmt::Num),
            num("scaled loss change", s.scaled_change, Fmt::Num),
            num("T* at the minimum", s.temperature_at_raw_min, Fmt::Num),
            num("T* at the end", s.temperature_at_end, Fmt::Num),
        ],
        note: None,
    }
}

/// Claim 14, over every seed of cases A, B, C and D.
pub(crate) fn over_confidence(cases: &[CaseEvidence]) -> Judged {
    per_case_claim(14, &['a', 'b', 'c', 'd'], cases, over_confidence_check)
}

/// The share of a set's samples never above the fence.
fn never_share(s: &SetSeries) -> f64 {
    share(
        s.rows_above.iter().filter(|&&r| r == 0).count(),
        s.rows_above.len(),
    )
}

/// Claim 12 on one run: claims 6 and 9 on the evaluation set agree with
/// them on the validation set (both over the checkpoints).
pub(crate) fn eval_like_val_check(c: &CaseEvidence) -> SeedCheck {
    if c.val_ckpt.last.is_empty() || c.eval_ckpt.last.is_empty() {
        return SeedCheck::no_evidence(
            "no per-sample validation and evaluation losses at the checkpoints",
        );
    }
    let (v6, e6) = (
        divergence_check(&c.val_ckpt),
        divergence_check(&c.eval_ckpt),
    );
    let (v9, e9) = (outlier_check(&c.val_ckpt), outlier_check(&c.eval_ckpt));
    let agree = (v6.verdict == e6.verdict) as usize + (v9.verdict == e9.verdict) as usize;
    let fell = |s: &SetSeries| Divergence::of(s).map_or(f64::NAN, |d| d.fell);
    SeedCheck {
        verdict: by_parts(agree, 2),
        numbers: vec![
            num(
                "validation samples whose loss fell",
                fell(&c.val_ckpt),
                Fmt::Pct,
            ),
            num(
                "evaluation samples whose loss fell",
                fell(&c.eval_ckpt),
                Fmt::Pct,
            ),
            num(
                "validation samples never outliers",
                never_share(&c.val_ckpt),
                Fmt::Pct,
            ),
            num(
                "evaluation samples never outliers",
                never_share(&c.eval_ckpt),
                Fmt::Pct,
            ),
        ],
        note: Some(format!(
            "claim 6 {} on validation, {} on evaluation; claim 9 {}, {}",
            v6.verdict, e6.verdict, v9.verdict, e9.verdict
        )),
    }
}

/// Claim 12, on every seed of case A.
pub(crate) fn eval_like_val(a: &[&CaseEvidence]) -> Judged {
    per_seed_claim(12, "case A (rows: checkpoints)", a, eval_like_val_check)
}

/// Claim 13 on one run: the minimum comes within the first
/// [`EARLY`] of the epochs.
fn early_minimum_check(c: &CaseEvidence) -> SeedCheck {
    if c.epochs == 0 {
        return SeedCheck::no_evidence("no curves");
    }
    SeedCheck {
        verdict: if (c.min_epoch as f64) <= EARLY * c.epochs as f64 {
            Verdict::Holds
        } else {
            Verdict::DoesNotHold
        },
        numbers: vec![
            num("minimum at epoch", c.min_epoch as f64, Fmt::Count),
            num("epochs trained", c.epochs as f64, Fmt::Count),
        ],
        note: None,
    }
}

/// Claim 13, over every case and seed.
pub(crate) fn early_minimum(cases: &[CaseEvidence]) -> Judged {
    let mut letters: Vec<char> = cases.iter().map(|c| c.letter).collect();
    letters.sort_unstable();
    letters.dedup();
    let (mut parts, mut per_seed) = (vec![], vec![]);
    for l in letters {
        let runs = of_case(cases, l);
        let what = format!("case {}", case_name(l));
        let (seeds, text) = over_seeds(&what, &runs, early_minimum_check);
        parts.push(text);
        per_seed.extend(seeds);
    }
    let early = per_seed
        .iter()
        .filter(|s| s.verdict == Verdict::Holds)
        .count();
    let f = share(early, per_seed.len());
    let verdict = if per_seed.iter().all(|s| s.verdict == Verdict::NoEvidence) {
        Verdict::NoEvidence
    } else if early == per_seed.len() {
        Verdict::Holds
    } else if f >= MOST {
        Verdict::Partly
    } else {
        Verdict::DoesNotHold
    };
    let evidence = format!(
        "early in {early} of {} runs ({}); {}",
        per_seed.len(),
        pct(f),
        parts.join(" | ")
    );
    judged(13, evidence, verdict, per_seed)
}

/// All fourteen claims: 1-3 on fig2's runs, 4, 5 and 11 on fig3's
/// selected runs, the others on `cases`, every (case, seed) run (14, on
/// calibration, is ours).
pub(crate) fn judge_all(
    fig2: &[SweepPoint],
    fig3: &[SweepPoint],
    cases: &[CaseEvidence],
    quick: bool,
) -> Vec<Judged> {
    let a = of_case(cases, 'a');
    vec![
        narrow_models(fig2),
        wider_models(fig2),
        higher_minimum_larger_rise(fig2),
        wide_variety(fig3),
        larger_smaller_harder(fig3, quick),
        most_fall_few_rise(&a),
        training_outliers(&a),
        weights_grow(&a),
        outliers_most_of_training(&a),
        other_cases(cases),
        mnist_and_larger_sets(fig3, quick),
        eval_like_val(&a),
        early_minimum(cases),
        over_confidence(cases),
    ]
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
            last_val_acc: 0.9,
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
        assert!(narrow_models(&holds).per_seed.is_empty());
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
            last_val_acc: 0.9,
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
        assert!(e.supports(Expect::Larger), "{e:?}");
        assert_eq!(larger_smaller_harder(&yes, false).verdict, Verdict::Holds);
        assert_eq!(wide_variety(&yes).verdict, Verdict::Holds);
        let no = grid(false);
        assert!(!factor_effect(&no, "dataset", Expect::Harder).supports(Expect::Harder));
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

    #[test]
    fn the_dataset_supports_claim_5_by_the_median_increase_only() {
        // Fashion-MNIST has more triangles but the smaller median rise:
        // not support; the width factor would count the triangles.
        let e = FactorEffect {
            pairs: 4,
            triangles: (4, 0),
            median_rise: (0.1, 0.2),
        };
        assert!(!e.supports(Expect::Harder));
        assert!(e.supports(Expect::Larger));
        let e = FactorEffect {
            pairs: 4,
            triangles: (0, 4),
            median_rise: (0.3, 0.2),
        };
        assert!(e.supports(Expect::Harder));
        assert!(!e.supports(Expect::Smaller));
        // Width and size support, the dataset does not: partly.
        let mut v = grid(true);
        for p in v
            .iter_mut()
            .filter(|p| p.setting("dataset") == Some("mnist"))
        {
            p.loss_change += 1.0;
        }
        assert_eq!(larger_smaller_harder(&v, false).verdict, Verdict::Partly);
    }

    /// fig3's 2x2 grid of dataset and training-set size, where MNIST
    /// and the larger set do better (`mnist_better`, `larger_better`).
    fn levels(mnist_better: bool, larger_better: bool) -> Vec<SweepPoint> {
        let mut v = vec![];
        for ds in ["mnist", "fashion-mnist"] {
            for n in ["5000", "55000"] {
                let good = (ds == "mnist") == mnist_better;
                let big = (n == "55000") == larger_better;
                let score = good as u8 + big as u8;
                let mut p = cfg(ds, n, "100", true, 0.1);
                p.min_val_loss = 1.0 - 0.2 * score as f64;
                p.last_val_acc = 0.8 + 0.05 * score as f64;
                v.push(p);
            }
        }
        v
    }

    #[test]
    fn claim_11_pairs_both_factors() {
        let yes = mnist_and_larger_sets(&levels(true, true), false);
        assert_eq!(yes.verdict, Verdict::Holds, "{}", yes.evidence);
        let one = mnist_and_larger_sets(&levels(true, false), false);
        assert_eq!(one.verdict, Verdict::Partly, "{}", one.evidence);
        let no = mnist_and_larger_sets(&levels(false, false), false);
        assert_eq!(no.verdict, Verdict::DoesNotHold, "{}", no.evidence);
        // Lower loss but lower accuracy: not support.
        let mut mixed = levels(true, true);
        for p in &mut mixed {
            p.last_val_acc = 1.0 - p.last_val_acc;
        }
        assert_eq!(
            mnist_and_larger_sets(&mixed, false).verdict,
            Verdict::DoesNotHold
        );
        let lone = vec![cfg("mnist", "5000", "100", true, 0.3)];
        assert_eq!(
            mnist_and_larger_sets(&lone, true).verdict,
            Verdict::NoEvidence
        );
    }

    /// Checkpoint epochs, log-spaced, of a 150-epoch run.
    const CKPT_EPOCHS: [f64; 9] = [0.01, 0.1, 1.0, 5.0, 10.0, 20.0, 50.0, 100.0, 150.0];

    /// A set where a few samples' losses explode and rise progressively
    /// while the rest fall to small losses (`good`), or where all rise
    /// a little and none are outliers for long.
    fn set(good: bool, rows: usize) -> SetSeries {
        let n = 1000;
        let at_min: Vec<f32> = (0..n).map(|i| 0.05 + 0.001 * (i % 100) as f32).collect();
        let last: Vec<f32> = (0..n)
            .map(|i| match (good, i < 20) {
                (true, true) => 30.0,
                (true, false) => at_min[i] * 0.001,
                (false, _) => at_min[i] * 2.0,
            })
            .collect();
        let rows_above = (0..n)
            .map(|i| match (good, i < 20) {
                (true, true) => (rows * 9 / 10) as u32,
                (true, false) => 0,
                (false, _) => 2,
            })
            .collect();
        let after: Vec<f64> = vec![1e3, 2e3, 5e3, 1e4, 2e4];
        let series = (0..20)
            .map(|_| {
                let up = after.iter().enumerate().map(|(k, _)| 1.0 + k as f32);
                if good {
                    up.collect()
                } else {
                    up.rev().collect()
                }
            })
            .collect();
        SetSeries {
            rows,
            at_min,
            last,
            rows_above,
            after_min_iterations: after,
            outlier_series: series,
        }
    }

    fn series(good: bool, v: [f64; 9], bad: [f64; 9]) -> Vec<f64> {
        if good { v } else { bad }.to_vec()
    }

    /// A run of case `letter` where every case claim holds (`good`), or
    /// none does.
    fn run(letter: char, seed: u64, good: bool) -> CaseEvidence {
        let rising = [0.01, 0.03, 0.09, 0.27, 0.8, 2.4, 7.2, 21.6, 64.8];
        let l2 = [1.0, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0, 2.5, 3.0];
        let shrinking: Vec<f64> = l2.iter().rev().copied().collect();
        let per_layer = |scale: f64| -> Vec<Vec<f64>> {
            let v = if good { l2.to_vec() } else { shrinking.clone() };
            vec![v.iter().map(|x| scale * x).collect(); 2]
        };
        CaseEvidence {
            letter,
            seed,
            epochs: 150,
            min_epoch: if good { 10 } else { 120 },
            loss_change: if good { 0.3 } else { -0.1 },
            acc_change: if good { 0.002 } else { -0.01 },
            val: set(good, 151),
            val_ckpt: set(good, 9),
            eval_ckpt: set(good, 9),
            ckpt_epoch: CKPT_EPOCHS.to_vec(),
            train_top: series(
                good,
                [2.0, 1.0, 0.1, 0.01, 0.02, 0.03, 0.005, 1e-4, 1e-5],
                rising,
            ),
            train_max: series(good, [5.0, 3.0, 1.0, 0.5, 1.0, 2.0, 0.3, 0.1, 0.05], rising),
            train_median: series(
                good,
                [2.0, 1.0, 0.1, 0.01, 0.005, 0.002, 5e-4, 1e-4, 1e-5],
                [0.1; 9],
            ),
            weight_l2: per_layer(1.0),
            weight_tail: per_layer(0.1),
            calibration: Some(calibration(0.3, if good { -0.01 } else { 0.2 })),
        }
    }

    /// A run whose raw validation loss changes by `raw` after its
    /// minimum, and its loss at `T*` by `scaled`.
    fn calibration(raw: f64, scaled: f64) -> crate::analysis::calibration::CalibrationSummary {
        crate::analysis::calibration::CalibrationSummary {
            raw_min_epoch: 10,
            scaled_min_epoch: Some(40),
            last_epoch: 150,
            raw_loss_at_raw_min: 0.3,
            scaled_loss_at_raw_min: 0.29,
            temperature_at_raw_min: 1.1,
            ece_at_raw_min: 0.01,
            raw_loss_at_end: 0.3 + raw,
            scaled_loss_at_end: 0.29 + scaled,
            temperature_at_end: 2.5,
            ece_at_end: 0.05,
            raw_change: raw,
            scaled_change: scaled,
            wrong_loss_share_at_end: 0.95,
            scaled_does_not_rise: scaled <= 0.0,
        }
    }

    #[test]
    fn over_confidence_follows_the_scaled_loss_both_ways() {
        let with = |raw: f64, scaled: f64| {
            let mut r = run('a', 0, true);
            r.calibration = Some(calibration(raw, scaled));
            over_confidence_check(&r).verdict
        };
        assert_eq!(with(0.3, -0.01), Verdict::Holds);
        assert_eq!(with(0.3, 0.0), Verdict::Holds);
        // Scaling removes more than 90% of the rise: partly.
        assert_eq!(with(0.3, 0.02), Verdict::Partly);
        assert_eq!(with(0.3, 0.2), Verdict::DoesNotHold);
        // No rise to explain, or no T*: no evidence.
        assert_eq!(with(-0.1, -0.2), Verdict::NoEvidence);
        assert_eq!(with(0.3, f64::NAN), Verdict::NoEvidence);
        let mut old = run('a', 0, true);
        old.calibration = None;
        assert_eq!(over_confidence_check(&old).verdict, Verdict::NoEvidence);
        // Over cases: every case must hold; one failing case is partly.
        let mut cases = vec![];
        for l in ['a', 'b', 'c', 'd'] {
            cases.extend(seeds(l, &[true; 5]));
        }
        assert_eq!(over_confidence(&cases).verdict, Verdict::Holds);
        for c in cases.iter_mut().filter(|c| c.letter == 'b') {
            c.calibration = Some(calibration(0.3, 0.2));
        }
        let j = over_confidence(&cases);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        assert_eq!(j.per_seed.len(), 20);
        let no: Vec<_> = ['a', 'b', 'c', 'd']
            .iter()
            .flat_map(|&l| seeds(l, &[false; 5]))
            .collect();
        assert_eq!(over_confidence(&no).verdict, Verdict::DoesNotHold);
        // Four of five seeds hold: the case holds.
        let mut four = seeds('a', &[true; 5]);
        four[2].calibration = Some(calibration(0.3, 0.2));
        assert_eq!(over_confidence(&four).verdict, Verdict::Partly);
        let refs: Vec<&CaseEvidence> = four.iter().collect();
        let (v, _) = over_seeds("case A", &refs, over_confidence_check);
        let vs: Vec<Verdict> = v.iter().map(|s| s.verdict).collect();
        assert_eq!(aggregate(&vs), Verdict::Holds);
    }

    fn seeds(letter: char, good: &[bool]) -> Vec<CaseEvidence> {
        good.iter()
            .enumerate()
            .map(|(s, &g)| run(letter, s as u64, g))
            .collect()
    }

    type ClaimFn = fn(&[&CaseEvidence]) -> Judged;

    const CASE_A_CLAIMS: [(u8, ClaimFn); 5] = [
        (6, most_fall_few_rise),
        (7, training_outliers),
        (8, weights_grow),
        (9, outliers_most_of_training),
        (12, eval_like_val),
    ];

    #[test]
    fn case_claims_follow_the_evidence_both_ways() {
        let (yes, no) = (run('a', 0, true), run('a', 0, false));
        for (n, f) in CASE_A_CLAIMS {
            let j = f(&[&yes]);
            assert_eq!(j.number, n);
            assert_eq!(j.verdict, Verdict::Holds, "claim {n}: {}", j.evidence);
            if n != 12 {
                let j = f(&[&no]);
                assert_eq!(j.verdict, Verdict::DoesNotHold, "claim {n}: {}", j.evidence);
            }
            assert_eq!(f(&[]).verdict, Verdict::NoEvidence);
        }
        assert!(curve_shape(&yes) && !curve_shape(&no));
        // Nothing recorded: no evidence, not a verdict.
        let empty = CaseEvidence::default();
        for (n, f) in CASE_A_CLAIMS {
            assert_eq!(f(&[&empty]).verdict, Verdict::NoEvidence, "claim {n}");
        }
    }

    #[test]
    fn claim_6_partly_without_a_progressive_rise() {
        let mut c = run('a', 0, true);
        c.val.outlier_series = c
            .val
            .outlier_series
            .iter()
            .map(|s| s.iter().rev().copied().collect())
            .collect();
        let j = most_fall_few_rise(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        // Too few checkpoints after the minimum: that part has no
        // evidence, the claim is partly.
        let mut c = run('a', 0, true);
        c.val.after_min_iterations.truncate(2);
        assert_eq!(rising_share(&c.val), None);
        let j = most_fall_few_rise(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        assert!(j.evidence.contains("not measurable"), "{}", j.evidence);
    }

    #[test]
    fn claim_7_rises_by_hand() {
        let r = Rise::of(&[2.0, 1.0, 3.0, 0.5, 1.0, f64::NAN, 0.1]).unwrap();
        assert_eq!(
            r,
            Rise {
                ratio: 3.0,
                start: 1.0,
                end: 0.1
            }
        );
        assert!(r.passes());
        // Never rises, rises too much, does not fall back.
        assert!(!Rise::of(&[3.0, 2.0, 1.0]).unwrap().passes());
        assert!(!Rise::of(&[1.0, 11.0, 0.5]).unwrap().passes());
        assert!(!Rise::of(&[1.0, 2.0, 1.5]).unwrap().passes());
        assert_eq!(Rise::of(&[1.0]), None);
        // One series passes: partly.
        let mut c = run('a', 0, true);
        c.train_max = vec![0.01, 0.03, 0.09, 0.27, 0.8, 2.4, 7.2, 21.6, 64.8];
        let j = training_outliers(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
    }

    #[test]
    fn claim_8_partly_without_a_trained_median() {
        let mut c = run('a', 0, true);
        c.train_median = vec![0.1; 9];
        let j = weights_grow(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        assert!(
            j.evidence.contains("never fell below 1e-3"),
            "{}",
            j.evidence
        );
        // Growth all before the training median fell: (a) only.
        let mut c = run('a', 0, true);
        c.weight_l2 = vec![vec![1.0, 1.0, 1.1, 1.2, 1.3, 2.9, 2.95, 2.99, 3.0]; 2];
        let j = weights_grow(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        // A layer shorter than the checkpoints: no evidence.
        c.weight_tail[1].truncate(3);
        assert_eq!(weights_grow(&[&c]).verdict, Verdict::NoEvidence);
    }

    #[test]
    fn claim_9_partly_when_the_never_outliers_end_large() {
        let mut c = run('a', 0, true);
        for (i, l) in c.val.last.iter_mut().enumerate().skip(20) {
            *l = 0.05 + 0.001 * (i % 100) as f32;
        }
        let j = outliers_most_of_training(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
    }

    #[test]
    fn claim_10_over_cases_and_seeds() {
        let all = |good: &[bool]| -> Vec<CaseEvidence> {
            ['b', 'c', 'd']
                .iter()
                .flat_map(|&l| seeds(l, good))
                .collect()
        };
        let yes = other_cases(&all(&[true; 5]));
        assert_eq!(yes.verdict, Verdict::Holds, "{}", yes.evidence);
        assert_eq!(yes.per_seed.len(), 15);
        assert_eq!(yes.per_seed[5].label, "C seed 0");
        let no = other_cases(&all(&[false; 5]));
        assert_eq!(no.verdict, Verdict::DoesNotHold, "{}", no.evidence);
        let mut some = seeds('b', &[true; 5]);
        some.extend(seeds('c', &[false; 5]));
        some.extend(seeds('d', &[false; 5]));
        assert_eq!(other_cases(&some).verdict, Verdict::Partly);
        // A case missing: cannot hold.
        assert_eq!(
            other_cases(&seeds('b', &[true; 5])).verdict,
            Verdict::Partly
        );
        assert_eq!(other_cases(&[]).verdict, Verdict::NoEvidence);
    }

    #[test]
    fn claim_12_compares_the_two_sets() {
        let mut c = run('a', 0, true);
        c.eval_ckpt = set(false, 9);
        let j = eval_like_val(&[&c]);
        assert_eq!(j.verdict, Verdict::DoesNotHold, "{}", j.evidence);
        // Claim 9 differs (the evaluation samples are all outliers once),
        // claim 6 agrees: partly.
        let mut c = run('a', 0, true);
        for r in c.eval_ckpt.rows_above.iter_mut().filter(|r| **r == 0) {
            *r = 1;
        }
        let j = eval_like_val(&[&c]);
        assert_eq!(j.verdict, Verdict::Partly, "{}", j.evidence);
        // Both sets failing alike: the evaluation set behaves alike.
        let no = run('a', 0, false);
        assert_eq!(eval_like_val(&[&no]).verdict, Verdict::Holds);
    }

    #[test]
    fn claim_13_every_case_and_seed() {
        let mut all: Vec<CaseEvidence> = ['a', 'b', 'c', 'd', 'f']
            .iter()
            .flat_map(|&l| seeds(l, &[true; 5]))
            .collect();
        let j = early_minimum(&all);
        assert_eq!(j.verdict, Verdict::Holds, "{}", j.evidence);
        assert_eq!(j.per_seed.len(), 25);
        assert!(
            j.evidence.contains("case Fig. 1, 5 seeds"),
            "{}",
            j.evidence
        );
        all[3].min_epoch = 60;
        assert_eq!(early_minimum(&all).verdict, Verdict::Partly);
        for c in all.iter_mut().take(10) {
            c.min_epoch = 60;
        }
        assert_eq!(early_minimum(&all).verdict, Verdict::DoesNotHold);
        assert_eq!(early_minimum(&[]).verdict, Verdict::NoEvidence);
    }

    #[test]
    fn the_seed_rule() {
        use Verdict::*;
        assert_eq!(aggregate(&[Holds, Holds, Holds, Holds, DoesNotHold]), Holds);
        assert_eq!(
            aggregate(&[Holds, Holds, Holds, NoEvidence, DoesNotHold]),
            Partly
        );
        assert_eq!(
            aggregate(&[Holds, DoesNotHold, DoesNotHold, DoesNotHold, DoesNotHold]),
            DoesNotHold
        );
        assert_eq!(aggregate(&[Partly; 5]), Partly);
        assert_eq!(aggregate(&[Holds, Partly, Partly, Partly, Partly]), Partly);
        assert_eq!(aggregate(&[NoEvidence; 5]), NoEvidence);
        assert_eq!(aggregate(&[]), NoEvidence);
        // Through a claim: 4 of 5 seeds hold, 3, 1.
        let four = seeds('a', &[true, true, false, true, true]);
        let refs: Vec<&CaseEvidence> = four.iter().collect();
        for (n, f) in CASE_A_CLAIMS.iter().filter(|(n, _)| *n != 12) {
            let j = f(&refs);
            assert_eq!(j.verdict, Verdict::Holds, "claim {n}: {}", j.evidence);
            assert_eq!(j.per_seed.len(), 5);
            assert_eq!(j.per_seed[2].label, "A seed 2");
            assert_eq!(j.per_seed[2].verdict, DoesNotHold);
        }
        let three = seeds('a', &[true, true, false, true, false]);
        let refs: Vec<&CaseEvidence> = three.iter().collect();
        assert_eq!(most_fall_few_rise(&refs).verdict, Partly);
        let one = seeds('a', &[true, false, false, false, false]);
        let refs: Vec<&CaseEvidence> = one.iter().collect();
        assert_eq!(weights_grow(&refs).verdict, DoesNotHold);
    }

    #[test]
    fn evidence_shows_the_spread_over_seeds() {
        let runs: Vec<Vec<Num>> = [0.88, 0.91, 0.93]
            .iter()
            .map(|&f| {
                vec![
                    num("loss fell", f, Fmt::Pct),
                    num("rise", -0.5 + f, Fmt::Num),
                ]
            })
            .collect();
        let refs: Vec<&[Num]> = runs.iter().map(|r| r.as_slice()).collect();
        assert_eq!(
            spread(&refs),
            "loss fell median 91% (range 88%-93%); rise median 0.410 (range 0.380-0.430)"
        );
        let one = [num("x", f64::NAN, Fmt::Num), num("y", 2.0, Fmt::Times)];
        assert_eq!(spread(&[&one]), "x not measured; y 2.00x");
        let neg = [
            vec![num("d", -0.5, Fmt::Num)],
            vec![num("d", 0.25, Fmt::Num)],
        ];
        let refs: Vec<&[Num]> = neg.iter().map(|r| r.as_slice()).collect();
        assert_eq!(spread(&refs), "d median -0.125 (range -0.500 to 0.250)");
        let a = seeds('a', &[true; 5]);
        let refs: Vec<&CaseEvidence> = a.iter().collect();
        let j = most_fall_few_rise(&refs);
        assert!(
            j.evidence.starts_with(
                "case A, 5 seeds (5 hold): samples whose loss fell median 98% (range 98%-98%)"
            ),
            "{}",
            j.evidence
        );
    }

    #[test]
    fn judge_all_gives_fourteen_claims_in_order() {
        let mut cases = vec![];
        for l in ['a', 'b', 'c', 'd', 'f'] {
            cases.extend(seeds(l, &[true; 5]));
        }
        let all = judge_all(&grid(true), &grid(true), &cases, false);
        let numbers: Vec<u8> = all.iter().map(|j| j.number).collect();
        assert_eq!(numbers, (1..=14).collect::<Vec<u8>>());
        for j in &all {
            assert_eq!(j.criterion, criteria::entry(j.number).criterion);
        }
        for n in [6, 7, 8, 9, 10, 12, 13, 14] {
            let j = &all[n - 1];
            assert_eq!(j.verdict, Verdict::Holds, "claim {n}: {}", j.evidence);
            assert!(!j.per_seed.is_empty());
        }
    }
}
