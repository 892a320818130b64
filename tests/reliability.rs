//! Divergence, determinism and a lost device, through the public estimator on both backends:
//! a run that blows up is an error naming the step and a remedy, never a NaN or infinite
//! estimate (in training or in evaluation); the same seed gives the same bits; different seeds
//! draw different minibatches; a device destroyed mid-run is a typed error, not a hang.

mod common;

use common::gpu;
use infobound::experiments::tasks;
use infobound::gpu::kernels::state;
use infobound::gpu::{GpuError, GpuTrainer};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::sampling as sample;
use infobound::math::spec::TrainSpec;
use infobound::{DeviceChoice, Error, Estimator, Matrix, Report};

fn small() -> Estimator {
    Estimator::default()
        .with_critic(CriticForm::Separable {
            hidden: vec![16],
            embed: 8,
        })
        .with_batch(32)
        .with_steps(60)
        .with_eval_every(20)
        .with_eval_batches(4)
        .with_chunk(16)
}

fn estimate(est: &Estimator, x: &[f32], y: &[f32], d: usize) -> Result<Report, Error> {
    let n = x.len() / d;
    est.estimate(Matrix::new(x, n, d).unwrap(), Matrix::new(y, n, d).unwrap())
}

fn devices() -> Vec<DeviceChoice> {
    let mut v = vec![DeviceChoice::Cpu];
    if gpu().is_some() {
        v.push(DeviceChoice::Gpu);
    }
    v
}

#[test]
fn a_huge_learning_rate_on_dv_is_an_error_naming_the_step() {
    let (x, y) = tasks::correlated_gaussian(2, 0.9, 600, 5);
    // DV's log-mean-exp is max-shifted, so only a learning rate that throws the weights past
    // √(f32::MAX) in one step overflows it; NWJ's exp overflows much sooner.
    for (bound, lr) in [(Bound::Dv, 1e30), (Bound::Nwj, 1e4)] {
        diverges(bound, lr, &x, &y);
    }
}

fn diverges(bound: Bound, lr: f32, x: &[f32], y: &[f32]) {
    let mut steps = Vec::new();
    for device in devices() {
        let est = small()
            .with_bound(bound)
            .with_lr(lr)
            .with_device(device)
            .with_steps(200);
        match estimate(&est, x, y, 2) {
            Err(e @ Error::Diverged { step, .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(&format!("step {step}")), "{msg}");
                assert!(msg.contains("lower the learning rate"), "{msg}");
                assert!(!msg.contains('\n'));
                assert!(step < 200, "{bound:?} on {device:?}: step {step}");
                steps.push(step);
            }
            Err(e) => panic!("{device:?}: expected divergence, got {e}"),
            Ok(r) => panic!(
                "{device:?}: expected divergence, got an estimate of {}",
                r.mi
            ),
        }
    }
    // The device reads its flags once a chunk but names the first bad step, as the CPU does.
    if let [cpu, gpu] = steps[..] {
        assert!(
            cpu.abs_diff(gpu) <= 1,
            "{bound:?}: CPU step {cpu}, GPU step {gpu}"
        );
    }
}

