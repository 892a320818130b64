//! The concat critic's network over all K² pairs, fused: what the program's PairExpand, the
//! per-layer products over K² pair rows, their weight and bias gradients, the ReLU backward
//! and the two PairReduces compute, done in chunks of [`CHUNK`] pairs of one row i that stay
//! in L1. No K²×w activation is stored: the backward recomputes its chunk's forward (as the
//! fused score kernels recompute S on the device), so memory is O(K·w).
//!
//! The widths of these networks are small (bmi's (16, 8)), where a general matrix product
//! spends more on packing than on arithmetic; here every loop runs over the CHUNK pairs of a
//! chunk, contiguous, with the layer's weights broadcast: [`avx2`] in AVX2 + FMA registers
//! where the CPU has them, [`plain`] otherwise, both with the same order of operations.
//!
//! Sums are fixed: rows i are split into groups by K alone; within a group a sum runs over
//! rows, then chunks, then [`V`] lanes (each chunk's eight vectors added in order first),
//! and the groups' partial sums are added in group order afterwards.

#[cfg(target_arch = "x86_64")]
mod avx2;
mod plain;

use std::ops::Range;

use super::pool::{blocks, Pool};

/// Pairs (j) a chunk of row i covers: K is padded to a multiple of it, the padding's
/// gradients held at zero.
pub const CHUNK: usize = 64;
/// Lanes of the partial sums: one AVX2 vector of f32.
pub const V: usize = 8;
/// Most groups of rows (bounds the partial sums' memory).
const MAX_GROUPS: usize = 32;
/// The largest network fused: Σ fan_in·fan_out over the pair layers. Wider networks run op
/// by op, where the matrix products pay.
pub const MAX_WEIGHTS: usize = 4096;

/// One layer over the pair rows: h_out = act(W·h_in + b), W stored fan_out × fan_in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairLayer {
    /// Inputs.
    pub fan_in: usize,
    /// Outputs.
    pub fan_out: usize,
    /// Offset of W in the parameters.
    pub w_off: usize,
    /// Row stride of W there.
    pub ldw: usize,
    /// Offset of b.
    pub b_off: usize,
    /// ReLU after (every layer but the last).
    pub relu: bool,
}

/// The pair network: h₀ = relu(U_i + V_j) (width `width`), then `layers`; the last layer's
/// single output is the score S_ij.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairNet {
    /// Batch.
    pub k: usize,
    /// Width of U, V and h₀.
    pub width: usize,
    /// The layers over the pair rows.
    pub layers: Vec<PairLayer>,
}

/// Where the backward writes each layer's gradients in the gradient buffer: W's offset and
/// row stride, b's offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairGradSlots {
    /// (offset, row stride) of dW, per layer.
    pub w: Vec<(usize, usize)>,
    /// Offset of db, per layer.
    pub b: Vec<usize>,
}

impl PairNet {
    /// Whether the fused kernels take this network.
    pub fn fusable(&self) -> bool {
        let weights: usize = self.layers.iter().map(|l| l.fan_in * l.fan_out).sum();
        let last = self.layers.last();
        weights <= MAX_WEIGHTS
            && last.is_some_and(|l| l.fan_out == 1 && !l.relu)
            && self.layers[..self.layers.len() - 1].iter().all(|l| l.relu)
            && self.layers.first().is_some_and(|l| l.fan_in == self.width)
            && self.layers.windows(2).all(|w| w[0].fan_out == w[1].fan_in)
    }

    /// K padded to whole chunks.
    fn padded(&self) -> usize {
        self.k.div_ceil(CHUNK) * CHUNK
    }

    /// The groups of rows: (count, rows of group g).
    fn groups(&self) -> (usize, impl Fn(usize) -> Range<usize>) {
        blocks(self.k, self.k.div_ceil(MAX_GROUPS))
    }

    /// Multiply-adds a step of the forward takes.
    fn work(&self) -> usize {
        let per_pair: usize = self.layers.iter().map(|l| l.fan_in * l.fan_out).sum();
        self.k * self.k * (per_pair + self.width)
    }
}

/// What the kernels read: the layers' weights copied dense, V transposed and padded.
pub(super) struct Inputs<'a> {
    net: &'a PairNet,
    /// Per layer: W (fan_out × fan_in) then b (fan_out).
    weights: Vec<(Vec<f32>, Vec<f32>)>,
    u: &'a [f32],
    /// Vᵀ: width × padded K, zero past K.
    vt: Vec<f32>,
    kp: usize,
}

