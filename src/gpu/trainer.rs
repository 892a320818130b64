//! The training loop on the device: data uploaded once, every step (draw, forward, bound,
//! backward, Adam) recorded into one submission per chunk, values read back once a chunk.
//!
//! A trainer holds R ≥ 1 replicas of one program (see [`super::replicas`]): every buffer holds
//! R blocks, every launch covers all R (the grid's z), and replica r takes exactly the steps,
//! with exactly the bits, of the same spec trained alone. One replica is the solo trainer.

use std::borrow::Cow;

use super::batch_eval::BatchEvaluator;
use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::dispatch::Dispatch;
use super::kernels::{check_replicas, state, ClipMode, Operands, PairAxis, ReplicaRows, Strided};
use super::replicas::{ReplicaBatches, ReplicaRecord};
use super::rows::DeviceRows;
use super::GpuError;
use crate::math::bounds::Bound;
use crate::math::program::{BufId, DrawLayout, Op, Program, GRADS, PARAMS, X, Y};
use crate::math::spec::Source;
use crate::math::spec::{Batches, SpecError, TrainData, TrainSpec};

/// A compiled program: its buffers, state, value history and launches, for R replicas.
pub(super) struct Compiled {
    pub(super) buffers: Vec<GpuBuffer>,
    /// R blocks of [`state::LEN`].
    pub(super) state: GpuBuffer,
    /// The bound's value per step: replica r's slot step % slots at r · slots.
    pub(super) hist: GpuBuffer,
    /// The gradient's norm per step, laid out as `hist` (training programs).
    pub(super) norms: GpuBuffer,
    /// History slots a replica (the steps one submission records).
    pub(super) slots: usize,
    /// Replicas R.
    pub(super) replicas: usize,
    pub(super) dispatches: Vec<Dispatch>,
    /// The fused bound's scratch (its per-row statistics), when the program has one.
    pub(super) stats: Option<GpuBuffer>,
}

/// Trains critics on one device: R ≥ 1 replicas of one program in the same launches (one
/// for [`GpuTrainer::new`], several for [`GpuTrainer::replicated`]). Holds their buffers and
/// the prepared launches of one step, and of one evaluation batch when evaluation data were
/// given.
pub struct GpuTrainer<'c> {
    pub(super) ctx: &'c GpuContext,
    pub(super) train: Compiled,
    pub(super) eval: Option<BatchEvaluator<'c>>,
    /// Steps the run has taken (every replica's device step counter reads it).
    pub(super) step: u64,
    /// Replica 0's gradient norms since [`GpuTrainer::take_grad_norms`] (solo training).
    pub(super) grad_norms: Vec<f32>,
    /// Parameters a replica (P): replica r's are elements r · P .. (r + 1) · P.
    pub(super) param_len: usize,
    /// Each replica's steps and whether it stopped.
    pub(super) records: Vec<ReplicaRecord>,
    /// The state as last read back (R blocks of [`state::LEN`]).
    pub(super) state_seen: Vec<u32>,
}

