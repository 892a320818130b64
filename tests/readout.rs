//! The reported number (SPEC §6, `estimate::readout`): the step chosen on one half of the
//! held-out rows and read once on the other; the InfoNCE cross-check over every pair of the
//! report rows, on the device (fused kernels), on the host, and on the CPU backend, against
//! the f64 reference; and the warning when the read-outs disagree.

mod common;

use infobound::backend::{self, HeldOut, HeldOutParts, HeldOutValues};
use infobound::experiments::tasks::{correlated_gaussian, rho_for_mi};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::cross_check::infonce_terms;
use infobound::math::spec::{TrainData, TrainSpec};
use infobound::{DeviceChoice, Estimator, Matrix};

/// Trains `spec` a few steps on `device`, reads the critic out on a 67-row report part, and
/// returns (parameters, read-out).
fn read_out_on(
    device: DeviceChoice,
    spec: &TrainSpec,
    whole: bool,
) -> (Vec<f32>, infobound::backend::ReadOut, Vec<f32>, Vec<f32>) {
    let d = spec.dx;
    let (x, y) = correlated_gaussian(d, 0.8, 200, 3);
    let (xa, ya) = correlated_gaussian(d, 0.8, 65, 4);
    let (xb, yb) = correlated_gaussian(d, 0.8, 67, 5);
    let data = |x: &'static [f32], y: &'static [f32]| TrainData {
        x,
        dx: d,
        y,
        dy: d,
        log_marginal: None,
    };
    let leak = |v: Vec<f32>| -> &'static [f32] { Box::leak(v.into_boxed_slice()) };
    let (x, y, xa, ya) = (leak(x), leak(y), leak(xa), leak(ya));
    let (xb, yb) = (leak(xb.clone()), leak(yb.clone()));
    let part = |data| match whole {
        true => HeldOut::WholeSplit { data, blocks: 8 },
        false => HeldOut::Batches {
            data,
            k: 16,
            batches: 8,
        },
    };
    let parts = HeldOutParts::new(part(data(xa, ya)), part(data(xb, yb)));
    let opened = backend::open(device).unwrap();
    let options = backend::RunOptions::default().with_chunk(10);
    let mut t = opened
        .backend
        .trainer(spec, data(x, y).into(), Some(parts), &options)
        .unwrap();
    t.train(10).unwrap();
    let params = t.parameters().unwrap();
    let before = t.evaluate().unwrap();
    let out = t.read_out(&params).unwrap();
    // Reading out a snapshot leaves the critic being trained as it was.
    assert_eq!(t.parameters().unwrap(), params);
    assert_eq!(t.evaluate().unwrap(), before);
    (params, out, xb.to_vec(), yb.to_vec())
}

fn separable() -> TrainSpec {
    let critic = CriticForm::Separable {
        hidden: vec![8],
        embed: 5,
    };
    TrainSpec::new(2, 2, critic, Bound::Smile { tau: 5.0 }, 16).with_seed(7)
}

/// The device's cross-check (the fused InfoNCE kernels at K = 67) against the f64 host
/// terms, row by row (abs ≤ 1e-4 nats), and its batched read-out against the CPU backend's
/// with the same critic (rel ≤ 1e-4 of max(|v|, 1)).
#[test]
fn the_cross_check_on_the_device_matches_the_host_reference() {
    let Some(_ctx) = common::gpu() else { return };
    let spec = separable();
    let (params, gpu, xb, yb) = read_out_on(DeviceChoice::Gpu, &spec, false);
    let want = infonce_terms(&spec, &params, &xb, &yb, 1).unwrap();
    let got = gpu
        .infonce_terms
        .expect("a separable critic has a cross-check");
    assert_eq!(got.len(), 67);
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);
    eprintln!("device vs host InfoNCE terms: max |Δ| = {worst:.2e}");
    assert!(worst <= 1e-4, "{worst}");

    let (cpu_params, cpu, _, _) = read_out_on(DeviceChoice::CpuReference, &spec, false);
    let (HeldOutValues::Batches(g), HeldOutValues::Batches(c)) = (&gpu.values, &cpu.values) else {
        panic!("batched read-outs")
    };
    // Both backends trained the same steps: the critics and their read-outs agree.
    assert!(common::rel_err(&params, &cpu_params, 1.0) <= 1e-4);
    assert!(common::rel_err(g, c, 1.0) <= 1e-4, "{g:?} vs {c:?}");
    let cpu_terms = cpu.infonce_terms.unwrap();
    let host = infonce_terms(&spec, &cpu_params, &xb, &yb, 1).unwrap();
    assert_eq!(
        cpu_terms, host,
        "the CPU backend's cross-check is the host reference"
    );
}

