//! The criteria the paper's claims are judged by, in one table: for
//! each claim its number, the paper's words, the criterion in words,
//! its thresholds as named numbers and the evidence it reads. The
//! claim functions in [`super::claims`] read their thresholds from the
//! constants named here, which are the table's numbers.
//!
//! The table is versioned by [`version`], a hash over every entry's
//! number, claim, criterion and thresholds; the report states it, and a
//! unit test pins it, so that any change of a criterion shows in
//! review.

use sha2::{Digest, Sha256};

/// One claim's criterion.
#[derive(Clone, Copy, Debug)]
pub struct Criterion {
    /// 1..=14, as numbered in the report (14 is ours, not the paper's).
    pub number: u8,
    /// What the paper says.
    pub claim: &'static str,
    /// The criterion in words.
    pub criterion: &'static str,
    /// Its thresholds, named.
    pub thresholds: &'static [(&'static str, f64)],
    /// What it reads.
    pub evidence: &'static str,
}

/// Widths up to this are "narrow" in fig2 (claims 1 and 2).
pub(crate) const NARROW_MAX_WIDTH: f64 = 20.0;
/// A share at or above this is "most" (and "the vast majority", "a
/// large majority").
pub(crate) const MOST: f64 = 0.75;
/// A share at or above this is "half".
pub(crate) const HALF: f64 = 0.5;
/// A share at or above this (and below the "holds" bar) is "partly".
pub(crate) const SOME: f64 = 0.25;
/// Rank correlation for claim 3: at least this holds, at least
/// [`WEAK_RHO`] partly; also the correlation of a "progressively
/// larger" loss in claim 6.
pub(crate) const STRONG_RHO: f64 = 0.5;
/// See [`STRONG_RHO`].
pub(crate) const WEAK_RHO: f64 = 0.2;
/// The top 1% of claims 6, 7 and 9: the 99th percentile.
pub(crate) const TOP_QUANTILE: f64 = 0.99;
/// The low quantile of claim 6: the 10th percentile.
pub(crate) const LOW_QUANTILE: f64 = 0.10;
/// Claim 6: the fewest checkpoints after the minimum-validation-loss
/// epoch a rank correlation is computed over.
pub(crate) const MIN_CHECKPOINTS: f64 = 3.0;
/// Claim 7: a series "rises" when it grows by more than this factor
/// above an earlier minimum.
pub(crate) const RISE_AT_ALL: f64 = 1.05;
/// Claim 7: ... and "only a little" when by at most this factor.
pub(crate) const RISE_LITTLE: f64 = 10.0;
/// Claim 8: the "tail weight" of a layer is this quantile of |w|.
pub(crate) const TAIL_QUANTILE: f64 = 0.999;
/// Claim 8: the training set is "mostly minimised" once its median
/// per-sample loss is below this; claim 9: a "small" final loss.
pub(crate) const SMALL_LOSS: f64 = 1e-3;
/// Claim 8: the growth after the training median falls below
/// [`SMALL_LOSS`] must be at least this share of the whole growth.
pub(crate) const LATE_GROWTH: f64 = 0.2;
/// Claim 14: a scaled rise below this share of the raw rise is "partly".
pub(crate) const SCALED_RISE_PARTLY: f64 = 0.1;
/// Claims 10 and 13: "early" is within this fraction of the epochs.
pub(crate) const EARLY: f64 = 0.25;
/// Claim 10: accuracy "stable" means it fell by less than this many
/// percentage points after the minimum.
pub(crate) const STABLE_ACC_POINTS: f64 = 0.25;
/// A claim judged per seed holds if it holds in at least this share of
/// the seeds (4 of 5).
pub(crate) const SEEDS_HOLD: f64 = 0.8;
/// ... and partly if in at least this share (2 of 5), or if every seed
/// is at least partly.
pub(crate) const SEEDS_PARTLY: f64 = 0.4;

/// The thresholds of the claims judged per seed: the seed rule.
macro_rules! per_seed {
    ($($t:expr),* $(,)?) => {
        &[$($t,)* ("seeds_hold", SEEDS_HOLD), ("seeds_partly", SEEDS_PARTLY)]
    };
}

/// Claim 6's criterion (also used by claims 10 and 12).
const C6: &str = "case A, every seed: the validation samples' losses at the minimum-validation-loss epoch vs the last epoch (per-epoch records); (1) the 10th percentile and the median fall, the 99th percentile rises and >= 75% of samples fall; (2) \"progressively larger\": of the samples strictly above the upper Tukey fence (Q3 + 1.5 IQR) at the last epoch, >= 75% have a Spearman correlation >= 0.5 between their loss and the iteration over the checkpoints after the minimum epoch (at least 3 checkpoints, else no evidence for (2)); a seed holds if (1) and (2), partly if the median falls and the 99th percentile rises; over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly";

