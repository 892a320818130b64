//! The CPU's own ceilings, for the cost model's floor of the CPU backend (`infobound bench
//! --device cpu`), as `probe.wgsl` measures the adapter's: f32 FMA throughput (vectorised,
//! on every thread of a pool, enough independent chains to hide the FMA's latency) and
//! streaming copy bandwidth (an array well past the last-level cache, split over the same
//! threads). Each is timed on the host clock; the bench layer turns the runs into rates.

use std::hint::black_box;
use std::time::Instant;

use super::pool::{blocks, Pool};
use super::simd::{level, multiversion};

/// Independent FMA chains a block keeps: 8 AVX-512 or 16 AVX2 registers, so that two FMA
/// pipes with a latency of 4 cycles each always have a chain ready.
const CHAINS: usize = 128;
/// Blocks of FMA chains a thread runs in a probe (several, so a thread that starts late
/// does not leave the others' time idle at the end).
const BLOCKS_PER_THREAD: usize = 4;
/// Floats a block of the copy moves (1 MiB).
const COPY_BLOCK: usize = 1 << 18;

/// Timed runs of one probe.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeRuns {
    /// What one run does: flops (FMA) or bytes read and written (copy).
    pub work: u64,
    /// Seconds of each timed run, in order.
    pub seconds: Vec<f64>,
}

multiversion!(
    /// [`chains`] compiled for `level`.
    fn chains_at(iters: u64, a: f32, b: f32) -> f32 = chains
);

/// [`CHAINS`] independent chains x ← x·a + b, `iters` steps each (a fused multiply-add
/// where the level has one, else a multiply and an add: 2 flops either way); returns their
/// sum, so that no step can be left out.
#[inline(always)]
fn chains<const FMA: bool>(iters: u64, a: f32, b: f32) -> f32 {
    let mut x = [0.0f32; CHAINS];
    for (i, v) in x.iter_mut().enumerate() {
        *v = i as f32 * 1e-3;
    }
    for _ in 0..iters {
        for v in x.iter_mut() {
            *v = if FMA { v.mul_add(a, b) } else { *v * a + b };
        }
    }
    x.iter().sum()
}

/// Runs the FMA chains on every thread of `pool` for `iters` steps each; returns the flops.
fn fma_run(pool: &Pool, iters: u64) -> u64 {
    let blocks = pool.threads() * BLOCKS_PER_THREAD;
    let level = level();
    // a < 1 keeps every chain bounded (it tends to b/(1−a)); black_box keeps the compiler
    // from folding the chains into a closed form.
    let (a, b) = (black_box(0.999_f32), black_box(1e-3_f32));
    let sums = pool.map(blocks, usize::MAX, |_| chains_at(level, iters, a, b));
    black_box(sums);
    2 * CHAINS as u64 * iters * blocks as u64
}

/// The FMA probe on `pool`: the chains' length doubles until one run takes `target_secs`,
/// then `repeats` (at least one) runs are timed at that length.
pub fn fma(pool: &Pool, target_secs: f64, repeats: usize) -> ProbeRuns {
    let mut iters = 1 << 10;
    let work = loop {
        let t = Instant::now();
        let work = fma_run(pool, iters);
        if t.elapsed().as_secs_f64() >= target_secs || iters >= 1 << 40 {
            break work;
        }
        iters *= 2;
    };
    let seconds = (0..repeats.max(1))
        .map(|_| {
            let t = Instant::now();
            fma_run(pool, iters);
            t.elapsed().as_secs_f64()
        })
        .collect();
    ProbeRuns { work, seconds }
}

/// The copy probe on `pool`: `floats` f32 (at least one block) copied from one array to
/// another in fixed blocks over the threads, once untimed (every page touched) and then
/// `repeats` (at least one) times; the work is the bytes read plus those written.
pub fn copy(pool: &Pool, floats: usize, repeats: usize) -> ProbeRuns {
    let n = floats.max(COPY_BLOCK);
    // Non-zero values, so that no page stays the shared zero page.
    let src: Vec<f32> = (0..n).map(|i| (i % 1021) as f32 + 0.5).collect();
    let mut dst = vec![0.0f32; n];
    let (_, range) = blocks(n, COPY_BLOCK);
    let mut run = || {
        let t = Instant::now();
        pool.chunks_mut(&mut dst, COPY_BLOCK, usize::MAX, |b, chunk| {
            chunk.copy_from_slice(&src[range(b)]);
        });
        black_box(&dst);
        t.elapsed().as_secs_f64()
    };
    run();
    let seconds = (0..repeats.max(1)).map(|_| run()).collect();
    ProbeRuns {
        work: 8 * n as u64,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_run_and_report_positive_finite_work_and_times() {
        for pool in [Pool::new(1), Pool::new(2)] {
            let fma = fma(&pool, 1e-3, 2);
            let copy = copy(&pool, 1 << 16, 2);
            for (what, p) in [("fma", &fma), ("copy", &copy)] {
                assert!(p.work > 0, "{what}: no work");
                assert_eq!(p.seconds.len(), 2, "{what}: runs");
                let ok = p.seconds.iter().all(|s| s.is_finite() && *s > 0.0);
                assert!(ok, "{what}: {:?}", p.seconds);
            }
            assert_eq!(fma.work % (2 * CHAINS as u64), 0);
            // The copy moves at least one whole block, read and written.
            assert_eq!(copy.work, 8 * COPY_BLOCK as u64);
        }
    }

    #[test]
    fn the_chains_compute_what_they_say() {
        let (a, b) = (0.5f32, 1.0f32);
        let want: f32 = (0..CHAINS)
            .map(|i| {
                let mut x = i as f32 * 1e-3;
                for _ in 0..3 {
                    x = x * a + b;
                }
                x
            })
            .sum();
        let got = chains_at(level(), 3, a, b);
        assert!((got - want).abs() <= 1e-4 * want, "{got} vs {want}");
    }
}