impl<'a> Inputs<'a> {
    fn new(net: &'a PairNet, params: &[f32], u: &'a [f32], v: &[f32]) -> Self {
        let (k, w) = (net.k, net.width);
        assert!(
            u.len() >= k * w && v.len() >= k * w,
            "U and V are K × width"
        );
        let weights = net
            .layers
            .iter()
            .map(|l| {
                let mut wt = Vec::with_capacity(l.fan_out * l.fan_in);
                for o in 0..l.fan_out {
                    let at = l.w_off + o * l.ldw;
                    wt.extend_from_slice(&params[at..at + l.fan_in]);
                }
                (wt, params[l.b_off..l.b_off + l.fan_out].to_vec())
            })
            .collect();
        let kp = net.padded();
        let mut vt = vec![0.0; w * kp];
        for j in 0..k {
            for c in 0..w {
                vt[c * kp + j] = v[j * w + c];
            }
        }
        Self {
            net,
            weights,
            u,
            vt,
            kp,
        }
    }
}

/// A chunk's activations (h₀ first) and their gradients, per layer width × CHUNK.
pub(super) struct Chunk {
    h: Vec<Vec<f32>>,
    d: Vec<Vec<f32>>,
}

impl Chunk {
    fn new(net: &PairNet) -> Self {
        let widths: Vec<usize> = std::iter::once(net.width)
            .chain(net.layers.iter().map(|l| l.fan_out))
            .collect();
        let h = widths.iter().map(|w| vec![0.0; w * CHUNK]).collect();
        let d = widths.iter().map(|w| vec![0.0; w * CHUNK]).collect();
        Self { h, d }
    }
}

/// A group's partial sums: per layer dW and db in [`V`] lanes, dVᵀ, and dU of its rows.
pub(super) struct Partial {
    dw: Vec<Vec<[f32; V]>>,
    db: Vec<Vec<[f32; V]>>,
    dvt: Vec<f32>,
    du: Vec<f32>,
    /// The group's working space (every value written before it is read): a chunk for
    /// each chunk of a row, and a row's scores and their gradients.
    chunks: Vec<Chunk>,
    srow: Vec<f32>,
    drow: Vec<f32>,
}

impl Partial {
    fn new(net: &PairNet, rows: usize) -> Self {
        let (k, w) = (net.k, net.width);
        let kp = net.padded();
        Self {
            dw: net
                .layers
                .iter()
                .map(|l| vec![[0.0; V]; l.fan_in * l.fan_out])
                .collect(),
            db: net
                .layers
                .iter()
                .map(|l| vec![[0.0; V]; l.fan_out])
                .collect(),
            dvt: vec![0.0; w * kp],
            du: vec![0.0; rows * w],
            chunks: (0..kp / CHUNK).map(|_| Chunk::new(net)).collect(),
            srow: vec![0.0; k],
            drow: vec![0.0; k],
        }
    }

    /// Zeroes the sums for another step.
    fn reset(&mut self) {
        for l in self.dw.iter_mut().chain(self.db.iter_mut()) {
            l.fill([0.0; V]);
        }
        self.dvt.fill(0.0);
        self.du.fill(0.0);
    }
}

/// The backward's per-group space, kept from step to step by the caller (a step would
/// otherwise allocate and fault in megabytes).
#[derive(Default)]
pub struct Scratch {
    net: Option<PairNet>,
    parts: Vec<Partial>,
}

impl Scratch {
    /// The groups' partials for `net`, zeroed.
    fn parts(&mut self, net: &PairNet) -> &mut [Partial] {
        if self.net.as_ref() != Some(net) {
            let (groups, range) = net.groups();
            self.parts = (0..groups)
                .map(|g| Partial::new(net, range(g).len()))
                .collect();
            self.net = Some(net.clone());
        }
        for p in &mut self.parts {
            p.reset();
        }
        &mut self.parts
    }
}

