//! `infobound bench`'s accuracy column, read on held-out rows the way the estimate protocol
//! reads it (SPEC §6): every configuration carries held-out rows cut in two parts; the bound is
//! evaluated on the selection part every [`EVAL_EVERY`] steps (and after the last step), the
//! best evaluation before any runaway chooses the step, and that step's critic is read once on
//! the report part, which no choice has seen. The estimate is that read-out. Beside it, the
//! chosen evaluation itself (the best of the checks, biased upward a little),
//! the last evaluation, and the old mean of the last training batches; a last evaluation far
//! below the chosen one (a late collapse) and a runaway carry a warning that says so.
//!
//! The configurations that mirror bmi's estimator also carry bmi's own statistic
//! ([`BmiRows`]): at every check, InfoNCE of the current critic over every pair of all the
//! held-out rows (both parts together: 5 000 rows, as many as bmi holds out), the maximum kept, as bmi's
//! `InfoNCEEstimator` returns it. It is biased upward (a maximum over checks, read on the rows
//! that choose it) and is there for the comparison with bmi only; the estimate stays the
//! read-out above.
//!
//! The timed runs are trained in pieces that end on the evaluation steps and only the training
//! is timed, so the evaluations cost the rates nothing and every step of the run is checked.

use std::time::Instant;

use infobound::backend::{HeldOut, HeldOutParts, HeldOutValues, Trainer};
use infobound::estimate::readout::{mean_and_se, overlap_factor};
use infobound::estimate::runaway;
use infobound::math::cross_check;
use infobound::math::spec::{TrainData, TrainSpec};

/// What the estimate is, for the Markdown and the JSON.
pub fn statistic() -> String {
    format!(
        "the held-out read-out: the bound checked every {EVAL_EVERY} steps and after the last on \
         one half of the held-out rows ({} batches of K), the best check before any runaway \
         chooses the step, and that step's critic is read once on the other half, which no \
         choice has seen; 'all pairs' is the same critic's InfoNCE over every pair of that half \
         at once (K = its rows); 'best / last check' are the chosen and the last check \
         themselves, 'train tail' the mean of the last {TRAIN_TAIL} training batches; \
         'bmi_statistic' (the configurations that mirror bmi's estimator only) is bmi's own \
         statistic for this run: at every check, InfoNCE of the current critic over every pair \
         of all the held-out rows (both halves: 5 000 rows, as many as bmi holds out), the maximum over the \
         checks, as bmi's InfoNCEEstimator returns it; a maximum read on the rows that choose \
         it, biased upward, reported for the comparison with bmi only",
        eval_batches()
    )
}

/// Steps between evaluations on the selection part: bmi's cadence (its held-out check every
/// 250 steps), so that the checks fall where bmi's do.
pub const EVAL_EVERY: u64 = 250;

/// How far (nats) the last evaluation may sit below the chosen one before the row warns of a
/// late collapse: the read-out's smallest excess that warns ([`infobound::estimate::readout`]).
const COLLAPSE_NATS: f64 = infobound::estimate::readout::MIN_EXCESS_NATS;

/// Training batches the old accuracy column averaged.
const TRAIN_TAIL: usize = 100;

/// Held-out rows of a configuration's task: the first `select` rows choose the step, the rest
/// report it.
pub struct HeldOutRows {
    /// rows × dim.
    pub x: Vec<f32>,
    /// rows × dim.
    pub y: Vec<f32>,
    /// Rows of the selection part.
    pub select: usize,
}

impl HeldOutRows {
    /// Rows of the report part, given the task's dimension.
    fn report(&self, dim: usize) -> usize {
        self.x.len() / dim - self.select
    }

    /// Batch K of the evaluations: the spec's, or the smaller part's rows.
    fn k(&self, spec: &TrainSpec) -> usize {
        spec.batch.min(self.select).min(self.report(spec.dx))
    }

    /// The factor the report part's overlapping batches widen its standard error by.
    fn overlap(&self, spec: &TrainSpec) -> f64 {
        overlap_factor(eval_batches() as usize, self.report(spec.dx), self.k(spec))
    }

