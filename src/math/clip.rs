//! Gradient-norm arithmetic both backends share: the global L2 norm, the max-norm clip factor
//! an estimate may apply to its critic's gradient, and the adaptive-clipping factor of
//! Belghazi et al. (2018, MINE §3.2):
//!
//! ```text
//! g_MI ← g_MI · min(‖g_main‖, ‖g_MI‖) / ‖g_MI‖
//! ```
//!
//! The device computes the same in `clip.wgsl` ([`crate::gpu::GpuContext::grad_norm`]); the
//! user-facing clips are in [`crate::losses::clip`].

/// ‖g‖₂, accumulated in f64.
pub fn l2_norm(g: &[f32]) -> f64 {
    g.iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// The factor a max-norm clip multiplies a gradient of norm `norm` by: max_norm/norm above
/// the limit, else 1 (also for a zero gradient).
pub fn max_norm_factor(norm: f64, max_norm: f64) -> f64 {
    if norm > max_norm && norm > 0.0 {
        max_norm / norm
    } else {
        1.0
    }
}

/// The adaptive-clipping factor min(‖g_main‖, ‖g_MI‖)/‖g_MI‖ (1 for a zero MI gradient,
/// which stays zero).
pub fn adaptive_factor(mi_norm: f64, main_norm: f64) -> f64 {
    if mi_norm > 0.0 {
        main_norm.min(mi_norm) / mi_norm
    } else {
        1.0
    }
}

/// Multiplies every element by `factor` (in f64, rounded once).
pub fn scale(g: &mut [f32], factor: f64) {
    for v in g {
        *v = (f64::from(*v) * factor) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_follow_the_formulas() {
        assert_eq!(max_norm_factor(10.0, 2.0), 0.2);
        assert_eq!(max_norm_factor(1.0, 2.0), 1.0);
        assert_eq!(max_norm_factor(0.0, 2.0), 1.0);
        assert_eq!(adaptive_factor(8.0, 2.0), 0.25);
        assert_eq!(adaptive_factor(2.0, 8.0), 1.0);
        assert_eq!(adaptive_factor(0.0, 8.0), 1.0);
    }
}
