//! The GPU behind the backend trait: the device trainer, and the whole-split evaluator where
//! it applies.

use super::{Backend, BackendError, GpuContext, HeldOut, HeldOutValues, RunOptions, Trainer};
use crate::gpu::{GpuTrainer, SplitEvaluator};
use crate::math::spec::{Batches, TrainSpec};

/// A wgpu device.
pub struct GpuBackend {
    ctx: GpuContext,
}

impl GpuBackend {
    /// The backend on an opened context.
    pub fn new(ctx: GpuContext) -> Self {
        Self { ctx }
    }
}

impl Backend for GpuBackend {
    fn device_name(&self) -> String {
        self.ctx.adapter().to_string()
    }

    fn gpu(&self) -> Option<&GpuContext> {
        Some(&self.ctx)
    }

    fn whole_split_applies(&self, spec: &TrainSpec, rows: usize) -> bool {
        SplitEvaluator::applies(&self.ctx, spec, rows)
    }

    fn trainer<'a>(
        &'a self,
        spec: &TrainSpec,
        batches: Batches<'_>,
        held_out: Option<HeldOut<'_>>,
        options: &RunOptions,
    ) -> Result<Box<dyn Trainer + 'a>, BackendError> {
        options.check()?;
        let (eval, whole) = match held_out {
            None => (None, None),
            Some(HeldOut::Batches { data, batches }) => (Some((data, batches)), None),
            Some(HeldOut::WholeSplit { data, blocks }) => (None, Some((data, blocks))),
        };
        let trainer = GpuTrainer::new(&self.ctx, spec, batches, eval, options.chunk)?;
        let split = match whole {
            Some((data, blocks)) => Some(SplitEvaluator::new(
                &self.ctx,
                spec,
                trainer.parameter_buffer(),
                data,
                blocks,
            )?),
            None => None,
        };
        Ok(Box::new(GpuRun {
            trainer,
            split,
            options: options.clone(),
        }))
    }
}

/// A device trainer, one submission a chunk, with its whole-split evaluator if any.
struct GpuRun<'c> {
    trainer: GpuTrainer<'c>,
    split: Option<SplitEvaluator<'c>>,
    options: RunOptions,
}

impl Trainer for GpuRun<'_> {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError> {
        let t = &mut self.trainer;
        super::options::in_chunks(&self.options, steps, t.step(), |n| Ok(t.train(n)?))
    }

    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError> {
        Ok(match &self.split {
            Some(s) => {
                let (mi, std_err) = s.evaluate()?;
                HeldOutValues::WholeSplit { mi, std_err }
            }
            None => HeldOutValues::Batches(self.trainer.evaluate()?),
        })
    }

    fn parameters(&self) -> Result<Vec<f32>, BackendError> {
        Ok(self.trainer.parameters()?)
    }

    fn take_grad_norms(&mut self) -> Vec<f32> {
        self.trainer.take_grad_norms()
    }

    fn step(&self) -> u64 {
        self.trainer.step()
    }

    fn device_name(&self) -> String {
        self.trainer.device_name()
    }
}
