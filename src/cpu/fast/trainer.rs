//! The fast training loop: the step program in f32 on every core, then Adam.

use std::sync::Arc;

use super::ops;
use super::pool::Pool;
use super::workspace::FastWorkspace;
use crate::math::spec::{Batches, Divergence, SpecError, TrainSpec};

/// Trains a critic on the CPU with the reference's draws and operations, in f32 over a pool of
/// threads. The same seed gives the same bits whatever the thread count.
pub struct FastTrainer {
    spec: TrainSpec,
    params: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    work: FastWorkspace,
    step: u64,
    grad_norms: Vec<f32>,
    pool: Arc<Pool>,
}

impl FastTrainer {
    /// Checks and copies the data and initialises the critic from the spec's seed, to run on
    /// `threads` threads (0: one a core).
    pub fn new<'a>(
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        threads: usize,
    ) -> Result<Self, SpecError> {
        Self::with_pool(spec, batches, Arc::new(Pool::new(threads)))
    }

    /// As [`FastTrainer::new`], on a pool shared with other work (the held-out parts).
    pub fn with_pool<'a>(
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        pool: Arc<Pool>,
    ) -> Result<Self, SpecError> {
        let batches = batches.into();
        spec.check_batches(&batches)?;
        let params = spec.init();
        let n = params.len();
        Ok(Self {
            work: FastWorkspace::new(spec, batches, spec.seed, true, Arc::clone(&pool)),
            params,
            m: vec![0.0; n],
            v: vec![0.0; n],
            spec: spec.clone(),
            step: 0,
            grad_norms: Vec::new(),
            pool,
        })
    }

    /// One step; returns the bound's value before the update.
    fn one_step(&mut self) -> Result<f32, Divergence> {
        let step = self.step as u32;
        let value = self.work.run(&self.params, step) as f32;
        self.grad_norms.push(self.work.grad_norm() as f32);
        ops::adam_step(
            &self.pool,
            &self.spec.adam,
            step + 1,
            &mut self.params,
            self.work.grads(),
            &mut self.m,
            &mut self.v,
        );
        let bad_value = !value.is_finite();
        let bad_param = !all_finite(&self.params) || !all_finite(self.work.grads());
        self.step += 1;
        if bad_value || bad_param {
            return Err(Divergence {
                step: self.step - 1,
                value: bad_value,
            });
        }
        Ok(value)
    }

    /// Takes `steps` steps; returns the bound's value at each, or where the run diverged.
    pub fn train(&mut self, steps: u32) -> Result<Vec<f32>, Divergence> {
        (0..steps).map(|_| self.one_step()).collect()
    }

    /// The current parameters (flat, in the spec's network order).
    pub fn parameters(&self) -> &[f32] {
        &self.params
    }

    /// The global gradient norm at every step trained since the last call, in order.
    pub fn take_grad_norms(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.grad_norms)
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The pool the steps run on.
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// "CPU fast (f32, N threads)", for reports.
    pub fn device_name(&self) -> String {
        device_name(self.pool.threads())
    }
}

/// The fast backend's name in reports, with its thread count.
pub fn device_name(threads: usize) -> String {
    let s = if threads == 1 { "" } else { "s" };
    format!("CPU fast (f32, {threads} thread{s})")
}

/// Whether every value is finite: x·0 is 0 for a finite x and NaN otherwise, summed in
/// lanes so that the scan vectorises.
fn all_finite(v: &[f32]) -> bool {
    super::lanes::sum2(v, v, |x, _| x * 0.0) == 0.0
}
