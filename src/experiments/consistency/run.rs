//! The experiment's settings and its runner: every (setting, t) estimate of one or several
//! estimators, spread over threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::construction::Constructions;
use super::dequantise::Dequantise;
use super::error::ConsistencyError;
use super::images::Images;
use super::report::{fill_ratios, verdicts, Row, Verdict};
use super::setting::Setting;
use crate::estimate::validate::setting;
use crate::math::critic::CriticForm;
use crate::{Error, Estimator};

/// The experiment's settings: `Default` (every setting at every t = 1 … H, dequantised, seed
/// 0, one thread a core) plus `with_*` setters. The estimator is an argument of
/// [`Consistency::run`], so one experiment can run several bounds side by side.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Consistency {
    /// Y's row counts t; empty: every t from 1 to the images' height H.
    pub rows: Vec<usize>,
    /// The settings run; the baseline always runs (the others are ratios to it).
    pub settings: Vec<Setting>,
    /// How ties between grey levels are handled.
    pub dequantise: Dequantise,
    /// Seeds the dequantisation noise and the partner images (the estimator's own seed is
    /// its own).
    pub seed: u64,
    /// Estimates run side by side; 0: one a core the system reports. The CPU backend trains
    /// on one core, so on the CPU this many estimates take about the time of one.
    pub threads: usize,
}

impl Default for Consistency {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            settings: Setting::ALL.to_vec(),
            dequantise: Dequantise::default(),
            seed: 0,
            threads: 0,
        }
    }
}

/// One estimator's results.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConsistencyReport {
    /// The bound's name.
    pub bound: &'static str,
    /// Every (setting, t), settings in [`Setting::ALL`]'s order, t ascending, with ratios.
    pub rows: Vec<Row>,
    /// Whether each setting's property holds.
    pub verdicts: Vec<Verdict>,
    /// Images (rows of X and Y).
    pub images: usize,
    /// The images' (height, width).
    pub shape: (usize, usize),
    /// Pixels dropped as constant over the images, (row, column).
    pub dropped: Vec<(usize, usize)>,
    /// The grey levels found in the images.
    pub levels: usize,
    /// How ties were handled.
    pub dequantise: Dequantise,
    /// Training time of every estimate added up, seconds (they may have run side by side).
    pub seconds: f64,
}

impl ConsistencyReport {
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

    /// The row of `setting` at `t`, if it ran.
    pub fn row(&self, setting: Setting, t: usize) -> Option<&Row> {
        self.rows.iter().find(|r| r.setting == setting && r.t == t)
    }
}

impl Consistency {
    setter!(/// Sets Y's row counts (empty: every t from 1 to H).
        with_rows, rows: Vec<usize>);
    setter!(/// Sets the settings (the baseline is always added).
        with_settings, settings: Vec<Setting>);
    setter!(/// Sets how ties are handled.
        with_dequantise, dequantise: Dequantise);
    setter!(/// Sets the data seed (noise and partners).
        with_seed, seed: u64);
    setter!(/// Sets how many estimates run side by side (0: one a core).
        with_threads, threads: usize);

    /// CI's size: t = 1, ⌈H/2⌉ and H only (see [`Consistency::quick_estimator`] for the
    /// estimator's).
    pub fn quick(height: usize) -> Self {
        let mut rows = vec![1, height.div_ceil(2), height];
        rows.dedup();
        Self::default().with_rows(rows)
    }

    /// `estimator` cut to CI's size: 300 steps, batch 64, towers of 32 with embedding 16,
    /// evaluated every 100 steps on 8 batches (each estimate a few seconds on the CPU).
    pub fn quick_estimator(estimator: Estimator) -> Estimator {
        estimator
            .with_steps(300)
            .with_batch(64)
            .with_critic(CriticForm::Separable {
                hidden: vec![32],
                embed: 16,
            })
            .with_eval_every(100)
            .with_eval_batches(8)
    }

