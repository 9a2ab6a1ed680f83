//! The paper's figures, drawn with plotters into PNG and SVG, with an
//! embedded font (DejaVu Sans, `assets/`) so no system font is needed.
//!
//! - Fig 1/4 `curves`: loss and accuracy of the three sets per epoch,
//!   with markers at the minimum validation loss and first interpolation;
//! - Fig 5 `loss_heatmaps`: per set, the per-sample loss distribution
//!   (log bins) against iteration (log axis), colour = samples (log);
//! - Fig 6 `weight_heatmaps`: the same for the weights of each layer;
//! - Fig 7 `outliers`: validation samples ordered by the number of epochs
//!   they spent above the upper Tukey fence, with their final loss.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis::{Curves, Outliers};
use crate::error::{Error, ErrorKind, Result};
use crate::record::read::Hist;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; if registration
        // failed, text would simply not be drawn.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

type DrawResult = std::result::Result<(), String>;

fn e2s<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws `$f(area, args..)` into `DIR/NAME.png` and `DIR/NAME.svg`.
macro_rules! png_and_svg {
    ($dir:expr, $name:expr, $size:expr, $f:ident ( $($arg:expr),* )) => {{
        register_font();
        let png = $dir.join(format!("{}.png", $name));
        let svg = $dir.join(format!("{}.svg", $name));
        {
            let root = BitMapBackend::new(&png, $size).into_drawing_area();
            root.fill(&WHITE).map_err(e2s).and_then(|_| $f(&root, $($arg),*)).and_then(|_| root.present().map_err(e2s))
                .map_err(|e| Error::new(ErrorKind::Io, format!("{}: cannot draw: {e}", png.display())))?;
        }
        {
            let root = SVGBackend::new(&svg, $size).into_drawing_area();
            root.fill(&WHITE).map_err(e2s).and_then(|_| $f(&root, $($arg),*)).and_then(|_| root.present().map_err(e2s))
                .map_err(|e| Error::new(ErrorKind::Io, format!("{}: cannot draw: {e}", svg.display())))?;
        }
        Ok::<Vec<PathBuf>, Error>(vec![png, svg])
    }};
}

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(214, 39, 40);
const EVAL: RGBColor = RGBColor(44, 160, 44);
const MARK_MIN: RGBColor = RGBColor(148, 103, 189);
const MARK_INT: RGBColor = RGBColor(90, 90, 90);

/// Viridis, from 9 control points (0 = dark purple, 1 = yellow).
fn viridis(t: f64) -> RGBColor {
    const P: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (P.len() - 1) as f64;
    let i = (t.floor() as usize).min(P.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    RGBColor(
        mix(P[i].0, P[i + 1].0),
        mix(P[i].1, P[i + 1].1),
        mix(P[i].2, P[i + 1].2),
    )
}

/// What the curve figure marks.
pub struct Marks {
    /// Epoch of minimum validation loss.
    pub min_val: Option<i64>,
    /// Epoch of first interpolation.
    pub interpolation: Option<i64>,
}

fn curves_fig<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    c: &Curves,
    marks: &Marks,
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(e2s)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let xmax = (*c.epoch.last().unwrap_or(&1)).max(1) as f64;
    let sets: [(&str, &[f64], &[f64], RGBColor); 3] = [
        ("train", &c.train_loss, &c.train_acc, TRAIN),
        ("validation", &c.val_loss, &c.val_acc, VAL),
        ("evaluation", &c.eval_loss, &c.eval_acc, EVAL),
    ];
    // Loss, log axis.
    let pos = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|x| *x > 0.0 && x.is_finite())
            .collect::<Vec<_>>()
    };
    let all: Vec<f64> = sets.iter().flat_map(|s| pos(s.1)).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 2.0;
    let hi = all.iter().copied().fold(0.0f64, f64::max).max(1e-6) * 2.0;
    let mut ch = ChartBuilder::on(&left)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .caption("mean loss (log scale)", (FONT, 18))
        .build_cartesian_2d(0f64..xmax, (lo..hi).log_scale())
        .map_err(e2s)?;
    ch.configure_mesh()
        .x_desc("epoch")
        .y_desc("cross-entropy loss (nats)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(e2s)?;
    for (name, loss, _, col) in sets {
        let pts: Vec<(f64, f64)> = c
            .epoch
            .iter()
            .zip(loss)
            .filter(|(_, l)| **l > 0.0 && l.is_finite())
            .map(|(&e, &l)| (e as f64, l))
            .collect();
        ch.draw_series(LineSeries::new(pts, col.stroke_width(2)))
            .map_err(e2s)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
    }
    draw_marks(&mut ch, marks, lo, hi)?;
    ch.configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()
        .map_err(e2s)?;
    // Accuracy.
    let accs: Vec<f64> = sets
        .iter()
        .flat_map(|s| s.2.iter().skip(1).copied())
        .filter(|x| x.is_finite())
        .collect();
    let alo = (accs.iter().copied().fold(1.0f64, f64::min) - 0.02).max(0.0);
    let mut ch = ChartBuilder::on(&right)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .caption("accuracy", (FONT, 18))
        .build_cartesian_2d(0f64..xmax, alo..1.005f64)
        .map_err(e2s)?;
    ch.configure_mesh()
        .x_desc("epoch")
        .y_desc("fraction correct")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(e2s)?;
    for (name, _, acc, col) in sets {
        let pts: Vec<(f64, f64)> = c
            .epoch
            .iter()
            .zip(acc)
            .map(|(&e, &a)| (e as f64, a))
            .collect();
        ch.draw_series(LineSeries::new(pts, col.stroke_width(2)))
            .map_err(e2s)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
    }
    draw_marks(&mut ch, marks, alo, 1.005)?;
    ch.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()
        .map_err(e2s)?;
    Ok(())
}

