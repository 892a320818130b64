//! The reference training loop: the device program, operation for operation, on the host.

use super::interp::Host;
use super::ops;
use super::reference::Reference;
use crate::math::program::{Program, GRADS};
use crate::math::spec::{eval_seed, Batches, Divergence, SpecError, TrainData, TrainSpec};

/// A program's buffers on the host, and the interpreter that runs it with the reference's
/// arithmetic.
pub struct Workspace {
    program: Program,
    host: Host,
}

impl Workspace {
    /// Buffers for `spec`'s program over `batches` (copied in), drawing with `draw_seed`.
    pub fn new<'a>(
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        draw_seed: u64,
        training: bool,
    ) -> Self {
        let batches = batches.into();
        // A fused bound runs as its unfused ops, S stored in f32 as the device's materialised
        // program stores it (`Reference::fused_bound`).
        let program = spec.program(batches.source(), draw_seed, training);
        let host = Host::new(&program, &batches, (spec.dx, spec.dy), |_| true);
        Self { program, host }
    }

    /// d(−objective)/dθ after [`Workspace::run`].
    pub fn grads(&self) -> &[f32] {
        &self.host.buffers[GRADS]
    }

    /// Buffer `id` of the program after the last [`Workspace::run`].
    pub fn buffer(&self, id: usize) -> &[f32] {
        &self.host.buffers[id]
    }

    /// The gradient's global L2 norm at the last [`Workspace::run`] of a training program,
    /// before any clip (NaN before one).
    pub fn grad_norm(&self) -> f64 {
        self.host.grad_norm
    }

    /// Runs the program for step `step` with `params`; returns the bound's value.
    pub fn run(&mut self, params: &[f32], step: u32) -> f64 {
        let mut value = f64::NAN;
        self.host.begin(step);
        for op in &self.program.ops {
            self.host.run_op(&Reference, op, params, step, &mut value);
        }
        value
    }

    /// The spec's training objective on step `step`'s batch (what finite differences check).
    pub fn objective(&mut self, params: &[f32], step: u32) -> f64 {
        self.run(params, step);
        self.host.objective
    }
}

/// Trains a critic on the CPU with the exact draws and operations of the GPU trainer.
pub struct CpuTrainer {
    spec: TrainSpec,
    params: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    work: Workspace,
    eval: Option<(Workspace, u32)>,
    step: u64,
    grad_norms: Vec<f32>,
}

impl CpuTrainer {
    /// Copies the data and initialises the critic from the spec's seed; `eval` = (data,
    /// batches) for [`Trainer::evaluate`].
    pub fn new<'a>(
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        eval: Option<(TrainData<'_>, u32)>,
    ) -> Result<Self, SpecError> {
        let batches = batches.into();
        spec.check_batches(&batches)?;
        let eval = match eval {
            Some((e, batches)) => {
                spec.check_data(&e)?;
                Some((
                    Workspace::new(spec, e, eval_seed(spec.seed), false),
                    batches,
                ))
            }
            None => None,
        };
        let params = spec.init();
        let n = params.len();
        Ok(Self {
            work: Workspace::new(spec, batches, spec.seed, true),
            eval,
            params,
            m: vec![0.0; n],
            v: vec![0.0; n],
            spec: spec.clone(),
            step: 0,
            grad_norms: Vec::new(),
        })
    }

    /// One step; returns the bound's value before the update.
    fn one_step(&mut self) -> Result<f32, Divergence> {
        let step = self.step as u32;
        let value = self.work.run(&self.params, step) as f32;
        self.grad_norms.push(self.work.grad_norm() as f32);
        ops::adam_step(
            &self.spec.adam,
            step + 1,
            &mut self.params,
            self.work.grads(),
            &mut self.m,
            &mut self.v,
        );
        let bad_value = !value.is_finite();
        let bad_param = self
            .params
            .iter()
            .chain(self.work.grads())
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

impl CpuTrainer {
    /// Takes `steps` steps; returns the bound's value at each, or where the run diverged.
    pub fn train(&mut self, steps: u32) -> Result<Vec<f32>, Divergence> {
        (0..steps).map(|_| self.one_step()).collect()
    }

    /// The bound's value with the current critic on each evaluation batch (the same batches
    /// every time), drawn from the evaluation data given at construction.
    pub fn evaluate(&mut self) -> Result<Vec<f32>, SpecError> {
        let (work, batches) = self.eval.as_mut().ok_or(SpecError::NoEvaluationData)?;
        Ok((0..*batches)
            .map(|b| work.run(&self.params, b) as f32)
            .collect())
    }

    /// The current parameters (flat, in the spec's network order). Never fails: a `Result`
    /// so that both backends' trainers read alike.
    pub fn parameters(&self) -> Result<Vec<f32>, std::convert::Infallible> {
        Ok(self.params.clone())
    }

    /// The global gradient norm at every step trained since the last call, in order.
    pub fn take_grad_norms(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.grad_norms)
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// "CPU reference (f64 accumulation)", for reports.
    pub fn device_name(&self) -> String {
        "CPU reference (f64 accumulation)".into()
    }
}
