//! A known marginal given per row travels with the rows (SPEC §8): log p(y_i) is uploaded with
//! the data and gathered per batch on the device, so each batch's Barber–Agakov / V_MS value
//! uses its own rows' densities. Checked here: the Barber–Agakov kernel with log p(y) against
//! its CPU twin on odd shapes; per-batch training and held-out values of the device trainer
//! against the CPU trainer; and, on the CPU in f64, that a batch's value with log p(y) differs
//! from its standard-normal value by exactly the mean of log N(y_i; 0, I) − log p(y_i) over the
//! rows the batch gathered.
//!
//! Tolerances: kernel values within 1e-4 of max(|V|, 1) and gradients norm-wise within 1e-5
//! (as tests/barber_agakov.rs); trainer values within 1e-3 of max(|V|, 1) (f32 networks over a
//! few Adam steps); the CPU identity within 1e-9 (f64 sums of f32 inputs).

mod common;

use common::{gpu, rel_err, values};
use infobound::cpu::{ops, CpuTrainer, Workspace};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::kernels::state;
use infobound::gpu::GpuTrainer;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::sampling as sample;
use infobound::math::spec::{TrainData, TrainSpec};

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// log N(y; 0, I) of a row, in f64.
fn log_std_normal(row: &[f32]) -> f64 {
    row.iter()
        .map(|&v| -0.5 * f64::from(v).powi(2) - HALF_LN_2PI)
        .sum()
}

#[test]
fn kernel_with_log_marginal_matches_the_cpu_reference_on_odd_shapes() {
    let Some(ctx) = gpu() else { return };
    for (k, dy) in [(1usize, 1usize), (3, 20), (17, 3), (65, 1), (257, 3)] {
        let (dec, y) = common::known_density::ba_operands(k, dy);
        let lp: Vec<f32> = values(k, 9 + k as u64)
            .iter()
            .map(|v| 4.0 * v - 3.0)
            .collect();
        let mut want_d = vec![0.0f32; k * 2 * dy];
        let want = ops::barber_agakov(k, dy, &dec, &y, Some(&lp), &mut want_d);
        let (db, yb, lb) = (
            ctx.upload("dec", &dec).unwrap(),
            ctx.upload("y", &y).unwrap(),
            ctx.upload("lp", &lp).unwrap(),
        );
        let dout = ctx.filled("poison", k * 2 * dy, f32::NAN).unwrap();
        let hist = ctx.filled("poison", 1, f32::NAN).unwrap();
        let st = ctx.upload("state", &state::initial(0)).unwrap();
        let d = ctx
            .barber_agakov(k, dy, &db, &yb, Some(&lb), &dout, &hist, &st)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let got = f64::from(ctx.read::<f32>(&hist).unwrap()[0]);
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
            "K = {k}, dy = {dy}: {got} vs {want}"
        );
        let got_d: Vec<f32> = ctx.read(&dout).unwrap();
        assert!(rel_err(&got_d, &want_d, 1e-6) <= 1e-5, "K = {k}, dy = {dy}");
    }
    // Too few log-densities for the batch are refused, not read out of range.
    let (dec, y, lp) = (
        ctx.zeros("dec", 8 * 4).unwrap(),
        ctx.zeros("y", 8 * 2).unwrap(),
        ctx.zeros("lp", 5).unwrap(),
    );
    let (dout, h) = (ctx.zeros("d", 8 * 4).unwrap(), ctx.zeros("h", 1).unwrap());
    let st = ctx.upload("s", &state::initial(0)).unwrap();
    assert!(ctx
        .barber_agakov(8, 2, &dec, &y, Some(&lp), &dout, &h, &st)
        .is_err());
}

/// Data of n rows with y scaled by 3 and its exact log p(y) = log N(y; 0, 9 I) a row.
fn scaled_data(d: usize, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (x, y) = correlated_gaussian(d, 0.6, n, seed);
    let y: Vec<f32> = y.iter().map(|v| 3.0 * v).collect();
    let lp = y
        .chunks(d)
        .map(|r| {
            r.iter()
                .map(|&v| -0.5 * (f64::from(v) / 3.0).powi(2) - 3f64.ln() - HALF_LN_2PI)
                .sum::<f64>() as f32
        })
        .collect();
    (x, y, lp)
}

