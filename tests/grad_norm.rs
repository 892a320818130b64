//! Gradient norms and clipping (`clip.wgsl`) against the CPU reference: the norm kernel on
//! sizes that are not multiples of the workgroup, max-norm and adaptive clipping exactly as
//! their formulas say, the per-step norms and the clip inside a training run on both
//! backends, and MINE's log-domain moving average with seed 002's smoothing.

mod common;

use common::{gpu, rel_err};
use infobound::cpu::{CpuTrainer, Workspace};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::kernels::{state, ClipMode};
use infobound::gpu::{GpuContext, GpuTrainer};
use infobound::losses::clip::{adaptive_clip, adaptive_clip_gpu, clip_to_max_norm};
use infobound::math::bounds::{shuffled_eval, Bound};
use infobound::math::clip::l2_norm;
use infobound::math::critic::CriticForm;
use infobound::math::optim::AdamConfig;
use infobound::math::spec::TrainSpec;

/// f32 sums over up to ~10⁵ terms against an f64 reference.
const NORM_TOL: f64 = 1e-5;

/// The device's norm (and factor) of `g` in `mode` with `limit`, and `g` afterwards.
fn device_norm(ctx: &GpuContext, g: &[f32], mode: ClipMode, limit: f32) -> (f32, f32, Vec<f32>) {
    let gb = ctx.upload("g", g).unwrap();
    let scratch = ctx
        .filled("scratch", GpuContext::clip_scratch_len(g.len()), f32::NAN)
        .unwrap();
    let lim = ctx.upload("limit", &[limit]).unwrap();
    let d = ctx.grad_norm(mode, &gb, &scratch, &lim, None).unwrap();
    ctx.run(&d, 1).unwrap();
    let s: Vec<f32> = ctx.read(&scratch).unwrap();
    let at = GpuContext::clip_norm_index(g.len());
    (s[at], s[at + 1], ctx.read(&gb).unwrap())
}

#[test]
fn the_norm_kernel_matches_the_cpu_and_repeats_bit_for_bit() {
    let Some(ctx) = gpu() else { return };
    for (i, n) in [1usize, 3, 17, 65, 257, 2049, 70_001]
        .into_iter()
        .enumerate()
    {
        let g = common::values(n, 40 + i as u64);
        let want = l2_norm(&g);
        let (got, factor, after) = device_norm(&ctx, &g, ClipMode::NormOnly, 0.0);
        let err = (f64::from(got) - want).abs() / want;
        assert!(err <= NORM_TOL, "n = {n}: {got} vs {want} (rel {err})");
        assert_eq!(factor, 1.0);
        assert_eq!(
            after, g,
            "n = {n}: the norm alone must not touch the gradient"
        );
        let (again, _, _) = device_norm(&ctx, &g, ClipMode::NormOnly, 0.0);
        assert_eq!(got.to_bits(), again.to_bits(), "n = {n}: not deterministic");
    }
    // Squares of these overflow f32 (1e25² > 3.4e38): the scaled sum must not.
    let huge: Vec<f32> = common::values(257, 7).iter().map(|v| v * 1e25).collect();
    let (got, _, _) = device_norm(&ctx, &huge, ClipMode::NormOnly, 0.0);
    let want = l2_norm(&huge);
    assert!(
        (f64::from(got) - want).abs() / want <= NORM_TOL,
        "{got} vs {want}"
    );
    let (zero, factor, _) = device_norm(&ctx, &[0.0; 17], ClipMode::MaxNorm, 1.0);
    assert_eq!((zero, factor), (0.0, 1.0));
}

