//! V_MS with reparameterised proposals (`TrainSpec::reparameterised`): the decoder also learns
//! through y_ik = μ_i + σ_i ε_ik. Checked: every parameter's gradient (decoder and critic)
//! against finite differences on the CPU; the `proposal_grads` kernel against its CPU twin on
//! odd shapes, the clip included; and the device trainer against the CPU trainer.
//!
//! Tolerances: finite differences within 2e-2 relative (f32 parameters, step 1e-3, as
//! tests/multisample.rs); the kernel norm-wise within 1e-5 (f32 sums of K terms against f64);
//! trainer values within 1e-3 of max(|V|, 1) and parameters norm-wise within 1e-3 after a few
//! Adam steps.

mod common;

use common::{gpu, rel_err, values};
use infobound::cpu::{CpuTrainer, Workspace};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::kernels::state;
use infobound::gpu::GpuTrainer;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::sampling as sample;
use infobound::math::spec::{TrainData, TrainSpec};

fn spec(d: usize, proposals: u32, batch: usize) -> TrainSpec {
    TrainSpec::new(
        d,
        d,
        CriticForm::DecoderCritic { hidden: vec![6] },
        Bound::Multisample { proposals },
        batch,
    )
    .with_seed(4)
    .with_reparameterised(true)
}

#[test]
fn every_gradient_matches_finite_differences() {
    let d = 2;
    let (x, y) = correlated_gaussian(d, 0.7, 64, 1);
    let data = common::joint(&x, &y, d);
    let ms = spec(d, 3, 8);
    let params = ms.init();
    let mut work = Workspace::new(&ms, data, ms.seed, true);
    work.run(&params, 0);
    let analytic = work.grads().to_vec();
    common::assert_central_differences(&mut work, &params, &analytic, 0..params.len(), "parameter");
    // The path through the proposals is there: the decoder's gradient is not BA's alone, and
    // the critic's is the same as with the proposals held fixed.
    let n_dec = ms.networks()[0].0.param_count();
    let fixed = ms.clone().with_reparameterised(false);
    let mut fixed_work = Workspace::new(&fixed, data, fixed.seed, true);
    fixed_work.run(&params, 0);
    assert_eq!(&analytic[n_dec..], &fixed_work.grads()[n_dec..]);
    assert!(rel_err(&analytic[..n_dec], &fixed_work.grads()[..n_dec], 1e-6) > 1e-3);
}

#[test]
fn kernel_matches_the_cpu_twin_on_odd_shapes() {
    let Some(ctx) = gpu() else { return };
    for (b, k, dy) in [(1usize, 1usize, 1usize), (3, 5, 20), (17, 3, 3), (65, 2, 1)] {
        let seed = 11 + b as u64;
        let step = 7u32;
        let mut dec: Vec<f32> = values(b * 2 * dy, b as u64).to_vec();
        // One log σ past the clip: its gradient must stay as it was.
        dec[dy] = 100.0;
        let dprop = values(b * (k + 1) * dy, 3 + k as u64);
        let start = values(b * 2 * dy, 5 + dy as u64);
        let mut want = start.clone();
        sample::proposal_grads(seed, step, (b, k, dy), &dec, &dprop, &mut want);
        assert_eq!(want[dy], start[dy]);
        let db = ctx.upload("dec", &dec).unwrap();
        let gb = ctx.upload("dprop", &dprop).unwrap();
        let out = ctx.upload("ddec", &start).unwrap();
        let st = ctx.upload("state", &state::initial(step)).unwrap();
        let disp = ctx
            .ms_proposal_grads(seed, (b, k, dy), &db, &gb, &out, &st)
            .unwrap();
        ctx.run(&[disp], 1).unwrap();
        let got: Vec<f32> = ctx.read(&out).unwrap();
        assert!(
            rel_err(&got, &want, 1e-6) <= 1e-5,
            "B = {b}, K = {k}, dy = {dy}"
        );
        assert_eq!(got[dy], start[dy]);
    }
    // Operands that do not fit are refused.
    let small = ctx.zeros("small", 3).unwrap();
    let big = ctx.zeros("big", 64).unwrap();
    let st = ctx.upload("s", &state::initial(0)).unwrap();
    assert!(ctx
        .ms_proposal_grads(1, (2, 3, 2), &big, &small, &big, &st)
        .is_err());
}

