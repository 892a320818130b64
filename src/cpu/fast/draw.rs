//! The step's batch, drawn with the reference's own functions (`math::sampling`,
//! `cpu::ops::gather_shuffled`), so the fast backend trains on exactly the reference's rows
//! and Gaussian samples, bit for bit.

use crate::cpu::ops::gather_shuffled;
use crate::math::program::DrawLayout;
use crate::math::sampling as sample;
use crate::math::spec::Source;

/// The batch of `step` for an `Op::Draw`: (first, second) buffers of `out` (the second empty
/// for the shuffled layout). `x` and `y` are the program's X and Y buffers (X holds the ρ
/// schedule for Gaussian batches).
pub fn draw(
    (seed, step, k): (u64, u32, usize),
    source: Source,
    out: DrawLayout,
    (x, dx): (&[f32], usize),
    (y, dy): (&[f32], usize),
) -> (Vec<f32>, Vec<f32>) {
    match (source, out) {
        (Source::Data { .. }, DrawLayout::Shuffled(_)) => {
            (gather_shuffled(seed, step, k, (x, dx), (y, dy)), Vec::new())
        }
        (Source::Data { .. }, DrawLayout::Split(..)) => {
            sample::gather_batch(seed, step, k, (x, dx), (y, dy))
        }
        (Source::Gaussian { transform, .. }, DrawLayout::Shuffled(_)) => (
            sample::sample_gaussian_shuffled(seed, step, k, dx, transform, x),
            Vec::new(),
        ),
        (Source::Gaussian { transform, .. }, DrawLayout::Split(..)) => {
            sample::sample_gaussian_batch(seed, step, k, dx, transform, x)
        }
    }
}
