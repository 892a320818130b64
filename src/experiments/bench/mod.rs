//! Measuring speed against the device's own limits: the GPU layer's timer
//! ([`crate::gpu::timing`], which the kernel tuner uses too), the two ceilings probed on
//! the adapter (copy bandwidth, FMA throughput), datasheet peaks of known adapters, and the
//! cost model of a training step. Used by `benches/` and `infobound bench`; nothing here runs
//! during training.

pub mod cost;
pub mod peaks;
pub mod probe;

pub use crate::gpu::timing::{GpuTimer, Timing, TimingMethod};
pub use cost::StepCost;
pub use peaks::{published_peak, PublishedPeak};
pub use probe::{measure as measure_probes, ProbeConfig, Probes};
