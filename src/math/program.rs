//! A training (or evaluation) step as data: the buffers it needs and the operations it runs,
//! in order. The GPU backend compiles a program into kernel launches; the CPU backend
//! interprets it with the reference operations. Both run the same list, so they cannot drift.

use crate::math::bounds::Bound;
use crate::math::critic::{CriticForm, LayerPlan, MlpConfig};
use crate::math::linalg::{ColumnSumSpec, GemmSpec};
use crate::math::spec::{Source, TrainSpec};

/// A buffer of a program: an index into [`Program::buffers`].
pub type BufId = usize;

/// Every parameter of every network, flat.
pub const PARAMS: BufId = 0;
/// d(−objective)/d(parameters), same layout.
pub const GRADS: BufId = 1;
/// The data's x (n × dx), supplied by the runner.
pub const X: BufId = 2;
/// The data's y (n × dy), supplied by the runner.
pub const Y: BufId = 3;

/// One buffer a program uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferDecl {
    /// For labels and errors.
    pub name: &'static str,
    /// Elements (f32).
    pub len: usize,
}

/// One operation of a step. Buffers are [`BufId`]s; semantics are those of the kernel of the
/// same name (and of its CPU twin in `cpu::ops`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// Draws the step's batch: from the data (`gather_shuffled` / `gather_batch`) or from the
    /// correlated Gaussian with the step's ρ (`sample_gaussian_shuffled` / `_batch`).
    Draw {
        /// Seeds the draws.
        seed: u64,
        /// Batch.
        k: usize,
        /// Where batches come from.
        source: Source,
        /// The layout written.
        out: DrawLayout,
    },
    /// A matrix product with its epilogue.
    Gemm {
        /// Shapes, strides, offsets, epilogue.
        spec: GemmSpec,
        /// A.
        a: BufId,
        /// B.
        b: BufId,
        /// C.
        c: BufId,
        /// The bias (Bias epilogues).
        bias: Option<BufId>,
        /// The mask (ReluBackward).
        aux: Option<BufId>,
    },
    /// Column sums (bias gradients).
    ColumnSums {
        /// Shape.
        spec: ColumnSumSpec,
        /// Input.
        src: BufId,
        /// Output.
        out: BufId,
    },
    /// relu(U_i + V_j) for all pairs.
    PairExpand {
        /// Batch.
        k: usize,
        /// Hidden width.
        width: usize,
        /// U (K×w).
        u: BufId,
        /// V (K×w).
        v: BufId,
        /// K²×w.
        out: BufId,
    },
    /// Sums of a K×K×w pair gradient over j (rows) or i.
    PairReduce {
        /// Sum over j (dU) rather than i (dV).
        rows: bool,
        /// Batch.
        k: usize,
        /// Hidden width.
        width: usize,
        /// K²×w.
        src: BufId,
        /// K×w.
        out: BufId,
    },
    /// The bound's value (to the step's history) and d(−L)/d(scores).
    Bound {
        /// Which bound.
        bound: Bound,
        /// Batch.
        k: usize,
        /// Scores are K joint then K shuffled (else the K×K matrix).
        shuffled: bool,
        /// Scores.
        scores: BufId,
        /// Their gradient.
        dscores: BufId,
        /// The baseline b(y) per scored y and its gradient (TUBA, α-InfoNCE).
        baseline: Option<(BufId, BufId)>,
    },
    /// The bound on the separable scores S = G·Hᵀ without storing S: the value (to the step's
    /// history) and, with `grads`, d(−L)/dG = dS·H and d(−L)/dH = dSᵀ·G (the fused kernels on
    /// the device; S materialised by the CPU reference).
    FusedBound {
        /// Which bound.
        bound: Bound,
        /// Batch.
        k: usize,
        /// Embedding width.
        e: usize,
        /// G (K×e).
        g: BufId,
        /// H (K×e).
        h: BufId,
        /// dG and dH (K×e each); `None` for an evaluation.
        grads: Option<(BufId, BufId)>,
        /// The baseline b(y_j) and its gradient (TUBA, α-InfoNCE).
        baseline: Option<(BufId, BufId)>,
    },
    /// The global L2 norm of [`GRADS`] (recorded per step, before any clip) and, with
    /// `max_norm`, the rescale of [`GRADS`] to that norm when it is larger; the last op of a
    /// training step, before Adam.
    GradNorm {
        /// The max-norm clip, if any.
        max_norm: Option<f32>,
    },
    /// The step's log p(y_i) of a known marginal, gathered from the data's per-row
    /// log-densities with the rows of the step's [`Op::Draw`] (the `gather_batch` kernel on an
    /// n × 1 column, so the same permutation picks them).
    GatherMarginal {
        /// Seeds the draws (that of the batch's `Draw`).
        seed: u64,
        /// Batch.
        k: usize,
        /// The data's log p(y_i) (n values), supplied by the runner.
        rows: BufId,
        /// The batch's log p(y_i) (K values).
        out: BufId,
        /// The kernel's second output, a copy of `out` (K values), otherwise unused.
        scratch: BufId,
    },
    /// Barber–Agakov (SPEC §8) with a diagonal-Gaussian decoder and the standard normal
    /// marginal, or the per-row one of `log_marginal`: the value (to the step's history) and
    /// d(−V)/d(μ, log σ).
    BarberAgakov {
        /// Batch.
        k: usize,
        /// Columns of y.
        dy: usize,
        /// The decoder's output (K × 2·dy: μ then log σ a row).
        dec: BufId,
        /// The batch's y (K × dy).
        y: BufId,
        /// The batch's log p(y_i) (K values, [`Op::GatherMarginal`]); `None`: N(0, I).
        log_marginal: Option<BufId>,
        /// d(−V)/d(decoder output), same layout.
        dout: BufId,
    },
    /// The multisample bound's proposals: the critic's rows [x_i ; y_ik], y_ik drawn from the
    /// decoder on the device (see `multisample.wgsl`).
    Proposals {
        /// Seeds the proposal stream.
        seed: u64,
        /// Rows of the batch (B).
        b: usize,
        /// Proposals a row (K).
        k: usize,
        /// Columns of x and y.
        dx: usize,
        /// Columns of y.
        dy: usize,
        /// The batch's x (B × dx).
        x: BufId,
        /// The batch's y (B × dy).
        y: BufId,
        /// The decoder's output (B × 2·dy).
        dec: BufId,
        /// The critic's rows (B·(K+1) × (dx + dy)).
        rows: BufId,
    },
    /// The reparameterised proposals' path to the decoder: adds Σ_k ∂/∂y_ik to ∂μ_i and
    /// Σ_k ∂/∂y_ik · σ_i ε_ik to ∂log σ_i (`proposal_grads` of `multisample.wgsl`).
    ProposalGrads {
        /// Seeds the proposal stream (that of [`Op::Proposals`]).
        seed: u64,
        /// Rows of the batch (B).
        b: usize,
        /// Proposals a row (K).
        k: usize,
        /// Columns of y.
        dy: usize,
        /// The decoder's output (B × 2·dy).
        dec: BufId,
        /// d(−V)/d(y part of the critic's rows) (B·(K+1) × dy).
        dprop: BufId,
        /// d(−V)/d(decoder output), added to.
        ddec: BufId,
    },
    /// The multisample term: adds mean_i [f_i0 − log(1/(K+1) Σ_k e^(f_ik))] to the step's value
    /// and writes d(−V)/df.
    Multisample {
        /// Rows of the batch (B).
        b: usize,
        /// Proposals a row (K).
        k: usize,
        /// The critic's scores (B·(K+1)).
        scores: BufId,
        /// d(−V)/d(scores).
        dscores: BufId,
    },
}

