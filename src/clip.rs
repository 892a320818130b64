//! Gradient norms and clipping on the host: the max-norm clip an estimate may apply to its
//! critic's gradient, and adaptive gradient clipping (Belghazi et al. 2018, MINE §3.2; seed
//! 004) for an MI term used as a loss on a caller's model.
//!
//! Adaptive clipping: when a model is trained on a main loss plus an MI term, the MI
//! gradient can be orders of magnitude larger than the main one (DV's gradient is weighted by
//! e^T) and swamp it. The MI gradient is rescaled to at most the main gradient's norm:
//!
//! ```text
//! g_MI ← g_MI · min(‖g_main‖, ‖g_MI‖) / ‖g_MI‖
//! ```
//!
//! The device version of both is [`crate::gpu::GpuContext::grad_norm`] (`clip.wgsl`), and
//! [`adaptive_clip_gpu`] wraps it for one buffer.

use crate::gpu::kernels::ClipMode;
use crate::gpu::{GpuBuffer, GpuContext};
use crate::Error;

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

fn check_gradient(what: &str, g: &[f32]) -> Result<(), Error> {
    match g.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::InvalidInput(format!(
            "{what} has a non-finite element at index {i}"
        ))),
        None => Ok(()),
    }
}

fn check_norm(what: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{what} must be finite and non-negative, not {v}"
        )))
    }
}

/// Adaptive clipping in place: g_MI ← g_MI · min(‖g_main‖, ‖g_MI‖)/‖g_MI‖. Returns the
/// factor applied. A non-finite gradient element or a negative or non-finite `main_norm` is an
/// error.
pub fn adaptive_clip(g_mi: &mut [f32], main_norm: f64) -> Result<f64, Error> {
    check_gradient("the MI gradient", g_mi)?;
    check_norm("the main loss's gradient norm", main_norm)?;
    let factor = adaptive_factor(l2_norm(g_mi), main_norm);
    scale(g_mi, factor);
    Ok(factor)
}

/// Max-norm clipping in place: g ← g · max_norm/‖g‖ when ‖g‖ > max_norm. Returns the factor.
pub fn clip_to_max_norm(g: &mut [f32], max_norm: f64) -> Result<f64, Error> {
    check_gradient("the gradient", g)?;
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(Error::InvalidInput(format!(
            "the max gradient norm must be positive and finite, not {max_norm}"
        )));
    }
    let factor = max_norm_factor(l2_norm(g), max_norm);
    scale(g, factor);
    Ok(factor)
}

/// What a device clip measured and applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceClip {
    /// ‖g_MI‖ before the rescale.
    pub norm: f32,
    /// The factor g_MI was multiplied by.
    pub factor: f32,
}

/// [`adaptive_clip`] on the device: rescales `g_mi` in place (one submission, waited for)
/// and returns its norm and the factor. For recording into a training step of one's own,
/// use [`GpuContext::grad_norm`] with [`ClipMode::Adaptive`] and ‖g_main‖ in a buffer.
pub fn adaptive_clip_gpu(
    ctx: &GpuContext,
    g_mi: &GpuBuffer,
    main_norm: f32,
) -> Result<DeviceClip, Error> {
    check_norm("the main loss's gradient norm", f64::from(main_norm))?;
    let n = g_mi.len();
    let scratch = ctx.zeros("clip scratch", GpuContext::clip_scratch_len(n))?;
    let limit = ctx.upload("main gradient norm", &[main_norm])?;
    let launches = ctx.grad_norm(ClipMode::Adaptive, g_mi, &scratch, &limit, None)?;
    ctx.run(&launches, 1)?;
    let at = GpuContext::clip_norm_index(n);
    let s: Vec<f32> = ctx.read(&scratch)?;
    if !s[at].is_finite() {
        return Err(Error::InvalidInput(
            "the MI gradient on the device has a non-finite norm".into(),
        ));
    }
    Ok(DeviceClip {
        norm: s[at],
        factor: s[at + 1],
    })
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

    #[test]
    fn adaptive_clip_rescales_to_the_main_norm() {
        let mut g = vec![3.0f32, 4.0]; // ‖g‖ = 5
        let f = adaptive_clip(&mut g, 1.0).unwrap();
        assert_eq!(f, 0.2);
        assert_eq!(g, [0.6f32, 0.8]);
        let mut small = vec![0.3f32, 0.4];
        assert_eq!(adaptive_clip(&mut small, 1.0).unwrap(), 1.0);
        assert_eq!(small, [0.3f32, 0.4]);
        assert!(adaptive_clip(&mut [f32::NAN], 1.0).is_err());
        assert!(adaptive_clip(&mut [1.0], -1.0).is_err());
        assert!(clip_to_max_norm(&mut [1.0], 0.0).is_err());
    }
}
