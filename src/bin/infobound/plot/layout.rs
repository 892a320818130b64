//! Where things go in a panel: the axes' ranges and tick labels, the legend's place, and the
//! points a series is drawn with (thinned, split at gaps, turned into stairs).

use plotters::chart::SeriesLabelPosition;

use super::{Panel, Style, MAX_POINTS};

/// The place for the legend: of the plot's four corners and the middles of its left and right
/// edges (boxes 40 % wide, 35 % or 30 % high), the one the fewest points fall in, reference
/// lines counted as a row of points; ties go to the corners, upper before lower, left before
/// right.
pub(super) fn emptiest_corner(panel: &Panel, x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
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
pub(super) fn tick(v: f64) -> String {
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
pub(super) fn x_extent(panel: &Panel) -> (f64, f64) {
    extent(
        panel
            .series
            .iter()
            .filter(|s| s.style != Style::Reference)
            .flat_map(|s| s.points.iter().map(|p| p.0)),
    )
}

/// The vertical span of a panel's finite values and error bars (positive ones on a log axis).
pub(super) fn y_extent(panel: &Panel) -> (f64, f64) {
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
pub(super) fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// At most [`MAX_POINTS`] of `points`, evenly strided, the last kept, each with its index.
pub(super) fn thin(points: &[(f64, f64)]) -> Vec<(usize, (f64, f64))> {
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
pub(super) fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(|p| !p.1.is_finite() || !p.0.is_finite())
        .filter(|run| !run.is_empty())
        .map(<[_]>::to_vec)
        .collect()
}

/// The corners of the staircase through `points`: level to the next x, then up or down.
/// Points that repeat the previous level are dropped, so thinning keeps every step.
pub(super) fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
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
    use crate::plot::{Series, BRICK};

    #[test]
    fn steps_keep_every_level_and_the_end() {
        let pts = [(0.0, 2.0), (1.0, 2.0), (2.0, 4.0), (3.0, 4.0)];
        assert_eq!(
            steps(&pts),
            vec![(0.0, 2.0), (2.0, 2.0), (2.0, 4.0), (3.0, 4.0)]
        );
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
