//! A prepared kernel launch, and recording many of them into one submission.

use std::sync::Arc;

use super::context::GpuContext;
use super::error::GpuError;
use super::pipelines::Kernel;

/// A pipeline with its bind group and grid, ready to record any number of times.
///
/// Everything a launch needs is fixed when it is prepared; values that change from step to
/// step (the step counter, Adam's t) live in a device buffer the kernels read, so one step's
/// dispatches can be replayed unchanged.
pub struct Dispatch {
    pub(crate) kernel: Arc<Kernel>,
    pub(crate) bind_group: wgpu::BindGroup,
    pub(crate) groups: [u32; 3],
}

impl Dispatch {
    /// Records this launch into an open compute pass.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.kernel.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups[0], self.groups[1], self.groups[2]);
    }
}

impl GpuContext {
    /// Records `dispatches` `repeat` times, in order, in one compute pass of one submission,
    /// then waits and reports any device error.
    pub fn run(&self, dispatches: &[Dispatch], repeat: u32) -> Result<(), GpuError> {
        self.submit(dispatches, repeat);
        self.sync()
    }

    /// Like [`GpuContext::run`] without waiting: the work is queued behind earlier submissions.
    pub fn submit(&self, dispatches: &[Dispatch], repeat: u32) {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("infobound"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("infobound"),
                timestamp_writes: None,
            });
            for _ in 0..repeat {
                for d in dispatches {
                    d.record(&mut pass);
                }
            }
        }
        self.queue.submit(Some(encoder.finish()));
    }
}
