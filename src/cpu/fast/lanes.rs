//! Sums and maxima over a slice in a fixed number of independent lanes: the compiler may
//! vectorise a loop whose accumulators are independent, never one long chain of float adds
//! (that would change the rounding). The lanes are added in lane order, so the result is a
//! fixed function of the slice.

/// Accumulators a lane loop keeps: one AVX-512 vector of f32, two of AVX2.
pub const LANES: usize = 16;

/// Σ f(xᵢ, bᵢ) over `x` and `b` zipped (`b` at least as long as `x`), in f32 lanes.
#[inline(always)]
pub fn sum2(x: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let b = &b[..x.len()];
    let mut lanes = [0.0f32; LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut bs = b.chunks_exact(LANES);
    for (xc, bc) in (&mut xs).zip(&mut bs) {
        let (xc, bc) = (lane(xc), lane(bc));
        for l in 0..LANES {
            lanes[l] += f(xc[l], bc[l]);
        }
    }
    let mut tail = 0.0f32;
    for (&x, &b) in xs.remainder().iter().zip(bs.remainder()) {
        tail += f(x, b);
    }
    fold(lanes) + tail
}

/// max f(xᵢ, bᵢ) (−∞ for an empty slice; NaN terms are passed over, as `f32::max` does).
#[inline(always)]
pub fn max2(x: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let b = &b[..x.len()];
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut bs = b.chunks_exact(LANES);
    for (xc, bc) in (&mut xs).zip(&mut bs) {
        let (xc, bc) = (lane(xc), lane(bc));
        for l in 0..LANES {
            lanes[l] = lanes[l].max(f(xc[l], bc[l]));
        }
    }
    let mut m = f32::NEG_INFINITY;
    for v in lanes {
        m = m.max(v);
    }
    for (&x, &b) in xs.remainder().iter().zip(bs.remainder()) {
        m = m.max(f(x, b));
    }
    m
}

/// A chunk of [`LANES`] values as an array: indexing it needs no bounds checks, which is
/// what lets a loop over its lanes vectorise.
#[inline(always)]
pub fn lane(chunk: &[f32]) -> &[f32; LANES] {
    chunk.try_into().expect("a chunk of LANES values")
}

/// The lanes added pairwise, in a fixed tree.
#[inline(always)]
pub fn fold(mut lanes: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            lanes[l] += lanes[l + width];
        }
        width /= 2;
    }
    lanes[0]
}
