//! The suite runner: every task through a caller-supplied [`Estimator`], scored.

use std::time::Instant;

use super::grid;
use super::score::{Row, Summary};
use super::task::Task;
use crate::estimate::validate::setting;
use crate::{Error, Estimator, Matrix};

/// A suite's settings: `Default` (issue 16's full grid, n = 10 000) or [`Suite::quick`], plus
/// `with_*` setters. The estimator is an argument of [`Suite::run`], so one suite can score
/// several estimator settings side by side ([`super::markdown::side_by_side`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Suite {
    /// The tasks, run in this order.
    pub tasks: Vec<Task>,
    /// Rows drawn per task.
    pub n: usize,
    /// Seeds the data (each task's key is [`super::seed::task_seed`] of it); the estimator's
    /// own seed is its own.
    pub seed: u64,
}

impl Default for Suite {
    /// [`grid::full`] at n = 10 000 (issue 16), seed 0.
    fn default() -> Self {
        Self {
            tasks: grid::full(),
            n: 10_000,
            seed: 0,
        }
    }
}

/// What a run returns: one row per task and their summary.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SuiteReport {
    /// One row per task, in the suite's order.
    pub rows: Vec<Row>,
    /// Their scores.
    pub summary: Summary,
    /// Rows drawn per task.
    pub n: usize,
}

impl SuiteReport {
    /// The devices the rows trained on, distinct, in order of first use, joined by ", ".
    pub fn devices(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !r.device.is_empty() && !seen.contains(&r.device.as_str()) {
                seen.push(&r.device);
            }
        }
        seen.join(", ")
    }
}

impl Suite {
    /// [`grid::quick`] at n = 2 000: the subset CI runs.
    pub fn quick() -> Self {
        Self {
            tasks: grid::quick(),
            n: 2_000,
            seed: 0,
        }
    }

    setter!(/// Sets the tasks.
        with_tasks, tasks: Vec<Task>);
    setter!(/// Sets the rows drawn per task.
        with_n, n: usize);
    setter!(/// Sets the data seed.
        with_seed, seed: u64);

    /// Fails when there is no task or n is 0 (the estimator checks the rest: enough rows for
    /// its split and batch).
    pub fn validate(&self) -> Result<(), Error> {
        if self.tasks.is_empty() {
            return Err(setting("the suite's tasks", "at least one", "none").into());
        }
        if self.n == 0 {
            return Err(setting("the suite's rows a task", "at least 1", 0).into());
        }
        Ok(())
    }

    /// Runs every task through `estimator` ([`Self::run_with_progress`] without a callback).
    pub fn run(&self, estimator: &Estimator) -> Result<SuiteReport, Error> {
        self.run_with_progress(estimator, |_| {})
    }

    /// Runs every task through `estimator`, calling `progress` with each row as it is scored
    /// (for long runs that print as they go).
    ///
    /// An estimate that fails while running (it diverged, it ran away) becomes a failed row
    /// and the run goes on; bad input (a setting the estimator rejects, or too many rows for a
    /// task's draw index) stops the run with that error, since every task would fail alike.
    pub fn run_with_progress(
        &self,
        estimator: &Estimator,
        mut progress: impl FnMut(&Row),
    ) -> Result<SuiteReport, Error> {
        self.validate()?;
        let mut rows = Vec::with_capacity(self.tasks.len());
        for task in &self.tasks {
            let row = self.run_task(task, estimator)?;
            progress(&row);
            rows.push(row);
        }
        let summary = Summary::of(&rows);
        Ok(SuiteReport {
            rows,
            summary,
            n: self.n,
        })
    }

    /// Runs every task through each of `estimators` side by side, one thread each (the CPU
    /// backend trains on one core, so two estimators on the CPU take about the time of one),
    /// calling `progress(i, row)` as estimator i scores a row. The reports come back in the
    /// estimators' order; the first error stops the result.
    pub fn run_each(
        &self,
        estimators: &[Estimator],
        progress: impl Fn(usize, &Row) + Sync,
    ) -> Result<Vec<SuiteReport>, Error> {
        let progress = &progress;
        std::thread::scope(|s| {
            let runs: Vec<_> = estimators
                .iter()
                .enumerate()
                .map(|(i, est)| s.spawn(move || self.run_with_progress(est, |r| progress(i, r))))
                .collect();
            runs.into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    /// One task's row.
    fn run_task(&self, task: &Task, estimator: &Estimator) -> Result<Row, Error> {
        let start = Instant::now();
        let (dx, dy) = task.dims();
        let (x, y) = task.sample(self.n, self.seed)?;
        let estimate =
            estimator.estimate(Matrix::new(&x, self.n, dx)?, Matrix::new(&y, self.n, dy)?);
        let seconds = start.elapsed().as_secs_f64();
        let name = task.name().to_string();
        match estimate {
            Ok(r) => Ok(
                Row::scored(name, (dx, dy), task.true_mi(), r.mi, r.std_err, seconds)
                    .with_cross_check(r.cross_check)
                    .with_warnings(r.warnings)
                    .with_device(r.device),
            ),
            Err(e) if e.is_input() => Err(e),
            Err(e) => Ok(Row::failed(
                name,
                (dx, dy),
                task.true_mi(),
                seconds,
                e.to_string(),
            )),
        }
    }
}
