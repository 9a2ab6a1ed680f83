//! Calibration per epoch (issue 20), two figures of one run:
//!
//! - `calibration`, four panels against epoch, the epochs of the minimum
//!   raw and scaled loss marked in each: the validation set's mean loss,
//!   raw (`T = 1`) and at each epoch's best temperature `T*`, on a log
//!   axis, with `T*` on a second axis; the expected calibration error of
//!   every calibrated set; the logits' scale (mean largest logit and mean
//!   margin of the correctly and the wrongly classified samples); and the
//!   misclassified samples' share of the loss and mean loss;
//! - `reliability`: reliability diagrams (accuracy against confidence
//!   per bin, the gap to the bin's mean confidence, the diagonal) with
//!   the samples per bin below, at the minimum of the raw loss and at
//!   the last epoch.
//!
//! A run calibrated on the evaluation set alone (`--val-size 0`) is drawn
//! from that set.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    dash_key, draw_axes, draw_error, legend_box, line_key, png_and_svg, Axes, Axis, DrawResult,
    Figure, Fmt, Frame, EVAL, FONT, PALETTE, VAL,
};
use crate::analysis::{first_min, Curves};
use crate::error::Result;
use crate::record::read::{Calibrations, SetCalibration};
use crate::stats::calibration::{Status, ECE_BINS};

/// The loss at `T*`.
const SCALED: RGBColor = RGBColor(40, 40, 40);
/// `T*` (right axis).
const TEMPERATURE: RGBColor = RGBColor(255, 127, 14);
/// The epoch of the minimum raw loss (as in figure 1).
const MARK_RAW: RGBColor = RGBColor(148, 103, 189);
/// The epoch of the minimum loss at `T*`.
const MARK_SCALED: RGBColor = RGBColor(90, 90, 90);
/// The mean largest logit.
const LOGIT: RGBColor = PALETTE[5];
/// The mean margin.
const MARGIN: RGBColor = PALETTE[7];
/// Space left on each side of a bin's bar (in confidence).
const SEP: f64 = 0.002;
/// The gap between a bin's accuracy and its mean confidence.
const GAP: RGBColor = RGBColor(120, 120, 120);

/// One calibrated set as drawn.
struct Shown<'a> {
    /// `validation` or `evaluation`.
    name: &'static str,
    colour: RGBColor,
    /// The raw mean loss per epoch (`/curves/<set>_loss`).
    raw: &'a [f64],
    cal: &'a SetCalibration,
}

/// The calibrated sets of the run, the validation set first.
fn shown<'a>(c: &'a Curves, cals: &'a Calibrations) -> Vec<Shown<'a>> {
    [
        ("validation", VAL, &c.val_loss, &cals.val),
        ("evaluation", EVAL, &c.eval_loss, &cals.eval),
    ]
    .into_iter()
    .filter_map(|(name, colour, raw, cal)| {
        cal.as_ref().map(|cal| Shown {
            name,
            colour,
            raw,
            cal,
        })
    })
    .collect()
}

/// `calibration`: the raw and scaled loss with `T*`, the ECE, the
/// logits' scale and the misclassified samples. Returns the files written (none when no set is calibrated or no
/// epoch recorded).
pub(crate) fn calibration(
    dir: &Path,
    title: &str,
    c: &Curves,
    cals: &Calibrations,
) -> Result<Vec<PathBuf>> {
    let sets = shown(c, cals);
    if sets.is_empty() || c.is_empty() {
        return Ok(vec![]);
    }
    let fig = CalibrationFig {
        title,
        epoch: &c.epoch,
        sets,
    };
    png_and_svg(dir, "calibration", (1500, 1000), &fig)
}

/// `reliability`: reliability diagrams at the minimum of the raw loss
/// and at the last epoch. Returns the files written (none when no set is
/// calibrated or no epoch recorded).
pub(crate) fn reliability(
    dir: &Path,
    title: &str,
    c: &Curves,
    cals: &Calibrations,
) -> Result<Vec<PathBuf>> {
    let Some(set) = shown(c, cals).into_iter().next() else {
        return Ok(vec![]);
    };
    if c.is_empty() {
        return Ok(vec![]);
    }
    let fig = ReliabilityFig {
        title,
        epoch: &c.epoch,
        rows: diagram_rows(set.raw, c.len()),
        set,
    };
    png_and_svg(dir, "reliability", (1300, 720), &fig)
}

