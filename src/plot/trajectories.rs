//! Loss trajectories: the per-epoch loss of a few dozen validation
//! samples (groups such as the highest final losses, the median ones and
//! a random draw, one colour each) on a log axis, with the mean (and
//! median) validation loss over all samples.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    draw_axes, draw_error, legend_box, line_key, png_and_svg, Axes, DrawResult, Figure, Frame,
    PALETTE,
};
use crate::error::Result;

/// The lowest loss drawn; smaller ones (and exact zeros) sit on it.
pub(crate) const FLOOR: f64 = 1e-16;

/// Colours of the groups, in order.
const GROUP_COLOURS: [RGBColor; 5] = [PALETTE[1], PALETTE[0], PALETTE[2], PALETTE[3], PALETTE[4]];

/// Samples drawn in one colour.
#[derive(Clone, Debug)]
pub struct TrajectoryGroup {
    /// Legend text.
    pub label: String,
    /// Column indices of the samples.
    pub samples: Vec<usize>,
}

/// What the trajectory figure draws.
#[derive(Clone, Copy, Debug)]
pub struct Trajectories<'a> {
    /// The epoch of each row.
    pub epochs: &'a [i64],
    /// Samples per row.
    pub n: usize,
    /// Losses, `epochs.len() x n`, row-major.
    pub loss: &'a [f32],
    /// The samples to draw, by group.
    pub groups: &'a [TrajectoryGroup],
    /// Mean loss over all samples, per row.
    pub mean: &'a [f64],
    /// Median loss over all samples, per row, if known.
    pub median: Option<&'a [f64]>,
}

/// The trajectory figure, into `DIR/trajectories.{png,svg}`.
pub fn trajectories(dir: &Path, title: &str, t: &Trajectories<'_>) -> Result<Vec<PathBuf>> {
    png_and_svg(dir, "trajectories", (1300, 700), &TrajFig { title, t })
}

struct TrajFig<'a> {
    title: &'a str,
    t: &'a Trajectories<'a>,
}

impl TrajFig<'_> {
    /// Sample `i`'s loss at every row.
    fn column(&self, i: usize) -> impl Iterator<Item = (i64, f64)> + '_ {
        let t = self.t;
        (t.epochs.iter().enumerate()).map(move |(r, &e)| (e, t.loss[r * t.n + i] as f64))
    }

    /// The y range: every value drawn, at least [`FLOOR`], widened;
    /// and whether some value lies below it (exact zeros).
    fn y_range(&self) -> (f64, f64, bool) {
        let t = self.t;
        let drawn = (t.groups.iter())
            .flat_map(|g| g.samples.iter())
            .flat_map(|&i| self.column(i).map(|(_, v)| v))
            .chain(t.mean.iter().copied())
            .chain(t.median.into_iter().flatten().copied())
            .filter(|v| v.is_finite());
        let (min, lo, hi) = drawn.fold((f64::INFINITY, f64::INFINITY, 0.0f64), |(m, lo, hi), v| {
            (m.min(v), if v > 0.0 { lo.min(v) } else { lo }, hi.max(v))
        });
        let lo = (lo / 2.0).clamp(FLOOR, 0.1);
        (lo, hi.max(1.0) * 2.0, min < lo)
    }
}

impl Figure for TrajFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let t = self.t;
        let (lo, hi, clamped) = self.y_range();
        let last = t.epochs.last().copied().unwrap_or(1).max(1) as f64;
        let frame = Frame {
            caption: "per-sample validation loss per epoch (log scale)",
            caption_size: 16,
            margin: 15,
            x_labels: 50,
            y_labels: 80,
        };
        let mut ch = (frame.on(area))
            .build_cartesian_2d(0f64..last, (lo..hi).log_scale())
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: "epoch",
            y_desc: &if clamped {
                format!("cross-entropy loss (nats; below {lo:.0e}, zeros too, drawn at it)")
            } else {
                "cross-entropy loss (nats)".to_string()
            },
            x_fmt: |v| format!("{v:.0}"),
            y_fmt: |v| format!("{v:.0e}"),
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        let clamp = |(e, v): (i64, f64)| (e as f64, v.max(lo));
        for (g, col) in t.groups.iter().zip(GROUP_COLOURS.iter().cycle()) {
            let style = col.mix(0.55).stroke_width(1);
            for (k, &i) in g.samples.iter().enumerate() {
                let s = ch
                    .draw_series(LineSeries::new(self.column(i).map(clamp), style))
                    .map_err(draw_error)?;
                if k == 0 {
                    let key = col.stroke_width(3);
                    s.label(format!("{} ({})", g.label, g.samples.len()))
                        .legend(line_key(key));
                }
            }
        }
        let rows = |v: &'_ [f64]| {
            (t.epochs.iter().zip(v.iter().copied()))
                .map(|(&e, x)| (e, x))
                .map(clamp)
                .collect::<Vec<_>>()
        };
        let mean = BLACK.stroke_width(3);
        ch.draw_series(LineSeries::new(rows(t.mean), mean))
            .map_err(draw_error)?
            .label("mean validation loss (all samples)")
            .legend(line_key(mean));
        if let Some(m) = t.median {
            let dashed = BLACK.mix(0.7).stroke_width(2);
            ch.draw_series(DashedLineSeries::new(rows(m), 8, 5, dashed))
                .map_err(draw_error)?
                .label("median validation loss (all samples)")
                .legend(line_key(dashed));
        }
        legend_box(&mut ch, SeriesLabelPosition::LowerLeft, 14)
    }
}