fn draw_marks<DB: DrawingBackend, Y: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    ch: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
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
            .map_err(e2s)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
        }
    }
    Ok(())
}

/// Fig 1/4: learning curves. Returns the files written.
pub fn curves(dir: &Path, title: &str, c: &Curves, marks: &Marks) -> Result<Vec<PathBuf>> {
    png_and_svg!(dir, "fig1_curves", (1400, 560), curves_fig(title, c, marks))
}

/// Iterations as x positions on a log axis: iteration 0 sits at 0.5.
fn xpos(it: i64) -> f64 {
    if it <= 0 {
        0.5
    } else {
        it as f64
    }
}

/// Cell edges in x for each checkpoint: geometric midpoints.
fn x_edges(iterations: &[i64]) -> Vec<(f64, f64)> {
    let x: Vec<f64> = iterations.iter().map(|&i| xpos(i)).collect();
    (0..x.len())
        .map(|i| {
            let l = if i == 0 {
                x[0] / 1.2
            } else {
                (x[i - 1] * x[i]).sqrt()
            };
            let r = if i + 1 == x.len() {
                x[i] * 1.2
            } else {
                (x[i] * x[i + 1]).sqrt()
            };
            (l, r)
        })
        .collect()
}

/// One heatmap panel with its colour bar. `y_edge(b)` maps bin `b` to
/// its drawn (lower, upper) y extent.
#[allow(clippy::too_many_arguments)]
fn heatmap_panel<DB: DrawingBackend, Y>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    iterations: &[i64],
    h: &Hist,
    y_range: Y,
    y_desc: &str,
    y_edge: &dyn Fn(usize) -> (f64, f64),
    log_y: bool,
    what: &str,
) -> DrawResult
where
    Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    <Y as plotters::coord::ranged1d::AsRangedCoord>::CoordDescType:
        plotters::coord::ranged1d::Ranged<ValueType = f64>
            + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(160));
    let xs = x_edges(iterations);
    let xmin = xs.first().map(|e| e.0).unwrap_or(0.4);
    let xmax = xs.last().map(|e| e.1).unwrap_or(10.0).max(xmin * 10.0);
    let mut ch = ChartBuilder::on(&main)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .caption(caption, (FONT, 17))
        .build_cartesian_2d((xmin..xmax).log_scale(), y_range)
        .map_err(e2s)?;
    let mut mesh = ch.configure_mesh();
    mesh.x_desc("iteration (updates; 0 drawn at 0.5)")
        .y_desc(y_desc)
        .y_label_formatter(&|v| format!("{v:.2}"))
        .x_label_formatter(&|v| {
            if *v < 0.9 {
                "0".into()
            } else {
                format!("{v:.0}")
            }
        })
        .label_style((FONT, 13))
        .disable_mesh();
    if log_y {
        mesh.y_label_formatter(&|v| format!("{v:.0e}"));
    }
    mesh.draw().map_err(e2s)?;
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let lmax = max.log10().max(1e-9);
    let mut cells = vec![];
    for (r, &(x0, x1)) in xs.iter().enumerate().take(h.rows) {
        for b in 0..h.bins {
            let n = h.counts[r * h.bins + b];
            if n == 0 {
                continue; // empty cells stay blank
            }
            let (y0, y1) = y_edge(b);
            let col = viridis((n as f64).log10() / lmax);
            cells.push(Rectangle::new([(x0, y0), (x1, y1)], col.filled()));
        }
    }
    ch.draw_series(cells).map_err(e2s)?;
    // Colour bar: log10(count) from 1 to max.
    let yr = 1f64..max.max(10.0);
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(40)
        .margin_bottom(55)
        .margin_left(8)
        .margin_right(25)
        .right_y_label_area_size(100)
        .build_cartesian_2d(0f64..1f64, yr.clone().log_scale())
        .map_err(e2s)?
        .set_secondary_coord(0f64..1f64, yr.log_scale());
    cb.configure_mesh()
        .disable_x_axis()
        .disable_y_axis()
        .disable_mesh()
        .draw()
        .map_err(e2s)?;
    cb.configure_secondary_axes()
        .y_desc(format!("{what} per cell (log)"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 12))
        .draw()
        .map_err(e2s)?;
    let steps = 64;
    let top = max.max(10.0).log10();
    cb.draw_series((0..steps).map(|i| {
        let a = top * i as f64 / steps as f64;
        let b = top * (i + 1) as f64 / steps as f64;
        Rectangle::new(
            [(0.0, 10f64.powf(a)), (1.0, 10f64.powf(b))],
            viridis(a / lmax).filled(),
        )
    }))
    .map_err(e2s)?;
    Ok(())
}

