//! The public estimator: validate, standardise, train on the best device, report.

use std::time::Instant;

use crate::bounds::Bound;
use crate::cpu::CpuTrainer;
use crate::data::{Matrix, Standardizer};
use crate::gpu::{GpuContext, GpuTrainer};
use crate::optim::AdamConfig;
use crate::train::{TrainData, TrainSpec, Trainer};
use crate::Error;

/// Where training runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceChoice {
    /// The best GPU; the CPU reference with a warning when none works, unless the environment
    /// sets `INFOBOUND_REQUIRE_GPU=1`.
    #[default]
    Auto,
    /// A GPU or an error.
    Gpu,
    /// The CPU reference backend.
    Cpu,
}

/// An estimator's settings. `Default` is seed 000's setting: NWJ, a concat critic with two
/// hidden layers of 64 on shuffled negatives, batch 512, Adam at lr 1e-3.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Estimator {
    /// The bound trained and reported.
    pub bound: Bound,
    /// Hidden widths of the critic.
    pub hidden: Vec<usize>,
    /// Joint pairs per batch.
    pub batch: usize,
    /// Training steps.
    pub steps: u32,
    /// Adam's settings.
    pub adam: AdamConfig,
    /// Seeds initialisation and every draw.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceChoice,
    /// Steps recorded per GPU submission (values are read back once a chunk).
    pub chunk: u32,
    /// The estimate is the mean value over this many final steps.
    pub average_last: u32,
}

impl Default for Estimator {
    fn default() -> Self {
        Self {
            bound: Bound::Nwj,
            hidden: vec![64, 64],
            batch: 512,
            steps: 2_000,
            adam: AdamConfig::default().with_lr(1e-3),
            seed: 0,
            device: DeviceChoice::Auto,
            chunk: 250,
            average_last: 500,
        }
    }
}

/// The outcome of an estimate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The estimate, nats.
    pub mi: f64,
    /// Its standard error (batch means over the averaged steps), nats.
    pub std_err: f64,
    /// The bound's value at every training step, nats.
    pub train_curve: Vec<f32>,
    /// The device that trained the critic.
    pub device: String,
    /// Wall time of training, seconds.
    pub seconds: f64,
    /// Training steps per second.
    pub steps_per_second: f64,
    /// Things the user should know (a CPU fallback, a software adapter).
    pub warnings: Vec<String>,
}

impl Report {
    /// The estimate in bits.
    pub fn mi_bits(&self) -> f64 {
        self.mi / std::f64::consts::LN_2
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $field:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    };
}

impl Estimator {
    setter!(/// Sets the bound.
        with_bound, bound: Bound);
    setter!(/// Sets the critic's hidden widths.
        with_hidden, hidden: Vec<usize>);
    setter!(/// Sets the batch size (joint pairs per step).
        with_batch, batch: usize);
    setter!(/// Sets the number of training steps.
        with_steps, steps: u32);
    setter!(/// Sets the seed.
        with_seed, seed: u64);
    setter!(/// Sets the device.
        with_device, device: DeviceChoice);
    setter!(/// Sets steps per GPU submission.
        with_chunk, chunk: u32);
    setter!(/// Sets how many final steps the estimate averages.
        with_average_last, average_last: u32);

    /// Sets Adam's learning rate.
    pub fn with_lr(mut self, lr: f32) -> Self {
        self.adam = self.adam.with_lr(lr);
        self
    }

