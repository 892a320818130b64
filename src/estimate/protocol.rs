//! The estimate protocol (SPEC §6) run on every replica of a batched run at once: train in
//! blocks of `eval_every` steps, evaluate each running replica on its selection part, keep the
//! critic of every running best, stop a replica early (patience) or when it fails, then read
//! each replica's chosen critic once on its report part. One replica is [`Estimator::estimate`].

use std::time::Instant;

use crate::backend::{self, HeldOut, Replica, Replicated, RunOptions};
use crate::estimate::diagnostics::{diagnose, Diagnostic, Point};
use crate::estimate::estimator::Estimator;
use crate::estimate::prepared::Prepared;
use crate::estimate::readout::{finite_mean, CrossCheck, ReadOutSummary, HELD_OUT_VALUE};
use crate::estimate::report::{mean_and_batch_se, Evaluation, Progress, Report};
use crate::estimate::runaway::{NoEstimate, Runaway, RunawayKind};
use crate::math::bounds::Bound;
use crate::math::spec::TrainSpec;
use crate::Error;

/// What every replica of a run shares: how the held-out parts are read, and the device.
struct RunContext {
    held: bool,
    whole: bool,
    k_eval: usize,
    eval_k: usize,
    evaluation: String,
    device_reason: String,
    device_warnings: Vec<String>,
    geometry: Vec<String>,
}

/// One replica's protocol state.
struct ReplicaRun {
    seed: u64,
    curve: Vec<f32>,
    grad_norms: Vec<f32>,
    evaluations: Vec<Evaluation>,
    /// The critic at every evaluation that beat all before it: the chosen step is one of them,
    /// whichever evaluations a runaway later excludes.
    snapshots: Vec<(u64, Vec<f32>)>,
    best: Option<Evaluation>,
    since_best: u32,
    /// Stopped early (patience) or finished its steps.
    done: bool,
    failed: Option<Error>,
}

impl ReplicaRun {
    fn new(seed: u64, steps: u32) -> Self {
        Self {
            seed,
            curve: Vec::with_capacity(steps as usize),
            grad_norms: Vec::with_capacity(steps as usize),
            evaluations: Vec::new(),
            snapshots: Vec::new(),
            best: None,
            since_best: 0,
            done: false,
            failed: None,
        }
    }

    fn running(&self) -> bool {
        !self.done && self.failed.is_none()
    }
}

impl Estimator {
    /// Runs the protocol on every job as one batched run, returning each job's report or
    /// error, in order; `Err` only when the run cannot start. A job is a pair's prepared data
    /// (all of one shape) and its training spec: this estimator's, but for the seed (its split
    /// was drawn under the same seed), the learning rate and the bound's parameter.
    pub(crate) fn run_batched(
        &self,
        jobs: &[(&Prepared, TrainSpec)],
        mut progress: impl FnMut(&Progress),
    ) -> Result<Vec<Result<Report, Error>>, Error> {
        let Some(first) = jobs.first() else {
            return Ok(Vec::new());
        };
        let (dx, dy) = first.0.dims;
        let opened = backend::open(self.device)?;
        let device = opened.backend;
        let (n_select, n_report) = first.0.held;
        let held = first.0.has_held_out();
        // The separable critic on a GPU may evaluate each held-out part whole (K = its rows,
        // the fused kernels; `whole_split`); the other critics and the CPU backend, batches
        // of the training K (or of the smaller part's rows, when a part is smaller).
        let whole = held
            && self.whole_split.unwrap_or(self.bound.ceiling(2).is_some())
            && device.whole_split_applies(&self.train_spec(dx, dy), n_select.min(n_report));
        let k_eval = self.batch.min(n_select).min(n_report);
        let part = |data| match whole {
            true => HeldOut::WholeSplit {
                data,
                blocks: self.eval_batches,
            },
            false => HeldOut::Batches {
                data,
                k: k_eval,
                batches: self.eval_batches,
            },
        };
        let replicas: Vec<Replica<'_>> = jobs
            .iter()
            .map(|(data, spec)| {
                Replica::new(spec.clone(), data.train().into(), data.held_out(part))
            })
            .collect();
        let options = RunOptions::default()
            .with_chunk(self.chunk)
            .with_cancel(self.cancel.clone())
            .with_geometry(self.geometry);
        let mut trainer = device.replicated(&replicas, &options)?;
        let ctx = RunContext {
            held,
            whole,
            k_eval,
            eval_k: if !held {
                self.batch
            } else if whole {
                n_report
            } else {
                k_eval
            },
            evaluation: self.evaluation_text(held, whole, n_report, k_eval),
            device_reason: opened.reason,
            // Chosen while the trainer and its evaluators were built.
            geometry: device
                .gpu()
                .map(|c| c.geometry_summary())
                .unwrap_or_default(),
            device_warnings: opened.warnings,
        };
        let start = Instant::now();
        let mut runs: Vec<ReplicaRun> = jobs
            .iter()
            .map(|(_, spec)| ReplicaRun::new(spec.seed, self.steps))
            .collect();
        self.train_all(trainer.as_mut(), &mut runs, held, start, &mut progress);
        let seconds = start.elapsed().as_secs_f64();
        Ok(runs
            .into_iter()
            .zip(jobs)
            .enumerate()
            .map(|(r, (run, &(data, _)))| {
                self.finish(trainer.as_mut(), r, run, data, &ctx, seconds)
            })
            .collect())
    }

