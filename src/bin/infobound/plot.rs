//! Every figure the command line draws, described as data and drawn by one function with
//! plotters: PNG or SVG by the file's extension.
//!
//! A command builds a [`Figure`] (panels in a grid, each with its series) and calls [`write`];
//! nothing here knows about estimates or staircases. Text uses the DejaVu Sans subset bundled
//! under `assets/fonts/`, so no system font library is needed.

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::failure::{runtime, usage, Failure};

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
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-subset.ttf");
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
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are compiled in and checked by a test; failing here would be a bug.
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the bundled font does not parse");
        }
    });
}

/// Draws the heading and every panel on `root`.
fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    columns: usize,
    rows: usize,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let body = if figure.title.is_empty() {
        root.clone()
    } else {
        root.titled(&figure.title, (FONT, 20))
            .map_err(|e| e.to_string())?
    };
    let cells = body.split_evenly((rows, columns));
    for (panel, cell) in figure.panels.iter().zip(&cells) {
        draw_panel(cell, panel)?;
    }
    Ok(())
}

/// Draws one panel in `area`, on a linear or a logarithmic vertical axis.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> Result<(), String> {
    let (x0, x1) = panel.x_range.unwrap_or_else(|| x_extent(panel));
    let (y0, y1) = panel.y_range.unwrap_or_else(|| y_extent(panel));
    let (x0, x1) = widen(x0, x1);
    let (y0, y1) = if panel.log_y {
        let lo = if y0 > 0.0 { y0 } else { 1e-6 };
        (lo, if y1 > lo { y1 } else { lo * 10.0 })
    } else {
        widen(y0, y1)
    };
    if panel.log_y {
        draw_axes(area, panel, x0..x1, (y0..y1).log_scale(), (y0, y1))
    } else {
        draw_axes(area, panel, x0..x1, y0..y1, (y0, y1))
    }
}

