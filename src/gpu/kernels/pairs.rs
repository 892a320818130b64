//! The split first layer of the all-pairs concat critic (`pairs.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

/// The pair kernels' workgroup size (`WG` in `pairs.wgsl`).
const WORKGROUP: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PairParams {
    k: u32,
    width: u32,
    _pad: [u32; 2],
}

/// Which pair index a [`GpuContext::pair_reduce`] sums over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairAxis {
    /// out[i] = Σ_j: the gradient of U (the x side).
    Rows,
    /// out[j] = Σ_i: the gradient of V (the y side).
    Cols,
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares out (K²×w) = relu(U_i + V_j) for every pair, U and V K×w.
    pub fn pair_expand(
        &self,
        k: usize,
        width: usize,
        u: &GpuBuffer,
        v: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_fits("U", u, k * width)?;
        check_fits("V", v, k * width)?;
        check_fits("pair activations", out, k * k * width)?;
        self.pair_launch("pair_expand", true, k, width, [u, v, out], k * k * width)
    }

    /// Prepares the sums of a K×K×w pair gradient over one pair index, into out (K×w).
    pub fn pair_reduce(
        &self,
        axis: PairAxis,
        k: usize,
        width: usize,
        src: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_fits("pair gradient", src, k * k * width)?;
        check_fits("pair sums", out, k * width)?;
        self.check_loop_budget("pair sums", k as u64)?;
        self.pair_launch(
            "pair_reduce",
            axis == PairAxis::Rows,
            k,
            width,
            [src, src, out],
            k * width,
        )
    }

    fn pair_launch(
        &self,
        entry: &'static str,
        rows: bool,
        k: usize,
        width: usize,
        [a, b, out]: [&GpuBuffer; 3],
        invocations: usize,
    ) -> Result<Dispatch, GpuError> {
        let params = PairParams {
            k: to_u32("batch", k)?,
            width: to_u32("width", width)?,
            _pad: [0; 2],
        };
        to_u32("pair elements", k * k * width)?;
        let key = KernelKey {
            family: Family::Pairs,
            entry,
            overrides: vec![("ROWS", rows as i64)],
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Write,
            ],
        };
        let uniform = self.uniform(entry, &params);
        let grid = self.grid(entry, invocations, WORKGROUP)?;
        Ok(self.bind(&key, &[&uniform, &a.buffer, &b.buffer, &out.buffer], grid))
    }
}
