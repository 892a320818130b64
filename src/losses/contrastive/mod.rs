//! Contrastive losses for users who bring their own embeddings: InfoNCE (the row-wise
//! cross-entropy of the scores S = G·Hᵀ/T against the diagonal) and its symmetric CLIP form
//! (the mean of the row-wise and column-wise cross-entropies), with the gradients with respect
//! to both embedding sets.
//!
//! With G (K×e) and H (K×e), row-major, and S_ij = ⟨G_i, H_j⟩/T:
//!
//! ```text
//! L_row = (1/K) Σ_i [log Σ_j e^(S_ij) − S_ii]      L_col = (1/K) Σ_j [log Σ_i e^(S_ij) − S_jj]
//! InfoNCE: L = L_row                               symmetric: L = (L_row + L_col)/2
//! ```
//!
//! L_row = ln K − I_NCE(S), the InfoNCE bound (SPEC §2) at K: the device computes it with the
//! fused kernels of `matrix_bounds.wgsl`, which never store the K×K scores (memory O(K·e)).
//! Entry points: [`ContrastiveLoss`] (host slices, or the caller's own wgpu
//! buffers on a device shared through [`crate::gpu::GpuContext::from_device`]), and
//! [`reference::reference`], the f64 reference the device is tested against.
//!
//! **As a regulariser beside a main loss** (Belghazi et al. 2018), the MI term's
//! gradient can swamp the main one; adaptive clipping rescales it to
//! g_MI · min(‖g_main‖, ‖g_MI‖)/‖g_MI‖. Clip the gradient that the two losses share:
//! [`ContrastiveOutput::adaptive_clip`] when the main loss's gradient is taken with respect
//! to the same embeddings; after back-propagating into your parameters,
//! [`crate::losses::clip::adaptive_clip`] on the host or [`crate::losses::clip::adaptive_clip_gpu`] (and
//! [`crate::gpu::GpuContext::grad_norm`] with `ClipMode::Adaptive` inside a step you record)
//! on the device.
//!
//! ```
//! use infobound::ContrastiveOutput;
//! // ∂L/∂G and ∂L/∂H of the MI term, norm 5; the main loss's gradient has norm 1.
//! let mut out = ContrastiveOutput { loss: 1.0, dg: vec![3.0, 0.0], dh: vec![0.0, 4.0] };
//! let factor = out.adaptive_clip(1.0).unwrap();
//! assert_eq!(factor, 0.2);
//! assert_eq!((out.dg, out.dh), (vec![0.6, 0.0], vec![0.0, 0.8]));
//! ```

use crate::gpu::GpuError;
use crate::losses::clip::ClipError;

mod device;
pub mod reference;

pub use device::ContrastiveLoss;

/// Which contrastive loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContrastiveForm {
    /// InfoNCE: the cross-entropy of each row of S against its diagonal entry (x → y).
    #[default]
    InfoNce,
    /// CLIP's symmetric form: the mean of the row-wise and the column-wise cross-entropies.
    Symmetric,
}

/// A contrastive loss's settings: `Default` (InfoNCE at temperature 1) plus `with_*` setters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ContrastiveConfig {
    /// The temperature T (scores are ⟨G_i, H_j⟩/T); positive and finite.
    pub temperature: f32,
    /// InfoNCE or its symmetric form.
    pub form: ContrastiveForm,
}

impl Default for ContrastiveConfig {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            form: ContrastiveForm::InfoNce,
        }
    }
}

impl ContrastiveConfig {
    setter!(/// Sets the temperature T.
        with_temperature, temperature: f32);
    setter!(/// Sets the form (InfoNCE or symmetric).
        with_form, form: ContrastiveForm);

    /// Checks the temperature.
    pub fn validate(&self) -> Result<(), ContrastiveError> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(ContrastiveError::Temperature {
                value: self.temperature,
            });
        }
        Ok(())
    }
}

/// A loss and its gradients, read back to the host.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastiveOutput {
    /// The loss, nats.
    pub loss: f64,
    /// ∂L/∂G (K×e, row-major).
    pub dg: Vec<f32>,
    /// ∂L/∂H (K×e, row-major).
    pub dh: Vec<f32>,
}

