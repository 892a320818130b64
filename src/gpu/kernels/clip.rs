//! Gradient norms and their clipping (`clip.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_at_least, check_fits, check_fits_rep, check_replicas, state, to_u32, Strided};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

/// Workgroup size of every `clip.wgsl` entry but `record_norm` (`WG` there).
const WORKGROUP: usize = 256;

/// What a gradient's norm is used for after it is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClipMode {
    /// Only the norm: the gradient is left as it is.
    NormOnly,
    /// Rescaled to norm `limit[0]` when its norm is larger (max-norm clipping).
    MaxNorm,
    /// Rescaled by min(`limit[0]`, ‖g‖)/‖g‖ (adaptive clipping, `limit[0]` = ‖g_main‖).
    Adaptive,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ClipParams {
    n: u32,
    groups: u32,
    hist_len: u32,
    mode: u32,
    grads_rs: u32,
    part_rs: u32,
    limit_rs: u32,
    _pad: u32,
}

impl GpuContext {
    /// Stage-1 workgroups for the norm of n elements (as the two-stage reductions).
    fn clip_groups(n: usize) -> usize {
        n.div_ceil(WORKGROUP * 8).clamp(1, 1024)
    }

    /// Scratch elements [`GpuContext::grad_norm`] needs for a gradient of n elements.
    pub fn clip_scratch_len(n: usize) -> usize {
        2 * Self::clip_groups(n) + 2
    }

    /// Where [`GpuContext::grad_norm`] leaves the norm in its scratch (the factor it applied
    /// follows it).
    pub fn clip_norm_index(n: usize) -> usize {
        2 * Self::clip_groups(n)
    }

    /// Prepares the global L2 norm of all of `grads` (deterministic two-stage reduction) into
    /// `scratch` at [`GpuContext::clip_norm_index`], then, as `mode` says, the rescaling of
    /// `grads` in place; `limit[0]` is the max norm or the main loss's gradient norm (read on
    /// the device, so it may be written by an earlier launch). With `record = (hist, state)`,
    /// the norm also goes to hist[step % hist.len()] at the device step counter, and a
    /// non-finite norm raises the state's [`state::NONFINITE_GRAD`] flag.
    pub fn grad_norm(
        &self,
        mode: ClipMode,
        grads: &GpuBuffer,
        scratch: &GpuBuffer,
        limit: &GpuBuffer,
        record: Option<(&GpuBuffer, &GpuBuffer)>,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let solo = Strided::shared;
        self.grad_norm_replicated(
            1,
            mode,
            (solo(grads), grads.len()),
            solo(scratch),
            solo(limit),
            record.map(|(hist, st)| ((hist, hist.len()), st)),
        )
    }

    /// [`Self::grad_norm`] of `replicas` gradients of `n` elements each in the same launches:
    /// replica r's gradient, scratch and limit at their strides (each replica's norm its own,
    /// reduced in a solo run's order), its norm history the `slots` from r · `slots`, its
    /// state at r · [`state::LEN`].
    pub(crate) fn grad_norm_replicated(
        &self,
        replicas: usize,
        mode: ClipMode,
        (grads, n): (Strided<'_>, usize),
        scratch: Strided<'_>,
        limit: Strided<'_>,
        record: Option<((&GpuBuffer, usize), &GpuBuffer)>,
    ) -> Result<Vec<Dispatch>, GpuError> {
        check_replicas(replicas)?;
        let groups = Self::clip_groups(n);
        check_fits_rep("gradients", grads, n, replicas)?;
        check_fits_rep("norm scratch", scratch, Self::clip_scratch_len(n), replicas)?;
        check_fits_rep("clip limit", limit, 1, replicas)?;
        if grads.buffer.buffer == scratch.buffer.buffer
            || grads.buffer.buffer == limit.buffer.buffer
        {
            return Err(GpuError::Aliased {
                what: "the gradients",
                other: "the norm's scratch or limit",
            });
        }
        self.check_loop_budget("gradient norm", n.div_ceil(groups * WORKGROUP) as u64)?;
        let hist_len = match record {
            Some(((hist, slots), st)) => {
                check_fits("state", st, replicas * state::LEN)?;
                check_at_least("the norm history's slots", slots, 1)?;
                check_fits("norm history", hist, replicas * slots)?;
                slots
            }
            None => 0,
        };
        let params = ClipParams {
            n: to_u32("gradient elements", n)?,
            groups: groups as u32,
            hist_len: to_u32("norm history", hist_len)?,
            mode: match mode {
                ClipMode::NormOnly => 0,
                ClipMode::MaxNorm => 1,
                ClipMode::Adaptive => 2,
            },
            grads_rs: grads.stride_u32()?,
            part_rs: scratch.stride_u32()?,
            limit_rs: limit.stride_u32()?,
            _pad: 0,
        };
        let uniform = self.uniform("clip", &params);
        let key = |entry, bindings: [Binding; 6]| KernelKey {
            family: Family::Clip,
            entry,
            overrides: vec![],
            template: Vec::new(),
            bindings: bindings.to_vec(),
        };
        use Binding::{Read, Uniform, Unused, Write};
        let (g, s, l) = (grads.raw(), scratch.raw(), limit.raw());
        let z = |groups: [u32; 3]| self.with_replicas("gradient norm", groups, replicas);
        let mut out = vec![
            self.bind(
                &key(
                    "norm_partial",
                    [Uniform, Write, Write, Unused, Unused, Unused],
                ),
                &[&uniform, g, s, s, s, s],
                z([groups as u32, 1, 1])?,
            ),
            self.bind(
                &key(
                    "norm_finish",
                    [Uniform, Unused, Write, Unused, Unused, Read],
                ),
                &[&uniform, s, s, s, s, l],
                z([1, 1, 1])?,
            ),
        ];
        if let Some(((hist, _), st)) = record {
            out.push(self.bind(
                &key(
                    "record_norm",
                    [Uniform, Unused, Write, Write, Write, Unused],
                ),
                &[&uniform, s, s, &hist.buffer, &st.buffer, s],
                z([1, 1, 1])?,
            ));
        }
        if mode != ClipMode::NormOnly {
            out.push(self.bind(
                &key(
                    "scale_grads",
                    [Uniform, Write, Write, Unused, Unused, Unused],
                ),
                &[&uniform, g, s, s, s, s],
                z(self.grid("gradient rescale", n, WORKGROUP)?)?,
            ));
        }
        Ok(out)
    }
}
