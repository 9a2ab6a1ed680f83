//! What every figure shares: the embedded font, drawing one figure into
//! PNG and SVG, the colours, and the chart, axes, legend and colour-bar
//! setup of a panel.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::error::{Error, ErrorKind, Result};

/// The family name the embedded font is registered under.
pub(super) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; if registration
        // failed, text would simply not be drawn.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// What drawing returns: plotters' errors as text.
pub(super) type DrawResult = std::result::Result<(), String>;

/// A plotters (drawing) error as text, for `map_err`.
pub(super) fn draw_error<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// One figure: a title and what is drawn below it, on any backend.
pub(super) trait Figure {
    /// The title above the whole figure.
    fn title(&self) -> &str;
    /// Draws the figure into `area`, the part below the title.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Draws `fig` into `DIR/NAME.png` and `DIR/NAME.svg`, `size` pixels.
/// Returns the files written.
pub(super) fn png_and_svg(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    fig: &impl Figure,
) -> Result<Vec<PathBuf>> {
    register_font();
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    let cannot = |path: &Path, e: String| {
        Error::new(
            ErrorKind::Io,
            format!("{}: cannot draw: {e}", path.display()),
        )
    };
    render(BitMapBackend::new(&png, size).into_drawing_area(), fig).map_err(|e| cannot(&png, e))?;
    render(SVGBackend::new(&svg, size).into_drawing_area(), fig).map_err(|e| cannot(&svg, e))?;
    Ok(vec![png, svg])
}

/// A white page, the title, the figure, and the file written.
fn render<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &impl Figure) -> DrawResult {
    root.fill(&WHITE).map_err(draw_error)?;
    let area = root.titled(fig.title(), (FONT, 22)).map_err(draw_error)?;
    fig.draw(&area)?;
    root.present().map_err(draw_error)
}

/// Training set.
pub(super) const TRAIN: RGBColor = RGBColor(31, 119, 180);
/// Validation set.
pub(super) const VAL: RGBColor = RGBColor(214, 39, 40);
/// Evaluation set.
pub(super) const EVAL: RGBColor = RGBColor(44, 160, 44);
/// Categories without an order (tab10's first eight).
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Viridis, from 9 control points (0 = dark purple, 1 = yellow).
pub(super) fn viridis(t: f64) -> RGBColor {
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

/// The legend key of a line series: a 20-pixel stroke.
pub(super) fn line_key(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// The legend key of a dashed line series: 20 pixels of 5-pixel dashes.
pub(super) fn dash_key(
    style: ShapeStyle,
) -> impl Fn((i32, i32)) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], 5, 3, style)
}

/// Margin, label areas and caption of one chart panel.
pub(super) struct Frame<'a> {
    /// Caption above the panel.
    pub caption: &'a str,
    /// Its font size.
    pub caption_size: u32,
    /// Margin on all four sides.
    pub margin: u32,
    /// Height of the x label area (bottom).
    pub x_labels: u32,
    /// Width of the y label area (left).
    pub y_labels: u32,
}

impl Frame<'_> {
    /// A chart builder on `area` with this frame; the caller adds any
    /// other label area and builds the coordinates.
    pub(super) fn on<'a, 'b, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(area);
        b.margin(self.margin)
            .x_label_area_size(self.x_labels)
            .y_label_area_size(self.y_labels)
            .caption(self.caption, (FONT, self.caption_size));
        b
    }
}

/// The spec of an axis over `f64` values whose ticks can be labelled:
/// a linear range (`lo..hi`) or a log one (`(lo..hi).log_scale()`).
pub(super) trait Axis:
    AsRangedCoord<Value = f64, CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>>
{
}

impl<T> Axis for T
where
    T: AsRangedCoord<Value = f64>,
    T::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
}

/// A tick-label format.
pub(super) type Fmt = fn(&f64) -> String;

/// The axes of a chart: descriptions, tick formats, grid.
pub(super) struct Axes<'a> {
    /// Description of the x axis.
    pub x_desc: &'a str,
    /// Description of the y axis.
    pub y_desc: &'a str,
    /// Format of the x tick labels.
    pub x_fmt: Fmt,
    /// Format of the y tick labels.
    pub y_fmt: Fmt,
    /// Font size of tick labels and descriptions.
    pub label_size: u32,
    /// Whether the grid lines are drawn.
    pub grid: bool,
}

/// Draws the (primary) axes of `ch`.
pub(super) fn draw_axes<DB, X, Y>(
    ch: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    axes: &Axes,
) -> DrawResult
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_label_formatter(&axes.x_fmt)
        .y_label_formatter(&axes.y_fmt)
        .label_style((FONT, axes.label_size));
    if !axes.grid {
        mesh.disable_mesh();
    }
    mesh.draw().map_err(draw_error)
}

/// Draws the legend of the labelled series of `ch` at `pos`.
pub(super) fn legend_box<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    ch: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
    font_size: u32,
) -> DrawResult {
    ch.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, font_size))
        .draw()
        .map_err(draw_error)
}

/// Bands a colour bar is drawn with.
pub(super) const BAR_STEPS: usize = 64;

/// A vertical colour bar with a log axis on its right.
pub(super) struct ColourBar<'a> {
    /// Margins: top, bottom, left, right.
    pub margins: [u32; 4],
    /// Width of the label area on the right.
    pub label_area: u32,
    /// The values the bar spans (log axis).
    pub range: Range<f64>,
    /// Axis description.
    pub desc: &'a str,
    /// Font size of the labels.
    pub label_size: u32,
    /// Band `i` of [`BAR_STEPS`]: its lower and upper value and colour.
    pub band: &'a dyn Fn(usize) -> ((f64, f64), RGBColor),
}

/// Draws `bar` into `area`.
pub(super) fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bar: &ColourBar,
) -> DrawResult {
    let [top, bottom, left, right] = bar.margins;
    let mut cb = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_left(left)
        .margin_right(right)
        .right_y_label_area_size(bar.label_area)
        .build_cartesian_2d(0f64..1f64, bar.range.clone().log_scale())
        .map_err(draw_error)?
        .set_secondary_coord(0f64..1f64, bar.range.clone().log_scale());
    cb.configure_mesh()
        .disable_x_axis()
        .disable_y_axis()
        .disable_mesh()
        .draw()
        .map_err(draw_error)?;
    cb.configure_secondary_axes()
        .y_desc(bar.desc)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, bar.label_size))
        .draw()
        .map_err(draw_error)?;
    cb.draw_series((0..BAR_STEPS).map(|i| {
        let ((lo, hi), col) = (bar.band)(i);
        Rectangle::new([(0.0, lo), (1.0, hi)], col.filled())
    }))
    .map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }
}
