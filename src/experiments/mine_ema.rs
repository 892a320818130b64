//! MINE's experiment (Belghazi et al. 2018): the biased Donsker–Varadhan gradient against the
//! EMA-corrected one, on the correlated Gaussian with ρ up to 0.99.
//!
//! Both runs train the same MINE-style critic (an MLP on [x; y], negatives through a random
//! derangement of y within the batch, "shuffling z" in Belghazi et al.'s Algorithm 1) from the same
//! initialisation on the same fresh batches drawn on the device; they differ only in the
//! gradient. The biased run ([`Bound::Dv`]) follows ∇ of mean T⁺ − log mean e^{T⁻}; the
//! corrected run ([`Bound::Mine`]) divides ∇ mean e^{T⁻} by a moving average
//! v ← (1−α)v + α·mean e^{T⁻} of the batch means instead (γ = 1 − α, kept in the log
//! domain; SPEC §2). One difference from Belghazi et al.'s pseudocode: v starts at the first batch's
//! mean (SPEC) rather than at 1, so the first steps are not divided by an arbitrary constant.
//! Both runs record the DV value of every training batch (the estimate) and the global norm
//! of the critic's gradient every step.

use std::time::Instant;

use crate::backend::{self, BackendError, DeviceChoice, RunOptions};
use crate::estimate::runaway::{detect, Runaway};
use crate::estimate::validate::{require, InputError};
use crate::experiments::tasks::{gaussian_mi, Transform};
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::optim::AdamConfig;
use crate::math::spec::{Batches, TrainSpec};
use crate::Error;

/// The experiment's settings; `Default` is the MINE experiment's (after Belghazi et al. 2018): d = 5, ρ ∈ {0.85, 0.9, 0.95, 0.99},
/// a concat critic with two hidden layers of 128 on shuffled negatives, batch 256, Adam lr
/// 1e-3, 4 000 steps, α = 0.01.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MineEmaRun {
    /// Dimension of x and of y (ρ per coordinate pair).
    pub dim: usize,
    /// The correlations compared, one pair of runs each.
    pub rhos: Vec<f64>,
    /// Training steps per run.
    pub steps: u32,
    /// Hidden widths of the critic.
    pub hidden: Vec<usize>,
    /// Batch (K joint pairs and K negatives).
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// The moving average's smoothing α (v ← (1−α)v + α·batch mean), in (0, 1).
    pub alpha: f32,
    /// Seeds the initialisation and the draws (the same for both runs).
    pub seed: u64,
    /// Where to train.
    pub device: DeviceChoice,
    /// Steps per GPU submission (a diverging run loses at most this many recorded steps).
    pub chunk: u32,
}

impl Default for MineEmaRun {
    fn default() -> Self {
        Self {
            dim: 5,
            rhos: vec![0.85, 0.9, 0.95, 0.99],
            steps: 4_000,
            hidden: vec![128, 128],
            batch: 256,
            lr: 1e-3,
            alpha: 0.01,
            seed: 0,
            device: DeviceChoice::Auto,
            chunk: 200,
        }
    }
}

/// One run's record.
#[derive(Clone, Debug, PartialEq)]
pub struct MineCurve {
    /// The DV value of each training batch, nats.
    pub estimates: Vec<f32>,
    /// The global L2 norm of the critic's gradient at each step.
    pub grad_norms: Vec<f32>,
    /// The step at which a value or parameter stopped being finite, if one did.
    pub diverged_at: Option<u64>,
    /// The first sign of a runaway ([`crate::estimate::runaway`], value limit ln(steps·batch)).
    pub runaway: Option<Runaway>,
}

impl MineCurve {
    /// The estimate: the mean of the last 100 recorded steps (fewer if fewer ran).
    pub fn final_estimate(&self) -> f64 {
        let tail = &self.estimates[self.estimates.len().saturating_sub(100)..];
        tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len() as f64
    }

    /// The largest gradient norm recorded (NaN when none was).
    pub fn max_grad_norm(&self) -> f64 {
        self.grad_norms
            .iter()
            .map(|&v| f64::from(v))
            .fold(f64::NAN, f64::max)
    }

