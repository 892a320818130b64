//! The concat critic's network over all K² pairs, fused: what the program's PairExpand, the
//! per-layer products over K² pair rows, their weight and bias gradients, the ReLU backward
//! and the two PairReduces compute, done in chunks of [`CHUNK`] pairs of one row i that stay
//! in L1. No K²×w activation is stored: the backward recomputes its chunk's forward (as the
//! fused score kernels recompute S on the device), so memory is O(K·w).
//!
//! The widths of these networks are small (bmi's (16, 8)), where a general matrix product
//! spends more on packing than on arithmetic; here every loop runs over the CHUNK pairs of a
//! chunk, contiguous, with the layer's weights broadcast, and vectorises.
//!
//! Sums are fixed: rows i are split into groups by K alone; a group's sums run in row, chunk
//! and lane order, and the groups' partial sums are added in group order afterwards.

use std::ops::Range;

use super::lanes::{fold, LANES};
use super::pool::{blocks, Pool};
use super::simd::{level, madd, multiversion};

/// Pairs (j) a chunk of row i covers: K is padded to a multiple of it, the padding's
/// gradients held at zero.
pub const CHUNK: usize = 64;
/// Most groups of rows (bounds the partial sums' memory).
const MAX_GROUPS: usize = 32;
/// The largest network fused: Σ fan_in·fan_out over the pair layers (each group keeps
/// [`LANES`] partial sums a weight). Wider networks run op by op on the matrix products.
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
struct Inputs<'a> {
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

