//! Typed wrappers that prepare each kernel's launch: they check every operand against its
//! buffer (a GPU clamps out-of-range reads silently; we refuse them), fill the uniform block and
//! pick the pipeline. One file a kernel family, like `shaders/`.

mod adam;
mod bounds;
mod clip;
mod contrastive;
mod decoder;
mod gemm;
mod matrix_bounds;
mod multisample;
mod pairs;
mod probe;
mod reduce;
mod sample;

pub use adam::state;
pub use clip::ClipMode;
pub(crate) use contrastive::Elementwise;
pub(crate) use matrix_bounds::Operands;
pub use matrix_bounds::{FusedBoundBuffers, MatrixBoundBuffers};
pub use pairs::PairAxis;
pub use probe::{fma_probe_reference, FMA_FLOPS_PER_ITERATION};
pub use reduce::ReduceOp;
pub(crate) use sample::ReplicaRows;
pub use sample::SampleFill;

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::dispatch::Dispatch;
use super::error::GpuError;
use super::pipelines::{Binding, KernelKey};

/// The most replicas one batched launch takes: the per-replica tables of the uniform blocks
/// (`lrs` in `adam.wgsl`, `keys` in `sample.wgsl`, `reps` in the bound families) hold this
/// many entries.
pub const MAX_REPLICAS: usize = 1024;

/// Bytes of a uniform block's per-replica table of one vec4 a replica
/// ([`MAX_REPLICAS`] × 16).
pub(crate) const VEC4_TABLE_BYTES: usize = MAX_REPLICAS * 16;

/// An operand of a replicated launch: a buffer in which replica r's block starts
/// `r · stride` elements in. Stride 0 is one block that every replica reads (data shared by
/// all replicas); a solo launch (one replica) never reads the stride.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    /// The buffer.
    pub buffer: &'a GpuBuffer,
    /// Elements from one replica's block to the next.
    pub stride: usize,
}

impl<'a> Strided<'a> {
    /// Replica r's block of `buffer` starts at r · `stride`.
    pub fn new(buffer: &'a GpuBuffer, stride: usize) -> Self {
        Self { buffer, stride }
    }

    /// One block all replicas read (stride 0), or a solo launch's operand.
    pub fn shared(buffer: &'a GpuBuffer) -> Self {
        Self::new(buffer, 0)
    }

    /// The underlying wgpu buffer.
    pub(crate) fn raw(&self) -> &'a wgpu::Buffer {
        &self.buffer.buffer
    }

    /// The stride as the kernels' uniform blocks hold it.
    pub(crate) fn stride_u32(&self) -> Result<u32, GpuError> {
        to_u32("a per-replica stride", self.stride)
    }
}

/// Refuses an operand whose last replica's block of `needed` elements runs past its buffer,
/// or whose element indices past it would not fit a u32.
pub(crate) fn check_fits_rep(
    what: &'static str,
    op: Strided<'_>,
    needed: usize,
    replicas: usize,
) -> Result<(), GpuError> {
    let reach = (replicas.max(1) - 1)
        .checked_mul(op.stride)
        .and_then(|o| o.checked_add(needed))
        .ok_or(GpuError::Overflow {
            what,
            value: (replicas as u128).saturating_mul(op.stride as u128),
            limit: "usize",
        })?;
    check_fits(what, op.buffer, reach)?;
    to_u32(what, reach).map(|_| ())
}

/// Refuses a replica count outside 1..=[`MAX_REPLICAS`].
pub(crate) fn check_replicas(replicas: usize) -> Result<(), GpuError> {
    if replicas == 0 {
        return Err(GpuError::NoReplicas);
    }
    if replicas > MAX_REPLICAS {
        return Err(GpuError::TooManyReplicas {
            replicas,
            limit: MAX_REPLICAS,
        });
    }
    Ok(())
}

pub(crate) fn check_fits(
    what: &'static str,
    buffer: &GpuBuffer,
    needed: usize,
) -> Result<(), GpuError> {
    if needed > buffer.len() {
        return Err(GpuError::BufferTooShort {
            what,
            needed,
            len: buffer.len(),
        });
    }
    Ok(())
}

pub(crate) fn to_u32(what: &'static str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::Overflow {
        what,
        value: v as u128,
        limit: "u32",
    })
}

/// Refuses a count below `min` (an empty batch, history or width).
pub(crate) fn check_at_least(what: &'static str, n: usize, min: usize) -> Result<(), GpuError> {
    if n < min {
        return Err(GpuError::Range {
            what,
            value: n as u64,
            min: min as u64,
            max: u64::MAX,
        });
    }
    Ok(())
}

