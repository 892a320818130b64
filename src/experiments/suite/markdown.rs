//! Markdown tables of suite runs: one run ([`SuiteReport::to_markdown`]) or several estimator
//! settings on the same tasks side by side ([`side_by_side`]).

use std::fmt::Write;

use super::run::SuiteReport;
use super::score::{Row, Summary, SOLVED_RATIO};
use crate::estimate::validate::setting;
use crate::Error;

/// "yes" or "no".
fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `d`×`d'` as the tables write dimensions.
fn dims(r: &Row) -> String {
    format!("{}×{}", r.dims.0, r.dims.1)
}

impl Summary {
    /// One line: the scores in issue 16's order, then the lower-bound count.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "solved {} / {}; above {SOLVED_RATIO} × truth: {}; mean |ln(estimate / truth)|: {:.3}; \
             estimate − 2 s.e. ≤ truth: {} / {}",
            self.solved, self.tasks, self.over, self.mean_abs_log_ratio, self.lower_bound_holds, self.tasks
        );
        if self.disagreements > 0 {
            let _ = write!(s, "; read-outs disagree: {}", self.disagreements);
        }
        if self.failed > 0 {
            let _ = write!(s, "; failed: {}", self.failed);
        }
        let _ = write!(s, "; {:.1} s", self.seconds);
        s
    }
}

impl SuiteReport {
    /// The table of every row, the summary line under it, and each failed task's error.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from(
            "| task | dims | true MI | estimate | s.e. | InfoNCE check | seconds | solved | \
             > 1.5 × truth | est − 2 s.e. ≤ truth |\n|---|---|---:|---:|---:|---:|---:|---|---|---|\n",
        );
        for r in &self.rows {
            let (est, se) = match r.error {
                None => (format!("{:.3}", r.estimate), format!("{:.3}", r.std_err)),
                Some(_) => ("failed".to_string(), "—".to_string()),
            };
            let check = match r.cross_check {
                Some(c) if r.disagrees => format!("{c:.3} (disagrees)"),
                Some(c) => format!("{c:.3}"),
                None => "—".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {:.3} | {est} | {se} | {check} | {:.1} | {} | {} | {} |",
                r.task,
                dims(r),
                r.truth,
                r.seconds,
                yes(r.solved),
                yes(r.over),
                yes(r.lower_bound_holds)
            );
        }
        let _ = writeln!(
            s,
            "\n**Summary** ({} rows a task, on {}): {}",
            self.n,
            match self.devices() {
                d if d.is_empty() => "no device".to_string(),
                d => d,
            },
            self.summary.to_markdown()
        );
        for r in self.rows.iter().filter(|r| r.error.is_some()) {
            let _ = writeln!(s, "- {}: {}", r.task, r.error.as_deref().unwrap_or(""));
        }
        s
    }
}

/// Runs of several estimator settings on the same tasks as one table: per setting the
/// estimate ± s.e. marked ✓ (solved) or ↑ (above 1.5 × truth), and ! where it disagreed with
/// its InfoNCE cross-check, then one summary line each.
/// Fails unless there are as many labels as reports and every report has the same tasks.
pub fn side_by_side(labels: &[&str], reports: &[&SuiteReport]) -> Result<String, Error> {
    let first = reports
        .first()
        .ok_or_else(|| Error::from(setting("the suite reports", "at least one", "none")))?;
    if labels.len() != reports.len() {
        return Err(setting(
            "the labels",
            "one a suite report",
            format!("{} for {} reports", labels.len(), reports.len()),
        )
        .into());
    }
    let names = |r: &SuiteReport| r.rows.iter().map(|r| r.task.clone()).collect::<Vec<_>>();
    if reports.iter().any(|r| names(r) != names(first)) {
        return Err(setting(
            "the suite reports' tasks",
            "the same in every report",
            "different",
        )
        .into());
    }
    let mut s = String::from("| task | dims | true MI |");
    for l in labels {
        let _ = write!(s, " {l} |");
    }
    s.push_str("\n|---|---|---:|");
    s.push_str(&"---:|".repeat(labels.len()));
    s.push('\n');
    for (i, r) in first.rows.iter().enumerate() {
        let _ = write!(s, "| {} | {} | {:.3} |", r.task, dims(r), r.truth);
        for rep in reports {
            let c = &rep.rows[i];
            let mark = if c.solved {
                " ✓"
            } else if c.over {
                " ↑"
            } else {
                ""
            };
            match c.error {
                None => {
                    let flag = if c.disagrees { " !" } else { "" };
                    let _ = write!(s, " {:.3} ± {:.3}{mark}{flag} |", c.estimate, c.std_err);
                }
                Some(_) => s.push_str(" failed |"),
            }
        }
        s.push('\n');
    }
    s.push('\n');
    for (l, rep) in labels.iter().zip(reports) {
        let _ = writeln!(s, "- **{l}**: {}", rep.summary.to_markdown());
    }
    Ok(s)
}
