//! Fig 7: validation samples ordered by the number of epochs they spent
//! above the upper Tukey fence, with their final loss.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    draw_axes, draw_error, legend_box, line_key, png_and_svg, Axes, DrawResult, Figure, Frame, FONT,
};
use crate::analysis::Outliers;
use crate::error::Result;

/// Final loss of each sample (right axis).
const FINAL_LOSS: RGBColor = RGBColor(214, 39, 40);
/// Epochs above the fence (left axis).
const EPOCHS_ABOVE: RGBColor = RGBColor(31, 119, 180);

/// Fig 7: validation samples ordered by their outlier-epoch counts.
pub fn outliers(dir: &Path, title: &str, o: &Outliers, epochs: usize) -> Result<Vec<PathBuf>> {
    let fig = OutliersFig { title, o, epochs };
    png_and_svg(dir, "fig7_outliers", (1300, 620), &fig)
}

struct OutliersFig<'a> {
    title: &'a str,
    o: &'a Outliers,
    epochs: usize,
}

impl Figure for OutliersFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let o = self.o;
        let order = self.order();
        let n = order.len().max(1) as f64;
        let (lo, hi) = self.loss_range();
        let caption = format!(
            "validation samples by epochs above the Tukey fence Q3 + 1.5 IQR ({:.1}% above at the end, carrying {:.1}% of the loss)",
            100.0 * o.frac_above_at_end,
            100.0 * o.loss_share_at_end
        );
        let frame = Frame {
            caption: &caption,
            caption_size: 16,
            margin: 15,
            x_labels: 50,
            y_labels: 80,
        };
        let mut ch = frame
            .on(area)
            .right_y_label_area_size(80)
            .build_cartesian_2d(0f64..n, 0f64..(self.epochs.max(1) as f64 * 1.02))
            .map_err(draw_error)?
            .set_secondary_coord(0f64..n, (lo..hi).log_scale());
        let axes = Axes {
            x_desc: "validation samples, ordered by outlier epochs (ascending)",
            y_desc: &format!("epochs above the fence (of {})", self.epochs),
            x_fmt: |v| format!("{v:.0}"),
            y_fmt: |v| format!("{v:.0}"),
            label_size: 14,
            grid: true,
        };
        draw_axes(&mut ch, &axes)?;
        ch.configure_secondary_axes()
            .y_desc("final loss (nats, log scale)")
            .y_labels(12)
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style((FONT, 14))
            .draw()
            .map_err(draw_error)?;
        let losses = (order.iter().enumerate())
            .filter(|(_, &i)| o.final_loss[i] > 0.0)
            .map(|(r, &i)| (r as f64, o.final_loss[i] as f64));
        ch.draw_secondary_series(losses.map(|p| Circle::new(p, 1, FINAL_LOSS.mix(0.35).filled())))
            .map_err(draw_error)?
            .label("final loss (right axis)")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, FINAL_LOSS.filled()));
        let counts = (order.iter().enumerate()).map(|(r, &i)| (r as f64, o.epochs_above[i] as f64));
        ch.draw_series(LineSeries::new(counts, EPOCHS_ABOVE.stroke_width(3)))
            .map_err(draw_error)?
            .label("epochs above the fence (left axis)")
            .legend(line_key(EPOCHS_ABOVE.stroke_width(3)));
        legend_box(&mut ch, SeriesLabelPosition::UpperLeft, 14)
    }
}

impl OutliersFig<'_> {
    /// Sample indices by epochs above the fence, then by final loss.
    fn order(&self) -> Vec<usize> {
        let o = self.o;
        let mut order: Vec<usize> = (0..o.epochs_above.len()).collect();
        order.sort_by(|&a, &b| {
            o.epochs_above[a]
                .cmp(&o.epochs_above[b])
                .then(o.final_loss[a].total_cmp(&o.final_loss[b]))
        });
        order
    }

    /// The log axis of the final losses: their positive range, widened.
    fn loss_range(&self) -> (f64, f64) {
        let pos: Vec<f64> = (self.o.final_loss.iter())
            .map(|&x| x as f64)
            .filter(|x| *x > 0.0 && x.is_finite())
            .collect();
        let lo = pos.iter().copied().fold(f64::INFINITY, f64::min).min(1e-3) / 2.0;
        let hi = pos.iter().copied().fold(0.0f64, f64::max).max(1.0) * 2.0;
        (lo, hi)
    }
}
