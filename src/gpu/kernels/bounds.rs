//! Bound values and score gradients for shuffled-negative batches (`bounds.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, state, to_u32};
use crate::bounds::Bound;
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BoundParams {
    k: u32,
    hist_len: u32,
    tau: f32,
    _pad: u32,
}

impl GpuContext {
    /// Prepares the bound on `scores` (2k: joint then negatives): the value goes to
    /// hist[step % hist_len], the gradient of the loss (−objective) to `dscores`.
    pub fn shuffled_bound(
        &self,
        bound: Bound,
        k: usize,
        scores: &GpuBuffer,
        dscores: &GpuBuffer,
        hist: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        if !bound.supports_shuffled() {
            return Err(GpuError::InvalidArgument(format!(
                "{bound:?} needs the full score matrix, not shuffled negatives"
            )));
        }
        if k == 0 || hist.is_empty() {
            return Err(GpuError::InvalidArgument(
                "a bound needs a non-empty batch and history".into(),
            ));
        }
        check_fits("scores", scores, 2 * k)?;
        check_fits("score gradients", dscores, 2 * k)?;
        check_fits("state", state_buf, state::LEN)?;
        let params = BoundParams {
            k: to_u32("batch", k)?,
            hist_len: to_u32("history", hist.len())?,
            tau: bound.tau(),
            _pad: 0,
        };
        let key = KernelKey {
            family: Family::Bounds,
            entry: "shuffled_bound",
            overrides: vec![("BOUND", bound.code())],
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Write,
                Binding::Write,
                Binding::Write,
            ],
        };
        let uniform = self.uniform("bound", &params);
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &scores.buffer,
                &dscores.buffer,
                &hist.buffer,
                &state_buf.buffer,
            ],
            [1, 1, 1],
        ))
    }
}
