//! The step-program interpreter both CPU modes run: a program's buffers on the host, the
//! state a step carries (MINE's moving average, the training objective, the gradient's
//! norm), and one match over the ops that does each op's buffer bookkeeping. The f64
//! reference ([`crate::cpu::Workspace`]) and the fast f32 mode
//! ([`crate::cpu::fast::FastWorkspace`]) differ only in the arithmetic of some ops, which
//! each supplies as [`Kernels`]; the ops whose host code is the same in both (the marginal
//! gather, Barber–Agakov's terms, the multisample proposals and term, each O(K·d)) run here.

use super::ops as reference;
use crate::math::bounds::{Bound, MatrixBoundEval};
use crate::math::clip::max_norm_factor;
use crate::math::linalg::{ColumnSumSpec, GemmSpec};
use crate::math::program::{BufId, DrawLayout, Op, Program, GRADS, PARAMS, X, Y};
use crate::math::sampling as sample;
use crate::math::spec::{Batches, Source};

/// What a bound op returns besides the gradients it writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundValue {
    /// The bound's value on the batch (nats).
    pub value: f64,
    /// The training objective (maximised).
    pub objective: f64,
    /// MINE's updated log m_t; NaN for the other bounds.
    pub log_ema: f64,
}

impl BoundValue {
    /// The f64 reference's evaluation, its gradients stored in f32 into `ds` and `db` (as
    /// many as they hold).
    pub fn stored(eval: MatrixBoundEval, ds: &mut [f32], db: Option<&mut [f32]>) -> Self {
        for (d, v) in ds.iter_mut().zip(&eval.ds) {
            *d = *v as f32;
        }
        if let Some(db) = db {
            for (d, v) in db.iter_mut().zip(&eval.db) {
                *d = *v as f32;
            }
        }
        Self {
            value: eval.value,
            objective: eval.objective,
            log_ema: eval.log_ema,
        }
    }
}

/// TUBA's and α-InfoNCE's learned baseline b(y_j) for a fused bound, and where d(−L)/db goes.
pub struct FusedBaseline<'a> {
    /// b(y_j), K values.
    pub values: &'a [f32],
    /// d(−L)/db (K values), written when present (a training step); an evaluation leaves
    /// it out and skips the column statistics it needs.
    pub grad: Option<&'a mut [f32]>,
}

/// The arithmetic of the ops whose CPU modes compute differently. Each writes its outputs
/// in place, with the semantics of the op of the same name ([`Op`]).
pub trait Kernels {
    /// [`Op::Draw`]: the step's batch, (first, second) buffers of `out` (the second empty
    /// for the shuffled layout); `x` and `y` are the X and Y buffers with their widths.
    fn draw(
        &self,
        at: (u64, u32, usize),
        source: Source,
        out: DrawLayout,
        x: (&[f32], usize),
        y: (&[f32], usize),
    ) -> (Vec<f32>, Vec<f32>);

    /// [`Op::Gemm`]: C = epilogue(op(A)·op(B)).
    fn gemm(
        &self,
        spec: &GemmSpec,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        bias: Option<&[f32]>,
        aux: Option<&[f32]>,
    );

    /// [`Op::ColumnSums`].
    fn column_sums(&self, spec: &ColumnSumSpec, src: &[f32], out: &mut [f32]);

    /// [`Op::PairExpand`].
    fn pair_expand(&self, k: usize, width: usize, u: &[f32], v: &[f32], out: &mut [f32]);

    /// [`Op::PairReduce`].
    fn pair_reduce(&self, rows: bool, k: usize, width: usize, src: &[f32], out: &mut [f32]);

    /// [`Op::Bound`]: `bound` on the K×K `scores` (or, `shuffled`, K joint then K shuffled
    /// scores); writes d(−L)/dS to `ds` and, with a baseline, d(−L)/db to `db`.
    #[allow(clippy::too_many_arguments)]
    fn bound(
        &self,
        bound: Bound,
        k: usize,
        shuffled: bool,
        scores: &[f32],
        baseline: Option<&[f32]>,
        prev_log_ema: Option<f64>,
        ds: &mut [f32],
        db: Option<&mut [f32]>,
    ) -> BoundValue;

    /// [`Op::FusedBound`]: `bound` on S = G·Hᵀ (G and H K×e); with `grads` d(−L)/dG and
    /// d(−L)/dH, with a baseline's gradient d(−L)/db.
    #[allow(clippy::too_many_arguments)]
    fn fused_bound(
        &self,
        bound: Bound,
        k: usize,
        e: usize,
        g: &[f32],
        h: &[f32],
        grads: Option<(&mut [f32], &mut [f32])>,
        baseline: Option<FusedBaseline<'_>>,
        prev_log_ema: Option<f64>,
    ) -> BoundValue;

    /// ‖g‖₂ ([`Op::GradNorm`]).
    fn l2_norm(&self, g: &[f32]) -> f64;