/// How a drawn batch is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawLayout {
    /// 2K × (dx+dy): K rows [x_i; y_i], then K rows [x_i; y_π(i)].
    Shuffled(BufId),
    /// x rows (K×dx) and y rows (K×dy) in two buffers.
    Split(BufId, BufId),
}

/// A step: its buffers (the first four are [`PARAMS`], [`GRADS`], [`X`], [`Y`]) and operations.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Every buffer, indexed by [`BufId`].
    pub buffers: Vec<BufferDecl>,
    /// The operations, in order.
    pub ops: Vec<Op>,
}

impl Program {
    /// The program with every [`Op::FusedBound`] for which `materialise(bound, K, e)` holds
    /// replaced by its unfused ops: S = G·Hᵀ into a new K×K buffer, [`Op::Bound`] on S, and,
    /// when training, dG = dS·H and dH = dSᵀ·G through a new K×K buffer of dS. A software
    /// adapter runs this way the fused bounds whose column passes it cannot run, the fast
    /// CPU mode those its blockwise path does not take: each backend then only runs ops. (The
    /// f64 reference computes these same ops in place of the fused op, with scratch S and dS.)
    pub fn materialised(mut self, materialise: impl Fn(Bound, usize, usize) -> bool) -> Program {
        let ops = std::mem::take(&mut self.ops);
        for op in ops {
            match op {
                Op::FusedBound {
                    bound,
                    k,
                    e,
                    g,
                    h,
                    grads,
                    baseline,
                } if materialise(bound, k, e) => {
                    let s = self.buffers.len();
                    let ds = s + 1;
                    self.buffers.extend([
                        BufferDecl {
                            name: "scores",
                            len: k * k,
                        },
                        BufferDecl {
                            name: "score gradients",
                            len: k * k,
                        },
                    ]);
                    let gemm = |spec, a, b, c| Op::Gemm {
                        spec,
                        a,
                        b,
                        c,
                        bias: None,
                        aux: None,
                    };
                    self.ops
                        .push(gemm(GemmSpec::dense(k, k, e, false, true), g, h, s));
                    self.ops.push(Op::Bound {
                        bound,
                        k,
                        shuffled: false,
                        scores: s,
                        dscores: ds,
                        baseline,
                    });
                    if let Some((dg, dh)) = grads {
                        self.ops
                            .push(gemm(GemmSpec::dense(k, e, k, false, false), ds, h, dg));
                        self.ops
                            .push(gemm(GemmSpec::dense(k, e, k, true, false), ds, g, dh));
                    }
                }
                other => self.ops.push(other),
            }
        }
        self
    }
}

