//! The multisample bound V_MS with the decoder as proposal (SPEC §8): the device's proposals and
//! term against their CPU twins on odd shapes, the critic's backward pass against finite
//! differences (the proposals are held fixed, so the decoder's gradient is Barber–Agakov's),
//! both identities (f ≡ 0 gives V_BA; q = p(y) leaves InfoNCE over K + 1 candidates, capped at
//! ln(K+1)), and a trained run.
//!
//! Tolerances: proposals within 1e-5 of max(|y|, 1) (the device's Box–Muller matches Rust to a
//! few ulp); term within 1e-4 of max(|V|, 1), its gradient within 1e-5 norm-wise.

mod common;

use common::{gpu, rel_err, values};
use infobound::cpu::{ops, Workspace};
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi};
use infobound::gpu::kernels::state;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::sampling as sample;
use infobound::math::spec::TrainSpec;

#[test]
fn proposals_and_term_match_the_cpu_twins() {
    let Some(ctx) = gpu() else { return };
    for (b, k, dx, dy) in [
        (1usize, 1usize, 1usize, 1usize),
        (3, 4, 2, 3),
        (17, 7, 1, 20),
        (65, 31, 3, 1),
        (257, 3, 2, 2),
    ] {
        let x = values(b * dx, b as u64);
        let y = values(b * dy, 2 + b as u64);
        let dec: Vec<f32> = values(b * 2 * dy, 3 + b as u64)
            .iter()
            .map(|v| 0.8 * v)
            .collect();
        let (seed, step) = (77u64, 5u32);
        let want = sample::proposals(seed, step, b, k, (&x, dx), (&y, dy), &dec);
        let up = |v: &[f32]| ctx.upload("in", v).unwrap();
        let (xb, yb, db) = (up(&x), up(&y), up(&dec));
        let rows = ctx.filled("rows", want.len(), f32::NAN).unwrap();
        let st = ctx.upload("state", &state::initial(step)).unwrap();
        let d = ctx
            .ms_proposals(seed, (b, k, dx, dy), &xb, &yb, &db, &rows, &st)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let got: Vec<f32> = ctx.read(&rows).unwrap();
        assert!(
            rel_err(&got, &want, 1.0) <= 1e-5,
            "proposals B = {b}, K = {k}"
        );

        let scores: Vec<f32> = values(b * (k + 1), 9 + b as u64)
            .iter()
            .map(|v| 3.0 * v)
            .collect();
        let mut want_d = vec![0.0f32; scores.len()];
        let term = ops::multisample(b, k, &scores, &mut want_d);
        let sb = up(&scores);
        let ds = ctx.filled("ds", scores.len(), f32::NAN).unwrap();
        // Barber–Agakov left 0.75 in this step's slot (5 % 2).
        let hist = ctx.upload("hist", &[0.0f32, 0.75]).unwrap();
        let d = ctx.ms_term((b, k), &sb, &ds, &hist, &st).unwrap();
        ctx.run(&[d], 1).unwrap();
        let h: Vec<f32> = ctx.read(&hist).unwrap();
        let want_v = 0.75 + term;
        assert!(
            (f64::from(h[1]) - want_v).abs() <= 1e-4 * want_v.abs().max(1.0),
            "term B = {b}, K = {k}: {} vs {want_v}",
            h[1]
        );
        let got_d: Vec<f32> = ctx.read(&ds).unwrap();
        assert!(
            rel_err(&got_d, &want_d, 1e-6) <= 1e-5,
            "term gradient B = {b}, K = {k}"
        );
        // f ≡ 0: the term is exactly 0 and V_MS = V_BA.
        let zeros = up(&vec![0.0f32; scores.len()]);
        let d = ctx.ms_term((b, k), &zeros, &ds, &hist, &st).unwrap();
        ctx.run(&[d], 1).unwrap();
        let h2: Vec<f32> = ctx.read(&hist).unwrap();
        assert!(
            (h2[1] - h[1]).abs() <= 1e-6,
            "f ≡ 0 changed the value: {} → {}",
            h[1],
            h2[1]
        );
    }
}

fn spec(d: usize, proposals: u32, batch: usize) -> TrainSpec {
    TrainSpec::new(
        d,
        d,
        CriticForm::DecoderCritic { hidden: vec![6] },
        Bound::Multisample { proposals },
        batch,
    )
    .with_seed(4)
}

#[test]
fn critic_gradients_match_finite_differences_and_the_decoder_gets_ba_s() {
    let d = 2;
    let (x, y) = correlated_gaussian(d, 0.7, 64, 1);
    let data = common::joint(&x, &y, d);
    let ms = spec(d, 3, 8);
    let params = ms.init();
    let mut work = Workspace::new(&ms, data, ms.seed, true);
    work.run(&params, 0);
    let analytic = work.grads().to_vec();
    let (dec_net, _) = &ms.networks()[0];
    let n_dec = dec_net.param_count();
    // The critic's parameters: exact finite differences (the proposals do not depend on them).
    common::assert_central_differences(
        &mut work,
        &params,
        &analytic,
        n_dec..params.len(),
        "critic parameter",
    );
    // The decoder's: Barber–Agakov's gradient, the proposals held fixed.
    let ba = TrainSpec::new(
        d,
        d,
        CriticForm::Decoder { hidden: vec![6] },
        Bound::BarberAgakov,
        8,
    )
    .with_seed(4);
    let mut ba_work = Workspace::new(&ba, data, ba.seed, true);
    ba_work.run(&params[..n_dec], 0);
    assert_eq!(&analytic[..n_dec], ba_work.grads());
}

