//! Measuring speed against the device's own limits: a timer (timestamp queries where the
//! adapter has them, the host clock around a queue sync otherwise), the two ceilings probed on
//! the adapter (copy bandwidth, FMA throughput), datasheet peaks of known adapters, and the
//! cost model of a training step. Used by `benches/` and `infobound bench`; nothing here runs
//! during training.

pub mod cost;
pub mod peaks;
pub mod probe;
pub mod timing;

pub use cost::StepCost;
pub use peaks::{published_peak, PublishedPeak};
pub use probe::{measure as measure_probes, ProbeConfig, Probes};
pub use timing::{GpuTimer, Timing, TimingMethod};