    /// The last gradient norm recorded (NaN when none was).
    pub fn final_grad_norm(&self) -> f64 {
        self.grad_norms.last().map_or(f64::NAN, |&v| f64::from(v))
    }
}

/// Both runs at one ρ.
#[derive(Clone, Debug, PartialEq)]
pub struct MineEmaPoint {
    /// The correlation.
    pub rho: f64,
    /// −d/2 · ln(1 − ρ²), nats.
    pub true_mi: f64,
    /// The biased DV gradient.
    pub biased: MineCurve,
    /// The EMA-corrected gradient.
    pub ema: MineCurve,
}

/// The experiment's outcome.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MineEmaResult {
    /// One point per ρ, in order.
    pub points: Vec<MineEmaPoint>,
    /// The device that trained.
    pub device: String,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Warnings (CPU fallback, software adapter).
    pub warnings: Vec<String>,
}

impl MineEmaRun {
    setter!(/// Sets the dimension.
        with_dim, dim: usize);
    setter!(/// Sets the correlations.
        with_rhos, rhos: Vec<f64>);
    setter!(/// Sets the steps per run.
        with_steps, steps: u32);
    setter!(/// Sets the critic's hidden widths.
        with_hidden, hidden: Vec<usize>);
    setter!(/// Sets the batch.
        with_batch, batch: usize);
    setter!(/// Sets the learning rate.
        with_lr, lr: f32);
    setter!(/// Sets the moving average's smoothing α.
        with_alpha, alpha: f32);
    setter!(/// Sets the seed.
        with_seed, seed: u64);
    setter!(/// Sets the device.
        with_device, device: DeviceChoice);
    setter!(/// Sets steps per GPU submission.
        with_chunk, chunk: u32);

    fn validate(&self) -> Result<(), InputError> {
        for (v, name) in [
            (self.dim, "the dimension"),
            (self.steps as usize, "the steps"),
            (self.chunk as usize, "the chunk"),
        ] {
            require(v > 0, name, "positive", v)?;
        }
        require(self.batch >= 2, "the batch", "at least 2", self.batch)?;
        require(
            !self.rhos.is_empty() && self.rhos.iter().all(|r| r.abs() < 1.0),
            "every ρ",
            "in (−1, 1), at least one",
            format!("{:?}", self.rhos),
        )?;
        require(
            !self.hidden.is_empty() && !self.hidden.contains(&0),
            "the critic's hidden widths",
            "at least one, each positive",
            format!("{:?}", self.hidden),
        )?;
        require(
            self.lr.is_finite() && self.lr > 0.0,
            "the learning rate",
            "positive and finite",
            self.lr,
        )?;
        require(
            self.alpha > 0.0 && self.alpha < 1.0 && 1.0 - self.alpha < 1.0,
            "the smoothing α",
            "in (0, 1) and representable as 1 − α < 1",
            self.alpha,
        )?;
        Ok(())
    }

    /// Runs the biased and the corrected run at every ρ.
    pub fn run(&self) -> Result<MineEmaResult, Error> {
        self.run_with_progress(|_, _, _| {})
    }

