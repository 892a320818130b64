//! Adaptive gradient clipping of one device buffer (`clip.wgsl`), for an MI term used as a
//! regulariser on a caller's model; the arithmetic is [`crate::math::clip`]'s.

use super::kernels::ClipMode;
use super::{GpuBuffer, GpuContext, GpuError};

/// What a device clip measured and applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceClip {
    /// ‖g_MI‖ before the rescale.
    pub norm: f32,
    /// The factor g_MI was multiplied by.
    pub factor: f32,
}

/// Adaptive clipping on the device: rescales `g_mi` in place to at most `main_norm` (one
/// submission, waited for) and returns its norm and the factor. `main_norm` must be finite
/// and non-negative (the caller checks it); a non-finite norm of `g_mi` is
/// [`GpuError::NonFiniteNorm`]. For recording into a training step of one's own, use
/// [`GpuContext::grad_norm`] with [`ClipMode::Adaptive`] and ‖g_main‖ in a buffer.
pub fn adaptive_clip(
    ctx: &GpuContext,
    g_mi: &GpuBuffer,
    main_norm: f32,
) -> Result<DeviceClip, GpuError> {
    let n = g_mi.len();
    let scratch = ctx.zeros("clip scratch", GpuContext::clip_scratch_len(n))?;
    let limit = ctx.upload("main gradient norm", &[main_norm])?;
    let launches = ctx.grad_norm(ClipMode::Adaptive, g_mi, &scratch, &limit, None)?;
    ctx.run(&launches, 1)?;
    let at = GpuContext::clip_norm_index(n);
    let s: Vec<f32> = ctx.read(&scratch)?;
    if !s[at].is_finite() {
        return Err(GpuError::NonFiniteNorm {
            what: "the MI gradient",
        });
    }
    Ok(DeviceClip {
        norm: s[at],
        factor: s[at + 1],
    })
}
