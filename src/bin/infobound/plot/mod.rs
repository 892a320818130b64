//! Every figure the command line draws, described as data and drawn by one function with
//! plotters: PNG or SVG by the file's extension.
//!
//! A command builds a [`Figure`] (panels in a grid, each with its series) and calls [`write`];
//! nothing here knows about estimates or staircases. Text uses the DejaVu Sans subset bundled
//! under `assets/fonts/`, so no system font library is needed.

mod draw;
mod heatmap;
mod layout;

use std::path::Path;
use std::sync::Once;

use plotters::prelude::{BitMapBackend, FontStyle, IntoDrawingArea, SVGBackend};

use crate::failure::{runtime, usage, Failure};
use draw::draw_figure;
pub use heatmap::{write_heatmap, HeatMap};

pub use plotters::style::{RGBColor, BLACK};

/// A light blue for raw, noisy values drawn under their smoothed line.
pub const LIGHT_BLUE: RGBColor = RGBColor(158, 202, 225);
/// A dark blue for smoothed lines.
pub const DARK_BLUE: RGBColor = RGBColor(8, 81, 156);
/// An orange for held-out evaluations.
pub const ORANGE: RGBColor = RGBColor(230, 85, 13);
/// A red for reference lines such as ln K.
pub const BRICK: RGBColor = RGBColor(214, 39, 40);

/// The font family text is drawn in, registered once with the bundled font.
const FONT: &str = "sans-serif";
/// The bundled font (DejaVu Sans, cut to the characters plots use; licence beside it).
static FONT_BYTES: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-subset.ttf");
/// The most points a series is drawn with; longer ones are thinned evenly.
const MAX_POINTS: usize = 2500;

/// A figure: panels in a grid, filled row by row.
#[derive(Clone, Debug)]
pub struct Figure {
    /// The panels, row by row.
    pub panels: Vec<Panel>,
    /// How many panels a row holds (at least 1).
    pub columns: usize,
    /// One panel's size in pixels (width, height); the figure is the grid of them.
    pub panel_size: (u32, u32),
    /// A heading over the whole figure; empty for none.
    pub title: String,
}

impl Default for Figure {
    fn default() -> Self {
        Figure {
            panels: Vec::new(),
            columns: 1,
            panel_size: (640, 400),
            title: String::new(),
        }
    }
}

/// One plot: axes, a title and the series drawn in it.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// The heading over the plot.
    pub title: String,
    /// The horizontal axis' name.
    pub x_label: String,
    /// The vertical axis' name.
    pub y_label: String,
    /// A logarithmic vertical axis; points at or below zero are then left out.
    pub log_y: bool,
    /// The series, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// The horizontal range; `None` spans the points.
    pub x_range: Option<(f64, f64)>,
    /// The vertical range; `None` spans the finite points. Values outside it are drawn on
    /// its edge, so that a diverging run shows without squashing the rest.
    pub y_range: Option<(f64, f64)>,
    /// Where the legend of labelled series goes.
    pub legend: Legend,
}

/// Where a panel's legend goes.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Legend {
    /// In the corner with the fewest points.
    #[default]
    Auto,
    /// No legend.
    Hidden,
}

/// A named set of points and how to draw them.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's text; empty keeps the series out of the legend.
    pub label: String,
    /// The points (x, y); non-finite y values break lines and are not drawn.
    pub points: Vec<(f64, f64)>,
    /// How the points are drawn.
    pub style: Style,
    /// The colour.
    pub color: RGBColor,
    /// Half-widths of vertical error bars, one a point; empty for none.
    pub y_err: Vec<f64>,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Small dots, no line: raw per-step values.
    Dots,
    /// Larger markers: a few evaluations (with `y_err`, error bars).
    Markers,
    /// A solid line through the points.
    Line,
    /// A dashed horizontal line across the panel at each point's y (x is ignored): a
    /// reference value such as a ceiling or ln K.
    Reference,
    /// A staircase: level from each point to the next one's x, then a vertical rise.
    Step,
}

impl Series {
    /// A series of `points` drawn in `style` and `color`, labelled `label`.
    pub fn new(
        label: impl Into<String>,
        points: Vec<(f64, f64)>,
        style: Style,
        color: RGBColor,
    ) -> Self {
        Series {
            label: label.into(),
            points,
            style,
            color,
            y_err: Vec::new(),
        }
    }

    /// A dashed horizontal reference line at `y` across the panel.
    pub fn reference(label: impl Into<String>, y: f64, color: RGBColor) -> Self {
        Series::new(label, vec![(0.0, y)], Style::Reference, color)
    }

    /// `values` as a series over their indices 0, 1, 2, …
    pub fn indexed(
        label: impl Into<String>,
        values: impl IntoIterator<Item = f64>,
        style: Style,
        color: RGBColor,
    ) -> Self {
        let points = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as f64, v))
            .collect();
        Series::new(label, points, style, color)
    }

    /// The same series with vertical error bars of half-width `y_err` (one a point).
    pub fn with_errors(mut self, y_err: Vec<f64>) -> Self {
        self.y_err = y_err;
        self
    }
}

