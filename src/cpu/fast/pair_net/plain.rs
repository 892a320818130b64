//! The chunk kernels in portable Rust: the order of operations of [`super::avx2`], element
//! by element (a multiply-add fused where the architecture always has FMA, aarch64).

use super::{Chunk, Inputs, Partial, CHUNK, V};

/// a·b + c, rounded once on aarch64 (FMA is baseline there), twice elsewhere.
#[inline(always)]
fn madd(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(target_arch = "aarch64") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Row `r` (width × CHUNK layout) of a chunk buffer.
#[inline(always)]
fn row(buf: &[f32], r: usize) -> &[f32; CHUNK] {
    buf[r * CHUNK..(r + 1) * CHUNK].try_into().expect("chunk")
}

/// The forward of row i's chunk at pairs j0.. into `c.h`.
pub fn forward_chunk(x: &Inputs<'_>, c: &mut Chunk, i: usize, j0: usize) {
    let w = x.net.width;
    for ch in 0..w {
        let ui = x.u[i * w + ch];
        let vt = &x.vt[ch * x.kp + j0..ch * x.kp + j0 + CHUNK];
        let out = &mut c.h[0][ch * CHUNK..(ch + 1) * CHUNK];
        for (o, v) in out.iter_mut().zip(vt) {
            *o = (ui + v).max(0.0);
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
                let h = row(hin, ci);
                for t in 0..CHUNK {
                    acc[t] = madd(wv, h[t], acc[t]);
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

/// Σ over a chunk's V-lane vectors of f(vector q), q in order, into V lanes.
#[inline(always)]
fn chunk_sum(f: impl Fn(usize, usize) -> f32) -> [f32; V] {
    let mut s = [0.0f32; V];
    for (t, s) in s.iter_mut().enumerate() {
        *s = f(0, t);
    }
    for q in 1..CHUNK / V {
        for (t, s) in s.iter_mut().enumerate() {
            *s += f(q, t);
        }
    }
    s
}

/// The backward of the chunk whose forward is in `c.h` and whose dS is the top of `c.d`.
pub fn backward_chunk(
    x: &Inputs<'_>,
    c: &mut Chunk,
    p: &mut Partial,
    du: &mut [[f32; V]],
    j0: usize,
) {
    let layers = &x.net.layers;
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        let (wt, _) = &x.weights[l];
        let (dlow, dhigh) = c.d.split_at_mut(l + 1);
        let (d, dprev) = (&dhigh[0], &mut dlow[l]);
        let hin = &c.h[l];
        for o in 0..layer.fan_out {
            let dov = row(d, o);
            let s = chunk_sum(|q, t| dov[q * V + t]);
            for (acc, v) in p.db[l][o].iter_mut().zip(s) {
                *acc += v;
            }
            for ci in 0..layer.fan_in {
                let hv = row(hin, ci);
                let mut s = [0.0f32; V];
                for t in 0..V {
                    s[t] = dov[t] * hv[t];
                }
                for q in 1..CHUNK / V {
                    for t in 0..V {
                        s[t] = madd(dov[q * V + t], hv[q * V + t], s[t]);
                    }
                }
                for (acc, v) in p.dw[l][o * layer.fan_in + ci].iter_mut().zip(s) {
                    *acc += v;
                }
            }
        }
        for ci in 0..layer.fan_in {
            let mut acc = [0.0f32; CHUNK];
            for o in 0..layer.fan_out {
                let wv = wt[o * layer.fan_in + ci];
                let dv = row(d, o);
                for t in 0..CHUNK {
                    acc[t] = madd(wv, dv[t], acc[t]);
                }
            }
            let mask = row(hin, ci);
            let out = &mut dprev[ci * CHUNK..(ci + 1) * CHUNK];
            for ((o, a), m) in out.iter_mut().zip(acc).zip(mask) {
                *o = if *m > 0.0 { a } else { 0.0 };
            }
        }
    }
    let d0 = &c.d[0];
    for (ch, lanes) in du.iter_mut().enumerate() {
        let dv = row(d0, ch);
        let s = chunk_sum(|q, t| dv[q * V + t]);
        for (acc, v) in lanes.iter_mut().zip(s) {
            *acc += v;
        }
        let at = ch * x.kp + j0;
        for (o, v) in p.dvt[at..at + CHUNK].iter_mut().zip(dv) {
            *o += v;
        }
    }
}