    /// The row counts run for images of `height` rows: `rows` sorted without repeats, or
    /// 1 … height when empty.
    pub fn rows_for(&self, height: usize) -> Vec<usize> {
        let mut rows = if self.rows.is_empty() {
            (1..=height).collect()
        } else {
            self.rows.clone()
        };
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The settings run: the baseline, then the others asked for, in [`Setting::ALL`]'s
    /// order.
    pub fn settings_run(&self) -> Vec<Setting> {
        Setting::ALL
            .into_iter()
            .filter(|&s| s == Setting::Baseline || self.settings.contains(&s))
            .collect()
    }

    /// Runs every setting at every t through `estimator` ([`Self::run_each`] with one).
    pub fn run(
        &self,
        images: &Images,
        estimator: &Estimator,
    ) -> Result<ConsistencyReport, ConsistencyError> {
        let mut reports = self.run_each(images, std::slice::from_ref(estimator), |_, _| {})?;
        reports.pop().ok_or_else(|| {
            ConsistencyError::from(setting("the estimators", "at least one", "none"))
        })
    }

    /// Runs every setting at every t through each of `estimators`, [`Self::threads`]
    /// estimates side by side, calling `progress(i, row)` as estimator i finishes a row (its
    /// ratio not yet filled). The reports come back in the estimators' order.
    ///
    /// Every t is checked before anything trains. An estimate that fails while running
    /// (it diverged, it ran away) becomes a failed row and the run goes on; bad input (a
    /// setting the estimator rejects) stops the run with that error, since every estimate
    /// would fail alike.
    pub fn run_each(
        &self,
        images: &Images,
        estimators: &[Estimator],
        progress: impl Fn(usize, &Row) + Sync,
    ) -> Result<Vec<ConsistencyReport>, ConsistencyError> {
        if estimators.is_empty() {
            return Err(setting("the estimators", "at least one", "none").into());
        }
        let data = Constructions::new(images.clone(), self.dequantise, self.seed)?;
        let rows = self.rows_for(images.height());
        for &t in &rows {
            data.check_rows(t)?;
        }
        let settings = self.settings_run();
        let jobs: Vec<(usize, Setting, usize)> = (0..estimators.len())
            .flat_map(|e| {
                let rows = &rows;
                settings
                    .iter()
                    .flat_map(move |&s| rows.iter().map(move |&t| (e, s, t)))
            })
            .collect();
        let results = self.run_jobs(&data, estimators, &jobs, &progress)?;
        let mut reports: Vec<ConsistencyReport> = estimators
            .iter()
            .map(|est| ConsistencyReport {
                bound: est.bound.name(),
                rows: Vec::new(),
                verdicts: Vec::new(),
                images: images.len(),
                shape: (images.height(), images.width()),
                dropped: data.dropped(),
                levels: data.levels().len(),
                dequantise: self.dequantise,
                seconds: 0.0,
            })
            .collect();
        for (&(e, _, _), row) in jobs.iter().zip(results) {
            reports[e].seconds += row.seconds;
            reports[e].rows.push(row);
        }
        for r in &mut reports {
            fill_ratios(&mut r.rows);
            r.verdicts = verdicts(&r.rows);
        }
        Ok(reports)
    }

    /// Runs `jobs` (estimator, setting, t) on [`Self::threads`] workers, each taking the next
    /// job until none is left or one has failed on bad input; the rows come back in the jobs'
    /// order.
    fn run_jobs(
        &self,
        data: &Constructions,
        estimators: &[Estimator],
        jobs: &[(usize, Setting, usize)],
        progress: &(impl Fn(usize, &Row) + Sync),
    ) -> Result<Vec<Row>, ConsistencyError> {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
        .clamp(1, jobs.len().max(1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let done: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; jobs.len()]);
        let refused: Mutex<Vec<(usize, ConsistencyError)>> = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(e, setting, t)) = jobs.get(j) else {
                            break;
                        };
                        match run_one(data, &estimators[e], setting, t) {
                            Ok(row) => {
                                progress(e, &row);
                                lock(&done)[j] = Some(row);
                            }
                            Err(err) => {
                                stop.store(true, Ordering::Relaxed);
                                lock(&refused).push((j, err));
                            }
                        }
                    }
                });
            }
        });
        let mut refused = refused.into_inner().unwrap_or_else(|p| p.into_inner());
        refused.sort_by_key(|(j, _)| *j);
        if let Some((_, err)) = refused.into_iter().next() {
            return Err(err);
        }
        let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
        // With no refusal every job ran; a missing row would be a bug, reported as one.
        done.into_iter()
            .map(|r| {
                r.ok_or_else(|| {
                    ConsistencyError::from(setting("every estimate", "finished", "a job lost"))
                })
            })
            .collect()
    }
}

/// The mutex's value, even after another worker panicked holding it (the panic itself then
/// ends the scope).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One estimate: builds X and Y for `setting` at `t` and runs `estimator` on them. Bad input
/// is an error; a failure while running is a failed row.
fn run_one(
    data: &Constructions,
    estimator: &Estimator,
    setting: Setting,
    t: usize,
) -> Result<Row, ConsistencyError> {
    let start = Instant::now();
    let pairs = data.build(setting, t)?;
    let dims = (pairs.dx, pairs.dy);
    let (x, y) = pairs.matrices()?;
    let estimate = estimator.estimate(x, y);
    let seconds = start.elapsed().as_secs_f64();
    let mut row = match estimate {
        Ok(r) => {
            let mut row = Row::scored(setting, t, dims, r.mi, r.std_err);
            row.device = r.device;
            row.warnings = r.warnings;
            row
        }
        Err(e) if e.is_input() => return Err(ConsistencyError::Estimate(e)),
        Err(e) => Row::failed(setting, t, dims, one_line(&e)),
    };
    row.seconds = seconds;
    Ok(row)
}

/// An error's message on one line.
fn one_line(e: &Error) -> String {
    e.to_string().replace('\n', " ")
}
