//! The CPU behind the backend trait, in either mode: fast (f32 on every core, what users
//! get) or the f64 reference (what the kernels are tested against).

use std::sync::Arc;

use super::replicated::train_one;
use super::{
    check_replicas, Backend, BackendError, GpuContext, HeldOut, HeldOutParts, HeldOutValues,
    ReadOut, Replica, Replicated, RunOptions, Trainer,
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
        Ok(Box::new(self.run(spec, batches, held_out, options)?))
    }

    /// The replicas spread over the threads: with R replicas and T threads, min(R, T) workers
    /// each step a fixed share of the replicas (replica r on worker r mod workers), each
    /// replica on max(1, T / R) threads of its own. A replica's bits do not depend on the
    /// thread count, so each gives its solo bits.
    fn replicated<'a>(
        &'a self,
        replicas: &[Replica<'_>],
        options: &RunOptions,
    ) -> Result<Box<dyn Replicated + 'a>, BackendError> {
        check_replicas(replicas)?;
        let total = threads(options);
        let each = options
            .clone()
            .with_threads((total / replicas.len()).max(1));
        let runs = replicas
            .iter()
            .map(|r| self.run(&r.spec, r.batches, r.held_out, &each))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(CpuReplicas {
            stopped: vec![false; runs.len()],
            workers: total.min(runs.len()).max(1),
            runs,
        }))
    }
}

impl CpuBackend {
    /// A trainer of either mode with its held-out parts.
    fn run(
        &self,
        spec: &TrainSpec,
        batches: Batches<'_>,
        held_out: Option<HeldOutParts<'_>>,
        options: &RunOptions,
    ) -> Result<CpuRun, BackendError> {
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
        Ok(CpuRun {
            engine,
            spec: spec.clone(),
            select,
            report,
            options: options.clone(),
        })
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

/// Replicas on the CPU: one trainer each, stepped on `workers` threads at once.
struct CpuReplicas {
    runs: Vec<CpuRun>,
    stopped: Vec<bool>,
    workers: usize,
}

impl Replicated for CpuReplicas {
    fn replicas(&self) -> usize {
        self.runs.len()
    }

    fn train(&mut self, steps: u32) -> Vec<Result<Vec<f32>, BackendError>> {
        let workers = self.workers;
        let mut shares: Vec<Vec<(usize, &mut CpuRun, &mut bool)>> =
            (0..workers).map(|_| Vec::new()).collect();
        for (r, (run, stopped)) in self.runs.iter_mut().zip(&mut self.stopped).enumerate() {
            shares[r % workers].push((r, run, stopped));
        }
        let mut out: Vec<(usize, Result<Vec<f32>, BackendError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    s.spawn(move || {
                        share
                            .into_iter()
                            .map(|(r, run, stopped)| (r, train_one(run, stopped, steps)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a replica's thread panicked"))
                .collect()
        });
        out.sort_by_key(|(r, _)| *r);
        out.into_iter().map(|(_, v)| v).collect()
    }

    fn evaluate(&mut self, r: usize) -> Result<HeldOutValues, BackendError> {
        self.runs[r].evaluate()
    }

    fn read_out(&mut self, r: usize, params: &[f32]) -> Result<ReadOut, BackendError> {
        self.runs[r].read_out(params)
    }

    fn parameters(&self, r: usize) -> Result<Vec<f32>, BackendError> {
        self.runs[r].parameters()
    }

    fn take_grad_norms(&mut self, r: usize) -> Vec<f32> {
        self.runs[r].take_grad_norms()
    }

    fn freeze(&mut self, r: usize) {
        self.stopped[r] = true;
    }

    fn step(&self, r: usize) -> u64 {
        self.runs[r].step()
    }

    fn device_name(&self) -> String {
        let one = self
            .runs
            .first()
            .map_or_else(String::new, CpuRun::device_name);
        match self.runs.len() {
            1 => one,
            n => format!("{one}, {n} replicas on {} threads", self.workers),
        }
    }
}
