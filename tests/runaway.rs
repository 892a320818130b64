//! No absurd answers: an estimate that runs away past what the sample size can certify is
//! flagged with its step and a remedy, and never reported as the estimate.

use infobound::experiments::tasks::correlated_gaussian;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error, Estimator, Matrix};

/// DV's biased gradient on 3 000 rows of a 5-d Gaussian at ρ = 0.99 (9.79 nats, above
/// ln(2 400 training rows) = 7.78): a small MINE-style critic at lr 3e-3 runs away fast.
fn runaway_setup() -> (Estimator, Vec<f32>, Vec<f32>) {
    let (x, y) = correlated_gaussian(5, 0.99, 3_000, 4);
    let est = Estimator::default()
        .with_bound(Bound::Dv)
        .with_critic(CriticForm::Shuffled {
            hidden: vec![32, 32],
        })
        .with_batch(64)
        .with_lr(3e-3)
        .with_steps(300)
        .with_eval_every(25)
        .with_eval_batches(4)
        .with_device(DeviceChoice::Cpu);
    (est, x, y)
}

#[test]
fn a_runaway_is_flagged_and_not_reported() {
    let (est, x, y) = runaway_setup();
    let r = est
        .estimate(
            Matrix::new(&x, 3_000, 5).unwrap(),
            Matrix::new(&y, 3_000, 5).unwrap(),
        )
        .unwrap();
    let limit = 2_400f64.ln();
    let run = r.runaway.expect("not flagged");
    let w = r
        .warnings
        .iter()
        .find(|w| w.contains("ran away"))
        .expect("no warning");
    assert!(w.contains(&format!("step {}", run.step)), "{w}");
    assert!(
        w.contains("--bound mine") && w.contains("learning rate"),
        "{w}"
    );
    // Some evaluation read above the limit; the report does not.
    assert!(
        r.test_curve.iter().any(|e| e.mi > limit),
        "{:?}",
        r.test_curve
    );
    assert!(r.mi <= limit, "reported {}", r.mi);
    // The step reported is the best evaluation before the runaway (its critic read once on
    // the report rows, so the value differs from that evaluation's).
    let best_before = r
        .test_curve
        .iter()
        .filter(|e| e.step <= run.step && e.mi <= limit)
        .fold(None::<&infobound::Evaluation>, |b, e| match b {
            Some(b) if e.mi <= b.mi => Some(b),
            _ => Some(e),
        })
        .expect("an evaluation before the runaway");
    assert_eq!(r.chosen_step, Some(best_before.step));
    assert_eq!(r.grad_norms.len(), 300);
    assert!(r.grad_norms.iter().all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn a_runaway_before_any_evaluation_is_an_error_not_a_number() {
    let (est, x, y) = runaway_setup();
    let e = est
        .with_eval_every(300)
        .estimate(
            Matrix::new(&x, 3_000, 5).unwrap(),
            Matrix::new(&y, 3_000, 5).unwrap(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::RunawayEstimate(_)), "{e}");
    assert!(e.to_string().contains("ran away at step"), "{e}");
}

#[test]
fn a_healthy_run_is_not_flagged_and_records_every_norm() {
    let (x, y) = correlated_gaussian(2, 0.5, 2_000, 5);
    let r = Estimator::default()
        .with_critic(CriticForm::Shuffled { hidden: vec![16] })
        .with_batch(64)
        .with_steps(200)
        .with_device(DeviceChoice::Cpu)
        .with_max_grad_norm(Some(1.0))
        .estimate(
            Matrix::new(&x, 2_000, 2).unwrap(),
            Matrix::new(&y, 2_000, 2).unwrap(),
        )
        .unwrap();
    assert_eq!(r.runaway, None);
    assert!(!r.warnings.iter().any(|w| w.contains("ran away")));
    assert_eq!(r.grad_norms.len(), 200);
    assert!(r.grad_norms.iter().all(|v| v.is_finite() && *v > 0.0));
    let bad = Estimator::default().with_max_grad_norm(Some(0.0));
    assert!(bad
        .estimate(
            Matrix::new(&x, 2_000, 2).unwrap(),
            Matrix::new(&y, 2_000, 2).unwrap()
        )
        .is_err_and(|e| e.is_input()));
}
