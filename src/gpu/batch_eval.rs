//! The held-out evaluation in batches: a bound's value on `batches` fixed batches of K rows
//! drawn from a data set, with the critic read from a parameter buffer the caller owns (a
//! trainer's, so every evaluation sees the current critic, or a snapshot of a chosen step).

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::state;
use super::trainer::{compile, Compiled, Inputs};
use super::GpuError;
use crate::math::spec::{eval_seed, Batches, SpecError, TrainData, TrainSpec};

/// A prepared evaluation: one submission draws and scores every batch.
pub struct BatchEvaluator<'c> {
    ctx: &'c GpuContext,
    program: Compiled,
}

impl<'c> BatchEvaluator<'c> {
    /// Prepares `batches` batches of `spec.batch` rows of `data` (drawn from the stream of
    /// [`eval_seed`], the same batches every evaluation), scored by the critic in `params`.
    pub fn new(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        params: &GpuBuffer,
        data: TrainData<'_>,
        batches: u32,
    ) -> Result<Self, GpuError> {
        spec.check_data(&data)?;
        if batches == 0 {
            return Err(SpecError::Zero {
                what: "an evaluation's batches",
            }
            .into());
        }
        let seed = eval_seed(spec.seed);
        let program = spec.program(Batches::Data(data).source(), seed, false);
        let mut compiled = compile(
            ctx,
            std::slice::from_ref(spec),
            &[seed],
            &program,
            params,
            &Inputs::shared(data.x, data.y, data.log_marginal),
            batches as usize,
        )?;
        compiled.dispatches.push(ctx.tick(&compiled.state)?);
        Ok(Self {
            ctx,
            program: compiled,
        })
    }

    /// The bound's value on each batch with the critic now in the parameter buffer.
    pub fn evaluate(&self) -> Result<Vec<f32>, GpuError> {
        let e = &self.program;
        // The same batches every evaluation: the step counter restarts at 0. Batch b writes
        // slot b of the history, all in one submission.
        self.ctx.write(&e.state, &state::initial(0))?;
        self.ctx.run(&e.dispatches, e.hist.len() as u32)?;
        self.ctx.read(&e.hist)
    }
}
