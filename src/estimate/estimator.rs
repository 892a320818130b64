//! The public estimator: validate, transform the marginals, train on the best device, report.

use std::time::Instant;

use crate::backend::{self, CancelToken, DeviceChoice, HeldOut, HeldOutParts, RunOptions};
use crate::estimate::data::Matrix;
use crate::estimate::diagnostics::{diagnose, Diagnostic, Point};
use crate::estimate::marginal::{FittedMarginals, MarginalTransform};
use crate::estimate::readout::{finite_mean, CrossCheck, ReadOutSummary, HELD_OUT_VALUE};
use crate::estimate::runaway::{NoEstimate, Runaway, RunawayKind};
use crate::estimate::split::Rows;
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::optim::AdamConfig;
use crate::math::spec::{TrainData, TrainSpec};
use crate::Error;

/// An estimator's settings: `Default` plus `with_*` setters.
///
/// The default is SMILE (τ = 5) read out of a separable critic (two 128-128 towers, embedding
/// 32), batch 128, Adam lr 1e-3, 2 000 steps, a fifth of the rows held out and cut in two: one
/// half evaluated every 100 steps on 16 batches to choose the step, the other read once with
/// that step's critic (InfoNCE with the separable critic on a GPU: each half at once,
/// K = its rows, see `whole_split`).
/// SMILE because its clipped read-out has the lowest variance of the bounds not capped at
/// ln K (SPEC §4's exact-critic table); the separable critic because it
/// scores all K² pairs with one product. The sizes were measured: with half
/// the rows held out, a 5-d Gaussian of 1 nat from 10 000 rows read 0.81–0.89 because the critic
/// overfits the 5 000 training rows (held-out values fall while training values rise past the
/// truth); with a fifth held out it read 0.97–0.99 (as the best of 20 evaluations on the rows
/// reported on; read once on fresh rows, 0.84 ± 0.05), and a 10-d Gaussian of 4 nats 3.8–4.3.
/// Rank-Gauss is the default transform because heavy tails fool standardisation: on the
/// 37-task grid at 10 000 rows (`infobound suite`, docs/suite.md) it solved 35 tasks, every
/// Student-t one among them, and read above 1.5 × the truth on none, where standardising
/// solved 31 and read up to 8 × the truth on three.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Estimator {
    /// The bound trained and reported.
    pub bound: Bound,
    /// The critic's form and widths.
    pub critic: CriticForm,
    /// Hidden widths of the learned baseline of TUBA and α-InfoNCE.
    pub baseline_hidden: Vec<usize>,
    /// Joint pairs per batch (K).
    pub batch: usize,
    /// Most training steps.
    pub steps: u32,
    /// Adam's settings.
    pub adam: AdamConfig,
    /// Seeds initialisation, the split and every draw.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceChoice,
    /// Steps recorded per GPU submission (values are read back once a chunk).
    pub chunk: u32,
    /// Fraction of rows held out for evaluation (SPEC §6; bmi uses 0.5). With 0 the estimate is
    /// the mean training value over the last `average_last` steps instead.
    pub test_fraction: f64,
    /// Steps between evaluations on the held-out rows.
    pub eval_every: u32,
    /// Batches per evaluation (the standard error comes from their spread); for the
    /// whole-split evaluation of the separable critic on a GPU, the row blocks its standard
    /// error comes from ([`crate::math::split_eval`]).
    pub eval_batches: u32,
    /// Stop after this many evaluations without a better estimate (`None`: never).
    pub patience: Option<u32>,
    /// With no held-out rows, the estimate averages this many final training steps.
    pub average_last: u32,
    /// Clips the critic's gradient to this global L2 norm before Adam (`None`: no clip).
    pub max_grad_norm: Option<f32>,
    /// Whether the separable critic on a GPU is evaluated on the whole held-out split as one
    /// batch (K = n_test, the fused kernels; [`crate::math::split_eval`]) instead of in batches of
    /// `batch`. `None` (the default): for the bounds capped at ln K (InfoNCE), whose ceiling
    /// it lifts to ln n_test. The others read lower over the whole split: the log-mean-exp of
    /// a small batch is biased down (Jensen), so small-batch DV-type read-outs are biased up;
    /// measured here, SMILE's default on the 5-d Gaussian of 1 nat read 0.890 ± 0.031 over the
    /// whole split (K = 2 000) against 0.97–0.99 in batches of 128.
    pub whole_split: Option<bool>,
    /// Barber–Agakov and V_MS: log p(y_i) of every row (nats) when the known marginal is not
    /// the standard normal; `None`: p(y) = N(0, I). See [`crate::estimate::known_marginal`].
    pub log_marginal: Option<Vec<f32>>,
    /// V_MS: the decoder also learns through its reparameterised proposals
    /// ([`TrainSpec::reparameterised`]); `false`: the proposals are held fixed.
    pub reparameterised: bool,
    /// How every column is mapped before training, fitted on the training rows
    /// ([`crate::estimate::marginal`]; SPEC §6). Known-density bounds keep y as given.
    pub transform: MarginalTransform,
    /// Stops the run between submissions when cancelled (from another thread); the estimate
    /// then fails with [`Error::Cancelled`].
    pub cancel: Option<CancelToken>,
}

