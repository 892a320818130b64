//! The bounds over the full K×K score matrix (`matrix_bounds.wgsl`) and the shuffled TUBA and
//! MINE (`bounds.wgsl`) against their CPU references (`matrix_eval`, `shuffled_eval`, f64).
//! Outputs and scratch are poisoned with NaN first, so an element a kernel fails to write fails
//! the comparison. Tolerances: values within 1e-4 relative (of max(|V|, 1)), gradients
//! norm-wise relative error ≤ 1e-4.

mod common;

use common::{gpu, rel_err, values};
use infobound::gpu::kernels::{state, MatrixBoundBuffers};
use infobound::gpu::{GpuBuffer, GpuContext};
use infobound::math::bounds::{matrix_eval, shuffled_eval, Bound, MatrixBoundEval};

const TOL: f64 = 1e-4;

use common::BOUNDS as ALL;

/// Scores spread over ±3 with the diagonal raised, as a partly trained critic gives.
fn scores(k: usize, salt: u64) -> Vec<f32> {
    values(k * k, salt)
        .iter()
        .enumerate()
        .map(|(e, v)| v * 3.0 + if e / k == e % k { 2.0 } else { 0.0 })
        .collect()
}

/// The device buffers of one matrix-bound evaluation, outputs poisoned with NaN.
struct Device {
    s: GpuBuffer,
    baseline: Option<(GpuBuffer, GpuBuffer)>,
    ds: GpuBuffer,
    hist: GpuBuffer,
    state: GpuBuffer,
    scratch: GpuBuffer,
}

impl Device {
    fn new(ctx: &GpuContext, s: &[f32], k: usize, baseline: Option<&[f32]>, step: u32) -> Self {
        Self {
            s: ctx.upload("s", s).unwrap(),
            baseline: baseline.map(|b| {
                (
                    ctx.upload("baseline", b).unwrap(),
                    ctx.filled("db", b.len(), f32::NAN).unwrap(),
                )
            }),
            ds: ctx.filled("ds", s.len(), f32::NAN).unwrap(),
            hist: ctx.filled("hist", 4, f32::NAN).unwrap(),
            state: ctx.upload("state", &state::initial(step)).unwrap(),
            scratch: ctx
                .filled("scratch", GpuContext::matrix_bound_scratch_len(k), f32::NAN)
                .unwrap(),
        }
    }

    fn buffers(&self) -> MatrixBoundBuffers<'_> {
        MatrixBoundBuffers {
            s: &self.s,
            baseline: self.baseline.as_ref().map(|(b, db)| (b, db)),
            ds: &self.ds,
            hist: &self.hist,
            state: &self.state,
            scratch: &self.scratch,
        }
    }

    /// The value at `step`, the score and baseline gradients, and the state.
    fn read(&self, ctx: &GpuContext, step: u32) -> (f64, Vec<f32>, Vec<f32>, Vec<u32>) {
        let hist: Vec<f32> = ctx.read(&self.hist).unwrap();
        let db = match &self.baseline {
            Some((_, db)) => ctx.read(db).unwrap(),
            None => vec![],
        };
        (
            f64::from(hist[step as usize % hist.len()]),
            ctx.read(&self.ds).unwrap(),
            db,
            ctx.read(&self.state).unwrap(),
        )
    }
}

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Compares a device evaluation with the reference; returns the errors (value, ds, db).
fn compare(
    what: &str,
    got: (f64, &[f32], &[f32]),
    want: &MatrixBoundEval,
    with_baseline: bool,
) -> (f64, f64, f64) {
    let (value, ds, db) = got;
    let value_err = (value - want.value).abs() / want.value.abs().max(1.0);
    assert!(value_err <= TOL, "{what}: value {value} vs {}", want.value);
    let ds_err = rel_err(ds, &f32s(&want.ds), 1e-6);
    assert!(ds_err <= TOL, "{what}: ds rel err {ds_err}");
    let db_err = if with_baseline {
        let e = rel_err(db, &f32s(&want.db), 1e-6);
        assert!(e <= TOL, "{what}: db rel err {e}");
        e
    } else {
        0.0
    };
    (value_err, ds_err, db_err)
}

