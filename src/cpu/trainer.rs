//! The reference training loop: the GPU trainer's steps, op for op, on the host.

use super::ops;
use crate::bounds::{shuffled_objective, shuffled_value_and_grad};
use crate::critic::LayerPlan;
use crate::train::{Divergence, TrainData, TrainSpec, Trainer};
use crate::Error;

/// Trains a critic on the CPU with the exact draws and operations of the GPU trainer.
pub struct CpuTrainer {
    spec: TrainSpec,
    x: Vec<f32>,
    y: Vec<f32>,
    dx: usize,
    dy: usize,
    params: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    work: Workspace,
    step: u64,
}

impl CpuTrainer {
    /// Copies the data and initialises the critic from the spec's seed.
    pub fn new(spec: &TrainSpec, data: TrainData<'_>) -> Result<Self, Error> {
        crate::estimator::check_train_shapes(spec, &data)?;
        let params = spec.critic.init(spec.seed);
        let n = params.len();
        Ok(Self {
            work: Workspace::new(spec),
            params,
            m: vec![0.0; n],
            v: vec![0.0; n],
            x: data.x.to_vec(),
            y: data.y.to_vec(),
            dx: data.dx,
            dy: data.dy,
            spec: spec.clone(),
            step: 0,
        })
    }

    /// One step; returns the bound's value before the update.
    fn one_step(&mut self) -> Result<f32, Divergence> {
        let step = self.step as u32;
        let batch = ops::gather_shuffled(
            self.spec.seed,
            step,
            self.spec.batch,
            (&self.x, self.dx),
            (&self.y, self.dy),
        );
        let value = self.work.forward_backward(&self.spec, &self.params, &batch);
        ops::adam_step(
            &self.spec.adam,
            step + 1,
            &mut self.params,
            &self.work.grads,
            &mut self.m,
            &mut self.v,
        );
        let value = value as f32;
        let bad_value = !value.is_finite();
        let bad_param = self
            .params
            .iter()
            .chain(&self.work.grads)
            .any(|p| !p.is_finite());
        self.step += 1;
        if bad_value || bad_param {
            return Err(Divergence {
                step: self.step - 1,
                value: bad_value,
            });
        }
        Ok(value)
    }
}

impl Trainer for CpuTrainer {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, Error> {
        (0..steps)
            .map(|_| self.one_step().map_err(Error::from))
            .collect()
    }

    fn parameters(&self) -> Result<Vec<f32>, Error> {
        Ok(self.params.clone())
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn device_name(&self) -> String {
        "CPU reference (f64 accumulation)".into()
    }
}

/// Activations, their gradients and the parameter gradient of one batch (2K rows).
pub struct Workspace {
    plan: Vec<LayerPlan>,
    acts: Vec<Vec<f32>>,
    dacts: Vec<Vec<f32>>,
    /// d(−objective)/dθ after [`Workspace::forward_backward`].
    pub grads: Vec<f32>,
}

impl Workspace {
    /// Buffers for the spec's critic and batch.
    pub fn new(spec: &TrainSpec) -> Self {
        let rows = 2 * spec.batch;
        let plan = spec.critic.plan(rows);
        Self {
            acts: plan
                .iter()
                .map(|l| vec![0.0; rows * l.shape.fan_out])
                .collect(),
            dacts: plan
                .iter()
                .map(|l| vec![0.0; rows * l.shape.fan_out])
                .collect(),
            grads: vec![0.0; spec.critic.param_count()],
            plan,
        }
    }

    /// The critic's scores of `batch` (2K rows: joint, then shuffled).
    pub fn forward(&mut self, params: &[f32], batch: &[f32]) -> &[f32] {
        for l in 0..self.plan.len() {
            let (before, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { batch } else { &before[l - 1] };
            ops::gemm(
                &self.plan[l].forward,
                input,
                params,
                &mut rest[0],
                Some(params),
                None,
            );
        }
        &self.acts[self.plan.len() - 1]
    }

    /// The spec's training objective on `batch` (what finite differences check).
    pub fn objective(&mut self, spec: &TrainSpec, params: &[f32], batch: &[f32]) -> f64 {
        shuffled_objective(spec.bound, self.forward(params, batch))
    }

    /// Forward, bound and backward as the GPU trainer runs them; leaves d(−objective)/dθ in
    /// `grads` and returns the bound's value.
    pub fn forward_backward(&mut self, spec: &TrainSpec, params: &[f32], batch: &[f32]) -> f64 {
        self.forward(params, batch);
        let last = self.plan.len() - 1;
        let (value, grad) = shuffled_value_and_grad(spec.bound, &self.acts[last]);
        for (d, g) in self.dacts[last].iter_mut().zip(&grad) {
            *d = *g as f32;
        }
        for l in (0..self.plan.len()).rev() {
            let layer = self.plan[l];
            let input = if l == 0 { batch } else { &self.acts[l - 1] };
            ops::gemm(
                &layer.weight_grad,
                &self.dacts[l],
                input,
                &mut self.grads,
                None,
                None,
            );
            ops::column_sums(&layer.bias_grad, &self.dacts[l], &mut self.grads);
            if let Some(back) = &layer.input_grad {
                let (before, rest) = self.dacts.split_at_mut(l);
                ops::gemm(
                    back,
                    &rest[0],
                    params,
                    &mut before[l - 1],
                    None,
                    Some(&self.acts[l - 1]),
                );
            }
        }
        value
    }
}
