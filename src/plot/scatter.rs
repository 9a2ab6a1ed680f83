//! Figs 2/3: over the runs of a sweep, the final validation loss and
//! accuracy against their values at the minimum validation loss,
//! coloured by hidden width or by training set.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    colour_bar, draw_axes, draw_error, legend_box, line_key, png_and_svg, viridis, Axes, Axis,
    ColourBar, DrawResult, Figure, Fmt, Frame, BAR_STEPS, FONT, PALETTE,
};
use crate::error::Result;

/// One run in a sweep scatter plot.
#[derive(Clone, Debug)]
pub struct ScatterPoint {
    /// Validation loss at its minimum.
    pub min_loss: f64,
    /// Validation loss at the final epoch.
    pub final_loss: f64,
    /// Validation accuracy at the minimum-validation-loss epoch.
    pub min_acc: f64,
    /// Validation accuracy at the final epoch.
    pub final_acc: f64,
    /// Hidden width (colour of figure 2).
    pub width: usize,
    /// Dataset and training-set size (colour of figure 3).
    pub train_set: String,
    /// Loss and accuracy both rose: drawn as a triangle.
    pub triangle: bool,
}

/// How scatter points are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterColour {
    /// By hidden width, log colour bar (figure 2).
    Width,
    /// By training set, legend (figure 3).
    TrainSet,
}

/// Figures 2 and 3: final against minimum-validation-loss values of
/// every run, loss and accuracy, coloured by width or by training set.
pub fn scatter(
    dir: &Path,
    name: &str,
    title: &str,
    pts: &[ScatterPoint],
    mode: ScatterColour,
) -> Result<Vec<PathBuf>> {
    let fig = Scatter {
        title,
        pts,
        key: Key::new(pts, mode),
    };
    png_and_svg(dir, name, (1500, 640), &fig)
}

struct Scatter<'a> {
    title: &'a str,
    pts: &'a [ScatterPoint],
    key: Key,
}

/// What one panel shows.
struct Quantity {
    what: &'static str,
    unit: &'static str,
    is_loss: bool,
    /// (at the minimum validation loss, final) of a run.
    of: fn(&ScatterPoint) -> (f64, f64),
}

const LOSS: Quantity = Quantity {
    what: "validation loss",
    unit: "nats",
    is_loss: true,
    of: |p| (p.min_loss, p.final_loss),
};

const ACCURACY: Quantity = Quantity {
    what: "validation accuracy",
    unit: "fraction",
    is_loss: false,
    of: |p| (p.min_acc, p.final_acc),
};

/// Both axes of a panel (they are the same).
struct Scale {
    lo: f64,
    hi: f64,
    unit: String,
    fmt: Fmt,
}

impl Figure for Scatter<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (w, _) = area.dim_in_pixel();
        let (plots, side) = area.split_horizontally(w.saturating_sub(230));
        let (left, right) = plots.split_horizontally(plots.dim_in_pixel().0 / 2);
        self.panel(&left, &LOSS)?;
        self.panel(&right, &ACCURACY)?;
        self.key.draw(&side)
    }
}

impl Scatter<'_> {
    /// One panel: a log scale for losses spanning more than a factor 20,
    /// else a linear one.
    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, q: &Quantity) -> DrawResult {
        let xs: Vec<f64> = (self.pts.iter())
            .flat_map(|p| {
                let (x, y) = (q.of)(p);
                [x, y]
            })
            .filter(|v| v.is_finite())
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if q.is_loss && hi / lo.max(1e-12) > 20.0 {
            let (lo, hi) = (lo.max(1e-12) / 1.3, hi * 1.3);
            let unit = format!("{}, log", q.unit);
            let scale = Scale {
                lo,
                hi,
                unit,
                fmt: |v| format!("{v:.2}"),
            };
            self.draw_panel(area, q, &scale, (lo..hi).log_scale())
        } else {
            let pad = ((hi - lo) * 0.08).max(1e-3);
            let top = if q.is_loss {
                hi + pad
            } else {
                (hi + pad).min(1.0 + pad)
            };
            let (lo, hi) = (lo - pad, top);
            let scale = Scale {
                lo,
                hi,
                unit: q.unit.to_string(),
                fmt: |v| format!("{v:.3}"),
            };
            self.draw_panel(area, q, &scale, lo..hi)
        }
    }

    /// Draws a panel with `range` on both axes: the diagonal, the runs
    /// (triangles where loss and accuracy both rose) and the legend.
    fn draw_panel<DB, R>(
        &self,
        area: &DrawingArea<DB, Shift>,
        q: &Quantity,
        s: &Scale,
        range: R,
    ) -> DrawResult
    where
        DB: DrawingBackend,
        R: Axis + Clone,
    {
        let what = q.what;
        let caption = format!("{what}: final (y) against at the minimum validation loss (x)");
        let frame = Frame {
            caption: &caption,
            caption_size: 15,
            margin: 15,
            x_labels: 45,
            y_labels: 70,
        };
        let mut ch = (frame.on(area))
            .build_cartesian_2d(range.clone(), range)
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: &format!("{what} at the minimum ({})", s.unit),
            y_desc: &format!("final {what} ({})", s.unit),
            x_fmt: s.fmt,
            y_fmt: s.fmt,
            label_size: 13,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        let diagonal = vec![(s.lo, s.lo), (s.hi, s.hi)];
        let grey = BLACK.mix(0.6).stroke_width(1);
        ch.draw_series(DashedLineSeries::new(diagonal, 6, 4, grey))
            .map_err(draw_error)?
            .label("y = x")
            .legend(line_key(grey));
        let (rose, other): (Vec<&ScatterPoint>, Vec<&ScatterPoint>) =
            self.pts.iter().partition(|p| p.triangle);
        let colour = |p: &ScatterPoint| self.key.colour(p).filled();
        ch.draw_series(other.iter().map(|p| Circle::new((q.of)(p), 5, colour(p))))
            .map_err(draw_error)?;
        ch.draw_series(
            rose.iter()
                .map(|p| TriangleMarker::new((q.of)(p), 7, colour(p))),
        )
        .map_err(draw_error)?
        .label("loss and accuracy both rose")
        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, BLACK.filled()));
        legend_box(&mut ch, SeriesLabelPosition::LowerRight, 13)
    }
}

