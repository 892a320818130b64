//! The training loop on the device: data uploaded once, every step (draw, forward, bound,
//! backward, Adam) recorded into one submission per chunk, values read back once a chunk.

use super::batch_eval::BatchEvaluator;
use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::dispatch::Dispatch;
use super::kernels::{state, ClipMode, FusedBoundBuffers, MatrixBoundBuffers, PairAxis};
use super::GpuError;
use crate::math::program::{DrawLayout, Op, Program, GRADS, PARAMS, X, Y};
use crate::math::spec::Source;
use crate::math::spec::{Batches, Divergence, SpecError, TrainData, TrainSpec};

/// A compiled program: its buffers, state, value history and launches.
pub(super) struct Compiled {
    pub(super) buffers: Vec<GpuBuffer>,
    pub(super) state: GpuBuffer,
    pub(super) hist: GpuBuffer,
    /// The gradient's norm per step, slot step % chunk (training programs).
    pub(super) norms: GpuBuffer,
    pub(super) dispatches: Vec<Dispatch>,
    /// The fused bound's scratch (its per-row statistics), when the program has one.
    pub(super) stats: Option<GpuBuffer>,
}

/// Trains a critic on one device. Holds its buffers and the prepared launches of one step,
/// and of one evaluation batch when evaluation data were given.
pub struct GpuTrainer<'c> {
    ctx: &'c GpuContext,
    train: Compiled,
    eval: Option<BatchEvaluator<'c>>,
    step: u64,
    grad_norms: Vec<f32>,
}

impl<'c> GpuTrainer<'c> {
    /// Uploads the data and the initial critic, and prepares one step's launches, and those of
    /// an evaluation over `eval = (data, batches)`. `chunk` is the most steps one submission
    /// records.
    pub fn new<'a>(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        eval: Option<(TrainData<'_>, u32)>,
        chunk: u32,
    ) -> Result<Self, GpuError> {
        let batches = batches.into();
        spec.check_batches(&batches)?;
        if chunk == 0 {
            return Err(SpecError::Zero {
                what: "the steps per submission (chunk)",
            }
            .into());
        }
        let params = ctx.upload("parameters", &spec.init())?;
        let program = spec.program(batches.source(), spec.seed, true);
        let mut train = compile(
            ctx,
            spec,
            &program,
            &params,
            (
                batches.inputs().0,
                batches.inputs().1,
                batches.log_marginal(),
            ),
            chunk as usize,
        )?;
        let np = params.len();
        let m = ctx.zeros("adam m", np)?;
        let v = ctx.zeros("adam v", np)?;
        let grads = train.buffers[GRADS].clone();
        train
            .dispatches
            .push(ctx.adam(&spec.adam, &params, &grads, &m, &v, &train.state)?);
        train.dispatches.push(ctx.tick(&train.state)?);
        train.buffers.extend([m, v]);
        let eval = match eval {
            Some((e, batches)) => Some(BatchEvaluator::new(ctx, spec, &params, e, batches)?),
            None => None,
        };
        Ok(Self {
            ctx,
            train,
            eval,
            step: 0,
            grad_norms: Vec::new(),
        })
    }

    /// The context this trainer runs on.
    pub fn context(&self) -> &GpuContext {
        self.ctx
    }

    /// Kernel launches recorded per training step.
    pub fn dispatches_per_step(&self) -> usize {
        self.train.dispatches.len()
    }

    /// The device buffer of the critic's parameters (updated in place by every step).
    pub fn parameter_buffer(&self) -> &GpuBuffer {
        &self.train.buffers[PARAMS]
    }
}