    /// [`Self::run`], calling `progress(label, steps done, steps)` after every chunk; the
    /// label names the run ("ρ=0.99 biased").
    pub fn run_with_progress(
        &self,
        mut progress: impl FnMut(&str, u32, u32),
    ) -> Result<MineEmaResult, Error> {
        self.validate()?;
        let opened = backend::open(self.device)?;
        let warnings = opened.warnings;
        let options = RunOptions::default().with_chunk(self.chunk);
        let start = Instant::now();
        let mut device = String::new();
        let mut points = Vec::with_capacity(self.rhos.len());
        for &rho in &self.rhos {
            let mut curve = |bound: Bound, name: &str| -> Result<MineCurve, Error> {
                let spec = TrainSpec::new(
                    self.dim,
                    self.dim,
                    CriticForm::Shuffled {
                        hidden: self.hidden.clone(),
                    },
                    bound,
                    self.batch,
                )
                .with_adam(AdamConfig::default().with_lr(self.lr))
                .with_seed(self.seed);
                let schedule = [rho as f32];
                let batches = Batches::Gaussian {
                    rho: &schedule,
                    transform: Transform::Identity,
                };
                let mut trainer = opened.backend.trainer(&spec, batches, None, &options)?;
                device = trainer.device_name();
                let label = format!("ρ={rho} {name}");
                let mut out = MineCurve {
                    estimates: Vec::with_capacity(self.steps as usize),
                    grad_norms: Vec::with_capacity(self.steps as usize),
                    diverged_at: None,
                    runaway: None,
                };
                while (out.estimates.len() as u32) < self.steps {
                    let now = (self.steps - out.estimates.len() as u32).min(self.chunk);
                    let values = trainer.train(now);
                    out.grad_norms.extend(trainer.take_grad_norms());
                    match values {
                        Ok(v) => out.estimates.extend(v),
                        Err(BackendError::Diverged(d)) => {
                            let step = d.step;
                            out.diverged_at = Some(step);
                            out.grad_norms.truncate(out.estimates.len());
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    progress(&label, out.estimates.len() as u32, self.steps);
                }
                let limit = (f64::from(self.steps) * self.batch as f64).ln();
                out.runaway = detect(&out.estimates, &out.grad_norms, Some(limit));
                Ok(out)
            };
            let biased = curve(Bound::Dv, "biased")?;
            let ema = curve(
                Bound::Mine {
                    gamma: 1.0 - self.alpha,
                },
                "EMA",
            )?;
            points.push(MineEmaPoint {
                rho,
                true_mi: gaussian_mi(self.dim, rho),
                biased,
                ema,
            });
        }
        Ok(MineEmaResult {
            points,
            device,
            seconds: start.elapsed().as_secs_f64(),
            warnings,
        })
    }
}

impl MineEmaResult {
    /// The markdown table: per ρ, the true MI, each run's final estimate (mean of its last
    /// 100 steps) and its final and largest gradient norm, and where a run diverged or ran
    /// away.
    pub fn table(&self, dim: usize) -> String {
        let mut s = String::from(
            "| d | ρ | true I | biased DV | EMA MINE | biased ‖g‖ final | biased ‖g‖ max | EMA ‖g‖ final | EMA ‖g‖ max | notes |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        for p in &self.points {
            let note = |name: &str, c: &MineCurve| -> Option<String> {
                match (c.diverged_at, c.runaway) {
                    (Some(d), _) => Some(format!("{name} diverged at step {d}")),
                    (None, Some(r)) => Some(format!("{name} ran away at step {}", r.step)),
                    _ => None,
                }
            };
            let notes: Vec<String> = [note("biased", &p.biased), note("EMA", &p.ema)]
                .into_iter()
                .flatten()
                .collect();
            s.push_str(&format!(
                "| {dim} | {} | {:.3} | {:.3} | {:.3} | {:.3e} | {:.3e} | {:.3e} | {:.3e} | {} |\n",
                p.rho,
                p.true_mi,
                p.biased.final_estimate(),
                p.ema.final_estimate(),
                p.biased.final_grad_norm(),
                p.biased.max_grad_norm(),
                p.ema.final_grad_norm(),
                p.ema.max_grad_norm(),
                notes.join("; ")
            ));
        }
        s
    }

    /// The CSV: `dim,rho,true_mi,run,step,estimate,grad_norm`, one row per recorded step.
    pub fn csv(&self, dim: usize) -> String {
        let mut s = String::from("dim,rho,true_mi,run,step,estimate,grad_norm\n");
        for p in &self.points {
            for (name, c) in [("biased", &p.biased), ("ema", &p.ema)] {
                for (i, (v, g)) in c.estimates.iter().zip(&c.grad_norms).enumerate() {
                    s.push_str(&format!(
                        "{dim},{},{},{name},{i},{v},{g}\n",
                        p.rho, p.true_mi
                    ));
                }
            }
        }
        s
    }
}
