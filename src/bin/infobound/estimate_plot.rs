//! `estimate --plot`: the training curve and the held-out evaluations as a figure.

use infobound::Report;

use crate::plot::{
    moving_average, Figure, Legend, Panel, Series, Style, BRICK, DARK_BLUE, LIGHT_BLUE, ORANGE,
};
use crate::units::unit;

/// One panel: the bound at every training step (dots) and its moving average, the held-out
/// evaluations with ±1 standard error, and the bound's ceiling when it has one; under it, the
/// critic's gradient norm at every step.
pub fn curves_figure(r: &Report, bits: bool) -> Figure {
    let (s, unit) = unit(bits);
    let train: Vec<f64> = r.train_curve.iter().map(|&v| f64::from(v) * s).collect();
    // Evaluations come after `step` steps: the x of step index step − 1.
    let evals: Vec<(f64, f64)> = r
        .test_curve
        .iter()
        .map(|e| ((e.step as f64 - 1.0).max(0.0), e.mi * s))
        .collect();
    let errs: Vec<f64> = r.test_curve.iter().map(|e| e.std_err * s).collect();
    let mut series = vec![
        Series::indexed(
            "training, every step",
            train.clone(),
            Style::Dots,
            LIGHT_BLUE,
        ),
        Series::indexed(
            "moving average",
            moving_average(&train),
            Style::Line,
            DARK_BLUE,
        ),
        Series::new("held-out ± 1 s.e.", evals, Style::Markers, ORANGE).with_errors(errs),
    ];
    if let Some(c) = r.ceiling {
        series.push(Series::reference("ceiling", c * s, BRICK));
    }
    let panel = Panel {
        title: format!(
            "{} on a {} critic: {:.4} ± {:.4} {unit}",
            r.bound,
            r.critic,
            r.mi * s,
            r.std_err * s
        ),
        x_label: "training step".into(),
        y_label: format!("bound ({unit})"),
        y_range: Some(y_range(&series)),
        series,
        ..Panel::default()
    };
    let mut panels = vec![panel];
    // The critic's gradient norm under it, on a log scale: a run that runs away shows here
    // first.
    if !r.grad_norms.is_empty() {
        let norms = r.grad_norms.iter().map(|&v| f64::from(v));
        panels.push(Panel {
            title: "the critic's gradient norm".into(),
            x_label: "training step".into(),
            y_label: "‖g‖".into(),
            log_y: true,
            series: vec![Series::indexed("every step", norms, Style::Line, DARK_BLUE)],
            legend: Legend::Hidden,
            ..Panel::default()
        });
    }
    Figure {
        panels,
        ..Figure::default()
    }
}

/// The values' span with a little room, its foot no lower than 2 below minus the top's size:
/// a diverging start must not squash the rest (it is drawn on the edge).
fn y_range(series: &[Series]) -> (f64, f64) {
    let values = series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.y_err.get(i).copied().unwrap_or(0.0);
            [p.1 - e, p.1 + e]
        })
    });
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let lo = lo.max(-(hi.abs() + 2.0));
    let pad = ((hi - lo) * 0.05).max(0.05);
    (lo - pad, hi + pad)
}