impl Default for Estimator {
    fn default() -> Self {
        Self {
            bound: Bound::Smile { tau: 5.0 },
            critic: CriticForm::Separable {
                hidden: vec![128, 128],
                embed: 32,
            },
            baseline_hidden: vec![64],
            batch: 128,
            steps: 2_000,
            adam: AdamConfig::default().with_lr(1e-3),
            seed: 0,
            device: DeviceChoice::Auto,
            chunk: 250,
            test_fraction: 0.2,
            eval_every: 100,
            eval_batches: 16,
            patience: None,
            average_last: 500,
            max_grad_norm: None,
            whole_split: None,
            log_marginal: None,
            reparameterised: false,
            transform: MarginalTransform::default(),
            cancel: None,
        }
    }
}

/// One evaluation on the selection half of the held-out rows (the step is chosen among them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Training steps taken when it ran.
    pub step: u64,
    /// Mean bound value over the evaluation batches, nats.
    pub mi: f64,
    /// Standard error of that mean, nats.
    pub std_err: f64,
}

/// Where a running estimate stands: what [`Estimator::estimate_with_progress`] passes its
/// callback.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Training steps taken.
    pub step: u64,
    /// Most training steps (the run may stop earlier with patience).
    pub total: u64,
    /// The bound's value at the last training step, nats.
    pub train_value: Option<f32>,
    /// The evaluation just made on the selection half of the held-out rows (none without them).
    pub latest: Option<Evaluation>,
    /// Wall time since training began, seconds.
    pub seconds: f64,
}

/// The outcome of an estimate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The estimate, nats: the critic of the step chosen on one part of the held-out rows,
    /// read once on the other part (no selection bias; [`crate::estimate::readout`]), or the
    /// mean of the last training steps without held-out rows.
    pub mi: f64,
    /// Its standard error, nats: the sampling and optimisation errors in quadrature, so that
    /// `mi − 2·std_err` is a lower confidence bound that holds (docs/suite.md).
    pub std_err: f64,
    /// The sampling part of `std_err`: the report part's batch (or row-block) spread, widened
    /// when its batches overlap.
    pub std_err_sampling: f64,
    /// The optimisation part of `std_err`: the critic's own jitter between consecutive
    /// evaluations of the same batches (0 without held-out rows).
    pub std_err_optimisation: f64,
    /// The most the bound can read at the read-out's K (InfoNCE: ln K), nats.
    pub ceiling: Option<f64>,
    /// How the report part was read: as one batch (the separable critic on a GPU; K = its
    /// rows, standard error from row blocks) or in batches.
    pub evaluation: String,
    /// How the reported step was chosen, and on which rows it was read.
    pub selection: String,
    /// The step whose critic is reported (`None` without held-out rows).
    pub chosen_step: Option<u64>,
    /// The InfoNCE read-out of the same critic over every pair of the report part
    /// ([`CrossCheck`]); `None` where none exists (`cross_check_note` says why).
    pub cross_check: Option<CrossCheck>,
    /// The cross-check in words, or why there is none.
    pub cross_check_note: String,
    /// How every column was mapped before training (y kept as given for a known-density
    /// bound).
    pub transform: MarginalTransform,
    /// The bound's name.
    pub bound: &'static str,
    /// The critic's form.
    pub critic: &'static str,
    /// Rows used (train + test).
    pub n: usize,
    /// Of those, rows held out for evaluation (the selection and the report parts).
    pub n_test: usize,
    /// Of those, the report part's rows, which the estimate is read on.
    pub n_report: usize,
    /// Columns of x and of y.
    pub dims: (usize, usize),
    /// The bound's value at every training step, nats.
    pub train_curve: Vec<f32>,
    /// Every evaluation on the selection part of the held-out rows.
    pub test_curve: Vec<Evaluation>,
    /// Training steps taken (fewer than asked when early stopping fired).
    pub steps: u64,
    /// The device that trained the critic.
    pub device: String,
    /// Why that device: the rule of [`DeviceChoice::Auto`] or the explicit choice.
    pub device_reason: String,
    /// Wall time of training and evaluation, seconds.
    pub seconds: f64,
    /// Training steps per second.
    pub steps_per_second: f64,
    /// The global L2 norm of the critic's gradient at every training step (before any clip).
    pub grad_norms: Vec<f32>,
    /// Where the run ran away, if it did ([`crate::estimate::runaway`]): `mi` then comes only from
    /// evaluations made before that step, and `warnings` says so.
    pub runaway: Option<Runaway>,
    /// What the curves say about the estimate ([`crate::estimate::diagnostics`]): still rising, fallen
    /// from its best, or overfitting. Each is also in `warnings`, with its remedy.
    pub diagnostics: Vec<Diagnostic>,
    /// Things the user should know (a CPU fallback, a software adapter, a capped bound, a
    /// runaway, a mostly tied column, a diagnostic).
    pub warnings: Vec<String>,
}

