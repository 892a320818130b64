//! `mine-demo`'s figure: a column per ρ, the estimates over the gradient norms.

use infobound::experiments::mine_ema::{MineCurve, MineEmaResult};

use crate::plot::{
    moving_average, Figure, Panel, RGBColor, Series, Style, BLACK, DARK_BLUE, LIGHT_BLUE, ORANGE,
};

/// A light orange for the biased run's raw values under its smoothed line.
const LIGHT_ORANGE: RGBColor = RGBColor(253, 190, 133);

fn values(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// A run's raw values (dots) and their moving average (a line).
fn run_series(name: &str, v: &[f32], raw: RGBColor, smooth: RGBColor) -> [Series; 2] {
    let v = values(v);
    [
        Series::indexed(format!("{name}, each step"), v.clone(), Style::Dots, raw),
        Series::indexed(
            format!("{name}, moving average"),
            moving_average(&v),
            Style::Line,
            smooth,
        ),
    ]
}

/// The note for a run that diverged or ran away.
fn note(c: &MineCurve) -> &'static str {
    if c.diverged_at.is_some() {
        " (diverged)"
    } else if c.runaway.is_some() {
        " (ran away)"
    } else {
        ""
    }
}

/// Top row, one panel per ρ: both runs' per-step estimates (dots) and moving averages, and
/// the true MI; the vertical range stops at max(2 × truth, truth + 3), values above drawn on
/// its edge. Bottom row: both runs' gradient norms on a log scale.
pub fn mine_demo_figure(result: &MineEmaResult, dim: usize) -> Figure {
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    for p in &result.points {
        let mut series = Vec::new();
        series.extend(run_series(
            &format!("biased DV{}", note(&p.biased)),
            &p.biased.estimates,
            LIGHT_ORANGE,
            ORANGE,
        ));
        series.extend(run_series(
            &format!("EMA MINE{}", note(&p.ema)),
            &p.ema.estimates,
            LIGHT_BLUE,
            DARK_BLUE,
        ));
        series.push(Series::reference("true MI", p.true_mi, BLACK));
        top.push(Panel {
            title: format!("d = {dim}, ρ = {}: true I = {:.3} nats", p.rho, p.true_mi),
            x_label: "training step".into(),
            y_label: "DV estimate (nats)".into(),
            y_range: Some((-0.5, (2.0 * p.true_mi).max(p.true_mi + 3.0))),
            series,
            ..Panel::default()
        });
        bottom.push(Panel {
            title: format!("ρ = {}: gradient norm", p.rho),
            x_label: "training step".into(),
            y_label: "‖g‖".into(),
            log_y: true,
            series: vec![
                Series::indexed(
                    "biased DV",
                    values(&p.biased.grad_norms),
                    Style::Line,
                    ORANGE,
                ),
                Series::indexed(
                    "EMA MINE",
                    values(&p.ema.grad_norms),
                    Style::Line,
                    DARK_BLUE,
                ),
            ],
            ..Panel::default()
        });
    }
    let columns = top.len().max(1);
    top.extend(bottom);
    Figure {
        panels: top,
        columns,
        panel_size: (480, 360),
        title: format!("MINE on the correlated Gaussian (d = {dim}): biased DV gradient against the EMA correction"),
    }
}