#[test]
fn a_runaway_but_finite_estimate_comes_with_a_warning() {
    // DV at lr 1e6 on the CPU: the weights grow by ~1e6 a step and the held-out value sinks to
    // about −1e19 without overflowing. Reported, but with the warning.
    let (x, y) = tasks::correlated_gaussian(2, 0.9, 600, 5);
    let est = small()
        .with_bound(Bound::Dv)
        .with_lr(1e6)
        .with_device(DeviceChoice::Cpu);
    let r = estimate(&est, &x, &y, 2).unwrap();
    assert!(r.mi < 0.0, "{}", r.mi);
    assert!(
        r.warnings.iter().any(|w| w.contains("is negative")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_held_out_value_that_overflows_is_an_error_not_a_nan_estimate() {
    // One held-out row of x is ~1e38 (finite, so the data are accepted): standardised with the
    // training rows' statistics it drives the critic past f32 and the held-out value is NaN.
    // (Rank-Gauss, the default, sends it to the outermost training quantile instead.)
    let (n, d) = (400usize, 2usize);
    let (mut x, y) = tasks::correlated_gaussian(d, 0.8, n, 2);
    let est = small()
        .with_bound(Bound::Nwj)
        .with_test_fraction(0.5)
        .with_transform(infobound::MarginalTransform::Standardize);
    let (_, test) = infobound::estimate::split::split_rows(n, 0.5, est.seed);
    for &r in &test {
        x[r * d] = 3.0e38;
        x[r * d + 1] = -3.0e38;
    }
    for device in devices() {
        match estimate(&est.clone().with_device(device), &x, &y, d) {
            Err(e @ Error::Diverged { .. }) => {
                assert!(e.to_string().contains("held-out"), "{e}");
            }
            Err(e) => panic!("{device:?}: expected an error on the held-out value, got {e}"),
            Ok(r) => panic!(
                "{device:?}: an estimate of {} ± {} from non-finite evaluations",
                r.mi, r.std_err
            ),
        }
    }
}

fn bits(r: &Report) -> (u64, Vec<u32>, Vec<(u64, u64, u64)>) {
    (
        r.mi.to_bits(),
        r.train_curve.iter().map(|v| v.to_bits()).collect(),
        r.test_curve
            .iter()
            .map(|e| (e.step, e.mi.to_bits(), e.std_err.to_bits()))
            .collect(),
    )
}

#[test]
fn the_same_seed_gives_the_same_bits_and_another_seed_does_not() {
    let (x, y) = tasks::correlated_gaussian(3, 0.7, 500, 9);
    for device in devices() {
        let est = small().with_device(device).with_seed(17);
        let a = estimate(&est, &x, &y, 3).unwrap();
        let b = estimate(&est, &x, &y, 3).unwrap();
        assert!(a.mi.is_finite());
        assert_eq!(bits(&a), bits(&b), "{device:?}: the same seed twice");
        let c = estimate(&est.clone().with_seed(18), &x, &y, 3).unwrap();
        assert_ne!(a.train_curve, c.train_curve, "{device:?}: another seed");
    }
}

#[test]
fn different_seeds_draw_different_minibatches() {
    let (n, k, dx, dy) = (300usize, 17usize, 2usize, 1usize);
    let x = common::values(n * dx, 1);
    let y = common::values(n * dy, 2);
    // On the CPU: the rows of the batch, at several steps.
    for step in [0u32, 1, 99] {
        let a = sample::batch_rows(1, step, n, k);
        let b = sample::batch_rows(2, step, n, k);
        assert_ne!(a, b, "step {step}");
        assert_eq!(a, sample::batch_rows(1, step, n, k));
    }
    // Consecutive steps of one seed differ too.
    assert_ne!(
        sample::batch_rows(1, 0, n, k),
        sample::batch_rows(1, 1, n, k)
    );
    // On the device: the gathered batches.
    let Some(ctx) = gpu() else { return };
    let (gx, gy) = (ctx.upload("x", &x).unwrap(), ctx.upload("y", &y).unwrap());
    let xb = ctx.zeros("xb", k * dx).unwrap();
    let yb = ctx.zeros("yb", k * dy).unwrap();
    let st = ctx.upload("state", &state::initial(5)).unwrap();
    let mut draws = Vec::new();
    for seed in [1u64, 2, 1] {
        let d = ctx
            .gather_batch(seed, n, k, (&gx, dx), (&gy, dy), &xb, &yb, &st)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        draws.push(ctx.read::<f32>(&xb).unwrap());
    }
    assert_ne!(draws[0], draws[1], "seeds 1 and 2");
    assert_eq!(draws[0], draws[2], "seed 1 twice");
}

#[test]
fn a_device_destroyed_mid_run_is_a_typed_error() {
    let Some(ctx) = gpu() else { return };
    let (x, y) = tasks::correlated_gaussian(2, 0.5, 200, 1);
    let spec = TrainSpec::new(
        2,
        2,
        CriticForm::Shuffled { hidden: vec![8] },
        Bound::Nwj,
        16,
    );
    let data = common::joint(&x, &y, 2);
    let mut t = GpuTrainer::new(&ctx, &spec, data, None, 8).unwrap();
    assert_eq!(t.train(8).unwrap().len(), 8);
    ctx.device().destroy();
    match t.train(8).map_err(Error::from) {
        Err(Error::Gpu(e)) => {
            assert!(
                matches!(
                    e,
                    GpuError::DeviceLost { .. } | GpuError::Wgpu { .. } | GpuError::Poll { .. }
                ),
                "{e:?}"
            );
            eprintln!("after destroy(): {e}");
        }
        Err(e) => panic!("expected a GPU error, got {e}"),
        Ok(v) => panic!("a destroyed device trained: {v:?}"),
    }
    // It stays an error, and reading the parameters fails too rather than hanging.
    assert!(t.train(1).is_err());
    assert!(t.parameters().is_err());
}