#[test]
fn matrix_bounds_match_cpu_for_every_bound_and_size() {
    let Some(ctx) = gpu() else { return };
    let mut worst = [0.0f64; 3];
    for &k in &[2usize, 3, 17, 65, 257] {
        for bound in ALL {
            let b: Vec<f32> = values(k, 7 + k as u64).iter().map(|v| v * 0.5).collect();
            let base = bound.needs_baseline().then_some(&b[..]);
            let s = scores(k, k as u64);
            // MINE runs two consecutive steps from step 0, so the second mixes its batch into
            // the first's average; the others run once at step 6 (hist slot 2).
            let mine = matches!(bound, Bound::Mine { .. });
            let first_step = if mine { 0 } else { 6 };
            let dev = Device::new(&ctx, &s, k, base, first_step);
            let launches = ctx.matrix_bound(bound, k, &dev.buffers()).unwrap();
            ctx.run(&launches, 1).unwrap();
            let want = matrix_eval(bound, &s, k, base, None);
            let (value, ds, db, st) = dev.read(&ctx, first_step);
            let errs = compare(
                &format!("{bound:?} K={k}"),
                (value, &ds, &db),
                &want,
                base.is_some(),
            );
            for (w, e) in worst.iter_mut().zip([errs.0, errs.1, errs.2]) {
                *w = w.max(e);
            }
            assert_eq!(st[state::FLAGS], 0, "{bound:?} K={k}: flag raised");
            if mine {
                let log_m = f64::from(f32::from_bits(st[state::MINE_LOG_EMA]));
                assert!((log_m - want.log_ema).abs() <= TOL * want.log_ema.abs().max(1.0));
                // Step 1: fresh scores, the same prepared launches after the tick.
                let s2 = scores(k, 1000 + k as u64);
                ctx.write(&dev.s, &s2).unwrap();
                ctx.run(&[ctx.tick(&dev.state).unwrap()], 1).unwrap();
                ctx.run(&launches, 1).unwrap();
                let want2 = matrix_eval(bound, &s2, k, None, Some(want.log_ema));
                let (value, ds, db, st) = dev.read(&ctx, 1);
                compare(
                    &format!("{bound:?} K={k} step 1"),
                    (value, &ds, &db),
                    &want2,
                    false,
                );
                let log_m = f64::from(f32::from_bits(st[state::MINE_LOG_EMA]));
                assert!(
                    (log_m - want2.log_ema).abs() <= TOL * want2.log_ema.abs().max(1.0),
                    "K={k}: log m_1 {log_m} vs {}",
                    want2.log_ema
                );
            }
        }
    }
    eprintln!(
        "max errors: value {:.2e}, ds {:.2e}, db {:.2e}",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn matrix_bounds_repeat_bit_for_bit() {
    let Some(ctx) = gpu() else { return };
    let k = 65;
    for bound in ALL {
        let b = values(k, 3);
        let base = bound.needs_baseline().then_some(&b[..]);
        let s = scores(k, 5);
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let dev = Device::new(&ctx, &s, k, base, 0);
                ctx.run(&ctx.matrix_bound(bound, k, &dev.buffers()).unwrap(), 1)
                    .unwrap();
                let (value, ds, db, _) = dev.read(&ctx, 0);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (value.to_bits(), bits(&ds), bits(&db))
            })
            .collect();
        assert!(runs[0] == runs[1], "{bound:?} is not deterministic");
    }
}

#[test]
fn a_non_finite_matrix_bound_value_raises_the_flag() {
    let Some(ctx) = gpu() else { return };
    // NWJ's partition term e^(S−1) overflows f32 for off-diagonal scores of 200.
    let k = 3;
    let s: Vec<f32> = (0..k * k)
        .map(|e| if e / k == e % k { 0.0 } else { 200.0 })
        .collect();
    let dev = Device::new(&ctx, &s, k, None, 3);
    ctx.run(&ctx.matrix_bound(Bound::Nwj, k, &dev.buffers()).unwrap(), 1)
        .unwrap();
    let (value, ds, _, st) = dev.read(&ctx, 3);
    assert!(!value.is_finite());
    assert_eq!(st[state::FLAGS], state::NONFINITE_VALUE);
    assert_eq!(st[state::FIRST_BAD_STEP], 3);
    assert!(
        ds.iter().all(|v| v.is_finite()),
        "clipped gradients stay finite: {ds:?}"
    );
}

#[test]
fn matrix_bound_rejects_bad_operands() {
    let Some(ctx) = gpu() else { return };
    let k = 4;
    let s = scores(k, 1);
    let b = values(k, 2);
    let dev = Device::new(&ctx, &s, k, Some(&b), 0);
    let plain = Device::new(&ctx, &s, k, None, 0);
    let alpha = Bound::AlphaInfoNce { alpha: 0.5 };
    assert!(ctx.matrix_bound(alpha, k, &dev.buffers()).is_ok());
    assert!(
        ctx.matrix_bound(alpha, k, &plain.buffers()).is_err(),
        "no baseline"
    );
    assert!(
        ctx.matrix_bound(Bound::Nwj, k, &dev.buffers()).is_err(),
        "a baseline NWJ does not take"
    );
    assert!(ctx
        .matrix_bound(Bound::AlphaInfoNce { alpha: 1.0 }, k, &dev.buffers())
        .is_err());
    assert!(ctx
        .matrix_bound(Bound::Mine { gamma: 0.0 }, k, &plain.buffers())
        .is_err());
    let one = Device::new(&ctx, &[0.0], 1, None, 0);
    assert!(
        ctx.matrix_bound(Bound::Dv, 1, &one.buffers()).is_err(),
        "K < 2"
    );
    assert!(
        ctx.matrix_bound(Bound::Dv, k + 1, &plain.buffers())
            .is_err(),
        "scores too small"
    );
    let small = ctx.zeros("scratch", 3).unwrap();
    let mut io = plain.buffers();
    io.scratch = &small;
    assert!(ctx.matrix_bound(Bound::Dv, k, &io).is_err(), "scratch");
    let mut io = plain.buffers();
    io.ds = &plain.s;
    assert!(
        ctx.matrix_bound(Bound::Dv, k, &io).is_err(),
        "ds aliasing the scores"
    );
}

