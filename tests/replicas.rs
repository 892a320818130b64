//! Many estimates at once: seed ensembles and `estimate_many` give each replica the bits it
//! gets alone, on every backend; replicas that diverge, stop early or are frozen stop alone;
//! mixed requests are grouped by shape.

mod common;

use infobound::backend::{self, BackendError, Replica, RunOptions};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::{Batches, TrainData};
use infobound::{DeviceChoice, Error, Estimator, Matrix, Report};

/// Every device this machine offers: the fast CPU, the reference, and the adapter (required
/// under INFOBOUND_REQUIRE_GPU=1, as in CI).
fn devices() -> Vec<DeviceChoice> {
    let mut d = vec![DeviceChoice::Cpu, DeviceChoice::CpuReference];
    if common::gpu().is_some() {
        d.push(DeviceChoice::Gpu);
    }
    d
}

/// A small estimator that finishes in a moment on lavapipe.
fn small(device: DeviceChoice) -> Estimator {
    Estimator::default()
        .with_critic(CriticForm::Separable {
            hidden: vec![7],
            embed: 3,
        })
        .with_batch(17)
        .with_steps(60)
        .with_eval_every(20)
        .with_eval_batches(3)
        .with_chunk(20)
        .with_device(device)
}

/// The fields that carry a run's bits: the estimate, the training values, the gradient
/// norms, the evaluations (step and value) and the steps, as integers.
fn bits(r: &Report) -> Vec<u64> {
    let mut b = vec![r.mi.to_bits(), r.steps];
    b.extend(r.train_curve.iter().map(|v| u64::from(v.to_bits())));
    b.extend(r.grad_norms.iter().map(|v| u64::from(v.to_bits())));
    b.extend(r.test_curve.iter().flat_map(|e| [e.step, e.mi.to_bits()]));
    b
}

#[test]
fn each_seed_of_an_ensemble_gives_its_solo_bits_and_the_report_their_spread() {
    let (x, y) = correlated_gaussian(2, 0.7, 300, 5);
    let (x, y) = (
        Matrix::new(&x, 300, 2).unwrap(),
        Matrix::new(&y, 300, 2).unwrap(),
    );
    for device in devices() {
        let est = small(device).with_seed(40);
        let ensemble = est.clone().with_replicas(3).estimate(x, y).unwrap();
        let e = ensemble.ensemble.as_ref().expect("an ensemble report");
        assert_eq!(e.seeds, vec![40, 41, 42]);
        assert_eq!(e.finished(), 3);
        for (i, &seed) in e.seeds.iter().enumerate() {
            let solo = est.clone().with_seed(seed).estimate(x, y).unwrap();
            assert_eq!(
                e.estimates[i].to_bits(),
                solo.mi.to_bits(),
                "{device} seed {seed}"
            );
            assert_eq!(e.std_errs[i].to_bits(), solo.std_err.to_bits());
            if i == 0 {
                // The curves are the first seed's.
                assert_eq!(solo.train_curve, ensemble.train_curve, "{device}");
            }
        }
        let mean = e.estimates.iter().sum::<f64>() / 3.0;
        assert!((ensemble.mi - mean).abs() < 1e-12);
        assert!(e.sd > 0.0 && e.sd.is_finite(), "{device}: sd {}", e.sd);
        assert!(ensemble.std_err >= e.sd / 3f64.sqrt(), "{device}");
        eprintln!(
            "{device}: {:.4} ± {:.4}, seeds {:?}, sd {:.4}",
            ensemble.mi, ensemble.std_err, e.estimates, e.sd
        );
    }
}

