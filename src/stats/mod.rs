//! The statistics preinterp computes, in one place, each following
//! numpy's or scipy's convention:
//!
//! - [`quantile`]: linear interpolation between order statistics
//!   (numpy's default, `method="linear"`); [`nan_quantile`] skips NaN
//!   (`numpy.nanquantile`). An empty input gives NaN.
//! - [`rank`]: average ranks for ties (`scipy.stats.rankdata`), Pearson's
//!   and Spearman's correlations (`scipy.stats.pearsonr`,
//!   `scipy.stats.spearmanr`). Fewer than two points or a constant
//!   variable give `None` (scipy gives NaN there).
//! - [`loss`]: the robust statistics of one epoch's per-sample losses
//!   (quartiles, Tukey fence, trimmed mean), by selection rather than a
//!   full sort, and their per-epoch series.
//! - [`calibration`]: temperature scaling (the `T*` minimising the mean
//!   cross-entropy of `logits / T`, as Guo et al. 2017 and scipy's
//!   bounded scalar minimiser on `log T`), the expected calibration error
//!   over 15 equal-width bins (`np.ceil(p * 15) - 1`), and the loss split
//!   over correct and wrong samples.
//!
//! NaN: [`quantile_sorted`] expects values sorted by [`f64::total_cmp`]
//! (NaN last) and interpolates them as they are; [`nan_quantile`] drops
//! NaN first. [`average_ranks`] ranks NaN after `+inf` (scipy would
//! propagate it); a NaN reaching [`pearson`] gives `None`.
//!
//! Callers decide what `None` becomes: claim 3 also refuses fewer than
//! three pairs (`paper::claims::spearman`), and `compare` stores NaN.

pub mod calibration;
pub mod loss;
pub(crate) mod quantile;
pub(crate) mod rank;

pub use calibration::{Calibration, Calibrator};
pub use loss::{loss_stats, RobustCurves};
pub(crate) use quantile::{nan_quantile, quantile_sorted};
pub use rank::{average_ranks, pearson, spearman};
