//! A histogram-per-checkpoint heatmap panel with its colour bar, against
//! iteration on a log axis: the panels of figures 5 and 6.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    colour_bar, draw_axes, draw_error, viridis, Axes, Axis, ColourBar, DrawResult, Fmt, Frame,
    BAR_STEPS,
};
use crate::record::read::Hist;

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

/// One heatmap panel: a histogram per checkpoint.
pub(super) struct Heatmap<'a, Y> {
    /// Caption above the panel.
    pub caption: &'a str,
    /// Iteration of each checkpoint (row of `hist`).
    pub iterations: &'a [i64],
    /// The counts.
    pub hist: &'a Hist,
    /// The y axis (the binned value).
    pub y_range: Y,
    /// Description of the y axis.
    pub y_desc: &'a str,
    /// Format of the y tick labels.
    pub y_fmt: Fmt,
    /// Maps bin `b` to its drawn (lower, upper) y extent.
    pub y_edge: &'a dyn Fn(usize) -> (f64, f64),
    /// What is counted ("samples", "weights"), for the colour bar.
    pub what: &'a str,
}

/// Draws `h` into `area`: the cells, and the colour bar on the right.
pub(super) fn heatmap_panel<DB, Y>(area: &DrawingArea<DB, Shift>, h: Heatmap<'_, Y>) -> DrawResult
where
    DB: DrawingBackend,
    Y: Axis + Clone,
{
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(160));
    let max = h.hist.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let lmax = max.log10().max(1e-9);
    cells(&main, &h, lmax)?;
    // Colour bar: log10(count) from 1 to max.
    let top = max.max(10.0).log10();
    let band = |i: usize| {
        let a = top * i as f64 / BAR_STEPS as f64;
        let b = top * (i + 1) as f64 / BAR_STEPS as f64;
        ((10f64.powf(a), 10f64.powf(b)), viridis(a / lmax))
    };
    colour_bar(
        &bar,
        &ColourBar {
            margins: [40, 55, 8, 25],
            label_area: 100,
            range: 1f64..max.max(10.0),
            desc: &format!("{} per cell (log)", h.what),
            label_size: 12,
            band: &band,
        },
    )
}

/// The chart of a heatmap: axes and one coloured cell per non-empty bin,
/// colour = log10(count) / `lmax`.
fn cells<DB, Y>(area: &DrawingArea<DB, Shift>, h: &Heatmap<'_, Y>, lmax: f64) -> DrawResult
where
    DB: DrawingBackend,
    Y: Axis + Clone,
{
    let xs = x_edges(h.iterations);
    let xmin = xs.first().map(|e| e.0).unwrap_or(0.4);
    let xmax = xs.last().map(|e| e.1).unwrap_or(10.0).max(xmin * 10.0);
    let frame = Frame {
        caption: h.caption,
        caption_size: 17,
        margin: 10,
        x_labels: 45,
        y_labels: 75,
    };
    let mut ch = frame
        .on(area)
        .build_cartesian_2d((xmin..xmax).log_scale(), h.y_range.clone())
        .map_err(draw_error)?;
    let axes = Axes {
        x_desc: "iteration (updates; 0 drawn at 0.5)",
        y_desc: h.y_desc,
        x_fmt: |v| {
            if *v < 0.9 {
                "0".into()
            } else {
                format!("{v:.0}")
            }
        },
        y_fmt: h.y_fmt,
        label_size: 13,
        grid: false,
    };
    draw_axes(&mut ch, &axes)?;
    let hist = h.hist;
    let mut cells = vec![];
    for (r, &(x0, x1)) in xs.iter().enumerate().take(hist.rows) {
        for b in 0..hist.bins {
            let n = hist.counts[r * hist.bins + b];
            if n == 0 {
                continue; // empty cells stay blank
            }
            let (y0, y1) = (h.y_edge)(b);
            let col = viridis((n as f64).log10() / lmax);
            cells.push(Rectangle::new([(x0, y0), (x1, y1)], col.filled()));
        }
    }
    ch.draw_series(cells).map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_edges_tile_the_axis() {
        let e = x_edges(&[0, 1, 4, 16]);
        for w in e.windows(2) {
            assert!((w[0].1 - w[1].0).abs() < 1e-12, "cells touch");
        }
        assert!((e[2].0 - 2.0).abs() < 1e-12 && (e[2].1 - 8.0).abs() < 1e-12);
    }
}
