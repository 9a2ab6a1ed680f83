//! The data map (Swayamdipta et al., "Dataset cartography", EMNLP
//! 2020): per sample, the confidence (mean true-class probability over
//! the epochs) against its variability (their standard deviation),
//! coloured by correctness, one panel per set, with the samples above
//! the Tukey fence at the last epoch ringed.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    draw_axes, draw_error, legend_box, png_and_svg, viridis, Axes, DrawResult, Figure, Frame, FONT,
};
use crate::error::Result;

/// The ring around a sample above the fence at the last epoch.
const RING: RGBColor = RGBColor(220, 20, 60);

/// One set's map.
#[derive(Clone, Copy, Debug)]
pub struct DataMapSet<'a> {
    /// Its name (e.g. `validation set`).
    pub name: &'a str,
    /// Mean of `exp(-loss)` per sample.
    pub confidence: &'a [f64],
    /// Standard deviation of `exp(-loss)` per sample.
    pub variability: &'a [f64],
    /// Fraction of epochs correct per sample.
    pub correctness: &'a [f64],
    /// Whether each sample is above the fence at the last epoch.
    pub above_at_end: &'a [bool],
    /// Epochs the statistics count.
    pub epochs: usize,
}

/// The data map of `sets`, side by side, into `DIR/data_map.{png,svg}`.
pub fn data_map(dir: &Path, title: &str, sets: &[DataMapSet<'_>]) -> Result<Vec<PathBuf>> {
    let width = 230 + 640 * sets.len().max(1) as u32;
    png_and_svg(dir, "data_map", (width, 680), &DataMapFig { title, sets })
}

struct DataMapFig<'a> {
    title: &'a str,
    sets: &'a [DataMapSet<'a>],
}

impl Figure for DataMapFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (w, _) = area.dim_in_pixel();
        let (plots, side) = area.split_horizontally(w.saturating_sub(150));
        let panels = plots.split_evenly((1, self.sets.len().max(1)));
        let x_hi = self.x_hi();
        for (s, a) in self.sets.iter().zip(&panels) {
            panel(a, s, x_hi)?;
        }
        colour_bar(&side)
    }
}

impl DataMapFig<'_> {
    /// The variability axis' upper end, shared by the panels.
    fn x_hi(&self) -> f64 {
        let max = (self.sets.iter())
            .flat_map(|s| s.variability.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        (max * 1.05).clamp(0.05, 0.5)
    }
}

/// The colour of a correctness.
fn colour(c: f64) -> RGBColor {
    viridis(c)
}

/// One set's panel.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &DataMapSet<'_>,
    x_hi: f64,
) -> DrawResult {
    let n = s.confidence.len();
    let ringed = s.above_at_end.iter().filter(|&&a| a).count();
    let caption = format!("{}: {n} samples over {} epochs", s.name, s.epochs);
    let frame = Frame {
        caption: &caption,
        caption_size: 16,
        margin: 15,
        x_labels: 50,
        y_labels: 60,
    };
    let mut ch = (frame.on(area))
        .build_cartesian_2d(0f64..x_hi, 0f64..1.02f64)
        .map_err(draw_error)?;
    let axes = Axes {
        x_desc: "variability: std of the true-class probability exp(-loss)",
        y_desc: "confidence: mean true-class probability",
        x_fmt: |v| format!("{v:.2}"),
        y_fmt: |v| format!("{v:.1}"),
        label_size: 13,
        grid: true,
    };
    draw_axes(&mut ch, &axes)?;
    // Most correct first, so the rarer hard samples are drawn on top.
    let finite = |i: &usize| s.variability[*i].is_finite() && s.confidence[*i].is_finite();
    let mut order: Vec<usize> = (0..n).filter(finite).collect();
    order.sort_by(|&a, &b| s.correctness[b].total_cmp(&s.correctness[a]));
    let r = if n > 20_000 { 1 } else { 2 };
    let at = |i: usize| (s.variability[i], s.confidence[i]);
    ch.draw_series(
        (order.iter()).map(|&i| Circle::new(at(i), r, colour(s.correctness[i]).mix(0.8).filled())),
    )
    .map_err(draw_error)?;
    let rings = (0..n).filter(|&i| s.above_at_end[i]).filter(finite);
    // Many rings would hide the colours: fainter the more there are.
    let ring = RING.mix((400.0 / ringed.max(1) as f64).clamp(0.2, 1.0));
    ch.draw_series(rings.map(|i| Circle::new(at(i), r + 2, ring.stroke_width(1))))
        .map_err(draw_error)?
        .label(format!(
            "above the Tukey fence at the last epoch ({ringed})"
        ))
        .legend(|(x, y)| Circle::new((x + 10, y), 5, RING.stroke_width(2)));
    legend_box(&mut ch, SeriesLabelPosition::UpperRight, 13)
}

/// A vertical, linear colour bar of correctness 0..1.
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> DrawResult {
    const STEPS: usize = 50;
    let mut cb = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(75)
        .margin_left(15)
        .margin_right(10)
        .right_y_label_area_size(90)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(draw_error)?
        .set_secondary_coord(0f64..1f64, 0f64..1f64);
    cb.configure_mesh()
        .disable_x_axis()
        .disable_y_axis()
        .disable_mesh()
        .draw()
        .map_err(draw_error)?;
    cb.configure_secondary_axes()
        .y_desc("correctness: fraction of epochs correct")
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FONT, 13))
        .draw()
        .map_err(draw_error)?;
    cb.draw_series((0..STEPS).map(|i| {
        let (lo, hi) = (i as f64 / STEPS as f64, (i + 1) as f64 / STEPS as f64);
        Rectangle::new([(0.0, lo), (1.0, hi)], colour(lo).filled())
    }))
    .map_err(draw_error)?;
    Ok(())
}