    /// g ← g · factor (the max-norm clip).
    fn scale(&self, g: &mut [f32], factor: f64);
}

/// A program's buffers on the host, and the state a step carries from op to op and from
/// step to step.
pub struct Host {
    /// Every buffer of the program, indexed by [`BufId`] ([`PARAMS`] stays with the caller).
    pub buffers: Vec<Vec<f32>>,
    /// MINE's log m_t, as the device keeps it in its state buffer.
    pub log_ema: Option<f64>,
    /// The training objective at the last run.
    pub objective: f64,
    /// The gradient's L2 norm at the last training run, before any clip (NaN before one).
    pub grad_norm: f64,
    /// Columns of x and y (the draws' widths).
    dims: (usize, usize),
}

impl Host {
    /// Buffers for `program` over `batches` (X and Y copied in, the data's log p(y) where
    /// the marginal gather reads it), with the columns `dims` = (dx, dy). A buffer that
    /// `keep` refuses stays empty (no op the caller runs touches it).
    pub fn new(
        program: &Program,
        batches: &Batches<'_>,
        dims: (usize, usize),
        keep: impl Fn(BufId) -> bool,
    ) -> Self {
        let (x, y) = batches.inputs();
        let mut buffers: Vec<Vec<f32>> = program
            .buffers
            .iter()
            .enumerate()
            .map(|(id, decl)| match id {
                X => x.to_vec(),
                Y => y.to_vec(),
                PARAMS => Vec::new(),
                _ if keep(id) => vec![0.0; decl.len],
                _ => Vec::new(),
            })
            .collect();
        for op in &program.ops {
            if let (Op::GatherMarginal { rows, .. }, Some(lp)) = (op, batches.log_marginal()) {
                buffers[*rows] = lp.to_vec();
            }
        }
        Self {
            buffers,
            log_ema: None,
            objective: f64::NAN,
            grad_norm: f64::NAN,
            dims,
        }
    }

    /// Starts step `step`: the device starts MINE's moving average afresh at step 0.
    pub fn begin(&mut self, step: u32) {
        if step == 0 {
            self.log_ema = None;
        }
    }

    /// Runs `op` of step `step` with `params`, its arithmetic from `kernels`; a bound op
    /// sets `value` (the multisample term adds to it).
    pub fn run_op<K: Kernels>(
        &mut self,
        kernels: &K,
        op: &Op,
        params: &[f32],
        step: u32,
        value: &mut f64,
    ) {
        let (dx, dy) = self.dims;
        match *op {
            Op::Draw {
                seed,
                k,
                source,
                out,
            } => {
                let (x, y) = ((&self.buffers[X][..], dx), (&self.buffers[Y][..], dy));
                let (first, second) = kernels.draw((seed, step, k), source, out, x, y);
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
                kernels.gemm(&spec, get(a), get(b), &mut out, bias.map(get), aux.map(get));
                self.buffers[c] = out;
            }
            Op::ColumnSums { spec, src, out } => {
                let mut o = std::mem::take(&mut self.buffers[out]);
                kernels.column_sums(&spec, &self.buffers[src], &mut o);
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
                kernels.pair_expand(k, width, &self.buffers[u], &self.buffers[v], &mut o);
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
                kernels.pair_reduce(rows, k, width, &self.buffers[src], &mut o);
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
                let out = kernels.bound(
                    bound,
                    k,
                    shuffled,
                    s,
                    b,
                    self.log_ema,
                    &mut ds,
                    db.as_deref_mut(),
                );
                self.buffers[dscores] = ds;
                if let (Some((_, d)), Some(db)) = (baseline, db) {
                    self.buffers[d] = db;
                }
                self.finish_bound(bound, out, value);
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
                let bl = baseline.map(|(v, _)| FusedBaseline {
                    values: &self.buffers[v],
                    grad: db.as_deref_mut(),
                });
                let out = kernels.fused_bound(
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
                self.finish_bound(bound, out, value);
            }
            Op::GradNorm { max_norm } => {
                let g = &mut self.buffers[GRADS];
                self.grad_norm = kernels.l2_norm(g);
                if let Some(m) = max_norm {
                    let factor = max_norm_factor(self.grad_norm, f64::from(m));
                    if factor != 1.0 {
                        kernels.scale(g, factor);
                    }
                }
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
            // The decoder's terms cost O(K·dy): the reference's in both modes.
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
                // Barber–Agakov's op set the value just before.
                *value += term;
                self.objective += term;
            }
        }
    }

    /// A bound op's value and objective, and MINE's moving average carried on.
    fn finish_bound(&mut self, bound: Bound, out: BoundValue, value: &mut f64) {
        if matches!(bound, Bound::Mine { .. }) {
            self.log_ema = Some(out.log_ema);
        }
        *value = out.value;
        self.objective = out.objective;
    }
}