    /// Trains every replica in blocks of `eval_every` steps until each has finished, stopped
    /// early or failed.
    fn train_all(
        &self,
        trainer: &mut dyn Replicated,
        runs: &mut [ReplicaRun],
        held: bool,
        start: Instant,
        progress: &mut impl FnMut(&Progress),
    ) {
        let steps = self.steps as usize;
        while let Some(lead) = runs.iter().position(ReplicaRun::running) {
            let now = (steps - runs[lead].curve.len()).min(self.eval_every as usize) as u32;
            for (r, values) in trainer.train(now).into_iter().enumerate() {
                let run = &mut runs[r];
                if !run.running() {
                    continue;
                }
                run.grad_norms.extend(trainer.take_grad_norms(r));
                match values {
                    Ok(v) => run.curve.extend(v),
                    Err(e) => run.failed = Some(e.into()),
                }
            }
            for (r, run) in runs.iter_mut().enumerate() {
                if !run.running() {
                    continue;
                }
                if held {
                    if let Err(e) = self.evaluate(trainer, r, run) {
                        run.failed = Some(e);
                    }
                }
                if run.curve.len() >= steps {
                    run.done = true;
                }
                if !run.running() {
                    trainer.freeze(r);
                }
            }
            let shown = runs.iter().position(ReplicaRun::running).unwrap_or(lead);
            progress(&Progress {
                step: trainer.step(shown),
                total: u64::from(self.steps),
                train_value: runs[shown].curve.last().copied(),
                latest: held
                    .then(|| runs[shown].evaluations.last().copied())
                    .flatten(),
                seconds: start.elapsed().as_secs_f64(),
                replicas: runs.len(),
                running: runs.iter().filter(|r| r.running()).count(),
            });
        }
    }

    /// Replica `r`'s evaluation on its selection part: recorded, its critic kept when it is a
    /// new best, and early stopping's count kept.
    fn evaluate(
        &self,
        trainer: &mut dyn Replicated,
        r: usize,
        run: &mut ReplicaRun,
    ) -> Result<(), Error> {
        let values = trainer.evaluate(r)?;
        let step = trainer.step(r);
        let (mi, std_err) = finite_mean(&values, step, HELD_OUT_VALUE)?;
        let e = Evaluation { step, mi, std_err };
        run.evaluations.push(e);
        if run.best.is_none_or(|b| e.mi > b.mi) {
            run.best = Some(e);
            run.since_best = 0;
            run.snapshots.push((e.step, trainer.parameters(r)?));
        } else {
            run.since_best += 1;
            if self.patience.is_some_and(|p| run.since_best >= p) {
                run.done = true;
            }
        }
        Ok(())
    }

