//! The multisample bound V_MS with the decoder as proposal (`multisample.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::bounds::check_outputs_distinct;
use super::{check_at_least, check_fits, state, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::rng::seed_key;
use Binding::{Read as R, Uniform as U, Unused as N, Write as W};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MsParams {
    b: u32,
    k: u32,
    dx: u32,
    dy: u32,
    key: [u32; 2],
    hist_len: u32,
    pad: u32,
}

/// Workgroup of `multisample` (`WG` in the shader) and of `proposals`.
const WORKGROUP: usize = 256;
const ROW_WORKGROUP: usize = 64;

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    fn ms_params(
        &self,
        seed: u64,
        (b, k, dx, dy): (usize, usize, usize, usize),
        hist_len: usize,
    ) -> Result<wgpu::Buffer, GpuError> {
        for (what, n) in [
            ("the multisample bound's rows B", b),
            ("the multisample bound's proposals K", k),
            ("the multisample bound's x width dx", dx),
            ("the multisample bound's y width dy", dy),
        ] {
            check_at_least(what, n, 1)?;
        }
        let rows = b.checked_mul(k + 1).ok_or(GpuError::Overflow {
            what: "B·(K+1)",
            value: b as u128 * (k as u128 + 1),
            limit: "usize",
        })?;
        to_u32("B·(K+1)·(dx+dy)", rows.saturating_mul(dx + dy))?;
        to_u32("B·K·dy", b.saturating_mul(k).saturating_mul(dy))?;
        let params = MsParams {
            b: to_u32("B", b)?,
            k: to_u32("K", k)?,
            dx: to_u32("dx", dx)?,
            dy: to_u32("dy", dy)?,
            key: seed_key(seed),
            hist_len: to_u32("history", hist_len.max(1))?,
            pad: 0,
        };
        Ok(self.uniform("multisample", &params))
    }

    /// Prepares the multisample bound's proposals for a batch of B rows (x: B × dx, y: B × dy,
    /// `dec` the decoder's output, B × 2·dy, μ then log σ a row) with K proposals each: the
    /// critic's rows [x_i ; y_ik] (B·(K+1) × (dx + dy), row i·(K+1) + k; y_i0 = y_i, y_ik =
    /// μ_i + σ_i ε_ik from the step's RNG_PROPOSAL stream of `seed`) into `rows`.
    #[allow(clippy::too_many_arguments)]
    pub fn ms_proposals(
        &self,
        seed: u64,
        (b, k, dx, dy): (usize, usize, usize, usize),
        x: &GpuBuffer,
        y: &GpuBuffer,
        dec: &GpuBuffer,
        rows: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let uniform = self.ms_params(seed, (b, k, dx, dy), 1)?;
        let n_rows = b * (k + 1);
        check_fits("x", x, b * dx)?;
        check_fits("y", y, b * dy)?;
        check_fits("decoder output", dec, b * 2 * dy)?;
        check_fits("proposal rows", rows, n_rows * (dx + dy))?;
        check_fits("state", state_buf, state::LEN)?;
        check_outputs_distinct(&[x, y, dec], &[rows, state_buf])?;
        self.check_loop_budget("proposals", (dx + dy) as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "proposals",
            overrides: vec![],
            bindings: vec![U, R, R, R, W, W, N, N, N],
        };
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &x.buffer,
                &y.buffer,
                &dec.buffer,
                &rows.buffer,
                &state_buf.buffer,
                &x.buffer,
                &x.buffer,
                &x.buffer,
            ],
            self.grid_1d("proposals", n_rows, ROW_WORKGROUP)?,
        ))
    }

    /// Prepares the multisample term for B rows of K + 1 scores f_ik (the joint pair first):
    /// adds mean_i [f_i0 − log(1/(K+1) Σ_k e^(f_ik))] to hist[step % hist_len] (where
    /// Barber–Agakov wrote its value this step; a non-finite sum raises the state's flag) and
    /// writes ∂(−V)/∂f = (softmax − [k = 0])/B to `dscores`.
    pub fn ms_term(
        &self,
        (b, k): (usize, usize),
        scores: &GpuBuffer,
        dscores: &GpuBuffer,
        hist: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_at_least("the multisample term's history length", hist.len(), 1)?;
        let uniform = self.ms_params(0, (b, k, 1, 1), hist.len())?;
        check_fits("scores", scores, b * (k + 1))?;
        check_fits("score gradients", dscores, b * (k + 1))?;
        check_fits("state", state_buf, state::LEN)?;
        check_outputs_distinct(&[scores], &[dscores, hist, state_buf])?;
        self.check_loop_budget("multisample", (b.div_ceil(WORKGROUP) * 3 * (k + 1)) as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "multisample",
            overrides: vec![],
            bindings: vec![U, N, N, N, N, W, R, W, W],
        };
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &scores.buffer,
                &scores.buffer,
                &scores.buffer,
                &scores.buffer,
                &state_buf.buffer,
                &scores.buffer,
                &dscores.buffer,
                &hist.buffer,
            ],
            [1, 1, 1],
        ))
    }

    /// Prepares the reparameterised proposals' gradient for B rows of K proposals: adds
    /// Σ_k g_ik to ∂μ_i and Σ_k g_ik ε_ik · σ_i to ∂log σ_i (zero where log σ is at the clip),
    /// g = `dprop` (∂(−V)/∂y_ik, B·(K+1) × dy, row i·(K+1) + k; row k = 0 is data and not
    /// read), ε the draws [`Self::ms_proposals`] made with the same `seed` at this step, into
    /// `ddec` (B × 2·dy, the decoder output's layout). Twin:
    /// [`crate::math::sampling::proposal_grads`].
    #[allow(clippy::too_many_arguments)]
    pub fn ms_proposal_grads(
        &self,
        seed: u64,
        (b, k, dy): (usize, usize, usize),
        dec: &GpuBuffer,
        dprop: &GpuBuffer,
        ddec: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let uniform = self.ms_params(seed, (b, k, 1, dy), 1)?;
        check_fits("decoder output", dec, b * 2 * dy)?;
        check_fits("proposal gradients", dprop, b * (k + 1) * dy)?;
        check_fits("decoder gradient", ddec, b * 2 * dy)?;
        check_fits("state", state_buf, state::LEN)?;
        check_outputs_distinct(&[dec, dprop], &[ddec, state_buf])?;
        self.check_loop_budget("proposal gradients", k as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "proposal_grads",
            overrides: vec![],
            bindings: vec![U, N, N, R, N, W, N, N, N, R, W],
        };
        let d = &dec.buffer;
        Ok(self.bind(
            &key,
            &[
                &uniform,
                d,
                d,
                d,
                d,
                &state_buf.buffer,
                d,
                d,
                d,
                &dprop.buffer,
                &ddec.buffer,
            ],
            self.grid_1d("proposal gradients", b * dy, ROW_WORKGROUP)?,
        ))
    }
}