/// The exponential moving average of `values` over about a fiftieth of them, skipping
/// non-finite ones (NaN until the first finite value): the smoothed line over raw per-step
/// values.
pub fn moving_average(values: &[f64]) -> Vec<f64> {
    let a = 2.0 / (values.len() as f64 / 50.0 + 1.0).max(2.0);
    let mut ema = None::<f64>;
    values
        .iter()
        .map(|&v| {
            if v.is_finite() {
                ema = Some(ema.map_or(v, |e| e + a * (v - e)));
            }
            ema.unwrap_or(f64::NAN)
        })
        .collect()
}

/// The file formats [`write`] produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A PNG bitmap.
    Png,
    /// An SVG drawing.
    Svg,
}

/// The format `path`'s extension asks for (.png or .svg, any case), or bad input.
pub fn format_of(path: &Path) -> Result<Format, Failure> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("png") {
        Ok(Format::Png)
    } else if ext.eq_ignore_ascii_case("svg") {
        Ok(Format::Svg)
    } else {
        Err(usage(format!(
            "{}: figures are written as .png or .svg",
            path.display()
        )))
    }
}

/// Draws `figure` into `path`, a PNG or an SVG by its extension.
pub fn write(figure: &Figure, path: &Path) -> Result<(), Failure> {
    let format = format_of(path)?;
    register_font();
    let columns = figure.columns.max(1);
    let rows = figure.panels.len().div_ceil(columns).max(1);
    let heading = if figure.title.is_empty() { 0 } else { 34 };
    let size = (
        figure.panel_size.0 * columns as u32,
        figure.panel_size.1 * rows as u32 + heading,
    );
    let fail = |e: String| runtime(format!("cannot draw {}: {e}", path.display()));
    match format {
        Format::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw_figure(&root, figure, columns, rows).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        Format::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw_figure(&root, figure, columns, rows).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
    }
}

/// Registers the bundled font as the family [`FONT`], once a process.
pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are compiled in and checked by a test; failing here would be a bug.
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the bundled font does not parse");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        let wild = [0.5, f64::NAN, 1e30, -1e30, 2.0, 3.0];
        Figure {
            panels: vec![
                Panel {
                    title: "a <b> & c".into(),
                    x_label: "step".into(),
                    y_label: "nats".into(),
                    series: vec![
                        Series::indexed("raw", wild, Style::Dots, LIGHT_BLUE),
                        Series::indexed("line", wild, Style::Line, DARK_BLUE),
                        Series::indexed(
                            "truth",
                            [2.0, 2.0, 4.0, 4.0, 4.0, 6.0],
                            Style::Step,
                            DARK_BLUE,
                        ),
                        Series::reference("ln K", 4.16, BRICK),
                        Series::new("eval", vec![(2.0, 1.0), (5.0, 2.5)], Style::Markers, ORANGE)
                            .with_errors(vec![0.2, 0.3]),
                    ],
                    y_range: Some((-2.0, 8.0)),
                    ..Panel::default()
                },
                Panel {
                    title: "log panel".into(),
                    log_y: true,
                    series: vec![Series::indexed(
                        "l",
                        [1.0, 10.0, 0.0, 100.0],
                        Style::Line,
                        BRICK,
                    )],
                    ..Panel::default()
                },
            ],
            columns: 2,
            panel_size: (320, 240),
            title: "figure".into(),
        }
    }

    #[test]
    fn writes_a_png_and_an_svg_with_titles_and_no_nan() {
        let dir = std::env::temp_dir().join(format!("infobound-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("f.png");
        let svg = dir.join("f.SVG");
        write(&figure(), &png).unwrap_or_else(|f| panic!("{}", f.msg));
        write(&figure(), &svg).unwrap_or_else(|f| panic!("{}", f.msg));
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // The IHDR chunk's width and height: two panels of 320 × 240 and a 34-pixel heading.
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 640);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 274);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("a &lt;b&gt; &amp; c"), "title escaped");
        assert!(text.contains("log panel") && text.contains("ln K"));
        assert!(!text.contains("NaN") && !text.contains("inf"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_extensions_are_bad_input() {
        let f = write(&figure(), Path::new("plot.pdf")).err().unwrap();
        assert_eq!(f.code, 2);
        assert!(f.msg.contains(".png or .svg"), "{}", f.msg);
    }

    #[test]
    fn the_moving_average_skips_nan_and_follows_a_constant() {
        let m = moving_average(&[f64::NAN, 2.0, f64::NAN, 2.0]);
        assert!(m[0].is_nan());
        assert_eq!(&m[1..], &[2.0, 2.0, 2.0]);
    }
}