impl<'c> GpuTrainer<'c> {
    /// Uploads the data and the initial critic, and prepares one step's launches, and those of
    /// an evaluation over `eval = (data, batches)`. `chunk` is the most steps one submission
    /// records. The solo trainer: one replica of [`GpuTrainer::replicated`]'s program.
    pub fn new<'a>(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        eval: Option<(TrainData<'_>, u32)>,
        chunk: u32,
    ) -> Result<Self, GpuError> {
        let batches = ReplicaBatches::Shared(batches.into());
        let mut trainer = Self::build(ctx, std::slice::from_ref(spec), &batches, chunk)?;
        if let Some((e, batches)) = eval {
            let params = trainer.train.buffers[PARAMS].clone();
            trainer.eval = Some(BatchEvaluator::new(ctx, spec, &params, e, batches)?);
        }
        Ok(trainer)
    }

    /// The trainer of `specs.len()` replicas (see [`GpuTrainer::replicated`]), without
    /// evaluation data.
    pub(super) fn build(
        ctx: &'c GpuContext,
        specs: &[TrainSpec],
        batches: &ReplicaBatches<'_>,
        chunk: u32,
    ) -> Result<Self, GpuError> {
        check_replicas(specs.len())?;
        super::replicas::check_specs(specs)?;
        let (source, inputs) = super::replicas::inputs(specs, batches)?;
        if chunk == 0 {
            return Err(SpecError::Zero {
                what: "the steps per submission (chunk)",
            }
            .into());
        }
        let spec = &specs[0];
        let reps = specs.len();
        let program = spec.program(source, spec.seed, true);
        let init: Vec<f32> = specs.iter().flat_map(|s| s.init()).collect();
        let params = ctx.upload("parameters", &init)?;
        let seeds: Vec<u64> = specs.iter().map(|s| s.seed).collect();
        let mut train = compile(
            ctx,
            specs,
            &seeds,
            &program,
            &params,
            &inputs,
            chunk as usize,
        )?;
        let np = spec.param_count();
        let m = ctx.zeros("adam m", reps * np)?;
        let v = ctx.zeros("adam v", reps * np)?;
        let grads = train.buffers[GRADS].clone();
        let configs: Vec<_> = specs.iter().map(|s| s.adam).collect();
        let each = |b| Strided::new(b, np);
        train.dispatches.push(ctx.adam_replicated(
            &configs,
            np,
            [each(&params), each(&grads), each(&m), each(&v)],
            &train.state,
        )?);
        train
            .dispatches
            .push(ctx.tick_replicated(&train.state, reps)?);
        train.buffers.extend([m, v]);
        Ok(Self {
            ctx,
            train,
            eval: None,
            step: 0,
            grad_norms: Vec::new(),
            param_len: np,
            records: vec![ReplicaRecord::default(); reps],
            state_seen: (0..reps).flat_map(|_| state::initial(0)).collect(),
        })
    }

    /// The context this trainer runs on.
    pub fn context(&self) -> &GpuContext {
        self.ctx
    }

    /// Kernel launches recorded per training step (each covers every replica).
    pub fn dispatches_per_step(&self) -> usize {
        self.train.dispatches.len()
    }

    /// The device buffer of the critics' parameters (updated in place by every step): one
    /// critic's for a solo trainer; R blocks of [`GpuTrainer::replica_parameter_count`] for a
    /// replicated one, replica r's at r · P (see [`GpuTrainer::copy_replica_parameters`]).
    pub fn parameter_buffer(&self) -> &GpuBuffer {
        &self.train.buffers[PARAMS]
    }
}

/// What a compiled program's X and Y buffers hold: one block every replica reads, or each
/// replica's own, concatenated in replica order (data rows, or the ρ schedules of the
/// synthetic source).
pub(super) struct Inputs<'a> {
    /// X's contents (data x, or the ρ schedule).
    pub(super) x: Cow<'a, [f32]>,
    /// Y's contents.
    pub(super) y: Cow<'a, [f32]>,
    /// The data's per-row log p(y), if given.
    pub(super) log_marginal: Option<Cow<'a, [f32]>>,
    /// Each replica's own block (else one block all replicas share).
    pub(super) each: bool,
}

impl<'a> Inputs<'a> {
    /// One block, read by every replica.
    pub(super) fn shared(x: &'a [f32], y: &'a [f32], log_marginal: Option<&'a [f32]>) -> Self {
        Self {
            x: Cow::Borrowed(x),
            y: Cow::Borrowed(y),
            log_marginal: log_marginal.map(Cow::Borrowed),
            each: false,
        }
    }
}

