//! The GPU behind the backend trait: the device trainer, its held-out evaluators (in batches,
//! or the whole split where it applies) and the report part's read-out of a chosen critic.

use super::replicated::Split;
use super::{
    check_replicas, Backend, BackendError, GpuContext, HeldOut, HeldOutParts, HeldOutValues,
    ReadOut, Replica, Replicated, RunOptions, Trainer,
};
use crate::gpu::kernels::MAX_REPLICAS;
use crate::gpu::{BatchEvaluator, GpuBuffer, GpuError, GpuTrainer, ReplicaBatches, SplitEvaluator};
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
        ctx.set_geometry(options.geometry)?;
        let trainer = GpuTrainer::new(ctx, spec, batches, None, options.chunk)?;
        let parts = match held_out {
            None => None,
            Some(parts) => Some(held_out_parts(
                ctx,
                spec,
                trainer.parameter_buffer(),
                parts,
            )?),
        };
        Ok(Box::new(GpuRun {
            trainer,
            parts,
            options: options.clone(),
        }))
    }

    /// The replicas in the same launches ([`GpuTrainer::replicated`]), in as many batched
    /// runs as the adapter's limits need (a run too large for them is halved until it fits,
    /// and the device's name says so).
    fn replicated<'a>(
        &'a self,
        replicas: &[Replica<'_>],
        options: &RunOptions,
    ) -> Result<Box<dyn Replicated + 'a>, BackendError> {
        check_replicas(replicas)?;
        self.ctx.set_geometry(options.geometry)?;
        let mut size = replicas.len().min(MAX_REPLICAS);
        loop {
            let built: Result<Vec<Box<dyn Replicated + 'a>>, GpuError> = replicas
                .chunks(size)
                .map(|group| {
                    let run = GpuReplicas::new(&self.ctx, group, options)?;
                    // Allocation failures surface at the next check.
                    self.ctx.sync()?;
                    Ok(Box::new(run) as Box<dyn Replicated + 'a>)
                })
                .collect();
            match built {
                Ok(runs) if runs.len() == 1 => {
                    return Ok(runs.into_iter().next().expect("one run"));
                }
                Ok(runs) => {
                    let note = format!(
                        "{} replicas in {} batched runs of at most {size} (the adapter's limits)",
                        replicas.len(),
                        runs.len()
                    );
                    return Ok(Box::new(Split::new(runs, size, note)));
                }
                Err(e) if size > 1 && too_large(&e) => size = size.div_ceil(2),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A failure a smaller batched run may avoid: a buffer past the adapter's limits, a grid
/// past its workgroup count, or the device out of memory.
fn too_large(e: &GpuError) -> bool {
    match e {
        GpuError::TooLarge { .. } | GpuError::TooManyWorkgroups { .. } => true,
        GpuError::Wgpu { message } => message.to_lowercase().contains("memory"),
        _ => false,
    }
}

/// A held-out part's selection evaluator (reading `params`) and its report part (reading a
/// snapshot of the chosen critic, so the critic being trained is never overwritten).
fn held_out_parts<'c>(
    ctx: &'c GpuContext,
    spec: &TrainSpec,
    params: &GpuBuffer,
    parts: HeldOutParts<'_>,
) -> Result<(Evaluator<'c>, Report<'c>), GpuError> {
    let select = Evaluator::new(ctx, spec, params, parts.select)?;
    let snapshot = ctx.zeros("chosen critic", spec.param_count())?;
    let evaluator = Evaluator::new(ctx, spec, &snapshot, parts.report)?;
    let cross = CrossCheck::new(ctx, spec, &snapshot, parts.report)?;
    Ok((
        select,
        Report {
            snapshot,
            evaluator,
            cross,
        },
    ))
}

/// The critic `params` read out on a report part.
fn read_out(
    ctx: &GpuContext,
    report: &Report<'_>,
    params: &[f32],
) -> Result<ReadOut, BackendError> {
    ctx.write(&report.snapshot, params)?;
    Ok(ReadOut {
        values: report.evaluator.evaluate()?,
        infonce_terms: report.cross.terms(params)?,
        draw_order: report.evaluator.draw_order(),
    })
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
        read_out(self.trainer.context(), report, params)
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

/// The held-out side of one replica on the GPU: the solo-sized parameter buffer its selection
/// evaluator reads (replica r's slice is copied there before each evaluation) and its report
/// part.
struct ReplicaParts<'c> {
    params: GpuBuffer,
    parts: Option<(Evaluator<'c>, Report<'c>)>,
}

/// Replicas in the same launches ([`GpuTrainer::replicated`]), each with its own evaluators.
struct GpuReplicas<'c> {
    trainer: GpuTrainer<'c>,
    replicas: Vec<ReplicaParts<'c>>,
    grad_norms: Vec<Vec<f32>>,
    stopped: Vec<bool>,
    options: RunOptions,
}

impl<'c> GpuReplicas<'c> {
    fn new(
        ctx: &'c GpuContext,
        replicas: &[Replica<'_>],
        options: &RunOptions,
    ) -> Result<Self, GpuError> {
        let specs: Vec<TrainSpec> = replicas.iter().map(|r| r.spec.clone()).collect();
        let batches = match shared_batches(replicas) {
            Some(b) => ReplicaBatches::Shared(b),
            None => ReplicaBatches::Each(replicas.iter().map(|r| r.batches).collect()),
        };
        let trainer = GpuTrainer::replicated(ctx, &specs, batches, options.chunk)?;
        let parts = replicas
            .iter()
            .map(|r| {
                let params = ctx.zeros("replica parameters", r.spec.param_count())?;
                let parts = match r.held_out {
                    None => None,
                    Some(p) => Some(held_out_parts(ctx, &r.spec, &params, p)?),
                };
                Ok(ReplicaParts { params, parts })
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        Ok(Self {
            trainer,
            grad_norms: vec![Vec::new(); parts.len()],
            stopped: vec![false; parts.len()],
            replicas: parts,
            options: options.clone(),
        })
    }

    fn parts(&self, r: usize) -> Result<&(Evaluator<'c>, Report<'c>), BackendError> {
        self.replicas[r]
            .parts
            .as_ref()
            .ok_or_else(super::no_held_out)
    }
}

/// The batches every replica shares, when they all point at the same data (a sweep on one
/// split): uploaded once instead of once a replica.
fn shared_batches<'a>(replicas: &[Replica<'a>]) -> Option<Batches<'a>> {
    let same = |a: &Batches<'_>, b: &Batches<'_>| match (a, b) {
        (Batches::Data(a), Batches::Data(b)) => {
            std::ptr::eq(a.x, b.x)
                && std::ptr::eq(a.y, b.y)
                && a.log_marginal.map(<[f32]>::as_ptr) == b.log_marginal.map(<[f32]>::as_ptr)
        }
        (
            Batches::Gaussian {
                rho: a,
                transform: s,
            },
            Batches::Gaussian {
                rho: b,
                transform: t,
            },
        ) => std::ptr::eq(*a, *b) && s == t,
        _ => false,
    };
    let first = replicas.first()?.batches;
    replicas
        .iter()
        .all(|r| same(&first, &r.batches))
        .then_some(first)
}

impl Replicated for GpuReplicas<'_> {
    fn replicas(&self) -> usize {
        self.replicas.len()
    }

    fn train(&mut self, steps: u32) -> Vec<Result<Vec<f32>, BackendError>> {
        let r_count = self.replicas.len();
        let mut values: Vec<Vec<f32>> = vec![Vec::new(); r_count];
        let mut failed: Vec<Option<BackendError>> = (0..r_count).map(|_| None).collect();
        let chunk = self.options.chunk.max(1);
        let mut left = steps;
        while left > 0 && self.stopped.iter().any(|s| !s) {
            if self.options.cancelled() {
                for (r, (f, stopped)) in failed.iter_mut().zip(&mut self.stopped).enumerate() {
                    if !*stopped {
                        let step = self.trainer.replica_step(r).unwrap_or(0);
                        *f = Some(BackendError::Cancelled { step });
                        *stopped = true;
                        self.trainer.freeze(r);
                    }
                }
                break;
            }
            let now = left.min(chunk);
            match self.trainer.train_replicas(now) {
                Ok(steps) => {
                    for (r, s) in steps.into_iter().enumerate() {
                        if self.stopped[r] {
                            continue;
                        }
                        self.grad_norms[r].extend(s.grad_norms);
                        match s.diverged {
                            Some(d) => {
                                failed[r] = Some(BackendError::Diverged(d));
                                self.stopped[r] = true;
                            }
                            None => values[r].extend(s.values),
                        }
                    }
                }
                Err(e) => {
                    let reason = e.to_string();
                    for (f, stopped) in failed.iter_mut().zip(&mut self.stopped) {
                        if !*stopped {
                            *f = Some(BackendError::RunFailed {
                                reason: reason.clone(),
                            });
                            *stopped = true;
                        }
                    }
                    break;
                }
            }
            left -= now;
        }
        values
            .into_iter()
            .zip(failed)
            .map(|(v, f)| match f {
                Some(e) => Err(e),
                None => Ok(v),
            })
            .collect()
    }

    fn evaluate(&mut self, r: usize) -> Result<HeldOutValues, BackendError> {
        let (select, _) = self.parts(r)?;
        self.trainer
            .copy_replica_parameters(r, &self.replicas[r].params)?;
        Ok(select.evaluate()?)
    }

    fn read_out(&mut self, r: usize, params: &[f32]) -> Result<ReadOut, BackendError> {
        let (_, report) = self.parts(r)?;
        read_out(self.trainer.context(), report, params)
    }

    fn parameters(&self, r: usize) -> Result<Vec<f32>, BackendError> {
        Ok(self.trainer.replica_parameters(r)?)
    }

    fn take_grad_norms(&mut self, r: usize) -> Vec<f32> {
        std::mem::take(&mut self.grad_norms[r])
    }

    fn freeze(&mut self, r: usize) {
        self.stopped[r] = true;
        self.trainer.freeze(r);
    }

    fn step(&self, r: usize) -> u64 {
        self.trainer.replica_step(r).unwrap_or(0)
    }

    fn device_name(&self) -> String {
        match self.replicas.len() {
            1 => self.trainer.device_name(),
            n => format!(
                "{}, {n} replicas in the same launches",
                self.trainer.device_name()
            ),
        }
    }
}