/// TUBA (with its 2K baseline values) and MINE (two steps) on shuffled negatives.
#[test]
fn shuffled_tuba_and_mine_match_cpu() {
    let Some(ctx) = gpu() else { return };
    for &k in &[1usize, 3, 17, 257, 1000] {
        let s: Vec<f32> = values(2 * k, k as u64).iter().map(|v| v * 4.0).collect();
        let b: Vec<f32> = values(2 * k, 50 + k as u64)
            .iter()
            .map(|v| v * 0.5)
            .collect();
        let gs = ctx.upload("scores", &s).unwrap();
        let ds = ctx.filled("ds", 2 * k, f32::NAN).unwrap();
        let hist = ctx.filled("hist", 4, f32::NAN).unwrap();

        let gb = ctx.upload("baseline", &b).unwrap();
        let db = ctx.filled("db", 2 * k, f32::NAN).unwrap();
        let st = ctx.upload("state", &state::initial(6)).unwrap();
        let tuba = ctx
            .shuffled_bound(Bound::Tuba, k, &gs, &ds, &hist, &st, Some((&gb, &db)))
            .unwrap();
        ctx.run(&[tuba], 1).unwrap();
        let want = shuffled_eval(Bound::Tuba, &s, Some(&b), None);
        let h: Vec<f32> = ctx.read(&hist).unwrap();
        let got_ds: Vec<f32> = ctx.read(&ds).unwrap();
        let got_db: Vec<f32> = ctx.read(&db).unwrap();
        compare(
            &format!("shuffled TUBA k={k}"),
            (f64::from(h[2]), &got_ds, &got_db),
            &want,
            true,
        );

        let mine = Bound::Mine { gamma: 0.9 };
        let st = ctx.upload("state", &state::initial(0)).unwrap();
        let launch = ctx
            .shuffled_bound(mine, k, &gs, &ds, &hist, &st, None)
            .unwrap();
        let mut prev = None;
        for step in 0..2u32 {
            let s: Vec<f32> = values(2 * k, 100 * u64::from(step) + k as u64)
                .iter()
                .map(|v| v * 4.0)
                .collect();
            ctx.write(&gs, &s).unwrap();
            ctx.write(&ds, &vec![f32::NAN; 2 * k]).unwrap();
            ctx.run(std::slice::from_ref(&launch), 1).unwrap();
            let want = shuffled_eval(mine, &s, None, prev);
            let h: Vec<f32> = ctx.read(&hist).unwrap();
            let got_ds: Vec<f32> = ctx.read(&ds).unwrap();
            compare(
                &format!("shuffled MINE k={k} step {step}"),
                (f64::from(h[step as usize]), &got_ds, &[]),
                &want,
                false,
            );
            let sv: Vec<u32> = ctx.read(&st).unwrap();
            let log_m = f64::from(f32::from_bits(sv[state::MINE_LOG_EMA]));
            assert!(
                (log_m - want.log_ema).abs() <= TOL * want.log_ema.abs().max(1.0),
                "k={k} step {step}: log m {log_m} vs {}",
                want.log_ema
            );
            ctx.run(&[ctx.tick(&st).unwrap()], 1).unwrap();
            prev = Some(want.log_ema);
        }
    }
}

#[test]
fn shuffled_bound_refuses_a_baseline_mismatch() {
    let Some(ctx) = gpu() else { return };
    let k = 2;
    let s = ctx.upload("scores", &values(2 * k, 1)).unwrap();
    let ds = ctx.zeros("ds", 2 * k).unwrap();
    let hist = ctx.zeros("hist", 1).unwrap();
    let st = ctx.upload("state", &state::initial(0)).unwrap();
    let b = ctx.zeros("b", 2 * k).unwrap();
    let db = ctx.zeros("db", 2 * k).unwrap();
    assert!(ctx
        .shuffled_bound(Bound::Tuba, k, &s, &ds, &hist, &st, None)
        .is_err());
    assert!(ctx
        .shuffled_bound(Bound::Nwj, k, &s, &ds, &hist, &st, Some((&b, &db)))
        .is_err());
    assert!(ctx
        .shuffled_bound(Bound::InfoNce, k, &s, &ds, &hist, &st, None)
        .is_err());
    assert!(ctx
        .shuffled_bound(Bound::Tuba, k, &s, &ds, &hist, &st, Some((&b, &b)))
        .is_err());
}
