//! `compare`'s figures: a matrix over pairs of runs (one number below
//! the diagonal with its chance level, another above it, a count on the
//! diagonal), and the histogram of "outlier in k of N runs" against what
//! independent runs would give.

use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    draw_axes, draw_error, legend_box, png_and_svg, viridis, Axes, DrawResult, Figure, Frame, FONT,
    PALETTE,
};
use crate::error::Result;

/// A matrix over pairs of runs, runs in the given order, values `n x n`
/// row-major.
#[derive(Clone, Debug)]
pub(crate) struct PairMatrix<'a> {
    /// Caption above the matrix.
    pub caption: &'a str,
    /// Lines above the run list: what the numbers are.
    pub explain: &'a [String],
    /// One label per run (listed beside the matrix, numbered).
    pub labels: &'a [String],
    /// Below the diagonal: values in [0, 1] (colour and text).
    pub lower: &'a [f64],
    /// Below the diagonal: the chance level, in brackets under the value.
    pub lower_chance: &'a [f64],
    /// Above the diagonal: values in [-1, 1] (coloured from 0 to 1).
    pub upper: &'a [f64],
    /// On the diagonal: one count per run.
    pub diagonal: &'a [usize],
    /// What the diagonal counts, e.g. `outliers`.
    pub diagonal_what: &'a str,
    /// The colour bar's description.
    pub bar_desc: &'a str,
}

/// Draws `m` into `DIR/NAME.png` and `.svg`.
pub(crate) fn pair_matrix(
    dir: &Path,
    name: &str,
    title: &str,
    m: &PairMatrix,
) -> Result<Vec<PathBuf>> {
    let n = m.labels.len().max(1) as u32;
    let cell = (640 / n).clamp(14, 130);
    let side = matrix_side(cell, n);
    let list = (22 * (n + m.explain.len() as u32) + 160).min(2400);
    let size = (side + 120 + 600, side.max(list) + 50);
    png_and_svg(dir, name, size, &MatrixFig { title, m, cell })
}

/// Pixels of the matrix panel: the cells, their labels and the frame.
fn matrix_side(cell: u32, n: u32) -> u32 {
    cell * n + cell.min(40) + 90
}

struct MatrixFig<'a> {
    title: &'a str,
    m: &'a PairMatrix<'a>,
    cell: u32,
}

/// Smallest cell (pixels) that gets its numbers written into it.
const TEXT_CELL: u32 = 44;
/// Light grey: no value.
const NONE: RGBColor = RGBColor(225, 225, 225);
/// The diagonal.
const DIAGONAL: RGBColor = RGBColor(245, 245, 245);

/// The small print on the diagonal.
const GREY: RGBColor = RGBColor(90, 90, 90);

fn text_on(bg: f64) -> &'static RGBColor {
    if bg < 0.6 {
        &WHITE
    } else {
        &BLACK
    }
}

impl Figure for MatrixFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let n = self.m.labels.len();
        let side = matrix_side(self.cell, n as u32);
        let (main, rest) = area.split_horizontally(side);
        let (bar, list) = rest.split_horizontally(120);
        let (main, _) = main.split_vertically(side);
        self.cells(&main)?;
        linear_bar(&bar.split_vertically(side).0, self.m.bar_desc)?;
        self.run_list(&list)
    }
}