    /// Estimates I(X; Y) from paired rows of `x` and `y`.
    pub fn estimate(&self, x: Matrix<'_>, y: Matrix<'_>) -> Result<Report, Error> {
        self.validate(&x, &y)?;
        let rows: Vec<usize> = (0..x.rows()).collect();
        let xs = Standardizer::fit(&x, &rows, "x")?.apply(&x, &rows);
        let ys = Standardizer::fit(&y, &rows, "y")?.apply(&y, &rows);
        let data = TrainData {
            x: &xs,
            dx: x.cols(),
            y: &ys,
            dy: y.cols(),
        };
        let spec = TrainSpec::new(x.cols(), y.cols(), &self.hidden, self.bound, self.batch)
            .with_adam(self.adam)
            .with_seed(self.seed);
        let mut warnings = Vec::new();
        let ctx = match self.device {
            DeviceChoice::Cpu => None,
            DeviceChoice::Gpu => Some(GpuContext::new()?),
            DeviceChoice::Auto => match GpuContext::new() {
                Ok(ctx) => Some(ctx),
                Err(e) if gpu_required() => return Err(e.into()),
                Err(e) => {
                    warnings.push(format!("{e}; training on the CPU reference backend"));
                    None
                }
            },
        };
        if let Some(ctx) = &ctx {
            if ctx.adapter().is_software {
                warnings.push(format!(
                    "{} is a software adapter: correct, but slower than a GPU",
                    ctx.adapter().name
                ));
            }
        }
        let mut trainer: Box<dyn Trainer + '_> = match &ctx {
            Some(ctx) => Box::new(GpuTrainer::new(ctx, &spec, data, self.chunk)?),
            None => Box::new(CpuTrainer::new(&spec, data)?),
        };
        let start = Instant::now();
        let curve = trainer.train(self.steps)?;
        let seconds = start.elapsed().as_secs_f64();
        let tail = &curve[curve.len() - (self.average_last as usize).min(curve.len())..];
        let (mi, std_err) = mean_and_batch_se(tail);
        Ok(Report {
            mi,
            std_err,
            device: trainer.device_name(),
            seconds,
            steps_per_second: f64::from(self.steps) / seconds.max(1e-9),
            train_curve: curve,
            warnings,
        })
    }

    fn validate(&self, x: &Matrix<'_>, y: &Matrix<'_>) -> Result<(), Error> {
        if x.rows() != y.rows() {
            return Err(Error::InvalidInput(format!(
                "x has {} rows but y has {}",
                x.rows(),
                y.rows()
            )));
        }
        x.check_finite("x")?;
        y.check_finite("y")?;
        if self.batch < 2 {
            return Err(Error::InvalidInput(
                "the batch needs at least 2 pairs".into(),
            ));
        }
        if x.rows() < self.batch {
            return Err(Error::InvalidInput(format!(
                "{} rows are fewer than one batch of {}",
                x.rows(),
                self.batch
            )));
        }
        if self.steps == 0 || self.average_last == 0 {
            return Err(Error::InvalidInput(
                "steps and average_last must be positive".into(),
            ));
        }
        if !(self.adam.lr.is_finite() && self.adam.lr > 0.0) {
            return Err(Error::InvalidInput(format!(
                "the learning rate must be positive and finite, not {}",
                self.adam.lr
            )));
        }
        if !self.bound.supports_shuffled() {
            return Err(Error::InvalidInput(format!(
                "{} needs the full score matrix; the shuffled-negative critic supports nwj, dv, js and smile",
                self.bound.name()
            )));
        }
        if let Bound::Smile { tau } = self.bound {
            if !(tau.is_finite() && tau > 0.0) {
                return Err(Error::InvalidInput(format!(
                    "SMILE's τ must be positive, not {tau}"
                )));
            }
        }
        if self.hidden.contains(&0) {
            return Err(Error::InvalidInput("hidden widths must be positive".into()));
        }
        Ok(())
    }
}

/// True when `INFOBOUND_REQUIRE_GPU=1`: a missing adapter is then an error, never a fallback.
pub fn gpu_required() -> bool {
    std::env::var("INFOBOUND_REQUIRE_GPU").is_ok_and(|v| v == "1")
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

/// Shared by both trainers: the spec and the data must agree.
pub(crate) fn check_train_shapes(spec: &TrainSpec, data: &TrainData<'_>) -> Result<(), Error> {
    let n = data.rows();
    if data.dx == 0 || data.dy == 0 || data.y.len() != n * data.dy || data.x.len() != n * data.dx {
        return Err(Error::InvalidInput(
            "x and y must be non-empty with equal rows".into(),
        ));
    }
    if spec.critic.input != data.dx + data.dy || spec.critic.output != 1 {
        return Err(Error::InvalidInput(format!(
            "the critic takes {} inputs to {} outputs; the data has {} + {} columns",
            spec.critic.input, spec.critic.output, data.dx, data.dy
        )));
    }
    if spec.batch < 2 || spec.batch > n {
        return Err(Error::InvalidInput(format!(
            "a batch of {} needs 2 ≤ batch ≤ rows ({n})",
            spec.batch
        )));
    }
    Ok(())
}
