//! The public estimator: an end-to-end estimate on the device, the CPU backend, and clear
//! errors for bad input.

mod common;

use infobound::experiments::tasks;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error, Estimator, Matrix};

/// Seed 000's Demo 1: NWJ, a 64-64 concat critic on shuffled negatives, Adam lr 1e-3.
fn seed_000() -> Estimator {
    Estimator::default()
        .with_bound(Bound::Nwj)
        .with_critic(CriticForm::Shuffled {
            hidden: vec![64, 64],
        })
        .with_lr(1e-3)
        .with_eval_every(200)
}

#[test]
fn seed_000_demo_lands_near_the_truth_on_the_gpu() {
    let Some(ctx) = common::gpu() else { return };
    drop(ctx);
    let truth = tasks::gaussian_mi(1, 0.8);
    let (x, y) = tasks::correlated_gaussian(1, 0.8, 20_000, 7);
    let report = seed_000()
        .with_device(DeviceChoice::Gpu)
        .with_batch(256)
        .with_steps(800)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    eprintln!(
        "{:.4} ± {:.4} (truth {truth:.4})",
        report.mi, report.std_err
    );
    // NWJ's read-out on the 2 000 report rows is noisy (its terms are e^(S − 1)): within
    // 3 standard errors of the truth, and the error itself small.
    assert!(
        (report.mi - truth).abs() < 3.0 * report.std_err,
        "estimate {} ± {} vs {truth}",
        report.mi,
        report.std_err
    );
    assert!(report.std_err.is_finite() && report.std_err > 0.0 && report.std_err < 0.05);
    assert_eq!(report.train_curve.len(), 800);
    assert_eq!(report.test_curve.len(), 4, "an evaluation every 200 steps");
    assert!(
        report.device.contains("Vulkan")
            || report.device.contains("Metal")
            || report.device.contains("Dx12")
    );
}

#[test]
fn the_cpu_backend_estimates_too() {
    let truth = tasks::gaussian_mi(1, 0.8);
    let (x, y) = tasks::correlated_gaussian(1, 0.8, 5_000, 3);
    let report = seed_000()
        .with_device(DeviceChoice::Cpu)
        .with_hidden(vec![32, 32])
        .with_batch(128)
        .with_steps(600)
        .with_average_last(200)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert!(report.device.contains("CPU"));
    assert!(
        (report.mi - truth).abs() < 0.08,
        "estimate {} vs {truth}",
        report.mi
    );
}

fn invalid(result: Result<infobound::Report, Error>) -> String {
    match result {
        Err(e) if e.is_input() => e.to_string(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn bad_input_gets_a_clear_error() {
    let cpu = seed_000()
        .with_device(DeviceChoice::Cpu)
        .with_batch(2)
        .with_test_fraction(0.5)
        .with_steps(5);
    let x = vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
    let y = vec![1.0f32, 0.0, 2.0, 5.0, 4.0, 3.0];

    let mut nan = y.clone();
    nan[4] = f32::NAN;
    let msg = invalid(cpu.estimate(Matrix::column(&x), Matrix::column(&nan)));
    assert!(
        msg.contains("row 4") && msg.contains("column 0") && msg.contains('y'),
        "{msg}"
    );

    let msg = invalid(cpu.estimate(Matrix::column(&x), Matrix::column(&y[..5])));
    assert!(msg.contains("6 rows") && msg.contains('5'), "{msg}");

    let msg = invalid(
        cpu.clone()
            .with_batch(7)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(msg.contains("fewer than one batch"), "{msg}");

    let msg = invalid(
        cpu.clone()
            .with_batch(1)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(msg.contains("at least 2"), "{msg}");

    let msg = invalid(
        cpu.clone()
            .with_lr(-1.0)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(msg.contains("learning rate"), "{msg}");

    let msg = invalid(
        cpu.clone()
            .with_steps(0)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(msg.contains("steps"), "{msg}");

    let msg = invalid(
        cpu.clone()
            .with_test_fraction(0.1)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(
        msg.contains("held-out rows are fewer than one batch"),
        "{msg}"
    );

    let msg = invalid(
        cpu.clone()
            .with_test_fraction(1.0)
            .estimate(Matrix::column(&x), Matrix::column(&y)),
    );
    assert!(msg.contains("test fraction"), "{msg}");

    let constant = vec![2.0f32; 6];
    let msg = invalid(cpu.estimate(Matrix::column(&x), Matrix::column(&constant)));
    assert!(msg.contains("constant"), "{msg}");

    assert!(Matrix::new(&x, 4, 2).is_err());
    assert!(Matrix::new(&x, 6, 0).is_err());
}

/// α-InfoNCE's report carries its ceiling 1 + ln((K − 1)/α) (it was `None`: the report read a
/// second `ceiling` function that knew only InfoNCE).
#[test]
fn the_alpha_infonce_report_carries_its_ceiling() {
    let n = 1000;
    let (x, y) = infobound::experiments::tasks::correlated_gaussian(1, 0.5, n, 4);
    let alpha = 0.3f32;
    let r = Estimator::default()
        .with_bound(Bound::AlphaInfoNce { alpha })
        .with_device(DeviceChoice::Cpu)
        .with_hidden(vec![8])
        .with_batch(32)
        .with_steps(20)
        .with_eval_every(10)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    let want = 1.0 + (31.0 / f64::from(alpha)).ln();
    assert_eq!(r.ceiling, Some(want));
    assert_eq!(r.ceiling, Bound::AlphaInfoNce { alpha }.ceiling(32));
}
