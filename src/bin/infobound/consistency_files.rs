//! What `infobound consistency` writes: every estimate with its ratio (consistency.csv), the
//! tables with their notes and verdicts (consistency.md, also printed) and the figure in the
//! paper's layout (consistency.png and consistency.svg: one panel a setting, the ratio against
//! t, one line a bound, the ideal dashed).

use std::path::Path;

use infobound::experiments::consistency::table::CSV_HEADER;
use infobound::experiments::consistency::{ConsistencyReport, Setting};

use crate::failure::Failure;
use crate::files::write_file;
use crate::plot::{self, Figure, Panel, RGBColor, Series, Style, BLACK, BRICK, DARK_BLUE, ORANGE};

/// One colour a bound, in the order the bounds were asked for (cycled past eight).
const PALETTE: [RGBColor; 8] = [
    DARK_BLUE,
    ORANGE,
    RGBColor(44, 160, 44),
    BRICK,
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The CSV of every bound's rows.
pub fn csv(reports: &[ConsistencyReport]) -> String {
    let mut s = format!("{CSV_HEADER}\n");
    for r in reports {
        s.push_str(&r.csv_rows());
    }
    s
}

/// Every bound's Markdown, one after the other, under the command that made them.
pub fn markdown(command: &str, reports: &[ConsistencyReport]) -> String {
    let mut s = format!("`{command}`\n\n");
    for r in reports {
        s.push_str(&r.to_markdown());
        s.push('\n');
    }
    s
}

/// Writes consistency.csv, .md, .png and .svg into `out`.
pub fn write(out: &Path, command: &str, reports: &[ConsistencyReport]) -> Result<(), Failure> {
    write_file(&out.join("consistency.csv"), &csv(reports))?;
    write_file(&out.join("consistency.md"), &markdown(command, reports))?;
    let figure = figure(reports);
    plot::write(&figure, &out.join("consistency.png"))?;
    plot::write(&figure, &out.join("consistency.svg"))
}

/// A panel's title: the setting and what its ratio divides.
fn title(setting: Setting, top: usize) -> String {
    match setting {
        Setting::Baseline => format!("baseline: I(t) / I(t = {top})"),
        Setting::Independence => "independence: I / baseline".into(),
        Setting::DataProcessing => "data processing: I / baseline".into(),
        Setting::Additivity => "additivity: I / baseline".into(),
        _ => setting.name().into(),
    }
}

/// A panel's vertical range: from 0 (or below the lowest ratio) to a little above the ideal
/// (at least 1) or the highest ratio, so that every panel shows its ideal against 0.
fn y_range(ideal: f64, series: &[Series]) -> (f64, f64) {
    let values = series
        .iter()
        .filter(|s| s.style == Style::Markers)
        .flat_map(|s| {
            s.points
                .iter()
                .zip(s.y_err.iter().chain(std::iter::repeat(&0.0)))
        })
        .map(|(p, e)| (p.1 - e.max(0.0), p.1 + e.max(0.0)))
        .filter(|(lo, hi)| lo.is_finite() && hi.is_finite());
    let (lo, hi) = values.fold((0.0f64, ideal.max(1.0) * 1.15), |(a, b), (lo, hi)| {
        (a.min(lo), b.max(hi))
    });
    (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
}

/// One panel a setting in a row, as Song & Ermon draw them: each bound's ratio against t (a
/// line, and markers with ± 1 s.e. bars) and the ideal as a dashed line.
pub fn figure(reports: &[ConsistencyReport]) -> Figure {
    let Some(first) = reports.first() else {
        return Figure::default();
    };
    let top = first.top_rows();
    let settings: Vec<Setting> = Setting::ALL
        .into_iter()
        .filter(|&s| first.rows.iter().any(|r| r.setting == s))
        .collect();
    let panels: Vec<Panel> = settings
        .iter()
        .map(|&setting| {
            let mut series = vec![Series::reference("ideal", setting.ideal(), BLACK)];
            for (i, report) in reports.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let rows: Vec<_> = report
                    .rows
                    .iter()
                    .filter(|r| r.setting == setting)
                    .collect();
                // A missing ratio is a gap in the line (NaN breaks it).
                let points: Vec<(f64, f64)> = rows
                    .iter()
                    .map(|r| (r.t as f64, r.ratio.unwrap_or(f64::NAN)))
                    .collect();
                let errors = rows.iter().map(|r| r.ratio_std_err).collect();
                series.push(Series::new(
                    report.bound,
                    points.clone(),
                    Style::Line,
                    color,
                ));
                series.push(Series::new("", points, Style::Markers, color).with_errors(errors));
            }
            Panel {
                title: title(setting, top),
                x_label: "rows of Y (t)".into(),
                y_label: "ratio".into(),
                y_range: Some(y_range(setting.ideal(), &series)),
                series,
                x_range: Some((0.5, top as f64 + 0.5)),
                ..Panel::default()
            }
        })
        .collect();
    Figure {
        columns: panels.len().max(1),
        panel_size: (380, 300),
        title: format!(
            "Self-consistency (Song & Ermon 2020): {} images of {} × {}",
            first.images, first.shape.0, first.shape.1
        ),
        panels,
    }
}
