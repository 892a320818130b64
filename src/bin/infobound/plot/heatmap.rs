//! A heat map: a square matrix drawn as coloured cells with each value written in its cell,
//! labels along the left and the top, and empty cells (NaN) in grey.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{format_of, register_font, Format, FONT};
use crate::failure::{runtime, Failure};

/// A square matrix to draw.
pub struct HeatMap {
    /// The heading.
    pub title: String,
    /// A label a row (and the same a column).
    pub labels: Vec<String>,
    /// `values[i][j]`; NaN for an empty cell.
    pub values: Vec<Vec<f64>>,
}

/// Pixels of one cell, and of the margins for the labels and the heading.
const CELL: u32 = 72;
const LEFT: u32 = 110;
const TOP: u32 = 70;

/// Draws `map` into `path`, a PNG or an SVG by its extension.
pub fn write_heatmap(map: &HeatMap, path: &Path) -> Result<(), Failure> {
    let format = format_of(path)?;
    register_font();
    let n = map.labels.len() as u32;
    // Wide enough for the heading too (about 9 pixels a character at 18 points).
    let heading = map.title.chars().count() as u32 * 9 + 20;
    let size = ((LEFT + n * CELL + 20).max(heading), TOP + n * CELL + 20);
    let fail = |e: String| runtime(format!("cannot draw {}: {e}", path.display()));
    match format {
        Format::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, map).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        Format::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, map).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
    }
}

/// The cells, their values and the labels.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, map: &HeatMap) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let centred = Pos::new(HPos::Center, VPos::Center);
    let heading = TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(map.title.clone(), (10, 10), heading))
        .map_err(err)?;
    let top = max_finite(&map.values);
    let label = TextStyle::from((FONT, 14).into_font()).pos(centred);
    for (i, name) in map.labels.iter().enumerate() {
        let mid = (i as u32 * CELL + CELL / 2) as i32;
        root.draw(&Text::new(
            name.clone(),
            (LEFT as i32 / 2, TOP as i32 + mid),
            label.clone(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            name.clone(),
            (LEFT as i32 + mid, TOP as i32 - 16),
            label.clone(),
        ))
        .map_err(err)?;
    }
    for (i, row) in map.values.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let (x, y) = (
                (LEFT + j as u32 * CELL) as i32,
                (TOP + i as u32 * CELL) as i32,
            );
            let c = CELL as i32;
            let shade = shade(v, top);
            root.draw(&Rectangle::new([(x, y), (x + c, y + c)], shade.filled()))
                .map_err(err)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + c, y + c)],
                WHITE.stroke_width(1),
            ))
            .map_err(err)?;
            if v.is_finite() {
                let ink = if v / top > 0.55 { WHITE } else { BLACK };
                let text = TextStyle::from((FONT, 14).into_font())
                    .color(&ink)
                    .pos(centred);
                root.draw(&Text::new(format!("{v:.2}"), (x + c / 2, y + c / 2), text))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// The largest finite value (at least a small positive number, so that a matrix of zeros
/// draws white).
fn max_finite(values: &[Vec<f64>]) -> f64 {
    values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(1e-9, f64::max)
}

/// White at or below 0, dark blue at `top`; grey for an empty cell.
fn shade(v: f64, top: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(220, 220, 220);
    }
    let t = (v / top).clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (f64::from(a) + t * (f64::from(b) - f64::from(a))).round() as u8;
    RGBColor(mix(247, 8), mix(251, 48), mix(255, 107))
}