impl MatrixFig<'_> {
    /// The cells with their numbers, and the run numbers along the top
    /// and the left (in a band `b` cells wide: the chart spans -b..n).
    fn cells<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let m = self.m;
        let n = m.labels.len();
        let nf = n as f64;
        let band = self.cell.min(40) as f64 / self.cell as f64;
        let mut ch = Frame {
            caption: m.caption,
            caption_size: 15,
            margin: 10,
            x_labels: 0,
            y_labels: 0,
        }
        .on(area)
        .build_cartesian_2d(-band..nf, 0f64..nf + band)
        .map_err(draw_error)?;
        let y = |row: usize| nf - 1.0 - row as f64;
        let mut rects = vec![];
        for a in 0..n {
            for b in 0..n {
                let (v, bg) = self.value(a, b);
                let colour = if a == b {
                    DIAGONAL
                } else if v.is_nan() {
                    NONE
                } else {
                    viridis(bg)
                };
                let (x0, y0) = (b as f64, y(a));
                rects.push(Rectangle::new(
                    [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                    colour.filled(),
                ));
            }
        }
        ch.draw_series(rects).map_err(draw_error)?;
        let size = (self.cell as f64 * 0.22).clamp(9.0, 16.0) as u32;
        let mut texts = vec![];
        for i in 0..n {
            let label = format!("{}", i + 1);
            let style = TextStyle::from((FONT, size)).pos(Pos::new(HPos::Center, VPos::Center));
            let (x, top) = (i as f64 + 0.5, nf + band / 2.0);
            texts.push(Text::new(label.clone(), (x, top), style.clone()));
            texts.push(Text::new(label, (-band / 2.0, y(i) + 0.5), style));
        }
        if self.cell >= TEXT_CELL {
            self.cell_texts(&mut texts, size);
        }
        ch.draw_series(texts).map_err(draw_error)?;
        Ok(())
    }

    /// The value shown in cell (a, b) and its colour position in [0, 1].
    fn value(&self, a: usize, b: usize) -> (f64, f64) {
        let n = self.m.labels.len();
        let v = if a > b {
            self.m.lower[a * n + b]
        } else {
            self.m.upper[a * n + b]
        };
        (v, v.clamp(0.0, 1.0))
    }

    /// The numbers inside the cells (value; chance below the diagonal;
    /// count on it).
    fn cell_texts(&self, texts: &mut Vec<Text<'static, (f64, f64), String>>, size: u32) {
        let m = self.m;
        let n = m.labels.len();
        let nf = n as f64;
        let centre = |colour: &'static RGBColor, s: u32| {
            TextStyle::from((FONT, s))
                .color(colour)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        for a in 0..n {
            let yc = nf - 1.0 - a as f64 + 0.5;
            for b in 0..n {
                let xc = b as f64 + 0.5;
                if a == b {
                    let t = format!("{}", m.diagonal[a]);
                    texts.push(Text::new(t, (xc, yc + 0.12), centre(&BLACK, size)));
                    let s = centre(&GREY, size * 3 / 4);
                    texts.push(Text::new(m.diagonal_what.to_string(), (xc, yc - 0.18), s));
                    continue;
                }
                let (v, bg) = self.value(a, b);
                let fg = text_on(bg);
                let shown = if v.is_nan() {
                    "-".into()
                } else {
                    format!("{v:.2}")
                };
                if a > b {
                    texts.push(Text::new(shown, (xc, yc + 0.12), centre(fg, size)));
                    let c = m.lower_chance[a * n + b];
                    let t = format!("({c:.3})");
                    texts.push(Text::new(t, (xc, yc - 0.18), centre(fg, size * 3 / 4)));
                } else {
                    texts.push(Text::new(shown, (xc, yc), centre(fg, size)));
                }
            }
        }
    }

    /// What the numbers are, then the numbered run labels.
    fn run_list<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (w, h) = area.dim_in_pixel();
        let chars = (w as usize / 8).max(10);
        let clip = |t: String| {
            if t.chars().count() > chars {
                t.chars().take(chars - 1).collect::<String>() + "…"
            } else {
                t
            }
        };
        let mut lines: Vec<(String, RGBColor)> = (self.m.explain.iter())
            .map(|l| (clip(l.clone()), GREY))
            .collect();
        if self.cell < TEXT_CELL {
            let t = "(cells too small for their numbers: see compare.json)";
            lines.push((t.to_string(), GREY));
        }
        lines.push((String::new(), BLACK));
        let rows = ((h as usize).saturating_sub(80) / 22)
            .saturating_sub(lines.len())
            .max(1);
        let labels = self.m.labels;
        for (i, l) in labels.iter().enumerate().take(rows) {
            lines.push((clip(format!("{:>2}  {l}", i + 1)), BLACK));
        }
        if labels.len() > rows {
            let t = format!("… and {} more (see compare.json)", labels.len() - rows);
            lines.push((t, BLACK));
        }
        for (i, (t, colour)) in lines.into_iter().enumerate() {
            let style = TextStyle::from((FONT, 14)).color(&colour);
            area.draw(&Text::new(t, (10, 50 + 22 * i as i32), style))
                .map_err(draw_error)?;
        }
        Ok(())
    }
}