/// The rows the reliability diagrams show, with what each is: the
/// minimum of the raw loss (when any is finite) and the last of `n`.
fn diagram_rows(raw: &[f64], n: usize) -> Vec<(usize, &'static str)> {
    let min = first_min(&raw[..raw.len().min(n)]);
    min.map(|r| (r, "minimum raw loss"))
        .into_iter()
        .chain(n.checked_sub(1).map(|r| (r, "last epoch")))
        .collect()
}

/// `(epoch, value)` of the rows where `keep(value)`.
fn points(epoch: &[i64], values: &[f64], keep: fn(f64) -> bool) -> Vec<(f64, f64)> {
    epoch
        .iter()
        .zip(values)
        .filter(|(_, v)| keep(**v))
        .map(|(&e, &v)| (e as f64, v))
        .collect()
}

fn positive(v: f64) -> bool {
    v > 0.0 && v.is_finite()
}

fn finite(v: f64) -> bool {
    v.is_finite()
}

/// A log axis over the positive values `v`: from just below the power of
/// ten below the smallest (plotters labels ticks from the first power of
/// ten inside the axis on) to `headroom` times the largest (`0.1..10`
/// without any).
fn log_range(v: impl Iterator<Item = f64>, headroom: f64) -> (f64, f64) {
    let (lo, hi) = v.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if lo > hi {
        (0.0999, 10.0)
    } else {
        (0.999 * 10f64.powf(lo.log10().floor()), hi * headroom)
    }
}

/// The upper end of a linear axis from 0 over the values `v`: 10% above
/// their largest, and at least `floor`.
fn upper(v: impl Iterator<Item = f64>, floor: f64) -> f64 {
    v.fold(floor, f64::max) * 1.1
}

/// `x` with `digits` decimals, or `none` when it is NaN.
fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "none".into()
    }
}

/// `T*` at row `r`, or why there is none.
fn temperature(cal: &SetCalibration, r: usize) -> String {
    match cal.temperature.get(r) {
        Some(t) if t.is_finite() => format!("{t:.2}"),
        _ => {
            let status = cal
                .status
                .get(r)
                .map_or(Status::NoData, |&v| Status::from_u8(v));
            format!("none ({})", status.meaning())
        }
    }
}

struct CalibrationFig<'a> {
    title: &'a str,
    epoch: &'a [i64],
    /// The first is the one whose loss, logits and wrong samples are drawn.
    sets: Vec<Shown<'a>>,
}

/// A marked epoch: (row, colour, label).
type Mark = (usize, RGBColor, String);

/// One line of a panel.
struct Line {
    label: String,
    pts: Vec<(f64, f64)>,
    col: RGBColor,
    dashed: bool,
}

impl Line {
    /// The line of `values` over `epoch` where `keep(value)`.
    fn of(label: impl Into<String>, epoch: &[i64], values: &[f64], keep: fn(f64) -> bool) -> Line {
        Line {
            label: label.into(),
            pts: points(epoch, values, keep),
            col: BLACK,
            dashed: false,
        }
    }

    fn colour(mut self, col: RGBColor) -> Line {
        self.col = col;
        self
    }

    fn dashed(mut self) -> Line {
        self.dashed = true;
        self
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.pts.iter().map(|p| p.1)
    }
}

/// The right axis and its lines.
struct Right {
    desc: &'static str,
    fmt: Fmt,
    lines: Vec<Line>,
}

/// One panel: lines against epoch on the left axis `y` (from `lo` to
/// `hi`, for the marks), maybe more on the right axis `right_y`.
struct Panel<Y, R> {
    caption: String,
    y: Y,
    lo: f64,
    hi: f64,
    y_desc: &'static str,
    y_fmt: Fmt,
    lines: Vec<Line>,
    right_y: R,
    right: Option<Right>,
    /// Whether the marks get legend entries.
    mark_labels: bool,
    legend: SeriesLabelPosition,
}

impl Figure for CalibrationFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let cells = area.split_evenly((2, 2));
        let marks = self.marks();
        self.panel(&cells[0], &marks, self.loss_panel())?;
        self.panel(&cells[1], &marks, self.ece_panel())?;
        self.panel(&cells[2], &marks, self.logit_panel())?;
        self.panel(&cells[3], &marks, self.wrong_panel())
    }
}

