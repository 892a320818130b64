//! The concat critic's pair ops (`pairs.wgsl`): relu(U_i + V_j) over all K² pairs, and the
//! sums of a pair gradient over j or over i. Each output element is summed by one thread in
//! index order, so the bits do not depend on the thread count.

use crate::cpu::fast::pool::Pool;

/// Pair rows a block of the expansion covers, at least (whole i rows are taken).
const BLOCK_PAIRS: usize = 2048;

/// out (K²×w) = relu(U_i + V_j), as `pair_expand`. Panics if a buffer is shorter than K·w
/// (U, V) or K²·w (out).
pub fn pair_expand(pool: &Pool, k: usize, width: usize, u: &[f32], v: &[f32], out: &mut [f32]) {
    let w = width;
    assert!(u.len() >= k * w && v.len() >= k * w && out.len() >= k * k * w);
    if k == 0 || w == 0 {
        return;
    }
    let rows_i = BLOCK_PAIRS.div_ceil(k).max(1);
    let out = &mut out[..k * k * w];
    pool.chunks_mut(out, rows_i * k * w, k * k * w, |blk, chunk| {
        for (ii, block) in chunk.chunks_exact_mut(k * w).enumerate() {
            let i = blk * rows_i + ii;
            let ui = &u[i * w..(i + 1) * w];
            for (vj, o) in v[..k * w].chunks_exact(w).zip(block.chunks_exact_mut(w)) {
                for ((o, a), b) in o.iter_mut().zip(ui).zip(vj) {
                    *o = (a + b).max(0.0);
                }
            }
        }
    });
}

/// The sums of a K×K×w pair gradient over j (`rows`: out_i = Σ_j src_ij) or over i
/// (out_j = Σ_i src_ij), as `pair_reduce`, in f32, each in index order. Panics if `src` is
/// shorter than K²·w or `out` than K·w.
pub fn pair_reduce(pool: &Pool, rows: bool, k: usize, width: usize, src: &[f32], out: &mut [f32]) {
    let w = width;
    assert!(src.len() >= k * k * w && out.len() >= k * w);
    if k == 0 || w == 0 {
        return;
    }
    let out = &mut out[..k * w];
    let per = BLOCK_PAIRS.div_ceil(k).max(1);
    if rows {
        pool.chunks_mut(out, per * w, k * k * w, |blk, chunk| {
            for (ii, acc) in chunk.chunks_exact_mut(w).enumerate() {
                let i = blk * per + ii;
                acc.fill(0.0);
                for s in src[i * k * w..(i + 1) * k * w].chunks_exact(w) {
                    for (a, v) in acc.iter_mut().zip(s) {
                        *a += v;
                    }
                }
            }
        });
    } else {
        // Each block owns a range of columns j and walks every row i over it, in order.
        pool.chunks_mut(out, per * w, k * k * w, |blk, chunk| {
            let j0 = blk * per;
            let len = chunk.len();
            chunk.fill(0.0);
            for i in 0..k {
                let at = (i * k + j0) * w;
                for (a, v) in chunk.iter_mut().zip(&src[at..at + len]) {
                    *a += v;
                }
            }
        });
    }
}
