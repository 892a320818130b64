//! The CPU behind the backend trait, in either mode: fast (f32 on every core, what users
//! get) or the f64 reference (what the kernels are tested against).

use std::sync::Arc;

use super::{
    Backend, BackendError, GpuContext, HeldOut, HeldOutParts, HeldOutValues, ReadOut, RunOptions,
    Trainer,
};
use crate::cpu::fast::{self, FastTrainer, FastWorkspace, Pool};
use crate::cpu::{CpuTrainer, Workspace};
use crate::math::cross_check;
use crate::math::spec::{eval_seed, Batches, Divergence, TrainData, TrainSpec};

/// The CPU backend in one of its modes.
pub struct CpuBackend {
    reference: bool,
}

/// The reference's name in reports.
const REFERENCE: &str = "CPU reference (f64 accumulation)";

impl CpuBackend {
    /// The fast mode: f32 on [`RunOptions::threads`] threads.
    pub fn fast() -> Self {
        Self { reference: false }
    }

    /// The f64 reference.
    pub fn reference() -> Self {
        Self { reference: true }
    }
}

/// Threads a run of the fast mode takes: the option's, or one a core.
fn threads(options: &RunOptions) -> usize {
    match options.threads {
        0 => super::host_threads(),
        n => n,
    }
}

impl Backend for CpuBackend {
    fn device_name(&self) -> String {
        if self.reference {
            REFERENCE.into()
        } else {
            fast::device_name(threads(&RunOptions::default()))
        }
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
        let pool = (!self.reference).then(|| Arc::new(Pool::new(threads(options))));
        let part = |p: HeldOut<'_>| Part::new(spec, p, pool.as_ref());
        let (select, report) = match held_out {
            None => (None, None),
            Some(parts) => (
                Some(part(parts.select)?),
                Some((
                    part(parts.report)?,
                    parts.report.data().x.to_vec(),
                    parts.report.data().y.to_vec(),
                )),
            ),
        };
        let engine = match &pool {
            Some(pool) => Engine::Fast(Box::new(FastTrainer::with_pool(
                spec,
                batches,
                Arc::clone(pool),
            )?)),
            None => Engine::Reference(Box::new(CpuTrainer::new(spec, batches, None)?)),
        };
        Ok(Box::new(CpuRun {
            engine,
            spec: spec.clone(),
            select,
            report,
            options: options.clone(),
        }))
    }
}

/// The trainer of either mode (boxed: one is built a run, and they differ in size).
enum Engine {
    Fast(Box<FastTrainer>),
    Reference(Box<CpuTrainer>),
}

impl Engine {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, Divergence> {
        match self {
            Engine::Fast(t) => t.train(steps),
            Engine::Reference(t) => t.train(steps),
        }
    }

    fn parameters(&self) -> Vec<f32> {
        match self {
            Engine::Fast(t) => t.parameters().to_vec(),
            Engine::Reference(t) => {
                let Ok(p) = t.parameters();
                p
            }
        }
    }

    fn take_grad_norms(&mut self) -> Vec<f32> {
        match self {
            Engine::Fast(t) => t.take_grad_norms(),
            Engine::Reference(t) => t.take_grad_norms(),
        }
    }

    fn step(&self) -> u64 {
        match self {
            Engine::Fast(t) => t.step(),
            Engine::Reference(t) => t.step(),
        }
    }

    fn device_name(&self) -> String {
        match self {
            Engine::Fast(t) => t.device_name(),
            Engine::Reference(t) => t.device_name(),
        }
    }

    /// Threads for the cross-check: the pool's, or one a core for the reference.
    fn threads(&self) -> usize {
        match self {
            Engine::Fast(t) => t.pool().threads(),
            Engine::Reference(_) => super::host_threads(),
        }
    }
}

/// A held-out part's evaluation program, in the trainer's mode.
enum Work {
    Fast(FastWorkspace),
    Reference(Workspace),
}

/// A held-out part's evaluation program: `batches` batches of its K.
struct Part {
    work: Work,
    batches: u32,
}

impl Part {
    fn new(
        spec: &TrainSpec,
        part: HeldOut<'_>,
        pool: Option<&Arc<Pool>>,
    ) -> Result<Self, BackendError> {
        match part {
            HeldOut::Batches { data, k, batches } => {
                let spec = TrainSpec {
                    batch: k,
                    ..spec.clone()
                };
                spec.check_data(&data)?;
                Ok(Self {
                    work: workspace(&spec, data, pool),
                    batches,
                })
            }
            HeldOut::WholeSplit { data, .. } => Err(BackendError::WholeSplit { rows: data.rows() }),
        }
    }

    fn evaluate(&mut self, params: &[f32]) -> Vec<f32> {
        (0..self.batches)
            .map(|b| match &mut self.work {
                Work::Fast(w) => w.run(params, b) as f32,
                Work::Reference(w) => w.run(params, b) as f32,
            })
            .collect()
    }
}

/// An evaluation program over `data` in the pool's mode (the reference without one).
fn workspace(spec: &TrainSpec, data: TrainData<'_>, pool: Option<&Arc<Pool>>) -> Work {
    let seed = eval_seed(spec.seed);
    match pool {
        Some(pool) => Work::Fast(FastWorkspace::new(
            spec,
            data,
            seed,
            false,
            Arc::clone(pool),
        )),
        None => Work::Reference(Workspace::new(spec, data, seed, false)),
    }
}

/// A trainer run in chunks, so that a cancellation is seen as on the GPU, with its held-out
/// parts (the report part's rows kept for the cross-check).
struct CpuRun {
    engine: Engine,
    spec: TrainSpec,
    select: Option<Part>,
    report: Option<(Part, Vec<f32>, Vec<f32>)>,
    options: RunOptions,
}

impl Trainer for CpuRun {
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError> {
        let t = &mut self.engine;
        super::options::in_chunks(&self.options, steps, t.step(), |n| Ok(t.train(n)?))
    }

    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError> {
        let part = self.select.as_mut().ok_or_else(super::no_held_out)?;
        let params = self.engine.parameters();
        Ok(HeldOutValues::Batches(part.evaluate(&params)))
    }

    fn read_out(&mut self, params: &[f32]) -> Result<ReadOut, BackendError> {
        let (part, x, y) = self.report.as_mut().ok_or_else(super::no_held_out)?;
        let threads = self.engine.threads();
        Ok(ReadOut {
            values: HeldOutValues::Batches(part.evaluate(params)),
            infonce_terms: cross_check::infonce_terms(&self.spec, params, x, y, threads),
            draw_order: None,
        })
    }

    fn parameters(&self) -> Result<Vec<f32>, BackendError> {
        Ok(self.engine.parameters())
    }

    fn take_grad_norms(&mut self) -> Vec<f32> {
        self.engine.take_grad_norms()
    }

    fn step(&self) -> u64 {
        self.engine.step()
    }

    fn device_name(&self) -> String {
        self.engine.device_name()
    }
}