/// Where a network reads its input: a buffer, its leading dimension and offset (the y half of a
/// shuffled batch is a strided block of it).
#[derive(Clone, Copy, Debug)]
struct Input {
    buf: BufId,
    ld: usize,
    off: usize,
}

impl Input {
    /// A contiguous block of rows `width` wide.
    fn rows(buf: BufId, width: usize) -> Self {
        Self {
            buf,
            ld: width,
            off: 0,
        }
    }
}

/// A network laid out in the program: its plan and its activation buffers.
struct Net {
    plan: Vec<LayerPlan>,
    acts: Vec<BufId>,
    dacts: Vec<BufId>,
    input: Input,
}

impl Net {
    fn output(&self) -> BufId {
        *self.acts.last().expect("a network has layers")
    }
    fn doutput(&self) -> BufId {
        *self.dacts.last().expect("a network has layers")
    }
}

struct Builder {
    buffers: Vec<BufferDecl>,
    ops: Vec<Op>,
}

impl Builder {
    fn buf(&mut self, name: &'static str, len: usize) -> BufId {
        self.buffers.push(BufferDecl { name, len });
        self.buffers.len() - 1
    }

    /// Lays out `cfg` (stored from `base` in the parameters) over `rows` inputs read from
    /// `input`: its plan and activation buffers.
    fn net(&mut self, cfg: &MlpConfig, base: usize, rows: usize, input: Input) -> Net {
        let mut plan = cfg.plan_at(rows, base);
        // The first layer reads a possibly strided block.
        plan[0].forward.lda = input.ld;
        plan[0].forward.a_off = input.off;
        plan[0].weight_grad.ldb = input.ld;
        plan[0].weight_grad.b_off = input.off;
        let acts = plan
            .iter()
            .map(|l| self.buf("activations", rows * l.shape.fan_out))
            .collect();
        let dacts = plan
            .iter()
            .map(|l| self.buf("activation gradients", rows * l.shape.fan_out))
            .collect();
        Net {
            plan,
            acts,
            dacts,
            input,
        }
    }

    /// The forward pass of `net` from layer `first` on.
    fn forward(&mut self, net: &Net, first: usize) {
        for l in first..net.plan.len() {
            let a = if l == 0 {
                net.input.buf
            } else {
                net.acts[l - 1]
            };
            self.ops.push(Op::Gemm {
                spec: net.plan[l].forward,
                a,
                b: PARAMS,
                c: net.acts[l],
                bias: Some(PARAMS),
                aux: None,
            });
        }
    }

