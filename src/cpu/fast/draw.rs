//! The step's batch, with the reference's draws bit for bit: data rows and the shuffled
//! Gaussian batch through the reference's own function ([`crate::cpu::reference::draw`]),
//! and the split Gaussian batch (what the benchmarks train on) from the same Philox blocks
//! and Box–Muller pairs, each block drawn once for the two elements that share it (the
//! reference draws it for each) and the elements split over the pool.

use super::pool::{blocks, Pool};
use crate::cpu::reference;
use crate::math::program::DrawLayout;
use crate::math::rng::{draw as philox, normal_pair_f32, Purpose};
use crate::math::sampling::{gaussian_y_from, rho_at, Transform, NOISE_OFFSET};
use crate::math::spec::Source;

/// Elements a block of the Gaussian draw covers (even, so a block never splits a pair).
const BLOCK: usize = 512;

/// The batch of `step` for an `Op::Draw`, as [`reference::draw`] returns it.
pub fn draw(
    pool: &Pool,
    (seed, step, k): (u64, u32, usize),
    source: Source,
    out: DrawLayout,
    (x, dx): (&[f32], usize),
    y: (&[f32], usize),
) -> (Vec<f32>, Vec<f32>) {
    match (source, out) {
        (Source::Gaussian { transform, .. }, DrawLayout::Split(..)) => {
            gaussian_batch(pool, (seed, step), k * dx, transform, rho_at(x, step))
        }
        _ => reference::draw((seed, step, k), source, out, (x, dx), y),
    }
}

/// `sample::sample_gaussian_batch`'s (x, y) of `n` elements with correlation `rho`.
fn gaussian_batch(
    pool: &Pool,
    (seed, step): (u64, u32),
    n: usize,
    transform: Transform,
    rho: f32,
) -> (Vec<f32>, Vec<f32>) {
    let (count, range) = blocks(n, BLOCK);
    // Box–Muller costs ~100 ns an element pair: worth threads from a few hundred on.
    let parts = pool.map(count, n * 64, |b| {
        let r = range(b);
        let mut out = Vec::with_capacity(r.len());
        for e in r.clone().step_by(2) {
            let pair = |offset: u32| {
                let block = philox(seed, Purpose::Gaussian, step, (offset + e as u32) / 2);
                normal_pair_f32(block[0], block[1])
            };
            let (x0, x1) = pair(0);
            let (n0, n1) = pair(NOISE_OFFSET);
            out.push((x0, gaussian_y_from(x0, n0, rho, transform)));
            if e + 1 < r.end {
                out.push((x1, gaussian_y_from(x1, n1, rho, transform)));
            }
        }
        out
    });
    parts.into_iter().flatten().unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::sampling as sample;

    #[test]
    fn gaussian_batches_are_the_references_bit_for_bit() {
        let rho = [0.2f32, 0.9];
        for pool in [Pool::new(1), Pool::new(3)] {
            for (n, transform) in [(1, Transform::Identity), (1283, Transform::Cubic)] {
                for step in [0, 1, 7] {
                    let got = gaussian_batch(&pool, (5, step), n, transform, rho_at(&rho, step));
                    let want = sample::sample_gaussian_batch(5, step, n, 1, transform, &rho);
                    assert_eq!(got, want, "n {n} step {step}");
                }
            }
        }
    }
}
