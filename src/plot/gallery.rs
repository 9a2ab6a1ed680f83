//! A gallery of samples: each drawn as its 28x28 image (dark ink on
//! white) with `label -> prediction` (red when wrong), its loss, the
//! epochs it spent above the Tukey fence, and an optional caption line.
//! Sections (e.g. "highest final loss", "never outliers") each start
//! with a header row. Used by `report` and by `compare`.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{draw_error, png_and_svg, DrawResult, Figure, FONT};
use crate::error::{Error, Result};
use crate::model::INPUTS;

/// Image side in pixels.
const SIDE: usize = 28;
/// Screen pixels per image pixel.
const SCALE: i32 = 4;
/// Images per row.
const COLUMNS: usize = 10;
/// Width and height of one cell (image, four text lines, padding).
const CELL: (i32, i32) = (142, 188);
/// Height of a section header.
const HEADER: i32 = 34;
/// Left and right margin.
const MARGIN: i32 = 14;

/// Right prediction.
const RIGHT: RGBColor = RGBColor(30, 110, 30);
/// Wrong prediction.
const WRONG: RGBColor = RGBColor(200, 20, 20);

/// One sample in a gallery.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GalleryItem {
    /// Its 784 pixels, row-major, 0 = background.
    pub image: Vec<u8>,
    /// Its label.
    pub label: u8,
    /// The predicted class.
    pub pred: u8,
    /// Its loss (nats).
    pub loss: f32,
    /// Epochs it spent above the upper Tukey fence.
    pub outlier_epochs: i64,
    /// A further line under it (e.g. the sample's index), if any.
    pub caption: Option<String>,
}

/// A run of items under a header.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GallerySection {
    /// The header line above the items (empty: no header row).
    pub header: String,
    /// The items, drawn left to right, top to bottom.
    pub items: Vec<GalleryItem>,
}

/// One gallery without section headers: `items` drawn into
/// `DIR/NAME.png` and `DIR/NAME.svg`. Returns the files written.
#[cfg(test)]
pub fn gallery(dir: &Path, name: &str, title: &str, items: &[GalleryItem]) -> Result<Vec<PathBuf>> {
    let section = GallerySection {
        header: String::new(),
        items: items.to_vec(),
    };
    gallery_sections(dir, name, title, std::slice::from_ref(&section))
}

/// A gallery of several sections, each under its header. Returns the
/// files written. An item whose image is not 784 pixels is an error.
pub(crate) fn gallery_sections(
    dir: &Path,
    name: &str,
    title: &str,
    sections: &[GallerySection],
) -> Result<Vec<PathBuf>> {
    let bad = sections
        .iter()
        .flat_map(|s| &s.items)
        .find(|i| i.image.len() != INPUTS);
    if let Some(b) = bad {
        return Err(Error::usage(format!(
            "{}: a gallery image has {} pixels, not {INPUTS}",
            dir.join(name).display(),
            b.image.len()
        )));
    }
    let fig = GalleryFig { title, sections };
    png_and_svg(dir, name, fig.size(), &fig)
}

struct GalleryFig<'a> {
    title: &'a str,
    sections: &'a [GallerySection],
}

impl GalleryFig<'_> {
    /// Rows of cells of `s`.
    fn rows(s: &GallerySection) -> i32 {
        s.items.len().div_ceil(COLUMNS) as i32
    }

    /// Height of `s`: its header and its rows.
    fn height(s: &GallerySection) -> i32 {
        let header = if s.header.is_empty() { 0 } else { HEADER };
        header + Self::rows(s) * CELL.1
    }

    /// The whole figure: the title band, the sections, a bottom margin.
    fn size(&self) -> (u32, u32) {
        let w = 2 * MARGIN + COLUMNS as i32 * CELL.0;
        let h = 50 + self.sections.iter().map(Self::height).sum::<i32>() + 10;
        (w as u32, h.max(120) as u32)
    }
}

impl Figure for GalleryFig<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut y = 4;
        for s in self.sections {
            if !s.header.is_empty() {
                let style = TextStyle::from((FONT, 18).into_font()).color(&BLACK);
                area.draw(&Text::new(s.header.clone(), (MARGIN, y + 6), style))
                    .map_err(draw_error)?;
                y += HEADER;
            }
            for (k, item) in s.items.iter().enumerate() {
                let (row, col) = ((k / COLUMNS) as i32, (k % COLUMNS) as i32);
                cell(area, (MARGIN + col * CELL.0, y + row * CELL.1), item)?;
            }
            y += Self::rows(s) * CELL.1;
        }
        Ok(())
    }
}

