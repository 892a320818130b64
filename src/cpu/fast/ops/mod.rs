//! One function a kernel family, as in [`crate::cpu::ops`] but in f32 over the pool's threads,
//! each with its own fixed split: what the parity tests compare with the f64 reference op by
//! op.

mod adam;
mod bounds;
mod fused;
mod gemm;
mod pairs;
mod reduce;

pub use adam::adam_step;
pub use bounds::{info_nce_row_for, matrix_bound, shuffled_bound, BoundValue};
pub use fused::{fused_bound, fused_supported, FusedBaseline};
pub use gemm::gemm;
pub use pairs::{pair_expand, pair_reduce};
pub use reduce::{column_sums, scale, sum_squares};