impl Report {
    /// The estimate in bits.
    pub fn mi_bits(&self) -> f64 {
        self.mi / std::f64::consts::LN_2
    }
}

impl Estimator {
    setter!(/// Sets the bound.
        with_bound, bound: Bound);
    setter!(/// Sets the critic.
        with_critic, critic: CriticForm);
    setter!(/// Sets the baseline network's hidden widths (TUBA, α-InfoNCE).
        with_baseline_hidden, baseline_hidden: Vec<usize>);
    setter!(/// Sets the batch size (joint pairs per step).
        with_batch, batch: usize);
    setter!(/// Sets the most training steps.
        with_steps, steps: u32);
    setter!(/// Sets the seed.
        with_seed, seed: u64);
    setter!(/// Sets the device.
        with_device, device: DeviceChoice);
    setter!(/// Sets steps per GPU submission.
        with_chunk, chunk: u32);
    setter!(/// Sets the held-out fraction (0 disables evaluation on held-out rows).
        with_test_fraction, test_fraction: f64);
    setter!(/// Sets the steps between evaluations.
        with_eval_every, eval_every: u32);
    setter!(/// Sets the batches per evaluation.
        with_eval_batches, eval_batches: u32);
    setter!(/// Sets early stopping's patience, in evaluations.
        with_patience, patience: Option<u32>);
    setter!(/// Sets how many final steps the estimate averages without held-out rows.
        with_average_last, average_last: u32);
    setter!(/// Sets the max-norm clip of the critic's gradient (`None`: none).
        with_max_grad_norm, max_grad_norm: Option<f32>);
    setter!(/// Sets whether the separable critic is evaluated on the whole held-out split
        /// (`None`: for InfoNCE only).
        with_whole_split, whole_split: Option<bool>);
    setter!(
        /// Per-row log p(y) for Barber–Agakov and V_MS (`None`: the standard normal).
        with_log_marginal, log_marginal: Option<Vec<f32>>);
    setter!(/// Sets whether V_MS's decoder learns through its proposals (default: held fixed).
        with_reparameterised, reparameterised: bool);
    setter!(/// Sets the marginal transform applied to every column before training.
        with_transform, transform: MarginalTransform);
    setter!(/// Sets the cancellation token that stops the run between submissions.
        with_cancel, cancel: Option<CancelToken>);

    /// Sets Adam's learning rate.
    pub fn with_lr(mut self, lr: f32) -> Self {
        self.adam = self.adam.with_lr(lr);
        self
    }

    /// Sets the critic's hidden widths, keeping its form (and the separable embedding).
    pub fn with_hidden(mut self, widths: Vec<usize>) -> Self {
        match &mut self.critic {
            CriticForm::Separable { hidden, .. }
            | CriticForm::Concat { hidden }
            | CriticForm::Shuffled { hidden }
            | CriticForm::Decoder { hidden }
            | CriticForm::DecoderCritic { hidden } => *hidden = widths,
        }
        self
    }

    /// The training spec for data of widths dx and dy.
    pub fn train_spec(&self, dx: usize, dy: usize) -> TrainSpec {
        TrainSpec::new(dx, dy, self.critic.clone(), self.bound, self.batch)
            .with_adam(self.adam)
            .with_seed(self.seed)
            .with_baseline_hidden(self.baseline_hidden.clone())
            .with_max_grad_norm(self.max_grad_norm)
            .with_reparameterised(self.reparameterised)
    }

