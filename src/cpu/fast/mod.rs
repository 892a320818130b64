//! The fast CPU backend: the step program of [`crate::math::program`] interpreted op for op
//! like the f64 reference ([`crate::cpu::Workspace`]), in f32 on every core.
//!
//! - Matrix products through the `gemm` crate (SIMD chosen at run time), the element-wise and
//!   bound ops in loops written to vectorise (e^x and ln in `exp` without libm calls).
//! - Threads from a private rayon pool ([`Pool`]), over blocks fixed by the shapes alone:
//!   each block is computed whole by one thread and every sum over blocks is added in block
//!   order, with no float atomics, so the same seed gives the same bits whatever the thread
//!   count.
//! - The draws are the reference's own functions, so both train on the same rows.
//! - Two fusions where the reference stores K×K or K²×w matrices: the concat critic's pair
//!   network (`plan`, `pair_net`), and the separable critic's bound, formed a block of
//!   rows at a time ([`ops::fused_bound`]).
//! - The CPU's own FMA and copy ceilings ([`probe`]), the cost model's floor in `bench`.

mod draw;
mod exp;
mod kernels;
mod lanes;
pub mod ops;
mod pair_net;
mod plan;
mod pool;
pub mod probe;
mod simd;
mod trainer;
mod workspace;

pub use pool::Pool;
pub use trainer::{device_name, FastTrainer};
pub use workspace::FastWorkspace;