/// The colour of each run, and the key drawn beside the panels.
struct Key {
    mode: ScatterColour,
    /// Smallest and largest hidden width (for the colour bar).
    widths: (usize, usize),
    /// ln of the colour bar's ends.
    ln_widths: (f64, f64),
    /// The training sets, sorted: each gets the palette colour of its place.
    sets: Vec<String>,
}

impl Key {
    fn new(pts: &[ScatterPoint], mode: ScatterColour) -> Self {
        let (wmin, wmax) = pts.iter().fold((usize::MAX, 1usize), |(a, b), p| {
            (a.min(p.width), b.max(p.width))
        });
        let ln_widths = ((wmin.max(1) as f64).ln(), (wmax.max(2) as f64).ln());
        let mut sets: Vec<String> = pts.iter().map(|p| p.train_set.clone()).collect();
        sets.sort();
        sets.dedup();
        Key {
            mode,
            widths: (wmin, wmax),
            ln_widths,
            sets,
        }
    }

    /// Position of ln(width) on the colour bar, 0 to 1.
    fn width_t(&self, ln_width: f64) -> f64 {
        let (lw0, lw1) = self.ln_widths;
        (ln_width - lw0) / (lw1 - lw0).max(1e-9)
    }

    fn colour(&self, p: &ScatterPoint) -> RGBColor {
        match self.mode {
            ScatterColour::Width => viridis(self.width_t((p.width as f64).ln())),
            ScatterColour::TrainSet => {
                let k = self.sets.iter().position(|s| s == &p.train_set);
                PALETTE[k.unwrap_or(0) % PALETTE.len()]
            }
        }
    }

    /// The colour bar of the widths, or the list of training sets.
    fn draw<DB: DrawingBackend>(&self, side: &DrawingArea<DB, Shift>) -> DrawResult {
        match self.mode {
            ScatterColour::Width => {
                let (lw0, lw1) = self.ln_widths;
                let band = |i: usize| {
                    let a = lw0 + (lw1 - lw0) * i as f64 / BAR_STEPS as f64;
                    let b = lw0 + (lw1 - lw0) * (i + 1) as f64 / BAR_STEPS as f64;
                    ((a.exp(), b.exp()), viridis(self.width_t(a)))
                };
                let (wmin, wmax) = self.widths;
                let bar = ColourBar {
                    margins: [60, 60, 20, 30],
                    label_area: 110,
                    range: wmin.max(1) as f64..wmax.max(2) as f64,
                    desc: "hidden width (log)",
                    label_size: 13,
                    band: &band,
                };
                colour_bar(side, &bar)
            }
            ScatterColour::TrainSet => {
                side.draw(&Text::new("training set", (10, 70), (FONT, 15)))
                    .map_err(draw_error)?;
                for (k, s) in self.sets.iter().enumerate() {
                    let y = 100 + 26 * k as i32;
                    let col = PALETTE[k % PALETTE.len()];
                    side.draw(&Circle::new((20, y), 6, col.filled()))
                        .map_err(draw_error)?;
                    side.draw(&Text::new(s.clone(), (34, y - 8), (FONT, 14)))
                        .map_err(draw_error)?;
                }
                Ok(())
            }
        }
    }
}
