//! The public estimator: validate, transform the marginals, train on the best device, report.

use std::time::Instant;

use crate::backend::{self, CancelToken, DeviceChoice, HeldOut, HeldOutValues, RunOptions};
use crate::estimate::data::Matrix;
use crate::estimate::diagnostics::{diagnose, Diagnostic, Point};
use crate::estimate::marginal::{FittedMarginals, MarginalTransform};
use crate::estimate::runaway::{NoEstimate, Runaway, RunawayKind};
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::optim::AdamConfig;
use crate::math::rng::{Permutation, Purpose};
use crate::math::spec::{TrainData, TrainSpec};
use crate::Error;

/// An estimator's settings: `Default` plus `with_*` setters.
///
/// The default is SMILE (τ = 5) read out of a separable critic (two 128-128 towers, embedding
/// 32), batch 128, Adam lr 1e-3, 2 000 steps, a fifth of the rows held out and evaluated every
/// 100 steps on 16 batches (InfoNCE with the separable critic on a GPU: over the whole
/// held-out split at once, K = n_test, see `whole_split`).
/// SMILE because its clipped read-out has the lowest variance of the bounds not capped at
/// ln K (SPEC §4's exact-critic table); the separable critic because it
/// scores all K² pairs with one product. The sizes were measured: with half
/// the rows held out, a 5-d Gaussian of 1 nat from 10 000 rows read 0.81–0.89 because the critic
/// overfits the 5 000 training rows (held-out values fall while training values rise past the
/// truth); with a fifth held out it reads 0.97–0.99, and a 10-d Gaussian of 4 nats 3.8–4.3.
/// Rank-Gauss is the default transform because heavy tails fool standardisation: on the
/// Student-t tasks with one degree of freedom (`infobound suite`, docs/suite.md) it solved 5 of
/// 5 where standardising solved 3 and read 26 times the truth on one.
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

/// One evaluation on the held-out rows.
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
    /// The evaluation just made on the held-out rows (none without held-out rows).
    pub latest: Option<Evaluation>,
    /// Wall time since training began, seconds.
    pub seconds: f64,
}

