//! The special functions the suite's closed forms and maps need, in f64, from `statrs` (the
//! crate the marginal transform already uses for Φ⁻¹).

/// Euler–Mascheroni constant γ = −ψ(1).
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    statrs::function::gamma::ln_gamma(x)
}

/// The digamma function ψ(x) = d/dx ln Γ(x) for x > 0; NaN for x ≤ 0 or NaN.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    statrs::function::gamma::digamma(x)
}

/// The standard normal CDF Φ(x) = ½ erfc(−x / √2), accurate in the lower tail as well
/// (erfc, unlike 1 + erf, does not cancel there).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_known_values() {
        let ln2 = std::f64::consts::LN_2;
        // ψ(1) = −γ, ψ(½) = −γ − 2 ln 2, ψ(n + 1) = ψ(n) + 1/n.
        assert!((digamma(1.0) + EULER_GAMMA).abs() < 1e-12);
        assert!((digamma(0.5) + EULER_GAMMA + 2.0 * ln2).abs() < 1e-12);
        let h4 = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        assert!((digamma(5.0) - (h4 - EULER_GAMMA)).abs() < 1e-12);
        // ψ(n + ½) = −γ − 2 ln 2 + Σₖ₌₁ⁿ 2/(2k − 1).
        let s: f64 = (1..=7).map(|k| 2.0 / (2.0 * k as f64 - 1.0)).sum();
        assert!((digamma(7.5) - (-EULER_GAMMA - 2.0 * ln2 + s)).abs() < 1e-12);
        // Central difference of ln Γ, far from the recurrence's switch point.
        for x in [0.3, 2.7, 13.0, 40.5] {
            let h = 1e-5;
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(
                (digamma(x) - fd).abs() < 1e-8,
                "ψ({x}) = {} vs {fd}",
                digamma(x)
            );
        }
        assert!(digamma(0.0).is_nan() && digamma(-1.0).is_nan() && digamma(f64::NAN).is_nan());
    }

    #[test]
    fn ln_gamma_and_normal_cdf_known_values() {
        // Γ(½) = √π, Γ(5) = 24.
        assert!((ln_gamma(0.5) - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
        // statrs' erfc is good to about 1e-11 here: far below the f32 the maps produce.
        assert!((normal_cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-10);
        assert!((normal_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-10);
        // Φ(−10) ≈ 7.62e-24: the lower tail keeps its relative precision.
        assert!((normal_cdf(-10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-9);
    }
}
