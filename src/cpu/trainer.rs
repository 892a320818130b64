//! The reference training loop: the GPU trainer's steps, op for op, on the host.

use super::ops;
use crate::bounds::shuffled_value_and_grad;
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
    plan: Vec<LayerPlan>,
    params: Vec<f32>,
    grads: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    acts: Vec<Vec<f32>>,
    dacts: Vec<Vec<f32>>,
    step: u64,
}

impl CpuTrainer {
    /// Copies the data and initialises the critic from the spec's seed.
    pub fn new(spec: &TrainSpec, data: TrainData<'_>) -> Result<Self, Error> {
        crate::estimator::check_train_shapes(spec, &data)?;
        let rows = 2 * spec.batch;
        let plan = spec.critic.plan(rows);
        let params = spec.critic.init(spec.seed);
        let n = params.len();
        Ok(Self {
            acts: plan
                .iter()
                .map(|l| vec![0.0; rows * l.shape.fan_out])
                .collect(),
            dacts: plan
                .iter()
                .map(|l| vec![0.0; rows * l.shape.fan_out])
                .collect(),
            plan,
            params,
            grads: vec![0.0; n],
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
        for l in 0..self.plan.len() {
            let (before, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { &batch } else { &before[l - 1] };
            ops::gemm(
                &self.plan[l].forward,
                input,
                &self.params,
                &mut rest[0],
                Some(&self.params),
                None,
            );
        }
        let last = self.plan.len() - 1;
        let (value, grad) = shuffled_value_and_grad(self.spec.bound, &self.acts[last]);
        for (d, g) in self.dacts[last].iter_mut().zip(&grad) {
            *d = *g as f32;
        }
        for l in (0..self.plan.len()).rev() {
            let layer = self.plan[l];
            let input = if l == 0 { &batch } else { &self.acts[l - 1] };
            ops::gemm(
                &layer.weight_grad,
                &self.dacts[l],
                input,
                &mut self.grads,
                None,
                None,
            );
            let fo = layer.shape.fan_out;
            ops::column_sums(
                2 * self.spec.batch,
                fo,
                fo,
                &self.dacts[l],
                0,
                &mut self.grads,
                layer.shape.b_off,
            );
            if let Some(spec) = &layer.input_grad {
                let (before, rest) = self.dacts.split_at_mut(l);
                ops::gemm(
                    spec,
                    &rest[0],
                    &self.params,
                    &mut before[l - 1],
                    None,
                    Some(&self.acts[l - 1]),
                );
            }
        }
        ops::adam_step(
            &self.spec.adam,
            step + 1,
            &mut self.params,
            &self.grads,
            &mut self.m,
            &mut self.v,
        );
        let value = value as f32;
        let bad_value = !value.is_finite();
        let bad_param = self
            .params
            .iter()
            .chain(&self.grads)
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
