//! What `infobound staircase` writes: every step's estimate (staircase.csv), the per-stage
//! table (staircase.md, also printed) and the figure (staircase.png and staircase.svg).

use std::fmt::Write as _;
use std::path::Path;

use infobound::experiments::staircase::{StageStats, StaircaseResult};
use infobound::experiments::tasks::Staircase;

use crate::failure::Failure;
use crate::files::write_file;
use crate::plot::{
    self, moving_average, Figure, Legend, Panel, Series, Style, BLACK, BRICK, DARK_BLUE, LIGHT_BLUE,
};

/// The staircase's outputs, gathered run by run.
pub struct StaircaseFiles {
    csv: String,
    md: String,
    runs: Vec<Run>,
}

/// One finished run, as the figure needs it.
struct Run {
    title: String,
    estimates: Vec<f64>,
    truth: Vec<f64>,
}

impl StaircaseFiles {
    /// The files with their headers and no runs yet.
    pub fn new() -> Self {
        StaircaseFiles {
            csv: String::from("task,bound,step,true_mi,estimate\n"),
            md: String::from(
                "| task | bound | true MI | mean | bias | variance | MSE |\n|---|---|---:|---:|---:|---:|---:|\n",
            ),
            runs: Vec::new(),
        }
    }

    /// Adds one finished run on `task` along the schedule `sc`: `label` names it in the table
    /// and the figure (`smile τ=5`), `csv_label` in the CSV (`smile(tau=5)`).
    pub fn add(
        &mut self,
        task: &str,
        label: &str,
        csv_label: &str,
        sc: &Staircase,
        result: &StaircaseResult,
    ) {
        let truths: Vec<f64> = (0..result.estimates.len())
            .map(|step| sc.true_mi_at(step as u32))
            .collect();
        for (step, (e, truth)) in result.estimates.iter().zip(&truths).enumerate() {
            let _ = writeln!(self.csv, "{task},{csv_label},{step},{truth},{e}");
        }
        self.runs.push(Run {
            title: format!("{task}: {label}"),
            estimates: result.estimates.iter().map(|&v| f64::from(v)).collect(),
            truth: truths,
        });
        for s in &result.stages {
            self.md.push_str(&stage_row(task, label, s));
        }
    }

    /// The per-stage Markdown table.
    pub fn table(&self) -> &str {
        &self.md
    }

    /// Writes the four files into `out`; `ln_k` is the log batch size the figure marks.
    pub fn write(&self, out: &Path, ln_k: f64) -> Result<(), Failure> {
        write_file(&out.join("staircase.csv"), &self.csv)?;
        write_file(&out.join("staircase.md"), &self.md)?;
        let figure = self.figure(ln_k);
        plot::write(&figure, &out.join("staircase.png"))?;
        plot::write(&figure, &out.join("staircase.svg"))
    }

    /// One panel a run, up to four a row and the rows filled evenly ([`columns`]): the raw per-step estimates, their moving average,
    /// the true-MI staircase and the ln K line, from −2 nats to 2 above the highest of those.
    fn figure(&self, ln_k: f64) -> Figure {
        let panels = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let top = r.truth.iter().copied().fold(ln_k, f64::max);
                Panel {
                    title: r.title.clone(),
                    x_label: "step".into(),
                    y_label: "MI (nats)".into(),
                    series: vec![
                        Series::indexed("estimate", r.estimates.clone(), Style::Dots, LIGHT_BLUE),
                        Series::indexed(
                            "moving average",
                            moving_average(&r.estimates),
                            Style::Line,
                            DARK_BLUE,
                        ),
                        Series::indexed("true MI", r.truth.clone(), Style::Step, BLACK),
                        Series::reference("ln K", ln_k, BRICK),
                    ],
                    y_range: Some((-2.0, (top + 2.0).ceil())),
                    // Every panel draws the same four series: one legend says it.
                    legend: if i == 0 { Legend::Auto } else { Legend::Hidden },
                    ..Panel::default()
                }
            })
            .collect();
        Figure {
            columns: columns(self.runs.len()),
            panel_size: (420, 300),
            panels,
            ..Figure::default()
        }
    }
}

/// How many panels a row holds for `runs` panels: up to four, with as few rows as that takes
/// and the panels spread evenly over them (six runs: two rows of three, not four and two).
fn columns(runs: usize) -> usize {
    let rows = runs.div_ceil(4).max(1);
    runs.div_ceil(rows).max(1)
}

/// One stage's row of the Markdown table.
fn stage_row(task: &str, bound: &str, s: &StageStats) -> String {
    format!(
        "| {task} | {bound} | {:.1} | {:.3} | {:+.3} | {:.3} | {:.3} |\n",
        s.true_mi, s.mean, s.bias, s.variance, s.mse
    )
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn rows_are_filled_evenly() {
        let got: Vec<usize> = (0..=9).map(columns).collect();
        assert_eq!(got, [1, 1, 2, 3, 4, 3, 3, 4, 4, 3]);
    }
}
