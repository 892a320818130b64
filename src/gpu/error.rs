//! Errors of the GPU layer.

use crate::math::spec::{Divergence, SpecError};

/// Everything that can go wrong while talking to a wgpu device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter matched the request (no driver, or a `WGPU_BACKEND` / `WGPU_ADAPTER_NAME`
    /// filter that excludes every adapter).
    #[error("no GPU adapter found{hint}")]
    NoAdapter {
        /// Which filter excluded every adapter, or how to install a driver.
        hint: String,
    },
    /// An adapter index past the adapters found (`DeviceChoice::Adapter`, `--device gpu:N`).
    #[error("no GPU adapter {index}: {count} found (`infobound devices` lists them)")]
    NoSuchAdapter {
        /// The index asked for.
        index: usize,
        /// Adapters found.
        count: usize,
    },
    /// The adapter refused to open a device.
    #[error("could not open a device on {adapter}: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// A buffer would exceed one of the adapter's limits.
    #[error("{what} needs {bytes} bytes, past the adapter's {limit_name} of {limit} bytes")]
    TooLarge {
        /// Which buffer.
        what: String,
        /// Its size.
        bytes: u64,
        /// The limit's name in `wgpu::Limits`.
        limit_name: &'static str,
        /// The limit's value.
        limit: u64,
    },
    /// A dispatch would need more workgroups than the adapter allows in one dimension.
    #[error(
        "{what} needs {groups} workgroups in one dimension, past the adapter's limit of {limit}"
    )]
    TooManyWorkgroups {
        /// Which kernel.
        what: String,
        /// Workgroups requested.
        groups: u64,
        /// `max_compute_workgroups_per_dimension`.
        limit: u32,
    },
    /// A launch would loop past what a software rasteriser runs correctly in one invocation
    /// (llvmpipe stops an invocation's loops after 65 535 iterations and carries on with wrong
    /// sums), so it is refused rather than computed wrong.
    #[error(
        "{what} loops {iterations} times in one invocation, past the {limit} a software adapter \
         runs correctly (llvmpipe's loop limit); use a smaller batch or a hardware GPU"
    )]
    SoftwareLoopLimit {
        /// Which kernel.
        what: String,
        /// Loop iterations one invocation would run.
        iterations: u64,
        /// The most a launch may ask for.
        limit: u64,
    },
    /// wgpu reported a validation or out-of-memory error.
    #[error("wgpu error: {0}")]
    Wgpu(String),
    /// The device was lost (driver reset, GPU removed, timeout).
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// Waiting for the device or mapping a buffer failed.
    #[error("waiting for the GPU failed: {0}")]
    Poll(String),
    /// A norm the device computed was NaN or infinite.
    #[error("{what} on the device has a non-finite norm")]
    NonFiniteNorm {
        /// Which gradient.
        what: &'static str,
    },
    /// The spec cannot train on the data given ([`SpecError`]).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Training produced a non-finite number.
    #[error("training diverged at step {}", .0.step)]
    Diverged(Divergence),
    /// A bound and critic that the whole-split evaluation does not cover at this K.
    #[error("{bound} on {critic} with K = {rows} cannot be evaluated over the whole split here")]
    WholeSplit {
        /// The bound's name.
        bound: &'static str,
        /// The critic's name.
        critic: &'static str,
        /// The rows asked for.
        rows: usize,
    },
    /// A caller-supplied argument does not fit the kernel.
    #[error("invalid kernel argument: {0}")]
    InvalidArgument(String),
}