impl CalibrationFig<'_> {
    fn xmax(&self) -> f64 {
        (*self.epoch.last().unwrap_or(&1)).max(1) as f64
    }

    /// The minima of the raw and the scaled loss of the first set.
    fn marks(&self) -> Vec<Mark> {
        let s = &self.sets[0];
        let n = self.epoch.len();
        let raw = first_min(&s.raw[..s.raw.len().min(n)]);
        let scaled = &s.cal.loss_at_temperature;
        let scaled = first_min(&scaled[..scaled.len().min(n)]);
        let label = |what: &str, r: usize| format!("{what} (epoch {})", self.epoch[r]);
        (raw.map(|r| (r, MARK_RAW, label("minimum raw loss", r)))
            .into_iter())
        .chain(scaled.map(|r| (r, MARK_SCALED, label("minimum loss at T*", r))))
        .collect()
    }

    /// The first set's raw and scaled loss and `T*` (right), both on log
    /// axes.
    fn loss_panel(&self) -> Panel<impl Axis, impl Axis> {
        let (s, e) = (&self.sets[0], self.epoch);
        let lines = vec![
            Line::of("raw loss (T = 1)", e, s.raw, positive).colour(s.colour),
            Line::of("loss at T*", e, &s.cal.loss_at_temperature, positive).colour(SCALED),
        ];
        let (lo, hi) = log_range(lines.iter().flat_map(Line::values), 1.5);
        let t = Line::of("T* (right axis)", e, &s.cal.temperature, positive).colour(TEMPERATURE);
        // Room above T* for the legend.
        let (t_lo, t_hi) = log_range(t.values().chain([1.0]), 8.0);
        let one = Line {
            label: "T = 1 (right axis)".into(),
            pts: vec![(0.0, 1.0), (self.xmax(), 1.0)],
            col: TEMPERATURE,
            dashed: true,
        };
        Panel {
            caption: format!("{} loss, raw and at the best temperature T*", s.name),
            y: (lo..hi).log_scale(),
            lo,
            hi,
            y_desc: "mean cross-entropy loss (nats, log scale)",
            y_fmt: |v| format!("{v:.2}"),
            right_y: (t_lo..t_hi).log_scale(),
            right: Some(Right {
                desc: "temperature T* (log scale)",
                fmt: |v| {
                    if *v >= 10.0 {
                        format!("{v:.0}")
                    } else {
                        format!("{v:.1}")
                    }
                },
                lines: vec![t, one],
            }),
            lines,
            mark_labels: true,
            legend: SeriesLabelPosition::UpperRight,
        }
    }

    /// The expected calibration error of every calibrated set.
    fn ece_panel(&self) -> Panel<Range<f64>, Range<f64>> {
        let lines: Vec<Line> = (self.sets.iter())
            .map(|s| Line::of(s.name, self.epoch, &s.cal.ece, finite).colour(s.colour))
            .collect();
        let hi = upper(lines.iter().flat_map(Line::values), 0.01);
        Panel {
            caption: format!("expected calibration error (T = 1, {ECE_BINS} confidence bins)"),
            y: 0.0..hi,
            lo: 0.0,
            hi,
            y_desc: "ECE",
            y_fmt: |v| format!("{v:.3}"),
            lines,
            right_y: 0.0..1.0,
            right: None,
            mark_labels: false,
            legend: SeriesLabelPosition::UpperRight,
        }
    }

    /// The first set's mean largest logit and mean margin, of the
    /// correctly and the wrongly classified samples.
    fn logit_panel(&self) -> Panel<Range<f64>, Range<f64>> {
        let (s, e) = (&self.sets[0], self.epoch);
        let c = s.cal;
        let lines = vec![
            Line::of("largest logit, correct", e, &c.max_logit_correct, finite).colour(LOGIT),
            Line::of(
                "largest logit, misclassified",
                e,
                &c.max_logit_wrong,
                finite,
            )
            .colour(LOGIT)
            .dashed(),
            Line::of("margin, correct", e, &c.margin_correct, finite).colour(MARGIN),
            Line::of("margin, misclassified", e, &c.margin_wrong, finite)
                .colour(MARGIN)
                .dashed(),
        ];
        let (lo, hi) = lines
            .iter()
            .flat_map(Line::values)
            .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = 0.05 * (hi - lo).max(1.0);
        Panel {
            caption: format!("{} set: the logits' scale (mean per sample)", s.name),
            y: lo - pad..hi + pad,
            lo: lo - pad,
            hi: hi + pad,
            y_desc: "logit; margin z_y - max_(j != y) z_j",
            y_fmt: |v| format!("{v:.1}"),
            lines,
            right_y: 0.0..1.0,
            right: None,
            mark_labels: false,
            legend: SeriesLabelPosition::UpperLeft,
        }
    }

    /// The misclassified samples: their share of the loss (every set)
    /// and, of the first set, their mean loss (right).
    fn wrong_panel(&self) -> Panel<Range<f64>, Range<f64>> {
        let lines = (self.sets.iter())
            .map(|s| {
                let label = format!("{}: share of the loss", s.name);
                Line::of(label, self.epoch, &s.cal.wrong_loss_share, finite).colour(s.colour)
            })
            .collect();
        let s = &self.sets[0];
        let label = format!("{}: mean loss (right axis)", s.name);
        let mean = Line::of(label, self.epoch, &s.cal.wrong_loss_mean, finite)
            .colour(SCALED)
            .dashed();
        Panel {
            caption: "the misclassified samples".into(),
            y: 0.0..1.05,
            lo: 0.0,
            hi: 1.05,
            y_desc: "share of the summed loss",
            y_fmt: |v| format!("{v:.1}"),
            right_y: 0.0..upper(mean.values(), 0.1),
            right: Some(Right {
                desc: "mean loss (nats)",
                fmt: |v| format!("{v:.1}"),
                lines: vec![mean],
            }),
            lines,
            mark_labels: false,
            legend: SeriesLabelPosition::LowerRight,
        }
    }

    /// Draws one panel: axes, lines, marks, legend.
    fn panel<DB: DrawingBackend, Y: Axis, R: Axis>(
        &self,
        area: &DrawingArea<DB, Shift>,
        marks: &[Mark],
        p: Panel<Y, R>,
    ) -> DrawResult {
        let frame = Frame {
            caption: &p.caption,
            caption_size: 17,
            margin: 12,
            x_labels: 45,
            y_labels: 70,
        };
        let mut ch = frame
            .on(area)
            .right_y_label_area_size(if p.right.is_some() { 60 } else { 0 })
            .build_cartesian_2d(0f64..self.xmax(), p.y)
            .map_err(draw_error)?
            .set_secondary_coord(0f64..self.xmax(), p.right_y);
        let axes = Axes {
            x_desc: "epoch",
            y_desc: p.y_desc,
            x_fmt: |v| format!("{v:.0}"),
            y_fmt: p.y_fmt,
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        for l in p.lines {
            let style = l.col.stroke_width(2);
            if l.dashed {
                ch.draw_series(DashedLineSeries::new(l.pts, 8, 4, style))
                    .map_err(draw_error)?
                    .label(l.label)
                    .legend(dash_key(style));
            } else {
                ch.draw_series(LineSeries::new(l.pts, style))
                    .map_err(draw_error)?
                    .label(l.label)
                    .legend(line_key(style));
            }
        }
        if let Some(r) = p.right {
            ch.configure_secondary_axes()
                .y_desc(r.desc)
                .y_label_formatter(&r.fmt)
                .label_style((FONT, 14))
                .draw()
                .map_err(draw_error)?;
            for l in r.lines {
                let style = l.col.stroke_width(2);
                if l.dashed {
                    ch.draw_secondary_series(DashedLineSeries::new(l.pts, 8, 4, style))
                        .map_err(draw_error)?
                        .label(l.label)
                        .legend(dash_key(style));
                } else {
                    ch.draw_secondary_series(LineSeries::new(l.pts, style))
                        .map_err(draw_error)?
                        .label(l.label)
                        .legend(line_key(style));
                }
            }
        }
        for (row, col, label) in marks {
            let e = self.epoch[*row] as f64;
            let style = col.stroke_width(2);
            let drawn = ch
                .draw_series(DashedLineSeries::new([(e, p.lo), (e, p.hi)], 8, 5, style))
                .map_err(draw_error)?;
            if p.mark_labels {
                drawn.label(label).legend(dash_key(style));
            }
        }
        legend_box(&mut ch, p.legend, 13)
    }
}

