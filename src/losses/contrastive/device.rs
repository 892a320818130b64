//! The contrastive losses of [`crate::losses::contrastive`] on the device, built on the fused InfoNCE
//! kernels (`matrix_bounds.wgsl`): the K×K scores are recomputed tile by tile and never
//! stored, so memory is O(K·e).
//!
//! L_row = ln K − I_NCE(G/T, H), and ∂L_row/∂S is the fused InfoNCE's ∂(−I_NCE)/∂S. With
//! G' = G/T held in working space, the fused pass gives ∂L/∂G' and ∂L/∂H; ∂L/∂G = ∂L/∂G'/T.
//! The column-wise term is the same pass on (H, G'): the scores transposed. The symmetric loss
//! averages the two passes' gradients (`contrastive.wgsl`).

use super::{
    check_inputs, check_shape, ContrastiveConfig, ContrastiveError, ContrastiveForm,
    ContrastiveOutput,
};
use crate::gpu::kernels::{state, Elementwise, FusedBoundBuffers};
use crate::gpu::{Dispatch, FusedPass, GpuBuffer, GpuContext};
use crate::math::bounds::Bound;

/// A contrastive loss at fixed K and e on one device, with its working space (O(K·e)):
/// prepare it once, then compute it on any number of embedding pairs of that shape.
pub struct ContrastiveLoss<'c> {
    ctx: &'c GpuContext,
    config: ContrastiveConfig,
    k: usize,
    e: usize,
    /// G/T.
    scaled: GpuBuffer,
    /// The column-wise pass's ∂L/∂G' and ∂L/∂H (symmetric form only).
    second: Option<(GpuBuffer, GpuBuffer)>,
    /// The InfoNCE value of each pass (one element each).
    values: (GpuBuffer, GpuBuffer),
    state: GpuBuffer,
    scratch: GpuBuffer,
    loss: GpuBuffer,
}

