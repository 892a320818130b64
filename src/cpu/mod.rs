//! The CPU backends: the reference (the same operations as the WGSL kernels, accumulated in
//! f64, stored in f32 as on the device) and the fast mode ([`fast`]: the same program in f32
//! on every core).

pub mod fast;
pub mod ops;
mod trainer;

pub use trainer::{CpuTrainer, Workspace};
