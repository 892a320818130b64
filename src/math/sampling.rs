//! Sampling both backends share: the sampling transforms, and the host twins of the batch
//! kernels of `sample.wgsl` with the same draws: `gather_batch` (bit-identical), and the
//! synthetic Gaussian batches of the staircase (equal up to the device's log / sqrt / cos /
//! sin accuracy, see `crate::math::rng`). `gather_shuffled`'s twin is
//! [`crate::cpu::ops::gather_shuffled`].
//!
//! Draw layout of the synthetic batches, per step t (the value of `state[0]`): element
//! e = i·d + c (batch row i, coordinate c) of x is normal e of (seed, Gaussian, t), its noise ε
//! is normal [`NOISE_OFFSET`] + e of the same stream, and
//! y = transform(ρ_t x + √(1 − ρ_t²) ε) with ρ_t = rho[min(t, len − 1)]. An element's draws do
//! not depend on K, so a bigger batch extends a smaller one rather than reshuffling it.

use crate::math::rng::{derangement, normal_f32, Permutation, Purpose};

/// An invertible map applied to every coordinate of y. Invertible maps of x or y leave
/// I(X; Y) unchanged, so these change the difficulty of a task, not its answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transform {
    /// y ↦ y.
    #[default]
    Identity,
    /// y ↦ y³ (SMILE's "cubic" task): heavy tails that a critic must learn to undo.
    Cubic,
}

impl Transform {
    /// The map, in f32 exactly as `sample.wgsl` evaluates it (`y * y * y` for the cube), so the
    /// CPU twin and the device round alike.
    pub fn apply(self, y: f32) -> f32 {
        match self {
            Transform::Identity => y,
            Transform::Cubic => y * y * y,
        }
    }

    /// The value of `sample.wgsl`'s `TRANSFORM` override constant.
    pub(crate) fn shader_code(self) -> i64 {
        match self {
            Transform::Identity => 0,
            Transform::Cubic => 1,
        }
    }
}

/// First normal index of the noise ε: the upper half of the index space, so x and ε never
/// share a draw for any batch with K·d ≤ 2³¹ (the wrappers enforce that bound).
pub const NOISE_OFFSET: u32 = 0x8000_0000;

/// The data rows of a step's batch, σ(0..k) of the (seed, Minibatch, step) permutation of
/// the n rows: exactly the joint rows of `gather_shuffled` for the same step. `1 ≤ k ≤ n`.
pub fn batch_rows(seed: u64, step: u32, n: usize, k: usize) -> Vec<u32> {
    let sigma = Permutation::new(seed, Purpose::Minibatch, step, n as u32);
    (0..k as u32).map(|i| sigma.apply(i)).collect()
}

/// The twin of the `gather_batch` kernel: (Xb: k × dx, Yb: k × dy), row i of both taken
/// from data row σ(i) of [`batch_rows`]; n = rows of x.
pub fn gather_batch(
    seed: u64,
    step: u32,
    k: usize,
    x: (&[f32], usize),
    y: (&[f32], usize),
) -> (Vec<f32>, Vec<f32>) {
    let ((x, dx), (y, dy)) = (x, y);
    let n = x.len() / dx.max(1);
    let rows = batch_rows(seed, step, n, k);
    let mut xb = Vec::with_capacity(k * dx);
    let mut yb = Vec::with_capacity(k * dy);
    for &r in &rows {
        let r = r as usize;
        xb.extend_from_slice(&x[r * dx..(r + 1) * dx]);
        yb.extend_from_slice(&y[r * dy..(r + 1) * dy]);
    }
    (xb, yb)
}

/// ρ of `step` in a per-step schedule, clamped to its last entry as the device does.
/// Panics on an empty schedule (the wrappers refuse one).
pub fn rho_at(rho: &[f32], step: u32) -> f32 {
    rho[(step as usize).min(rho.len() - 1)]
}

/// Element e of a synthetic batch's x at `step`: normal e of (seed, Gaussian, step).
pub fn gaussian_x(seed: u64, step: u32, e: u32) -> f32 {
    normal_f32(seed, Purpose::Gaussian, step, e)
}