/// A chunk's activations: per layer (h₀ first), width × CHUNK.
struct Chunk {
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

/// The forward of row i's chunk at pairs j0.. into `c.h`.
#[inline(always)]
fn forward_chunk<const FMA: bool>(x: &Inputs<'_>, c: &mut Chunk, i: usize, j0: usize) {
    let w = x.net.width;
    {
        let h0 = &mut c.h[0];
        for ch in 0..w {
            let ui = x.u[i * w + ch];
            let vt = &x.vt[ch * x.kp + j0..ch * x.kp + j0 + CHUNK];
            let out = &mut h0[ch * CHUNK..(ch + 1) * CHUNK];
            for (o, v) in out.iter_mut().zip(vt) {
                *o = (ui + v).max(0.0);
            }
        }
    }
    for (l, layer) in x.net.layers.iter().enumerate() {
        let (wt, b) = &x.weights[l];
        let (before, after) = c.h.split_at_mut(l + 1);
        let (hin, hout) = (&before[l], &mut after[0]);
        for o in 0..layer.fan_out {
            let mut acc = [b[o]; CHUNK];
            for ci in 0..layer.fan_in {
                let wv = wt[o * layer.fan_in + ci];
                let h: &[f32; CHUNK] = hin[ci * CHUNK..(ci + 1) * CHUNK].try_into().expect("chunk");
                for t in 0..CHUNK {
                    acc[t] = madd::<FMA>(wv, h[t], acc[t]);
                }
            }
            if layer.relu {
                for a in acc.iter_mut() {
                    *a = a.max(0.0);
                }
            }
            hout[o * CHUNK..(o + 1) * CHUNK].copy_from_slice(&acc);
        }
    }
}

/// Scores of rows `rows` into `out` (those rows of S, K a row).
#[inline(always)]
fn forward_rows<const FMA: bool>(x: &Inputs<'_>, rows: Range<usize>, out: &mut [f32]) {
    let k = x.net.k;
    let mut c = Chunk::new(x.net);
    for (r, i) in rows.enumerate() {
        for j0 in (0..k).step_by(CHUNK) {
            forward_chunk::<FMA>(x, &mut c, i, j0);
            let n = CHUNK.min(k - j0);
            let s = c.h.last().expect("layers");
            out[r * k + j0..r * k + j0 + n].copy_from_slice(&s[..n]);
        }
    }
}

/// A group's partial sums: per layer dW and db in lanes, dU of its rows, and dVᵀ.
struct Partial {
    dw: Vec<Vec<[f32; LANES]>>,
    db: Vec<Vec<[f32; LANES]>>,
    du: Vec<f32>,
    dvt: Vec<f32>,
}

/// The backward of rows `rows` from dS.
#[inline(always)]
fn backward_rows<const FMA: bool>(x: &Inputs<'_>, ds: &[f32], rows: Range<usize>) -> Partial {
    let (k, w) = (x.net.k, x.net.width);
    let layers = &x.net.layers;
    let mut p = Partial {
        dw: layers
            .iter()
            .map(|l| vec![[0.0; LANES]; l.fan_in * l.fan_out])
            .collect(),
        db: layers
            .iter()
            .map(|l| vec![[0.0; LANES]; l.fan_out])
            .collect(),
        du: vec![0.0; rows.len() * w],
        dvt: vec![0.0; w * x.kp],
    };
    let mut c = Chunk::new(x.net);
    let last = layers.len();
    for (r, i) in rows.enumerate() {
        let mut du = vec![[0.0f32; LANES]; w];
        for j0 in (0..k).step_by(CHUNK) {
            forward_chunk::<FMA>(x, &mut c, i, j0);
            let n = CHUNK.min(k - j0);
            let top = &mut c.d[last];
            top[..n].copy_from_slice(&ds[i * k + j0..i * k + j0 + n]);
            top[n..].fill(0.0);
            for l in (0..last).rev() {
                let layer = &layers[l];
                let (wt, _) = &x.weights[l];
                let (dlow, dhigh) = c.d.split_at_mut(l + 1);
                let (d, dprev) = (&dhigh[0], &mut dlow[l]);
                let hin = &c.h[l];
                for o in 0..layer.fan_out {
                    let dov = &d[o * CHUNK..(o + 1) * CHUNK];
                    for q in dov.chunks_exact(LANES) {
                        let acc = &mut p.db[l][o];
                        for t in 0..LANES {
                            acc[t] += q[t];
                        }
                    }
                    for ci in 0..layer.fan_in {
                        let hv = &hin[ci * CHUNK..(ci + 1) * CHUNK];
                        let acc = &mut p.dw[l][o * layer.fan_in + ci];
                        for (dq, hq) in dov.chunks_exact(LANES).zip(hv.chunks_exact(LANES)) {
                            for t in 0..LANES {
                                acc[t] = madd::<FMA>(dq[t], hq[t], acc[t]);
                            }
                        }
                    }
                }
                for ci in 0..layer.fan_in {
                    let mut acc = [0.0f32; CHUNK];
                    for o in 0..layer.fan_out {
                        let wv = wt[o * layer.fan_in + ci];
                        let dv: &[f32; CHUNK] =
                            d[o * CHUNK..(o + 1) * CHUNK].try_into().expect("chunk");
                        for t in 0..CHUNK {
                            acc[t] = madd::<FMA>(wv, dv[t], acc[t]);
                        }
                    }
                    let mask = &hin[ci * CHUNK..(ci + 1) * CHUNK];
                    let out = &mut dprev[ci * CHUNK..(ci + 1) * CHUNK];
                    for ((o, a), m) in out.iter_mut().zip(acc).zip(mask) {
                        *o = if *m > 0.0 { a } else { 0.0 };
                    }
                }
            }
            let d0 = &c.d[0];
            for ch in 0..w {
                let dv = &d0[ch * CHUNK..(ch + 1) * CHUNK];
                for q in dv.chunks_exact(LANES) {
                    for t in 0..LANES {
                        du[ch][t] += q[t];
                    }
                }
                let out = &mut p.dvt[ch * x.kp + j0..ch * x.kp + j0 + CHUNK];
                for (o, v) in out.iter_mut().zip(dv) {
                    *o += v;
                }
            }
        }
        for (ch, lanes) in du.into_iter().enumerate() {
            p.du[r * w + ch] = fold(lanes);
        }
    }
    p
}

multiversion!(
    /// [`forward_rows`] compiled for `level`.
    fn forward_rows_at(x: &Inputs<'_>, rows: Range<usize>, out: &mut [f32]) -> () = forward_rows
);
multiversion!(
    /// [`backward_rows`] compiled for `level`.
    fn backward_rows_at(x: &Inputs<'_>, ds: &[f32], rows: Range<usize>) -> Partial = backward_rows
);

/// S (K×K) = the pair network's scores. Panics if a buffer is shorter than the shapes need.
pub fn forward(pool: &Pool, net: &PairNet, params: &[f32], u: &[f32], v: &[f32], s: &mut [f32]) {
    let k = net.k;
    assert!(s.len() >= k * k, "scores are K×K");
    let x = Inputs::new(net, params, u, v);
    let level = level();
    let (_, range) = net.groups();
    let rows = range(0).len().max(1);
    pool.chunks_mut(&mut s[..k * k], rows * k, net.work(), |g, out| {
        forward_rows_at(level, &x, range(g), out)
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
) {
    let (k, w) = (net.k, net.width);
    assert!(ds.len() >= k * k && du.len() >= k * w && dv.len() >= k * w);
    let x = Inputs::new(net, params, u, v);
    let level = level();
    let (groups, range) = net.groups();
    let parts = pool.map(groups, 3 * net.work(), |g| {
        backward_rows_at(level, &x, ds, range(g))
    });
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
    let kp = x.kp;
    for j in 0..k {
        for ch in 0..w {
            dv[j * w + ch] = parts.iter().fold(0.0f32, |t, p| t + p.dvt[ch * kp + j]);
        }
    }
}
