//! Synthetic data with a known mutual information (SPEC §4).
//!
//! Every generator draws from the counter-based stream (`crate::math::rng`), so a task is a pure
//! function of its settings and seed: runs are reproducible, and the device sampler
//! (`sample.wgsl`, twinned by [`crate::math::sampling`]) can draw the staircase's batches itself.
//!
//! Host-side streams, all under [`Purpose::Gaussian`] and told apart by the step word (the
//! device sampler uses the training step there instead, so host data sets and device batches
//! of one seed may share draws; nothing ever mixes the two):
//!
//! | step word | draws |
//! |---|---|
//! | 0 | x normals of the correlated and independent Gaussians, z of [`gaussian_with_covariance`] |
//! | 1 | ε normals of the correlated Gaussian, y normals of [`independent`] |
//! | 2 | the additive-uniform task: word 0 of block i for x_i, word 1 for its noise |

use crate::estimate::validate::setting;
use crate::math::rng::{draw, normal_f32, uniform_f32, Purpose};
use crate::Error;

/// Step word of the x (or z) normals; see the module table.
const STREAM_X: u32 = 0;
/// Step word of the noise / y normals.
const STREAM_NOISE: u32 = 1;
/// Step word of the additive-uniform task.
const STREAM_UNIFORM: u32 = 2;

/// I(X; Y) in nats of y = ρx + √(1−ρ²)ε with x, ε ~ N(0, I_d): −(d/2) log(1 − ρ²).
pub fn gaussian_mi(dim: usize, rho: f64) -> f64 {
    -0.5 * dim as f64 * (1.0 - rho * rho).ln()
}

/// The ρ that gives a d-dimensional correlated Gaussian the mutual information `mi` nats.
pub fn rho_for_mi(dim: usize, mi: f64) -> f64 {
    (1.0 - (-2.0 * mi / dim as f64).exp()).sqrt()
}

/// n samples of the d-dimensional correlated Gaussian: x, ε ~ N(0, I_d),
/// y = ρx + √(1−ρ²)ε, row-major (n × d each), from the counter-based stream (seed, Gaussian).
pub fn correlated_gaussian(dim: usize, rho: f64, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let total = n * dim;
    let x: Vec<f32> = (0..total)
        .map(|i| normal_f32(seed, Purpose::Gaussian, STREAM_X, i as u32))
        .collect();
    let s = (1.0 - rho * rho).sqrt();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| {
            let e = normal_f32(seed, Purpose::Gaussian, STREAM_NOISE, i as u32);
            (rho * f64::from(xi) + s * f64::from(e)) as f32
        })
        .collect();
    (x, y)
}

pub use crate::math::sampling::Transform;

/// [`correlated_gaussian`] with `transform` applied to y: the same x and the same
/// untransformed y, so the true MI is still [`gaussian_mi`]`(dim, rho)`.
pub fn transformed_gaussian(
    dim: usize,
    rho: f64,
    n: usize,
    seed: u64,
    transform: Transform,
) -> (Vec<f32>, Vec<f32>) {
    let (x, mut y) = correlated_gaussian(dim, rho, n, seed);
    for v in &mut y {
        *v = transform.apply(*v);
    }
    (x, y)
}

/// Independent x ~ N(0, I_dx) and y ~ N(0, I_dy): I = 0, for the independence check of
/// SPEC §5. With dx = dy this is exactly [`correlated_gaussian`] at ρ = 0 (same streams).
pub fn independent(dx: usize, dy: usize, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let x = (0..n * dx)
        .map(|i| normal_f32(seed, Purpose::Gaussian, STREAM_X, i as u32))
        .collect();
    let y = (0..n * dy)
        .map(|i| normal_f32(seed, Purpose::Gaussian, STREAM_NOISE, i as u32))
        .collect();
    (x, y)
}

