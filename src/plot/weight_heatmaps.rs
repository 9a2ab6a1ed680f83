//! Fig 6: the distribution of the weights of each layer against
//! iteration (log axis), colour = weights (log).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::heatmap::{heatmap_panel, Heatmap};
use super::style::{png_and_svg, DrawResult, Figure};
use crate::error::Result;
use crate::record::read::Hist;

/// Panels per row.
const COLS: usize = 2;

/// Fig 6: weight-value distributions against iteration, one panel per
/// layer.
pub(crate) fn weight_heatmaps(
    dir: &Path,
    title: &str,
    iterations: &[i64],
    hists: &[Hist],
) -> Result<Vec<PathBuf>> {
    let rows = hists.len().div_ceil(COLS) as u32;
    let fig = WeightHeatmaps {
        title,
        iterations,
        hists,
    };
    png_and_svg(dir, "fig6_weight_heatmaps", (1500, 80 + 460 * rows), &fig)
}

struct WeightHeatmaps<'a> {
    title: &'a str,
    iterations: &'a [i64],
    hists: &'a [Hist],
}

impl Figure for WeightHeatmaps<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let rows = self.hists.len().div_ceil(COLS);
        let panels = area.split_evenly((rows, COLS));
        let last = self.hists.len().saturating_sub(1);
        for (l, (area, h)) in panels.iter().zip(self.hists).enumerate() {
            let name = if l == last {
                "output layer".to_string()
            } else {
                format!("hidden layer {}", l + 1)
            };
            weight_panel(area, self.iterations, h, &name)?;
        }
        Ok(())
    }
}

/// The panel of one layer. Its histogram has linear bins, with an
/// underflow and an overflow bin drawn one bin beyond the range.
fn weight_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    iterations: &[i64],
    h: &Hist,
    name: &str,
) -> DrawResult {
    let lo = h.lower[1];
    let hi = h.upper[h.bins - 2];
    let step = h.upper[1] - h.lower[1];
    let y_edge = |b: usize| -> (f64, f64) {
        if b == 0 {
            (lo - step, lo)
        } else if b + 1 == h.bins {
            (hi, hi + step)
        } else {
            (h.lower[b], h.upper[b])
        }
    };
    heatmap_panel(
        area,
        Heatmap {
            caption: &format!("{name}: weight values"),
            iterations,
            hist: h,
            y_range: (lo - step)..(hi + step),
            y_desc: "weight (outer rows: beyond the range)",
            y_fmt: |v| format!("{v:.2}"),
            y_edge: &y_edge,
            what: "weights",
        },
    )
}
