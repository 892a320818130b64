//! bmi's two Gaussian covariance constructions (Czyż et al., 2023, "Beyond normal", §4 and
//! Appendix; bmi's `task_multinormal_dense` and `task_multinormal_sparse`). Their MI is the
//! closed form ½ ln(det Σ_xx det Σ_yy / det Σ) of [`crate::experiments::tasks::gaussian_mi_from_covariance`].

/// bmi's "multinormal-dense" covariance over [x; y]: unit variances and the same correlation
/// `off_diag` between every two distinct coordinates, (1 − c) I + c 1 1ᵀ (bmi's default
/// c = 0.5).
///
/// With dx = dy = d its MI is ½ ln(det Σ_xx det Σ_yy / det Σ) with det of the m × m block
/// (1 − c)^(m−1) (1 + (m − 1)c), i.e. ½ ln((1 + (d−1)c)² / ((1 − c)(1 + (2d−1)c))): at c = ½,
/// ½ ln((1+d)² / (1+2d)) = 0.144, 0.294, 0.593, 1.292 nats for d = 1, 2, 5, 25.
pub fn dense_covariance(dx: usize, dy: usize, off_diag: f64) -> Vec<f64> {
    let m = dx + dy;
    (0..m * m)
        .map(|k| if k / m == k % m { 1.0 } else { off_diag })
        .collect()
}

/// bmi's "multinormal-sparse" covariance (its Gaussian latent-variable model with α = β = 0,
/// λ = η = `strength`, ε = 1): x_i = λ Z_i + E_i and y_i = λ Z_i + F_i for the first `pairs`
/// coordinates, the others λ V_i + E_i (or F_i) with their own latent, all latents N(0, 1).
/// So every variance is 1 + λ², Cov(x_i, y_i) = λ² for i < `pairs` and every other covariance
/// is 0: the pairs correlate at λ² / (1 + λ²) = 0.8 for bmi's default λ = 2, and
/// I = −(pairs/2) ln(1 − 0.8²) = 0.511 nats a pair (bmi's "2-pair" tasks: 1.022).
/// `pairs` is capped at min(dx, dy).
pub fn sparse_covariance(dx: usize, dy: usize, pairs: usize, strength: f64) -> Vec<f64> {
    let m = dx + dy;
    let lambda2 = strength * strength;
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        c[i * m + i] = 1.0 + lambda2;
    }
    for i in 0..pairs.min(dx).min(dy) {
        c[i * m + dx + i] = lambda2;
        c[(dx + i) * m + i] = lambda2;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::tasks::gaussian_mi_from_covariance;

    #[test]
    fn dense_mi_matches_its_closed_form() {
        for d in [1usize, 2, 5, 25] {
            let got = gaussian_mi_from_covariance(&dense_covariance(d, d, 0.5), d, d).unwrap();
            let want = 0.5 * (((1 + d) * (1 + d)) as f64 / (1 + 2 * d) as f64).ln();
            assert!((got - want).abs() < 1e-10, "d = {d}: {got} vs {want}");
        }
    }

    #[test]
    fn sparse_mi_counts_the_pairs() {
        let pair = -0.5 * (1.0f64 - 0.64).ln();
        for (d, pairs) in [(1usize, 1.0), (2, 2.0), (5, 2.0), (25, 2.0)] {
            let got = gaussian_mi_from_covariance(&sparse_covariance(d, d, 2, 2.0), d, d).unwrap();
            assert!((got - pairs * pair).abs() < 1e-10, "d = {d}: {got}");
        }
        let c = sparse_covariance(2, 3, 2, 2.0);
        assert_eq!((c[0], c[2], c[5 + 3], c[5 * 5 - 1]), (5.0, 4.0, 4.0, 5.0));
    }
}