/// I(X; Y) in nats of Y = X + U(−ε, ε), X ~ U(0, 1), per coordinate:
/// ε − ln 2ε for ε ≤ ½, 1/(4ε) otherwise (SPEC §4).
///
/// SPEC's formula checked: I = h(Y) − ln 2ε, and Y's density is a trapezoid. For ε ≤ ½ its
/// two ramps of width 2ε contribute ε/2 of entropy each and the flat top (height 1) none,
/// so h(Y) = ε; for ε > ½ the ramps have width 1 and the top height 1/(2ε), which gives
/// h(Y) = ln 2ε + 1/(4ε). Both branches agree with SPEC and meet at ε = ½ (I = ½); the unit
/// test `additive_uniform_truth_matches_numeric_integration` integrates h(Y) numerically.
pub fn additive_uniform_mi(eps: f64) -> f64 {
    if eps <= 0.5 {
        eps - (2.0 * eps).ln()
    } else {
        0.25 / eps
    }
}

/// n samples of `dim` independent copies of the additive-uniform task: x ~ U(0, 1)^dim,
/// y = x + U(−ε, ε)^dim, row-major; the true MI is `dim ·` [`additive_uniform_mi`]`(eps)`.
/// Element i uses block i of (seed, Gaussian, step word 2): word 0 for x, word 1 for the noise.
pub fn additive_uniform(dim: usize, eps: f64, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let (x, y) = (0..n * dim)
        .map(|i| {
            let b = draw(seed, Purpose::Gaussian, STREAM_UNIFORM, i as u32);
            let x = uniform_f32(b[0]);
            let noise = eps * (2.0 * f64::from(uniform_f32(b[1])) - 1.0);
            (x, (f64::from(x) + noise) as f32)
        })
        .unzip();
    (x, y)
}

/// The lower Cholesky factor of the symmetric `m × m` matrix `a` (row-major), or `None`
/// when it is not positive definite.
fn cholesky(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * m + k] * l[j * m + k]).sum();
            let v = a[i * m + j] - s;
            if i == j {
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[i * m + i] = v.sqrt();
            } else {
                l[i * m + j] = v / l[j * m + j];
            }
        }
    }
    Some(l)
}

/// log det of a positive-definite matrix from its Cholesky factor.
fn log_det(l: &[f64], m: usize) -> f64 {
    2.0 * (0..m).map(|i| l[i * m + i].ln()).sum::<f64>()
}

/// The principal block `[lo, hi)² ` of the `m × m` matrix `a`.
fn block(a: &[f64], m: usize, lo: usize, hi: usize) -> Vec<f64> {
    (lo..hi)
        .flat_map(|i| (lo..hi).map(move |j| a[i * m + j]))
        .collect()
}

/// Checks that `cov` is a symmetric positive-definite (dx+dy)² matrix; returns its factor.
fn checked_cholesky(cov: &[f64], dx: usize, dy: usize) -> Result<Vec<f64>, Error> {
    let m = dx + dy;
    if dx == 0 || dy == 0 {
        return Err(setting(
            "a joint Gaussian's dx and dy",
            "at least 1",
            format!("{dx} and {dy}"),
        )
        .into());
    }
    if cov.len() != m * m {
        return Err(setting(
            "the entries of a covariance over [x; y]",
            "(dx + dy)²",
            format!("{} for dx = {dx}, dy = {dy}", cov.len()),
        )
        .into());
    }
    for i in 0..m {
        for j in 0..i {
            let (a, b) = (cov[i * m + j], cov[j * m + i]);
            // Relative tolerance: a covariance computed by the user is symmetric up to rounding.
            if (a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0) || a.is_nan() {
                return Err(setting(
                    "the covariance",
                    "symmetric",
                    format!("{a} at ({i}, {j}) against {b}"),
                )
                .into());
            }
        }
    }
    cholesky(cov, m).ok_or_else(|| {
        setting(
            "the covariance",
            "positive definite",
            "singular or indefinite",
        )
        .into()
    })
}