struct ReliabilityFig<'a> {
    title: &'a str,
    epoch: &'a [i64],
    set: Shown<'a>,
    /// The rows drawn, left to right, with what each is.
    rows: Vec<(usize, &'static str)>,
}

/// One row's reliability table.
struct Table<'a> {
    count: &'a [u64],
    accuracy: &'a [f64],
    confidence: &'a [f64],
}

impl<'a> Table<'a> {
    /// Row `r` of `cal`'s tables (empty slices past their end).
    fn of(cal: &'a SetCalibration, r: usize) -> Table<'a> {
        let bins = r * ECE_BINS..(r + 1) * ECE_BINS;
        Table {
            count: cal.bin_count.get(bins.clone()).unwrap_or(&[]),
            accuracy: cal.bin_accuracy.get(bins.clone()).unwrap_or(&[]),
            confidence: cal.bin_confidence.get(bins).unwrap_or(&[]),
        }
    }

    /// The non-empty bins: (lower edge, upper edge, samples, accuracy,
    /// mean confidence).
    fn bins(&self) -> Vec<(f64, f64, u64, f64, f64)> {
        let m = ECE_BINS as f64;
        (0..self
            .count
            .len()
            .min(self.accuracy.len())
            .min(self.confidence.len()))
            .filter(|&b| self.count[b] > 0 && self.accuracy[b].is_finite())
            .map(|b| {
                let (lo, hi) = (b as f64 / m, (b + 1) as f64 / m);
                (lo, hi, self.count[b], self.accuracy[b], self.confidence[b])
            })
            .collect()
    }
}

impl Figure for ReliabilityFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let cols = area.split_evenly((1, self.rows.len().max(1)));
        for (col, &(row, what)) in cols.iter().zip(&self.rows) {
            self.column(col, row, what)?;
        }
        Ok(())
    }
}

