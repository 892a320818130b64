//! The reference training loop: the device program, operation for operation, on the host.

use super::ops;
use crate::math::bounds::{matrix_eval, shuffled_eval, Bound};
use crate::math::program::{DrawLayout, Op, Program, GRADS, PARAMS, X, Y};
use crate::math::sampling as sample;
use crate::math::spec::Source;
use crate::math::spec::{eval_seed, Batches, Divergence, SpecError, TrainData, TrainSpec};

/// A program's buffers on the host, and the interpreter that runs it.
pub struct Workspace {
    spec: TrainSpec,
    program: Program,
    /// Every buffer of the program, indexed by `BufId` (PARAMS is kept by the owner).
    pub buffers: Vec<Vec<f32>>,
    /// MINE's log m_t, as the device keeps it in its state buffer.
    log_ema: Option<f64>,
    /// The objective at the last run.
    objective: f64,
    /// The gradient's L2 norm at the last training run (before any clip).
    grad_norm: f64,
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
        // The reference materialises S for every fused bound (f64 sums, stored f32 as the
        // unfused device program stores them).
        let program = spec
            .program(batches.source(), draw_seed, training)
            .materialised(|_, _, _| true);
        let (x, y) = batches.inputs();
        let mut buffers: Vec<Vec<f32>> = program
            .buffers
            .iter()
            .enumerate()
            .map(|(id, decl)| match id {
                X => x.to_vec(),
                Y => y.to_vec(),
                PARAMS => Vec::new(),
                _ => vec![0.0; decl.len],
            })
            .collect();
        // The data's per-row log p(y) sits in the buffer its gather reads.
        for op in &program.ops {
            if let (Op::GatherMarginal { rows, .. }, Some(lp)) = (op, batches.log_marginal()) {
                buffers[*rows] = lp.to_vec();
            }
        }
        Self {
            spec: spec.clone(),
            program,
            buffers,
            log_ema: None,
            objective: f64::NAN,
            grad_norm: f64::NAN,
        }
    }

    /// d(−objective)/dθ after [`Workspace::run`].
    pub fn grads(&self) -> &[f32] {
        &self.buffers[GRADS]
    }

    /// The gradient's global L2 norm at the last [`Workspace::run`] of a training program,
    /// before any clip (NaN before one).
    pub fn grad_norm(&self) -> f64 {
        self.grad_norm
    }

    /// Runs the program for step `step` with `params`; returns the bound's value.
    pub fn run(&mut self, params: &[f32], step: u32) -> f64 {
        let (dx, dy) = (self.spec.dx, self.spec.dy);
        let mut value = f64::NAN;
        // The device starts MINE's moving average afresh at step 0.
        if step == 0 {
            self.log_ema = None;
        }
        // PARAMS lives with the caller; every other buffer here. The ops are taken out for the
        // run (they borrow nothing from the buffers) rather than cloned every step.
        let ops = std::mem::take(&mut self.program.ops);
        for op in &ops {
            match *op {
                Op::Draw {
                    seed,
                    k,
                    source,
                    out,
                } => {
                    let (xs, ys) = ((&self.buffers[X][..], dx), (&self.buffers[Y][..], dy));
                    let rho = &self.buffers[X];
                    let (first, second) = match (source, out) {
                        (Source::Data { .. }, DrawLayout::Shuffled(_)) => {
                            (ops::gather_shuffled(seed, step, k, xs, ys), Vec::new())
                        }
                        (Source::Data { .. }, DrawLayout::Split(..)) => {
                            sample::gather_batch(seed, step, k, xs, ys)
                        }
                        (Source::Gaussian { transform, .. }, DrawLayout::Shuffled(_)) => (
                            sample::sample_gaussian_shuffled(seed, step, k, dx, transform, rho),
                            Vec::new(),
                        ),
                        (Source::Gaussian { transform, .. }, DrawLayout::Split(..)) => {
                            sample::sample_gaussian_batch(seed, step, k, dx, transform, rho)
                        }
                    };
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
                    ops::gemm(&spec, get(a), get(b), &mut out, bias.map(get), aux.map(get));
                    self.buffers[c] = out;
                }
                Op::ColumnSums { spec, src, out } => {
                    let mut o = std::mem::take(&mut self.buffers[out]);
                    ops::column_sums(&spec, &self.buffers[src], &mut o);
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
                    ops::pair_expand(k, width, &self.buffers[u], &self.buffers[v], &mut o);
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
                    ops::pair_reduce(rows, k, width, &self.buffers[src], &mut o);
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
                    let b = baseline.map(|(v, _)| &self.buffers[v][..]);
                    let s = &self.buffers[scores];
                    let eval = if shuffled {
                        shuffled_eval(bound, s, b, self.log_ema)
                    } else {
                        matrix_eval(bound, s, k, b, self.log_ema)
                    };
                    if matches!(bound, Bound::Mine { .. }) {
                        self.log_ema = Some(eval.log_ema);
                    }
                    copy_f64(&eval.ds, &mut self.buffers[dscores]);
                    if let Some((_, dv)) = baseline {
                        copy_f64(&eval.db, &mut self.buffers[dv]);
                    }
                    value = eval.value;
                    self.objective = eval.objective;
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
                    value =
                        ops::barber_agakov(k, dy, &self.buffers[dec], &self.buffers[y], lp, &mut o);
                    self.buffers[dout] = o;
                    self.objective = value;
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
                    let term = ops::multisample(b, k, &self.buffers[scores], &mut o);
                    self.buffers[dscores] = o;
                    // Barber–Agakov's op set the value just before.
                    value += term;
                    self.objective += term;
                }
                Op::FusedBound { .. } => {
                    unreachable!("the reference's programs are materialised at construction")
                }
                Op::GradNorm { max_norm } => {
                    let g = &mut self.buffers[GRADS];
                    self.grad_norm = crate::math::clip::l2_norm(g);
                    if let Some(m) = max_norm {
                        let factor =
                            crate::math::clip::max_norm_factor(self.grad_norm, f64::from(m));
                        crate::math::clip::scale(g, factor);
                    }
                }
            }
        }
        self.program.ops = ops;
        value
    }

    /// The spec's training objective on step `step`'s batch (what finite differences check).
    pub fn objective(&mut self, params: &[f32], step: u32) -> f64 {
        self.run(params, step);
        self.objective
    }
}

fn copy_f64(src: &[f64], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s as f32;
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