/// I(X; Y) in nats of a joint Gaussian with covariance `cov` over [x; y] ((dx+dy)²,
/// row-major): ½ log(det Σ_xx det Σ_yy / det Σ) (SPEC §4).
pub fn gaussian_mi_from_covariance(cov: &[f64], dx: usize, dy: usize) -> Result<f64, Error> {
    let m = dx + dy;
    let l = checked_cholesky(cov, dx, dy)?;
    // Principal blocks of a positive-definite matrix are positive definite.
    let lx = cholesky(&block(cov, m, 0, dx), dx).expect("principal block");
    let ly = cholesky(&block(cov, m, dx, m), dy).expect("principal block");
    Ok(0.5 * (log_det(&lx, dx) + log_det(&ly, dy) - log_det(&l, m)))
}

/// n samples of the zero-mean joint Gaussian with covariance `cov` over [x; y]:
/// [x; y] = L z with L Lᵀ = Σ and z the (seed, Gaussian, step word 0) normals. Returns
/// (x: n × dx, y: n × dy), row-major; the true MI is [`gaussian_mi_from_covariance`].
pub fn gaussian_with_covariance(
    cov: &[f64],
    dx: usize,
    dy: usize,
    n: usize,
    seed: u64,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    let m = dx + dy;
    let l = checked_cholesky(cov, dx, dy)?;
    let mut x = Vec::with_capacity(n * dx);
    let mut y = Vec::with_capacity(n * dy);
    let mut z = vec![0.0f64; m];
    for row in 0..n {
        for (c, zc) in z.iter_mut().enumerate() {
            *zc = f64::from(normal_f32(
                seed,
                Purpose::Gaussian,
                STREAM_X,
                (row * m + c) as u32,
            ));
        }
        for i in 0..m {
            let v: f64 = (0..=i).map(|k| l[i * m + k] * z[k]).sum();
            if i < dx {
                x.push(v as f32);
            } else {
                y.push(v as f32);
            }
        }
    }
    Ok((x, y))
}

/// The staircase benchmark of SMILE and VBMI (SPEC §4): a d-dimensional correlated Gaussian
/// whose true MI steps through `mis`, `steps_per_stage` training steps each, y optionally
/// transformed. The device draws its batches itself from [`Self::rho_schedule`]
/// (`GpuContext::sample_gaussian_batch`); [`Self::sample`] draws the same batch on the host.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Staircase {
    /// Dimension d of x and of y.
    pub dim: usize,
    /// The true MI of each stage, in nats.
    pub mis: Vec<f64>,
    /// Training steps per stage.
    pub steps_per_stage: u32,
    /// The invertible map applied to y.
    pub transform: Transform,
}

impl Default for Staircase {
    /// SPEC §4: d = 20, I = 2, 4, 6, 8, 10 nats for 4 000 steps each, identity transform.
    fn default() -> Self {
        Self {
            dim: 20,
            mis: vec![2.0, 4.0, 6.0, 8.0, 10.0],
            steps_per_stage: 4000,
            transform: Transform::Identity,
        }
    }
}

impl Staircase {
    /// The benchmark's batch size K (SPEC §4); the schedule itself does not depend on it.
    pub const BATCH: usize = 64;

    /// Sets the dimension d.
    pub fn with_dim(mut self, dim: usize) -> Self {
        self.dim = dim;
        self
    }

    /// Sets the true MI of each stage, in nats.
    pub fn with_mis(mut self, mis: &[f64]) -> Self {
        self.mis = mis.to_vec();
        self
    }

    /// Sets the number of training steps per stage.
    pub fn with_steps_per_stage(mut self, steps: u32) -> Self {
        self.steps_per_stage = steps;
        self
    }