impl ContrastiveOutput {
    /// Adaptive gradient clipping of both gradients together, for the loss used as a
    /// regulariser beside a main loss whose gradient with respect to the same embeddings has
    /// norm `main_norm`: (∂L/∂G, ∂L/∂H) ← (∂L/∂G, ∂L/∂H) · min(‖g_main‖, ‖g_MI‖)/‖g_MI‖, with
    /// ‖g_MI‖ the norm of both together. Returns the factor applied; errors on a non-finite
    /// gradient or a `main_norm` that is negative or not finite.
    pub fn adaptive_clip(&mut self, main_norm: f64) -> Result<f64, ClipError> {
        use crate::math::clip;
        let joint = clip::l2_norm(&self.dg).hypot(clip::l2_norm(&self.dh));
        if !joint.is_finite() {
            return Err(ClipError::Norm {
                what: "the contrastive gradient's norm",
                rule: "finite",
                value: joint,
            });
        }
        if !(main_norm.is_finite() && main_norm >= 0.0) {
            return Err(ClipError::Norm {
                what: "the main loss's gradient norm",
                rule: "finite and non-negative",
                value: main_norm,
            });
        }
        let factor = clip::adaptive_factor(joint, main_norm);
        clip::scale(&mut self.dg, factor);
        clip::scale(&mut self.dh, factor);
        Ok(factor)
    }
}

/// Why a contrastive loss could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContrastiveError {
    /// An embedding set does not hold K×e values.
    #[error("bad shape: {what} holds {len} values, not K·e = {k}·{e} = {}", .k * .e)]
    Shape {
        /// "G" or "H".
        what: &'static str,
        /// Values it holds.
        len: usize,
        /// The batch K.
        k: usize,
        /// The embedding width e.
        e: usize,
    },
    /// A device buffer holds fewer than K×e values.
    #[error("bad shape: {what} holds {len} values, fewer than K·e = {k}·{e} = {}", .k * .e)]
    ShortBuffer {
        /// "G", "H", "dG" or "dH".
        what: &'static str,
        /// Values it holds.
        len: usize,
        /// The batch K.
        k: usize,
        /// The embedding width e.
        e: usize,
    },
    /// K or e is zero.
    #[error("bad shape: K and e must be at least 1, not K = {k}, e = {e}")]
    ZeroSize {
        /// The batch K.
        k: usize,
        /// The embedding width e.
        e: usize,
    },
    /// K·e does not fit a usize.
    #[error("bad shape: K·e = {k}·{e} overflows")]
    Overflow {
        /// The batch K.
        k: usize,
        /// The embedding width e.
        e: usize,
    },
    /// Two of G, H, dG and dH are one buffer.
    #[error("bad shape: {first} and {second} are one buffer; G, H, dG and dH must be four different buffers")]
    Aliased {
        /// The first of the two.
        first: &'static str,
        /// The second.
        second: &'static str,
    },
    /// The temperature is not positive and finite.
    #[error("the temperature must be positive and finite, not {value}")]
    Temperature {
        /// The temperature given.
        value: f32,
    },
    /// An input value is NaN or infinite.
    #[error("{what}[{index}] = {value} is not finite")]
    NonFinite {
        /// "G" or "H".
        what: &'static str,
        /// The flat index of the first such value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The loss computed on the device is not finite: an input in the caller's buffers was
    /// not finite, or the scores overflowed f32 (raise the temperature or normalise).
    #[error("the contrastive loss is {value}: an input is not finite or the scores overflow f32")]
    NonFiniteLoss {
        /// The loss read back.
        value: f64,
    },
    /// The device failed or refused the launch.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl From<ContrastiveError> for crate::Error {
    fn from(e: ContrastiveError) -> Self {
        match e {
            ContrastiveError::Gpu(g) => crate::Error::Gpu(g),
            other => crate::Error::Loss(Box::new(other)),
        }
    }
}

/// Checks K, e and the lengths of G and H, and that every value is finite.
pub fn check_inputs(g: &[f32], h: &[f32], k: usize, e: usize) -> Result<(), ContrastiveError> {
    let ke = check_shape(k, e)?;
    for (what, v) in [("G", g), ("H", h)] {
        if v.len() != ke {
            return Err(ContrastiveError::Shape {
                what,
                len: v.len(),
                k,
                e,
            });
        }
        if let Some(index) = v.iter().position(|x| !x.is_finite()) {
            return Err(ContrastiveError::NonFinite {
                what,
                index,
                value: v[index],
            });
        }
    }
    Ok(())
}

/// K·e, when K ≥ 1, e ≥ 1 and the product fits.
pub(crate) fn check_shape(k: usize, e: usize) -> Result<usize, ContrastiveError> {
    if k == 0 || e == 0 {
        return Err(ContrastiveError::ZeroSize { k, e });
    }
    k.checked_mul(e).ok_or(ContrastiveError::Overflow { k, e })
}
