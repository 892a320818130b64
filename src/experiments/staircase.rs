//! The SMILE/VBMI staircase benchmark (SPEC §4): a critic trained on fresh correlated-Gaussian
//! batches drawn on the device while the true MI steps through 2, 4, 6, 8, 10 nats, with the
//! bias, variance and MSE of the per-step estimates in every stage.

use std::time::Instant;

use crate::backend::{self, DeviceChoice, RunOptions};
use crate::estimate::validate::InputError;
use crate::experiments::tasks::Staircase;
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::optim::AdamConfig;
use crate::math::spec::{Batches, TrainSpec};
use crate::Error;

/// One staircase run's settings: `Default` is the reference setting (SMILE τ = 5 on a
/// separable critic with three hidden layers of 256 and embedding 32 per tower, batch 64,
/// Adam lr 5e-4, d = 20, 4 000 steps a stage).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StaircaseRun {
    /// The schedule and the task (dimension, MI levels, transform).
    pub staircase: Staircase,
    /// The bound trained and read out.
    pub bound: Bound,
    /// The critic.
    pub critic: CriticForm,
    /// Batch (K).
    pub batch: usize,
    /// The optimiser.
    pub adam: AdamConfig,
    /// Seeds everything.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceChoice,
    /// Steps per GPU submission.
    pub chunk: u32,
}

impl Default for StaircaseRun {
    fn default() -> Self {
        Self {
            staircase: Staircase::default(),
            bound: Bound::Smile { tau: 5.0 },
            critic: CriticForm::Separable {
                hidden: vec![256, 256, 256],
                embed: 32,
            },
            batch: Staircase::BATCH,
            adam: AdamConfig::default(),
            seed: 0,
            device: DeviceChoice::Auto,
            chunk: 500,
        }
    }
}

/// Bias, variance and MSE of one stage's per-step estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageStats {
    /// The stage's true MI, nats.
    pub true_mi: f64,
    /// Mean estimate.
    pub mean: f64,
    /// Mean − truth.
    pub bias: f64,
    /// Variance of the estimates.
    pub variance: f64,
    /// Mean squared error (bias² + variance).
    pub mse: f64,
}

/// The outcome of a staircase run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StaircaseResult {
    /// The bound's value at every step.
    pub estimates: Vec<f32>,
    /// Per-stage statistics, in order.
    pub stages: Vec<StageStats>,
    /// The device that ran it.
    pub device: String,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Warnings (CPU fallback, software adapter).
    pub warnings: Vec<String>,
}

impl StaircaseRun {
    setter!(/// Sets the schedule and task.
        with_staircase, staircase: Staircase);
    setter!(/// Sets the bound.
        with_bound, bound: Bound);
    setter!(/// Sets the critic.
        with_critic, critic: CriticForm);
    setter!(/// Sets the batch.
        with_batch, batch: usize);
    setter!(/// Sets the seed.
        with_seed, seed: u64);
    setter!(/// Sets the device.
        with_device, device: DeviceChoice);
    setter!(/// Sets steps per GPU submission.
        with_chunk, chunk: u32);

    /// Sets Adam's learning rate.
    pub fn with_lr(mut self, lr: f32) -> Self {
        self.adam = self.adam.with_lr(lr);
        self
    }

    /// Trains through the whole schedule and summarises each stage.
    pub fn run(&self) -> Result<StaircaseResult, Error> {
        self.run_with_progress(|_, _| {})
    }

    /// [`Self::run`], calling `progress(steps done, total steps)` after every `chunk` steps
    /// (one GPU submission), for a progress bar. The results are those of [`Self::run`].
    pub fn run_with_progress(
        &self,
        mut progress: impl FnMut(u32, u32),
    ) -> Result<StaircaseResult, Error> {
        self.staircase.validate()?;
        if !self.critic.full_matrix() && !self.bound.supports_shuffled() {
            return Err(InputError::NeedsFullMatrix {
                bound: self.bound.name(),
            }
            .into());
        }
        let d = self.staircase.dim;
        let spec = TrainSpec::new(d, d, self.critic.clone(), self.bound, self.batch)
            .with_adam(self.adam)
            .with_seed(self.seed);
        let rho = self.staircase.rho_schedule();
        let batches = Batches::Gaussian {
            rho: &rho,
            transform: self.staircase.transform,
        };
        let opened = backend::open(self.device)?;
        let warnings = opened.warnings;
        let options = RunOptions::default().with_chunk(self.chunk);
        let mut trainer = opened.backend.trainer(&spec, batches, None, &options)?;
        let start = Instant::now();
        let total = self.staircase.total_steps();
        let mut estimates = Vec::with_capacity(total as usize);
        while (estimates.len() as u32) < total {
            let now = (total - estimates.len() as u32).min(self.chunk.max(1));
            estimates.extend(trainer.train(now)?);
            progress(estimates.len() as u32, total);
        }
        let seconds = start.elapsed().as_secs_f64();
        let per = self.staircase.steps_per_stage as usize;
        let stages = self
            .staircase
            .mis
            .iter()
            .enumerate()
            .map(|(s, &truth)| stage_stats(&estimates[s * per..(s + 1) * per], truth))
            .collect();
        Ok(StaircaseResult {
            estimates,
            stages,
            device: trainer.device_name(),
            seconds,
            warnings,
        })
    }
}

/// Bias, variance and MSE of `values` against `truth`.
pub fn stage_stats(values: &[f32], truth: f64) -> StageStats {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let bias = mean - truth;
    StageStats {
        true_mi: truth,
        mean,
        bias,
        variance,
        mse: bias * bias + variance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_comes_every_chunk_and_changes_nothing() {
        let run = StaircaseRun::default()
            .with_staircase(
                Staircase::default()
                    .with_dim(2)
                    .with_mis(&[1.0, 2.0])
                    .with_steps_per_stage(7),
            )
            .with_critic(CriticForm::Separable {
                hidden: vec![8],
                embed: 4,
            })
            .with_batch(8)
            .with_device(DeviceChoice::Cpu);
        let whole = run.clone().with_chunk(1000).run().unwrap();
        let mut seen = Vec::new();
        let parts = run
            .with_chunk(4)
            .run_with_progress(|done, total| seen.push((done, total)))
            .unwrap();
        assert_eq!(seen, [(4, 14), (8, 14), (12, 14), (14, 14)]);
        assert_eq!(whole.estimates, parts.estimates);
    }

    #[test]
    fn stage_statistics_decompose_the_mse() {
        let s = stage_stats(&[1.0, 2.0, 3.0, 6.0], 2.0);
        assert!((s.mean - 3.0).abs() < 1e-12);
        assert!((s.bias - 1.0).abs() < 1e-12);
        assert!((s.variance - 3.5).abs() < 1e-12);
        assert!((s.mse - 4.5).abs() < 1e-12);
    }
}