/// The chunk kernels: the forward of row i's chunk at pairs j0.. into `c.h`, and its
/// backward from `c.d`'s top (dS) into the partial sums and dU's lanes.
#[derive(Clone, Copy)]
enum Kernels {
    Plain,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernels {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Kernels::Avx2;
        }
        Kernels::Plain
    }

    fn forward(self, x: &Inputs<'_>, c: &mut Chunk, i: usize, j0: usize) {
        match self {
            Kernels::Plain => plain::forward_chunk(x, c, i, j0),
            // SAFETY: AVX2 and FMA were detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::forward_chunk(x, c, i, j0) },
        }
    }

    fn backward(
        self,
        x: &Inputs<'_>,
        c: &mut Chunk,
        p: &mut Partial,
        du: &mut [[f32; V]],
        j0: usize,
    ) {
        match self {
            Kernels::Plain => plain::backward_chunk(x, c, p, du, j0),
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::backward_chunk(x, c, p, du, j0) },
        }
    }
}

/// Scores of rows `rows` into `out` (those rows of S, K a row).
fn forward_rows(kern: Kernels, x: &Inputs<'_>, rows: Range<usize>, out: &mut [f32]) {
    let k = x.net.k;
    let mut c = Chunk::new(x.net);
    for (r, i) in rows.enumerate() {
        for j0 in (0..k).step_by(CHUNK) {
            kern.forward(x, &mut c, i, j0);
            let n = CHUNK.min(k - j0);
            let s = c.h.last().expect("layers");
            out[r * k + j0..r * k + j0 + n].copy_from_slice(&s[..n]);
        }
    }
}

/// Where a backward's dS comes from.
#[derive(Clone, Copy)]
enum Top<'a> {
    /// The bound op's dS (K×K).
    Given(&'a [f32]),
    /// InfoNCE on each row's scores as the row is computed: its gradient needs that row
    /// alone, so each chunk's forward is kept and never recomputed.
    InfoNce,
}

/// The backward of rows `rows` into `p`; returns InfoNCE's Σ (S_ii − LSE_i) over them (0
/// for a given dS).
fn backward_rows(
    kern: Kernels,
    x: &Inputs<'_>,
    top: Top<'_>,
    rows: Range<usize>,
    p: &mut Partial,
) -> f64 {
    let (k, w) = (x.net.k, x.net.width);
    let mut chunks = std::mem::take(&mut p.chunks);
    let (mut srow, mut drow) = (std::mem::take(&mut p.srow), std::mem::take(&mut p.drow));
    let mut terms = 0.0f64;
    for (r, i) in rows.enumerate() {
        if let Top::InfoNce = top {
            for (jc, c) in chunks.iter_mut().enumerate() {
                let j0 = jc * CHUNK;
                kern.forward(x, c, i, j0);
                let n = CHUNK.min(k - j0);
                srow[j0..j0 + n].copy_from_slice(&c.h.last().expect("layers")[..n]);
            }
            terms += crate::cpu::fast::ops::info_nce_row_for(&srow, i, &mut drow);
        }
        let mut du = vec![[0.0f32; V]; w];
        for jc in 0..chunks.len() {
            let j0 = jc * CHUNK;
            let n = CHUNK.min(k - j0);
            let c = match top {
                Top::Given(ds) => {
                    let c = &mut chunks[0];
                    kern.forward(x, c, i, j0);
                    c.d.last_mut().expect("layers")[..n]
                        .copy_from_slice(&ds[i * k + j0..i * k + j0 + n]);
                    c
                }
                Top::InfoNce => {
                    let c = &mut chunks[jc];
                    c.d.last_mut().expect("layers")[..n].copy_from_slice(&drow[j0..j0 + n]);
                    c
                }
            };
            c.d.last_mut().expect("layers")[n..].fill(0.0);
            kern.backward(x, c, p, &mut du, j0);
        }
        for (ch, lanes) in du.into_iter().enumerate() {
            p.du[r * w + ch] = fold(lanes);
        }
    }
    (p.chunks, p.srow, p.drow) = (chunks, srow, drow);
    terms
}

/// [`V`] lanes added pairwise, in a fixed tree.
fn fold(v: [f32; V]) -> f32 {
    let a = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
    (a[0] + a[2]) + (a[1] + a[3])
}

