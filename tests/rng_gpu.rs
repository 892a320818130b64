//! The counter-based generator draws the same integers on the device as in Rust, bit for
//! bit, and Gaussians equal within f32 transcendental precision.

mod common;

use common::gpu;
use infobound::gpu::kernels::SampleFill;
use infobound::math::rng::{derangement, draw, normal_f32, Permutation, Purpose};

#[test]
fn philox_words_are_bit_identical() {
    let Some(ctx) = gpu() else { return };
    for (seed, step) in [
        (0u64, 0u32),
        (0xDEAD_BEEF_0123_4567, 99),
        (u64::MAX, u32::MAX),
    ] {
        let n = 1000;
        let out = ctx.filled("words", 4 * n, f32::NAN).unwrap();
        let d = ctx
            .sample_fill(SampleFill::Words, seed, Purpose::Minibatch, step, n, &out)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let got: Vec<u32> = ctx.read(&out).unwrap();
        for i in 0..n {
            let want = draw(seed, Purpose::Minibatch, step, i as u32);
            assert_eq!(
                &got[4 * i..4 * i + 4],
                &want,
                "seed {seed} step {step} block {i}"
            );
        }
    }
}

#[test]
fn permutations_and_derangements_are_bit_identical() {
    let Some(ctx) = gpu() else { return };
    for &n in &[2usize, 3, 17, 65, 257, 5000] {
        let out = ctx.filled("perm", 2 * n, f32::NAN).unwrap();
        let d = ctx
            .sample_fill(SampleFill::Permutation, 42, Purpose::Negatives, 7, n, &out)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let got: Vec<u32> = ctx.read(&out).unwrap();
        let perm = Permutation::new(42, Purpose::Negatives, 7, n as u32);
        for i in 0..n as u32 {
            assert_eq!(got[i as usize], perm.apply(i), "σ({i}) for n = {n}");
            assert_eq!(
                got[n + i as usize],
                derangement(42, Purpose::Negatives, 7, n as u32, i),
                "π({i}) for n = {n}"
            );
        }
        let mut sorted = got[..n].to_vec();
        sorted.sort_unstable();
        assert!(
            sorted.iter().copied().eq(0..n as u32),
            "not a permutation of 0..{n}"
        );
    }
}

#[test]
fn gaussians_match_within_f32_precision() {
    let Some(ctx) = gpu() else { return };
    let n = 20_001;
    let out = ctx.filled("normals", n, f32::NAN).unwrap();
    let d = ctx
        .sample_fill(SampleFill::Normal, 5, Purpose::Gaussian, 3, n, &out)
        .unwrap();
    ctx.run(&[d], 1).unwrap();
    let got: Vec<f32> = ctx.read(&out).unwrap();
    for (i, g) in got.iter().enumerate() {
        let want = normal_f32(5, Purpose::Gaussian, 3, i as u32);
        // WGSL bounds log/cos/sin only loosely; 1e-3 absolute covers real GPUs' fast paths.
        assert!((g - want).abs() <= 1e-3, "normal {i}: {g} vs {want}");
    }
}
