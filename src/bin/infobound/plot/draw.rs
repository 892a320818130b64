//! Drawing a [`Figure`] with plotters on any backend: the grid of panels, each panel's axes,
//! series and legend.

use std::ops::Range;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::layout::{emptiest_corner, finite_runs, steps, thin, tick, widen, x_extent, y_extent};
use super::{Figure, Legend, Panel, Style, FONT};

/// Draws the heading and every panel on `root`.
pub(super) fn draw_figure<DB: DrawingBackend>(
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
        let hi = if y1 > lo { y1 } else { lo * 10.0 };
        // Plotters labels a log axis at powers of ten only: span whole decades, so that at
        // least two ticks carry labels however narrow the values are.
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
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
        // A series without a label stays out of the legend: no glyph, no empty entry.
        let labelled = !s.label.is_empty();
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
                let a = chart.draw_series(dots).map_err(err)?;
                match labelled {
                    true => a.legend(move |(lx, ly)| Circle::new((lx + 9, ly), 3, color.filled())),
                    false => a,
                }
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
                    Some(a) if labelled => a.legend(legend_line),
                    Some(a) => a,
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
                    Some(a) if !labelled => a,
                    Some(a) => a.legend(move |(lx, ly)| {
                        PathElement::new(vec![(lx, ly), (lx + 7, ly)], color.stroke_width(2))
                    }),
                    None => continue,
                }
            }
        };
        if labelled {
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