    /// A network laid out and run forward from its first layer.
    fn network(&mut self, cfg: &MlpConfig, base: usize, rows: usize, input: Input) -> Net {
        let net = self.net(cfg, base, rows, input);
        self.forward(&net, 0);
        net
    }

    /// The baseline network b(y) on `rows` inputs from `y`, for the bounds that learn one.
    fn baseline(&mut self, spec: &TrainSpec, rows: usize, y: Input) -> Option<Net> {
        spec.baseline_network()
            .map(|(cfg, base)| self.network(&cfg, base, rows, y))
    }

    /// The backward pass of `net`: weight gradients of layers `first..`, and the input
    /// gradient of every layer but the very first (whose input is data).
    fn backward(&mut self, net: &Net, first: usize) {
        for l in (first..net.plan.len()).rev() {
            let layer = &net.plan[l];
            let input = if l == 0 {
                net.input.buf
            } else {
                net.acts[l - 1]
            };
            self.ops.push(Op::Gemm {
                spec: layer.weight_grad,
                a: net.dacts[l],
                b: input,
                c: GRADS,
                bias: None,
                aux: None,
            });
            self.ops.push(Op::ColumnSums {
                spec: layer.bias_grad,
                src: net.dacts[l],
                out: GRADS,
            });
            if let Some(spec) = layer.input_grad {
                self.ops.push(Op::Gemm {
                    spec,
                    a: net.dacts[l],
                    b: PARAMS,
                    c: net.dacts[l - 1],
                    bias: None,
                    aux: Some(net.acts[l - 1]),
                });
            }
        }
    }
}