    /// How the report part is read, in words.
    fn evaluation_text(&self, held: bool, whole: bool, n_report: usize, k_eval: usize) -> String {
        if !held {
            format!(
                "no held-out rows: the last {} training steps",
                self.average_last
            )
        } else if whole {
            format!(
                "the report part's {n_report} rows as one batch (K = {n_report}), standard \
                 error from {} row blocks",
                (self.eval_batches as usize).min(n_report)
            )
        } else {
            format!(
                "{} batches of K = {k_eval} from the report part's {n_report} rows, standard \
                 error from their spread (widened when they overlap) and the optimiser's jitter",
                self.eval_batches
            )
        }
    }

    /// Replica `r`'s report: the runaway check, the chosen step's read-out on the report part,
    /// the diagnostics and the warnings.
    fn finish(
        &self,
        trainer: &mut dyn Replicated,
        r: usize,
        run: ReplicaRun,
        data: &Prepared,
        ctx: &RunContext,
        seconds: f64,
    ) -> Result<Report, Error> {
        if let Some(e) = run.failed {
            return Err(e);
        }
        let mut warnings = ctx.device_warnings.clone();
        warnings.extend(data.warnings.iter().cloned());
        let (n_select, n_report) = data.held;
        let held = ctx.held;
        let ceiling = self.bound.ceiling(ctx.eval_k);
        // A bound without a ceiling cannot certify more than ln(training rows).
        let limit = ceiling.is_none().then(|| (data.train().rows() as f64).ln());
        let runaway = find_runaway(&run.curve, &run.grad_norms, &run.evaluations, limit);
        // Estimates from the runaway on are never the answer: evaluations before it, or the
        // training steps before it.
        let cut = runaway.map_or(u64::MAX, |(r, cut)| {
            warnings.push(r.warning(self.bound.name()));
            cut
        });
        let before: Vec<&Evaluation> = run.evaluations.iter().filter(|e| e.step < cut).collect();
        let trained = &run.curve[..(cut.min(run.curve.len() as u64) as usize)];
        let chosen = if held {
            // The first of equal bests, as during training.
            let top = before.iter().fold(None::<&&Evaluation>, |t, e| match t {
                Some(b) if e.mi <= b.mi => Some(b),
                _ => Some(e),
            });
            match top {
                Some(b) => Some(**b),
                None => return Err(no_estimate(runaway, self.bound)),
            }
        } else {
            None
        };
        let steps = trainer.step(r);
        let read = match chosen {
            Some(c) => {
                let params = run
                    .snapshots
                    .iter()
                    .find(|(step, _)| *step == c.step)
                    .map(|(_, p)| p)
                    .expect("every running best keeps its critic");
                let out = trainer.read_out(r, params)?;
                let history: Vec<f64> = before.iter().map(|e| e.mi).collect();
                let read = ReadOutSummary::new(
                    &out,
                    &history,
                    (run.seed, self.eval_batches),
                    (n_report, ctx.k_eval),
                    steps,
                )?;
                // A Lautum bound estimates another quantity: InfoNCE does not bound it.
                Some(match self.bound.is_lautum() {
                    true => ReadOutSummary {
                        cross: None,
                        ..read
                    },
                    false => read,
                })
            }
            None => None,
        };
        let (mi, std_err, sampling, optimisation) = match &read {
            Some(r) => (r.mi, r.std_err(), r.sampling, r.optimisation),
            None if trained.is_empty() => return Err(no_estimate(runaway, self.bound)),
            None => {
                let tail =
                    &trained[trained.len() - (self.average_last as usize).min(trained.len())..];
                let (m, se) = mean_and_batch_se(tail);
                (m, se, se, 0.0)
            }
        };
        let selection = match chosen {
            Some(c) => format!(
                "step {} chosen on {n_select} held-out rows (the evaluations in the test curve); \
                 its critic read once on the other {n_report}, which no choice has seen",
                c.step
            ),
            None => "none: no held-out rows, the mean of the last training steps".into(),
        };
        let cross = read.as_ref().and_then(|r| r.cross);
        let cross_check_note = self.cross_check_note(cross.as_ref(), held);
        if let Some(w) = cross.and_then(|c| c.warning(self.bound.name())) {
            warnings.push(w);
        }
        let points: Vec<Point> = before
            .iter()
            .map(|e| Point {
                step: e.step,
                mi: e.mi,
                std_err: e.std_err,
            })
            .collect();
        // Training and held-out values share K unless the whole split was evaluated at once.
        let diagnostics = diagnose(&points, trained, self.eval_every as usize, !ctx.whole);
        warnings.extend(diagnostics.iter().map(Diagnostic::to_string));
        if let Some(w) = crate::estimate::validate::negative_estimate(mi) {
            warnings.push(w);
        }
        warnings.extend(crate::estimate::limits::black_box_warnings(
            self.bound, mi, ctx.eval_k, data.n,
        ));
        Ok(Report {
            mi,
            std_err,
            std_err_sampling: sampling,
            std_err_optimisation: optimisation,
            ceiling,
            evaluation: ctx.evaluation.clone(),
            selection,
            chosen_step: chosen.map(|c| c.step),
            cross_check: cross,
            cross_check_note,
            transform: self.transform,
            bound: self.bound.name(),
            critic: self.critic.name(),
            n: data.n,
            n_test: n_select + n_report,
            n_report,
            dims: data.dims,
            steps,
            device: trainer.device_name(),
            device_reason: ctx.device_reason.clone(),
            geometry: ctx.geometry.clone(),
            seconds,
            steps_per_second: steps as f64 / seconds.max(1e-9),
            train_curve: run.curve,
            test_curve: run.evaluations,
            grad_norms: run.grad_norms,
            runaway: runaway.map(|(r, _)| r),
            diagnostics,
            seed: run.seed,
            batched: None,
            ensemble: None,
            warnings,
        })
    }