/// A vertical colour bar over [0, 1] (viridis).
fn linear_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, desc: &str) -> DrawResult {
    let mut cb = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(60)
        .margin_left(5)
        .margin_right(5)
        .y_label_area_size(65)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(draw_error)?;
    cb.configure_mesh()
        .disable_x_axis()
        .disable_mesh()
        .y_desc(desc)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FONT, 13))
        .draw()
        .map_err(draw_error)?;
    const STEPS: usize = 64;
    cb.draw_series((0..STEPS).map(|i| {
        let (lo, hi) = (i as f64 / STEPS as f64, (i + 1) as f64 / STEPS as f64);
        Rectangle::new([(0.0, lo), (1.0, hi)], viridis(lo).filled())
    }))
    .map_err(draw_error)?;
    Ok(())
}

/// One set's "outlier in k of N runs" counts.
#[derive(Clone, Debug)]
pub(crate) struct RunsHist<'a> {
    /// Legend name, e.g. `validation (54210 shared samples)`.
    pub name: String,
    /// Samples that are outliers in exactly `k` runs, `k = 0..=N`.
    pub counts: &'a [u64],
    /// The same if runs picked their outliers independently.
    pub independent: &'a [f64],
}

/// Draws the histogram of "outlier in k of N runs", one bar group per
/// set, into `DIR/NAME.png` and `.svg`.
pub(crate) fn runs_hist(
    dir: &Path,
    name: &str,
    title: &str,
    sets: &[RunsHist],
) -> Result<Vec<PathBuf>> {
    png_and_svg(dir, name, (1100, 620), &HistFig { title, sets })
}

struct HistFig<'a> {
    title: &'a str,
    sets: &'a [RunsHist<'a>],
}

impl Figure for HistFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let n = self.sets.iter().map(|s| s.counts.len()).max().unwrap_or(1);
        let max = (self.sets.iter())
            .flat_map(|s| {
                s.counts
                    .iter()
                    .map(|&c| c as f64)
                    .chain(s.independent.iter().copied())
            })
            .fold(1.0f64, f64::max);
        let frame = Frame {
            caption: "shared samples by the number of runs whose final above-fence set holds them (log scale); markers: if runs picked outliers independently at their own rates",
            caption_size: 14,
            margin: 15,
            x_labels: 50,
            y_labels: 80,
        };
        let mut ch = frame
            .on(area)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (0.5f64..max * 3.0).log_scale())
            .map_err(draw_error)?;
        let axes = Axes {
            x_desc: &format!("outlier at the end in k of {} runs", n - 1),
            y_desc: "samples",
            x_fmt: |v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            },
            y_fmt: |v| format!("{v:.0}"),
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        let w = 0.8 / self.sets.len().max(1) as f64;
        for (si, s) in self.sets.iter().enumerate() {
            bar_group(&mut ch, si, s, w)?;
        }
        legend_box(&mut ch, SeriesLabelPosition::UpperRight, 14)
    }
}

/// The chart of [`HistFig`]: k linear, samples on a log axis.
type HistChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// Set `si`'s bars (`w` wide), their counts, and the markers of the
/// independent-runs expectation.
fn bar_group<DB: DrawingBackend>(
    ch: &mut HistChart<'_, DB>,
    si: usize,
    s: &RunsHist,
    w: f64,
) -> DrawResult {
    let colour = PALETTE[si % PALETTE.len()];
    let x0 = -0.4 + si as f64 * w;
    let bars = (s.counts.iter().enumerate())
        .filter(|(_, &c)| c > 0)
        .map(|(k, &c)| {
            let x = k as f64 + x0;
            Rectangle::new(
                [(x, 0.5), (x + w * 0.95, c as f64)],
                colour.mix(0.8).filled(),
            )
        });
    ch.draw_series(bars)
        .map_err(draw_error)?
        .label(s.name.clone())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    let labels = (s.counts.iter().enumerate())
        .filter(|(_, &c)| c > 0)
        .map(|(k, &c)| {
            let style = TextStyle::from((FONT, 12)).pos(Pos::new(HPos::Center, VPos::Bottom));
            Text::new(
                format!("{c}"),
                (k as f64 + x0 + w * 0.47, c as f64 * 1.08),
                style,
            )
        });
    ch.draw_series(labels).map_err(draw_error)?;
    let marks = (s.independent.iter().enumerate())
        .filter(|(_, &e)| e >= 0.5)
        .map(|(k, &e)| Cross::new((k as f64 + x0 + w * 0.47, e), 6, BLACK.stroke_width(2)));
    let drawn = ch.draw_series(marks).map_err(draw_error)?;
    if si == 0 {
        drawn
            .label("expected if runs were independent")
            .legend(|(x, y)| Cross::new((x + 7, y), 5, BLACK.stroke_width(2)));
    }
    Ok(())
}