fn specs(d: usize, batch: usize) -> [TrainSpec; 2] {
    [
        TrainSpec::new(
            d,
            d,
            CriticForm::Decoder { hidden: vec![5] },
            Bound::BarberAgakov,
            batch,
        )
        .with_seed(7),
        TrainSpec::new(
            d,
            d,
            CriticForm::DecoderCritic { hidden: vec![5] },
            Bound::Multisample { proposals: 3 },
            batch,
        )
        .with_seed(7),
    ]
}

/// On the CPU (f64): a batch's value with log p(y) is its standard-normal value plus the mean
/// of log N(y_i) − log p(y_i) over exactly the rows `batch_rows` gathered for that step; and
/// a constant-per-data-set shift could not pass this, as the batches' means differ.
#[test]
fn each_batch_uses_its_own_rows_log_densities() {
    let (d, n, k) = (3, 65, 17);
    let (x, y, lp) = scaled_data(d, n, 3);
    let with = TrainData {
        x: &x,
        dx: d,
        y: &y,
        dy: d,
        log_marginal: Some(&lp),
    };
    let without = TrainData {
        log_marginal: None,
        ..with
    };
    let mut shifts = Vec::new();
    for spec in specs(d, k) {
        let params = spec.init();
        let mut a = Workspace::new(&spec, with, 5, false);
        let mut b = Workspace::new(&spec, without, 5, false);
        for step in [0u32, 1, 6] {
            let rows = sample::batch_rows(5, step, n, k);
            let shift = rows
                .iter()
                .map(|&r| {
                    let r = r as usize;
                    log_std_normal(&y[r * d..(r + 1) * d]) - f64::from(lp[r])
                })
                .sum::<f64>()
                / k as f64;
            let (va, vb) = (a.run(&params, step), b.run(&params, step));
            assert!(
                (va - (vb + shift)).abs() <= 1e-9 * va.abs().max(1.0),
                "{}, step {step}: {va} vs {vb} + {shift}",
                spec.bound.name()
            );
            shifts.push(shift);
        }
    }
    assert!(
        shifts.iter().any(|s| (s - shifts[0]).abs() > 1e-3),
        "{shifts:?}"
    );
}

/// The device trainer's per-step training values and its held-out batch values match the CPU
/// trainer's, for Barber–Agakov and V_MS with a per-row marginal (n not a tile multiple).
#[test]
fn device_values_match_the_cpu_trainer() {
    let Some(ctx) = gpu() else { return };
    let d = 3;
    let (x, y, lp) = scaled_data(d, 65, 4);
    let (xt, yt, lpt) = scaled_data(d, 33, 5);
    let data = TrainData {
        x: &x,
        dx: d,
        y: &y,
        dy: d,
        log_marginal: Some(&lp),
    };
    let test = TrainData {
        x: &xt,
        dx: d,
        y: &yt,
        dy: d,
        log_marginal: Some(&lpt),
    };
    for spec in specs(d, 17) {
        let mut cpu = CpuTrainer::new(&spec, data, Some((test, 3))).unwrap();
        let mut dev = GpuTrainer::new(&ctx, &spec, data, Some((test, 3)), 4).unwrap();
        let name = spec.bound.name();
        let (tc, tg) = (cpu.train(5).unwrap(), dev.train(5).unwrap());
        let (ec, eg) = (cpu.evaluate().unwrap(), dev.evaluate().unwrap());
        for (what, c, g) in [("training", &tc, &tg), ("held-out", &ec, &eg)] {
            assert_eq!(c.len(), g.len());
            for (i, (a, b)) in c.iter().zip(g.iter()).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-3 * a.abs().max(1.0),
                    "{name} {what} value {i}: cpu {a} vs device {b}"
                );
            }
        }
        // The held-out batches differ in their rows, so their values differ.
        assert!(
            ec.iter().any(|v| (v - ec[0]).abs() > 1e-4),
            "{name}: {ec:?}"
        );
    }
    // A log p(y) of the wrong length is refused at construction, not read out of range.
    let short = TrainData {
        log_marginal: Some(&lp[..10]),
        ..data
    };
    let [ba, _] = specs(d, 17);
    assert!(GpuTrainer::new(&ctx, &ba, short, None, 4).is_err());
    assert!(CpuTrainer::new(&ba, short, None).is_err());
}