/// Draws `item` with its cell's top-left corner at `at`.
fn cell<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    item: &GalleryItem,
) -> DrawResult {
    let side = SIDE as i32 * SCALE;
    let (x0, y0) = (at.0 + (CELL.0 - side) / 2, at.1 + 2);
    area.draw(&Rectangle::new(
        [(x0 - 1, y0 - 1), (x0 + side, y0 + side)],
        BLACK.mix(0.35).stroke_width(1),
    ))
    .map_err(draw_error)?;
    // Ink only: background pixels stay white (smaller SVGs).
    for (p, &v) in item.image.iter().enumerate().filter(|(_, &v)| v > 0) {
        let (r, c) = ((p / SIDE) as i32, (p % SIDE) as i32);
        let g = 255 - v;
        let (x, y) = (x0 + c * SCALE, y0 + r * SCALE);
        area.draw(&Rectangle::new(
            [(x, y), (x + SCALE, y + SCALE)],
            RGBColor(g, g, g).filled(),
        ))
        .map_err(draw_error)?;
    }
    let centre = at.0 + CELL.0 / 2;
    let text = |s: String, line: i32, size: u32, colour: RGBColor| {
        let style = TextStyle::from((FONT, size).into_font())
            .color(&colour)
            .pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(s, (centre, y0 + side + 4 + 16 * line), style))
            .map_err(draw_error)
    };
    let colour = if item.label == item.pred {
        RIGHT
    } else {
        WRONG
    };
    text(
        format!("{} \u{2192} {}", item.label, item.pred),
        0,
        16,
        colour,
    )?;
    text(format!("loss {}", fmt_loss(item.loss)), 1, 13, BLACK)?;
    text(
        format!("outlier epochs: {}", item.outlier_epochs),
        2,
        13,
        BLACK,
    )?;
    if let Some(c) = &item.caption {
        text(c.clone(), 3, 12, RGBColor(90, 90, 90))?;
    }
    Ok(())
}

/// A loss with three significant digits, in plain or `e` notation.
fn fmt_loss(l: f32) -> String {
    if l == 0.0 || (1e-2..1e4).contains(&l.abs()) {
        format!("{}", (l as f64 * 1000.0).round() / 1000.0)
    } else {
        format!("{l:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pixels: usize, label: u8, pred: u8) -> GalleryItem {
        GalleryItem {
            image: (0..pixels).map(|p| (p % 256) as u8).collect(),
            label,
            pred,
            loss: 3.25,
            outlier_epochs: 7,
            caption: Some("sample 12".into()),
        }
    }

    #[test]
    fn draws_sections_and_refuses_wrong_sizes() {
        let d = tempfile::tempdir().unwrap();
        let sections = [
            GallerySection {
                header: "wrong ones".into(),
                items: (0..13).map(|k| item(INPUTS, k % 10, 3)).collect(),
            },
            GallerySection {
                header: "right ones".into(),
                items: vec![item(INPUTS, 4, 4)],
            },
        ];
        let files = gallery_sections(d.path(), "g", "a gallery", &sections).unwrap();
        assert_eq!(files, vec![d.path().join("g.png"), d.path().join("g.svg")]);
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("wrong ones") && svg.contains("outlier epochs: 7"));
        assert!(svg.contains("sample 12") && svg.contains("3 \u{2192} 3"));
        // Two rows, one row, two headers.
        assert_eq!(
            GalleryFig {
                title: "",
                sections: &sections
            }
            .size()
            .1 as i32,
            50 + 2 * HEADER + 3 * CELL.1 + 10
        );
        let one = gallery(d.path(), "h", "plain", &[item(INPUTS, 1, 2)]).unwrap();
        assert!(one[0].is_file());
        let e = gallery(d.path(), "bad", "t", &[item(100, 1, 1)]).unwrap_err();
        assert!(
            e.to_string().contains("bad") && e.to_string().contains("100 pixels"),
            "{e}"
        );
        assert!(!d.path().join("bad.png").exists());
    }

    #[test]
    fn losses_are_short() {
        assert_eq!(fmt_loss(12.34567), "12.346");
        assert_eq!(fmt_loss(0.0), "0");
        assert_eq!(fmt_loss(1.5e-7), "1.50e-7");
    }
}