/// Every claim's criterion, by number.
pub const TABLE: [Criterion; 14] = [
    Criterion {
        number: 1,
        claim: "Narrow models: validation loss rises and validation accuracy falls after the minimum.",
        criterion: "fig2 runs of width <= 20, from the minimum-validation-loss epoch to the final (interpolation) epoch: holds if loss rose and accuracy fell in >= 75% of them; partly if in >= 25%, or if loss rose in >= 75%",
        thresholds: &[("narrow_max_width", NARROW_MAX_WIDTH), ("most", MOST), ("some", SOME)],
        evidence: "fig2: every run's curve summary",
    },
    Criterion {
        number: 2,
        claim: "Wider models: validation loss and accuracy both rise, even before interpolation.",
        criterion: "fig2 runs of width > 20 whose validation loss and accuracy both rose from the minimum to the interpolation epoch (triangles): holds if >= 50%, partly if >= 25%",
        thresholds: &[("narrow_max_width", NARROW_MAX_WIDTH), ("half", HALF), ("some", SOME)],
        evidence: "fig2: every run's curve summary",
    },
    Criterion {
        number: 3,
        claim: "A higher minimum validation loss goes with a larger later increase.",
        criterion: "Spearman rank correlation over the fig2 runs between the minimum validation loss and its increase to the final epoch: holds if >= 0.5, partly if >= 0.2",
        thresholds: &[("strong_rho", STRONG_RHO), ("weak_rho", WEAK_RHO)],
        evidence: "fig2: every run's curve summary",
    },
    Criterion {
        number: 4,
        claim: "The behaviour holds over a wide variety of hyperparameters (fig3).",
        criterion: "fig3 runs chosen by the learning-rate grid search whose validation loss and accuracy both rose after the minimum (triangles): holds if >= 50%, partly if >= 25%",
        thresholds: &[("half", HALF), ("some", SOME)],
        evidence: "fig3: the selected runs' curve summaries",
    },
    Criterion {
        number: 5,
        claim: "It occurs more for larger models, smaller training sets and harder datasets.",
        criterion: "for each factor, fig3 configurations equal in everything else are paired; width and training-set size support the claim if the expected level (larger width, smaller set) has more triangles, or as many and a larger median validation-loss increase; the dataset supports it if Fashion-MNIST has the larger median validation-loss increase (the paper's words); holds if all three factors support it, partly if one or two",
        thresholds: &[],
        evidence: "fig3: the selected runs' curve summaries, in matched pairs",
    },
    Criterion {
        number: 6,
        claim: "For the vast majority of validation samples the loss keeps falling, while for a small minority it rises progressively.",
        criterion: C6,
        thresholds: per_seed![
            ("low_quantile", LOW_QUANTILE),
            ("top_quantile", TOP_QUANTILE),
            ("fell_share", MOST),
            ("rising_rho", STRONG_RHO),
            ("rising_share", MOST),
            ("min_checkpoints", MIN_CHECKPOINTS),
        ],
        evidence: "case A, every seed: per-epoch validation losses, checkpoint validation losses",
    },
    Criterion {
        number: 7,
        claim: "Training-set outliers rise only a little, and fall again as the set is interpolated.",
        criterion: "case A, every seed, over the log-spaced checkpoints: two series, the training set's 99th-percentile per-sample loss and its maximum; for a series T, r = max_k T[k] / min_{j<=k} T[j], the largest rise above an earlier minimum T[j*]; a series passes if r > 1.05 (it rises), r <= 10 (only a little) and its last value is below T[j*] (it falls again); a seed holds if both series pass, partly if one does; over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly",
        thresholds: per_seed![
            ("top_quantile", TOP_QUANTILE),
            ("rise_at_all", RISE_AT_ALL),
            ("rise_little", RISE_LITTLE),
        ],
        evidence: "case A, every seed: checkpoint training losses",
    },
    Criterion {
        number: 8,
        claim: "Weights grow where the validation loss rises, and even more after most training losses are minimised.",
        criterion: "case A, every seed, per layer: the weight L2 norm and the tail weight (99.9th percentile of |w| from the weight histogram, at bin resolution); c_min = the checkpoint nearest the minimum-validation-loss epoch, c_tr = the first checkpoint where the median training loss < 1e-3; (a) both measures grow from c_min to the last checkpoint in every layer; (b) both grow from the first to the last checkpoint and the growth after c_tr is >= 0.2 of that whole growth, in every layer (not met without c_tr); a seed holds if (a) and (b), partly if (a); over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly",
        thresholds: per_seed![
            ("tail_quantile", TAIL_QUANTILE),
            ("trained_median", SMALL_LOSS),
            ("late_growth", LATE_GROWTH),
        ],
        evidence: "case A, every seed: checkpoint weight norms, weight histograms and training losses",
    },
    Criterion {
        number: 9,
        claim: "Samples with extreme final loss were outliers for most of training (Fig. 7); a large majority of samples are never outliers, and end with small losses.",
        criterion: "case A, every seed, upper Tukey fence (Q3 + 1.5 IQR) of the validation losses at every epoch: (i) >= 75% of the samples with the top 1% of final losses were above the fence in at least half of the epochs; (ii) >= 75% of all samples never were; (iii) those never above it have a median final loss < 1e-3; a seed holds if all three, partly if one or two; over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly",
        thresholds: per_seed![
            ("top_quantile", TOP_QUANTILE),
            ("outlier_rows", HALF),
            ("extreme_share", MOST),
            ("never_share", MOST),
            ("small_loss", SMALL_LOSS),
        ],
        evidence: "case A, every seed: per-epoch validation losses",
    },
    Criterion {
        number: 10,
        claim: "The same holds for cases B, C and D (the appendix).",
        criterion: "for each of B, C, D and every seed: the minimum validation loss within the first quarter of training, then a higher loss at the last epoch with accuracy down by less than 0.25 points (or up), and claims 6, 8 and 9 judged on it hold (a seed is partly if any of the four holds or is partly); per case over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly; holds if all three cases hold, partly if at least one holds or is partly",
        thresholds: per_seed![
            ("early", EARLY),
            ("stable_acc_points", STABLE_ACC_POINTS),
        ],
        evidence: "cases B, C, D, every seed: curves, per-epoch validation losses, checkpoints",
    },
    Criterion {
        number: 11,
        claim: "MNIST and larger training sets give a lower validation loss and a higher validation accuracy (section 4.1).",
        criterion: "fig3 configurations equal in everything else are paired by dataset (MNIST vs Fashion-MNIST) and by training-set size (larger vs smaller); a pair supports the claim if the expected level (MNIST; the larger set) has both the lower minimum validation loss and the higher validation accuracy at the last epoch; holds if >= 75% of pairs support it for both factors, partly if >= 50% for each or >= 75% for one",
        thresholds: &[("pairs_hold", MOST), ("pairs_partly", HALF)],
        evidence: "fig3: the selected runs' curve summaries, in matched pairs",
    },
    Criterion {
        number: 12,
        claim: "The evaluation set behaves like the validation set.",
        criterion: "case A, every seed: claims 6 and 9 judged on the evaluation set and on the validation set alike, both from the checkpoint per-sample losses (claim 6: the checkpoint nearest the minimum-validation-loss epoch vs the last checkpoint; claim 9: checkpoints above the fence, at least half of the checkpoints); a seed holds if the evaluation verdicts equal the validation verdicts for both claims, partly if for one; over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly",
        thresholds: per_seed![],
        evidence: "case A, every seed: checkpoint validation and evaluation losses",
    },
    Criterion {
        number: 13,
        claim: "The minimum validation loss comes early in training.",
        criterion: "every case (A, B, C, D and the Fig. 1 model) and seed: the epoch of the minimum validation loss is within the first 25% of the epochs trained; holds if in every run, partly if in >= 75%",
        thresholds: &[("early", EARLY), ("most", MOST)],
        evidence: "every case and seed: curves",
    },
    Criterion {
        number: 14,
        claim: "Not the paper's: the rise of the validation loss is over-confidence (Guo et al. 2017), not lost knowledge: at each epoch's best temperature T* the validation loss does not rise.",
        criterion: "cases A, B, C, D, every seed: T* minimises the mean validation cross-entropy of logits / T at every epoch (recorded per epoch); a seed holds if the scaled loss (at T*) at the last epoch is at most its value at the epoch of the minimum raw validation loss, partly if it rose by less than 0.1 of the raw loss's rise, and has no evidence if the raw loss did not rise; per case over seeds: holds if in >= 80% of seeds, partly if in >= 40% or if every seed is at least partly; holds if all four cases hold, partly if at least one holds or is partly",
        thresholds: per_seed![("scaled_rise_partly", SCALED_RISE_PARTLY)],
        evidence: "cases A-D, every seed: the per-epoch validation calibration (/curves/val_loss_at_temperature, val_temperature)",
    },
];

