//! The chunk kernels in AVX2 + FMA registers: a chunk row of [`CHUNK`] pairs is eight
//! vectors, a layer's output accumulates in eight registers (eight independent FMA chains),
//! and every partial sum takes a chunk's eight vectors in order before it is added to its
//! lanes. The compiler keeps such loops in memory when written as plain arrays (measured: a
//! store-to-load round trip a multiply-add, 10× slower), hence intrinsics.
//!
//! Safety: every function needs AVX2 and FMA (the caller detects them); every pointer below
//! is taken from a slice whose length was checked against the chunk's shape by slicing.

use std::arch::x86_64::*;

use super::{Chunk, Inputs, Partial, CHUNK, V};

/// Vectors a chunk row holds.
const NV: usize = CHUNK / V;

/// The eight vectors of a chunk row.
#[inline(always)]
unsafe fn load_row(row: &[f32]) -> [__m256; NV] {
    let row = &row[..CHUNK];
    let mut out = [_mm256_setzero_ps(); NV];
    for (q, v) in out.iter_mut().enumerate() {
        *v = _mm256_loadu_ps(row.as_ptr().add(q * V));
    }
    out
}

/// Stores eight vectors as a chunk row.
#[inline(always)]
unsafe fn store_row(row: &mut [f32], v: &[__m256; NV]) {
    let row = &mut row[..CHUNK];
    for (q, v) in v.iter().enumerate() {
        _mm256_storeu_ps(row.as_mut_ptr().add(q * V), *v);
    }
}

/// lanes += v.
#[inline(always)]
unsafe fn add_lanes(lanes: &mut [f32; V], v: __m256) {
    let sum = _mm256_add_ps(_mm256_loadu_ps(lanes.as_ptr()), v);
    _mm256_storeu_ps(lanes.as_mut_ptr(), sum);
}

/// The forward of row i's chunk at pairs j0.. into `c.h`.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn forward_chunk(x: &Inputs<'_>, c: &mut Chunk, i: usize, j0: usize) {
    let w = x.net.width;
    let zero = _mm256_setzero_ps();
    for ch in 0..w {
        let ui = _mm256_set1_ps(x.u[i * w + ch]);
        let vt = load_row(&x.vt[ch * x.kp + j0..]);
        let mut h = [zero; NV];
        for q in 0..NV {
            h[q] = _mm256_max_ps(_mm256_add_ps(ui, vt[q]), zero);
        }
        store_row(&mut c.h[0][ch * CHUNK..], &h);
    }
    for (l, layer) in x.net.layers.iter().enumerate() {
        let (wt, b) = &x.weights[l];
        let (before, after) = c.h.split_at_mut(l + 1);
        let hin = &before[l][..layer.fan_in * CHUNK];
        let hout = &mut after[0][..layer.fan_out * CHUNK];
        for o in 0..layer.fan_out {
            let wrow = &wt[o * layer.fan_in..(o + 1) * layer.fan_in];
            let mut acc = [_mm256_set1_ps(b[o]); NV];
            for (ci, &wv) in wrow.iter().enumerate() {
                let wv = _mm256_set1_ps(wv);
                let h = hin[ci * CHUNK..(ci + 1) * CHUNK].as_ptr();
                for (q, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(wv, _mm256_loadu_ps(h.add(q * V)), *a);
                }
            }
            if layer.relu {
                for a in acc.iter_mut() {
                    *a = _mm256_max_ps(*a, zero);
                }
            }
            store_row(&mut hout[o * CHUNK..], &acc);
        }
    }
}

/// The backward of the chunk whose forward is in `c.h` and whose dS is the top of `c.d`.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn backward_chunk(
    x: &Inputs<'_>,
    c: &mut Chunk,
    p: &mut Partial,
    du: &mut [[f32; V]],
    j0: usize,
) {
    let zero = _mm256_setzero_ps();
    let layers = &x.net.layers;
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        let (fi, fo) = (layer.fan_in, layer.fan_out);
        let (wt, _) = &x.weights[l];
        let (dlow, dhigh) = c.d.split_at_mut(l + 1);
        let d = &dhigh[0][..fo * CHUNK];
        let dprev = &mut dlow[l][..fi * CHUNK];
        let hin = &c.h[l][..fi * CHUNK];
        for o in 0..fo {
            let dq = load_row(&d[o * CHUNK..]);
            let mut s = dq[0];
            for v in &dq[1..] {
                s = _mm256_add_ps(*v, s);
            }
            add_lanes(&mut p.db[l][o], s);
            // Four inputs at a time: four independent chains hide the FMA latency (one
            // chain a weight stalled the loop); each weight's sum keeps its order.
            let mut ci = 0;
            while ci + 4 <= fi {
                let h = hin[ci * CHUNK..(ci + 4) * CHUNK].as_ptr();
                let mut s = [_mm256_setzero_ps(); 4];
                for (b, s) in s.iter_mut().enumerate() {
                    *s = _mm256_mul_ps(dq[0], _mm256_loadu_ps(h.add(b * CHUNK)));
                }
                for (q, v) in dq.iter().enumerate().skip(1) {
                    for (b, s) in s.iter_mut().enumerate() {
                        let hv = _mm256_loadu_ps(h.add(b * CHUNK + q * V));
                        *s = _mm256_fmadd_ps(*v, hv, *s);
                    }
                }
                for (b, s) in s.into_iter().enumerate() {
                    add_lanes(&mut p.dw[l][o * fi + ci + b], s);
                }
                ci += 4;
            }
            for ci in ci..fi {
                let h = hin[ci * CHUNK..(ci + 1) * CHUNK].as_ptr();
                let mut s = _mm256_mul_ps(dq[0], _mm256_loadu_ps(h));
                for (q, v) in dq.iter().enumerate().skip(1) {
                    s = _mm256_fmadd_ps(*v, _mm256_loadu_ps(h.add(q * V)), s);
                }
                add_lanes(&mut p.dw[l][o * fi + ci], s);
            }
        }
        for ci in 0..fi {
            let mut acc = [zero; NV];
            for o in 0..fo {
                let wv = _mm256_set1_ps(wt[o * fi + ci]);
                let dp = d[o * CHUNK..(o + 1) * CHUNK].as_ptr();
                for (q, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(wv, _mm256_loadu_ps(dp.add(q * V)), *a);
                }
            }
            let mask = load_row(&hin[ci * CHUNK..]);
            for (a, m) in acc.iter_mut().zip(mask) {
                *a = _mm256_and_ps(*a, _mm256_cmp_ps::<_CMP_GT_OQ>(m, zero));
            }
            store_row(&mut dprev[ci * CHUNK..], &acc);
        }
    }
    let d0 = &c.d[0];
    for (ch, lanes) in du.iter_mut().enumerate() {
        let dq = load_row(&d0[ch * CHUNK..]);
        let mut s = dq[0];
        for v in &dq[1..] {
            s = _mm256_add_ps(*v, s);
        }
        add_lanes(lanes, s);
        let at = ch * x.kp + j0;
        let mut acc = load_row(&p.dvt[at..]);
        for (a, v) in acc.iter_mut().zip(dq) {
            *a = _mm256_add_ps(*a, v);
        }
        store_row(&mut p.dvt[at..], &acc);
    }
}