/// Draws the frame, the grid, the series and the legend of one panel whose vertical
/// coordinate is `y` (spanning `clip`).
fn draw_axes<DB, Y>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: Range<f64>,
    y: Y,
    clip: (f64, f64),
) -> Result<(), String>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (x0, x1) = (x.start, x.end);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(6)
        .y_labels(8)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(err)?;
    let clamp = |(px, py): (f64, f64)| (px, py.clamp(clip.0, clip.1));
    for s in &panel.series {
        let color = s.color;
        let legend_line = move |(lx, ly): (i32, i32)| {
            PathElement::new(vec![(lx, ly), (lx + 18, ly)], color.stroke_width(2))
        };
        let anno = match s.style {
            Style::Dots | Style::Markers => {
                let radius = if s.style == Style::Dots { 1 } else { 3 };
                let kept = thin(&s.points);
                for &(i, (px, py)) in &kept {
                    if let Some(&e) = s.y_err.get(i) {
                        if px.is_finite() && py.is_finite() && e.is_finite() {
                            let bar = vec![clamp((px, py - e)), clamp((px, py + e))];
                            chart
                                .draw_series(std::iter::once(PathElement::new(bar, color)))
                                .map_err(err)?;
                        }
                    }
                }
                let dots = kept
                    .into_iter()
                    .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
                    .map(|(_, p)| Circle::new(clamp(p), radius, color.filled()));
                chart
                    .draw_series(dots)
                    .map_err(err)?
                    .legend(move |(lx, ly)| Circle::new((lx + 9, ly), 3, color.filled()))
            }
            Style::Line | Style::Step => {
                let pts = if s.style == Style::Step {
                    steps(&s.points)
                } else {
                    s.points.clone()
                };
                let width = if s.style == Style::Step { 2 } else { 1 };
                let mut anno = None;
                for run in finite_runs(&pts) {
                    let run: Vec<_> = thin(&run).into_iter().map(|(_, p)| clamp(p)).collect();
                    anno = Some(
                        chart
                            .draw_series(LineSeries::new(run, color.stroke_width(width)))
                            .map_err(err)?,
                    );
                }
                match anno {
                    Some(a) => a.legend(legend_line),
                    None => continue,
                }
            }
            Style::Reference => {
                let mut anno = None;
                for &(_, level) in s.points.iter().filter(|p| p.1.is_finite()) {
                    let run = vec![clamp((x0, level)), clamp((x1, level))];
                    anno = Some(
                        chart
                            .draw_series(DashedLineSeries::new(run, 6, 4, color.stroke_width(2)))
                            .map_err(err)?,
                    );
                }
                match anno {
                    Some(a) => a.legend(move |(lx, ly)| {
                        PathElement::new(vec![(lx, ly), (lx + 7, ly)], color.stroke_width(2))
                    }),
                    None => continue,
                }
            }
        };
        if !s.label.is_empty() {
            anno.label(s.label.as_str());
        }
    }
    let position = match &panel.legend {
        Legend::Hidden => None,
        Legend::Auto => Some(emptiest_corner(panel, (x0, x1), clip)),
    };
    if let Some(position) = position {
        if panel.series.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .position(position.clone())
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(190, 190, 190))
                .draw()
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The place for the legend: of the plot's four corners and the middles of its left and right
/// edges (boxes 40 % wide, 35 % or 30 % high), the one the fewest points fall in, reference
/// lines counted as a row of points; ties go to the corners, upper before lower, left before
/// right.
fn emptiest_corner(panel: &Panel, x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
    let frac = |v: f64, (lo, hi): (f64, f64), log: bool| {
        if log {
            (v.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    // Upper left, upper right, lower left, lower right, middle left, middle right.
    let mut counts = [0usize; 6];
    let mut count = |px: f64, py: f64| {
        if !py.is_finite() {
            return;
        }
        let fx = frac(px, x, false);
        let fy = frac(py.clamp(y.0, y.1), y, panel.log_y);
        let col = if fx < 0.4 {
            Some(0)
        } else if fx > 0.6 {
            Some(1)
        } else {
            None
        };
        let row = if fy > 0.65 {
            0
        } else if fy < 0.35 {
            2
        } else {
            4
        };
        if let Some(c) = col {
            counts[row + c] += 1;
        }
    };
    for s in &panel.series {
        if s.style == Style::Reference {
            for &(_, level) in &s.points {
                for i in 0..=20 {
                    count(x.0 + (x.1 - x.0) * f64::from(i) / 20.0, level);
                }
            }
        } else {
            for (_, (px, py)) in thin(&s.points) {
                count(px, py);
            }
        }
    }
    let best = (0..6).min_by_key(|&i| counts[i]).unwrap_or(0);
    [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::LowerLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::MiddleLeft,
        SeriesLabelPosition::MiddleRight,
    ][best]
        .clone()
}

/// A tick label: at most three decimals and no trailing zeros (2, 2.5, 0.125), powers of ten
/// in scientific notation when the value is very small or large (1e-5, 1e6).
fn tick(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        return format!("{v:e}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The horizontal span of a panel's points (reference lines excluded).
fn x_extent(panel: &Panel) -> (f64, f64) {
    extent(
        panel
            .series
            .iter()
            .filter(|s| s.style != Style::Reference)
            .flat_map(|s| s.points.iter().map(|p| p.0)),
    )
}

/// The vertical span of a panel's finite values and error bars (positive ones on a log axis).
fn y_extent(panel: &Panel) -> (f64, f64) {
    let values = panel.series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.y_err.get(i).copied().unwrap_or(0.0);
            [p.1 - e, p.1 + e]
        })
    });
    if panel.log_y {
        extent(values.filter(|v| *v > 0.0))
    } else {
        let (lo, hi) = extent(values);
        let pad = (hi - lo) * 0.04;
        (lo - pad, hi + pad)
    }
}

/// The least and greatest finite value, (0, 1) when there is none.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// A range with room in it: an empty or reversed one grows by one either side.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// At most [`MAX_POINTS`] of `points`, evenly strided, the last kept, each with its index.
fn thin(points: &[(f64, f64)]) -> Vec<(usize, (f64, f64))> {
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let mut kept: Vec<_> = points.iter().copied().enumerate().step_by(stride).collect();
    if let (Some(last), Some(&(i, _))) = (points.last(), kept.last()) {
        if i + 1 != points.len() {
            kept.push((points.len() - 1, *last));
        }
    }
    kept
}

/// The runs of consecutive points with a finite y, split where a NaN or infinity breaks them.
fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(|p| !p.1.is_finite() || !p.0.is_finite())
        .filter(|run| !run.is_empty())
        .map(<[_]>::to_vec)
        .collect()
}