/// Claim `number`'s criterion (the last entry for a number out of
/// range; the table's test checks every number is in place).
pub fn entry(number: u8) -> &'static Criterion {
    let i = usize::from(number).saturating_sub(1).min(TABLE.len() - 1);
    &TABLE[i]
}

/// The text [`version`] hashes: per entry its number, claim, criterion
/// and `name=value` thresholds (values in Rust's shortest round-trip
/// form), one per line.
fn canonical() -> String {
    let mut s = String::new();
    for c in &TABLE {
        s.push_str(&format!("{}\n{}\n{}\n", c.number, c.claim, c.criterion));
        for (name, v) in c.thresholds {
            s.push_str(&format!("{name}={v:?}\n"));
        }
    }
    s
}

/// The criteria's version: the first 12 hex digits of the SHA-256 of
/// every entry's number, claim, criterion and thresholds.
pub fn version() -> String {
    let digest = Sha256::digest(canonical().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_in_order() {
        for (i, c) in TABLE.iter().enumerate() {
            assert_eq!(usize::from(c.number), i + 1);
            assert_eq!(entry(c.number).number, c.number);
        }
    }

    /// Changing a criterion changes this hash: update it in the same
    /// commit, so the change shows in review.
    #[test]
    fn version_is_pinned() {
        assert_eq!(version(), "053abd7a087c");
    }
}