#[test]
fn estimate_many_groups_by_shape_and_gives_each_pair_its_solo_bits() {
    let (x1, y1) = correlated_gaussian(2, 0.8, 240, 1);
    let (x2, y2) = correlated_gaussian(2, 0.3, 240, 2);
    let (x3, y3) = correlated_gaussian(1, 0.6, 240, 3);
    let (x4, y4) = correlated_gaussian(2, 0.5, 260, 4);
    let m = |v: &'static [f32], rows, cols| Matrix::new(v, rows, cols).unwrap();
    let leak = |v: Vec<f32>| -> &'static [f32] { Vec::leak(v) };
    let pairs = [
        (m(leak(x1), 240, 2), m(leak(y1), 240, 2)),
        (m(leak(x3), 240, 1), m(leak(y3), 240, 1)),
        (m(leak(x2), 240, 2), m(leak(y2), 240, 2)),
        (m(leak(x4), 260, 2), m(leak(y4), 260, 2)),
    ];
    for device in devices() {
        let est = small(device);
        let plan = est.plan_many(&pairs);
        let groups: Vec<Vec<usize>> = plan.iter().map(|r| r.pairs.clone()).collect();
        assert_eq!(groups, vec![vec![0, 2], vec![1], vec![3]]);
        assert_eq!(plan[0].replicas, 2);
        let reports = est.estimate_many(&pairs);
        assert_eq!(reports.len(), 4);
        for (i, (r, &(x, y))) in reports.iter().zip(&pairs).enumerate() {
            let r = r.as_ref().unwrap();
            let solo = est.estimate(x, y).unwrap();
            assert_eq!(bits(r), bits(&solo), "{device} pair {i}");
            assert!(r.batched.is_some());
        }
        let where_0 = reports[0].as_ref().unwrap().batched.clone().unwrap();
        assert!(
            where_0.contains("replica 1 of 2 in batched run 1 of 3"),
            "{where_0}"
        );
    }
}

#[test]
fn a_pair_that_fails_fails_alone() {
    let (x, y) = correlated_gaussian(1, 0.8, 200, 9);
    let constant = vec![1.0f32; 200];
    let pairs = [
        (Matrix::column(&x), Matrix::column(&y)),
        (Matrix::column(&x), Matrix::column(&constant)),
        (Matrix::column(&y), Matrix::column(&x)),
    ];
    let reports = small(DeviceChoice::Cpu).estimate_many(&pairs);
    assert!(reports[0].is_ok() && reports[2].is_ok());
    assert!(
        matches!(&reports[1], Err(e) if e.is_input()),
        "{:?}",
        reports[1].as_ref().err()
    );
}

#[test]
fn replicas_stopping_early_stop_alone_with_their_solo_bits() {
    // An independent pair stops after one evaluation without a better one; a dependent pair
    // keeps improving. Both keep their solo bits in the batched run.
    let (x, y) = correlated_gaussian(1, 0.99, 400, 11);
    let (u, v) = correlated_gaussian(1, 0.0, 400, 12);
    let pairs = [
        (Matrix::column(&x), Matrix::column(&y)),
        (Matrix::column(&u), Matrix::column(&v)),
    ];
    for device in devices() {
        let est = small(device)
            .with_lr(1e-2)
            .with_steps(200)
            .with_eval_every(10)
            .with_patience(Some(1));
        let reports = est.estimate_many(&pairs);
        let steps: Vec<u64> = reports.iter().map(|r| r.as_ref().unwrap().steps).collect();
        for (r, &(x, y)) in reports.iter().zip(&pairs) {
            assert_eq!(
                bits(r.as_ref().unwrap()),
                bits(&est.estimate(x, y).unwrap())
            );
        }
        assert_ne!(steps[0], steps[1], "{device}: both stopped at {steps:?}");
    }
}

#[test]
fn a_diverging_replica_stops_alone_and_a_frozen_one_keeps_its_critic() {
    let (x, y) = correlated_gaussian(1, 0.9, 64, 3);
    let data = TrainData {
        x: &x,
        dx: 1,
        y: &y,
        dy: 1,
        log_marginal: None,
    };
    let spec = Estimator::default()
        .with_bound(Bound::Nwj)
        .with_critic(CriticForm::Separable {
            hidden: vec![5],
            embed: 3,
        })
        .with_batch(9)
        .train_spec(1, 1);
    let wild = spec.clone().with_adam(spec.adam.with_lr(1e6));
    let replicas = [
        Replica::new(spec.clone(), Batches::Data(data), None),
        Replica::new(wild, Batches::Data(data), None),
        Replica::new(spec.clone().with_seed(8), Batches::Data(data), None),
    ];
    for device in devices() {
        let opened = backend::open(device).unwrap().backend;
        let options = RunOptions::default().with_chunk(10);
        let mut run = opened.replicated(&replicas, &options).unwrap();
        run.freeze(2);
        let frozen = run.parameters(2).unwrap();
        let out = run.train(30);
        assert!(
            matches!(out[1], Err(BackendError::Diverged(_))),
            "{device}: {:?}",
            out[1]
        );
        assert_eq!(out[2].as_ref().unwrap().len(), 0);
        assert_eq!(run.parameters(2).unwrap(), frozen);
        assert_eq!(run.step(2), 0);
        // Replica 0 against the same spec alone.
        let mut solo = opened
            .trainer(&spec, Batches::Data(data), None, &options)
            .unwrap();
        let alone = solo.train(30).unwrap();
        let batched = out[0].as_ref().unwrap();
        assert_eq!(
            batched.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            alone.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{device}"
        );
        assert_eq!(run.parameters(0).unwrap(), solo.parameters().unwrap());
        // A stopped replica takes no more steps.
        let again = run.train(5);
        assert_eq!(again[1].as_ref().unwrap().len(), 0);
        assert_eq!(again[0].as_ref().unwrap().len(), 5);
    }
}

