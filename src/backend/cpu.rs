//! The CPU reference behind the backend trait.

use super::{
    Backend, BackendError, GpuContext, HeldOut, HeldOutParts, HeldOutValues, ReadOut, RunOptions,
    Trainer,
};
use crate::cpu::{CpuTrainer, Workspace};
use crate::math::cross_check;
use crate::math::spec::{eval_seed, Batches, TrainSpec};

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
        held_out: Option<HeldOutParts<'_>>,
        options: &RunOptions,
    ) -> Result<Box<dyn Trainer + 'a>, BackendError> {
        options.check()?;
        let (select, report) = match held_out {
            None => (None, None),
            Some(parts) => (
                Some(Part::new(spec, parts.select)?),
                Some((
                    Part::new(spec, parts.report)?,
                    parts.report.data().x.to_vec(),
                    parts.report.data().y.to_vec(),
                )),
            ),
        };
        Ok(Box::new(CpuRun {
            trainer: CpuTrainer::new(spec, batches, None)?,
            spec: spec.clone(),
            select,
            report,
            options: options.clone(),
        }))
    }
}

/// A held-out part's evaluation program: `batches` batches of its K.
struct Part {
    work: Workspace,
    batches: u32,
}

impl Part {
    fn new(spec: &TrainSpec, part: HeldOut<'_>) -> Result<Self, BackendError> {
        match part {
            HeldOut::Batches { data, k, batches } => {
                let spec = TrainSpec {
                    batch: k,
                    ..spec.clone()
                };
                spec.check_data(&data)?;
                Ok(Self {
                    work: Workspace::new(&spec, data, eval_seed(spec.seed), false),
                    batches,
                })
            }
            HeldOut::WholeSplit { data, .. } => Err(BackendError::WholeSplit { rows: data.rows() }),
        }
    }

    fn evaluate(&mut self, params: &[f32]) -> Vec<f32> {
        (0..self.batches)
            .map(|b| self.work.run(params, b) as f32)
            .collect()
    }
}

/// A [`CpuTrainer`] run in chunks, so that a cancellation is seen as on the GPU, with its
/// held-out parts (the report part's rows kept for the cross-check).
struct CpuRun {
    trainer: CpuTrainer,
    spec: TrainSpec,
    select: Option<Part>,
    report: Option<(Part, Vec<f32>, Vec<f32>)>,
    options: RunOptions,
}

impl Trainer for CpuRun {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError> {
        let t = &mut self.trainer;
        super::options::in_chunks(&self.options, steps, t.step(), |n| Ok(t.train(n)?))
    }

    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError> {
        let part = self.select.as_mut().ok_or_else(no_held_out)?;
        let Ok(params) = self.trainer.parameters();
        Ok(HeldOutValues::Batches(part.evaluate(&params)))
    }

    fn read_out(&mut self, params: &[f32]) -> Result<ReadOut, BackendError> {
        let (part, x, y) = self.report.as_mut().ok_or_else(no_held_out)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(ReadOut {
            values: HeldOutValues::Batches(part.evaluate(params)),
            infonce_terms: cross_check::infonce_terms(&self.spec, params, x, y, threads),
            draw_order: None,
        })
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

/// The error of an evaluation asked of a trainer built without held-out rows.
fn no_held_out() -> BackendError {
    crate::math::spec::SpecError::NoEvaluationData.into()
}
