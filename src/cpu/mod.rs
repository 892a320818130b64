//! The CPU backends: the reference (the same operations as the WGSL kernels, accumulated in
//! f64, stored in f32 as on the device) and the fast mode ([`fast`]: the same program in f32
//! on every core), both run by one interpreter (`interp`) with their own arithmetic.

pub mod fast;
pub(crate) mod interp;
pub mod ops;
pub(crate) mod reference;
mod trainer;

pub use trainer::{CpuTrainer, Workspace};