    /// Both parts as the trainer evaluates them: [`eval_batches`] batches of [`Self::k`] rows.
    pub fn parts(&self, spec: &TrainSpec) -> HeldOutParts<'_> {
        let cut = self.select * spec.dx;
        let part = |x, y| HeldOut::Batches {
            data: TrainData {
                x,
                dx: spec.dx,
                y,
                dy: spec.dx,
                log_marginal: None,
            },
            k: self.k(spec),
            batches: eval_batches(),
        };
        HeldOutParts::new(
            part(&self.x[..cut], &self.y[..cut]),
            part(&self.x[cut..], &self.y[cut..]),
        )
    }
}

/// The rows bmi's statistic is read on: all the held-out rows of a configuration that mirrors
/// bmi's estimator (both parts, bmi's held-out half), with the spec that scores them and the
/// threads that score them.
pub struct BmiRows<'a> {
    /// The run's spec.
    pub spec: &'a TrainSpec,
    /// The held-out rows (both parts).
    pub rows: &'a HeldOutRows,
    /// Threads of the all-pairs read-out (0: one a core).
    pub threads: usize,
}

impl BmiRows<'_> {
    /// InfoNCE of the critic `params` over every pair of the rows at once (K = their rows),
    /// as bmi's `mi_formula_test` reads its held-out rows; NaN for a critic without pair
    /// scores.
    fn infonce(&self, params: &[f32]) -> f64 {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        cross_check::infonce_terms(self.spec, params, &self.rows.x, &self.rows.y, threads)
            .map_or(f64::NAN, |t| t.iter().sum::<f64>() / t.len().max(1) as f64)
    }
}

/// Batches an evaluation reads: the estimator's default.
fn eval_batches() -> u32 {
    infobound::Estimator::default().eval_batches
}

/// What the held-out rows said of a run.
pub struct Accuracy {
    /// The chosen step's critic read once on the report part (mean of its batches), nats; NaN
    /// when a runaway came before any evaluation.
    pub estimate: f64,
    /// Its sampling standard error (widened for overlapping batches), nats.
    pub std_err: f64,
    /// The protocol's cross-check of the same critic: InfoNCE over every pair of the report
    /// part at once (K = its rows, as bmi reads its held-out rows), nats; `None` for a critic
    /// that does not score every pair, or with no step chosen.
    pub all_pairs: Option<f64>,
    /// bmi's own statistic for this run ([`BmiRows`]): the maximum over the checks of InfoNCE
    /// over every pair of all the held-out rows, nats; `None` for a configuration that does
    /// not mirror bmi. Biased upward; for the comparison with bmi only.
    pub bmi_statistic: Option<f64>,
    /// Seconds its all-pairs evaluations took (not part of the timed training).
    pub bmi_statistic_s: Option<f64>,
    /// The step chosen on the selection part.
    pub chosen_step: u64,
    /// The selection part's value at the chosen step: the best check (biased upward), nats.
    pub best_held_out: f64,
    /// The selection part's value at the last evaluation, nats.
    pub final_held_out: f64,
    /// Evaluations on the selection part.
    pub evaluations: usize,
    /// The mean bound value over the last (at most 100) training batches, nats.
    pub train_tail: f64,
    /// A runaway, or a last evaluation far below the chosen one; `None` when neither.
    pub warning: Option<String>,
}

/// One evaluation on the selection part.
struct Check {
    step: u64,
    mi: f64,
}

/// A run's training values, gradient norms, evaluations and the critic of every running best,
/// with bmi's statistic at every check where the run mirrors bmi.
pub struct Tracker<'a> {
    curve: Vec<f32>,
    norms: Vec<f32>,
    checks: Vec<Check>,
    snapshots: Vec<(u64, Vec<f32>)>,
    bmi: Option<(BmiRows<'a>, Vec<f64>, f64)>,
}

