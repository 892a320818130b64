//! The public estimator: validate, transform the marginals, train on the best device, report.

use crate::backend::{CancelToken, DeviceChoice, GeometryChoice};
use crate::estimate::data::Matrix;
use crate::estimate::marginal::MarginalTransform;
pub use crate::estimate::report::{mean_and_batch_se, Ensemble, Evaluation, Progress, Report};
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::optim::AdamConfig;
use crate::math::spec::TrainSpec;
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
    /// How a GPU picks its kernels' geometry: tuned at first use and cached (the default),
    /// the adapter's rule, or pinned ([`GeometryChoice`]). The CPU backends ignore it.
    pub geometry: GeometryChoice,
    /// Seeds in the ensemble: with r > 1, the estimate is trained under seeds seed, seed + 1,
    /// …, side by side in one batched run, and the report carries their spread
    /// ([`Report::ensemble`]).
    pub replicas: u32,
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
            geometry: GeometryChoice::Auto,
            replicas: 1,
        }
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
    setter!(/// Sets the seeds in the ensemble (1: a single estimate).
        with_replicas, replicas: u32);
    setter!(/// Sets how a GPU picks its kernels' geometry (pin one to reproduce bits across
        /// machines).
        with_geometry, geometry: GeometryChoice);

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
        progress: impl FnMut(&Progress),
    ) -> Result<Report, Error> {
        let prepared = self.prepare_seeds(x, y)?;
        let jobs: Vec<_> = prepared.iter().map(|(d, spec)| (d, spec.clone())).collect();
        let reports = self.run_batched(&jobs, progress)?;
        Report::of_seeds(&self.replica_seeds(), reports)
    }

    /// The seeds of [`Self::replicas`]: replica r runs with `seed + r` (wrapping), so
    /// `with_seed(seed + r)` alone reproduces it bit for bit on the same device.
    pub fn replica_seeds(&self) -> Vec<u64> {
        (0..u64::from(self.replicas.max(1)))
            .map(|r| self.seed.wrapping_add(r))
            .collect()
    }
}
