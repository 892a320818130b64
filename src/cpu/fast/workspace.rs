//! The fast interpreter: a program's buffers on the host, and its ops run in f32 over the
//! pool's threads by the interpreter the reference runs too ([`crate::cpu::interp`]), with
//! the concat critic's pair network fused into steps of its own.

use std::sync::Arc;

use super::kernels::FastKernels;
use super::ops;
use super::pair_net;
use super::plan::{plan, touched, Step};
use super::pool::Pool;
use crate::cpu::interp::Host;
use crate::math::program::{Program, GRADS};
use crate::math::spec::{Batches, TrainSpec};

/// A program's buffers, and the interpreter that runs it on a [`Pool`].
pub struct FastWorkspace {
    program: Program,
    /// The program's ops in order, the pair network's fused.
    steps: Vec<Step>,
    host: Host,
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
        let steps = plan(&program);
        // Buffers no step touches stay empty: the fused pair network's K²×w activations
        // would be gigabytes at large K.
        let used = touched(&program, &steps);
        let host = Host::new(&program, &batches, (spec.dx, spec.dy), |id| used[id]);
        Self {
            steps,
            program,
            host,
            pool,
            pair_scratch: pair_net::Scratch::default(),
        }
    }

    /// d(−objective)/dθ after [`FastWorkspace::run`].
    pub fn grads(&self) -> &[f32] {
        &self.host.buffers[GRADS]
    }

    /// Buffer `id` of the program (for the parity tests).
    pub fn buffer(&self, id: usize) -> &[f32] {
        &self.host.buffers[id]
    }

    /// The program run.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The gradient's global L2 norm at the last run of a training program, before any clip
    /// (NaN before one).
    pub fn grad_norm(&self) -> f64 {
        self.host.grad_norm
    }

    /// The spec's training objective on step `step`'s batch.
    pub fn objective(&mut self, params: &[f32], step: u32) -> f64 {
        self.run(params, step);
        self.host.objective
    }

    /// Whether the plan fused the concat critic's pair network (for the parity tests).
    pub fn fuses_pairs(&self) -> bool {
        self.steps.iter().any(|s| !matches!(s, Step::Op(_)))
    }

    /// Runs the program for step `step` with `params`; returns the bound's value.
    pub fn run(&mut self, params: &[f32], step: u32) -> f64 {
        let pool: &Pool = &self.pool;
        let kernels = FastKernels(pool);
        let mut value = f64::NAN;
        self.host.begin(step);
        for s in &self.steps {
            let b = &mut self.host.buffers;
            match s {
                Step::Op(i) => {
                    let op = &self.program.ops[*i];
                    self.host.run_op(&kernels, op, params, step, &mut value);
                }
                Step::PairForward { net, u, v, scores } => {
                    let mut out = std::mem::take(&mut b[*scores]);
                    pair_net::forward(pool, net, params, &b[*u], &b[*v], &mut out);
                    b[*scores] = out;
                }
                Step::PairInfoNce {
                    net,
                    slots,
                    u,
                    v,
                    du,
                    dv,
                } => {
                    let mut grads = std::mem::take(&mut b[GRADS]);
                    let mut gu = std::mem::take(&mut b[*du]);
                    let mut gv = std::mem::take(&mut b[*dv]);
                    value = pair_net::info_nce(
                        pool,
                        net,
                        slots,
                        params,
                        (&b[*u], &b[*v]),
                        &mut grads,
                        (&mut gu, &mut gv),
                        &mut self.pair_scratch,
                    );
                    self.host.objective = value;
                    b[GRADS] = grads;
                    b[*du] = gu;
                    b[*dv] = gv;
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
                    let mut grads = std::mem::take(&mut b[GRADS]);
                    let mut gu = std::mem::take(&mut b[*du]);
                    let mut gv = std::mem::take(&mut b[*dv]);
                    pair_net::backward(
                        pool,
                        net,
                        slots,
                        params,
                        (&b[*u], &b[*v]),
                        &b[*dscores],
                        &mut grads,
                        (&mut gu, &mut gv),
                        &mut self.pair_scratch,
                    );
                    b[GRADS] = grads;
                    b[*du] = gu;
                    b[*dv] = gv;
                }
            }
        }
        value
    }
}
