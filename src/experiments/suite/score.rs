//! Issue 16's scoring of one estimate against the truth, and of a whole run.

/// A task is solved when |ln(estimate / truth)| < ln 1.5 (issue 16, item 5).
pub const SOLVED_RATIO: f64 = 1.5;

/// The floor an estimate is clamped at before its log ratio is taken: an estimate ≤ 0 (a
/// lower bound may read below zero) would have no logarithm. 1e-3 nats puts a zero estimate
/// of a 0.15-nat task at |ln ratio| ≈ 5, far beyond any solved task.
pub const LOG_FLOOR: f64 = 1e-3;

/// One task's outcome.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// The task's name.
    pub task: String,
    /// (dx, dy).
    pub dims: (usize, usize),
    /// The true MI, nats.
    pub truth: f64,
    /// The estimate, nats (NaN when the estimator failed: see `error`).
    pub estimate: f64,
    /// Its standard error, nats (NaN when the estimator failed).
    pub std_err: f64,
    /// Wall time of sampling and estimating, seconds.
    pub seconds: f64,
    /// |ln(max(estimate, [`LOG_FLOOR`]) / truth)| (infinite when the estimator failed).
    pub abs_log_ratio: f64,
    /// estimate > 0 and |ln(estimate / truth)| < ln [`SOLVED_RATIO`].
    pub solved: bool,
    /// estimate > [`SOLVED_RATIO`] × truth.
    pub over: bool,
    /// estimate − 2 s.e. ≤ truth: the one-sided lower confidence bound holds (issue 16, item 6).
    pub lower_bound_holds: bool,
    /// The device that trained the critic (empty when the estimator failed).
    pub device: String,
    /// The estimator's warnings.
    pub warnings: Vec<String>,
    /// The InfoNCE read-out of the reported critic over every pair of its report rows
    /// ([`crate::CrossCheck`]), nats; `None` where none exists or the estimator failed.
    pub cross_check: Option<f64>,
    /// Whether the estimate and that read-out disagree (the report warned).
    pub disagrees: bool,
    /// The estimator's error, when it produced no estimate (the row then counts as unsolved,
    /// not over, and without a lower bound).
    pub error: Option<String>,
}

impl Row {
    /// Scores `estimate ± std_err` against `truth` (the ratio scores need truth > 0; every
    /// grid task has MI above 0.1 nats).
    pub fn scored(
        task: String,
        dims: (usize, usize),
        truth: f64,
        estimate: f64,
        std_err: f64,
        seconds: f64,
    ) -> Self {
        let abs_log_ratio = (estimate.max(LOG_FLOOR) / truth).ln().abs();
        Self {
            task,
            dims,
            truth,
            estimate,
            std_err,
            seconds,
            abs_log_ratio,
            solved: estimate > 0.0 && abs_log_ratio < SOLVED_RATIO.ln(),
            over: estimate > SOLVED_RATIO * truth,
            lower_bound_holds: estimate - 2.0 * std_err <= truth,
            device: String::new(),
            warnings: Vec::new(),
            cross_check: None,
            disagrees: false,
            error: None,
        }
    }

    /// The row of a task whose estimate failed with `error`.
    pub fn failed(
        task: String,
        dims: (usize, usize),
        truth: f64,
        seconds: f64,
        error: String,
    ) -> Self {
        Self {
            task,
            dims,
            truth,
            estimate: f64::NAN,
            std_err: f64::NAN,
            seconds,
            abs_log_ratio: f64::INFINITY,
            solved: false,
            over: false,
            lower_bound_holds: false,
            device: String::new(),
            warnings: Vec::new(),
            cross_check: None,
            disagrees: false,
            error: Some(error),
        }
    }

    /// The same row with these warnings.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The same row with the estimator's cross-check.
    pub fn with_cross_check(mut self, check: Option<crate::CrossCheck>) -> Self {
        self.cross_check = check.map(|c| c.mi);
        self.disagrees = check.is_some_and(|c| c.disagrees);
        self
    }