impl ReliabilityFig<'_> {
    /// The diagram of row `row` above its samples per bin.
    fn column<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        row: usize,
        what: &str,
    ) -> DrawResult {
        let s = &self.set;
        let cal = s.cal;
        let at = |v: &[f64]| v.get(row).copied().unwrap_or(f64::NAN);
        let caption = format!(
            "{} set, epoch {} ({what}): ECE {}, T* {}",
            s.name,
            self.epoch[row],
            fixed(at(&cal.ece), 3),
            temperature(cal, row)
        );
        let bins = Table::of(cal, row).bins();
        let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 * 7 / 10);
        self.diagram(&top, &caption, &bins)?;
        self.counts(&bottom, &bins)
    }

    /// Accuracy against confidence per bin, the gaps, the diagonal.
    fn diagram<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        bins: &[(f64, f64, u64, f64, f64)],
    ) -> DrawResult {
        let frame = Frame {
            caption,
            caption_size: 16,
            margin: 12,
            x_labels: 30,
            y_labels: 70,
        };
        let mut ch = frame
            .on(area)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: "",
            y_desc: "accuracy of the bin",
            x_fmt: |v| format!("{v:.1}"),
            y_fmt: |v| format!("{v:.1}"),
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        let col = self.set.colour;
        let bars = bins.iter().map(|&(lo, hi, _, acc, _)| {
            Rectangle::new([(lo + SEP, 0.0), (hi - SEP, acc)], col.mix(0.7).filled())
        });
        ch.draw_series(bars)
            .map_err(draw_error)?
            .label("accuracy")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.mix(0.7).filled())
            });
        let gaps = (bins.iter())
            .filter(|b| b.4.is_finite())
            .map(|&(lo, hi, _, acc, conf)| {
                Rectangle::new([(lo + SEP, acc), (hi - SEP, conf)], GAP.mix(0.35).filled())
            });
        ch.draw_series(gaps)
            .map_err(draw_error)?
            .label("gap to the mean confidence")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], GAP.mix(0.35).filled()));
        let dots = (bins.iter())
            .filter(|b| b.4.is_finite())
            .map(|&(_, _, _, acc, conf)| Circle::new((conf, acc), 3, BLACK.filled()));
        ch.draw_series(dots)
            .map_err(draw_error)?
            .label("(mean confidence, accuracy)")
            .legend(|(x, y)| Circle::new((x + 7, y), 3, BLACK.filled()));
        let style = BLACK.stroke_width(1);
        ch.draw_series(DashedLineSeries::new([(0.0, 0.0), (1.0, 1.0)], 6, 4, style))
            .map_err(draw_error)?
            .label("perfectly calibrated")
            .legend(dash_key(style));
        legend_box(&mut ch, SeriesLabelPosition::UpperLeft, 13)
    }

    /// The samples per bin (log axis).
    fn counts<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        bins: &[(f64, f64, u64, f64, f64)],
    ) -> DrawResult {
        let most = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64;
        let mut ch = ChartBuilder::on(area)
            .margin(12)
            .margin_top(0)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..1f64, (0.5..most * 2.0).log_scale())
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: "confidence (largest softmax probability at T = 1)",
            y_desc: "samples (log)",
            x_fmt: |v| format!("{v:.1}"),
            y_fmt: |v| format!("{v:.0}"),
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        let col = self.set.colour;
        ch.draw_series(bins.iter().map(|&(lo, hi, n, _, _)| {
            Rectangle::new(
                [(lo + SEP, 0.5), (hi - SEP, n as f64)],
                col.mix(0.45).filled(),
            )
        }))
        .map_err(draw_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagrams_at_the_minimum_and_the_end() {
        let raw = [2.3, 0.5, f64::NAN, 0.4, 0.6];
        assert_eq!(
            diagram_rows(&raw, 5),
            vec![(3, "minimum raw loss"), (4, "last epoch")]
        );
        // Only the rows recorded count.
        assert_eq!(
            diagram_rows(&raw, 2),
            vec![(1, "minimum raw loss"), (1, "last epoch")]
        );
        // No finite loss: only the end.
        assert_eq!(diagram_rows(&[f64::NAN], 1), vec![(0, "last epoch")]);
        assert!(diagram_rows(&[], 0).is_empty());
    }

    #[test]
    fn a_table_row_keeps_its_non_empty_bins_and_never_reads_past_the_end() {
        let mut cal = SetCalibration {
            bin_count: vec![0; 2 * ECE_BINS],
            bin_accuracy: vec![f64::NAN; 2 * ECE_BINS],
            bin_confidence: vec![f64::NAN; 2 * ECE_BINS],
            ..SetCalibration::default()
        };
        let last = 2 * ECE_BINS - 1;
        cal.bin_count[last] = 7;
        cal.bin_accuracy[last] = 0.9;
        cal.bin_confidence[last] = 0.97;
        assert!(Table::of(&cal, 0).bins().is_empty());
        let b = Table::of(&cal, 1).bins();
        assert_eq!(b.len(), 1);
        let (lo, hi, n, acc, conf) = b[0];
        assert!((lo - 14.0 / 15.0).abs() < 1e-12 && hi == 1.0);
        assert_eq!((n, acc, conf), (7, 0.9, 0.97));
        assert!(Table::of(&cal, 5).bins().is_empty());
    }

    #[test]
    fn axes_cover_the_values() {
        let (lo, hi) = log_range([0.3, 3.0].into_iter(), 1.5);
        assert!((lo - 0.0999).abs() < 1e-12 && hi == 4.5);
        assert_eq!(log_range([1.0, 2.0].into_iter(), 2.0), (0.999, 4.0));
        assert_eq!(log_range(std::iter::empty(), 1.5), (0.0999, 10.0));
        assert!((upper([0.5, 2.0].into_iter(), 1.0) - 2.2).abs() < 1e-12);
        assert!((upper(std::iter::empty(), 1.0) - 1.1).abs() < 1e-12);
        assert_eq!(
            (fixed(1.23456, 2), fixed(f64::NAN, 2)),
            ("1.23".into(), "none".into())
        );
    }

    #[test]
    fn a_missing_temperature_says_why() {
        let cal = SetCalibration {
            temperature: vec![1.5, f64::NAN],
            status: vec![Status::Ok as u8, Status::BelowRange as u8],
            ..SetCalibration::default()
        };
        assert_eq!(temperature(&cal, 0), "1.50");
        assert_eq!(temperature(&cal, 1), "none (loss_falls_as_T_to_0)");
        assert_eq!(
            temperature(&cal, 9),
            "none (no_samples_or_non_finite_logits)"
        );
    }

    #[test]
    fn the_evaluation_set_stands_in_without_a_validation_set() {
        let c = Curves::default();
        let cal = SetCalibration::default();
        let only_eval = Calibrations {
            val: None,
            eval: Some(cal.clone()),
        };
        let s = shown(&c, &only_eval);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "evaluation");
        let both = Calibrations {
            val: Some(cal.clone()),
            eval: Some(cal),
        };
        let names: Vec<_> = shown(&c, &both).iter().map(|s| s.name).collect();
        assert_eq!(names, ["validation", "evaluation"]);
        assert!(shown(&c, &Calibrations::default()).is_empty());
    }
}