/// Loop iterations one invocation may run on a software adapter. llvmpipe (lavapipe) stops every
/// loop of an invocation once 65 535 iterations have run in it (Mesa's
/// LP_MAX_TGSI_LOOP_ITERATIONS) and goes on with wrong results; measured here: a k = 70 000
/// product came out 27–41 % wrong, k = 20 000 right. Half of it leaves room for loops a kernel
/// runs besides the one counted.
pub(crate) const SOFTWARE_LOOP_BUDGET: u64 = 32_768;

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Refuses a launch whose invocations would each loop `iterations` times when this is a
    /// software adapter that would silently truncate the loops (see [`SOFTWARE_LOOP_BUDGET`]).
    pub(crate) fn check_loop_budget(&self, what: &str, iterations: u64) -> Result<(), GpuError> {
        if self.adapter().is_software && iterations > SOFTWARE_LOOP_BUDGET {
            return Err(GpuError::SoftwareLoopLimit {
                what: what.into(),
                iterations,
                limit: SOFTWARE_LOOP_BUDGET,
            });
        }
        Ok(())
    }

    /// Workgroups of `workgroup_size` covering `invocations` (at least one workgroup), folded
    /// into two dimensions when one does not hold them: x as wide as the adapter allows, y the
    /// rows of x. A kernel launched on this grid must have `workgroup_size` invocations along x
    /// only, rebuild its flat index as `gid.x + gid.y * num_workgroups.x * workgroup_size` and
    /// return past `invocations`.
    pub(crate) fn grid(
        &self,
        what: &'static str,
        invocations: usize,
        workgroup_size: usize,
    ) -> Result<[u32; 3], GpuError> {
        let max = self.limits().max_compute_workgroups_per_dimension;
        let (gx, gy) = fold(invocations, workgroup_size, max);
        let gy = self.check_workgroups(what, gy)?;
        // Every flat index launched, not only those below `invocations`, must fit a u32.
        if u128::from(gx) * u128::from(gy) * workgroup_size as u128 > 1 << 32 {
            return Err(GpuError::Overflow {
                what,
                value: u128::from(gx) * u128::from(gy) * workgroup_size as u128,
                limit: "2^32 (the u32 flat indices)",
            });
        }
        Ok([gx as u32, gy, 1])
    }

    /// Workgroups of `workgroup_size` covering `invocations` (at least one workgroup) along x
    /// alone, for kernels that index by `gid.x`; past the adapter's per-dimension limit it fails.
    pub(crate) fn grid_1d(
        &self,
        what: &'static str,
        invocations: usize,
        workgroup_size: usize,
    ) -> Result<[u32; 3], GpuError> {
        let groups = (invocations.div_ceil(workgroup_size) as u64).max(1);
        Ok([self.check_workgroups(what, groups)?, 1, 1])
    }

    /// `groups` (one replica's grid) with the replica axis: z = `replicas`.
    pub(crate) fn with_replicas(
        &self,
        what: &'static str,
        groups: [u32; 3],
        replicas: usize,
    ) -> Result<[u32; 3], GpuError> {
        check_replicas(replicas)?;
        let z = self.check_workgroups(what, replicas as u64)?;
        Ok([groups[0], groups[1], z])
    }

    pub(crate) fn bind(
        &self,
        key: &KernelKey,
        resources: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Dispatch {
        let kernel = self.pipelines.get(&self.device, key);
        let entries: Vec<wgpu::BindGroupEntry> = resources
            .iter()
            .enumerate()
            .filter(|(i, _)| key.bindings[*i] != Binding::Unused)
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(key.entry),
            layout: &kernel.layout,
            entries: &entries,
        });
        Dispatch {
            kernel,
            bind_group,
            groups,
        }
    }
}

/// (x, y) workgroups of `workgroup_size` covering `invocations`, x at most `max`.
fn fold(invocations: usize, workgroup_size: usize, max: u32) -> (u64, u64) {
    let groups = (invocations.div_ceil(workgroup_size) as u64).max(1);
    let max = u64::from(max);
    if groups <= max {
        (groups, 1)
    } else {
        (max, groups.div_ceil(max))
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn fold_covers_every_invocation_in_as_few_rows_as_fit() {
        assert_eq!(fold(0, 256, 8), (1, 1));
        assert_eq!(fold(1, 256, 8), (1, 1));
        assert_eq!(fold(8 * 256, 256, 8), (8, 1));
        assert_eq!(fold(8 * 256 + 1, 256, 8), (8, 2));
        assert_eq!(fold(64 * 64, 64, 8), (8, 8));
        assert_eq!(fold(64 * 64 + 1, 64, 8), (8, 9));
        assert_eq!(fold(u32::MAX as usize, 256, 65_535), (65_535, 257));
    }
}