fn loss_heatmaps_fig<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    iterations: &[i64],
    hists: &[Hist; 3],
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(e2s)?;
    let panels = root.split_evenly((1, 3));
    let names = ["training set", "validation set", "evaluation set"];
    for ((area, h), name) in panels.iter().zip(hists).zip(names) {
        let lo_in = h.lower.get(1).copied().unwrap_or(1e-8);
        let hi_in = h
            .upper
            .get(h.bins.saturating_sub(2))
            .copied()
            .unwrap_or(1e3);
        let step = (h.upper[1] / h.lower[1]).max(1.0001);
        // Underflow drawn one bin below, overflow one bin above.
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
            &format!("{name}: per-sample loss"),
            iterations,
            h,
            (lo_in / step..hi_in * step).log_scale(),
            &format!("loss (nats); bottom row < {lo_in:.0e} incl. 0, top row >= {hi_in:.0e}"),
            &y_edge,
            true,
            "samples",
        )?;
    }
    Ok(())
}

/// Fig 5: per-sample loss distributions against iteration, one panel
/// per set.
pub fn loss_heatmaps(
    dir: &Path,
    title: &str,
    iterations: &[i64],
    hists: &[Hist; 3],
) -> Result<Vec<PathBuf>> {
    png_and_svg!(
        dir,
        "fig5_loss_heatmaps",
        (1950, 620),
        loss_heatmaps_fig(title, iterations, hists)
    )
}

fn weight_heatmaps_fig<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    iterations: &[i64],
    hists: &[Hist],
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(e2s)?;
    let cols = 2usize;
    let rows = hists.len().div_ceil(cols);
    let panels = root.split_evenly((rows, cols));
    let last = hists.len().saturating_sub(1);
    for (l, (area, h)) in panels.iter().zip(hists).enumerate() {
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
        let name = if l == last {
            "output layer".to_string()
        } else {
            format!("hidden layer {}", l + 1)
        };
        heatmap_panel(
            area,
            &format!("{name}: weight values"),
            iterations,
            h,
            (lo - step)..(hi + step),
            "weight (outer rows: beyond the range)",
            &y_edge,
            false,
            "weights",
        )?;
    }
    Ok(())
}

/// Fig 6: weight-value distributions against iteration, one panel per
/// layer.
pub fn weight_heatmaps(
    dir: &Path,
    title: &str,
    iterations: &[i64],
    hists: &[Hist],
) -> Result<Vec<PathBuf>> {
    let rows = hists.len().div_ceil(2) as u32;
    png_and_svg!(
        dir,
        "fig6_weight_heatmaps",
        (1500, 80 + 460 * rows),
        weight_heatmaps_fig(title, iterations, hists)
    )
}