#[test]
fn max_norm_clipping_rescales_exactly_on_both_backends() {
    let Some(ctx) = gpu() else { return };
    let g = common::values(257, 3);
    let norm = l2_norm(&g);
    let max = (norm / 4.0) as f32;
    let (got_norm, factor, got) = device_norm(&ctx, &g, ClipMode::MaxNorm, max);
    let want_factor = f64::from(max) / norm;
    assert!((f64::from(factor) - want_factor).abs() <= 1e-6 * want_factor);
    assert!((f64::from(got_norm) - norm).abs() <= NORM_TOL * norm);
    let mut want = g.clone();
    let f = clip_to_max_norm(&mut want, f64::from(max)).unwrap();
    assert_eq!(f, want_factor);
    // Each element is g·max/‖g‖ (one f32 rounding of the factor on the device).
    assert!(rel_err(&got, &want, 1e-6) <= 2e-6);
    for clipped in [&got, &want] {
        let n = l2_norm(clipped);
        assert!((n - f64::from(max)).abs() <= 1e-5 * n, "{n} vs {max}");
    }
    // Below the limit nothing changes, bit for bit.
    let (_, factor, same) = device_norm(&ctx, &g, ClipMode::MaxNorm, (norm * 2.0) as f32);
    assert_eq!(factor, 1.0);
    assert_eq!(same, g);
}

#[test]
fn adaptive_clipping_rescales_to_the_main_norm_exactly() {
    let Some(ctx) = gpu() else { return };
    let g = common::values(65, 9);
    let mi = l2_norm(&g);
    for main in [mi / 10.0, mi * 3.0, 0.0] {
        let mut want = g.clone();
        let f = adaptive_clip(&mut want, main).unwrap();
        assert_eq!(f, if main < mi { main / mi } else { 1.0 });
        let buf = ctx.upload("g_mi", &g).unwrap();
        let r = adaptive_clip_gpu(&ctx, &buf, main as f32).unwrap();
        let got: Vec<f32> = ctx.read(&buf).unwrap();
        assert!((f64::from(r.norm) - mi).abs() <= NORM_TOL * mi);
        assert!((f64::from(r.factor) - f).abs() <= 1e-6 * f.max(1e-30) + 1e-12);
        assert!(rel_err(&got, &want, 1e-6) <= 2e-6, "main {main}");
        // The clipped MI gradient has norm min(‖g_main‖, ‖g_MI‖).
        assert!((l2_norm(&want) - main.min(mi)).abs() <= 1e-6 * mi);
    }
    let buf = ctx.upload("g_mi", &g).unwrap();
    assert!(adaptive_clip_gpu(&ctx, &buf, f32::NAN).is_err());
}

fn spec(bound: Bound, critic: CriticForm) -> (TrainSpec, Vec<f32>, Vec<f32>) {
    let (x, y) = correlated_gaussian(2, 0.9, 300, 21);
    let spec = TrainSpec::new(2, 2, critic, bound, 17)
        .with_seed(3)
        .with_adam(AdamConfig::default().with_lr(3e-3));
    (spec, x, y)
}

#[test]
fn training_records_the_same_norms_on_gpu_and_cpu_with_and_without_a_clip() {
    let Some(ctx) = gpu() else { return };
    let critics = [
        CriticForm::Shuffled { hidden: vec![9, 5] },
        CriticForm::Concat { hidden: vec![7] },
    ];
    for critic in critics {
        for clip in [None, Some(0.05f32)] {
            // NWJ as tests/training.rs: DV-type gradients make Adam's first steps flip the
            // sign of near-zero elements between backends, so their trajectories part sooner.
            let (spec, x, y) = spec(Bound::Nwj, critic.clone());
            let spec = spec.with_max_grad_norm(clip);
            let data = common::joint(&x, &y, 2);
            // Chunks of 4 make the norm history wrap.
            let mut g = GpuTrainer::new(&ctx, &spec, data, None, 4).unwrap();
            let mut c = CpuTrainer::new(&spec, data, None).unwrap();
            g.train(10).unwrap();
            c.train(10).unwrap();
            let (gn, cn) = (g.take_grad_norms(), c.take_grad_norms());
            assert_eq!(gn.len(), 10);
            assert!(g.take_grad_norms().is_empty(), "taken twice");
            let first = (f64::from(gn[0]) - f64::from(cn[0])).abs() / f64::from(cn[0]);
            assert!(
                first <= NORM_TOL,
                "{critic:?}: step 0 norm {} vs {}",
                gn[0],
                cn[0]
            );
            let err = rel_err(&gn, &cn, 1e-6);
            assert!(err <= 1e-3, "{critic:?} clip {clip:?}: {gn:?} vs {cn:?}");
            let perr = rel_err(&g.parameters().unwrap(), &c.parameters().unwrap(), 1e-6);
            assert!(
                perr <= 1e-3,
                "{critic:?} clip {clip:?}: parameters, rel {perr}"
            );
            if let Some(m) = clip {
                // The clip bites: every recorded norm is above it, so Adam saw norm m.
                assert!(cn.iter().all(|&v| v > m), "{cn:?}");
            }
        }
    }
}