#[test]
fn zero_replicas_are_refused() {
    let (x, y) = correlated_gaussian(1, 0.8, 200, 9);
    let err = small(DeviceChoice::Cpu)
        .with_replicas(0)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    assert!(err.to_string().contains("replicas"), "{err}");
}

#[test]
fn an_mi_matrix_of_a_block_gaussian_matches_the_closed_form() {
    // Three groups of two columns, a Markov chain a → b → c coordinate by coordinate:
    // I(a; b) = −ln(1 − ρ₁²), I(b; c) = −ln(1 − ρ₂²), I(a; c) = −ln(1 − ρ₁²ρ₂²) (two
    // coordinates, each −½ ln(1 − r²)).
    let (n, r1, r2) = (4000, 0.8f64, 0.9f64);
    let (a, b) = correlated_gaussian(2, r1, n, 21);
    let (noise, _) = correlated_gaussian(2, 0.0, n, 22);
    let c: Vec<f32> = b
        .iter()
        .zip(&noise)
        .map(|(&b, &e)| (r2 * f64::from(b) + (1.0 - r2 * r2).sqrt() * f64::from(e)) as f32)
        .collect();
    let x: Vec<f32> = (0..n)
        .flat_map(|i| {
            [&a, &b, &c]
                .into_iter()
                .flat_map(move |m| [m[2 * i], m[2 * i + 1]])
        })
        .collect();
    let groups = [vec![0, 1], vec![2, 3], vec![4, 5]];
    let m = Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_steps(600)
        .mi_matrix(Matrix::new(&x, n, 6).unwrap(), &groups)
        .unwrap();
    let truth = |r: f64| -(1.0 - r * r).ln();
    let want = [
        [f64::NAN, truth(r1), truth(r1 * r2)],
        [0.0, f64::NAN, truth(r2)],
    ];
    assert_eq!(m.runs.len(), 1, "equal widths share one batched run");
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let (got, se, t) = (m.values[i][j], m.std_errs[i][j], want[i][j]);
        eprintln!("I({i}; {j}) = {got:.4} ± {se:.4}, truth {t:.4}");
        assert_eq!(got.to_bits(), m.values[j][i].to_bits(), "mirrored");
        assert!(
            (got - t).abs() < (0.2 * t).max(3.0 * se),
            "I({i}; {j}) = {got} ± {se}, truth {t}"
        );
    }
    assert!((0..3).all(|i| m.values[i][i].is_nan()), "an empty diagonal");
    let bad = Estimator::default().mi_matrix(Matrix::new(&x, n, 6).unwrap(), &[vec![0], vec![6]]);
    assert!(
        matches!(&bad, Err(Error::Input(e)) if e.to_string().contains("column 6")),
        "{:?}",
        bad.err()
    );
}

#[test]
fn a_sweep_over_learning_rates_and_tau_gives_each_variant_its_solo_bits() {
    let (x, y) = correlated_gaussian(2, 0.7, 260, 6);
    let (x, y) = (
        Matrix::new(&x, 260, 2).unwrap(),
        Matrix::new(&y, 260, 2).unwrap(),
    );
    for device in devices() {
        let base = small(device);
        let variants = [
            base.clone(),
            base.clone().with_lr(3e-3),
            base.clone()
                .with_bound(Bound::Smile { tau: 1.0 })
                .with_seed(3),
            base.clone().with_batch(9),
        ];
        let reports = Estimator::sweep(&variants, x, y);
        for (i, (r, v)) in reports.iter().zip(&variants).enumerate() {
            let r = r.as_ref().unwrap();
            assert_eq!(
                bits(r),
                bits(&v.estimate(x, y).unwrap()),
                "{device} variant {i}"
            );
        }
        let place = |i: usize| reports[i].as_ref().unwrap().batched.clone().unwrap();
        assert!(
            place(2).contains("replica 3 of 3 in batched run 1 of 2"),
            "{}",
            place(2)
        );
        assert!(
            place(3).contains("replica 1 of 1 in batched run 2 of 2"),
            "{}",
            place(3)
        );
    }
}