impl<'a> Tracker<'a> {
    /// An empty record; with `bmi`, bmi's statistic is read at every check.
    pub fn new(bmi: Option<BmiRows<'a>>) -> Self {
        Self {
            curve: Vec::new(),
            norms: Vec::new(),
            checks: Vec::new(),
            snapshots: Vec::new(),
            bmi: bmi.map(|b| (b, Vec::new(), 0.0)),
        }
    }

    /// Trains `steps` steps in pieces that end on the evaluation steps, evaluating at each;
    /// returns the seconds spent training (the evaluations not counted).
    pub fn advance(
        &mut self,
        trainer: &mut dyn Trainer,
        steps: u64,
    ) -> Result<f64, infobound::Error> {
        let end = trainer.step() + steps;
        let mut seconds = 0.0;
        while trainer.step() < end {
            let next = (trainer.step() / EVAL_EVERY + 1) * EVAL_EVERY;
            let n = (next.min(end) - trainer.step()) as u32;
            let t = Instant::now();
            let values = trainer.train(n)?;
            seconds += t.elapsed().as_secs_f64();
            self.curve.extend(values);
            self.norms.extend(trainer.take_grad_norms());
            if trainer.step().is_multiple_of(EVAL_EVERY) {
                self.evaluate(trainer)?;
            }
        }
        Ok(seconds)
    }

    /// Evaluates the current critic on the selection part, keeping it when it is a new best,
    /// and reads bmi's statistic of it where the run mirrors bmi.
    fn evaluate(&mut self, trainer: &mut dyn Trainer) -> Result<(), infobound::Error> {
        let (mi, _) = values_mean(&trainer.evaluate()?);
        let step = trainer.step();
        if let Some((rows, values, seconds)) = &mut self.bmi {
            let t = Instant::now();
            values.push(rows.infonce(&trainer.parameters()?));
            *seconds += t.elapsed().as_secs_f64();
        }
        // NaN is never a best.
        if self.checks.iter().all(|c| mi > c.mi) {
            self.snapshots.push((step, trainer.parameters()?));
        }
        self.checks.push(Check { step, mi });
        Ok(())
    }

    /// The accuracy column: evaluates the last step if it was not, chooses the step as the
    /// module doc says and reads its critic on the report part of `rows` (`spec`'s held-out
    /// rows). `limit` is the value a bound without a ceiling may not pass (ln of the training
    /// rows; `None` for draws without end or a bound with a ceiling).
    pub fn finish(
        mut self,
        trainer: &mut dyn Trainer,
        (rows, spec): (&HeldOutRows, &TrainSpec),
        limit: Option<f64>,
    ) -> Result<Accuracy, infobound::Error> {
        if self.checks.last().is_none_or(|c| c.step != trainer.step()) {
            self.evaluate(trainer)?;
        }
        let runaway = runaway::detect(&self.curve, &self.norms, limit);
        let cut = runaway.map_or(u64::MAX, |r| r.step + 1);
        let chosen = choose(&self.checks, cut);
        let (estimate, std_err, all_pairs) = match chosen {
            Some(c) => {
                let (mi, se, all_pairs) = self.read_out(trainer, c.step)?;
                (mi, se * rows.overlap(spec), all_pairs)
            }
            None => (f64::NAN, f64::NAN, None),
        };
        let last = self.checks.last().expect("the last step was evaluated");
        let tail = &self.curve[self.curve.len().saturating_sub(TRAIN_TAIL)..];
        let warning = match runaway {
            Some(r) => Some(r.warning(spec.bound.name())),
            None => chosen.and_then(|c| collapse(c, last)),
        };
        let (bmi_statistic, bmi_statistic_s) = match &self.bmi {
            Some((_, values, seconds)) => (Some(bmi_max(values)), Some(*seconds)),
            None => (None, None),
        };
        Ok(Accuracy {
            estimate,
            std_err,
            all_pairs,
            bmi_statistic,
            bmi_statistic_s,
            chosen_step: chosen.map_or(0, |c| c.step),
            best_held_out: chosen.map_or(f64::NAN, |c| c.mi),
            final_held_out: last.mi,
            evaluations: self.checks.len(),
            train_tail: tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len().max(1) as f64,
            warning,
        })
    }

