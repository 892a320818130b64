//! Every critic form end to end: the CPU program's gradients against finite differences, and
//! the device trainer against the CPU reference over 20 steps, on data and on the device's
//! Gaussian batches.

mod common;

use common::{gpu, rel_err};
use infobound::cpu::{CpuTrainer, Workspace};
use infobound::experiments::tasks::{correlated_gaussian, Transform};
use infobound::gpu::GpuTrainer;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::optim::AdamConfig;
use infobound::math::spec::{Batches, TrainSpec};

fn forms() -> Vec<CriticForm> {
    vec![
        CriticForm::Separable {
            hidden: vec![6, 5],
            embed: 4,
        },
        CriticForm::Concat { hidden: vec![6, 5] },
        CriticForm::Shuffled { hidden: vec![6, 5] },
    ]
}

const BOUNDS: [Bound; 8] = [
    Bound::InfoNce,
    Bound::Nwj,
    Bound::Tuba,
    Bound::Dv,
    Bound::Mine { gamma: 0.9 },
    Bound::Js,
    Bound::Smile { tau: 2.0 },
    Bound::AlphaInfoNce { alpha: 0.3 },
];

fn applies(form: &CriticForm, bound: Bound) -> bool {
    form.full_matrix() || bound.supports_shuffled()
}

#[test]
fn program_gradients_match_finite_differences_for_every_form_and_bound() {
    let (x, y) = correlated_gaussian(2, 0.7, 40, 1);
    let data = common::joint(&x, &y, 2);
    for form in forms() {
        for bound in BOUNDS {
            // MINE's gradient is not the gradient of its value; its surrogate is checked in
            // the bounds' own tests.
            if !applies(&form, bound) || matches!(bound, Bound::Mine { .. }) {
                continue;
            }
            let spec = TrainSpec::new(2, 2, form.clone(), bound, 5)
                .with_seed(3)
                .with_baseline_hidden(vec![4]);
            let params = spec.init();
            let mut work = Workspace::new(&spec, data, spec.seed, true);
            work.run(&params, 0);
            let analytic = work.grads().to_vec();
            let base = work.objective(&params, 0);
            for i in 0..params.len() {
                // A ReLU kink within the step spoils the central difference; the one-sided
                // difference on the kink-free side still matches, so accept the best of three.
                let h = 1e-3f32;
                let mut up = params.clone();
                let mut down = params.clone();
                up[i] += h;
                down[i] -= h;
                let (fu, fd) = (work.objective(&up, 0), work.objective(&down, 0));
                let (hu, hd) = (f64::from(up[i] - params[i]), f64::from(params[i] - down[i]));
                let an = f64::from(analytic[i]);
                let err = [-(fu - fd) / (hu + hd), -(fu - base) / hu, -(base - fd) / hd]
                    .iter()
                    .map(|d| (d - an).abs() / (1e-3 + an.abs()))
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    err < 3e-2,
                    "{} {bound:?} parameter {i}: finite differences {:?} vs backward {an}",
                    form.name(),
                    [-(fu - fd) / (hu + hd), -(fu - base) / hu, -(base - fd) / hd]
                );
            }
        }
    }
}

#[test]
fn twenty_steps_match_the_cpu_for_every_form_and_bound() {
    let Some(ctx) = gpu() else { return };
    let (x, y) = correlated_gaussian(3, 0.8, 200, 2);
    let data = common::joint(&x, &y, 3);
    for form in forms() {
        for bound in BOUNDS {
            if !applies(&form, bound) {
                continue;
            }
            // ε = 1e-4: a bound invariant to shifting every score (InfoNCE, DV) gives the
            // output bias a gradient of pure round-off, which Adam with ε = 1e-8 would turn into
            // full-size steps that differ between the backends.
            let spec = TrainSpec::new(3, 3, form.clone(), bound, 17)
                .with_seed(5)
                .with_baseline_hidden(vec![7])
                .with_adam(AdamConfig::default().with_lr(3e-3).with_eps(1e-4));
            let mut g = GpuTrainer::new(&ctx, &spec, data, None, 8).unwrap();
            let mut c = CpuTrainer::new(&spec, data, None).unwrap();
            let gv = g.train(20).unwrap();
            let cv = c.train(20).unwrap();
            let verr = rel_err(&gv, &cv, 1e-2);
            assert!(
                verr <= 1e-3,
                "{} {bound:?}: values differ ({verr})",
                form.name()
            );
            let perr = rel_err(&g.parameters().unwrap(), &c.parameters().unwrap(), 1e-6);
            assert!(
                perr <= 1e-3,
                "{} {bound:?}: parameters differ ({perr})",
                form.name()
            );
        }
    }
}

#[test]
fn device_gaussian_batches_train_like_the_cpu() {
    let Some(ctx) = gpu() else { return };
    let rho: Vec<f32> = (0..20).map(|s| if s < 10 { 0.5 } else { 0.9 }).collect();
    for (form, transform) in [
        (forms()[0].clone(), Transform::Identity),
        (forms()[2].clone(), Transform::Cubic),
    ] {
        let spec = TrainSpec::new(4, 4, form.clone(), Bound::Smile { tau: 5.0 }, 16)
            .with_seed(9)
            .with_adam(AdamConfig::default().with_lr(3e-3));
        let batches = Batches::Gaussian {
            rho: &rho,
            transform,
        };
        let mut g = GpuTrainer::new(&ctx, &spec, batches, None, 7).unwrap();
        let mut c = CpuTrainer::new(&spec, batches, None).unwrap();
        let gv = g.train(20).unwrap();
        let cv = c.train(20).unwrap();
        // Gaussians differ in the last bits between WGSL and Rust transcendentals.
        let verr = rel_err(&gv, &cv, 1e-2);
        assert!(verr <= 1e-2, "{}: values differ ({verr})", form.name());
        let perr = rel_err(&g.parameters().unwrap(), &c.parameters().unwrap(), 1e-6);
        assert!(perr <= 1e-2, "{}: parameters differ ({perr})", form.name());
    }
}

#[test]
fn evaluation_reads_the_held_out_rows_the_same_on_both_backends() {
    let Some(ctx) = gpu() else { return };
    let (x, y) = correlated_gaussian(2, 0.8, 300, 4);
    let (xt, yt) = correlated_gaussian(2, 0.8, 100, 5);
    let data = common::joint(&x, &y, 2);
    let test = common::joint(&xt, &yt, 2);
    for form in forms() {
        let spec = TrainSpec::new(2, 2, form.clone(), Bound::Dv, 20).with_seed(1);
        let mut g = GpuTrainer::new(&ctx, &spec, data, Some((test, 6)), 10).unwrap();
        let mut c = CpuTrainer::new(&spec, data, Some((test, 6))).unwrap();
        g.train(10).unwrap();
        c.train(10).unwrap();
        let ge = g.evaluate().unwrap();
        assert_eq!(ge.len(), 6);
        assert_eq!(ge, g.evaluate().unwrap(), "evaluations repeat exactly");
        let err = rel_err(&ge, &c.evaluate().unwrap(), 1e-2);
        assert!(err <= 1e-3, "{}: evaluations differ ({err})", form.name());
    }
}