/// Allocates the buffers of `specs.len()` replicas of a program (every buffer R blocks of
/// its length, but the parameters, shared, and the inputs, shared or each replica's),
/// uploads the inputs and prepares its launches, each covering every replica. `program` is
/// replica 0's (every replica's shapes are its); replica r draws with `draw_seeds[r]` and
/// evaluates `specs[r].bound`.
pub(super) fn compile(
    ctx: &GpuContext,
    specs: &[TrainSpec],
    draw_seeds: &[u64],
    program: &Program,
    params: &GpuBuffer,
    inputs: &Inputs<'_>,
    hist_len: usize,
) -> Result<Compiled, GpuError> {
    let reps = specs.len();
    check_replicas(reps)?;
    let spec = &specs[0];
    // A software adapter that cannot run a bound's fused column passes runs it materialised
    // (a choice from one replica's shapes, so every replica runs the same launches).
    let program = &program
        .clone()
        .materialised(|bound, k, e| !ctx.fused_bound_runs(bound, k, e));
    let blocks = if inputs.each { reps } else { 1 };
    // Data rows go up split over as many bindings as the adapter needs (the gathers read
    // every part); each replica's own rows follow the replica before's. The synthetic source
    // keeps its ρ schedule in X.
    let is_data = program.ops.iter().any(|op| {
        matches!(
            op,
            Op::Draw {
                source: Source::Data { .. },
                ..
            }
        )
    });
    let data = if is_data {
        Some(ctx.upload_rows((&inputs.x, spec.dx), (&inputs.y, spec.dy))?)
    } else {
        None
    };
    let rows = data.as_ref().map(|(xr, yr)| {
        let n = xr.rows() / blocks;
        ReplicaRows {
            x: xr,
            y: yr,
            n,
            stride: if inputs.each { n } else { 0 },
        }
    });
    let param_len = spec.param_count();
    // Every buffer with its per-replica stride.
    let mut buffers: Vec<(GpuBuffer, usize)> = Vec::with_capacity(program.buffers.len());
    // The buffer of the data's per-row log p(y), read by its gather.
    let lp_rows = program.ops.iter().find_map(|op| match op {
        Op::GatherMarginal { rows, .. } => Some(*rows),
        _ => None,
    });
    let each_stride = |len: usize| if inputs.each { len / blocks } else { 0 };
    for (id, decl) in program.buffers.iter().enumerate() {
        if Some(id) == lp_rows {
            let lp = inputs
                .log_marginal
                .as_deref()
                .ok_or(SpecError::MissingMarginal)?;
            buffers.push((ctx.upload(decl.name, lp)?, each_stride(lp.len())));
            continue;
        }
        buffers.push(match (id, &data) {
            (PARAMS, _) => (params.clone(), param_len),
            (X, Some((xr, _))) => (xr.parts()[0].clone(), 0),
            (Y, Some((_, yr))) => (yr.parts()[0].clone(), 0),
            (X, None) => (
                ctx.upload(decl.name, &inputs.x)?,
                each_stride(inputs.x.len()),
            ),
            (Y, None) => (
                ctx.upload(decl.name, &inputs.y)?,
                each_stride(inputs.y.len()),
            ),
            _ => {
                let len = decl.len.checked_mul(reps).ok_or(GpuError::Overflow {
                    what: "a replicated buffer's elements",
                    value: decl.len as u128 * reps as u128,
                    limit: "usize",
                })?;
                (ctx.zeros(decl.name, len)?, decl.len)
            }
        });
    }
    let initial: Vec<u32> = (0..reps).flat_map(|_| state::initial(0)).collect();
    let state_buf = ctx.upload("state", &initial)?;
    let hist = ctx.filled("values", reps * hist_len, f32::NAN)?;
    let norms = ctx.filled("gradient norms", reps * hist_len, f32::NAN)?;
    let b = &buffers;
    let st = |id: BufId| Strided::new(&b[id].0, b[id].1);
    let raw = |id: BufId| &b[id].0;
    let bounds: Vec<Bound> = specs.iter().map(|s| s.bound).collect();
    let dx = spec.dx;
    let mut scratches = Vec::new();
    let mut stats = None;
    let mut d = Vec::with_capacity(program.ops.len());
    for op in &program.ops {
        match op {
            Op::Draw { k, source, out, .. } => {
                let k = *k;
                let rho = (st(X), b[X].0.len() / blocks);
                d.push(match (*source, *out, &rows) {
                    (Source::Data { .. }, DrawLayout::Shuffled(o), Some(rows)) => {
                        ctx.gather_shuffled_replicated(draw_seeds, k, rows, st(o), &state_buf)?
                    }
                    (Source::Data { .. }, DrawLayout::Split(xb, yb), Some(rows)) => ctx
                        .gather_batch_replicated(
                            draw_seeds,
                            k,
                            rows,
                            [st(xb), st(yb)],
                            &state_buf,
                        )?,
                    (Source::Data { .. }, _, None) => unreachable!("data programs upload rows"),
                    (Source::Gaussian { transform, .. }, DrawLayout::Shuffled(o), _) => ctx
                        .sample_gaussian_shuffled_replicated(
                            draw_seeds,
                            (k, dx),
                            transform,
                            rho,
                            st(o),
                            &state_buf,
                        )?,
                    (Source::Gaussian { transform, .. }, DrawLayout::Split(xb, yb), _) => ctx
                        .sample_gaussian_batch_replicated(
                            draw_seeds,
                            (k, dx),
                            transform,
                            rho,
                            [st(xb), st(yb)],
                            &state_buf,
                        )?,
                })
            }
            Op::Gemm {
                spec,
                a,
                b: bb,
                c,
                bias,
                aux,
            } => d.extend(ctx.gemm_launches_replicated(
                reps,
                spec,
                [st(*a), st(*bb), st(*c)],
                bias.map(st),
                aux.map(st),
                ctx.gemm_geometry(spec),
            )?),
            Op::ColumnSums { spec, src, out } => {
                let g = ctx.reduce_geometry(spec.rows, spec.cols);
                d.extend(ctx.column_sum_launches_replicated(reps, spec, st(*src), st(*out), g)?)
            }
            Op::PairExpand {
                k,
                width,
                u,
                v,
                out,
            } => {
                let g = ctx.pair_geometry(*k, *width);
                d.push(ctx.pair_expand_replicated(
                    reps,
                    *k,
                    *width,
                    [st(*u), st(*v), st(*out)],
                    g,
                )?)
            }
            Op::PairReduce {
                rows,
                k,
                width,
                src,
                out,
            } => {
                let axis = if *rows {
                    PairAxis::Rows
                } else {
                    PairAxis::Cols
                };
                let g = ctx.pair_geometry(*k, *width);
                d.push(ctx.pair_reduce_replicated(reps, axis, *k, *width, st(*src), st(*out), g)?)
            }
            Op::Bound {
                k,
                shuffled,
                scores,
                dscores,
                baseline,
                ..
            } => {
                let bl = baseline.map(|(v, dv)| (st(v), st(dv)));
                if *shuffled {
                    d.push(ctx.shuffled_bound_replicated(
                        &bounds,
                        *k,
                        [st(*scores), st(*dscores)],
                        (&hist, hist_len),
                        &state_buf,
                        bl,
                    )?);
                } else {
                    let len = GpuContext::matrix_bound_scratch_len(*k);
                    let scratch = ctx.zeros("bound scratch", reps * len)?;
                    d.extend(ctx.matrix_bound_replicated(
                        &bounds,
                        *k,
                        &Operands {
                            s: st(*scores),
                            h: None,
                            baseline: bl,
                            grads: Some((st(*dscores), None)),
                            hist: (&hist, hist_len),
                            state: &state_buf,
                            scratch: Strided::new(&scratch, len),
                        },
                    )?);
                    scratches.push(scratch);
                }
            }
            Op::FusedBound {
                k,
                e,
                g,
                h,
                grads,
                baseline,
                ..
            } => {
                let len = GpuContext::matrix_bound_scratch_len(*k);
                let scratch = ctx.zeros("bound scratch", reps * len)?;
                d.extend(ctx.fused_bound_replicated(
                    &bounds,
                    *k,
                    *e,
                    &Operands {
                        s: st(*g),
                        h: Some(st(*h)),
                        baseline: baseline.map(|(v, dv)| (st(v), st(dv))),
                        grads: grads.map(|(dg, dh)| (st(dg), Some(st(dh)))),
                        hist: (&hist, hist_len),
                        state: &state_buf,
                        scratch: Strided::new(&scratch, len),
                    },
                )?);
                stats = Some(scratch.clone());
                scratches.push(scratch);
            }
            Op::GradNorm { max_norm } => {
                let n = param_len;
                let len = GpuContext::clip_scratch_len(n);
                let scratch = ctx.zeros("norm scratch", reps * len)?;
                let limits: Vec<f32> = specs
                    .iter()
                    .map(|s| s.max_grad_norm.unwrap_or(f32::MAX))
                    .collect();
                let limit = ctx.upload("max gradient norm", &limits)?;
                let mode = match max_norm {
                    Some(_) => ClipMode::MaxNorm,
                    None => ClipMode::NormOnly,
                };
                d.extend(ctx.grad_norm_replicated(
                    reps,
                    mode,
                    (st(GRADS), n),
                    Strided::new(&scratch, len),
                    Strided::new(&limit, 1),
                    Some(((&norms, hist_len), &state_buf)),
                )?);
                scratches.extend([scratch, limit]);
            }
            Op::GatherMarginal {
                k,
                rows: lp,
                out,
                scratch,
                ..
            } => {
                // The data's log p(y) as an n × 1 matrix (each replica's own, or shared),
                // gathered with the rows of the step's draw.
                let total = raw(*lp).len();
                let lp_rows = DeviceRows::whole(raw(*lp), total, 1)?;
                let n = total / blocks;
                let rows = ReplicaRows {
                    x: &lp_rows,
                    y: &lp_rows,
                    n,
                    stride: if inputs.each { n } else { 0 },
                };
                d.push(ctx.gather_batch_replicated(
                    draw_seeds,
                    *k,
                    &rows,
                    [st(*out), st(*scratch)],
                    &state_buf,
                )?)
            }
            Op::BarberAgakov {
                k,
                dy,
                dec,
                y,
                log_marginal,
                dout,
            } => d.push(ctx.barber_agakov_replicated(
                reps,
                (*k, *dy),
                [st(*dec), st(*y), st(*dout)],
                log_marginal.map(st),
                (&hist, hist_len),
                &state_buf,
            )?),
            Op::Proposals {
                b: rows_b,
                k,
                dx,
                dy,
                x,
                y,
                dec,
                rows,
                ..
            } => d.push(ctx.ms_proposals_replicated(
                draw_seeds,
                (*rows_b, *k, *dx, *dy),
                [st(*x), st(*y), st(*dec), st(*rows)],
                &state_buf,
            )?),
            Op::ProposalGrads {
                b: rows_b,
                k,
                dy,
                dec,
                dprop,
                ddec,
                ..
            } => d.push(ctx.ms_proposal_grads_replicated(
                draw_seeds,
                (*rows_b, *k, *dy),
                [st(*dec), st(*dprop), st(*ddec)],
                &state_buf,
            )?),
            Op::Multisample {
                b: rows_b,
                k,
                scores,
                dscores,
                ..
            } => d.push(ctx.ms_term_replicated(
                reps,
                (*rows_b, *k),
                [st(*scores), st(*dscores)],
                (&hist, hist_len),
                &state_buf,
            )?),
        }
    }
    let mut buffers: Vec<GpuBuffer> = buffers.into_iter().map(|(b, _)| b).collect();
    buffers.extend(scratches);
    // Keep every part of the data alive with the launches that read it.
    if let Some((xr, yr)) = data {
        buffers.extend(xr.parts()[1..].iter().cloned());
        buffers.extend(yr.parts()[1..].iter().cloned());
    }
    Ok(Compiled {
        buffers,
        state: state_buf,
        hist,
        norms,
        slots: hist_len,
        replicas: reps,
        dispatches: d,
        stats,
    })
}