    /// The critic kept at `step` read once on the report part: its mean and standard error,
    /// and InfoNCE over every pair of the part.
    fn read_out(
        &self,
        trainer: &mut dyn Trainer,
        step: u64,
    ) -> Result<(f64, f64, Option<f64>), infobound::Error> {
        let params = self
            .snapshots
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, p)| p)
            .expect("every running best keeps its critic");
        let out = trainer.read_out(params)?;
        let (mi, se) = values_mean(&out.values);
        let all_pairs = out
            .infonce_terms
            .map(|t| t.iter().sum::<f64>() / t.len().max(1) as f64);
        Ok((mi, se, all_pairs))
    }
}

/// The check that chooses the step: the best before step `cut` (a runaway's), the first of
/// equal bests, as the protocol chooses; `None` when none is finite.
fn choose(checks: &[Check], cut: u64) -> Option<&Check> {
    checks
        .iter()
        .filter(|c| c.step < cut && c.mi.is_finite())
        .fold(None, |best, c| match best {
            Some(b) if c.mi <= b.mi => Some(b),
            _ => Some(c),
        })
}

/// The largest of bmi's checks, as bmi keeps it (NaN checks skipped); NaN when all are.
fn bmi_max(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NAN, f64::max)
}

/// The warning when the `last` check sits more than [`COLLAPSE_NATS`] below the `chosen` one
/// (or is not finite): the run collapsed after the chosen step.
fn collapse(chosen: &Check, last: &Check) -> Option<String> {
    (chosen.mi - last.mi > COLLAPSE_NATS || last.mi.is_nan()).then(|| {
        format!(
            "collapsed late: the held-out value fell from {:.3} (step {}) to {:.3} at the last \
             step ({}); the estimate is the chosen step's critic, not the last",
            chosen.mi, chosen.step, last.mi, last.step
        )
    })
}

/// The mean of one evaluation's values and its standard error (of independent batches: the
/// read-out widens it for overlapping ones, as the protocol's does).
fn values_mean(values: &HeldOutValues) -> (f64, f64) {
    match values {
        HeldOutValues::Batches(v) => mean_and_se(v),
        HeldOutValues::WholeSplit { mi, std_err, .. } => (*mi, *std_err),
        _ => (f64::NAN, f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(values: &[(u64, f64)]) -> Vec<Check> {
        values
            .iter()
            .map(|&(step, mi)| Check { step, mi })
            .collect()
    }

    #[test]
    fn the_best_check_before_a_runaway_chooses_the_step() {
        let c = checks(&[
            (250, 0.5),
            (500, 0.6),
            (750, 0.6),
            (1000, 0.9),
            (1250, f64::NAN),
        ]);
        assert_eq!(choose(&c, u64::MAX).map(|c| c.step), Some(1000));
        assert_eq!(
            choose(&c, 1000).map(|c| c.step),
            Some(500),
            "first of equal bests"
        );
        assert!(choose(&c, 250).is_none(), "nothing before the runaway");
    }

    #[test]
    fn bmis_statistic_is_the_largest_check() {
        assert_eq!(bmi_max(&[0.5, 0.61, f64::NAN, 0.58]), 0.61);
        assert!(bmi_max(&[f64::NAN]).is_nan());
        assert!(bmi_max(&[]).is_nan());
    }

    #[test]
    fn a_late_collapse_warns_with_both_values() {
        let c = checks(&[(250, 0.571), (8000, 0.55), (10000, 0.268)]);
        let w = collapse(&c[0], &c[2]).expect("0.3 nats below the chosen check");
        assert!(
            w.contains("0.571") && w.contains("0.268") && w.contains("10000"),
            "{w}"
        );
        assert!(collapse(&c[0], &c[1]).is_none(), "0.02 nats below is noise");
        assert!(collapse(
            &c[0],
            &Check {
                step: 1,
                mi: f64::NAN
            }
        )
        .is_some());
    }
}
