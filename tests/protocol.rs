//! The estimation protocol end to end (SPEC §5, §6): accuracy with the default settings, and
//! the self-consistency tests of Song & Ermon (independence, data processing, additivity).

mod common;

use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, independent, rho_for_mi};
use infobound::{DeviceChoice, Estimator, Matrix};

fn estimate(est: &Estimator, x: &[f32], y: &[f32], n: usize) -> f64 {
    report(est, x, y, n).mi
}

/// The report, checked for diagnostics (tuned not to fire on the default Gaussian tasks) and
/// for a disagreement with the InfoNCE cross-check.
fn report_without_diagnostics(
    est: &Estimator,
    x: &[f32],
    y: &[f32],
    n: usize,
) -> infobound::Report {
    let r = report(est, x, y, n);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let check = r
        .cross_check
        .expect("the separable critic is cross-checked");
    assert!(!check.disagrees, "{}", r.cross_check_note);
    r
}

fn report(est: &Estimator, x: &[f32], y: &[f32], n: usize) -> infobound::Report {
    let (dx, dy) = (x.len() / n, y.len() / n);
    let r = est
        .estimate(
            Matrix::new(x, n, dx).unwrap(),
            Matrix::new(y, n, dy).unwrap(),
        )
        .unwrap();
    eprintln!(
        "{} on {}: {:.3} ± {:.3} nats, {} steps in {:.1} s ({:.0} steps/s), {}",
        r.bound, r.critic, r.mi, r.std_err, r.steps, r.seconds, r.steps_per_second, r.device
    );
    eprintln!("warnings: {:?}", r.warnings);
    r
}

fn on_gpu() -> Option<Estimator> {
    common::gpu().map(|_| Estimator::default().with_device(DeviceChoice::Gpu))
}

#[test]
/// Within 20 % and 3 standard errors: read once on the 1 000 report rows with the chosen step's
/// critic it read 0.844 ± 0.052 on lavapipe (0.97–0.99 while the estimate was the best of 20
/// evaluations on the same rows, which the selection biased up).
fn defaults_estimate_a_5d_gaussian_of_one_nat_within_20_percent() {
    let Some(est) = on_gpu() else { return };
    let n = 10_000;
    let (x, y) = correlated_gaussian(5, rho_for_mi(5, 1.0), n, 21);
    let r = report_without_diagnostics(&est, &x, &y, n);
    assert!(
        (r.mi - 1.0).abs() <= 0.2 && (r.mi - 1.0).abs() <= 3.0 * r.std_err,
        "estimate {} ± {} vs 1 nat",
        r.mi,
        r.std_err
    );
}

/// Within 15 %, with no diagnostic. The cross-check is not asked to agree here: at 4 nats
/// SMILE's read-out on batches of 128 is biased up (the log-mean-exp of a small batch is biased
/// down), and on lavapipe it read 4.480 ± 0.172, above the truth, while InfoNCE over the 1 000
/// report rows read 3.007 ± 0.073; the report warned, rightly. InfoNCE itself must not pass
/// the truth by more than its noise.
#[test]
fn defaults_estimate_a_10d_gaussian_of_four_nats_within_15_percent() {
    let Some(est) = on_gpu() else { return };
    let n = 10_000;
    let (x, y) = correlated_gaussian(10, rho_for_mi(10, 4.0), n, 22);
    let r = report(&est, &x, &y, n);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert!((r.mi - 4.0).abs() <= 0.6, "estimate {} vs 4 nats", r.mi);
    let c = r
        .cross_check
        .expect("the separable critic is cross-checked");
    assert!(c.mi <= 4.0 + 3.0 * c.std_err, "{}", r.cross_check_note);
    if c.disagrees {
        assert!(r.mi > 4.0, "a disagreement on an estimate below the truth");
    }
}

#[test]
fn self_consistency_independence_data_processing_additivity() {
    let Some(est) = on_gpu() else { return };
    let est = est.with_steps(1_000);
    let n = 6_000;

    // Independence: x ⟂ y reads (near) zero.
    let (x, y) = independent(3, 3, n, 5);
    let zero = estimate(&est, &x, &y, n);
    assert!(zero.abs() < 0.05, "independent data read {zero} nats");

    // Data processing: keeping fewer coordinates of y cannot add information.
    let d = 4;
    let rho = 0.6;
    let (x, y) = correlated_gaussian(d, rho, n, 6);
    let full = estimate(&est, &x, &y, n);
    let half: Vec<f32> = y.chunks(d).flat_map(|r| r[..d / 2].to_vec()).collect();
    let processed = estimate(&est, &x, &half, n);
    assert!(
        processed <= full + 0.05,
        "I(X; g(Y)) = {processed} above I(X; Y) = {full}"
    );
    assert!(
        (processed - gaussian_mi(d / 2, rho)).abs() < 0.15 * gaussian_mi(d / 2, rho) + 0.05,
        "the processed estimate {processed} is far from its truth {}",
        gaussian_mi(d / 2, rho)
    );

    // Additivity: two independent copies of (X, Y) hold twice the information. The pair is the
    // halves of the 4-d task above: I([X1, X2]; [Y1, Y2]) = 2 I(X1; Y1).
    let x1: Vec<f32> = x.chunks(d).flat_map(|r| r[..d / 2].to_vec()).collect();
    let single = estimate(&est, &x1, &half, n);
    assert!(
        (full - 2.0 * single).abs() <= 0.15 * 2.0 * single,
        "I of two copies {full} vs twice one copy {}",
        2.0 * single
    );
}
