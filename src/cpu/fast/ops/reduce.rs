//! Column sums (the bias gradients, `reduce.wgsl`) and the gradient's squared norm, with the
//! rows split into fixed chunks whose partial sums are added in chunk order.

use crate::cpu::fast::pool::{blocks, Pool};
use crate::math::linalg::{extent, ColumnSumSpec};

/// Rows a chunk of a column sum covers.
const CHUNK_ROWS: usize = 1024;
/// Elements a chunk of a squared norm covers.
const CHUNK_NORM: usize = 1 << 14;
/// Independent accumulators of a squared norm: a vector's worth, so the loop vectorises.
const LANES: usize = 8;

/// out[out_off + j] = Σ_i src[in_off + i·ld + j], in f32: each chunk of rows summed in row
/// order, the chunks' sums in chunk order. Panics if a buffer is shorter than the spec needs.
pub fn column_sums(pool: &Pool, spec: &ColumnSumSpec, src: &[f32], out: &mut [f32]) {
    let s = spec;
    assert!(src.len() >= extent(s.rows, s.cols, s.ld, s.in_off));
    assert!(out.len() >= s.out_off + s.cols);
    let (count, range) = blocks(s.rows, CHUNK_ROWS);
    let partials = pool.map(count, s.rows * s.cols, |b| {
        let mut acc = vec![0.0f32; s.cols];
        for i in range(b) {
            let at = s.in_off + i * s.ld;
            for (a, v) in acc.iter_mut().zip(&src[at..at + s.cols]) {
                *a += v;
            }
        }
        acc
    });
    let out = &mut out[s.out_off..s.out_off + s.cols];
    out.fill(0.0);
    for p in &partials {
        for (o, v) in out.iter_mut().zip(p) {
            *o += v;
        }
    }
}

/// Σ g², accumulated in f64 lanes over fixed chunks (the lanes and chunks added in order).
pub fn sum_squares(pool: &Pool, g: &[f32]) -> f64 {
    let (count, range) = blocks(g.len(), CHUNK_NORM);
    let partials = pool.map(count, g.len(), |b| {
        let mut lanes = [0.0f64; LANES];
        let part = &g[range(b)];
        let mut it = part.chunks_exact(LANES);
        for c in &mut it {
            for (l, v) in lanes.iter_mut().zip(c) {
                *l += f64::from(*v) * f64::from(*v);
            }
        }
        let tail: f64 = it
            .remainder()
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        lanes.iter().sum::<f64>() + tail
    });
    partials.iter().sum()
}

/// g ← g · factor, in f32.
pub fn scale(g: &mut [f32], factor: f64) {
    let f = factor as f32;
    for v in g {
        *v *= f;
    }
}
