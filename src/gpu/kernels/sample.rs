//! Minibatches, negatives and raw random streams drawn on the device (`sample.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, state, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::rng::{seed_key, Purpose};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SampleParams {
    n: u32,
    k: u32,
    dx: u32,
    dy: u32,
    key: [u32; 2],
    ld: u32,
    purpose: u32,
    step: u32,
    _pad: [u32; 3],
}

/// What a fill kernel writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleFill {
    /// n standard normals.
    Normal,
    /// The 4n raw words of blocks 0..n, as bit patterns.
    Words,
    /// σ(0..n) of a random permutation, then the derangement π(0..n) built from it.
    Permutation,
}

impl GpuContext {
    /// Prepares the minibatch draw of one training step: out (2k × (dx+dy)) receives k joint
    /// rows [x_i ; y_i] and k product rows [x_i ; y_π(i)], drawn for the step in `state`.
    #[allow(clippy::too_many_arguments)]
    pub fn gather_shuffled(
        &self,
        seed: u64,
        n: usize,
        k: usize,
        xs: (&GpuBuffer, usize),
        ys: (&GpuBuffer, usize),
        out: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let ((xb, dx), (yb, dy)) = (xs, ys);
        if k < 2 || k > n {
            return Err(GpuError::InvalidArgument(format!(
                "a batch of {k} needs 2 ≤ batch ≤ rows ({n})"
            )));
        }
        check_fits("x", xb, n * dx)?;
        check_fits("y", yb, n * dy)?;
        check_fits("batch", out, 2 * k * (dx + dy))?;
        check_fits("state", state_buf, state::LEN)?;
        let params = SampleParams {
            n: to_u32("rows", n)?,
            k: to_u32("batch", k)?,
            dx: to_u32("dx", dx)?,
            dy: to_u32("dy", dy)?,
            key: seed_key(seed),
            ld: to_u32("dx + dy", dx + dy)?,
            purpose: 0,
            step: 0,
            _pad: [0; 3],
        };
        let groups = self.check_workgroups("gather", (2 * k).div_ceil(64) as u64)?;
        let key = KernelKey {
            family: Family::Sample,
            entry: "gather_shuffled",
            overrides: vec![],
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Write,
                Binding::Read,
            ],
        };
        let uniform = self.uniform("gather", &params);
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &xb.buffer,
                &yb.buffer,
                &out.buffer,
                &state_buf.buffer,
            ],
            [groups, 1, 1],
        ))
    }

    /// Prepares a fill of `out` from stream (seed, purpose, step): see [`SampleFill`].
    pub fn sample_fill(
        &self,
        what: SampleFill,
        seed: u64,
        purpose: Purpose,
        step: u32,
        n: usize,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let (entry, len) = match what {
            SampleFill::Normal => ("fill_normal", n),
            SampleFill::Words => ("fill_words", 4 * n),
            SampleFill::Permutation => {
                if n < 2 {
                    return Err(GpuError::InvalidArgument(
                        "a derangement needs at least 2 elements".into(),
                    ));
                }
                ("fill_permutation", 2 * n)
            }
        };
        check_fits("fill output", out, len)?;
        let params = SampleParams {
            n: to_u32("n", n)?,
            k: 0,
            dx: 0,
            dy: 0,
            key: seed_key(seed),
            ld: 0,
            purpose: purpose as u32,
            step,
            _pad: [0; 3],
        };
        let groups = self.check_workgroups(entry, n.div_ceil(64) as u64)?;
        let key = KernelKey {
            family: Family::Sample,
            entry,
            overrides: vec![],
            bindings: vec![
                Binding::Uniform,
                Binding::Unused,
                Binding::Unused,
                Binding::Write,
                Binding::Unused,
            ],
        };
        let uniform = self.uniform(entry, &params);
        let o = &out.buffer;
        Ok(self.bind(&key, &[&uniform, o, o, o, o], [groups.max(1), 1, 1]))
    }
}
