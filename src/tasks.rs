//! Synthetic data with a known mutual information (SPEC §4).

use crate::rng::{normal_f32, Purpose};

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
        .map(|i| normal_f32(seed, Purpose::Gaussian, 0, i as u32))
        .collect();
    let s = (1.0 - rho * rho).sqrt();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| {
            let e = normal_f32(seed, Purpose::Gaussian, 1, i as u32);
            (rho * f64::from(xi) + s * f64::from(e)) as f32
        })
        .collect();
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_000_demo_truth() {
        assert!((gaussian_mi(1, 0.8) - 0.5108).abs() < 1e-4);
        assert!((rho_for_mi(20, 2.0) - (1.0 - (-0.2f64).exp()).sqrt()).abs() < 1e-12);
        assert!((gaussian_mi(5, rho_for_mi(5, 1.0)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn samples_have_the_stated_correlation() {
        let (x, y) = correlated_gaussian(1, 0.8, 50_000, 3);
        let n = x.len() as f64;
        let mx = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let my = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let cov: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| (f64::from(a) - mx) * (f64::from(b) - my))
            .sum::<f64>()
            / n;
        let vx: f64 = x.iter().map(|&a| (f64::from(a) - mx).powi(2)).sum::<f64>() / n;
        let vy: f64 = y.iter().map(|&b| (f64::from(b) - my).powi(2)).sum::<f64>() / n;
        let r = cov / (vx * vy).sqrt();
        assert!((r - 0.8).abs() < 0.01, "correlation {r}");
    }
}
