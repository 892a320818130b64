//! The CPU reference backend: the same operations as the WGSL kernels, accumulated in f64,
//! stored in f32 as on the device.

pub mod ops;
mod trainer;

pub use trainer::{CpuTrainer, Workspace};