/// Allocates a program's buffers (sharing `params`, uploading the data) and prepares its launches.
pub(super) fn compile(
    ctx: &GpuContext,
    spec: &TrainSpec,
    program: &Program,
    params: &GpuBuffer,
    (x, y, log_marginal): (&[f32], &[f32], Option<&[f32]>),
    hist_len: usize,
) -> Result<Compiled, GpuError> {
    // A software adapter that cannot run a bound's fused column passes runs it materialised.
    let program = &program
        .clone()
        .materialised(|bound, k, e| !ctx.fused_bound_runs(bound, k, e));
    // Data rows go up split over as many bindings as the adapter needs (the gathers read
    // every part); the synthetic source keeps its ρ schedule in X.
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
        Some(ctx.upload_rows((x, spec.dx), (y, spec.dy))?)
    } else {
        None
    };
    let mut buffers = Vec::with_capacity(program.buffers.len());
    // The buffer of the data's per-row log p(y), read by its gather.
    let lp_rows = program.ops.iter().find_map(|op| match op {
        Op::GatherMarginal { rows, .. } => Some(*rows),
        _ => None,
    });
    for (id, decl) in program.buffers.iter().enumerate() {
        if Some(id) == lp_rows {
            let lp = log_marginal.ok_or(SpecError::MissingMarginal)?;
            buffers.push(ctx.upload(decl.name, lp)?);
            continue;
        }
        buffers.push(match (id, &data) {
            (PARAMS, _) => params.clone(),
            (X, Some((xr, _))) => xr.parts()[0].clone(),
            (Y, Some((_, yr))) => yr.parts()[0].clone(),
            (X, None) => ctx.upload(decl.name, x)?,
            (Y, None) => ctx.upload(decl.name, y)?,
            _ => ctx.zeros(decl.name, decl.len)?,
        });
    }
    let state_buf = ctx.upload("state", &state::initial(0))?;
    let hist = ctx.filled("values", hist_len, f32::NAN)?;
    let norms = ctx.filled("gradient norms", hist_len, f32::NAN)?;
    let b = &buffers;
    let dx = spec.dx;
    let mut scratches = Vec::new();
    let mut stats = None;
    let mut d = Vec::with_capacity(program.ops.len());
    for op in &program.ops {
        match op {
            Op::Draw {
                seed,
                k,
                source,
                out,
            } => {
                let (seed, k) = (*seed, *k);
                d.push(match (*source, *out, &data) {
                    (Source::Data { .. }, DrawLayout::Shuffled(o), Some((xr, yr))) => {
                        ctx.gather_shuffled_rows(seed, k, xr, yr, &b[o], &state_buf)?
                    }
                    (Source::Data { .. }, DrawLayout::Split(xb, yb), Some((xr, yr))) => {
                        ctx.gather_batch_rows(seed, k, xr, yr, &b[xb], &b[yb], &state_buf)?
                    }
                    (Source::Data { .. }, _, None) => unreachable!("data programs upload rows"),
                    (Source::Gaussian { transform, .. }, DrawLayout::Shuffled(o), _) => ctx
                        .sample_gaussian_shuffled(
                            seed, k, dx, transform, &b[X], &b[o], &state_buf,
                        )?,
                    (Source::Gaussian { transform, .. }, DrawLayout::Split(xb, yb), _) => ctx
                        .sample_gaussian_batch(
                            seed, k, dx, transform, &b[X], &b[xb], &b[yb], &state_buf,
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
            } => d.extend(ctx.gemm_launches(
                spec,
                [&b[*a], &b[*bb], &b[*c]],
                bias.map(|i| &b[i]),
                aux.map(|i| &b[i]),
            )?),
            Op::ColumnSums { spec, src, out } => {
                d.extend(ctx.column_sum_launches(spec, &b[*src], &b[*out])?)
            }
            Op::PairExpand {
                k,
                width,
                u,
                v,
                out,
            } => d.push(ctx.pair_expand(*k, *width, &b[*u], &b[*v], &b[*out])?),
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
                d.push(ctx.pair_reduce(axis, *k, *width, &b[*src], &b[*out])?)
            }
            Op::Bound {
                bound,
                k,
                shuffled,
                scores,
                dscores,
                baseline,
            } => {
                let bl = baseline.map(|(v, dv)| (&b[v], &b[dv]));
                if *shuffled {
                    d.push(ctx.shuffled_bound(
                        *bound,
                        *k,
                        &b[*scores],
                        &b[*dscores],
                        &hist,
                        &state_buf,
                        bl,
                    )?);
                } else {
                    let scratch =
                        ctx.zeros("bound scratch", GpuContext::matrix_bound_scratch_len(*k))?;
                    d.extend(ctx.matrix_bound(
                        *bound,
                        *k,
                        &MatrixBoundBuffers {
                            s: &b[*scores],
                            baseline: bl,
                            ds: &b[*dscores],
                            hist: &hist,
                            state: &state_buf,
                            scratch: &scratch,
                        },
                    )?);
                    scratches.push(scratch);
                }
            }
            Op::GatherMarginal {
                seed,
                k,
                rows,
                out,
                scratch,
            } => {
                let n = b[*rows].len();
                let lp = (&b[*rows], 1);
                d.push(ctx.gather_batch(
                    *seed,
                    n,
                    *k,
                    lp,
                    lp,
                    &b[*out],
                    &b[*scratch],
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
            } => d.push(ctx.barber_agakov(
                *k,
                *dy,
                &b[*dec],
                &b[*y],
                log_marginal.map(|i| &b[i]),
                &b[*dout],
                &hist,
                &state_buf,
            )?),
            Op::Proposals {
                seed,
                b: rows_b,
                k,
                dx,
                dy,
                x,
                y,
                dec,
                rows,
            } => d.push(ctx.ms_proposals(
                *seed,
                (*rows_b, *k, *dx, *dy),
                &b[*x],
                &b[*y],
                &b[*dec],
                &b[*rows],
                &state_buf,
            )?),
            Op::ProposalGrads {
                seed,
                b: rows_b,
                k,
                dy,
                dec,
                dprop,
                ddec,
            } => d.push(ctx.ms_proposal_grads(
                *seed,
                (*rows_b, *k, *dy),
                &b[*dec],
                &b[*dprop],
                &b[*ddec],
                &state_buf,
            )?),
            Op::Multisample {
                b: rows_b,
                k,
                scores,
                dscores,
                ..
            } => {
                d.push(ctx.ms_term((*rows_b, *k), &b[*scores], &b[*dscores], &hist, &state_buf)?)
            }
            Op::FusedBound {
                bound,
                k,
                e,
                g,
                h,
                grads,
                baseline,
            } => {
                let (k, e) = (*k, *e);
                let scratch =
                    ctx.zeros("bound scratch", GpuContext::matrix_bound_scratch_len(k))?;
                let bl = baseline.map(|(v, dv)| (&b[v], &b[dv]));
                d.extend(ctx.fused_bound(
                    *bound,
                    k,
                    e,
                    &FusedBoundBuffers {
                        g: &b[*g],
                        h: &b[*h],
                        baseline: bl,
                        grads: grads.map(|(dg, dh)| (&b[dg], &b[dh])),
                        hist: &hist,
                        state: &state_buf,
                        scratch: &scratch,
                    },
                )?);
                stats = Some(scratch.clone());
                scratches.push(scratch);
            }
            Op::GradNorm { max_norm } => {
                let grads = &b[GRADS];
                let scratch =
                    ctx.zeros("norm scratch", GpuContext::clip_scratch_len(grads.len()))?;
                let limit = ctx.upload("max gradient norm", &[max_norm.unwrap_or(f32::MAX)])?;
                let mode = match max_norm {
                    Some(_) => ClipMode::MaxNorm,
                    None => ClipMode::NormOnly,
                };
                d.extend(ctx.grad_norm(
                    mode,
                    grads,
                    &scratch,
                    &limit,
                    Some((&norms, &state_buf)),
                )?);
                scratches.extend([scratch, limit]);
            }
        }
    }
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
        dispatches: d,
        stats,
    })
}

impl GpuTrainer<'_> {
    /// Takes `steps` steps (in submissions of at most `chunk`); returns the bound's value at
    /// each, or where the run diverged ([`GpuError::Diverged`]).
    pub fn train(&mut self, steps: u32) -> Result<Vec<f32>, GpuError> {
        let t = &self.train;
        let chunk = t.hist.len() as u32;
        let mut values = Vec::with_capacity(steps as usize);
        let mut left = steps;
        while left > 0 {
            let now = left.min(chunk);
            self.ctx.run(&t.dispatches, now)?;
            let st: Vec<u32> = self.ctx.read(&t.state)?;
            let hist: Vec<f32> = self.ctx.read(&t.hist)?;
            let norms: Vec<f32> = self.ctx.read(&t.norms)?;
            // Step s wrote its norm to slot s % chunk; a diverged chunk keeps those before it.
            let good = if st[state::FLAGS] != 0 {
                u64::from(st[state::FIRST_BAD_STEP]).clamp(self.step, self.step + u64::from(now))
            } else {
                self.step + u64::from(now)
            };
            for s in self.step..good {
                self.grad_norms.push(norms[(s % u64::from(chunk)) as usize]);
            }
            if st[state::FLAGS] != 0 {
                return Err(GpuError::Diverged(Divergence {
                    step: u64::from(st[state::FIRST_BAD_STEP]),
                    value: st[state::FLAGS] & state::NONFINITE_VALUE != 0,
                }));
            }
            // Step s wrote its value to slot s % chunk.
            for s in self.step..self.step + u64::from(now) {
                values.push(hist[(s % u64::from(chunk)) as usize]);
            }
            self.step += u64::from(now);
            left -= now;
        }
        Ok(values)
    }

    /// The bound's value with the current critic on each evaluation batch (the same batches
    /// every time), drawn from the evaluation data given at construction.
    pub fn evaluate(&mut self) -> Result<Vec<f32>, GpuError> {
        let e = self.eval.as_ref().ok_or(SpecError::NoEvaluationData)?;
        e.evaluate()
    }

    /// The current parameters (flat, in the spec's network order).
    pub fn parameters(&self) -> Result<Vec<f32>, GpuError> {
        self.ctx.read(&self.train.buffers[PARAMS])
    }

    /// The global gradient norm at every step trained since the last call, in order.
    pub fn take_grad_norms(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.grad_norms)
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The adapter, for reports.
    pub fn device_name(&self) -> String {
        self.ctx.adapter().to_string()
    }
}