    /// The same row with this device.
    pub fn with_device(mut self, device: String) -> Self {
        self.device = device;
        self
    }
}

/// The scores of a run, in issue 16's order: solved, then above 1.5 × truth, then the mean
/// |log ratio|; and the lower-bound count of item 6.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// Tasks run.
    pub tasks: usize,
    /// Tasks solved.
    pub solved: usize,
    /// Tasks whose estimate is above 1.5 × truth.
    pub over: usize,
    /// Mean over tasks of |ln(max(estimate, floor) / truth)| (failed tasks left out).
    pub mean_abs_log_ratio: f64,
    /// Tasks where estimate − 2 s.e. ≤ truth.
    pub lower_bound_holds: usize,
    /// Tasks whose estimator failed.
    pub failed: usize,
    /// Tasks whose estimate disagreed with its InfoNCE cross-check.
    pub disagreements: usize,
    /// Total seconds.
    pub seconds: f64,
}

impl Summary {
    /// The summary of `rows`.
    pub fn of(rows: &[Row]) -> Self {
        let ok: Vec<&Row> = rows.iter().filter(|r| r.error.is_none()).collect();
        let mean_abs_log_ratio = if ok.is_empty() {
            f64::NAN
        } else {
            ok.iter().map(|r| r.abs_log_ratio).sum::<f64>() / ok.len() as f64
        };
        Self {
            tasks: rows.len(),
            solved: rows.iter().filter(|r| r.solved).count(),
            over: rows.iter().filter(|r| r.over).count(),
            mean_abs_log_ratio,
            lower_bound_holds: rows.iter().filter(|r| r.lower_bound_holds).count(),
            failed: rows.len() - ok.len(),
            disagreements: rows.iter().filter(|r| r.disagrees).count(),
            seconds: rows.iter().map(|r| r.seconds).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(estimate: f64, se: f64) -> Row {
        Row::scored("t".into(), (1, 1), 1.0, estimate, se, 0.5)
    }

    #[test]
    fn rows_are_scored_as_issue_16_says() {
        let r = row(1.2, 0.15);
        assert!(r.solved && !r.over && r.lower_bound_holds);
        assert!((r.abs_log_ratio - 1.2f64.ln()).abs() < 1e-15);
        // 1.5 × truth is neither solved nor (strictly) over; 1.6 × is over.
        let r = row(1.5, 0.0);
        assert!(!r.solved && !r.over && !r.lower_bound_holds);
        let r = row(1.6, 0.4);
        assert!(!r.solved && r.over && r.lower_bound_holds);
        // Below 1/1.5 × truth is unsolved; an estimate ≤ 0 is clamped for the log.
        assert!(!row(0.6, 0.1).solved && row(0.7, 0.1).solved);
        let r = row(-0.2, 0.1);
        assert!(!r.solved && r.lower_bound_holds);
        assert!((r.abs_log_ratio - LOG_FLOOR.ln().abs()).abs() < 1e-12);
        assert!(!row(0.0, 0.1).solved);
    }

    #[test]
    fn summary_counts_and_means() {
        let rows = vec![
            row(1.2, 0.15),
            row(1.6, 0.01),
            row(0.5, 0.1),
            Row::failed("f".into(), (1, 1), 1.0, 2.0, "diverged".into()),
        ];
        let s = Summary::of(&rows);
        assert_eq!(
            (s.tasks, s.solved, s.over, s.lower_bound_holds, s.failed),
            (4, 1, 1, 2, 1)
        );
        let want = (1.2f64.ln() + 1.6f64.ln() + 2f64.ln()) / 3.0;
        assert!((s.mean_abs_log_ratio - want).abs() < 1e-12);
        assert!((s.seconds - 3.5).abs() < 1e-12);
        assert!(Summary::of(&[]).mean_abs_log_ratio.is_nan());
    }
}
