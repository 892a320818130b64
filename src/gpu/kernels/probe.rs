//! Device-limit probes (`probe.wgsl`): a streaming copy and FMA chains, timed by benchmarks to
//! give the bandwidth and arithmetic peaks a kernel is compared with. Not used in training.

use bytemuck::{Pod, Zeroable};

use super::{check_at_least, check_fits, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;

/// The probes' workgroup size (`WG` in `probe.wgsl`).
const WORKGROUP: usize = 256;

/// Floating-point operations one `fma_chains` invocation does per iteration: 8 vec4 FMAs.
pub const FMA_FLOPS_PER_ITERATION: u64 = 8 * 4 * 2;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ProbeParams {
    n: u32,
    iters: u32,
    _pad: [u32; 2],
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares dst[..n] = src[..n] for `n` a multiple of 4 (the kernel moves vec4s): 8n bytes
    /// through memory (read + write).
    pub fn copy_probe(
        &self,
        src: &GpuBuffer,
        dst: &GpuBuffer,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        check_at_least("the copy probe's n", n, 1)?;
        if !n.is_multiple_of(4) {
            return Err(GpuError::Shape {
                what: "the copy probe (whole vec4s)",
                len: n,
                rows: n.div_ceil(4),
                cols: 4,
            });
        }
        check_fits("copy source", src, n)?;
        check_fits("copy destination", dst, n)?;
        let vecs = n / 4;
        let params = ProbeParams {
            n: to_u32("copy length", vecs)?,
            iters: 0,
            _pad: [0; 2],
        };
        let key = KernelKey {
            family: Family::Probe,
            entry: "copy",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![Binding::Uniform, Binding::Read, Binding::Write],
        };
        let grid = self.grid("copy probe", vecs, WORKGROUP)?;
        let uniform = self.uniform("copy probe", &params);
        Ok(self.bind(&key, &[&uniform, &src.buffer, &dst.buffer], grid))
    }

    /// Prepares `invocations` independent FMA chains of `iters` iterations, each invocation
    /// writing one vec4 to `out` (which holds 4 · invocations floats):
    /// [`FMA_FLOPS_PER_ITERATION`] · iters · invocations flops in all.
    pub fn fma_probe(
        &self,
        out: &GpuBuffer,
        invocations: usize,
        iters: u32,
    ) -> Result<Dispatch, GpuError> {
        check_fits("FMA probe output", out, 4 * invocations)?;
        self.check_loop_budget("FMA probe", u64::from(iters))?;
        let params = ProbeParams {
            n: to_u32("FMA probe invocations", invocations)?,
            iters,
            _pad: [0; 2],
        };
        let key = KernelKey {
            family: Family::Probe,
            entry: "fma_chains",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![Binding::Uniform, Binding::Unused, Binding::Write],
        };
        let grid = self.grid("FMA probe", invocations, WORKGROUP)?;
        let uniform = self.uniform("FMA probe", &params);
        let o = &out.buffer;
        Ok(self.bind(&key, &[&uniform, o, o], grid))
    }
}

/// What `fma_chains` writes for invocation `i` after `iters` iterations, computed on the host
/// in f64 (the chains are independent of each other and of every other invocation).
pub fn fma_probe_reference(i: usize, iters: u32) -> [f64; 4] {
    let s = (i % 1024) as f64 / 1024.0;
    let m = [0.9990f32, 0.9991, 0.9992, 0.9993];
    let base = [s, s + 0.1, s + 0.2, s + 0.3];
    let mut out = [0.0; 4];
    for (lane, o) in out.iter_mut().enumerate() {
        let mf = f64::from(m[lane]);
        let cf = 1.0 - mf;
        for chain in 0..8 {
            let mut a = base[lane] + 0.01 * chain as f64;
            for _ in 0..iters {
                a = a * mf + cf;
            }
            *o += a;
        }
    }
    out
}
