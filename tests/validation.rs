//! Every bad input the estimator refuses, each with its typed [`InputError`] and a one-line
//! message that names what is wrong. Validation runs before any device is opened, so these
//! run on the CPU setting and take no time.

use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error, Estimator, InputError, Matrix};

/// A tiny CPU estimator that accepts the 6 rows of [`data`] as they are.
fn tiny() -> Estimator {
    Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_batch(2)
        .with_test_fraction(0.5)
        .with_steps(3)
        .with_hidden(vec![4])
}

fn data() -> (Vec<f32>, Vec<f32>) {
    let x = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 3.0];
    let y = vec![1.0, 0.0, 2.0, 5.0, 4.0, 3.0, 7.0, 6.0, 9.0, 8.0, 0.5, 2.5];
    (x, y)
}

/// The typed error of `result`, after checking its message is one line that says "invalid input".
fn input_error(result: Result<infobound::Report, Error>) -> InputError {
    match result {
        Err(e @ Error::Input(_)) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "one line: {msg:?}");
            assert!(msg.starts_with("invalid input: "), "{msg}");
            assert!(e.is_input());
            match e {
                Error::Input(i) => i,
                _ => unreachable!(),
            }
        }
        other => panic!("expected Error::Input, got {other:?}"),
    }
}

/// Estimates `est` on 6 × 2 matrices.
fn on(est: &Estimator, x: &[f32], y: &[f32]) -> InputError {
    input_error(est.estimate(Matrix::new(x, 6, 2).unwrap(), Matrix::new(y, 6, 2).unwrap()))
}

