//! The fast interpreter: a program's buffers on the host, and its ops run in f32 over the
//! pool's threads. Op for op what [`crate::cpu::Workspace`] runs; only the arithmetic differs.

use std::sync::Arc;

use super::draw::draw;
use super::ops;
use super::pair_net;
use super::plan::{plan, touched, Step};
use super::pool::Pool;
use crate::cpu::ops as reference;
use crate::math::program::{DrawLayout, Op, Program, GRADS, PARAMS, X, Y};
use crate::math::sampling as sample;
use crate::math::spec::{Batches, TrainSpec};

/// A program's buffers, and the interpreter that runs it on a [`Pool`].
pub struct FastWorkspace {
    spec: TrainSpec,
    program: Program,
    /// The program's ops in order, the pair network's fused.
    steps: Vec<Step>,
    buffers: Vec<Vec<f32>>,
    /// MINE's log m_t, carried from step to step as the device keeps it.
    log_ema: Option<f64>,
    objective: f64,
    grad_norm: f64,
    pool: Arc<Pool>,
    /// The fused pair network's working space, kept from step to step.
    pair_scratch: pair_net::Scratch,
}

impl FastWorkspace {
    /// Buffers for `spec`'s program over `batches` (copied in), drawing with `draw_seed`, run
    /// on `pool`.
    pub fn new<'a>(
        spec: &TrainSpec,
        batches: impl Into<Batches<'a>>,
        draw_seed: u64,
        training: bool,
        pool: Arc<Pool>,
    ) -> Self {
        let batches = batches.into();
        // S is materialised only for the bounds the blockwise fused path does not take.
        let program = spec
            .program(batches.source(), draw_seed, training)
            .materialised(|bound, _, _| !ops::fused_supported(bound));
        let (x, y) = batches.inputs();
        let steps = plan(&program);
        // Buffers no step touches stay empty: the fused pair network's K²×w activations
        // would be gigabytes at large K.
        let used = touched(&program, &steps);
        let mut buffers: Vec<Vec<f32>> = program
            .buffers
            .iter()
            .enumerate()
            .map(|(id, decl)| match id {
                X => x.to_vec(),
                Y => y.to_vec(),
                PARAMS => Vec::new(),
                _ if used[id] => vec![0.0; decl.len],
                _ => Vec::new(),
            })
            .collect();
        for op in &program.ops {
            if let (Op::GatherMarginal { rows, .. }, Some(lp)) = (op, batches.log_marginal()) {
                buffers[*rows] = lp.to_vec();
            }
        }
        Self {
            spec: spec.clone(),
            steps,
            program,
            buffers,
            log_ema: None,
            objective: f64::NAN,
            grad_norm: f64::NAN,
            pool,
            pair_scratch: pair_net::Scratch::default(),
        }
    }

    /// d(−objective)/dθ after [`FastWorkspace::run`].
    pub fn grads(&self) -> &[f32] {
        &self.buffers[GRADS]
    }

    /// Buffer `id` of the program (for the parity tests).
    pub fn buffer(&self, id: usize) -> &[f32] {
        &self.buffers[id]
    }

    /// The program run.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The gradient's global L2 norm at the last run of a training program, before any clip
    /// (NaN before one).
    pub fn grad_norm(&self) -> f64 {
        self.grad_norm
    }

    /// The spec's training objective on step `step`'s batch.
    pub fn objective(&mut self, params: &[f32], step: u32) -> f64 {
        self.run(params, step);
        self.objective
    }

    /// Whether the plan fused the concat critic's pair network (for the parity tests).
    pub fn fuses_pairs(&self) -> bool {
        self.steps.iter().any(|s| !matches!(s, Step::Op(_)))
    }

    /// Runs the program for step `step` with `params`; returns the bound's value.
    pub fn run(&mut self, params: &[f32], step: u32) -> f64 {
        let pool = Arc::clone(&self.pool);
        let mut value = f64::NAN;
        if step == 0 {
            self.log_ema = None;
        }
        let steps = std::mem::take(&mut self.steps);
        let ops = std::mem::take(&mut self.program.ops);
        for s in &steps {
            match s {
                Step::Op(i) => self.run_op(&ops[*i], &pool, params, step, &mut value),
                Step::PairForward { net, u, v, scores } => {
                    let mut out = std::mem::take(&mut self.buffers[*scores]);
                    let (u, v) = (&self.buffers[*u], &self.buffers[*v]);
                    pair_net::forward(&pool, net, params, u, v, &mut out);
                    self.buffers[*scores] = out;
                }
                Step::PairInfoNce {
                    net,
                    slots,
                    u,
                    v,
                    du,
                    dv,
                } => {
                    let mut grads = std::mem::take(&mut self.buffers[GRADS]);
                    let mut gu = std::mem::take(&mut self.buffers[*du]);
                    let mut gv = std::mem::take(&mut self.buffers[*dv]);
                    value = pair_net::info_nce(
                        &pool,
                        net,
                        slots,
                        params,
                        (&self.buffers[*u], &self.buffers[*v]),
                        &mut grads,
                        (&mut gu, &mut gv),
                        &mut self.pair_scratch,
                    );
                    self.objective = value;
                    self.buffers[GRADS] = grads;
                    self.buffers[*du] = gu;
                    self.buffers[*dv] = gv;
                }
                Step::PairBackward {
                    net,
                    slots,
                    u,
                    v,
                    dscores,
                    du,
                    dv,
                } => {
                    let mut grads = std::mem::take(&mut self.buffers[GRADS]);
                    let mut gu = std::mem::take(&mut self.buffers[*du]);
                    let mut gv = std::mem::take(&mut self.buffers[*dv]);
                    pair_net::backward(
                        &pool,
                        net,
                        slots,
                        params,
                        (&self.buffers[*u], &self.buffers[*v]),
                        &self.buffers[*dscores],
                        &mut grads,
                        (&mut gu, &mut gv),
                        &mut self.pair_scratch,
                    );
                    self.buffers[GRADS] = grads;
                    self.buffers[*du] = gu;
                    self.buffers[*dv] = gv;
                }
            }
        }
        self.program.ops = ops;
        self.steps = steps;
        value
    }

    /// Runs one op of the program.
    fn run_op(&mut self, op: &Op, pool: &Pool, params: &[f32], step: u32, value: &mut f64) {
        let (dx, dy) = (self.spec.dx, self.spec.dy);
        match *op {
            Op::Draw {
                seed,
                k,
                source,
                out,
            } => {
                let (first, second) = draw(
                    pool,
                    (seed, step, k),
                    source,
                    out,
                    (&self.buffers[X], dx),
                    (&self.buffers[Y], dy),
                );
                match out {
                    DrawLayout::Shuffled(o) => self.buffers[o] = first,
                    DrawLayout::Split(xb, yb) => {
                        self.buffers[xb] = first;
                        self.buffers[yb] = second;
                    }
                }
            }
            Op::Gemm {
                spec,
                a,
                b,
                c,
                bias,
                aux,
            } => {
                let mut out = std::mem::take(&mut self.buffers[c]);
                let get = |i: usize| -> &[f32] {
                    if i == PARAMS {
                        params
                    } else {
                        &self.buffers[i]
                    }
                };
                ops::gemm(
                    pool,
                    &spec,
                    get(a),
                    get(b),
                    &mut out,
                    bias.map(get),
                    aux.map(get),
                );
                self.buffers[c] = out;
            }
            Op::ColumnSums { spec, src, out } => {
                let mut o = std::mem::take(&mut self.buffers[out]);
                ops::column_sums(pool, &spec, &self.buffers[src], &mut o);
                self.buffers[out] = o;
            }
            Op::PairExpand {
                k,
                width,
                u,
                v,
                out,
            } => {
                let mut o = std::mem::take(&mut self.buffers[out]);
                ops::pair_expand(pool, k, width, &self.buffers[u], &self.buffers[v], &mut o);
                self.buffers[out] = o;
            }
            Op::PairReduce {
                rows,
                k,
                width,
                src,
                out,
            } => {
                let mut o = std::mem::take(&mut self.buffers[out]);
                ops::pair_reduce(pool, rows, k, width, &self.buffers[src], &mut o);
                self.buffers[out] = o;
            }
            Op::Bound {
                bound,
                k,
                shuffled,
                scores,
                dscores,
                baseline,
            } => {
                let mut ds = std::mem::take(&mut self.buffers[dscores]);
                let mut db = baseline.map(|(_, d)| std::mem::take(&mut self.buffers[d]));
                let b = baseline.map(|(v, _)| &self.buffers[v][..]);
                let s = &self.buffers[scores];
                let out = if shuffled {
                    ops::shuffled_bound(bound, s, b, self.log_ema, &mut ds, db.as_deref_mut())
                } else {
                    ops::matrix_bound(
                        pool,
                        bound,
                        k,
                        s,
                        b,
                        self.log_ema,
                        &mut ds,
                        db.as_deref_mut(),
                    )
                };
                if matches!(bound, crate::math::bounds::Bound::Mine { .. }) {
                    self.log_ema = Some(out.log_ema);
                }
                self.buffers[dscores] = ds;
                if let (Some((_, d)), Some(db)) = (baseline, db) {
                    self.buffers[d] = db;
                }
                *value = out.value;
                self.objective = out.objective;
            }
            Op::GatherMarginal {
                seed,
                k,
                rows,
                out,
                scratch,
            } => {
                let lp = (&self.buffers[rows][..], 1);
                let (a, b) = sample::gather_batch(seed, step, k, lp, lp);
                self.buffers[out] = a;
                self.buffers[scratch] = b;
            }
            // The decoder's terms cost O(K·dy): the reference's, stored in f32.
            Op::BarberAgakov {
                k,
                dy,
                dec,
                y,
                log_marginal,
                dout,
            } => {
                let mut o = std::mem::take(&mut self.buffers[dout]);
                let lp = log_marginal.map(|b| &self.buffers[b][..]);
                *value = reference::barber_agakov(
                    k,
                    dy,
                    &self.buffers[dec],
                    &self.buffers[y],
                    lp,
                    &mut o,
                );
                self.buffers[dout] = o;
                self.objective = *value;
            }
            Op::Proposals {
                seed,
                b,
                k,
                dx,
                dy,
                x,
                y,
                dec,
                rows,
            } => {
                self.buffers[rows] = sample::proposals(
                    seed,
                    step,
                    b,
                    k,
                    (&self.buffers[x], dx),
                    (&self.buffers[y], dy),
                    &self.buffers[dec],
                );
            }
            Op::ProposalGrads {
                seed,
                b,
                k,
                dy,
                dec,
                dprop,
                ddec,
            } => {
                let mut o = std::mem::take(&mut self.buffers[ddec]);
                let (d, g) = (&self.buffers[dec], &self.buffers[dprop]);
                sample::proposal_grads(seed, step, (b, k, dy), d, g, &mut o);
                self.buffers[ddec] = o;
            }
            Op::Multisample {
                b,
                k,
                scores,
                dscores,
            } => {
                let mut o = std::mem::take(&mut self.buffers[dscores]);
                let term = reference::multisample(b, k, &self.buffers[scores], &mut o);
                self.buffers[dscores] = o;
                *value += term;
                self.objective += term;
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
                let mut dgh = grads.map(|(dg, dh)| {
                    let a = std::mem::take(&mut self.buffers[dg]);
                    let b = std::mem::take(&mut self.buffers[dh]);
                    (a, b)
                });
                // The baseline's gradient only where a step trains it: an evaluation skips
                // the column statistics it costs.
                let mut db = baseline
                    .filter(|_| grads.is_some())
                    .map(|(_, d)| std::mem::take(&mut self.buffers[d]));
                let bl = baseline.map(|(v, _)| ops::FusedBaseline {
                    values: &self.buffers[v],
                    grad: db.as_deref_mut(),
                });
                let out = ops::fused_bound(
                    pool,
                    bound,
                    k,
                    e,
                    &self.buffers[g],
                    &self.buffers[h],
                    dgh.as_mut().map(|(a, b)| (&mut a[..], &mut b[..])),
                    bl,
                    self.log_ema,
                );
                if let (Some((dg, dh)), Some((a, b))) = (grads, dgh) {
                    self.buffers[dg] = a;
                    self.buffers[dh] = b;
                }
                if let (Some((_, d)), Some(db)) = (baseline, db) {
                    self.buffers[d] = db;
                }
                if matches!(bound, crate::math::bounds::Bound::Mine { .. }) {
                    self.log_ema = Some(out.log_ema);
                }
                *value = out.value;
                self.objective = out.objective;
            }
            Op::GradNorm { max_norm } => {
                let g = &mut self.buffers[GRADS];
                self.grad_norm = ops::sum_squares(pool, g).sqrt();
                if let Some(m) = max_norm {
                    let factor = crate::math::clip::max_norm_factor(self.grad_norm, f64::from(m));
                    if factor != 1.0 {
                        ops::scale(g, factor);
                    }
                }
            }
        }
    }
}