    /// What the report says of its cross-check: the numbers, or why there is none.
    fn cross_check_note(&self, cross: Option<&CrossCheck>, held: bool) -> String {
        match cross {
            Some(c) => {
                format!(
                "InfoNCE over every pair of the report rows read {:.4} ± {:.4} (ceiling {:.3}); \
                 the estimate is {:+.4} ± {:.4} from it: {}",
                c.mi,
                c.std_err,
                c.ceiling,
                c.excess,
                c.excess_std_err,
                if c.disagrees { "they disagree" } else { "consistent" }
            )
            }
            None if !held => "none: no held-out rows".into(),
            None if self.bound.is_lautum() => {
                "none: a Lautum bound estimates another quantity than InfoNCE bounds".into()
            }
            None => format!(
                "none: the {} critic does not score every pair of rows, so no InfoNCE read-out \
                 over them exists",
                self.critic.name()
            ),
        }
    }
}

/// The first runaway of a run (training values, norms, held-out evaluations against `limit`)
/// and the step from which estimates are not reported: a runaway at training step s leaves
/// evaluations made after at most s steps; one seen in an evaluation excludes it.
fn find_runaway(
    curve: &[f32],
    norms: &[f32],
    evaluations: &[Evaluation],
    limit: Option<f64>,
) -> Option<(Runaway, u64)> {
    let in_training =
        crate::estimate::runaway::detect(curve, norms, limit).map(|r| (r, r.step + 1));
    let in_evaluation = limit.and_then(|limit| {
        evaluations.iter().find(|e| e.mi > limit).map(|e| {
            let r = Runaway {
                step: e.step,
                kind: RunawayKind::Value { value: e.mi, limit },
            };
            (r, e.step)
        })
    });
    match (in_training, in_evaluation) {
        (Some(a), Some(b)) => Some(if b.1 < a.1 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The error when a run ran away before anything reportable.
fn no_estimate(runaway: Option<(Runaway, u64)>, bound: Bound) -> Error {
    Error::RunawayEstimate(NoEstimate {
        runaway: runaway.map(|(r, _)| r),
        bound: bound.name(),
    })
}