impl<'c> ContrastiveLoss<'c> {
    /// Prepares `config`'s loss for embeddings of K rows of width e on `ctx` (which may wrap
    /// the caller's device, [`GpuContext::from_device`]). Errors on K or e of 0, a temperature
    /// that is not positive and finite, or a shape this adapter cannot run.
    pub fn new(
        ctx: &'c GpuContext,
        config: ContrastiveConfig,
        k: usize,
        e: usize,
    ) -> Result<Self, ContrastiveError> {
        config.validate()?;
        let ke = check_shape(k, e)?;
        // Every fused gradient launch loops over at least one block of its geometry.
        let backward = ctx.fused_geometry(FusedPass::Backward, k, e)?;
        ctx.check_loop_budget(
            "the fused contrastive gradient",
            backward.loops_per_block(e, 2) as u64,
        )?;
        let second = match config.form {
            ContrastiveForm::Symmetric => Some((
                ctx.zeros("contrastive dG (columns)", ke)?,
                ctx.zeros("contrastive dH (columns)", ke)?,
            )),
            ContrastiveForm::InfoNce => None,
        };
        Ok(Self {
            ctx,
            config,
            k,
            e,
            scaled: ctx.zeros("G / T", ke)?,
            second,
            values: (
                ctx.filled("InfoNCE value (rows)", 1, f32::NAN)?,
                ctx.filled("InfoNCE value (columns)", 1, f32::NAN)?,
            ),
            state: ctx.upload("contrastive state", &state::initial(0))?,
            scratch: ctx.zeros(
                "contrastive scratch",
                GpuContext::matrix_bound_scratch_len(k),
            )?,
            loss: ctx.filled("contrastive loss", 1, f32::NAN)?,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ContrastiveConfig {
        &self.config
    }

    /// The device buffer (one f32) the loss is written to by [`Self::dispatches`].
    pub fn loss_buffer(&self) -> &GpuBuffer {
        &self.loss
    }

    /// Prepares the launches that read G and H (K×e each, row-major) and write ∂L/∂G to `dg`,
    /// ∂L/∂H to `dh` and the loss to [`Self::loss_buffer`], for the caller to run
    /// ([`GpuContext::run`]) or record into its own pass ([`Dispatch::record`]) in order. No
    /// value is checked: a non-finite input gives a non-finite loss. With K = 1 (no negatives)
    /// the loss and the gradients are 0 and G and H are not read.
    pub fn dispatches(
        &self,
        g: &GpuBuffer,
        h: &GpuBuffer,
        dg: &GpuBuffer,
        dh: &GpuBuffer,
    ) -> Result<Vec<Dispatch>, ContrastiveError> {
        let (k, e, ctx) = (self.k, self.e, self.ctx);
        let ke = k * e;
        for (what, b) in [("G", g), ("H", h), ("dG", dg), ("dH", dh)] {
            if b.len() < ke {
                return Err(ContrastiveError::ShortBuffer {
                    what,
                    len: b.len(),
                    k,
                    e,
                });
            }
        }
        let all = [("G", g), ("H", h), ("dG", dg), ("dH", dh)];
        for (a, &(first, fb)) in all.iter().enumerate() {
            if let Some(&(second, _)) = all[a + 1..].iter().find(|(_, b)| b.raw() == fb.raw()) {
                return Err(ContrastiveError::Aliased { first, second });
            }
        }
        if k == 1 {
            return Ok(vec![
                ctx.elementwise(Elementwise::Fill { a: 0.0 }, ke, dg)?,
                ctx.elementwise(Elementwise::Fill { a: 0.0 }, ke, dh)?,
                ctx.elementwise(Elementwise::Fill { a: 0.0 }, 1, &self.loss)?,
            ]);
        }
        let inv_t = 1.0 / self.config.temperature;
        let pass = |g: &GpuBuffer, h: &GpuBuffer, grads: (&GpuBuffer, &GpuBuffer), value| {
            ctx.fused_bound(
                Bound::InfoNce,
                k,
                e,
                &FusedBoundBuffers {
                    g,
                    h,
                    baseline: None,
                    grads: Some(grads),
                    hist: value,
                    state: &self.state,
                    scratch: &self.scratch,
                },
            )
        };
        let mut d =
            vec![ctx.elementwise(Elementwise::Scale { a: inv_t, x: g }, ke, &self.scaled)?];
        // Rows: S = G'·Hᵀ, into (∂L/∂G', ∂L/∂H).
        d.extend(pass(&self.scaled, h, (dg, dh), &self.values.0)?);
        let weights = match &self.second {
            None => {
                d.push(ctx.elementwise(Elementwise::ScaleInPlace { a: inv_t }, ke, dg)?);
                (1.0, 0.0)
            }
            Some((dg2, dh2)) => {
                // Columns: Sᵀ = H·G'ᵀ, into (∂L/∂H, ∂L/∂G'); then the mean of both passes.
                d.extend(pass(h, &self.scaled, (dh2, dg2), &self.values.1)?);
                let half = 0.5 * inv_t;
                let (a, b) = (half, half);
                d.push(ctx.elementwise(Elementwise::Axpby { a, b, x: dg2 }, ke, dg)?);
                let (a, b) = (0.5, 0.5);
                d.push(ctx.elementwise(Elementwise::Axpby { a, b, x: dh2 }, ke, dh)?);
                (0.5, 0.5)
            }
        };
        // One direction reads its value twice (weight 0): the other slot is never written.
        let second_value = match &self.second {
            Some(_) => &self.values.1,
            None => &self.values.0,
        };
        d.push(ctx.contrastive_loss_value(
            (weights.0, &self.values.0),
            (weights.1, second_value),
            (k as f64).ln() as f32,
            &self.loss,
        )?);
        Ok(d)
    }

    /// Computes the loss on the caller's buffers (K×e f32 each, on the device `ctx` wraps,
    /// usage STORAGE at least): ∂L/∂G goes to `dg`, ∂L/∂H to `dh`; only the loss (4 bytes)
    /// is read back. Errors when the loss is not finite (a non-finite input, or scores past
    /// f32).
    pub fn compute_buffers(
        &self,
        g: &wgpu::Buffer,
        h: &wgpu::Buffer,
        dg: &wgpu::Buffer,
        dh: &wgpu::Buffer,
    ) -> Result<f64, ContrastiveError> {
        let ke = self.k * self.e;
        let wrap = |b: &wgpu::Buffer| GpuBuffer::from_raw(b.clone(), ke);
        let (g, h, dg, dh) = (wrap(g)?, wrap(h)?, wrap(dg)?, wrap(dh)?);
        self.run(&g, &h, &dg, &dh)
    }

    /// Uploads G and H (K×e each, row-major; every value finite), computes the loss and
    /// reads it back with both gradients.
    pub fn compute(&self, g: &[f32], h: &[f32]) -> Result<ContrastiveOutput, ContrastiveError> {
        check_inputs(g, h, self.k, self.e)?;
        let ctx = self.ctx;
        let (gb, hb) = (ctx.upload("G", g)?, ctx.upload("H", h)?);
        let (dg, dh) = (ctx.zeros("dG", g.len())?, ctx.zeros("dH", h.len())?);
        let loss = self.run(&gb, &hb, &dg, &dh)?;
        Ok(ContrastiveOutput {
            loss,
            dg: ctx.read(&dg)?,
            dh: ctx.read(&dh)?,
        })
    }

    fn run(
        &self,
        g: &GpuBuffer,
        h: &GpuBuffer,
        dg: &GpuBuffer,
        dh: &GpuBuffer,
    ) -> Result<f64, ContrastiveError> {
        let d = self.dispatches(g, h, dg, dh)?;
        self.ctx.run(&d, 1)?;
        let loss = f64::from(self.ctx.read::<f32>(&self.loss)?[0]);
        if !loss.is_finite() {
            return Err(ContrastiveError::NonFiniteLoss { value: loss });
        }
        Ok(loss)
    }
}
