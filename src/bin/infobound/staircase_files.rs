//! What `infobound staircase` writes: every step's estimate (staircase.csv), the per-stage
//! table (staircase.md, also printed) and the figure (staircase.svg).

use std::fmt::Write as _;
use std::path::Path;

use infobound::staircase::{StageStats, StaircaseResult};
use infobound::tasks::Staircase;

use crate::failure::Failure;
use crate::files::write_file;
use crate::svg::{staircase_svg, Panel};

/// The staircase's outputs, gathered run by run.
pub struct StaircaseFiles {
    csv: String,
    md: String,
    panels: Vec<Panel>,
}

impl StaircaseFiles {
    /// The files with their headers and no runs yet.
    pub fn new() -> Self {
        StaircaseFiles {
            csv: String::from("task,bound,step,true_mi,estimate\n"),
            md: String::from(
                "| task | bound | true MI | mean | bias | variance | MSE |\n|---|---|---:|---:|---:|---:|---:|\n",
            ),
            panels: Vec::new(),
        }
    }

    /// Adds one finished run of `bound` on `task` along the schedule `sc`.
    pub fn add(&mut self, task: &str, bound: &str, sc: &Staircase, result: &StaircaseResult) {
        let truths: Vec<f64> = (0..result.estimates.len())
            .map(|step| sc.true_mi_at(step as u32))
            .collect();
        for (step, (e, truth)) in result.estimates.iter().zip(&truths).enumerate() {
            let _ = writeln!(self.csv, "{task},{bound},{step},{truth},{e}");
        }
        self.panels.push(Panel {
            title: format!("{task}: {bound}"),
            estimates: result.estimates.clone(),
            truth: truths,
        });
        for s in &result.stages {
            self.md.push_str(&stage_row(task, bound, s));
        }
    }

    /// The per-stage Markdown table.
    pub fn table(&self) -> &str {
        &self.md
    }

    /// Writes the three files into `out`; `ln_k` is the log batch size the figure marks.
    pub fn write(&self, out: &Path, ln_k: f64) -> Result<(), Failure> {
        write_file(&out.join("staircase.csv"), &self.csv)?;
        write_file(&out.join("staircase.md"), &self.md)?;
        write_file(
            &out.join("staircase.svg"),
            &staircase_svg(&self.panels, ln_k),
        )
    }
}

/// One stage's row of the Markdown table.
fn stage_row(task: &str, bound: &str, s: &StageStats) -> String {
    format!(
        "| {task} | {bound} | {:.1} | {:.3} | {:+.3} | {:.3} | {:.3} |\n",
        s.true_mi, s.mean, s.bias, s.variance, s.mse
    )
}
