//! Shared by the GPU test files: the adapter, and comparisons with stated tolerances.
#![allow(dead_code)]

use infobound::gpu::GpuContext;

/// The context the GPU tests run on. With `INFOBOUND_REQUIRE_GPU=1` (CI) a missing adapter
/// fails the test; otherwise the test says loudly that it was skipped.
pub fn gpu() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => {
            eprintln!("adapter: {}", ctx.adapter());
            Some(ctx)
        }
        Err(e) if infobound::estimator::gpu_required() => {
            panic!("INFOBOUND_REQUIRE_GPU=1 but no adapter: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED (no GPU adapter; set INFOBOUND_REQUIRE_GPU=1 to fail instead): {e}");
            None
        }
    }
}

/// Deterministic pseudo-random values in [-1, 1).
pub fn values(n: usize, salt: u64) -> Vec<f32> {
    let mut s = infobound::rng::Stream::new(salt, infobound::rng::Purpose::Proposal);
    (0..n).map(|_| s.uniform_range(-1.0, 1.0)).collect()
}

/// Max |got − want| / max(max |want|, floor): a norm-wise relative error.
pub fn rel_err(got: &[f32], want: &[f32], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want
        .iter()
        .map(|v| f64::from(v.abs()))
        .fold(floor, f64::max);
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            let d = (f64::from(*g) - f64::from(*w)).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                d
            }
        })
        .fold(0.0, f64::max)
        / scale
}

/// Every bound, with parameters that make their special paths bite at test scale: SMILE's clip
/// at 1.5 is reached by random scores, and α = 0.3 weighs both halves of α-InfoNCE.
pub const BOUNDS: [infobound::bounds::Bound; 8] = {
    use infobound::bounds::Bound;
    [
        Bound::InfoNce,
        Bound::Nwj,
        Bound::Tuba,
        Bound::Dv,
        Bound::Mine { gamma: 0.9 },
        Bound::Js,
        Bound::Smile { tau: 1.5 },
        Bound::AlphaInfoNce { alpha: 0.3 },
    ]
};
