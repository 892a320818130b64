//! Barber–Agakov with a learned diagonal-Gaussian decoder and the standard normal marginal
//! (SPEC §8): the kernel against its CPU twin in f64 on odd shapes, the CPU backward pass
//! through the decoder MLP against finite differences, the exact decoder at I = 10 nats with
//! n ≪ e^10, and a trained decoder.
//!
//! Tolerances: values within 1e-4 of max(|V|, 1); gradients norm-wise within 1e-5; finite
//! differences within 2e-2 relative (f32 parameters, step 1e-3, as tests/cpu_gradients.rs).

mod common;

use common::{gpu, rel_err};
use infobound::cpu::{ops, Workspace};
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi};
use infobound::gpu::kernels::state;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::TrainSpec;

#[test]
fn kernel_matches_the_cpu_reference_on_odd_shapes() {
    let Some(ctx) = gpu() else { return };
    for (k, dy) in [
        (1usize, 1usize),
        (3, 20),
        (17, 3),
        (65, 1),
        (257, 3),
        (1000, 20),
    ] {
        let (dec, y) = common::known_density::ba_operands(k, dy);
        let mut want_d = vec![0.0f32; k * 2 * dy];
        let want = ops::barber_agakov(k, dy, &dec, &y, None, &mut want_d);
        let nan = |n| ctx.filled("poison", n, f32::NAN).unwrap();
        let (db, yb) = (
            ctx.upload("dec", &dec).unwrap(),
            ctx.upload("y", &y).unwrap(),
        );
        let (dout, hist) = (nan(k * 2 * dy), nan(3));
        let st = ctx.upload("state", &state::initial(4)).unwrap();
        let d = ctx
            .barber_agakov(k, dy, &db, &yb, None, &dout, &hist, &st)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let v: Vec<f32> = ctx.read(&hist).unwrap();
        // Step 4 writes slot 4 % 3.
        let got = f64::from(v[1]);
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
            "K = {k}, dy = {dy}: {got} vs {want}"
        );
        let got_d: Vec<f32> = ctx.read(&dout).unwrap();
        assert!(
            rel_err(&got_d, &want_d, 1e-6) <= 1e-5,
            "K = {k}, dy = {dy}: gradient"
        );
        let flags: Vec<u32> = ctx.read(&st).unwrap();
        assert_eq!(flags[state::FLAGS], 0);
    }
    // A batch and y that do not fit are refused, not read out of range.
    let small = ctx.zeros("small", 4).unwrap();
    let (h, st) = (
        ctx.zeros("h", 1).unwrap(),
        ctx.upload("s", &state::initial(0)).unwrap(),
    );
    let big = ctx.zeros("big", 64).unwrap();
    assert!(ctx
        .barber_agakov(8, 2, &big, &small, None, &big, &h, &st)
        .is_err());
}

#[test]
fn backward_through_the_decoder_matches_finite_differences() {
    let (x, y) = correlated_gaussian(3, 0.7, 64, 1);
    let data = common::joint(&x, &y, 3);
    let spec = TrainSpec::new(
        3,
        3,
        CriticForm::Decoder { hidden: vec![7, 5] },
        Bound::BarberAgakov,
        9,
    )
    .with_seed(3);
    let params = spec.init();
    let mut work = Workspace::new(&spec, data, spec.seed, true);
    work.run(&params, 0);
    let analytic = work.grads().to_vec();
    common::assert_central_differences(&mut work, &params, &analytic, 0..params.len(), "parameter");
}

/// The exact decoder as a ReLU MLP with one hidden layer of 2d: μ = ρx = ρ relu(x) − ρ relu(−x),
/// log σ = log √(1−ρ²).
fn exact_decoder(spec: &TrainSpec, d: usize, rho: f64) -> Vec<f32> {
    let (net, base) = &spec.networks()[0];
    let layers = net.layers_at(*base);
    let mut p = vec![0.0f32; spec.param_count()];
    let (l0, l1) = (layers[0], layers[1]);
    for c in 0..d {
        p[l0.w_off + c * d + c] = 1.0; // hidden c = relu(x_c)
        p[l0.w_off + (d + c) * d + c] = -1.0; // hidden d + c = relu(−x_c)
        p[l1.w_off + c * 2 * d + c] = rho as f32;
        p[l1.w_off + c * 2 * d + d + c] = -rho as f32;
        p[l1.b_off + d + c] = (0.5 * (1.0 - rho * rho).ln()) as f32;
    }
    p
}