#[test]
fn device_trainer_matches_the_cpu_trainer() {
    let Some(ctx) = gpu() else { return };
    let d = 3;
    let (x, y) = correlated_gaussian(d, 0.8, 65, 2);
    let (xt, yt) = correlated_gaussian(d, 0.8, 33, 3);
    let data = common::joint(&x, &y, d);
    let test = TrainData {
        x: &xt,
        y: &yt,
        ..data
    };
    let ms = spec(d, 5, 17);
    let mut cpu = CpuTrainer::new(&ms, data, Some((test, 2))).unwrap();
    let mut dev = GpuTrainer::new(&ctx, &ms, data, Some((test, 2)), 3).unwrap();
    let (tc, tg) = (cpu.train(4).unwrap(), dev.train(4).unwrap());
    let (ec, eg) = (cpu.evaluate().unwrap(), dev.evaluate().unwrap());
    for (what, c, g) in [("training", &tc, &tg), ("held-out", &ec, &eg)] {
        for (i, (a, b)) in c.iter().zip(g.iter()).enumerate() {
            assert!(
                (a - b).abs() <= 1e-3 * a.abs().max(1.0),
                "{what} value {i}: cpu {a} vs device {b}"
            );
        }
    }
    let (pc, pg) = (cpu.parameters().unwrap(), dev.parameters().unwrap());
    let fixed_dev = {
        let f = ms.clone().with_reparameterised(false);
        let mut c = CpuTrainer::new(&f, data, None).unwrap();
        let mut g = GpuTrainer::new(&ctx, &f, data, None, 3).unwrap();
        c.train(4).unwrap();
        g.train(4).unwrap();
        rel_err(&g.parameters().unwrap(), &c.parameters().unwrap(), 1e-6)
    };
    // Adam's normalised steps turn f32 rounding of near-zero gradients into steps of the
    // learning rate, so parameters agree to ~3e-3 after 4 steps with the proposals held fixed
    // as well (measured 3.0e-3 fixed, 3.3e-3 reparameterised): no more is asked of this path.
    let err = rel_err(&pg, &pc, 1e-6);
    eprintln!("parameters: {err:.2e} (held fixed: {fixed_dev:.2e})");
    assert!(
        err <= 1e-2 && err <= 2.0 * fixed_dev.max(1e-3),
        "parameters {err}"
    );
    // The option changes what the decoder learns.
    let fixed = ms.clone().with_reparameterised(false);
    let mut other = CpuTrainer::new(&fixed, data, None).unwrap();
    other.train(4).unwrap();
    let n_dec = ms.networks()[0].0.param_count();
    assert!(rel_err(&other.parameters().unwrap()[..n_dec], &pc[..n_dec], 1e-6) > 1e-4);
}

/// Trained on the device (d = 5, I = 4 nats, K = 8, as tests/multisample.rs) the
/// reparameterised option reads I within 0.3 nats too; both readings are printed for
/// comparison (the default stays with the proposals held fixed).
#[test]
fn trained_reparameterised_gets_close() {
    use common::known_density::four_nat_estimate;
    let Some(_ctx) = gpu() else { return };
    let est = common::known_density::trained_ms_estimator();
    let (fixed, truth) = four_nat_estimate(&est);
    let (reparam, _) = four_nat_estimate(&est.with_reparameterised(true));
    eprintln!(
        "trained V_MS, I = {truth:.4}: held fixed {:.4} ± {:.4}; reparameterised {:.4} ± {:.4}",
        fixed.mi, fixed.std_err, reparam.mi, reparam.std_err
    );
    assert!(
        (reparam.mi - truth).abs() <= 0.3,
        "{} vs {truth}",
        reparam.mi
    );
}