impl GpuTrainer<'_> {
    /// Takes `steps` steps (in submissions of at most `chunk`); returns the bound's value at
    /// each, or where the run diverged ([`GpuError::Diverged`]). A solo trainer's; a
    /// replicated one trains with [`GpuTrainer::train_replicas`].
    pub fn train(&mut self, steps: u32) -> Result<Vec<f32>, GpuError> {
        if self.replicas() != 1 {
            return Err(GpuError::SoloOnly {
                what: "train",
                replicas: self.replicas(),
            });
        }
        if let Some(d) = &self.records[0].diverged {
            return Err(GpuError::Diverged(d.clone()));
        }
        let mut done = self.train_replicas(steps)?;
        let solo = done.swap_remove(0);
        self.grad_norms.extend(solo.grad_norms);
        match solo.diverged {
            Some(d) => Err(GpuError::Diverged(d)),
            None => Ok(solo.values),
        }
    }

    /// The bound's value with the current critic on each evaluation batch (the same batches
    /// every time), drawn from the evaluation data given at construction.
    pub fn evaluate(&mut self) -> Result<Vec<f32>, GpuError> {
        let e = self.eval.as_ref().ok_or(SpecError::NoEvaluationData)?;
        e.evaluate()
    }

    /// The current parameters (flat, in the spec's network order); for a replicated trainer,
    /// every replica's in replica order ([`GpuTrainer::replica_parameters`] reads one).
    pub fn parameters(&self) -> Result<Vec<f32>, GpuError> {
        self.ctx.read(&self.train.buffers[PARAMS])
    }

    /// The global gradient norm at every step trained by [`GpuTrainer::train`] since the last
    /// call, in order ([`GpuTrainer::train_replicas`] returns each replica's with its values).
    pub fn take_grad_norms(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.grad_norms)
    }

    /// Steps the run has taken: every replica that still trains has taken these; a stopped
    /// replica's own count is [`GpuTrainer::replica_step`].
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The adapter, for reports.
    pub fn device_name(&self) -> String {
        self.ctx.adapter().to_string()
    }
}
