//! The training loop on the device: data uploaded once, every step (draw, forward, bound,
//! backward, Adam) recorded into one submission per chunk, values read back once a chunk.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::dispatch::Dispatch;
use super::kernels::state;
use crate::train::{Divergence, TrainData, TrainSpec, Trainer};
use crate::Error;

/// Trains a critic on one device. Holds its buffers and the prepared launches of one step.
pub struct GpuTrainer<'c> {
    ctx: &'c GpuContext,
    params: GpuBuffer,
    state: GpuBuffer,
    hist: GpuBuffer,
    step_dispatches: Vec<Dispatch>,
    // Kept alive for the prepared bind groups.
    _buffers: Vec<GpuBuffer>,
    step: u64,
}

impl<'c> GpuTrainer<'c> {
    /// Uploads the data and the initial critic, and prepares one step's launches.
    /// `chunk` is the most steps one submission records (the value history's length).
    pub fn new(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        data: TrainData<'_>,
        chunk: u32,
    ) -> Result<Self, Error> {
        crate::estimator::check_train_shapes(spec, &data)?;
        if chunk == 0 {
            return Err(Error::InvalidInput(
                "the chunk must hold at least one step".into(),
            ));
        }
        let n = data.rows();
        let k = spec.batch;
        let rows = 2 * k;
        let plan = spec.critic.plan(rows);
        let init = spec.critic.init(spec.seed);
        let np = init.len();

        let x = ctx.upload("x", data.x)?;
        let y = ctx.upload("y", data.y)?;
        let batch = ctx.zeros("batch", rows * (data.dx + data.dy))?;
        let params = ctx.upload("parameters", &init)?;
        let grads = ctx.zeros("gradients", np)?;
        let m = ctx.zeros("adam m", np)?;
        let v = ctx.zeros("adam v", np)?;
        let state_buf = ctx.upload("state", &state::initial(0))?;
        let hist = ctx.filled("values", chunk as usize, f32::NAN)?;
        let acts = plan
            .iter()
            .map(|l| ctx.zeros("activations", rows * l.shape.fan_out))
            .collect::<Result<Vec<_>, _>>()?;
        let dacts = plan
            .iter()
            .map(|l| ctx.zeros("activation gradients", rows * l.shape.fan_out))
            .collect::<Result<Vec<_>, _>>()?;

        let mut d = vec![ctx.gather_shuffled(
            spec.seed,
            n,
            k,
            (&x, data.dx),
            (&y, data.dy),
            &batch,
            &state_buf,
        )?];
        for (l, layer) in plan.iter().enumerate() {
            let input = if l == 0 { &batch } else { &acts[l - 1] };
            d.push(ctx.gemm(
                &layer.forward,
                input,
                &params,
                &acts[l],
                Some(&params),
                None,
            )?);
        }
        let last = plan.len() - 1;
        d.push(ctx.shuffled_bound(
            spec.bound,
            k,
            &acts[last],
            &dacts[last],
            &hist,
            &state_buf,
            None,
        )?);
        for l in (0..plan.len()).rev() {
            let layer = &plan[l];
            let input = if l == 0 { &batch } else { &acts[l - 1] };
            d.push(ctx.gemm(&layer.weight_grad, &dacts[l], input, &grads, None, None)?);
            d.push(ctx.column_sums(&layer.bias_grad, &dacts[l], &grads)?);
            if let Some(back) = &layer.input_grad {
                d.push(ctx.gemm(
                    back,
                    &dacts[l],
                    &params,
                    &dacts[l - 1],
                    None,
                    Some(&acts[l - 1]),
                )?);
            }
        }
        d.push(ctx.adam(&spec.adam, &params, &grads, &m, &v, &state_buf)?);
        d.push(ctx.tick(&state_buf)?);

        let mut keep = vec![x, y, batch, grads, m, v];
        keep.extend(acts);
        keep.extend(dacts);
        Ok(Self {
            ctx,
            params,
            state: state_buf,
            hist,
            step_dispatches: d,
            _buffers: keep,
            step: 0,
        })
    }

    /// The context this trainer runs on.
    pub fn context(&self) -> &GpuContext {
        self.ctx
    }

    /// Dispatches recorded per step.
    pub fn dispatches_per_step(&self) -> usize {
        self.step_dispatches.len()
    }
}

impl Trainer for GpuTrainer<'_> {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, Error> {
        let chunk = self.hist.len() as u32;
        let mut values = Vec::with_capacity(steps as usize);
        let mut left = steps;
        while left > 0 {
            let now = left.min(chunk);
            self.ctx.run(&self.step_dispatches, now)?;
            let st: Vec<u32> = self.ctx.read(&self.state)?;
            let hist: Vec<f32> = self.ctx.read(&self.hist)?;
            if st[state::FLAGS] != 0 {
                return Err(Divergence {
                    step: u64::from(st[state::FIRST_BAD_STEP]),
                    value: st[state::FLAGS] & state::NONFINITE_VALUE != 0,
                }
                .into());
            }
            // Step s wrote its value to slot s % chunk.
            for s in self.step..self.step + u64::from(now) {
                values.push(hist[(s % u64::from(chunk)) as usize]);
            }
            self.step += u64::from(now);
            left -= now;
        }
        Ok(values)
    }

    fn parameters(&self) -> Result<Vec<f32>, Error> {
        Ok(self.ctx.read(&self.params)?)
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn device_name(&self) -> String {
        self.ctx.adapter().to_string()
    }
}
