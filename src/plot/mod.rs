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
//!   they spent above the upper Tukey fence, with their final loss;
//! - `data_map`: per sample, confidence against variability of the
//!   true-class probability, coloured by correctness, validation and
//!   training side by side, samples above the fence at the end ringed;
//! - `gallery`: samples as 28x28 images with label, prediction, loss and
//!   outlier epochs, in sections (also used by `compare`);
//! - `trajectories`: the per-epoch loss of a few dozen validation
//!   samples on a log axis, with the mean and median validation loss;
//! - `calibration`: the validation loss raw and at each epoch's best
//!   temperature `T*`, with `T*` and the expected calibration error; and
//!   `reliability`, its reliability diagrams at the minimum validation
//!   loss and at the last epoch.
//!
//! - `compare`: over the runs of `preinterp compare`, a matrix of pairwise
//!   numbers and the histogram of "outlier in k of N runs".
//!
//! One file per figure; `style` holds what they share (font, colours,
//! PNG + SVG output, chart, axes, legend and colour-bar setup) and
//! `heatmap` the panel of figures 5 and 6.

mod calibration;
mod compare;
mod curves;
mod data_map;
mod gallery;
mod heatmap;
mod loss_heatmaps;
mod outliers;
mod scatter;
mod seed_bands;
mod style;
mod trajectories;
mod weight_heatmaps;
pub(crate) use calibration::{calibration, reliability};
pub(crate) use compare::{pair_matrix, runs_hist, PairMatrix, RunsHist};
pub use curves::{curves, Marks};
pub use data_map::{data_map, DataMapSet};
pub(crate) use gallery::{gallery_sections, GalleryItem, GallerySection};
pub(crate) use loss_heatmaps::loss_heatmaps;
pub use outliers::outliers;
pub use scatter::{scatter, ScatterColour, ScatterPoint};
pub use seed_bands::{seed_bands, SeedCurves};
pub use trajectories::{trajectories, Trajectories, TrajectoryGroup};
pub(crate) use weight_heatmaps::weight_heatmaps;
