//! The element-wise glue of the fused contrastive losses (`contrastive.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use Binding::{Read as R, Uniform as U, Unused as N, Write as W};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    a: f32,
    b: f32,
    c: f32,
}

/// `WG` in `contrastive.wgsl`.
const WORKGROUP: usize = 256;

/// One element-wise operation of `contrastive.wgsl` on n elements.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Elementwise<'a> {
    /// out = a·x.
    Scale { a: f32, x: &'a GpuBuffer },
    /// out = a·out.
    ScaleInPlace { a: f32 },
    /// out = a·out + b·x.
    Axpby { a: f32, b: f32, x: &'a GpuBuffer },
    /// out = a.
    Fill { a: f32 },
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares `op` over the first `n` elements of `out` (n ≥ 1).
    pub(crate) fn elementwise(
        &self,
        op: Elementwise,
        n: usize,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        check_fits("output", out, n)?;
        let (form, a, b, x) = match op {
            Elementwise::Scale { a, x } => (0, a, 0.0, Some(x)),
            Elementwise::ScaleInPlace { a } => (1, a, 0.0, None),
            Elementwise::Axpby { a, b, x } => (2, a, b, Some(x)),
            Elementwise::Fill { a } => (3, a, 0.0, None),
        };
        if let Some(x) = x {
            check_fits("input", x, n)?;
            if x.buffer == out.buffer {
                return Err(GpuError::Aliased {
                    what: "the output",
                    other: "the input",
                });
            }
        }
        let params = Params {
            n: to_u32("n", n)?,
            a,
            b,
            c: 0.0,
        };
        let key = KernelKey {
            family: Family::Contrastive,
            entry: "elementwise",
            overrides: vec![("OP", form)],
            template: Vec::new(),
            bindings: vec![U, R, N, W],
        };
        let uniform = self.uniform("elementwise", &params);
        let x = x.map_or(self.placeholder(), |x| &x.buffer);
        let groups = self.grid("elementwise", n, WORKGROUP)?;
        Ok(self.bind(&key, &[&uniform, x, x, &out.buffer], groups))
    }

    /// Prepares out[0] = c − (a·x[0] + b·y[0]).
    pub(crate) fn contrastive_loss_value(
        &self,
        (a, x): (f32, &GpuBuffer),
        (b, y): (f32, &GpuBuffer),
        c: f32,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        for (name, v) in [("x", x), ("y", y), ("output", out)] {
            check_fits(name, v, 1)?;
        }
        if x.buffer == out.buffer || y.buffer == out.buffer {
            return Err(GpuError::Aliased {
                what: "the loss",
                other: "its inputs",
            });
        }
        let key = KernelKey {
            family: Family::Contrastive,
            entry: "loss",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![U, R, R, W],
        };
        let uniform = self.uniform("loss", &Params { n: 1, a, b, c });
        Ok(self.bind(
            &key,
            &[&uniform, &x.buffer, &y.buffer, &out.buffer],
            [1, 1, 1],
        ))
    }
}