fn outliers_fig<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    o: &Outliers,
    epochs: usize,
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(e2s)?;
    let mut order: Vec<usize> = (0..o.epochs_above.len()).collect();
    order.sort_by(|&a, &b| {
        o.epochs_above[a]
            .cmp(&o.epochs_above[b])
            .then(o.final_loss[a].total_cmp(&o.final_loss[b]))
    });
    let n = order.len().max(1) as f64;
    let pos: Vec<f64> = o
        .final_loss
        .iter()
        .map(|&x| x as f64)
        .filter(|x| *x > 0.0 && x.is_finite())
        .collect();
    let lo = pos.iter().copied().fold(f64::INFINITY, f64::min).min(1e-3) / 2.0;
    let hi = pos.iter().copied().fold(0.0f64, f64::max).max(1.0) * 2.0;
    let mut ch = ChartBuilder::on(&root)
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .caption(
            format!(
                "validation samples by epochs above the Tukey fence Q3 + 1.5 IQR ({:.1}% above at the end, carrying {:.1}% of the loss)",
                100.0 * o.frac_above_at_end,
                100.0 * o.loss_share_at_end
            ),
            (FONT, 16),
        )
        .build_cartesian_2d(0f64..n, 0f64..(epochs.max(1) as f64 * 1.02))
        .map_err(e2s)?
        .set_secondary_coord(0f64..n, (lo..hi).log_scale());
    ch.configure_mesh()
        .x_desc("validation samples, ordered by outlier epochs (ascending)")
        .y_desc(format!("epochs above the fence (of {epochs})"))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(e2s)?;
    ch.configure_secondary_axes()
        .y_desc("final loss (nats, log scale)")
        .y_labels(12)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(e2s)?;
    let fl = RGBColor(214, 39, 40);
    ch.draw_secondary_series(
        order
            .iter()
            .enumerate()
            .filter(|(_, &i)| o.final_loss[i] > 0.0)
            .map(|(r, &i)| {
                Circle::new((r as f64, o.final_loss[i] as f64), 1, fl.mix(0.35).filled())
            }),
    )
    .map_err(e2s)?
    .label("final loss (right axis)")
    .legend(move |(x, y)| Circle::new((x + 10, y), 4, fl.filled()));
    let cnt = RGBColor(31, 119, 180);
    ch.draw_series(LineSeries::new(
        order
            .iter()
            .enumerate()
            .map(|(r, &i)| (r as f64, o.epochs_above[i] as f64)),
        cnt.stroke_width(3),
    ))
    .map_err(e2s)?
    .label("epochs above the fence (left axis)")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], cnt.stroke_width(3)));
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()
        .map_err(e2s)?;
    Ok(())
}