#[test]
fn the_data_shape_and_values_are_checked() {
    let (x, y) = data();
    let est = tiny();

    let e = input_error(est.estimate(
        Matrix::new(&[], 0, 2).unwrap(),
        Matrix::new(&[], 0, 2).unwrap(),
    ));
    assert_eq!(e, InputError::Empty { name: "x".into() });
    assert_eq!(e.to_string(), "x has no rows");

    let e = input_error(est.estimate(
        Matrix::new(&x, 6, 2).unwrap(),
        Matrix::new(&y[..10], 5, 2).unwrap(),
    ));
    assert_eq!(e, InputError::RowMismatch { x: 6, y: 5 });

    match Matrix::new(&x, 6, 0) {
        Err(Error::Input(InputError::NoColumns { .. })) => {}
        other => panic!("zero columns: {other:?}"),
    }
    match Matrix::new(&x, 4, 2) {
        Err(Error::Input(e @ InputError::Shape { .. })) => {
            assert_eq!(e.to_string(), "12 values do not make a 4 × 2 matrix")
        }
        other => panic!("bad shape: {other:?}"),
    }

    // NaN, +inf and −inf, in x and in y: the first one is named by row and column.
    for (which, bad, at) in [
        ("x", f32::NAN, 7),
        ("y", f32::INFINITY, 4),
        ("y", f32::NEG_INFINITY, 11),
    ] {
        let (mut bx, mut by) = (x.clone(), y.clone());
        if which == "x" {
            bx[at] = bad;
        } else {
            by[at] = bad;
        }
        // A later one must not be the one reported.
        by[11] = if at == 11 { bad } else { f32::NAN };
        let e = on(&est, &bx, &by);
        match &e {
            InputError::NotFinite {
                name,
                row,
                col,
                value,
            } => {
                assert_eq!((name.as_str(), *row, *col), (which, at / 2, at % 2), "{e}");
                assert_eq!(value.to_bits(), bad.to_bits());
            }
            other => panic!("{which}[{at}] = {bad}: {other:?}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("row {}, column {}", at / 2, at % 2)),
            "{msg}"
        );
    }

    // A constant column is refused (documented on `InputError`), naming the column.
    let mut constant = y.clone();
    for r in 0..6 {
        constant[r * 2 + 1] = 3.5;
    }
    let e = on(&est, &x, &constant);
    assert_eq!(
        e,
        InputError::ConstantColumn {
            name: "y".into(),
            col: 1
        }
    );
}

#[test]
fn the_batch_must_fit_each_side_of_the_split() {
    let (x, y) = data();
    // 6 rows, half held out: 3 training rows cannot fill a batch of 4.
    let e = on(&tiny().with_batch(4), &x, &y);
    assert_eq!(
        e,
        InputError::TooFewRows {
            split: "training",
            rows: 3,
            batch: 4
        }
    );
    // A tenth held out: 1 held-out row (of 6) cannot fill a batch of 2.
    let e = on(&tiny().with_test_fraction(0.1), &x, &y);
    assert_eq!(
        e,
        InputError::TooFewRows {
            split: "held-out",
            rows: 1,
            batch: 2
        }
    );
    assert!(e.to_string().contains("lower the batch"), "{e}");
    // Nothing held out: the training rows alone must hold a batch.
    assert!(tiny()
        .with_test_fraction(0.0)
        .with_batch(6)
        .estimate(
            Matrix::new(&x, 6, 2).unwrap(),
            Matrix::new(&y, 6, 2).unwrap()
        )
        .is_ok());
    for batch in [0, 1] {
        assert_eq!(
            on(&tiny().with_batch(batch), &x, &y),
            InputError::BatchTooSmall { batch }
        );
    }
}

#[test]
fn every_setting_out_of_range_is_refused() {
    let (x, y) = data();
    let cases: Vec<(Estimator, &str)> = vec![
        (tiny().with_lr(0.0), "the learning rate"),
        (tiny().with_lr(-1e-3), "the learning rate"),
        (tiny().with_lr(f32::NAN), "the learning rate"),
        (tiny().with_lr(f32::INFINITY), "the learning rate"),
        (tiny().with_bound(Bound::Smile { tau: 0.0 }), "SMILE's τ"),
        (tiny().with_bound(Bound::Smile { tau: -1.0 }), "SMILE's τ"),
        (
            tiny().with_bound(Bound::Smile { tau: f32::NAN }),
            "SMILE's τ",
        ),
        (
            tiny().with_bound(Bound::Smile { tau: f32::INFINITY }),
            "SMILE's τ",
        ),
        (
            tiny().with_bound(Bound::AlphaInfoNce { alpha: 0.0 }),
            "α-InfoNCE's α",
        ),
        (
            tiny().with_bound(Bound::AlphaInfoNce { alpha: 1.0 }),
            "α-InfoNCE's α",
        ),
        (
            tiny().with_bound(Bound::AlphaInfoNce { alpha: f32::NAN }),
            "α-InfoNCE's α",
        ),
        (
            tiny().with_bound(Bound::Mine { gamma: 1.0 }),
            "MINE's moving-average decay γ",
        ),
        (tiny().with_steps(0), "steps"),
        (tiny().with_eval_every(0), "eval_every"),
        (tiny().with_eval_batches(0), "eval_batches"),
        (tiny().with_average_last(0), "average_last"),
        (tiny().with_chunk(0), "chunk"),
        (tiny().with_test_fraction(1.0), "the test fraction"),
        (tiny().with_test_fraction(-0.1), "the test fraction"),
        (tiny().with_test_fraction(f64::NAN), "the test fraction"),
        (
            tiny().with_critic(CriticForm::Separable {
                hidden: vec![4],
                embed: 0,
            }),
            "the embedding width",
        ),
        (tiny().with_hidden(vec![4, 0]), "hidden widths"),
        (
            tiny().with_baseline_hidden(vec![0]).with_bound(Bound::Tuba),
            "hidden widths",
        ),
        (
            tiny().with_critic(CriticForm::Concat { hidden: vec![] }),
            "the concat critic's hidden layers",
        ),
    ];
    for (est, name) in cases {
        match on(&est, &x, &y) {
            InputError::Setting { setting, .. } => assert_eq!(setting, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut adam = tiny();
    adam.adam.beta1 = 1.0;
    assert!(matches!(
        on(&adam, &x, &y),
        InputError::Setting {
            setting: "Adam's β1",
            ..
        }
    ));
    let mut adam = tiny();
    adam.adam.eps = 0.0;
    assert!(matches!(
        on(&adam, &x, &y),
        InputError::Setting {
            setting: "Adam's ε",
            ..
        }
    ));

    let e = on(
        &tiny()
            .with_bound(Bound::InfoNce)
            .with_critic(CriticForm::Shuffled { hidden: vec![4] }),
        &x,
        &y,
    );
    assert_eq!(e, InputError::NeedsFullMatrix { bound: "infonce" });

    let e = on(&tiny().with_lr(-1.0), &x, &y);
    assert_eq!(
        e.to_string(),
        "the learning rate must be positive and finite, not -1"
    );
    let e = on(
        &tiny().with_bound(Bound::AlphaInfoNce { alpha: 1.5 }),
        &x,
        &y,
    );
    assert_eq!(e.to_string(), "α-InfoNCE's α must be in (0, 1), not 1.5");
}