/// S (K×K) = the pair network's scores. Panics if a buffer is shorter than the shapes need.
pub fn forward(pool: &Pool, net: &PairNet, params: &[f32], u: &[f32], v: &[f32], s: &mut [f32]) {
    let k = net.k;
    assert!(s.len() >= k * k, "scores are K×K");
    let x = Inputs::new(net, params, u, v);
    let kern = Kernels::detect();
    let (_, range) = net.groups();
    let rows = range(0).len().max(1);
    pool.chunks_mut(&mut s[..k * k], rows * k, net.work(), |g, out| {
        forward_rows(kern, &x, range(g), out)
    });
}

/// The backward from dS (K×K): each layer's dW and db into `grads` at `slots`, dU and dV
/// (K × width each) into `du` and `dv`. Panics if a buffer is shorter than the shapes need.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    pool: &Pool,
    net: &PairNet,
    slots: &PairGradSlots,
    params: &[f32],
    (u, v): (&[f32], &[f32]),
    ds: &[f32],
    grads: &mut [f32],
    (du, dv): (&mut [f32], &mut [f32]),
    scratch: &mut Scratch,
) {
    assert!(ds.len() >= net.k * net.k, "dS is K×K");
    let top = Top::Given(ds);
    run_backward(
        pool,
        net,
        slots,
        params,
        (u, v),
        top,
        grads,
        (du, dv),
        scratch,
    );
}

/// InfoNCE on the pair network's scores, forward and backward in one pass over the rows (no
/// K×K matrix, no recomputed forward): each layer's dW and db into `grads` at `slots`, dU
/// and dV into `du` and `dv`. Returns the bound's value, log K + mean_i (S_ii − LSE_i).
/// Panics if a buffer is shorter than the shapes need.
#[allow(clippy::too_many_arguments)]
pub fn info_nce(
    pool: &Pool,
    net: &PairNet,
    slots: &PairGradSlots,
    params: &[f32],
    (u, v): (&[f32], &[f32]),
    grads: &mut [f32],
    (du, dv): (&mut [f32], &mut [f32]),
    scratch: &mut Scratch,
) -> f64 {
    let top = Top::InfoNce;
    let terms = run_backward(
        pool,
        net,
        slots,
        params,
        (u, v),
        top,
        grads,
        (du, dv),
        scratch,
    );
    (net.k as f64).ln() + terms / net.k as f64
}

/// The backward from `top`, its partial sums added in group order; returns InfoNCE's Σ
/// (S_ii − LSE_i) (0 for a given dS).
#[allow(clippy::too_many_arguments)]
fn run_backward(
    pool: &Pool,
    net: &PairNet,
    slots: &PairGradSlots,
    params: &[f32],
    (u, v): (&[f32], &[f32]),
    top: Top<'_>,
    grads: &mut [f32],
    (du, dv): (&mut [f32], &mut [f32]),
    scratch: &mut Scratch,
) -> f64 {
    let (k, w) = (net.k, net.width);
    assert!(du.len() >= k * w && dv.len() >= k * w);
    let x = Inputs::new(net, params, u, v);
    let kern = Kernels::detect();
    let (_, range) = net.groups();
    let parts = scratch.parts(net);
    let terms: f64 = pool
        .map_chunks_mut(parts, 1, 3 * net.work(), |g, p| {
            backward_rows(kern, &x, top, range(g), &mut p[0])
        })
        .iter()
        .sum();
    for (l, layer) in net.layers.iter().enumerate() {
        let (w_off, ldw) = slots.w[l];
        for o in 0..layer.fan_out {
            for ci in 0..layer.fan_in {
                let total = parts
                    .iter()
                    .fold(0.0f32, |t, p| t + fold(p.dw[l][o * layer.fan_in + ci]));
                grads[w_off + o * ldw + ci] = total;
            }
            grads[slots.b[l] + o] = parts.iter().fold(0.0f32, |t, p| t + fold(p.db[l][o]));
        }
    }
    for (g, p) in parts.iter().enumerate() {
        let r = range(g);
        du[r.start * w..r.end * w].copy_from_slice(&p.du);
    }
    // dVᵀ's partials added element-wise in group order, then transposed.
    let mut dvt = vec![0.0f32; w * x.kp];
    for p in parts.iter() {
        for (t, v) in dvt.iter_mut().zip(&p.dvt) {
            *t += v;
        }
    }
    for j in 0..k {
        for ch in 0..w {
            dv[j * w + ch] = dvt[ch * x.kp + j];
        }
    }
    terms
}