    /// Sets the map applied to y.
    pub fn with_transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }

    /// Fails unless d ≥ 1, there is at least one stage, every stage's MI is finite and ≥ 0,
    /// a stage has at least one step and the whole schedule fits a u32 step counter.
    pub fn validate(&self) -> Result<(), Error> {
        if self.dim == 0 {
            return Err(setting("the staircase's dimension", "at least 1", 0).into());
        }
        if self.mis.is_empty() {
            return Err(setting("the staircase's stages", "at least one", "none").into());
        }
        if let Some(bad) = self.mis.iter().find(|m| !(m.is_finite() && **m >= 0.0)) {
            return Err(setting("a staircase stage's MI", "finite and ≥ 0", bad).into());
        }
        if self.steps_per_stage == 0 {
            return Err(setting("a staircase stage", "at least one step", 0).into());
        }
        if u32::try_from(self.mis.len() as u64 * u64::from(self.steps_per_stage)).is_err() {
            return Err(setting(
                "the staircase's total steps",
                "at most 2³² − 1 (a u32 step counter)",
                self.mis.len() as u64 * u64::from(self.steps_per_stage),
            )
            .into());
        }
        Ok(())
    }

    /// Steps in the whole schedule: stages × steps per stage (20 000 by default).
    /// Saturates at u32::MAX for a schedule that [`Self::validate`] rejects.
    pub fn total_steps(&self) -> u32 {
        (self.mis.len() as u64 * u64::from(self.steps_per_stage)).min(u64::from(u32::MAX)) as u32
    }

    /// The stage that `step` belongs to. Steps past the end stay in the last stage, as the
    /// device clamps its schedule index, so training on past the schedule is well defined.
    /// Panics if there is no stage.
    pub fn stage_of(&self, step: u32) -> usize {
        assert!(!self.mis.is_empty(), "the staircase has no stage");
        (step / self.steps_per_stage.max(1)).min(self.mis.len() as u32 - 1) as usize
    }

    /// The true MI in nats at `step`.
    pub fn true_mi_at(&self, step: u32) -> f64 {
        self.mis[self.stage_of(step)]
    }

    /// The correlation ρ at `step`: [`rho_for_mi`]`(dim, true_mi_at(step))`.
    pub fn rho_at(&self, step: u32) -> f64 {
        rho_for_mi(self.dim, self.true_mi_at(step))
    }

    /// ρ for every step of the schedule (`total_steps()` entries, as f32), the buffer the
    /// device sampler reads `rho[step]` from.
    pub fn rho_schedule(&self) -> Vec<f32> {
        // One ρ per stage, repeated: rho_for_mi runs once a stage, not once a step.
        self.mis
            .iter()
            .flat_map(|&mi| {
                let rho = rho_for_mi(self.dim, mi) as f32;
                std::iter::repeat_n(rho, self.steps_per_stage as usize)
            })
            .collect()
    }

    /// The batch the device draws at `step` (K × d each for x and y, row-major), computed on
    /// the host: [`crate::math::sampling::sample_gaussian_batch`] at this step's ρ.
    pub fn sample(&self, seed: u64, step: u32, k: usize) -> (Vec<f32>, Vec<f32>) {
        let rho = [self.rho_at(step) as f32];
        // A one-entry schedule: the twin clamps every step to it.
        crate::math::sampling::sample_gaussian_batch(seed, step, k, self.dim, self.transform, &rho)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Means, variances and correlation of two equally long samples.
    fn moments(a: &[f32], b: &[f32]) -> (f64, f64, f64, f64, f64) {
        let n = a.len() as f64;
        let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let cov: f64 = a
            .iter()
            .zip(b)
            .map(|(&u, &v)| (f64::from(u) - ma) * (f64::from(v) - mb))
            .sum::<f64>()
            / n;
        let va: f64 = a.iter().map(|&u| (f64::from(u) - ma).powi(2)).sum::<f64>() / n;
        let vb: f64 = b.iter().map(|&v| (f64::from(v) - mb).powi(2)).sum::<f64>() / n;
        (ma, mb, va, vb, cov / (va * vb).sqrt())
    }

    /// Column `c` of an n × d row-major matrix.
    fn column(m: &[f32], d: usize, c: usize) -> Vec<f32> {
        m.iter().skip(c).step_by(d).copied().collect()
    }

    #[test]
    fn seed_000_demo_truth() {
        assert!((gaussian_mi(1, 0.8) - 0.5108).abs() < 1e-4);
        assert!((rho_for_mi(20, 2.0) - (1.0 - (-0.2f64).exp()).sqrt()).abs() < 1e-12);
        assert!((gaussian_mi(5, rho_for_mi(5, 1.0)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn samples_have_the_stated_correlation() {
        let (x, y) = correlated_gaussian(1, 0.8, 50_000, 3);
        let (_, _, _, _, r) = moments(&x, &y);
        assert!((r - 0.8).abs() < 0.01, "correlation {r}");
    }

    #[test]
    fn every_coordinate_has_the_stated_moments() {
        let (d, n, rho) = (3, 20_000, 0.6);
        let (x, y) = correlated_gaussian(d, rho, n, 8);
        for c in 0..d {
            let (mx, my, vx, vy, r) = moments(&column(&x, d, c), &column(&y, d, c));
            // Standard errors at n = 20 000: mean 0.007, variance 0.01, correlation 0.005.
            assert!(mx.abs() < 0.03 && my.abs() < 0.03, "means {mx} {my}");
            assert!(
                (vx - 1.0).abs() < 0.05 && (vy - 1.0).abs() < 0.05,
                "{vx} {vy}"
            );
            assert!((r - rho).abs() < 0.025, "coordinate {c}: correlation {r}");
            // Different coordinates are uncorrelated.
            let other = column(&y, d, (c + 1) % d);
            let (_, _, _, _, r0) = moments(&column(&x, d, c), &other);
            assert!(r0.abs() < 0.04, "cross-coordinate correlation {r0}");
        }
    }

    #[test]
    fn cubic_transform_keeps_x_and_cubes_y() {
        let (x0, y0) = correlated_gaussian(2, 0.7, 500, 4);
        let (x, y) = transformed_gaussian(2, 0.7, 500, 4, Transform::Cubic);
        assert_eq!(x, x0);
        for (a, b) in y.iter().zip(&y0) {
            assert_eq!(*a, b * b * b);
        }
        let (_, y1) = transformed_gaussian(2, 0.7, 500, 4, Transform::Identity);
        assert_eq!(y1, y0);
        // E[x y³] = 3ρ for standard normals with correlation ρ (Isserlis).
        let (x, y) = transformed_gaussian(1, 0.5, 100_000, 6, Transform::Cubic);
        let m = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum::<f64>()
            / x.len() as f64;
        assert!((m - 1.5).abs() < 0.1, "E[x y³] = {m}");
    }

    #[test]
    fn independent_is_the_zero_correlation_gaussian() {
        let (x, y) = independent(3, 3, 400, 12);
        assert_eq!((x.clone(), y.clone()), correlated_gaussian(3, 0.0, 400, 12));
        let (x, y) = independent(2, 5, 10_000, 13);
        assert_eq!((x.len(), y.len()), (20_000, 50_000));
        for (cx, cy) in [(0, 0), (1, 4), (0, 3)] {
            let (_, _, vx, vy, r) = moments(&column(&x, 2, cx), &column(&y, 5, cy));
            assert!((vx - 1.0).abs() < 0.06 && (vy - 1.0).abs() < 0.06);
            assert!(r.abs() < 0.04, "({cx}, {cy}): correlation {r}");
        }
    }

    #[test]
    fn additive_uniform_truth_matches_numeric_integration() {
        for eps in [0.05, 0.2, 0.5, 0.7, 1.0, 3.0] {
            // h(Y) by the midpoint rule on the trapezoid density of X + U(−ε, ε).
            let density = |y: f64| {
                let lo = (y - eps).max(0.0);
                let hi = (y + eps).min(1.0);
                (hi - lo).max(0.0) / (2.0 * eps)
            };
            let (a, b, m) = (-eps, 1.0 + eps, 200_000);
            let h = (b - a) / m as f64;
            let hy: f64 = (0..m)
                .map(|i| {
                    let p = density(a + (i as f64 + 0.5) * h);
                    if p > 0.0 {
                        -p * p.ln() * h
                    } else {
                        0.0
                    }
                })
                .sum();
            let numeric = hy - (2.0 * eps).ln();
            let closed = additive_uniform_mi(eps);
            assert!(
                (numeric - closed).abs() < 1e-6,
                "ε = {eps}: numeric {numeric} vs closed form {closed}"
            );
        }
        assert!((additive_uniform_mi(0.5) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn additive_uniform_samples_have_the_stated_law() {
        let eps = 0.3;
        let (x, y) = additive_uniform(2, eps, 20_000, 5);
        assert_eq!((x.len(), y.len()), (40_000, 40_000));
        let mut noise_sum = 0.0;
        for (&a, &b) in x.iter().zip(&y) {
            assert!((0.0..1.0).contains(&a));
            let e = f64::from(b) - f64::from(a);
            assert!(e.abs() <= eps + 1e-6, "noise {e}");
            noise_sum += e;
        }
        let (mx, _, vx, vy, _) = moments(&x, &y);
        // U(0,1): mean ½, variance 1/12; Y adds the noise variance ε²/3.
        assert!((mx - 0.5).abs() < 0.01, "mean {mx}");
        assert!((vx - 1.0 / 12.0).abs() < 0.003, "variance {vx}");
        assert!(
            (vy - 1.0 / 12.0 - eps * eps / 3.0).abs() < 0.003,
            "variance {vy}"
        );
        assert!((noise_sum / 40_000.0).abs() < 0.005);
    }

    #[test]
    fn covariance_truth_and_samples() {
        // [[I, ρI], [ρI, I]] is the correlated Gaussian.
        let (d, rho) = (3, 0.6);
        let m = 2 * d;
        let mut cov = vec![0.0; m * m];
        for i in 0..m {
            cov[i * m + i] = 1.0;
        }
        for i in 0..d {
            cov[i * m + d + i] = rho;
            cov[(d + i) * m + i] = rho;
        }
        let mi = gaussian_mi_from_covariance(&cov, d, d).unwrap();
        assert!((mi - gaussian_mi(d, rho)).abs() < 1e-12, "{mi}");

        // A 1 + 2 example with scales and cross-terms; its MI from the Schur complement:
        // I = ½ log(σ_x² / (σ_x² − Σ_xy Σ_yy⁻¹ Σ_yx)).
        let cov = [4.0, 1.0, -0.5, 1.0, 2.0, 0.3, -0.5, 0.3, 1.0];
        let syy_det = 2.0 - 0.09;
        let q = (1.0 * 1.0 * 1.0 - 2.0 * 1.0 * (-0.5) * 0.3 + (-0.5) * (-0.5) * 2.0) / syy_det;
        let want = 0.5 * (4.0f64 / (4.0 - q)).ln();
        let got = gaussian_mi_from_covariance(&cov, 1, 2).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");

        let n = 40_000;
        let (x, y) = gaussian_with_covariance(&cov, 1, 2, n, 9).unwrap();
        let cols = [x.clone(), column(&y, 2, 0), column(&y, 2, 1)];
        for i in 0..3 {
            for j in 0..3 {
                let c: f64 = cols[i]
                    .iter()
                    .zip(&cols[j])
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum::<f64>()
                    / n as f64;
                let want = cov[i * 3 + j];
                // Four standard errors of a sample covariance: √((Σ_ii Σ_jj + Σ_ij²) / n).
                let tol = 4.0 * ((cov[i * 4] * cov[j * 4] + want * want) / n as f64).sqrt();
                assert!((c - want).abs() < tol, "Σ[{i}][{j}] = {c}, want {want}");
            }
        }

        assert!(gaussian_mi_from_covariance(&cov, 1, 1).is_err());
        assert!(gaussian_mi_from_covariance(&[1.0, 2.0, 2.0, 1.0], 1, 1).is_err());
        assert!(gaussian_mi_from_covariance(&[1.0, 0.5, 0.4, 1.0], 1, 1).is_err());
        assert!(gaussian_mi_from_covariance(&[1.0, f64::NAN, f64::NAN, 1.0], 1, 1).is_err());
        assert!(gaussian_with_covariance(&[1.0], 1, 0, 3, 0).is_err());
    }

    #[test]
    fn staircase_bookkeeping() {
        let s = Staircase::default();
        assert_eq!(s.dim, 20);
        assert_eq!(s.mis, vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(s.total_steps(), 20_000);
        assert!(s.validate().is_ok());
        assert_eq!(s.stage_of(0), 0);
        assert_eq!(s.stage_of(3999), 0);
        assert_eq!(s.stage_of(4000), 1);
        assert_eq!(s.stage_of(19_999), 4);
        assert_eq!(
            s.stage_of(20_000),
            4,
            "past the end stays on the last stage"
        );
        assert_eq!(s.stage_of(u32::MAX), 4);
        assert_eq!(s.true_mi_at(7999), 4.0);
        assert_eq!(s.true_mi_at(8000), 6.0);
        for step in [0, 4000, 8000, 12_000, 16_000] {
            assert!((gaussian_mi(20, s.rho_at(step)) - s.true_mi_at(step)).abs() < 1e-9);
        }
        let schedule = s.rho_schedule();
        assert_eq!(schedule.len(), 20_000);
        for step in [0u32, 1, 3999, 4000, 4001, 12_345, 19_999] {
            assert_eq!(
                schedule[step as usize],
                s.rho_at(step) as f32,
                "step {step}"
            );
        }
        // ρ rises with every stage.
        assert!(schedule.windows(2).all(|w| w[0] <= w[1]));

        let t = Staircase::default()
            .with_dim(5)
            .with_mis(&[1.0, 0.5])
            .with_steps_per_stage(3)
            .with_transform(Transform::Cubic);
        assert_eq!(
            (t.dim, t.steps_per_stage, t.transform),
            (5, 3, Transform::Cubic)
        );
        assert_eq!(t.total_steps(), 6);
        assert_eq!(
            (0..8).map(|s| t.stage_of(s)).collect::<Vec<_>>(),
            [0, 0, 0, 1, 1, 1, 1, 1]
        );
        assert_eq!(t.rho_schedule().len(), 6);

        assert!(Staircase::default().with_dim(0).validate().is_err());
        assert!(Staircase::default().with_mis(&[]).validate().is_err());
        assert!(Staircase::default()
            .with_mis(&[1.0, -1.0])
            .validate()
            .is_err());
        assert!(Staircase::default()
            .with_mis(&[f64::NAN])
            .validate()
            .is_err());
        assert!(Staircase::default()
            .with_steps_per_stage(0)
            .validate()
            .is_err());
        assert!(Staircase::default()
            .with_steps_per_stage(u32::MAX)
            .validate()
            .is_err());
    }

    #[test]
    fn staircase_samples_follow_the_schedule() {
        let s = Staircase::default()
            .with_dim(4)
            .with_mis(&[0.5, 4.0])
            .with_steps_per_stage(10);
        let k = 5000;
        for step in [0u32, 9, 10, 50] {
            let (x, y) = s.sample(1, step, k);
            assert_eq!((x.len(), y.len()), (k * 4, k * 4));
            let (_, _, _, _, r) = moments(&x, &y);
            let want = s.rho_at(step);
            // Pooled over 4 coordinates: standard error below 0.01.
            assert!((r - want).abs() < 0.04, "step {step}: {r} vs ρ {want}");
        }
    }
}
