//! The fast interpreter's plan of a program: its ops in order, except where the concat
//! critic's pair network appears. There the ops over the K² pair rows (PairExpand and the
//! layers' products; in training, their gradients and the two PairReduces) are replaced by
//! the fused kernels of [`super::pair_net`], which compute the same sums without storing a
//! K²×w activation. Anything that does not match the pattern exactly, or reads one of the
//! activations the fused kernels no longer store, runs op by op.

use std::ops::Range;

use super::pair_net::{PairGradSlots, PairLayer, PairNet};
use crate::math::bounds::Bound;
use crate::math::linalg::Epilogue;
use crate::math::program::{BufId, Op, Program, GRADS, PARAMS, X, Y};

/// One step of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Program op `i`, as it is.
    Op(usize),
    /// The pair network's scores S (K×K) from U and V.
    PairForward {
        /// The network.
        net: PairNet,
        /// U (K × width).
        u: BufId,
        /// V (K × width).
        v: BufId,
        /// S.
        scores: BufId,
    },
    /// The pair network's backward from dS: its layers' gradients, dU and dV.
    PairBackward {
        /// The network.
        net: PairNet,
        /// Where the layers' gradients go.
        slots: PairGradSlots,
        /// U.
        u: BufId,
        /// V.
        v: BufId,
        /// dS (K×K).
        dscores: BufId,
        /// dU (K × width).
        du: BufId,
        /// dV (K × width).
        dv: BufId,
    },
    /// The pair network's forward, InfoNCE and the backward in one pass over the rows
    /// (InfoNCE's gradient of a row needs only that row's scores): the bound's value, the
    /// layers' gradients, dU and dV.
    PairInfoNce {
        /// The network.
        net: PairNet,
        /// Where the layers' gradients go.
        slots: PairGradSlots,
        /// U.
        u: BufId,
        /// V.
        v: BufId,
        /// dU (K × width).
        du: BufId,
        /// dV (K × width).
        dv: BufId,
    },
}

/// A matched pair network: the ops it replaces and the buffers only those ops touch.
struct Match {
    forward: (Range<usize>, Step),
    backward: Option<(Range<usize>, Step)>,
    internal: Vec<BufId>,
}

/// The plan of `program`.
pub fn plan(program: &Program) -> Vec<Step> {
    let ops = &program.ops;
    let mut fused: Vec<(Range<usize>, Step)> = Vec::new();
    for p in 0..ops.len() {
        let Some(m) = match_pairs(ops, p) else {
            continue;
        };
        let mut ranges = vec![m.forward.0.clone()];
        ranges.extend(m.backward.iter().map(|(r, _)| r.clone()));
        let outside = (0..ops.len()).filter(|i| !ranges.iter().any(|r| r.contains(i)));
        let leaks = outside
            .flat_map(|i| reads(&ops[i]))
            .any(|b| m.internal.contains(&b));
        if !leaks {
            fused.push(m.forward);
            fused.extend(m.backward);
        }
    }
    let mut steps = Vec::with_capacity(ops.len());
    let mut i = 0;
    while i < ops.len() {
        match fused.iter().find(|(r, _)| r.start == i) {
            Some((r, step)) => {
                steps.push(step.clone());
                i = r.end;
            }
            None => {
                steps.push(Step::Op(i));
                i += 1;
            }
        }
    }
    steps
}