impl TrainSpec {
    /// The step program drawing batches from `source` with `draw_seed`. `training` adds the
    /// backward pass (an evaluation program stops at the bound).
    pub fn program(&self, source: Source, draw_seed: u64, training: bool) -> Program {
        let (x_len, y_len) = match source {
            Source::Data { n, .. } => (n * self.dx, n * self.dy),
            Source::Gaussian { steps, .. } => (steps, 1),
        };
        let (dx, dy, k) = (self.dx, self.dy, self.batch);
        let nets = self.networks();
        let mut b = Builder {
            buffers: vec![
                BufferDecl {
                    name: "parameters",
                    len: self.param_count(),
                },
                BufferDecl {
                    name: "gradients",
                    len: self.param_count(),
                },
                BufferDecl {
                    name: "x (or the ρ schedule)",
                    len: x_len,
                },
                BufferDecl {
                    name: "y",
                    len: y_len,
                },
            ],
            ops: Vec::new(),
        };
        match &self.critic {
            CriticForm::Shuffled { .. } => {
                let rows = 2 * k;
                let batch = b.buf("batch", rows * (dx + dy));
                b.ops.push(Op::Draw {
                    seed: draw_seed,
                    k,
                    source,
                    out: DrawLayout::Shuffled(batch),
                });
                let (net, base) = &nets[0];
                let f = b.network(net, *base, rows, Input::rows(batch, dx + dy));
                let y_part = Input {
                    buf: batch,
                    ld: dx + dy,
                    off: dx,
                };
                let bl = b.baseline(self, rows, y_part);
                b.ops.push(Op::Bound {
                    bound: self.bound,
                    k,
                    shuffled: true,
                    scores: f.output(),
                    dscores: f.doutput(),
                    baseline: bl.as_ref().map(|n| (n.output(), n.doutput())),
                });
                if training {
                    b.backward(&f, 0);
                    if let Some(n) = &bl {
                        b.backward(n, 0);
                    }
                }
            }
            CriticForm::Separable { .. } => {
                let (xb, yb) = draw_split(&mut b, draw_seed, source, k, dx, dy);
                let (gnet, gbase) = &nets[0];
                let (hnet, hbase) = &nets[1];
                let g = b.network(gnet, *gbase, k, Input::rows(xb, dx));
                let h = b.network(hnet, *hbase, k, Input::rows(yb, dy));
                let e = gnet.output;
                let bl = b.baseline(self, k, Input::rows(yb, dy));
                // The towers' output gradients come straight from the fused bound: S is
                // never stored (O(K·e) memory instead of O(K²)).
                b.ops.push(Op::FusedBound {
                    bound: self.bound,
                    k,
                    e,
                    g: g.output(),
                    h: h.output(),
                    grads: training.then(|| (g.doutput(), h.doutput())),
                    baseline: bl.as_ref().map(|n| (n.output(), n.doutput())),
                });
                if training {
                    b.backward(&g, 0);
                    b.backward(&h, 0);
                    if let Some(n) = &bl {
                        b.backward(n, 0);
                    }
                }
            }
            CriticForm::Decoder { .. } => {
                let (_, _, q) = decoder_term(&mut b, &nets[0], draw_seed, source, (k, dx, dy));
                if training {
                    b.backward(&q, 0);
                }
            }
            CriticForm::DecoderCritic { .. } => {
                let proposals = match self.bound {
                    Bound::Multisample { proposals } => proposals as usize,
                    other => unreachable!("{other:?} with the decoder-critic form"),
                };
                let (xb, yb, q) = decoder_term(&mut b, &nets[0], draw_seed, source, (k, dx, dy));
                let rows = b.buf("proposal rows", k * (proposals + 1) * (dx + dy));
                b.ops.push(Op::Proposals {
                    seed: draw_seed,
                    b: k,
                    k: proposals,
                    dx,
                    dy,
                    x: xb,
                    y: yb,
                    dec: q.output(),
                    rows,
                });
                let (fnet, fbase) = &nets[1];
                let f = b.network(
                    fnet,
                    *fbase,
                    k * (proposals + 1),
                    Input::rows(rows, dx + dy),
                );
                b.ops.push(Op::Multisample {
                    b: k,
                    k: proposals,
                    scores: f.output(),
                    dscores: f.doutput(),
                });
                if training && self.reparameterised {
                    // The critic's backward first: its input gradient (y columns of the
                    // proposal rows) adds the path through y_ik to the decoder's output
                    // gradient before the decoder's own backward pass.
                    b.backward(&f, 0);
                    let layer0 = f.plan[0].shape;
                    let rows = k * (proposals + 1);
                    let dprop = b.buf("proposal gradients", rows * dy);
                    b.ops.push(Op::Gemm {
                        spec: GemmSpec {
                            b_off: layer0.w_off + dx,
                            ldb: dx + dy,
                            ..GemmSpec::dense(rows, dy, layer0.fan_out, false, false)
                        },
                        a: f.dacts[0],
                        b: PARAMS,
                        c: dprop,
                        bias: None,
                        aux: None,
                    });
                    b.ops.push(Op::ProposalGrads {
                        seed: draw_seed,
                        b: k,
                        k: proposals,
                        dy,
                        dec: q.output(),
                        dprop,
                        ddec: q.doutput(),
                    });
                    b.backward(&q, 0);
                } else if training {
                    b.backward(&q, 0);
                    b.backward(&f, 0);
                }
            }
            CriticForm::Concat { .. } => {
                let (xb, yb) = draw_split(&mut b, draw_seed, source, k, dx, dy);
                let (net, base) = &nets[0];
                let layer0 = net.layers_at(*base)[0];
                let w = layer0.fan_out;
                let rows = k * k;
                // Layers from the second on run over the K² pair rows; the first is split.
                let f = b.net(net, *base, rows, Input::rows(xb, dx));
                let u = b.buf("U = x·W_xᵀ + b", k * w);
                let v = b.buf("V = y·W_yᵀ", k * w);
                let du = b.buf("dU", k * w);
                let dv = b.buf("dV", k * w);
                let wx = GemmSpec {
                    ldb: dx + dy,
                    b_off: layer0.w_off,
                    bias_off: layer0.b_off,
                    ..GemmSpec::dense(k, w, dx, false, true)
                };
                let wy = GemmSpec {
                    ldb: dx + dy,
                    b_off: layer0.w_off + dx,
                    ..GemmSpec::dense(k, w, dy, false, true)
                };
                b.ops.push(Op::Gemm {
                    spec: wx.with_epilogue(crate::math::linalg::Epilogue::Bias),
                    a: xb,
                    b: PARAMS,
                    c: u,
                    bias: Some(PARAMS),
                    aux: None,
                });
                b.ops.push(Op::Gemm {
                    spec: wy,
                    a: yb,
                    b: PARAMS,
                    c: v,
                    bias: None,
                    aux: None,
                });
                b.ops.push(Op::PairExpand {
                    k,
                    width: w,
                    u,
                    v,
                    out: f.acts[0],
                });
                b.forward(&f, 1);
                let bl = b.baseline(self, k, Input::rows(yb, dy));
                b.ops.push(Op::Bound {
                    bound: self.bound,
                    k,
                    shuffled: false,
                    scores: f.output(),
                    dscores: f.doutput(),
                    baseline: bl.as_ref().map(|n| (n.output(), n.doutput())),
                });
                if training {
                    // The second layer's input gradient applies the first layer's ReLU mask;
                    // what remains is the split's backward.
                    b.backward(&f, 1);
                    b.ops.push(Op::PairReduce {
                        rows: true,
                        k,
                        width: w,
                        src: f.dacts[0],
                        out: du,
                    });
                    b.ops.push(Op::PairReduce {
                        rows: false,
                        k,
                        width: w,
                        src: f.dacts[0],
                        out: dv,
                    });
                    b.ops.push(Op::Gemm {
                        spec: GemmSpec {
                            ldc: dx + dy,
                            c_off: layer0.w_off,
                            ..GemmSpec::dense(w, dx, k, true, false)
                        },
                        a: du,
                        b: xb,
                        c: GRADS,
                        bias: None,
                        aux: None,
                    });
                    b.ops.push(Op::Gemm {
                        spec: GemmSpec {
                            ldc: dx + dy,
                            c_off: layer0.w_off + dx,
                            ..GemmSpec::dense(w, dy, k, true, false)
                        },
                        a: dv,
                        b: yb,
                        c: GRADS,
                        bias: None,
                        aux: None,
                    });
                    b.ops.push(Op::ColumnSums {
                        spec: ColumnSumSpec::dense(k, w, layer0.b_off),
                        src: du,
                        out: GRADS,
                    });
                    if let Some(n) = &bl {
                        b.backward(n, 0);
                    }
                }
            }
        }
        if training {
            b.ops.push(Op::GradNorm {
                max_norm: self.max_grad_norm,
            });
        }
        Program {
            buffers: b.buffers,
            ops: b.ops,
        }
    }
}