/// Element e of a synthetic batch's y at `step` with correlation `rho`, in f32 and in the
/// shader's order of operations: transform(ρ·x_e + √(max(1 − ρ², 0))·ε_e).
pub fn gaussian_y(seed: u64, step: u32, e: u32, rho: f32, transform: Transform) -> f32 {
    gaussian_y_from(
        gaussian_x(seed, step, e),
        normal_f32(seed, Purpose::Gaussian, step, NOISE_OFFSET + e),
        rho,
        transform,
    )
}

/// y from its x and noise (the shader's `gauss_y_from`), as every sampler of y computes it.
pub fn gaussian_y_from(x: f32, noise: f32, rho: f32, transform: Transform) -> f32 {
    // max(.., 0) keeps |ρ| = 1 (y = ±x) finite instead of taking √ of a rounding residue < 0.
    let s = (1.0 - rho * rho).max(0.0).sqrt();
    transform.apply(rho * x + s * noise)
}

/// The twin of `sample_gaussian_batch`: (Xb, Yb), k × d each, for `step`, with
/// ρ = [`rho_at`]`(rho, step)`.
pub fn sample_gaussian_batch(
    seed: u64,
    step: u32,
    k: usize,
    d: usize,
    transform: Transform,
    rho: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let r = rho_at(rho, step);
    (0..(k * d) as u32)
        .map(|e| {
            let x = gaussian_x(seed, step, e);
            let noise = normal_f32(seed, Purpose::Gaussian, step, NOISE_OFFSET + e);
            (x, gaussian_y_from(x, noise, r, transform))
        })
        .unzip()
}

/// The twin of `sample_gaussian_shuffled`: the 2k × 2d layout of `gather_shuffled` for a
/// synthetic batch, k joint rows [x_i ; y_i] then k rows [x_i ; y_π(i)], π the
/// (seed, Negatives, step) derangement of the batch that `gather_shuffled` uses. `k ≥ 2`.
pub fn sample_gaussian_shuffled(
    seed: u64,
    step: u32,
    k: usize,
    d: usize,
    transform: Transform,
    rho: &[f32],
) -> Vec<f32> {
    let (xb, yb) = sample_gaussian_batch(seed, step, k, d, transform, rho);
    let mut out = Vec::with_capacity(4 * k * d);
    for r in 0..2 * k {
        let i = r % k;
        let j = if r < k {
            i
        } else {
            derangement(seed, Purpose::Negatives, step, k as u32, i as u32) as usize
        };
        out.extend_from_slice(&xb[i * d..(i + 1) * d]);
        out.extend_from_slice(&yb[j * d..(j + 1) * d]);
    }
    out
}

/// The critic rows of the multisample bound as `multisample.wgsl`'s `proposals` draws them:
/// row i·(K+1) + k is [x_i ; y_i] for k = 0 and [x_i ; μ_i + σ_i ε_ik] otherwise, ε_ik,c the
/// normal of index (i·K + k − 1)·dy + c of the step's proposal stream; `dec` holds μ_i then
/// log σ_i a row.
#[allow(clippy::too_many_arguments)]
pub fn proposals(
    seed: u64,
    step: u32,
    b: usize,
    k: usize,
    (x, dx): (&[f32], usize),
    (y, dy): (&[f32], usize),
    dec: &[f32],
) -> Vec<f32> {
    let ld = dx + dy;
    let mut rows = vec![0.0f32; b * (k + 1) * ld];
    for i in 0..b {
        for kk in 0..=k {
            let r = i * (k + 1) + kk;
            rows[r * ld..r * ld + dx].copy_from_slice(&x[i * dx..(i + 1) * dx]);
            for c in 0..dy {
                rows[r * ld + dx + c] = if kk == 0 {
                    y[i * dy + c]
                } else {
                    let at = i * 2 * dy + c;
                    let index = ((i * k + kk - 1) * dy + c) as u32;
                    let eps = normal_f32(seed, Purpose::Proposal, step, index);
                    dec[at] + dec[at + dy].min(crate::math::bounds::EXP_CLIP as f32).exp() * eps
                };
            }
        }
    }
    rows
}