/// The pair network whose PairExpand is op `p`, with its backward where the program trains.
fn match_pairs(ops: &[Op], p: usize) -> Option<Match> {
    let Op::PairExpand {
        k,
        width,
        u,
        v,
        out,
    } = ops[p]
    else {
        return None;
    };
    let rows = k * k;
    let mut acts = vec![out];
    let mut layers = Vec::new();
    let mut q = p + 1;
    loop {
        let Some(&Op::Gemm {
            spec,
            a,
            b: PARAMS,
            c,
            bias: Some(PARAMS),
            aux: None,
        }) = ops.get(q)
        else {
            return None;
        };
        let fan_in = layers.last().map_or(width, |l: &PairLayer| l.fan_out);
        let relu = match spec.epilogue {
            Epilogue::BiasRelu => true,
            Epilogue::Bias => false,
            _ => return None,
        };
        let shape_ok = a == *acts.last()?
            && spec.m == rows
            && spec.k == fan_in
            && !spec.trans_a
            && spec.trans_b
            && spec.lda == fan_in
            && spec.a_off == 0
            && spec.ldc == spec.n
            && spec.c_off == 0;
        if !shape_ok {
            return None;
        }
        layers.push(PairLayer {
            fan_in,
            fan_out: spec.n,
            w_off: spec.b_off,
            ldw: spec.ldb,
            b_off: spec.bias_off,
            relu,
        });
        acts.push(c);
        q += 1;
        if !relu {
            break;
        }
    }
    let net = PairNet { k, width, layers };
    if !net.fusable() {
        return None;
    }
    let scores = acts.pop()?;
    let forward = (
        p..q,
        Step::PairForward {
            net: net.clone(),
            u,
            v,
            scores,
        },
    );
    let mut internal = acts.clone();
    let bound = (q..ops.len()).find_map(|r| match ops[r] {
        Op::Bound {
            bound,
            scores: s,
            dscores,
            shuffled: false,
            k: kb,
            baseline,
        } if s == scores && kb == k => Some((r, dscores, bound, baseline.is_none())),
        _ => None,
    });
    let Some((r, dscores, bound, no_baseline)) = bound else {
        return Some(Match {
            forward,
            backward: None,
            internal,
        });
    };
    let Some((range, slots, (du, dv), grads)) = match_backward(ops, r + 1, &net, &acts, dscores)
    else {
        return Some(Match {
            forward,
            backward: None,
            internal,
        });
    };
    internal.extend(grads);
    if bound == Bound::InfoNce && no_baseline && r == q {
        // Forward, bound and backward adjacent: one pass, S and dS never stored.
        internal.extend([scores, dscores]);
        let step = Step::PairInfoNce {
            net,
            slots,
            u,
            v,
            du,
            dv,
        };
        return Some(Match {
            forward: (p..range.end, step),
            backward: None,
            internal,
        });
    }
    Some(Match {
        forward,
        backward: Some((
            range,
            Step::PairBackward {
                net,
                slots,
                u,
                v,
                dscores,
                du,
                dv,
            },
        )),
        internal,
    })
}

/// What a matched backward gives: its op range, the gradient slots, (dU, dV) and the
/// activation-gradient buffers it replaces.
type Backward = (Range<usize>, PairGradSlots, (BufId, BufId), Vec<BufId>);

/// The backward of `net` from dS, starting at op `r`: per layer, last first, the weight
/// gradient, the bias gradient and the masked input gradient; then both PairReduces.
fn match_backward(
    ops: &[Op],
    r: usize,
    net: &PairNet,
    acts: &[BufId],
    dscores: BufId,
) -> Option<Backward> {
    let rows = net.k * net.k;
    let mut d = dscores;
    let mut at = r;
    let mut w_slots = vec![(0, 0); net.layers.len()];
    let mut b_slots = vec![0; net.layers.len()];
    let mut grads = Vec::new();
    for (l, layer) in net.layers.iter().enumerate().rev() {
        let Op::Gemm {
            spec: wg,
            a,
            b,
            c: GRADS,
            bias: None,
            aux: None,
        } = *ops.get(at)?
        else {
            return None;
        };
        let wg_ok = a == d
            && b == acts[l]
            && wg.trans_a
            && !wg.trans_b
            && (wg.m, wg.n, wg.k) == (layer.fan_out, layer.fan_in, rows)
            && (wg.lda, wg.a_off, wg.ldb, wg.b_off) == (layer.fan_out, 0, layer.fan_in, 0)
            && wg.epilogue == Epilogue::None
            && wg.ldc >= layer.fan_in;
        let Op::ColumnSums {
            spec: cs,
            src,
            out: GRADS,
        } = *ops.get(at + 1)?
        else {
            return None;
        };
        let cs_ok = src == d
            && (cs.rows, cs.cols, cs.ld, cs.in_off) == (rows, layer.fan_out, layer.fan_out, 0);
        let Op::Gemm {
            spec: ig,
            a,
            b: PARAMS,
            c: dprev,
            bias: None,
            aux: Some(mask),
        } = *ops.get(at + 2)?
        else {
            return None;
        };
        let ig_ok = a == d
            && mask == acts[l]
            && !ig.trans_a
            && !ig.trans_b
            && (ig.m, ig.n, ig.k) == (rows, layer.fan_in, layer.fan_out)
            && (ig.lda, ig.a_off, ig.b_off, ig.ldb) == (layer.fan_out, 0, layer.w_off, layer.ldw)
            && (ig.ldc, ig.c_off, ig.ldaux, ig.aux_off) == (layer.fan_in, 0, layer.fan_in, 0)
            && ig.epilogue == Epilogue::ReluBackward;
        if !(wg_ok && cs_ok && ig_ok) {
            return None;
        }
        w_slots[l] = (wg.c_off, wg.ldc);
        b_slots[l] = cs.out_off;
        grads.push(dprev);
        d = dprev;
        at += 3;
    }
    let reduce = |i: usize, want_rows: bool| match ops.get(i)? {
        &Op::PairReduce {
            rows,
            k,
            width,
            src,
            out,
        } if rows == want_rows && k == net.k && width == net.width && src == d => Some(out),
        _ => None,
    };
    let du = reduce(at, true)?;
    let dv = reduce(at + 1, false)?;
    Some((
        r..at + 2,
        PairGradSlots {
            w: w_slots,
            b: b_slots,
        },
        (du, dv),
        grads,
    ))
}

