//! The CPU reference behind the backend trait.

use super::{Backend, BackendError, GpuContext, HeldOut, HeldOutValues, RunOptions, Trainer};
use crate::cpu::CpuTrainer;
use crate::math::spec::{Batches, TrainSpec};

/// The f64 reference backend.
pub struct CpuBackend;

/// Its name in reports.
const NAME: &str = "CPU reference (f64 accumulation)";

impl Backend for CpuBackend {
    fn device_name(&self) -> String {
        NAME.into()
    }

    fn gpu(&self) -> Option<&GpuContext> {
        None
    }

    fn whole_split_applies(&self, _: &TrainSpec, _: usize) -> bool {
        false
    }

    fn trainer<'a>(
        &'a self,
        spec: &TrainSpec,
        batches: Batches<'_>,
        held_out: Option<HeldOut<'_>>,
        options: &RunOptions,
    ) -> Result<Box<dyn Trainer + 'a>, BackendError> {
        options.check()?;
        let eval = match held_out {
            None => None,
            Some(HeldOut::Batches { data, batches }) => Some((data, batches)),
            Some(HeldOut::WholeSplit { data, .. }) => {
                return Err(BackendError::WholeSplit { rows: data.rows() })
            }
        };
        Ok(Box::new(CpuRun {
            trainer: CpuTrainer::new(spec, batches, eval)?,
            options: options.clone(),
        }))
    }
}

/// A [`CpuTrainer`] run in chunks, so that a cancellation is seen as on the GPU.
struct CpuRun {
    trainer: CpuTrainer,
    options: RunOptions,
}

impl Trainer for CpuRun {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError> {
        let t = &mut self.trainer;
        super::options::in_chunks(&self.options, steps, t.step(), |n| Ok(t.train(n)?))
    }

    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError> {
        Ok(HeldOutValues::Batches(self.trainer.evaluate()?))
    }

    fn parameters(&self) -> Result<Vec<f32>, BackendError> {
        let Ok(p) = self.trainer.parameters();
        Ok(p)
    }

    fn take_grad_norms(&mut self) -> Vec<f32> {
        self.trainer.take_grad_norms()
    }

    fn step(&self) -> u64 {
        self.trainer.step()
    }

    fn device_name(&self) -> String {
        NAME.into()
    }
}
