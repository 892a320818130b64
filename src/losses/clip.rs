//! Gradient clipping for an MI term used as a loss on a caller's model: the max-norm clip,
//! and adaptive gradient clipping (Belghazi et al. 2018, MINE §3.2).
//!
//! When a model is trained on a main loss plus an MI term, the MI gradient can be orders of
//! magnitude larger than the main one (DV's gradient is weighted by e^T) and swamp it. The MI
//! gradient is rescaled to at most the main gradient's norm:
//!
//! ```text
//! g_MI ← g_MI · min(‖g_main‖, ‖g_MI‖) / ‖g_MI‖
//! ```
//!
//! [`adaptive_clip`] and [`clip_to_max_norm`] work on host slices; [`adaptive_clip_gpu`] on
//! one device buffer.

use crate::gpu::{GpuBuffer, GpuContext, GpuError};
use crate::math::clip::{adaptive_factor, l2_norm, max_norm_factor, scale};

pub use crate::gpu::clip::DeviceClip;

/// Why a clip was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClipError {
    /// A gradient element that is NaN or infinite.
    #[error("{what} has a non-finite element ({value}) at index {index}")]
    NonFiniteGradient {
        /// Which gradient.
        what: &'static str,
        /// The element's index.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A norm or limit outside its range.
    #[error("{what} must be {rule}, not {value}")]
    Norm {
        /// Which norm.
        what: &'static str,
        /// The rule it breaks.
        rule: &'static str,
        /// The value given.
        value: f64,
    },
    /// The device failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl From<ClipError> for crate::Error {
    fn from(e: ClipError) -> Self {
        match e {
            ClipError::Gpu(g) => g.into(),
            other => crate::Error::Loss(Box::new(other)),
        }
    }
}

fn check_gradient(what: &'static str, g: &[f32]) -> Result<(), ClipError> {
    match g.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ClipError::NonFiniteGradient {
            what,
            index,
            value: g[index],
        }),
        None => Ok(()),
    }
}

fn check_norm(what: &'static str, value: f64) -> Result<(), ClipError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ClipError::Norm {
            what,
            rule: "finite and non-negative",
            value,
        })
    }
}

/// Adaptive clipping in place: g_MI ← g_MI · min(‖g_main‖, ‖g_MI‖)/‖g_MI‖. Returns the
/// factor applied. A non-finite gradient element or a negative or non-finite `main_norm` is an
/// error.
pub fn adaptive_clip(g_mi: &mut [f32], main_norm: f64) -> Result<f64, ClipError> {
    check_gradient("the MI gradient", g_mi)?;
    check_norm("the main loss's gradient norm", main_norm)?;
    let factor = adaptive_factor(l2_norm(g_mi), main_norm);
    scale(g_mi, factor);
    Ok(factor)
}

/// Max-norm clipping in place: g ← g · max_norm/‖g‖ when ‖g‖ > max_norm. Returns the factor.
pub fn clip_to_max_norm(g: &mut [f32], max_norm: f64) -> Result<f64, ClipError> {
    check_gradient("the gradient", g)?;
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(ClipError::Norm {
            what: "the max gradient norm",
            rule: "positive and finite",
            value: max_norm,
        });
    }
    let factor = max_norm_factor(l2_norm(g), max_norm);
    scale(g, factor);
    Ok(factor)
}

/// [`adaptive_clip`] on the device: rescales `g_mi` in place (one submission, waited for)
/// and returns its norm and the factor. For recording into a training step of one's own,
/// use [`GpuContext::grad_norm`] with `ClipMode::Adaptive` and ‖g_main‖ in a buffer.
pub fn adaptive_clip_gpu(
    ctx: &GpuContext,
    g_mi: &GpuBuffer,
    main_norm: f32,
) -> Result<DeviceClip, ClipError> {
    check_norm("the main loss's gradient norm", f64::from(main_norm))?;
    Ok(crate::gpu::clip::adaptive_clip(ctx, g_mi, main_norm)?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
