//! The paper's figures, drawn with plotters into PNG and SVG, with an
//! embedded font (DejaVu Sans, `assets/`) so no system font is needed.
//!
//! - Fig 1/4 `curves`: loss and accuracy of the three sets per epoch,
//!   with markers at the minimum validation loss and first interpolation;
//! - Fig 2/3 `scatter`: over the runs of a sweep, final validation loss
//!   and accuracy against their values at the minimum validation loss,
//!   coloured by hidden width or by training set;
//! - Fig 5 `loss_heatmaps`: per set, the per-sample loss distribution
//!   (log bins) against iteration (log axis), colour = samples (log);
//! - Fig 6 `weight_heatmaps`: the same for the weights of each layer;
//! - Fig 7 `outliers`: validation samples ordered by the number of epochs
//!   they spent above the upper Tukey fence, with their final loss.
//!
//! - `compare`: over the runs of `preinterp compare`, a matrix of pairwise
//!   numbers and the histogram of "outlier in k of N runs".
//!
//! One file per figure; `style` holds what they share (font, colours,
//! PNG + SVG output, chart, axes, legend and colour-bar setup) and
//! `heatmap` the panel of figures 5 and 6.

mod compare;
mod curves;
mod heatmap;
mod loss_heatmaps;
mod outliers;
mod scatter;
mod style;
mod weight_heatmaps;

pub use compare::{pair_matrix, runs_hist, PairMatrix, RunsHist};
pub use curves::{curves, Marks};
pub use loss_heatmaps::loss_heatmaps;
pub use outliers::outliers;
pub use scatter::{scatter, ScatterColour, ScatterPoint};
pub use weight_heatmaps::weight_heatmaps;