/// Which buffers `steps` of `program` touch: the others (the K²×w activations the fused pair
/// network replaces, S and dS where InfoNCE reads rows as it goes) need no memory.
pub fn touched(program: &Program, steps: &[Step]) -> Vec<bool> {
    let mut used = vec![false; program.buffers.len()];
    for step in steps {
        let ids = match step {
            Step::Op(i) => {
                let op = &program.ops[*i];
                let mut ids = reads(op);
                ids.extend(writes(op));
                ids
            }
            Step::PairForward { u, v, scores, .. } => vec![*u, *v, *scores],
            Step::PairBackward {
                u,
                v,
                dscores,
                du,
                dv,
                ..
            } => vec![*u, *v, *dscores, *du, *dv, GRADS],
            Step::PairInfoNce { u, v, du, dv, .. } => vec![*u, *v, *du, *dv, GRADS],
        };
        for id in ids {
            used[id] = true;
        }
    }
    used
}

/// The buffers `op` writes.
fn writes(op: &Op) -> Vec<BufId> {
    match *op {
        Op::Draw { out, .. } => match out {
            crate::math::program::DrawLayout::Shuffled(o) => vec![o],
            crate::math::program::DrawLayout::Split(x, y) => vec![x, y],
        },
        Op::Gemm { c, .. } => vec![c],
        Op::ColumnSums { out, .. } | Op::PairExpand { out, .. } | Op::PairReduce { out, .. } => {
            vec![out]
        }
        Op::Bound {
            dscores, baseline, ..
        } => [Some(dscores), baseline.map(|b| b.1)]
            .into_iter()
            .flatten()
            .collect(),
        Op::FusedBound {
            grads, baseline, ..
        } => grads
            .map_or(vec![], |(a, b)| vec![a, b])
            .into_iter()
            .chain(baseline.map(|b| b.1))
            .collect(),
        Op::GradNorm { .. } => vec![GRADS],
        Op::GatherMarginal { out, scratch, .. } => vec![out, scratch],
        Op::BarberAgakov { dout, .. } => vec![dout],
        Op::Proposals { rows, .. } => vec![rows],
        Op::ProposalGrads { ddec, .. } => vec![ddec],
        Op::Multisample { dscores, .. } => vec![dscores],
    }
}

/// The buffers `op` reads.
fn reads(op: &Op) -> Vec<BufId> {
    match *op {
        Op::Draw { .. } => vec![X, Y],
        Op::Gemm {
            a, b, bias, aux, ..
        } => [Some(a), Some(b), bias, aux]
            .into_iter()
            .flatten()
            .collect(),
        Op::ColumnSums { src, .. } | Op::PairReduce { src, .. } => vec![src],
        Op::PairExpand { u, v, .. } => vec![u, v],
        Op::Bound {
            scores, baseline, ..
        } => [Some(scores), baseline.map(|b| b.0)]
            .into_iter()
            .flatten()
            .collect(),
        Op::FusedBound { g, h, baseline, .. } => [Some(g), Some(h), baseline.map(|b| b.0)]
            .into_iter()
            .flatten()
            .collect(),
        Op::GradNorm { .. } => vec![GRADS],
        Op::GatherMarginal { rows, .. } => vec![rows],
        Op::BarberAgakov {
            dec,
            y,
            log_marginal,
            ..
        } => [Some(dec), Some(y), log_marginal]
            .into_iter()
            .flatten()
            .collect(),
        Op::Proposals { x, y, dec, .. } => vec![x, y, dec],
        Op::ProposalGrads {
            dec, dprop, ddec, ..
        } => vec![dec, dprop, ddec],
        Op::Multisample { scores, .. } => vec![scores],
    }
}