/// A whole-split read-out on the device says which rows its blocks hold (a permutation of the
/// report part), and the concat critic's cross-check runs on the host from the snapshot.
#[test]
fn whole_split_draw_order_and_the_concat_critic_on_the_device() {
    let Some(_ctx) = common::gpu() else { return };
    let spec = separable();
    let (_, out, _, _) = read_out_on(DeviceChoice::Gpu, &spec, true);
    let HeldOutValues::WholeSplit { blocks, .. } = &out.values else {
        panic!("a whole-split read-out")
    };
    assert_eq!(blocks.len(), 8);
    let mut order = out.draw_order.expect("a whole-split read-out's draw order");
    order.sort_unstable();
    assert_eq!(order, (0..67).collect::<Vec<_>>());

    let concat = TrainSpec::new(
        2,
        2,
        CriticForm::Concat { hidden: vec![6, 4] },
        Bound::Nwj,
        16,
    )
    .with_seed(3);
    let (params, out, xb, yb) = read_out_on(DeviceChoice::Gpu, &concat, false);
    let want = infonce_terms(&concat, &params, &xb, &yb, 1).unwrap();
    assert_eq!(out.infonce_terms.unwrap(), want);
}

/// The report says how the step was chosen and where it was read; the estimate is the chosen
/// critic read on the report part, not the selection part's best evaluation.
#[test]
fn the_estimate_is_the_chosen_step_read_on_the_other_rows() {
    let (x, y) = correlated_gaussian(1, 0.8, 1_000, 8);
    let est = Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_batch(32)
        .with_hidden(vec![16])
        .with_steps(300)
        .with_eval_every(100);
    let r = est
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert_eq!((r.n_test, r.n_report), (200, 100));
    let chosen = r.chosen_step.expect("held-out rows choose a step");
    let best = r
        .test_curve
        .iter()
        .find(|e| e.step == chosen)
        .expect("the chosen step is an evaluation");
    assert!(r.test_curve.iter().all(|e| e.mi <= best.mi));
    assert_ne!(r.mi, best.mi, "read on other rows than it was chosen on");
    assert!(
        r.selection.contains(&format!("step {chosen}")),
        "{}",
        r.selection
    );
    assert!(
        r.evaluation.contains("report part's 100 rows"),
        "{}",
        r.evaluation
    );
    // The error adds the optimisation's jitter to the sampling error.
    assert!(r.std_err_sampling > 0.0 && r.std_err_optimisation >= 0.0);
    assert!((r.std_err - r.std_err_sampling.hypot(r.std_err_optimisation)).abs() < 1e-12);
    let c = r
        .cross_check
        .expect("the separable critic is cross-checked");
    assert!((c.ceiling - 100f64.ln()).abs() < 1e-12);
    assert!(!c.disagrees, "{}", r.cross_check_note);
    assert!(
        r.cross_check_note.contains("consistent"),
        "{}",
        r.cross_check_note
    );
    // The same seed gives the same bits.
    let again = est
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert_eq!((again.mi, again.std_err), (r.mi, r.std_err));
}

#[test]
fn the_shuffled_critic_says_it_has_no_cross_check() {
    let (x, y) = correlated_gaussian(1, 0.8, 600, 8);
    let r = Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_bound(Bound::Dv)
        .with_critic(CriticForm::Shuffled { hidden: vec![8] })
        .with_batch(32)
        .with_steps(100)
        .with_eval_every(50)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    assert!(r.cross_check.is_none());
    assert!(
        r.cross_check_note
            .contains("shuffled critic does not score every pair"),
        "{}",
        r.cross_check_note
    );
}

/// The constructed case: Donsker–Varadhan read out on batches of K = 4, where the log-mean-exp
/// over three negatives a row is biased far down (Jensen) and DV reads far above a 3-nat
/// truth, while InfoNCE over every pair of the same report rows cannot pass it by more than
/// its noise. The report warns, with both numbers.
#[test]
fn overshooting_read_outs_are_flagged() {
    let truth = 3.0;
    let n = 2_000;
    let (x, y) = correlated_gaussian(1, rho_for_mi(1, truth), n, 21);
    let r = Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_bound(Bound::Dv)
        .with_batch(4)
        .with_hidden(vec![32, 32])
        .with_steps(800)
        .estimate(Matrix::column(&x), Matrix::column(&y))
        .unwrap();
    let c = r.cross_check.unwrap();
    eprintln!(
        "truth {truth}: estimate {:.3} ± {:.3}; {}",
        r.mi, r.std_err, r.cross_check_note
    );
    assert!(r.mi > truth, "the constructed case overshoots");
    assert!(c.disagrees && c.mi < truth, "{}", r.cross_check_note);
    let w = r
        .warnings
        .iter()
        .find(|w| w.contains("read-outs disagree"))
        .expect("a warning");
    assert!(
        w.contains(&format!("{:.3}", c.mi)) && w.contains(&format!("{:.3}", r.mi)),
        "{w}"
    );
}
