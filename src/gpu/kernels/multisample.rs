//! The multisample bound V_MS with the decoder as proposal (`multisample.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::bounds::check_outputs_distinct;
use super::{
    check_at_least, check_fits, check_fits_rep, check_replicas, state, to_u32, Strided,
    MAX_REPLICAS,
};
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
    hist_len: u32,
    xb_rs: u32,
    yb_rs: u32,
    dec_rs: u32,
    rows_rs: u32,
    scores_rs: u32,
    dscores_rs: u32,
    dprop_rs: u32,
    ddec_rs: u32,
    _pad: [u32; 3],
}

/// Bytes of `multisample.wgsl`'s key table (`keys`: two a vec4).
const KEY_TABLE_BYTES: usize = MAX_REPLICAS * 8;

/// The per-replica strides of a launch's operands (0 where it binds none).
#[derive(Clone, Copy, Default)]
struct MsStrides {
    xb: usize,
    yb: usize,
    dec: usize,
    rows: usize,
    scores: usize,
    dscores: usize,
    dprop: usize,
    ddec: usize,
}

/// Workgroup of `multisample` (`WG` in the shader) and of `proposals`.
const WORKGROUP: usize = 256;
const ROW_WORKGROUP: usize = 64;

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// The uniform block of a launch of R = `seeds.len()` replicas: shapes, strides, keys.
    fn ms_params(
        &self,
        seeds: &[u64],
        (b, k, dx, dy): (usize, usize, usize, usize),
        hist_len: usize,
        rs: MsStrides,
    ) -> Result<wgpu::Buffer, GpuError> {
        check_replicas(seeds.len())?;
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
        let stride = |v: usize| to_u32("a per-replica stride", v);
        let params = MsParams {
            b: to_u32("B", b)?,
            k: to_u32("K", k)?,
            dx: to_u32("dx", dx)?,
            dy: to_u32("dy", dy)?,
            hist_len: to_u32("history", hist_len.max(1))?,
            xb_rs: stride(rs.xb)?,
            yb_rs: stride(rs.yb)?,
            dec_rs: stride(rs.dec)?,
            rows_rs: stride(rs.rows)?,
            scores_rs: stride(rs.scores)?,
            dscores_rs: stride(rs.dscores)?,
            dprop_rs: stride(rs.dprop)?,
            ddec_rs: stride(rs.ddec)?,
            _pad: [0; 3],
        };
        let keys: Vec<[u32; 2]> = seeds.iter().map(|&s| seed_key(s)).collect();
        Ok(self.uniform_with_table("multisample", &params, &keys, KEY_TABLE_BYTES))
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
        let solo = Strided::shared;
        self.ms_proposals_replicated(
            &[seed],
            (b, k, dx, dy),
            [solo(x), solo(y), solo(dec), solo(rows)],
            state_buf,
        )
    }

    /// [`Self::ms_proposals`] of R = `seeds.len()` replicas in one launch: replica r draws
    /// with `seeds[r]` and its state, its operands at their strides.
    pub(crate) fn ms_proposals_replicated(
        &self,
        seeds: &[u64],
        (b, k, dx, dy): (usize, usize, usize, usize),
        [x, y, dec, rows]: [Strided<'_>; 4],
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let r = seeds.len();
        let strides = MsStrides {
            xb: x.stride,
            yb: y.stride,
            dec: dec.stride,
            rows: rows.stride,
            ..MsStrides::default()
        };
        let uniform = self.ms_params(seeds, (b, k, dx, dy), 1, strides)?;
        let n_rows = b * (k + 1);
        check_fits_rep("x", x, b * dx, r)?;
        check_fits_rep("y", y, b * dy, r)?;
        check_fits_rep("decoder output", dec, b * 2 * dy, r)?;
        check_fits_rep("proposal rows", rows, n_rows * (dx + dy), r)?;
        check_fits("state", state_buf, r * state::LEN)?;
        check_outputs_distinct(&[x.buffer, y.buffer, dec.buffer], &[rows.buffer, state_buf])?;
        self.check_loop_budget("proposals", (dx + dy) as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "proposals",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![U, R, R, R, W, W, N, N, N],
        };
        let grid = self.with_replicas(
            "proposals",
            self.grid_1d("proposals", n_rows, ROW_WORKGROUP)?,
            r,
        )?;
        Ok(self.bind(
            &key,
            &[
                &uniform,
                x.raw(),
                y.raw(),
                dec.raw(),
                rows.raw(),
                &state_buf.buffer,
                x.raw(),
                x.raw(),
                x.raw(),
            ],
            grid,
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
        let solo = Strided::shared;
        self.ms_term_replicated(
            1,
            (b, k),
            [solo(scores), solo(dscores)],
            (hist, hist.len()),
            state_buf,
        )
    }

    /// [`Self::ms_term`] of `replicas` batches in one launch: replica r's scores and their
    /// gradients at their strides, its history the `hist.1` slots from r · `hist.1`, its
    /// state at r · [`state::LEN`].
    pub(crate) fn ms_term_replicated(
        &self,
        replicas: usize,
        (b, k): (usize, usize),
        [scores, dscores]: [Strided<'_>; 2],
        (hist, slots): (&GpuBuffer, usize),
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_at_least("the multisample term's history length", slots, 1)?;
        let strides = MsStrides {
            scores: scores.stride,
            dscores: dscores.stride,
            ..MsStrides::default()
        };
        let seeds = vec![0; replicas];
        let uniform = self.ms_params(&seeds, (b, k, 1, 1), slots, strides)?;
        check_fits_rep("scores", scores, b * (k + 1), replicas)?;
        check_fits_rep("score gradients", dscores, b * (k + 1), replicas)?;
        check_fits("history", hist, replicas * slots)?;
        check_fits("state", state_buf, replicas * state::LEN)?;
        check_outputs_distinct(&[scores.buffer], &[dscores.buffer, hist, state_buf])?;
        self.check_loop_budget("multisample", (b.div_ceil(WORKGROUP) * 3 * (k + 1)) as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "multisample",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![U, N, N, N, N, W, R, W, W],
        };
        let s = scores.raw();
        Ok(self.bind(
            &key,
            &[
                &uniform,
                s,
                s,
                s,
                s,
                &state_buf.buffer,
                s,
                dscores.raw(),
                &hist.buffer,
            ],
            self.with_replicas("multisample", [1, 1, 1], replicas)?,
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
        let solo = Strided::shared;
        self.ms_proposal_grads_replicated(
            &[seed],
            (b, k, dy),
            [solo(dec), solo(dprop), solo(ddec)],
            state_buf,
        )
    }

    /// [`Self::ms_proposal_grads`] of R = `seeds.len()` replicas in one launch: replica r
    /// draws with `seeds[r]` and its state, its operands at their strides.
    pub(crate) fn ms_proposal_grads_replicated(
        &self,
        seeds: &[u64],
        (b, k, dy): (usize, usize, usize),
        [dec, dprop, ddec]: [Strided<'_>; 3],
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let r = seeds.len();
        let strides = MsStrides {
            dec: dec.stride,
            dprop: dprop.stride,
            ddec: ddec.stride,
            ..MsStrides::default()
        };
        let uniform = self.ms_params(seeds, (b, k, 1, dy), 1, strides)?;
        check_fits_rep("decoder output", dec, b * 2 * dy, r)?;
        check_fits_rep("proposal gradients", dprop, b * (k + 1) * dy, r)?;
        check_fits_rep("decoder gradient", ddec, b * 2 * dy, r)?;
        check_fits("state", state_buf, r * state::LEN)?;
        check_outputs_distinct(&[dec.buffer, dprop.buffer], &[ddec.buffer, state_buf])?;
        self.check_loop_budget("proposal gradients", k as u64)?;
        let key = KernelKey {
            family: Family::Multisample,
            entry: "proposal_grads",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![U, N, N, R, N, W, N, N, N, R, W],
        };
        let d = dec.raw();
        let grid = self.with_replicas(
            "proposal gradients",
            self.grid_1d("proposal gradients", b * dy, ROW_WORKGROUP)?,
            r,
        )?;
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
                dprop.raw(),
                ddec.raw(),
            ],
            grid,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::gpu::shaders::{check_replica_table, Family};

    #[test]
    fn the_replica_table_sits_where_the_host_writes_it() {
        let header = std::mem::size_of::<super::MsParams>();
        check_replica_table(Family::Multisample, "MsParams", header, "keys", 8);
    }
}