/// The corners of the staircase through `points`: level to the next x, then up or down.
/// Points that repeat the previous level are dropped, so thinning keeps every step.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in points {
        match out.last() {
            Some(&(_, prev)) if prev == y => {}
            Some(&(_, prev)) => {
                out.push((x, prev));
                out.push((x, y));
            }
            None => out.push((x, y)),
        }
    }
    if let (Some(&(x, y)), Some(&(lx, _))) = (points.last(), out.last()) {
        if x != lx {
            out.push((x, y));
        }
    }
    out
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
    fn steps_keep_every_level_and_the_end() {
        let pts = [(0.0, 2.0), (1.0, 2.0), (2.0, 4.0), (3.0, 4.0)];
        assert_eq!(
            steps(&pts),
            vec![(0.0, 2.0), (2.0, 2.0), (2.0, 4.0), (3.0, 4.0)]
        );
    }

    #[test]
    fn the_moving_average_skips_nan_and_follows_a_constant() {
        let m = moving_average(&[f64::NAN, 2.0, f64::NAN, 2.0]);
        assert!(m[0].is_nan());
        assert_eq!(&m[1..], &[2.0, 2.0, 2.0]);
    }

    #[test]
    fn the_legend_goes_where_the_points_are_not() {
        let rising = Series::indexed("r", (0..100).map(f64::from), Style::Line, BRICK);
        let panel = Panel {
            series: vec![rising],
            ..Panel::default()
        };
        let corner = emptiest_corner(&panel, (0.0, 99.0), (0.0, 99.0));
        assert_eq!(corner, SeriesLabelPosition::UpperLeft);
        let falling = Series::indexed("f", (0..100).map(|i| f64::from(99 - i)), Style::Line, BRICK);
        let panel = Panel {
            series: vec![falling, Series::reference("top", 95.0, BRICK)],
            ..Panel::default()
        };
        let corner = emptiest_corner(&panel, (0.0, 99.0), (0.0, 99.0));
        assert_eq!(corner, SeriesLabelPosition::LowerLeft);
        // Low values under a ceiling leave only the middle free.
        let low = Series::indexed("l", (0..100).map(|i| f64::from(i % 3)), Style::Dots, BRICK);
        let panel = Panel {
            series: vec![low, Series::reference("ceiling", 90.0, BRICK)],
            ..Panel::default()
        };
        let corner = emptiest_corner(&panel, (0.0, 99.0), (0.0, 99.0));
        assert_eq!(corner, SeriesLabelPosition::MiddleLeft);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(50.0), "50");
        assert_eq!(tick(-2.5), "-2.5");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(-0.0001), "-1e-4");
        assert_eq!(tick(1e6), "1e6");
        assert_eq!(tick(-0.0), "0");
    }

    #[test]
    fn thinning_caps_the_points_and_keeps_the_last() {
        let pts: Vec<_> = (0..10_001).map(|i| (i as f64, 0.0)).collect();
        let kept = thin(&pts);
        assert!(kept.len() <= MAX_POINTS + 1);
        assert_eq!(kept.last().unwrap().0, 10_000);
    }
}