/// With the exact decoder plugged in, BA reads I = 10 nats at d = 20 from n = 2000 samples
/// (e^10 ≈ 22 000 ≫ n) within three standard errors, where every black-box bound is capped near
/// ln 2000 = 7.6.
#[test]
fn exact_decoder_reads_ten_nats_from_few_samples() {
    let (d, n) = (20, 2000);
    let rho = rho_for_mi(d, 10.0);
    let truth = gaussian_mi(d, rho);
    let (x, y) = correlated_gaussian(d, rho, n, 8);
    let spec = TrainSpec::new(
        d,
        d,
        CriticForm::Decoder {
            hidden: vec![2 * d],
        },
        Bound::BarberAgakov,
        n,
    );
    let params = exact_decoder(&spec, d, rho);
    let data = common::joint(&x, &y, d);
    let mut work = Workspace::new(&spec, data, 1, false);
    let v = work.run(&params, 0);
    // Per-sample terms of the same sample, for its standard error.
    let s2 = 1.0 - rho * rho;
    let terms: Vec<f64> = (0..n)
        .map(|i| {
            (0..d)
                .map(|c| {
                    let (xv, yv) = (f64::from(x[i * d + c]), f64::from(y[i * d + c]));
                    -(yv - rho * xv).powi(2) / (2.0 * s2) - 0.5 * s2.ln() + yv * yv / 2.0
                })
                .sum()
        })
        .collect();
    let mean = terms.iter().sum::<f64>() / n as f64;
    let se = (terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / ((n - 1) * n) as f64).sqrt();
    eprintln!("exact decoder: {v:.4} vs I = {truth:.4} (se {se:.4})");
    assert!((v - truth).abs() <= 3.0 * se, "{v} vs {truth} (se {se})");
    assert!(v > (n as f64).ln() + 1.0);
    // The batch is a resampling of the rows, so v and mean differ by resampling only.
    assert!((v - mean).abs() <= 6.0 * se);

    // The same on the device, with the decoder's output formed on the host.
    let Some(ctx) = gpu() else { return };
    let mut dec = vec![0.0f32; n * 2 * d];
    for i in 0..n {
        for c in 0..d {
            dec[i * 2 * d + c] = (rho * f64::from(x[i * d + c])) as f32;
            dec[i * 2 * d + d + c] = (0.5 * s2.ln()) as f32;
        }
    }
    let (db, yb) = (
        ctx.upload("dec", &dec).unwrap(),
        ctx.upload("y", &y).unwrap(),
    );
    let (dout, hist) = (
        ctx.zeros("d", n * 2 * d).unwrap(),
        ctx.zeros("h", 1).unwrap(),
    );
    let st = ctx.upload("state", &state::initial(0)).unwrap();
    ctx.run(
        &[ctx
            .barber_agakov(n, d, &db, &yb, None, &dout, &hist, &st)
            .unwrap()],
        1,
    )
    .unwrap();
    let got = f64::from(ctx.read::<f32>(&hist).unwrap()[0]);
    assert!((got - mean).abs() <= 1e-4 * mean, "device {got} vs {mean}");
}