    /// Estimates I(X; Y) from paired rows of `x` and `y` (SPEC §6): split, map every column
    /// with the marginal transform fitted on the training rows, train, evaluate on the
    /// selection half of the held-out rows every `eval_every` steps, and read the best step's
    /// critic once on the report half ([`crate::estimate::readout`]).
    pub fn estimate(&self, x: Matrix<'_>, y: Matrix<'_>) -> Result<Report, Error> {
        self.estimate_with_progress(x, y, |_| {})
    }

    /// [`Self::estimate`], calling `progress` after every block of training steps (every
    /// `eval_every` steps, after that block's evaluation), for a progress bar. The callback
    /// runs on the calling thread between device submissions; it cannot stop the run.
    pub fn estimate_with_progress(
        &self,
        x: Matrix<'_>,
        y: Matrix<'_>,
        mut progress: impl FnMut(&Progress),
    ) -> Result<Report, Error> {
        self.check_inputs(&x, &y)?;
        let n = x.rows();
        let rows = Rows::split(n, self.test_fraction, self.seed);
        let mut warnings = Vec::new();
        let (tx, wx) = FittedMarginals::fit(&x, &rows.train, self.transform, "x")?;
        // Barber–Agakov's p(y) is a density of y as given: y is not transformed for it.
        let (ty, wy) = if self.bound.knows_a_density() {
            (FittedMarginals::identity(y.cols()), Vec::new())
        } else {
            FittedMarginals::fit(&y, &rows.train, self.transform, "y")?
        };
        warnings.extend(wx.into_iter().chain(wy));
        let apply = |r: &[usize]| (tx.apply(&x, r), ty.apply(&y, r));
        let ((xs, ys), (xa, ya), (xb, yb)) =
            (apply(&rows.train), apply(&rows.select), apply(&rows.report));
        let marginal = |part: &[usize]| {
            crate::estimate::known_marginal::split(
                self.bound,
                self.log_marginal.as_deref(),
                n,
                (&rows.train, part),
            )
        };
        let (lp_a, lp_b) = (marginal(&rows.select)?, marginal(&rows.report)?);
        let train_lp = lp_a.as_ref().map(|(t, _)| &t[..]);
        let (dx, dy) = (x.cols(), y.cols());
        let data = TrainData {
            x: &xs,
            dx,
            y: &ys,
            dy,
            log_marginal: train_lp,
        };
        let select_data = TrainData {
            x: &xa,
            y: &ya,
            log_marginal: lp_a.as_ref().map(|(_, p)| &p[..]),
            ..data
        };
        let report_data = TrainData {
            x: &xb,
            y: &yb,
            log_marginal: lp_b.as_ref().map(|(_, p)| &p[..]),
            ..data
        };
        let spec = self.train_spec(dx, dy);
        let opened = backend::open(self.device)?;
        warnings.extend(opened.warnings);
        let device = opened.backend;
        let device_reason = opened.reason;
        let held = rows.held_out();
        let (n_select, n_report) = (rows.select.len(), rows.report.len());
        // The separable critic on a GPU may evaluate each held-out part whole (K = its rows,
        // the fused kernels; `whole_split`); the other critics and the CPU backend, batches
        // of the training K (or of the smaller part's rows, when a part is smaller).
        let whole = held
            && self.whole_split.unwrap_or(self.bound.ceiling(2).is_some())
            && device.whole_split_applies(&spec, n_select.min(n_report));
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
        let held_out = held.then(|| HeldOutParts::new(part(select_data), part(report_data)));
        let options = RunOptions::default()
            .with_chunk(self.chunk)
            .with_cancel(self.cancel.clone());
        let mut trainer = device.trainer(&spec, data.into(), held_out, &options)?;
        let (eval_k, evaluation) = if !held {
            (
                self.batch,
                format!(
                    "no held-out rows: the last {} training steps",
                    self.average_last
                ),
            )
        } else if whole {
            (
                n_report,
                format!(
                    "the report part's {n_report} rows as one batch (K = {n_report}), standard \
                     error from {} row blocks",
                    (self.eval_batches as usize).min(n_report)
                ),
            )
        } else {
            (
                k_eval,
                format!(
                    "{} batches of K = {k_eval} from the report part's {n_report} rows, standard \
                     error from their spread (widened when they overlap) and the optimiser's jitter",
                    self.eval_batches
                ),
            )
        };

        let start = Instant::now();
        let mut curve = Vec::with_capacity(self.steps as usize);
        let mut grad_norms = Vec::with_capacity(self.steps as usize);
        let mut evaluations = Vec::new();
        // The critic at every evaluation that beat all before it: the chosen step is one of
        // them, whichever evaluations a runaway later excludes.
        let mut snapshots: Vec<(u64, Vec<f32>)> = Vec::new();
        let mut best: Option<Evaluation> = None;
        let mut since_best = 0;
        while curve.len() < self.steps as usize {
            let now = (self.steps as usize - curve.len()).min(self.eval_every as usize) as u32;
            curve.extend(trainer.train(now)?);
            grad_norms.extend(trainer.take_grad_norms());
            if !held {
                progress(&Progress {
                    step: trainer.step(),
                    total: u64::from(self.steps),
                    train_value: curve.last().copied(),
                    latest: None,
                    seconds: start.elapsed().as_secs_f64(),
                });
                continue;
            }
            let values = trainer.evaluate()?;
            let (mi, std_err) = finite_mean(&values, trainer.step(), HELD_OUT_VALUE)?;
            let e = Evaluation {
                step: trainer.step(),
                mi,
                std_err,
            };
            evaluations.push(e);
            progress(&Progress {
                step: trainer.step(),
                total: u64::from(self.steps),
                train_value: curve.last().copied(),
                latest: Some(e),
                seconds: start.elapsed().as_secs_f64(),
            });
            if best.is_none_or(|b| e.mi > b.mi) {
                best = Some(e);
                since_best = 0;
                snapshots.push((e.step, trainer.parameters()?));
            } else {
                since_best += 1;
                if self.patience.is_some_and(|p| since_best >= p) {
                    break;
                }
            }
        }
        let ceiling = self.bound.ceiling(eval_k);
        // A bound without a ceiling cannot certify more than ln(training rows).
        let limit = ceiling.is_none().then(|| (data.rows() as f64).ln());
        let runaway = find_runaway(&curve, &grad_norms, &evaluations, limit);
        // Estimates from the runaway on are never the answer: evaluations before it, or the
        // training steps before it.
        let cut = runaway.map_or(u64::MAX, |(r, cut)| {
            warnings.push(r.warning(self.bound.name()));
            cut
        });
        let before: Vec<&Evaluation> = evaluations.iter().filter(|e| e.step < cut).collect();
        let trained = &curve[..(cut.min(curve.len() as u64) as usize)];
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
        let read = match chosen {
            Some(c) => {
                let params = snapshots
                    .iter()
                    .find(|(step, _)| *step == c.step)
                    .map(|(_, p)| p)
                    .expect("every running best keeps its critic");
                let out = trainer.read_out(params)?;
                let history: Vec<f64> = before.iter().map(|e| e.mi).collect();
                let read = ReadOutSummary::new(
                    &out,
                    &history,
                    (self.seed, self.eval_batches),
                    (n_report, k_eval),
                    trainer.step(),
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
        let seconds = start.elapsed().as_secs_f64();
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
        let diagnostics = diagnose(&points, trained, self.eval_every as usize, !whole);
        warnings.extend(diagnostics.iter().map(Diagnostic::to_string));
        if let Some(w) = crate::estimate::validate::negative_estimate(mi) {
            warnings.push(w);
        }
        warnings.extend(crate::estimate::limits::black_box_warnings(
            self.bound, mi, eval_k, n,
        ));
        Ok(Report {
            mi,
            std_err,
            std_err_sampling: sampling,
            std_err_optimisation: optimisation,
            ceiling,
            evaluation,
            selection,
            chosen_step: chosen.map(|c| c.step),
            cross_check: cross,
            cross_check_note,
            transform: self.transform,
            bound: self.bound.name(),
            critic: self.critic.name(),
            n,
            n_test: n_select + n_report,
            n_report,
            dims: (dx, dy),
            steps: trainer.step(),
            device: trainer.device_name(),
            device_reason,
            seconds,
            steps_per_second: trainer.step() as f64 / seconds.max(1e-9),
            train_curve: curve,
            test_curve: evaluations,
            grad_norms,
            runaway: runaway.map(|(r, _)| r),
            diagnostics,
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

/// Mean, and its standard error from the means of up to 10 consecutive blocks (successive
/// training values are correlated, so the naive σ/√n would understate it).
pub fn mean_and_batch_se(values: &[f32]) -> (f64, f64) {
    let n = values.len();
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let blocks = n.min(10);
    if blocks < 2 {
        return (mean, f64::NAN);
    }
    let size = n / blocks;
    let means: Vec<f64> = (0..blocks)
        .map(|b| {
            let block = &values[b * size..(b + 1) * size];
            block.iter().map(|&v| f64::from(v)).sum::<f64>() / size as f64
        })
        .collect();
    let mm = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|m| (m - mm).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    (mean, (var / blocks as f64).sqrt())
}
