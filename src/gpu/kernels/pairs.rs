//! The split first layer of the all-pairs concat critic (`pairs.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits_rep, to_u32, Strided};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::PairGeometry;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PairParams {
    k: u32,
    width: u32,
    u_rs: u32,
    v_rs: u32,
    out_rs: u32,
    _pad: [u32; 3],
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
        let solo = Strided::shared;
        let g = self.pair_geometry(k, width);
        self.pair_expand_replicated(1, k, width, [solo(u), solo(v), solo(out)], g)
    }

    /// [`Self::pair_expand`] of `replicas` batches at once, replica r's U, V and out at their
    /// strides, in `geometry`.
    pub(crate) fn pair_expand_replicated(
        &self,
        replicas: usize,
        k: usize,
        width: usize,
        [u, v, out]: [Strided<'_>; 3],
        geometry: PairGeometry,
    ) -> Result<Dispatch, GpuError> {
        check_fits_rep("U", u, k * width, replicas)?;
        check_fits_rep("V", v, k * width, replicas)?;
        check_fits_rep("pair activations", out, k * k * width, replicas)?;
        self.pair_launch(
            "pair_expand",
            true,
            (replicas, k, width),
            [u, v, out],
            (k * k * width, geometry),
        )
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
        let solo = Strided::shared;
        let g = self.pair_geometry(k, width);
        self.pair_reduce_replicated(1, axis, k, width, solo(src), solo(out), g)
    }

    /// [`Self::pair_reduce`] of `replicas` gradients at once, replica r's src and out at
    /// their strides, in `geometry`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pair_reduce_replicated(
        &self,
        replicas: usize,
        axis: PairAxis,
        k: usize,
        width: usize,
        src: Strided<'_>,
        out: Strided<'_>,
        geometry: PairGeometry,
    ) -> Result<Dispatch, GpuError> {
        check_fits_rep("pair gradient", src, k * k * width, replicas)?;
        check_fits_rep("pair sums", out, k * width, replicas)?;
        self.check_loop_budget("pair sums", k as u64 * u64::from(geometry.per_invocation))?;
        self.pair_launch(
            "pair_reduce",
            axis == PairAxis::Rows,
            (replicas, k, width),
            [src, src, out],
            (k * width, geometry),
        )
    }

    fn pair_launch(
        &self,
        entry: &'static str,
        rows: bool,
        (replicas, k, width): (usize, usize, usize),
        [a, b, out]: [Strided<'_>; 3],
        (outputs, geometry): (usize, PairGeometry),
    ) -> Result<Dispatch, GpuError> {
        let params = PairParams {
            k: to_u32("batch", k)?,
            width: to_u32("width", width)?,
            u_rs: a.stride_u32()?,
            v_rs: b.stride_u32()?,
            out_rs: out.stride_u32()?,
            _pad: [0; 3],
        };
        to_u32("pair elements", k * k * width)?;
        let key = KernelKey {
            family: Family::Pairs,
            entry,
            overrides: vec![("ROWS", rows as i64)],
            template: geometry.constants(),
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Write,
            ],
        };
        let uniform = self.uniform(entry, &params);
        let wg = geometry.workgroup as usize;
        let invocations = outputs.div_ceil(geometry.per_invocation as usize);
        let grid = self.with_replicas(entry, self.grid(entry, invocations, wg)?, replicas)?;
        Ok(self.bind(&key, &[&uniform, a.raw(), b.raw(), out.raw()], grid))
    }
}
