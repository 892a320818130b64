//! Barber–Agakov with a diagonal-Gaussian decoder and the standard normal marginal
//! (`decoder.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::bounds::check_outputs_distinct;
use super::{check_at_least, check_fits, check_fits_rep, check_replicas, state, to_u32, Strided};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct DecoderParams {
    k: u32,
    dy: u32,
    hist_len: u32,
    dec_rs: u32,
    y_rs: u32,
    dout_rs: u32,
    lp_rs: u32,
    pad: u32,
}

/// `WG` in `decoder.wgsl`: one workgroup, each invocation a strided subset of the rows.
const WORKGROUP: usize = 256;

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares Barber–Agakov on a batch of K rows: `dec` holds the decoder's output (K × 2·dy:
    /// μ then log σ a row), `y` the batch's y (K × dy). The value mean_i [log q(y_i|x_i) −
    /// log N(y_i; 0, I)] goes to hist[step % hist_len] (a non-finite one raises the state's
    /// flag), ∂(−V)/∂(μ, log σ) to `dout` (K × 2·dy). With `log_marginal` (log p(y_i) of the
    /// batch's rows, K values) the marginal is that instead of N(0, I). Twin:
    /// [`crate::cpu::ops::barber_agakov`].
    #[allow(clippy::too_many_arguments)]
    pub fn barber_agakov(
        &self,
        k: usize,
        dy: usize,
        dec: &GpuBuffer,
        y: &GpuBuffer,
        log_marginal: Option<&GpuBuffer>,
        dout: &GpuBuffer,
        hist: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.barber_agakov_replicated(
            1,
            (k, dy),
            [solo(dec), solo(y), solo(dout)],
            log_marginal.map(solo),
            (hist, hist.len()),
            state_buf,
        )
    }

    /// [`Self::barber_agakov`] of `replicas` batches in one launch: replica r's decoder
    /// output, y, gradient and log p(y) at their strides, its history the `hist.1` slots from
    /// r · `hist.1`, its state at r · [`state::LEN`].
    pub(crate) fn barber_agakov_replicated(
        &self,
        replicas: usize,
        (k, dy): (usize, usize),
        [dec, y, dout]: [Strided<'_>; 3],
        log_marginal: Option<Strided<'_>>,
        (hist, slots): (&GpuBuffer, usize),
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_replicas(replicas)?;
        for (what, n) in [
            ("Barber–Agakov's batch K", k),
            ("Barber–Agakov's y width dy", dy),
            ("Barber–Agakov's history length", slots),
        ] {
            check_at_least(what, n, 1)?;
        }
        let out_len = k.checked_mul(2 * dy).ok_or(GpuError::Overflow {
            what: "K·2dy",
            value: k as u128 * 2 * dy as u128,
            limit: "usize",
        })?;
        to_u32("K·2dy", out_len)?;
        check_fits_rep("decoder output", dec, out_len, replicas)?;
        check_fits_rep("decoder gradient", dout, out_len, replicas)?;
        check_fits_rep("y", y, k * dy, replicas)?;
        check_fits("history", hist, replicas * slots)?;
        check_fits("state", state_buf, replicas * state::LEN)?;
        check_outputs_distinct(&[dec.buffer, y.buffer], &[dout.buffer, hist, state_buf])?;
        if let Some(lp) = log_marginal {
            check_fits_rep("log p(y)", lp, k, replicas)?;
            check_outputs_distinct(&[lp.buffer], &[dout.buffer, hist, state_buf])?;
        }
        self.check_loop_budget("Barber–Agakov", (k.div_ceil(WORKGROUP) * dy) as u64)?;
        // Without a marginal the kernel never reads binding 6: y stands in.
        let lp = log_marginal.unwrap_or(y);
        let params = DecoderParams {
            k: to_u32("batch", k)?,
            dy: to_u32("dy", dy)?,
            hist_len: to_u32("history", slots)?,
            dec_rs: dec.stride_u32()?,
            y_rs: y.stride_u32()?,
            dout_rs: dout.stride_u32()?,
            lp_rs: lp.stride_u32()?,
            pad: 0,
        };
        let key = KernelKey {
            family: Family::Decoder,
            entry: "barber_agakov",
            overrides: vec![("KNOWN_MARGINAL", u32::from(log_marginal.is_some()).into())],
            template: Vec::new(),
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Write,
                Binding::Write,
                Binding::Write,
                Binding::Read,
            ],
        };
        let uniform = self.uniform("barber–agakov", &params);
        let grid = self.with_replicas("Barber–Agakov", [1, 1, 1], replicas)?;
        Ok(self.bind(
            &key,
            &[
                &uniform,
                dec.raw(),
                y.raw(),
                dout.raw(),
                &hist.buffer,
                &state_buf.buffer,
                lp.raw(),
            ],
            grid,
        ))
    }
}