#[test]
fn the_interpreter_clips_the_step_gradient_to_the_max_norm() {
    let (spec, x, y) = spec(Bound::Dv, CriticForm::Shuffled { hidden: vec![9] });
    let data = common::joint(&x, &y, 2);
    let params = spec.init();
    let mut free = Workspace::new(&spec, data, spec.seed, true);
    free.run(&params, 0);
    let raw = free.grads().to_vec();
    let norm = l2_norm(&raw);
    assert!((free.grad_norm() - norm).abs() <= 1e-12 * norm);
    let max = (norm / 3.0) as f32;
    let clipped_spec = spec.clone().with_max_grad_norm(Some(max));
    let mut clipped = Workspace::new(&clipped_spec, data, spec.seed, true);
    clipped.run(&params, 0);
    // The norm recorded is the one before the clip.
    assert_eq!(clipped.grad_norm(), norm);
    let factor = f64::from(max) / norm;
    for (c, r) in clipped.grads().iter().zip(&raw) {
        assert_eq!(*c, (f64::from(*r) * factor) as f32);
    }
    let bad = spec.with_max_grad_norm(Some(f32::NAN));
    assert!(CpuTrainer::new(&bad, data, None).is_err());
}

/// Seed 002's α = 0.01 (γ = 0.99), over scores whose exponentials overflow f32 (e^95): the
/// device keeps log m_t as the CPU reference computes it.
#[test]
fn mines_moving_average_stays_in_the_log_domain_on_the_device() {
    let Some(ctx) = gpu() else { return };
    let k = 17;
    let bound = Bound::Mine { gamma: 0.99 };
    let st = ctx.upload("state", &state::initial(0)).unwrap();
    let hist = ctx.filled("hist", 4, f32::NAN).unwrap();
    let ds = ctx.zeros("ds", 2 * k).unwrap();
    let mut prev = None;
    for step in 0..3u32 {
        let scores: Vec<f32> = common::values(2 * k, 60 + u64::from(step))
            .iter()
            .map(|v| 90.0 + 5.0 * v + step as f32)
            .collect();
        let sb = ctx.upload("scores", &scores).unwrap();
        let d = ctx
            .shuffled_bound(bound, k, &sb, &ds, &hist, &st, None)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let want = shuffled_eval(bound, &scores, None, prev);
        let s: Vec<u32> = ctx.read(&st).unwrap();
        let log_m = f64::from(f32::from_bits(s[state::MINE_LOG_EMA]));
        assert!(
            (log_m - want.log_ema).abs() <= 1e-5 * want.log_ema.abs(),
            "step {step}: {log_m} vs {}",
            want.log_ema
        );
        assert!(
            log_m > 88.8,
            "e^{log_m} would overflow f32: the log domain is needed"
        );
        let got_ds: Vec<f32> = ctx.read(&ds).unwrap();
        let want_ds: Vec<f32> = want.ds.iter().map(|&v| v as f32).collect();
        assert!(
            rel_err(&got_ds, &want_ds, 1e-3) <= 1e-4,
            "step {step}: score gradients"
        );
        prev = Some(want.log_ema);
        ctx.write(&st, &[step + 1, 0, u32::MAX, s[state::MINE_LOG_EMA]])
            .unwrap();
    }
}