/// Fig 7: validation samples ordered by their outlier-epoch counts.
pub fn outliers(dir: &Path, title: &str, o: &Outliers, epochs: usize) -> Result<Vec<PathBuf>> {
    png_and_svg!(
        dir,
        "fig7_outliers",
        (1300, 620),
        outliers_fig(title, o, epochs)
    )
}

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

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn scatter_fig<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    pts: &[ScatterPoint],
    mode: ScatterColour,
) -> DrawResult {
    let root = root.titled(title, (FONT, 22)).map_err(e2s)?;
    let (w, _) = root.dim_in_pixel();
    let (plots, side) = root.split_horizontally(w.saturating_sub(230));
    let (left, right) = plots.split_horizontally(plots.dim_in_pixel().0 / 2);
    let (wmin, wmax) = pts.iter().fold((usize::MAX, 1usize), |(a, b), p| {
        (a.min(p.width), b.max(p.width))
    });
    let (lw0, lw1) = ((wmin.max(1) as f64).ln(), (wmax.max(2) as f64).ln());
    let mut sets: Vec<String> = pts.iter().map(|p| p.train_set.clone()).collect();
    sets.sort();
    sets.dedup();
    let colour = |p: &ScatterPoint| -> RGBColor {
        match mode {
            ScatterColour::Width => viridis(((p.width as f64).ln() - lw0) / (lw1 - lw0).max(1e-9)),
            ScatterColour::TrainSet => {
                PALETTE[sets.iter().position(|s| s == &p.train_set).unwrap_or(0) % PALETTE.len()]
            }
        }
    };
    for (area, is_loss) in [(&left, true), (&right, false)] {
        let xs: Vec<f64> = pts
            .iter()
            .flat_map(|p| {
                if is_loss {
                    [p.min_loss, p.final_loss]
                } else {
                    [p.min_acc, p.final_acc]
                }
            })
            .filter(|v| v.is_finite())
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (what, unit) = if is_loss {
            ("validation loss", "nats")
        } else {
            ("validation accuracy", "fraction")
        };
        let caption = format!("{what}: final (y) against at the minimum validation loss (x)");
        let point_of = |p: &ScatterPoint| {
            if is_loss {
                (p.min_loss, p.final_loss)
            } else {
                (p.min_acc, p.final_acc)
            }
        };
        // A macro, not a closure: the two panels have different coordinate types.
        macro_rules! draw_points {
            ($ch:expr, $diag:expr) => {{
                $ch.draw_series(DashedLineSeries::new(
                    $diag,
                    6,
                    4,
                    BLACK.mix(0.6).stroke_width(1),
                ))
                .map_err(e2s)?
                .label("y = x")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.6)));
                $ch.draw_series(
                    pts.iter()
                        .filter(|p| !p.triangle)
                        .map(|p| Circle::new(point_of(p), 5, colour(p).filled())),
                )
                .map_err(e2s)?;
                $ch.draw_series(
                    pts.iter()
                        .filter(|p| p.triangle)
                        .map(|p| TriangleMarker::new(point_of(p), 7, colour(p).filled())),
                )
                .map_err(e2s)?
                .label("loss and accuracy both rose")
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, BLACK.filled()));
            }};
        }
        // One panel; a macro because the log and linear axes are different types.
        macro_rules! panel {
            ($range:expr, $lo:expr, $hi:expr, $unit:expr, $fmt:expr) => {{
                let mut ch = ChartBuilder::on(area)
                    .margin(15)
                    .x_label_area_size(45)
                    .y_label_area_size(70)
                    .caption(caption, (FONT, 15))
                    .build_cartesian_2d($range, $range)
                    .map_err(e2s)?;
                ch.configure_mesh()
                    .x_desc(format!("{what} at the minimum ({})", $unit))
                    .y_desc(format!("final {what} ({})", $unit))
                    .x_label_formatter(&$fmt)
                    .y_label_formatter(&$fmt)
                    .label_style((FONT, 13))
                    .draw()
                    .map_err(e2s)?;
                draw_points!(ch, vec![($lo, $lo), ($hi, $hi)]);
                ch.configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font((FONT, 13))
                    .draw()
                    .map_err(e2s)?;
            }};
        }
        if is_loss && hi / lo.max(1e-12) > 20.0 {
            let (lo, hi) = (lo.max(1e-12) / 1.3, hi * 1.3);
            panel!(
                (lo..hi).log_scale(),
                lo,
                hi,
                format!("{unit}, log"),
                |v: &f64| format!("{v:.2}")
            );
        } else {
            let pad = ((hi - lo) * 0.08).max(1e-3);
            let (lo, hi) = (
                lo - pad,
                if is_loss {
                    hi + pad
                } else {
                    (hi + pad).min(1.0 + pad)
                },
            );
            let unit = if is_loss { "nats" } else { unit };
            panel!(lo..hi, lo, hi, unit, |v: &f64| format!("{v:.3}"));
        }
    }
    // The colour key.
    match mode {
        ScatterColour::Width => {
            let yr = wmin.max(1) as f64..(wmax.max(2)) as f64;
            let mut cb = ChartBuilder::on(&side)
                .margin_top(60)
                .margin_bottom(60)
                .margin_left(20)
                .margin_right(30)
                .right_y_label_area_size(110)
                .build_cartesian_2d(0f64..1f64, yr.clone().log_scale())
                .map_err(e2s)?
                .set_secondary_coord(0f64..1f64, yr.log_scale());
            cb.configure_mesh()
                .disable_x_axis()
                .disable_y_axis()
                .disable_mesh()
                .draw()
                .map_err(e2s)?;
            cb.configure_secondary_axes()
                .y_desc("hidden width (log)")
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 13))
                .draw()
                .map_err(e2s)?;
            let steps = 64;
            cb.draw_series((0..steps).map(|i| {
                let a = lw0 + (lw1 - lw0) * i as f64 / steps as f64;
                let b = lw0 + (lw1 - lw0) * (i + 1) as f64 / steps as f64;
                Rectangle::new(
                    [(0.0, a.exp()), (1.0, b.exp())],
                    viridis((a - lw0) / (lw1 - lw0).max(1e-9)).filled(),
                )
            }))
            .map_err(e2s)?;
        }
        ScatterColour::TrainSet => {
            side.draw(&Text::new("training set", (10, 70), (FONT, 15)))
                .map_err(e2s)?;
            for (k, s) in sets.iter().enumerate() {
                let y = 100 + 26 * k as i32;
                side.draw(&Circle::new(
                    (20, y),
                    6,
                    PALETTE[k % PALETTE.len()].filled(),
                ))
                .map_err(e2s)?;
                side.draw(&Text::new(s.clone(), (34, y - 8), (FONT, 14)))
                    .map_err(e2s)?;
            }
        }
    }
    Ok(())
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
    png_and_svg!(dir, name, (1500, 640), scatter_fig(title, pts, mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_x_edges_tile_the_axis() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        let e = x_edges(&[0, 1, 4, 16]);
        for w in e.windows(2) {
            assert!((w[0].1 - w[1].0).abs() < 1e-12, "cells touch");
        }
        assert!((e[2].0 - 2.0).abs() < 1e-12 && (e[2].1 - 8.0).abs() < 1e-12);
    }
}