/// A decoder trained on the device (train/test split, held-out evaluation, Report) gets close
/// to I: d = 5, I = 4 nats, within 0.3 nats.
#[test]
fn trained_decoder_gets_close() {
    use infobound::DeviceChoice;
    use infobound::Estimator;
    let Some(_ctx) = gpu() else { return };
    let est = Estimator::default()
        .with_bound(Bound::BarberAgakov)
        .with_critic(CriticForm::Decoder { hidden: vec![32] })
        .with_device(DeviceChoice::Gpu)
        .with_batch(128)
        .with_steps(800)
        .with_lr(3e-3);
    let (r, truth) = common::known_density::four_nat_estimate(&est);
    eprintln!(
        "trained decoder: {:.4} ± {:.4} vs I = {truth:.4} ({:.1} s)",
        r.mi, r.std_err, r.seconds
    );
    assert_eq!((r.bound, r.critic), ("ba", "decoder"));
    assert!((r.mi - truth).abs() <= 0.3, "{} vs {truth}", r.mi);
    assert!(
        r.warnings.iter().all(|w| !w.contains("ln n")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn ba_and_the_decoder_go_together() {
    use infobound::DeviceChoice;
    use infobound::{Estimator, Matrix};
    let (x, y) = correlated_gaussian(1, 0.5, 400, 1);
    let m = |v| Matrix::new(v, 400, 1).unwrap();
    for est in [
        Estimator::default().with_bound(Bound::BarberAgakov),
        Estimator::default().with_critic(CriticForm::Decoder { hidden: vec![8] }),
    ] {
        match est.with_device(DeviceChoice::Cpu).estimate(m(&x), m(&y)) {
            Err(e) if e.is_input() => assert!(e.to_string().contains("decoder"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(Bound::from_name("ba"), Some(Bound::BarberAgakov));
}

/// A known marginal given per row: y scaled by 3, so p(y) = N(0, 9 I) and not the standard
/// normal. With the per-row log-densities the trained decoder reads I within 0.3 nats (d = 2,
/// I = 1.5), with a standard error no wider than 1.5× that of the unscaled, standard-normal case
/// at the same I (each batch uses its own rows' log p(y), so nothing but the bound's own
/// spread is left); assuming the standard normal instead is off by more than 2 nats. Bad
/// marginals are refused.
#[test]
fn per_row_log_marginal() {
    use infobound::DeviceChoice;
    use infobound::{Estimator, Matrix};
    let Some(_ctx) = gpu() else { return };
    let (d, n, scale) = (2, 4000, 3.0f32);
    let rho = rho_for_mi(d, 1.5);
    let truth = gaussian_mi(d, rho);
    let (x, y) = correlated_gaussian(d, rho, n, 14);
    let y: Vec<f32> = y.iter().map(|v| v * scale).collect();
    let lp: Vec<f32> = y
        .chunks(d)
        .map(|r| {
            r.iter()
                .map(|&v| {
                    let z = f64::from(v / scale);
                    -0.5 * z * z - f64::from(scale).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
                })
                .sum::<f64>() as f32
        })
        .collect();
    let m = |v| Matrix::new(v, n, d).unwrap();
    let est = Estimator::default()
        .with_bound(Bound::BarberAgakov)
        .with_critic(CriticForm::Decoder { hidden: vec![16] })
        .with_device(DeviceChoice::Gpu)
        .with_batch(128)
        .with_steps(600)
        .with_lr(1e-2);
    let known = est
        .clone()
        .with_log_marginal(Some(lp.clone()))
        .estimate(m(&x), m(&y))
        .unwrap();
    let assumed = est.clone().estimate(m(&x), m(&y)).unwrap();
    let y1: Vec<f32> = y.iter().map(|v| v / scale).collect();
    let reference = est.clone().estimate(m(&x), m(&y1)).unwrap();
    eprintln!(
        "per-row marginal: {:.4} ± {:.4}; standard normal assumed: {:.4}; \
         unscaled with N(0, I): {:.4} ± {:.4}; I = {truth:.4}",
        known.mi, known.std_err, assumed.mi, reference.mi, reference.std_err
    );
    assert!((known.mi - truth).abs() <= 0.3, "{} vs {truth}", known.mi);
    assert!(
        known.std_err <= 1.5 * reference.std_err,
        "standard error {} vs {} for the standard-normal case",
        known.std_err,
        reference.std_err
    );
    assert!((assumed.mi - truth).abs() > 2.0, "{}", assumed.mi);
    for (bad, needle) in [
        (
            est.clone().with_log_marginal(Some(lp[..10].to_vec())),
            "one a row",
        ),
        (
            est.clone()
                .with_bound(Bound::Nwj)
                .with_critic(CriticForm::Shuffled { hidden: vec![8] })
                .with_log_marginal(Some(lp.clone())),
            "not nwj",
        ),
    ] {
        match bad.with_device(DeviceChoice::Cpu).estimate(m(&x), m(&y)) {
            Err(e) if e.is_input() => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