/// The outcome of an estimate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The estimate, nats: the best evaluation on held-out rows (choosing the best of several
    /// biases it up slightly), or the mean of the last training steps without held-out rows.
    pub mi: f64,
    /// Its standard error, nats (batch means).
    pub std_err: f64,
    /// The most the bound can read at the evaluation's K (InfoNCE: ln K), nats.
    pub ceiling: Option<f64>,
    /// How the held-out rows were evaluated: the whole split as one batch (the separable
    /// critic on a GPU; K = n_test, standard error from row blocks) or in batches.
    pub evaluation: String,
    /// How every column was mapped before training (y kept as given for a known-density
    /// bound).
    pub transform: MarginalTransform,
    /// The bound's name.
    pub bound: &'static str,
    /// The critic's form.
    pub critic: &'static str,
    /// Rows used (train + test).
    pub n: usize,
    /// Of those, rows held out for evaluation.
    pub n_test: usize,
    /// Columns of x and of y.
    pub dims: (usize, usize),
    /// The bound's value at every training step, nats.
    pub train_curve: Vec<f32>,
    /// Every evaluation on the held-out rows.
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
    /// with the marginal transform fitted on the training rows, train, evaluate on the held-out rows every `eval_every`
    /// steps and report the best evaluation.
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
        let (train_rows, test_rows) = split_rows(n, self.test_fraction, self.seed);
        let mut warnings = Vec::new();
        let (tx, wx) = FittedMarginals::fit(&x, &train_rows, self.transform, "x")?;
        // Barber–Agakov's p(y) is a density of y as given: y is not transformed for it.
        let (ty, wy) = if self.bound.knows_a_density() {
            (FittedMarginals::identity(y.cols()), Vec::new())
        } else {
            FittedMarginals::fit(&y, &train_rows, self.transform, "y")?
        };
        warnings.extend(wx.into_iter().chain(wy));
        let (xs, ys) = (tx.apply(&x, &train_rows), ty.apply(&y, &train_rows));
        let (xt, yt) = (tx.apply(&x, &test_rows), ty.apply(&y, &test_rows));
        let lp = crate::estimate::known_marginal::split(
            self.bound,
            self.log_marginal.as_deref(),
            n,
            (&train_rows, &test_rows),
        )?;
        let (lp_train, lp_test) = match &lp {
            Some((a, b)) => (Some(&a[..]), Some(&b[..])),
            None => (None, None),
        };
        let data = TrainData {
            x: &xs,
            dx: x.cols(),
            y: &ys,
            dy: y.cols(),
            log_marginal: lp_train,
        };
        let held_out = (!test_rows.is_empty()).then_some((
            TrainData {
                x: &xt,
                dx: x.cols(),
                y: &yt,
                dy: y.cols(),
                log_marginal: lp_test,
            },
            self.eval_batches,
        ));
        let spec = self.train_spec(x.cols(), y.cols());
        let opened = backend::open(self.device)?;
        warnings.extend(opened.warnings);
        let device = opened.backend;
        let device_reason = opened.reason;
        // The separable critic on a GPU may evaluate the whole test split at once (K = n_test,
        // the fused kernels; `whole_split`); the other critics and the CPU backend, batches.
        let whole = !test_rows.is_empty()
            && self.whole_split.unwrap_or(self.bound.ceiling(2).is_some())
            && device.whole_split_applies(&spec, test_rows.len());
        let held_out = held_out.map(|(data, batches)| match whole {
            true => HeldOut::WholeSplit {
                data,
                blocks: batches,
            },
            false => HeldOut::Batches { data, batches },
        });
        let options = RunOptions::default()
            .with_chunk(self.chunk)
            .with_cancel(self.cancel.clone());
        let mut trainer = device.trainer(&spec, data.into(), held_out, &options)?;
        let (eval_k, evaluation) = if whole {
            let k = test_rows.len();
            (
                k,
                format!(
                    "the whole test split as one batch (K = {k}), standard error from {} row \
                     blocks",
                    (self.eval_batches as usize).min(k)
                ),
            )
        } else if test_rows.is_empty() {
            (
                self.batch,
                format!(
                    "no held-out rows: the last {} training steps",
                    self.average_last
                ),
            )
        } else {
            (
                self.batch,
                format!(
                    "{} held-out batches of K = {}, standard error from their spread",
                    self.eval_batches, self.batch
                ),
            )
        };

        let start = Instant::now();
        let mut curve = Vec::with_capacity(self.steps as usize);
        let mut grad_norms = Vec::with_capacity(self.steps as usize);
        let mut evaluations = Vec::new();
        let mut best: Option<Evaluation> = None;
        let mut since_best = 0;
        while curve.len() < self.steps as usize {
            let now = (self.steps as usize - curve.len()).min(self.eval_every as usize) as u32;
            curve.extend(trainer.train(now)?);
            grad_norms.extend(trainer.take_grad_norms());
            if test_rows.is_empty() {
                progress(&Progress {
                    step: trainer.step(),
                    total: u64::from(self.steps),
                    train_value: curve.last().copied(),
                    latest: None,
                    seconds: start.elapsed().as_secs_f64(),
                });
                continue;
            }
            let (mi, std_err) = match trainer.evaluate()? {
                HeldOutValues::WholeSplit { mi, std_err } => (mi, std_err),
                HeldOutValues::Batches(values) => {
                    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
                        return Err(Error::Diverged {
                            step: trainer.step(),
                            what: if bad == 0 {
                                "the held-out bound value"
                            } else {
                                "a held-out bound value"
                            },
                        });
                    }
                    mean_and_se(&values)
                }
            };
            if !mi.is_finite() {
                return Err(Error::Diverged {
                    step: trainer.step(),
                    what: "the held-out bound value",
                });
            }
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
            } else {
                since_best += 1;
                if self.patience.is_some_and(|p| since_best >= p) {
                    break;
                }
            }
        }
        let seconds = start.elapsed().as_secs_f64();
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
        let (mi, std_err) = if !test_rows.is_empty() {
            // The first of equal bests, as during training.
            let top = before.iter().fold(None::<&&Evaluation>, |t, e| match t {
                Some(b) if e.mi <= b.mi => Some(b),
                _ => Some(e),
            });
            match top {
                Some(b) => (b.mi, b.std_err),
                None => return Err(no_estimate(runaway, self.bound)),
            }
        } else if trained.is_empty() {
            return Err(no_estimate(runaway, self.bound));
        } else {
            let tail = &trained[trained.len() - (self.average_last as usize).min(trained.len())..];
            mean_and_batch_se(tail)
        };
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
            ceiling,
            evaluation,
            transform: self.transform,
            bound: self.bound.name(),
            critic: self.critic.name(),
            n,
            n_test: test_rows.len(),
            dims: (x.cols(), y.cols()),
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

/// Rows held out of n at `fraction`.
pub(crate) fn held_out_count(n: usize, fraction: f64) -> usize {
    (n as f64 * fraction).round() as usize
}

/// A random split of 0..n into (train, test) rows, the test share `fraction`, from the
/// stream (seed, Split).
pub fn split_rows(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let perm = Permutation::new(seed, Purpose::Split, 0, n.max(1) as u32);
    let order: Vec<usize> = (0..n as u32).map(|i| perm.apply(i) as usize).collect();
    let test = held_out_count(n, fraction);
    let (te, tr) = order.split_at(test);
    let (mut tr, mut te) = (tr.to_vec(), te.to_vec());
    tr.sort_unstable();
    te.sort_unstable();
    (tr, te)
}

/// Mean and standard error of independent values.
pub fn mean_and_se(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (mean, (var / n).sqrt())
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
