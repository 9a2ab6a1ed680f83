//! Fig 1/4: loss and accuracy of the three sets per epoch, with markers
//! at the minimum validation loss and the first interpolation.

use std::path::{Path, PathBuf};

use std::ops::Range;

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    draw_axes, draw_error, legend_box, line_key, png_and_svg, Axes, Axis, DrawResult, Figure, Fmt,
    Frame, EVAL, TRAIN, VAL,
};
use crate::analysis::Curves;
use crate::error::Result;

const MARK_MIN: RGBColor = RGBColor(148, 103, 189);
const MARK_INT: RGBColor = RGBColor(90, 90, 90);

/// What the curve figure marks.
pub struct Marks {
    /// Epoch of minimum validation loss.
    pub min_val: Option<i64>,
    /// Epoch of first interpolation.
    pub interpolation: Option<i64>,
}

/// Fig 1/4: learning curves. Returns the files written.
pub fn curves(dir: &Path, title: &str, c: &Curves, marks: &Marks) -> Result<Vec<PathBuf>> {
    let fig = CurvesFig { title, c, marks };
    png_and_svg(dir, "fig1_curves", (1400, 560), &fig)
}

struct CurvesFig<'a> {
    title: &'a str,
    c: &'a Curves,
    marks: &'a Marks,
}

/// One set's name, per-epoch values and colour.
type Series<'a> = (&'a str, &'a [f64], RGBColor);

/// One set's line: name, (epoch, value) points, colour.
struct Line<'a> {
    name: &'a str,
    pts: Vec<(f64, f64)>,
    col: RGBColor,
}

/// One of the two panels: the lines of the three sets.
struct Panel<'a, Y> {
    caption: &'a str,
    /// The y axis and its ends (for the marks).
    y_range: Y,
    lo: f64,
    hi: f64,
    y_desc: &'a str,
    y_fmt: Fmt,
    lines: Vec<Line<'a>>,
    legend: SeriesLabelPosition,
}

impl Figure for CurvesFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        let c = self.c;
        let loss: [Series; 3] = [
            ("train", &c.train_loss, TRAIN),
            ("validation", &c.val_loss, VAL),
            ("evaluation", &c.eval_loss, EVAL),
        ];
        let acc: [Series; 3] = [
            ("train", &c.train_acc, TRAIN),
            ("validation", &c.val_acc, VAL),
            ("evaluation", &c.eval_acc, EVAL),
        ];
        self.panel(&left, self.loss_panel(&loss))?;
        self.panel(&right, self.accuracy_panel(&acc))
    }
}

impl CurvesFig<'_> {
    /// Mean loss on a log axis; only positive, finite values are drawn.
    fn loss_panel<'s>(&self, sets: &[Series<'s>; 3]) -> Panel<'s, impl Axis> {
        let pos = |v: &[f64]| {
            v.iter()
                .copied()
                .filter(|x| *x > 0.0 && x.is_finite())
                .collect::<Vec<_>>()
        };
        let all: Vec<f64> = sets.iter().flat_map(|s| pos(s.1)).collect();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 2.0;
        let hi = all.iter().copied().fold(0.0f64, f64::max).max(1e-6) * 2.0;
        Panel {
            caption: "mean loss (log scale)",
            y_range: (lo..hi).log_scale(),
            lo,
            hi,
            y_desc: "cross-entropy loss (nats)",
            y_fmt: |v| format!("{v:.0e}"),
            lines: self.lines(sets, |l| l > 0.0 && l.is_finite()),
            legend: SeriesLabelPosition::LowerLeft,
        }
    }

    /// Accuracy; its lower end from all epochs but the first.
    fn accuracy_panel<'s>(&self, sets: &[Series<'s>; 3]) -> Panel<'s, Range<f64>> {
        let accs: Vec<f64> = sets
            .iter()
            .flat_map(|s| s.1.iter().skip(1).copied())
            .filter(|x| x.is_finite())
            .collect();
        let alo = (accs.iter().copied().fold(1.0f64, f64::min) - 0.02).max(0.0);
        Panel {
            caption: "accuracy",
            y_range: alo..1.005f64,
            lo: alo,
            hi: 1.005,
            y_desc: "fraction correct",
            y_fmt: |v| format!("{v:.2}"),
            lines: self.lines(sets, |_| true),
            legend: SeriesLabelPosition::LowerRight,
        }
    }

    /// The (epoch, value) points of each set, where `keep(value)`.
    fn lines<'s>(&self, sets: &[Series<'s>; 3], keep: fn(f64) -> bool) -> Vec<Line<'s>> {
        sets.iter()
            .map(|&(name, values, col)| {
                let pts = (self.c.epoch.iter().zip(values))
                    .filter(|(_, v)| keep(**v))
                    .map(|(&e, &v)| (e as f64, v))
                    .collect();
                Line { name, pts, col }
            })
            .collect()
    }

    /// Draws one panel: axes, lines, marks, legend.
    fn panel<DB, Y>(&self, area: &DrawingArea<DB, Shift>, p: Panel<'_, Y>) -> DrawResult
    where
        DB: DrawingBackend,
        Y: Axis,
    {
        let xmax = (*self.c.epoch.last().unwrap_or(&1)).max(1) as f64;
        let frame = Frame {
            caption: p.caption,
            caption_size: 18,
            margin: 15,
            x_labels: 45,
            y_labels: 70,
        };
        let mut ch = frame
            .on(area)
            .build_cartesian_2d(0f64..xmax, p.y_range)
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: "epoch",
            y_desc: p.y_desc,
            x_fmt: |v| format!("{v:.0}"),
            y_fmt: p.y_fmt,
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        for Line { name, pts, col } in p.lines {
            ch.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                .map_err(draw_error)?
                .label(name)
                .legend(line_key(col.stroke_width(2)));
        }
        draw_marks(&mut ch, self.marks, p.lo, p.hi)?;
        legend_box(&mut ch, p.legend, 14)
    }
}

/// Dashed vertical lines at the marked epochs, from `lo` to `hi`.
fn draw_marks<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    ch: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    marks: &Marks,
    lo: f64,
    hi: f64,
) -> DrawResult {
    for (e, col, what) in [
        (marks.min_val, MARK_MIN, "min validation loss"),
        (marks.interpolation, MARK_INT, "first interpolation"),
    ] {
        if let Some(e) = e {
            let label = format!("{what} (epoch {e})");
            ch.draw_series(DashedLineSeries::new(
                vec![(e as f64, lo), (e as f64, hi)],
                8,
                5,
                col.stroke_width(2),
            ))
            .map_err(draw_error)?
            .label(label)
            .legend(line_key(col.stroke_width(2)));
        }
    }
    Ok(())
}