/// f ≡ 0 (the critic's last layer zero) gives V_BA for every K, on the same batch.
#[test]
fn a_zero_critic_gives_barber_agakov() {
    let d = 3;
    let (x, y) = correlated_gaussian(d, 0.8, 200, 2);
    let data = common::joint(&x, &y, d);
    let ba = TrainSpec::new(
        d,
        d,
        CriticForm::Decoder { hidden: vec![6] },
        Bound::BarberAgakov,
        32,
    )
    .with_seed(4);
    let dec_params = ba.init();
    let mut ba_work = Workspace::new(&ba, data, 9, false);
    let want = ba_work.run(&dec_params, 0);
    for k in [1u32, 5, 40] {
        let ms = spec(d, k, 32);
        let mut params = ms.init();
        params[..dec_params.len()].copy_from_slice(&dec_params);
        let (f, base) = &ms.networks()[1];
        let last = *f.layers_at(*base).last().unwrap();
        for p in &mut params[last.w_off..last.b_off + last.fan_out] {
            *p = 0.0;
        }
        let got = Workspace::new(&ms, data, 9, false).run(&params, 0);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "K = {k}: {got} vs {want}"
        );
    }
}

/// log r(x, y) of the Gaussian channel.
fn log_r(x: &[f32], y: &[f32], rho: f64) -> f64 {
    let s2 = 1.0 - rho * rho;
    x.iter()
        .zip(y)
        .map(|(&xv, &yv)| {
            let (xv, yv) = (f64::from(xv), f64::from(yv));
            -(yv - rho * xv).powi(2) / (2.0 * s2) - 0.5 * s2.ln() + yv * yv / 2.0
        })
        .sum()
}

/// V_MS at I = 10 nats (d = 20, K = 16, B = 500). With q = p(y) and the critic optimal for it,
/// f = log r, the Barber–Agakov term is exactly 0 and what is left is InfoNCE over K + 1
/// candidates, capped at ln 17 = 2.83. With q the true posterior the optimal ρ̂ = q e^f is q
/// itself (f constant): V_MS = V_BA reads I (within 0.3 nats at B = 500); the critic log r, tuned
/// to the marginal, would only lower it.
#[test]
fn q_the_marginal_leaves_infonce_and_q_the_posterior_reads_i() {
    let (d, b, k) = (20, 500, 16);
    let rho = rho_for_mi(d, 10.0);
    let truth = gaussian_mi(d, rho);
    let (x, y) = correlated_gaussian(d, rho, b, 3);
    let s2 = 1.0 - rho * rho;
    let mut marginal = vec![0.0f32; b * 2 * d];
    let mut posterior = vec![0.0f32; b * 2 * d];
    for i in 0..b {
        for c in 0..d {
            posterior[i * 2 * d + c] = (rho * f64::from(x[i * d + c])) as f32;
            posterior[i * 2 * d + d + c] = (0.5 * s2.ln()) as f32;
        }
    }
    let mut results = Vec::new();
    for (dec, exact_critic) in [(&marginal, true), (&posterior, false)] {
        let mut dout = vec![0.0f32; dec.len()];
        let ba = ops::barber_agakov(b, d, dec, &y, None, &mut dout);
        let rows = sample::proposals(11, 0, b, k, (&x, d), (&y, d), dec);
        let scores: Vec<f32> = rows
            .chunks(2 * d)
            .map(|r| {
                if exact_critic {
                    log_r(&r[..d], &r[d..], rho) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let mut ds = vec![0.0f32; scores.len()];
        let term = ops::multisample(b, k, &scores, &mut ds);
        results.push((ba, ba + term));
    }
    let (ba_m, v_m) = results[0];
    let (ba_p, v_p) = results[1];
    eprintln!("q = p(y): BA {ba_m:.4}, V_MS {v_m:.4}; q = p(y|x): BA {ba_p:.4}, V_MS {v_p:.4}; I = {truth:.4}");
    assert_eq!(ba_m, 0.0);
    assert!(v_m <= (k as f64 + 1.0).ln() + 1e-9 && v_m > 1.5, "{v_m}");
    assert_eq!(v_p, ba_p);
    assert!((v_p - truth).abs() <= 0.3, "{v_p} vs {truth}");
    marginal.clear();
}

/// Decoder and critic trained on the device: V_MS close to I = 4 nats (d = 5).
#[test]
fn trained_multisample_gets_close() {
    let Some(_ctx) = gpu() else { return };
    let est = common::known_density::trained_ms_estimator();
    let (r, truth) = common::known_density::four_nat_estimate(&est);
    eprintln!(
        "trained V_MS: {:.4} ± {:.4} vs I = {truth:.4} ({:.1} s)",
        r.mi, r.std_err, r.seconds
    );
    assert_eq!((r.bound, r.critic), ("ms", "decoder-critic"));
    assert!((r.mi - truth).abs() <= 0.3, "{} vs {truth}", r.mi);
}
