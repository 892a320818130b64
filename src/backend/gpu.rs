//! The GPU behind the backend trait: the device trainer, its held-out evaluators (in batches,
//! or the whole split where it applies) and the report part's read-out of a chosen critic.

use super::{
    Backend, BackendError, GpuContext, HeldOut, HeldOutParts, HeldOutValues, ReadOut, RunOptions,
    Trainer,
};
use crate::gpu::{BatchEvaluator, GpuBuffer, GpuError, GpuTrainer, SplitEvaluator};
use crate::math::bounds::Bound;
use crate::math::cross_check;
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
        held_out: Option<HeldOutParts<'_>>,
        options: &RunOptions,
    ) -> Result<Box<dyn Trainer + 'a>, BackendError> {
        let ctx = &self.ctx;
        let trainer = GpuTrainer::new(ctx, spec, batches, None, options.chunk)?;
        let parts = match held_out {
            None => None,
            Some(parts) => {
                let select = Evaluator::new(ctx, spec, trainer.parameter_buffer(), parts.select)?;
                // The report part reads a snapshot of the chosen step's critic, so the
                // critic being trained is never overwritten.
                let snapshot = ctx.zeros("chosen critic", spec.param_count())?;
                let report = Evaluator::new(ctx, spec, &snapshot, parts.report)?;
                let cross = CrossCheck::new(ctx, spec, &snapshot, parts.report)?;
                Some((
                    select,
                    Report {
                        snapshot,
                        evaluator: report,
                        cross,
                    },
                ))
            }
        };
        Ok(Box::new(GpuRun {
            trainer,
            parts,
            options: options.clone(),
        }))
    }
}

/// One held-out part's evaluator.
enum Evaluator<'c> {
    Batches(BatchEvaluator<'c>),
    WholeSplit(SplitEvaluator<'c>),
}

impl<'c> Evaluator<'c> {
    fn new(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        params: &GpuBuffer,
        part: HeldOut<'_>,
    ) -> Result<Self, GpuError> {
        Ok(match part {
            HeldOut::Batches { data, k, batches } => {
                let spec = TrainSpec {
                    batch: k,
                    ..spec.clone()
                };
                Evaluator::Batches(BatchEvaluator::new(ctx, &spec, params, data, batches)?)
            }
            HeldOut::WholeSplit { data, blocks } => {
                Evaluator::WholeSplit(SplitEvaluator::new(ctx, spec, params, data, blocks)?)
            }
        })
    }

    fn evaluate(&self) -> Result<HeldOutValues, GpuError> {
        Ok(match self {
            Evaluator::Batches(e) => HeldOutValues::Batches(e.evaluate()?),
            Evaluator::WholeSplit(e) => {
                let (mi, blocks) = e.evaluate_blocks()?;
                HeldOutValues::WholeSplit {
                    mi,
                    std_err: crate::math::split_eval::std_err(&blocks),
                    blocks,
                }
            }
        })
    }

    fn draw_order(&self) -> Option<Vec<usize>> {
        match self {
            Evaluator::Batches(_) => None,
            Evaluator::WholeSplit(e) => Some(e.draw_order()),
        }
    }
}

/// How the InfoNCE cross-check runs: through the fused kernels for the separable critic
/// where they run at K = the part's rows; otherwise on the host from the snapshot (the concat
/// critic's K² pair rows at K in the thousands exceed what one binding holds).
enum CrossCheck<'c> {
    Device(SplitEvaluator<'c>),
    Host {
        spec: TrainSpec,
        x: Vec<f32>,
        y: Vec<f32>,
    },
    None,
}

impl<'c> CrossCheck<'c> {
    fn new(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        snapshot: &GpuBuffer,
        part: HeldOut<'_>,
    ) -> Result<Self, GpuError> {
        if !cross_check::applies(&spec.critic) {
            return Ok(CrossCheck::None);
        }
        let data = part.data();
        // InfoNCE reads the critic's parameters, which come first in every bound's layout.
        let infonce = TrainSpec {
            bound: Bound::InfoNce,
            ..spec.clone()
        };
        Ok(if SplitEvaluator::applies(ctx, &infonce, data.rows()) {
            CrossCheck::Device(SplitEvaluator::new(ctx, &infonce, snapshot, data, 1)?)
        } else {
            CrossCheck::Host {
                spec: spec.clone(),
                x: data.x.to_vec(),
                y: data.y.to_vec(),
            }
        })
    }

    fn terms(&self, params: &[f32]) -> Result<Option<Vec<f64>>, GpuError> {
        match self {
            CrossCheck::Device(e) => e.infonce_terms(),
            CrossCheck::Host { spec, x, y } => {
                let threads = super::host_threads();
                Ok(cross_check::infonce_terms(spec, params, x, y, threads))
            }
            CrossCheck::None => Ok(None),
        }
    }
}

/// The report part: the snapshot buffer its evaluators read.
struct Report<'c> {
    snapshot: GpuBuffer,
    evaluator: Evaluator<'c>,
    cross: CrossCheck<'c>,
}

/// A device trainer, one submission a chunk, with its held-out evaluators if any.
struct GpuRun<'c> {
    trainer: GpuTrainer<'c>,
    parts: Option<(Evaluator<'c>, Report<'c>)>,
    options: RunOptions,
}

impl Trainer for GpuRun<'_> {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError> {
        let t = &mut self.trainer;
        super::options::in_chunks(&self.options, steps, t.step(), |n| Ok(t.train(n)?))
    }

    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError> {
        let (select, _) = self.parts.as_ref().ok_or_else(super::no_held_out)?;
        Ok(select.evaluate()?)
    }

    fn read_out(&mut self, params: &[f32]) -> Result<ReadOut, BackendError> {
        let (_, report) = self.parts.as_ref().ok_or_else(super::no_held_out)?;
        let ctx = self.trainer.context();
        ctx.write(&report.snapshot, params)?;
        Ok(ReadOut {
            values: report.evaluator.evaluate()?,
            infonce_terms: report.cross.terms(params)?,
            draw_order: report.evaluator.draw_order(),
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