fn draw_split(
    b: &mut Builder,
    seed: u64,
    source: Source,
    k: usize,
    dx: usize,
    dy: usize,
) -> (BufId, BufId) {
    let xb = b.buf("batch x", k * dx);
    let yb = b.buf("batch y", k * dy);
    b.ops.push(Op::Draw {
        seed,
        k,
        source,
        out: DrawLayout::Split(xb, yb),
    });
    (xb, yb)
}

/// Barber–Agakov's part of a step, shared by BA and V_MS: draws the batch (x and y apart, with
/// the known marginal's rows when the data carry one), runs the decoder `net` on x and adds the
/// BA term. Returns the batch's x and y and the decoder's run.
fn decoder_term(
    b: &mut Builder,
    (net, base): &(MlpConfig, usize),
    seed: u64,
    source: Source,
    (k, dx, dy): (usize, usize, usize),
) -> (BufId, BufId, Net) {
    let (xb, yb) = draw_split(b, seed, source, k, dx, dy);
    let lp = gather_marginal(b, seed, source, k);
    let q = b.network(net, *base, k, Input::rows(xb, dx));
    b.ops.push(Op::BarberAgakov {
        k,
        dy,
        dec: q.output(),
        y: yb,
        log_marginal: lp,
        dout: q.doutput(),
    });
    (xb, yb, q)
}

/// The batch's log p(y_i) when the data carry a known marginal: the data's n values (a buffer
/// the runner fills) gathered with the rows of the step's draw. `None` otherwise.
fn gather_marginal(b: &mut Builder, seed: u64, source: Source, k: usize) -> Option<BufId> {
    let Source::Data {
        n,
        log_marginal: true,
    } = source
    else {
        return None;
    };
    let rows = b.buf("log p(y) of the data", n);
    let out = b.buf("log p(y) of the batch", k);
    let scratch = b.buf("log p(y) of the batch, copy", k);
    b.ops.push(Op::GatherMarginal {
        seed,
        k,
        rows,
        out,
        scratch,
    });
    Some(out)
}