/// The twin of `multisample.wgsl`'s `proposal_grads`: adds Σ_k g_ik to ∂μ_i and
/// Σ_k g_ik ε_ik · σ_i to ∂log σ_i (none where log σ is at the clip), g = `dprop`
/// (B·(K+1) × dy, row i·(K+1) + k, rows k = 0 unread), ε the draws of [`proposals`] at the
/// same (seed, step); sums in f64, stored f32, into `ddec` (B × 2·dy).
#[allow(clippy::too_many_arguments)]
pub fn proposal_grads(
    seed: u64,
    step: u32,
    (b, k, dy): (usize, usize, usize),
    dec: &[f32],
    dprop: &[f32],
    ddec: &mut [f32],
) {
    let clip = crate::math::bounds::EXP_CLIP as f32;
    for i in 0..b {
        for c in 0..dy {
            let at = i * 2 * dy + c;
            let log_s = dec[at + dy];
            let (mut gm, mut gs) = (0.0f64, 0.0f64);
            for kk in 1..=k {
                let g = f64::from(dprop[(i * (k + 1) + kk) * dy + c]);
                let index = ((i * k + kk - 1) * dy + c) as u32;
                gm += g;
                gs += g * f64::from(normal_f32(seed, Purpose::Proposal, step, index));
            }
            ddec[at] = (f64::from(ddec[at]) + gm) as f32;
            if log_s < clip {
                let s = f64::from(log_s.min(clip).exp());
                ddec[at + dy] = (f64::from(ddec[at + dy]) + gs * s) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_layout_reuses_the_batch() {
        let (k, d, rho) = (5, 3, [0.3f32, 0.9]);
        for transform in [Transform::Identity, Transform::Cubic] {
            let (xb, yb) = sample_gaussian_batch(2, 1, k, d, transform, &rho);
            let out = sample_gaussian_shuffled(2, 1, k, d, transform, &rho);
            assert_eq!(out.len(), 4 * k * d);
            for r in 0..2 * k {
                let i = r % k;
                let row = &out[r * 2 * d..(r + 1) * 2 * d];
                assert_eq!(&row[..d], &xb[i * d..(i + 1) * d]);
                let j = if r < k {
                    i
                } else {
                    derangement(2, Purpose::Negatives, 1, k as u32, i as u32) as usize
                };
                assert_ne!(r >= k, i == j, "negatives never pair a row with itself");
                assert_eq!(&row[d..], &yb[j * d..(j + 1) * d]);
            }
            for e in 0..(k * d) as u32 {
                assert_eq!(yb[e as usize], gaussian_y(2, 1, e, 0.9, transform));
            }
        }
    }

    #[test]
    fn draws_do_not_depend_on_the_batch_size_and_clamp_the_schedule() {
        let rho = [0.1f32, 0.5, 0.8];
        let (x3, y3) = sample_gaussian_batch(7, 2, 3, 4, Transform::Identity, &rho);
        let (x9, y9) = sample_gaussian_batch(7, 2, 9, 4, Transform::Identity, &rho);
        assert_eq!(&x9[..12], &x3[..]);
        assert_eq!(&y9[..12], &y3[..]);
        // Steps past the schedule use its last ρ; the draws still change with the step.
        let (xa, ya) = sample_gaussian_batch(7, 50, 3, 4, Transform::Identity, &rho);
        let (_, yb) = sample_gaussian_batch(7, 50, 3, 4, Transform::Identity, &rho[2..]);
        assert_eq!(ya, yb);
        assert_ne!(xa, x3);
        assert_eq!(rho_at(&rho, 1), 0.5);
        assert_eq!(rho_at(&rho, u32::MAX), 0.8);
        // ρ = 1 gives y = x exactly, not NaN.
        let (x1, y1) = sample_gaussian_batch(7, 0, 4, 2, Transform::Identity, &[1.0]);
        assert_eq!(x1, y1);
    }
}
