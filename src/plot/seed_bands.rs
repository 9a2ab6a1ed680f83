//! Fig 4 with seeds: for each case, the mean curve over its seeds of
//! every set (train, validation, evaluation) with the min-max band
//! around it; mean loss (log scale) above, accuracy below.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    draw_axes, draw_error, legend_box, line_key, png_and_svg, Axes, DrawResult, Figure, Frame,
    EVAL, TRAIN, VAL,
};
use crate::analysis::Curves;
use crate::error::Result;

/// One case: its name and every seed's curves.
pub struct SeedCurves<'a> {
    /// The panel's caption, e.g. `case A, 5 seeds`.
    pub name: String,
    /// One per seed.
    pub runs: Vec<&'a Curves>,
}

/// Per epoch (up to the shortest run): the mean, min and max of `get`
/// over the runs; epochs where a run has no finite value are left out.
pub(crate) fn band(runs: &[&Curves], get: fn(&Curves) -> &[f64]) -> Vec<(f64, f64, f64, f64)> {
    let n = runs.iter().map(|c| get(c).len()).min().unwrap_or(0);
    (0..n)
        .filter_map(|e| {
            let v: Vec<f64> = runs.iter().map(|c| get(c)[e]).collect();
            if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
                return None;
            }
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Some((runs[0].epoch[e] as f64, mean, lo, hi))
        })
        .collect()
}

/// Fig 4: one column per case. Returns the files written
/// (`fig4_seed_bands.png` and `.svg`).
pub fn seed_bands(dir: &Path, title: &str, cases: &[SeedCurves<'_>]) -> Result<Vec<PathBuf>> {
    let fig = BandsFig { title, cases };
    let w = 420 * cases.len().max(1) as u32;
    png_and_svg(dir, "fig4_seed_bands", (w, 760), &fig)
}

struct BandsFig<'a> {
    title: &'a str,
    cases: &'a [SeedCurves<'a>],
}

type Getter = fn(&Curves) -> &[f64];

const LOSS: [(&str, Getter, RGBColor); 3] = [
    ("train", |c| &c.train_loss, TRAIN),
    ("validation", |c| &c.val_loss, VAL),
    ("evaluation", |c| &c.eval_loss, EVAL),
];
const ACC: [(&str, Getter, RGBColor); 3] = [
    ("train", |c| &c.train_acc, TRAIN),
    ("validation", |c| &c.val_acc, VAL),
    ("evaluation", |c| &c.eval_acc, EVAL),
];

impl Figure for BandsFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let cols = self.cases.len().max(1);
        let cells = area.split_evenly((2, cols));
        for (i, case) in self.cases.iter().enumerate() {
            draw_panel(&cells[i], case, true)?;
            draw_panel(&cells[cols + i], case, false)?;
        }
        Ok(())
    }
}

/// One panel: the three sets' bands and means, loss (log) or accuracy.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    case: &SeedCurves<'_>,
    loss: bool,
) -> DrawResult {
    let sets = if loss { &LOSS } else { &ACC };
    let bands: Vec<_> = sets.iter().map(|s| band(&case.runs, s.1)).collect();
    let xmax = bands.iter().flatten().map(|b| b.0).fold(1.0f64, f64::max);
    let caption = if loss {
        format!("{}: mean loss", case.name)
    } else {
        format!("{}: accuracy", case.name)
    };
    let frame = Frame {
        caption: &caption,
        caption_size: 16,
        margin: 12,
        x_labels: 40,
        y_labels: 60,
    };
    let axes = Axes {
        x_desc: "epoch",
        y_desc: if loss {
            "loss (nats, log)"
        } else {
            "fraction correct"
        },
        x_fmt: |v| format!("{v:.0}"),
        y_fmt: if loss {
            |v| format!("{v:.0e}")
        } else {
            |v| format!("{v:.2}")
        },
        label_size: 12,
        grid: true,
    };
    let values = bands.iter().flatten().flat_map(|b| [b.2, b.3]);
    if loss {
        let pos: Vec<f64> = values.filter(|v| *v > 0.0).collect();
        let lo = pos.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 2.0;
        let hi = pos.iter().copied().fold(0.0f64, f64::max).max(1e-6) * 2.0;
        let mut ch = frame
            .on(area)
            .build_cartesian_2d(0f64..xmax, (lo..hi).log_scale())
            .map_err(draw_error)?;
        draw_axes(&mut ch, &axes)?;
        for (s, b) in sets.iter().zip(&bands) {
            let b: Vec<_> = b.iter().copied().filter(|x| x.2 > 0.0).collect();
            draw_set(&mut ch, s.0, s.2, &b)?;
        }
        legend_box(&mut ch, SeriesLabelPosition::LowerLeft, 12)
    } else {
        let all: Vec<f64> = bands
            .iter()
            .flat_map(|b| b.iter().skip(1).map(|x| x.2))
            .collect();
        let lo = (all.iter().copied().fold(1.0f64, f64::min) - 0.02).max(0.0);
        let mut ch = frame
            .on(area)
            .build_cartesian_2d(0f64..xmax, lo..1.005f64)
            .map_err(draw_error)?;
        draw_axes(&mut ch, &axes)?;
        for (s, b) in sets.iter().zip(&bands) {
            draw_set(&mut ch, s.0, s.2, b)?;
        }
        legend_box(&mut ch, SeriesLabelPosition::LowerRight, 12)
    }
}

/// A set's min-max band (translucent) and its mean (a line).
fn draw_set<'a, DB, CT>(
    ch: &mut ChartContext<'a, DB, CT>,
    name: &str,
    col: RGBColor,
    b: &[(f64, f64, f64, f64)],
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    if b.is_empty() {
        return Ok(());
    }
    let mut poly: Vec<(f64, f64)> = b.iter().map(|x| (x.0, x.3)).collect();
    poly.extend(b.iter().rev().map(|x| (x.0, x.2)));
    ch.draw_series(std::iter::once(Polygon::new(poly, col.mix(0.2).filled())))
        .map_err(draw_error)?;
    ch.draw_series(LineSeries::new(
        b.iter().map(|x| (x.0, x.1)),
        col.stroke_width(2),
    ))
    .map_err(draw_error)?
    .label(name.to_string())
    .legend(line_key(col.stroke_width(2)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves(val: &[f64]) -> Curves {
        let n = val.len();
        Curves {
            epoch: (0..n as i64).collect(),
            val_loss: val.to_vec(),
            ..Curves::default()
        }
    }

    #[test]
    fn the_band_is_the_mean_min_and_max_over_seeds() {
        let a = curves(&[1.0, 0.5, 0.7]);
        let b = curves(&[3.0, 0.1, f64::NAN]);
        let band = band(&[&a, &b], |c| &c.val_loss);
        // The third epoch has no finite value in one run: left out.
        assert_eq!(band, [(0.0, 2.0, 1.0, 3.0), (1.0, 0.3, 0.1, 0.5)]);
    }

    #[test]
    fn the_figure_is_drawn() {
        let d = tempfile::tempdir().unwrap();
        let a = curves(&[1.0, 0.5, 0.7]);
        let mut b = curves(&[1.5, 0.4, 0.9]);
        b.val_acc = vec![0.1, 0.8, 0.9];
        let cases = [SeedCurves {
            name: "case A, 2 seeds".into(),
            runs: vec![&a, &b],
        }];
        let files = seed_bands(d.path(), "t", &cases).unwrap();
        assert!(files.iter().all(|f| f.is_file()), "{files:?}");
    }
}
