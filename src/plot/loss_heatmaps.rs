//! Fig 5: per set, the per-sample loss distribution (log bins) against
//! iteration (log axis), colour = samples (log).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::heatmap::{heatmap_panel, Heatmap};
use super::style::{png_and_svg, DrawResult, Figure};
use crate::error::Result;
use crate::record::read::Hist;

/// Fig 5: per-sample loss distributions against iteration, one panel
/// per set.
pub(crate) fn loss_heatmaps(
    dir: &Path,
    title: &str,
    iterations: &[i64],
    hists: &[Hist; 3],
) -> Result<Vec<PathBuf>> {
    let fig = LossHeatmaps {
        title,
        iterations,
        hists,
    };
    png_and_svg(dir, "fig5_loss_heatmaps", (1950, 620), &fig)
}

struct LossHeatmaps<'a> {
    title: &'a str,
    iterations: &'a [i64],
    hists: &'a [Hist; 3],
}

impl Figure for LossHeatmaps<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let panels = area.split_evenly((1, 3));
        let names = ["training set", "validation set", "evaluation set"];
        for ((area, h), name) in panels.iter().zip(self.hists).zip(names) {
            loss_panel(area, self.iterations, h, name)?;
        }
        Ok(())
    }
}

/// The panel of one set. Its histogram has log bins, with an underflow
/// bin (drawn one bin below) and an overflow bin (one bin above).
fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    iterations: &[i64],
    h: &Hist,
    name: &str,
) -> DrawResult {
    let lo_in = h.lower.get(1).copied().unwrap_or(1e-8);
    let hi_in = h
        .upper
        .get(h.bins.saturating_sub(2))
        .copied()
        .unwrap_or(1e3);
    let step = (h.upper[1] / h.lower[1]).max(1.0001);
    let y_edge = |b: usize| -> (f64, f64) {
        if b == 0 {
            (lo_in / step, lo_in)
        } else if b + 1 == h.bins {
            (hi_in, hi_in * step)
        } else {
            (h.lower[b], h.upper[b])
        }
    };
    heatmap_panel(
        area,
        Heatmap {
            caption: &format!("{name}: per-sample loss"),
            iterations,
            hist: h,
            y_range: (lo_in / step..hi_in * step).log_scale(),
            y_desc: &format!(
                "loss (nats); bottom row < {lo_in:.0e} incl. 0, top row >= {hi_in:.0e}"
            ),
            y_fmt: |v| format!("{v:.0e}"),
            y_edge: &y_edge,
            what: "samples",
        },
    )
}
