//! The held-out evaluation over the whole test split (K = n_test) of the separable critic on
//! the device (`gpu::SplitEvaluator`, fused kernels) against the CPU reference program at the
//! same K (S materialised in f64) with the same trained parameters: values within 1e-4
//! relative (of max(|V|, 1)), for every bound it covers; and the estimator's choice (InfoNCE
//! by default, any row-statistic bound when asked) and report.

mod common;

use common::gpu;
use infobound::cpu::Workspace;
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::{GpuTrainer, SplitEvaluator};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::{eval_seed, TrainSpec};
use infobound::{Estimator, Matrix};

#[test]
fn whole_split_matches_the_cpu_reference_at_k_n_test() {
    let Some(ctx) = gpu() else { return };
    let d = 2;
    let (x, y) = correlated_gaussian(d, 0.8, 400, 3);
    let (xt, yt) = correlated_gaussian(d, 0.8, 301, 4);
    let data = common::joint(&x, &y, d);
    let test = common::joint(&xt, &yt, d);
    let critic = CriticForm::Separable {
        hidden: vec![8],
        embed: 9,
    };
    for bound in common::BOUNDS {
        let spec = TrainSpec::new(d, d, critic.clone(), bound, 32).with_seed(5);
        if !SplitEvaluator::applies(&ctx, &spec, test.rows()) {
            assert!(matches!(bound, Bound::AlphaInfoNce { .. }), "{bound:?}");
            continue;
        }
        let mut t = GpuTrainer::new(&ctx, &spec, data, None, 10).unwrap();
        t.train(10).unwrap();
        let eval = SplitEvaluator::new(&ctx, &spec, t.parameter_buffer(), test, 8).unwrap();
        assert_eq!((eval.k(), eval.blocks()), (301, 8));
        let (value, se) = eval.evaluate().unwrap();
        assert_eq!(
            eval.evaluate().unwrap(),
            (value, se),
            "evaluations repeat exactly"
        );

        let mut whole = spec.clone();
        whole.batch = test.rows();
        let mut cpu = Workspace::new(&whole, test, eval_seed(spec.seed), false);
        let want = cpu.run(&t.parameters().unwrap(), 0);
        let err = (value - want).abs() / want.abs().max(1.0);
        eprintln!("{bound:?}: {value:.5} ± {se:.5} vs CPU {want:.5} ({err:.1e})");
        assert!(err <= 1e-4, "{bound:?}: {value} vs {want}");
        assert!(se.is_finite() && se > 0.0, "{bound:?}: standard error {se}");
    }
}

#[test]
fn the_estimator_evaluates_the_whole_split_and_says_so() {
    let Some(_ctx) = gpu() else { return };
    let (x, y) = correlated_gaussian(1, 0.9, 600, 8);
    let est = Estimator::default()
        .with_bound(Bound::InfoNce)
        .with_device(infobound::DeviceChoice::Gpu)
        .with_batch(32)
        .with_steps(40)
        .with_eval_every(20)
        .with_hidden(vec![16]);
    let r = est
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert_eq!((r.n_test, r.n_report), (120, 60));
    assert!(
        r.evaluation.contains("as one batch") && r.evaluation.contains("K = 60"),
        "{}",
        r.evaluation
    );
    assert_eq!(
        r.ceiling,
        Some((60f64).ln()),
        "InfoNCE's ceiling is ln n_report"
    );
    assert!(r.mi.is_finite() && r.std_err.is_finite() && r.std_err > 0.0);
    assert_eq!(r.test_curve.len(), 2);

    // Concat critics keep the batched evaluation.
    let r = est
        .clone()
        .with_critic(CriticForm::Concat { hidden: vec![8] })
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert!(
        r.evaluation.contains("batches of K = 32"),
        "{}",
        r.evaluation
    );
    assert_eq!(r.ceiling, Some((32f64).ln()));

    // Uncapped bounds are evaluated in batches unless asked otherwise.
    let smile = est.with_bound(Bound::Smile { tau: 5.0 });
    let r = smile
        .clone()
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert!(
        r.evaluation.contains("batches of K = 32"),
        "{}",
        r.evaluation
    );
    let r = smile
        .with_whole_split(Some(true))
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert!(r.evaluation.contains("K = 60"), "{}", r.evaluation);
    assert!(r.mi.is_finite() && r.std_err > 0.0);
}
