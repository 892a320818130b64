//! Typed wrappers that prepare each kernel's launch: they check every operand against its
//! buffer (a GPU clamps out-of-range reads silently; we refuse them), fill the uniform block and
//! pick the pipeline. One file a kernel family, like `shaders/`.

mod adam;
mod bounds;
mod gemm;
mod matrix_bounds;
mod pairs;
mod reduce;
mod sample;

pub use adam::state;
pub use matrix_bounds::MatrixBoundBuffers;
pub use pairs::PairAxis;
pub use reduce::ReduceOp;
pub use sample::SampleFill;

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::dispatch::Dispatch;
use super::error::GpuError;
use super::pipelines::{Binding, KernelKey};

pub(crate) fn check_fits(what: &str, buffer: &GpuBuffer, needed: usize) -> Result<(), GpuError> {
    if needed > buffer.len() {
        return Err(GpuError::InvalidArgument(format!(
            "{what} reaches element {needed} of a buffer of {}",
            buffer.len()
        )));
    }
    Ok(())
}

pub(crate) fn to_u32(what: &str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::InvalidArgument(format!("{what} = {v} exceeds u32")))
}

impl GpuContext {
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
