//! The fast CPU backend against the f64 reference: op by op on awkward shapes, then whole
//! training runs of every critic form with several bounds, and its determinism (the same bits
//! on 1, 2 and 3 threads).
//!
//! Tolerances (norm-wise relative errors, [`common::rel_err`], unless stated):
//! - matrix products, column sums, pair sums: 2e-5 (f32 sums of up to 65² terms against f64);
//!   the pair expansion is exact (the same two f32 operations);
//! - bound values 2e-5 absolute, their score gradients 1e-4 (f32 e^x within 2 ulp);
//! - the blockwise fused bound (every bound but leave-one-out, TUBA and α-InfoNCE with their
//!   baselines) against the reference on the materialised S: values and objectives 2e-5
//!   (relative above 1), dG, dH and d(baseline) 1e-4, at K = 2, 3, 17, 65 and 700;
//! - Adam 1e-5 (f32 against f64 moments);
//! - a step's whole gradient 5e-4; 10 training steps: values within 2e-3 (relative above 1)
//!   and parameters 5e-3 relative (f32 rounding compounding through Adam, which turns a
//!   weight's near-zero gradient into a step of its own sign: the GPU is held to 1e-3 over 20
//!   steps of a small shuffled critic in `tests/training.rs`).

mod common;

use common::rel_err;
use infobound::backend::{self, RunOptions};
use infobound::cpu::fast::ops::{self as fast, FusedBaseline};
use infobound::cpu::fast::{FastTrainer, FastWorkspace, Pool};
use infobound::cpu::{ops as reference, CpuTrainer, Workspace};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::math::bounds::{matrix_eval, Bound};
use infobound::math::critic::CriticForm;
use infobound::math::linalg::{ColumnSumSpec, Epilogue, GemmSpec};
use infobound::math::optim::AdamConfig;
use infobound::math::sampling::Transform;
use infobound::math::spec::{Batches, TrainSpec};
use infobound::DeviceChoice;
use std::sync::Arc;

/// The batch sizes every op is tried at: 1 (where an op takes it), odd, prime, one past a
/// power of two.
const KS: [usize; 4] = [1, 3, 17, 65];

fn pools() -> Vec<Pool> {
    vec![Pool::new(1), Pool::new(3)]
}

#[test]
fn products_match_the_reference_on_awkward_shapes() {
    let epilogues = [
        Epilogue::None,
        Epilogue::Bias,
        Epilogue::BiasRelu,
        Epilogue::ReluBackward,
    ];
    let mut shapes: Vec<(usize, usize, usize)> = Vec::new();
    for &k in &KS {
        shapes.extend([(k, 7, 5), (k * k, 9, 13), (5, 3, k), (13, k, 1)]);
    }
    // A long shared dimension with a small result: the split sum.
    shapes.push((7, 5, 9001));
    for pool in pools() {
        for &(m, n, k) in &shapes {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                for epilogue in epilogues {
                    // Strided blocks at offsets inside larger buffers, as the programs use.
                    let base = GemmSpec::dense(m, n, k, ta, tb).with_epilogue(epilogue);
                    let spec = GemmSpec {
                        lda: base.lda + 2,
                        a_off: 3,
                        ldb: base.ldb + 1,
                        b_off: 1,
                        ldc: n + 3,
                        c_off: 2,
                        bias_off: 4,
                        ldaux: n + 1,
                        aux_off: 5,
                        ..base
                    };
                    let (ea, eb, ec) = spec.extents();
                    let a = common::values(ea, 1);
                    let b = common::values(eb, 2);
                    let bias = common::values(spec.bias_off + n, 3);
                    let aux = common::values(spec.aux_off + m * spec.ldaux, 4);
                    let mut want = vec![f32::NAN; ec + 2];
                    let mut got = want.clone();
                    reference::gemm(&spec, &a, &b, &mut want, Some(&bias), Some(&aux));
                    fast::gemm(&pool, &spec, &a, &b, &mut got, Some(&bias), Some(&aux));
                    let (g, w) = (
                        common::gemm_block(&spec, &got),
                        common::gemm_block(&spec, &want),
                    );
                    let err = rel_err(&g, &w, 1.0);
                    assert!(
                        err <= 2e-5,
                        "{m}×{n}×{k} ta={ta} tb={tb} {epilogue:?}: rel err {err}"
                    );
                    // Nothing outside C's block is written.
                    let untouched = got.iter().zip(&want).all(|(g, w)| g.is_nan() == w.is_nan());
                    assert!(untouched, "{m}×{n}×{k}: wrote outside C");
                }
            }
        }
    }
}

#[test]
fn column_and_pair_sums_match_the_reference() {
    for pool in pools() {
        for &k in &KS {
            for width in [1, 5, 16, 19] {
                let rows = k * k + 1500 * usize::from(k == 65);
                let spec = ColumnSumSpec {
                    rows,
                    cols: width,
                    ld: width + 2,
                    in_off: 1,
                    out_off: 3,
                };
                let src = common::values(1 + rows * (width + 2), 5);
                let (mut got, mut want) = (vec![0.0; width + 3], vec![0.0; width + 3]);
                reference::column_sums(&spec, &src, &mut want);
                fast::column_sums(&pool, &spec, &src, &mut got);
                let err = rel_err(&got, &want, 1.0);
                assert!(err <= 2e-5, "column sums {rows}×{width}: {err}");

                let u = common::values(k * width, 6);
                let v = common::values(k * width, 7);
                let (mut got, mut want) = (vec![0.0; k * k * width], vec![0.0; k * k * width]);
                reference::pair_expand(k, width, &u, &v, &mut want);
                fast::pair_expand(&pool, k, width, &u, &v, &mut got);
                assert_eq!(got, want, "pair expand K={k} w={width}");

                let src = common::values(k * k * width, 8);
                for rows in [true, false] {
                    let (mut got, mut want) = (vec![0.0; k * width], vec![0.0; k * width]);
                    reference::pair_reduce(rows, k, width, &src, &mut want);
                    fast::pair_reduce(&pool, rows, k, width, &src, &mut got);
                    let err = rel_err(&got, &want, 1.0);
                    assert!(
                        err <= 2e-5,
                        "pair reduce rows={rows} K={k} w={width}: {err}"
                    );
                }
            }
        }
    }
}

/// Every bound the matrix op takes, with the special paths biting at test scale.
fn matrix_bounds() -> Vec<Bound> {
    let mut all = common::BOUNDS.to_vec();
    all.extend([Bound::LautumDv, Bound::LautumNwj, Bound::LeaveOneOut]);
    all
}

#[test]
fn matrix_bounds_match_the_reference() {
    for pool in pools() {
        for &k in &KS[1..] {
            for bound in matrix_bounds() {
                for scale in [1.0f32, 6.0] {
                    let s: Vec<f32> = common::values(k * k, 9).iter().map(|v| v * scale).collect();
                    let b = bound.needs_baseline().then(|| common::values(k, 10));
                    for prev in [None, Some(0.3)] {
                        let want = matrix_eval(bound, &s, k, b.as_deref(), prev);
                        let mut ds = vec![f32::NAN; k * k];
                        let mut db = vec![f32::NAN; k];
                        let got = fast::matrix_bound(
                            &pool,
                            bound,
                            k,
                            &s,
                            b.as_deref(),
                            prev,
                            &mut ds,
                            b.is_some().then_some(&mut db[..]),
                        );
                        let what = format!("{bound:?} K={k} scale {scale} prev {prev:?}");
                        assert!(
                            (got.value - want.value).abs() <= 2e-5,
                            "{what}: value {} vs {}",
                            got.value,
                            want.value
                        );
                        assert!(
                            (got.objective - want.objective).abs() <= 2e-5,
                            "{what}: objective {} vs {}",
                            got.objective,
                            want.objective
                        );
                        if matches!(bound, Bound::Mine { .. }) {
                            assert!((got.log_ema - want.log_ema).abs() <= 2e-5, "{what}: ema");
                        }
                        let want_ds: Vec<f32> = want.ds.iter().map(|&v| v as f32).collect();
                        let err = rel_err(&ds, &want_ds, 1e-6);
                        assert!(err <= 1e-4, "{what}: ds rel err {err}");
                        if b.is_some() {
                            let want_db: Vec<f32> = want.db.iter().map(|&v| v as f32).collect();
                            let err = rel_err(&db, &want_db, 1e-6);
                            assert!(err <= 1e-4, "{what}: db rel err {err}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn adam_and_the_gradient_norm_match_the_reference() {
    for pool in pools() {
        for n in [1, 17, 70_001] {
            let grads = common::values(n, 11);
            let start = common::values(n, 12);
            let configs = [
                AdamConfig::default(),
                AdamConfig::default()
                    .with_lr(0.1)
                    .with_weight_decay(0.01, true),
                AdamConfig::default().with_weight_decay(0.1, false),
            ];
            for config in configs {
                let (mut wp, mut wm, mut wv) = (start.clone(), vec![0.0; n], vec![0.0; n]);
                let (mut gp, mut gm, mut gv) = (start.clone(), vec![0.0; n], vec![0.0; n]);
                for t in 1..=3 {
                    reference::adam_step(&config, t, &mut wp, &grads, &mut wm, &mut wv);
                    fast::adam_step(&pool, &config, t, &mut gp, &grads, &mut gm, &mut gv);
                }
                for (g, w, what) in [(&gp, &wp, "params"), (&gm, &wm, "m"), (&gv, &wv, "v")] {
                    let err = rel_err(g, w, 1e-6);
                    assert!(err <= 1e-5, "adam {what} n={n} {config:?}: {err}");
                }
            }
            let want = infobound::math::clip::l2_norm(&grads);
            let got = fast::sum_squares(&pool, &grads).sqrt();
            assert!((got - want).abs() <= 1e-12 * want, "norm {got} vs {want}");
        }
    }
}

/// dG = dS·H and dH = dSᵀ·G in f64 from the reference's dS (K×K).
fn tower_grads(ds: &[f64], g: &[f32], h: &[f32], k: usize, e: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut wg, mut wh) = (vec![0.0f32; k * e], vec![0.0f32; k * e]);
    for i in 0..k {
        for c in 0..e {
            wg[i * e + c] = (0..k)
                .map(|j| ds[i * k + j] * f64::from(h[j * e + c]))
                .sum::<f64>() as f32;
            wh[i * e + c] = (0..k)
                .map(|j| ds[j * k + i] * f64::from(g[j * e + c]))
                .sum::<f64>() as f32;
        }
    }
    (wg, wh)
}

#[test]
fn the_blockwise_fused_bound_matches_the_materialised_reference() {
    // K = 2 is the smallest matrix (K = 1 has no negatives: the spec refuses it, below);
    // 3, 17 and 65 one short block; 700 several blocks of rows and several groups. The
    // scales put α-InfoNCE's held-out sums and TUBA's clipped column terms where one
    // score dominates.
    let shapes = [(2, 3), (3, 2), (17, 5), (65, 4), (700, 7)];
    for (k, e) in shapes {
        for scale in [1.0f32, 4.0] {
            let g: Vec<f32> = common::values(k * e, 13)
                .iter()
                .map(|v| v * scale)
                .collect();
            let h = common::values(k * e, 14);
            let s: Vec<f32> = (0..k * k)
                .map(|ij| {
                    let (i, j) = (ij / k, ij % k);
                    (0..e)
                        .map(|c| f64::from(g[i * e + c]) * f64::from(h[j * e + c]))
                        .sum::<f64>() as f32
                })
                .collect();
            let mut bounds = matrix_bounds();
            bounds.push(Bound::AlphaInfoNce { alpha: 0.9 });
            for bound in bounds {
                if !fast::fused_supported(bound) {
                    continue;
                }
                let base = bound.needs_baseline().then(|| common::values(k, 15));
                let want = matrix_eval(bound, &s, k, base.as_deref(), Some(0.2));
                let (wg, wh) = tower_grads(&want.ds, &g, &h, k, e);
                let mut bits = None;
                for pool in pools() {
                    let (mut dg, mut dh) = (vec![f32::NAN; k * e], vec![f32::NAN; k * e]);
                    let mut db = vec![f32::NAN; k];
                    let baseline = base.as_deref().map(|values| FusedBaseline {
                        values,
                        grad: Some(&mut db[..]),
                    });
                    let grads = Some((&mut dg[..], &mut dh[..]));
                    let got =
                        fast::fused_bound(&pool, bound, k, e, &g, &h, grads, baseline, Some(0.2));
                    let what = format!("{bound:?} K={k} e={e} scale {scale}");
                    let tol = 2e-5 * want.value.abs().max(1.0);
                    assert!(
                        (got.value - want.value).abs() <= tol,
                        "{what}: value {} vs {}",
                        got.value,
                        want.value
                    );
                    let tol = 2e-5 * want.objective.abs().max(1.0);
                    assert!(
                        (got.objective - want.objective).abs() <= tol,
                        "{what}: objective"
                    );
                    if matches!(bound, Bound::Mine { .. }) {
                        assert!((got.log_ema - want.log_ema).abs() <= 2e-5, "{what}: ema");
                    }
                    let err = rel_err(&dg, &wg, 1e-6).max(rel_err(&dh, &wh, 1e-6));
                    assert!(err <= 1e-4, "{what}: gradients rel err {err}");
                    if base.is_some() {
                        let want_db: Vec<f32> = want.db.iter().map(|&v| v as f32).collect();
                        let err = rel_err(&db, &want_db, 1e-6);
                        assert!(err <= 1e-4, "{what}: baseline gradient rel err {err}");
                    }
                    // An evaluation (no gradients, no baseline gradient) reads the same value.
                    let baseline = base
                        .as_deref()
                        .map(|values| FusedBaseline { values, grad: None });
                    let eval =
                        fast::fused_bound(&pool, bound, k, e, &g, &h, None, baseline, Some(0.2));
                    assert_eq!(
                        eval.value.to_bits(),
                        got.value.to_bits(),
                        "{what}: evaluation"
                    );
                    let these = (
                        got.value.to_bits(),
                        dg,
                        dh,
                        db.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    );
                    match &bits {
                        None => bits = Some(these),
                        Some(b) => assert!(*b == these, "{what}: 1 and 3 threads differ"),
                    }
                }
            }
        }
    }
    // Every bound of the separable critic but the leave-one-out statistic runs blockwise.
    for bound in matrix_bounds() {
        assert_eq!(
            fast::fused_supported(bound),
            bound != Bound::LeaveOneOut,
            "{bound:?}"
        );
    }
    let (x, y) = data(2);
    let spec = spec(
        CriticForm::Separable {
            hidden: vec![4],
            embed: 3,
        },
        Bound::AlphaInfoNce { alpha: 0.3 },
        1,
        2,
    );
    let refused = FastTrainer::new(&spec, common::joint(&x, &y, 2), 1);
    assert!(refused.is_err(), "K = 1 must be refused with an error");
}

#[test]
fn the_separable_critic_stores_no_score_matrix_but_for_leave_one_out() {
    let (x, y) = data(2);
    let train = common::joint(&x, &y, 2);
    let pool = Arc::new(Pool::new(1));
    let k = 40;
    for bound in matrix_bounds() {
        let critic = CriticForm::Separable {
            hidden: vec![8],
            embed: 4,
        };
        for training in [true, false] {
            let spec = spec(critic.clone(), bound, k, 2);
            let w = FastWorkspace::new(&spec, train, 1, training, Arc::clone(&pool));
            let largest = (0..w.program().buffers.len())
                .map(|id| w.buffer(id).len())
                .max()
                .unwrap_or(0);
            let stored = largest >= k * k;
            let what = format!("{bound:?} training {training}: largest buffer {largest}");
            assert_eq!(stored, bound == Bound::LeaveOneOut, "{what}");
        }
    }
}

/// Gaussian data of `d` columns, 257 rows.
fn data(d: usize) -> (Vec<f32>, Vec<f32>) {
    correlated_gaussian(d, 0.7, 257, 3)
}

/// The critics and bounds the whole-run tests take: every form, with the bounds it allows.
fn runs() -> Vec<(CriticForm, Bound)> {
    let concat = CriticForm::Concat {
        hidden: vec![16, 8],
    };
    let wide_concat = CriticForm::Concat {
        hidden: vec![40, 110],
    };
    let separable = CriticForm::Separable {
        hidden: vec![19],
        embed: 7,
    };
    let shuffled = CriticForm::Shuffled {
        hidden: vec![17, 9],
    };
    let mut out = Vec::new();
    for bound in [
        Bound::InfoNce,
        Bound::Smile { tau: 1.5 },
        Bound::Tuba,
        Bound::Mine { gamma: 0.9 },
        Bound::AlphaInfoNce { alpha: 0.3 },
        Bound::LautumDv,
    ] {
        out.push((concat.clone(), bound));
        out.push((separable.clone(), bound));
    }
    out.push((wide_concat, Bound::Nwj));
    for bound in [
        Bound::Nwj,
        Bound::Dv,
        Bound::Js,
        Bound::Smile { tau: 1.5 },
        Bound::Tuba,
    ] {
        out.push((shuffled.clone(), bound));
    }
    out
}

/// A spec of the whole-run tests. Adam's ε is 1e-4 rather than 1e-8: some gradients are zero
/// up to rounding (InfoNCE's last bias: the bound ignores a shift of every score), and Adam
/// turns a rounding residue of 1e-8 into a step of lr·½ whose sign is the residue's, so
/// both backends would walk such a parameter at random, each correctly.
fn spec(critic: CriticForm, bound: Bound, k: usize, d: usize) -> TrainSpec {
    TrainSpec::new(d, d, critic, bound, k)
        .with_seed(7)
        .with_baseline_hidden(vec![6])
        .with_adam(AdamConfig::default().with_lr(1e-2).with_eps(1e-4))
}

#[test]
fn a_step_gradient_matches_the_reference() {
    let d = 3;
    let (x, y) = data(d);
    let train = common::joint(&x, &y, d);
    let pool = Arc::new(Pool::new(2));
    for &k in &KS[1..] {
        for (critic, bound) in runs() {
            let spec = spec(critic.clone(), bound, k, d);
            let params = spec.init();
            // An evaluation program (the forward and the bound alone) reads the same value.
            let mut want = Workspace::new(&spec, train, 5, false);
            let mut got = FastWorkspace::new(&spec, train, 5, false, Arc::clone(&pool));
            let (wv, gv) = (want.run(&params, 3), got.run(&params, 3));
            let what = format!("{} {bound:?} K={k} evaluation", critic.name());
            assert!(
                (wv - gv).abs() <= 2e-5 * wv.abs().max(1.0),
                "{what}: {gv} vs {wv}"
            );
            let mut want = Workspace::new(&spec, train, 5, true);
            let mut got = FastWorkspace::new(&spec, train, 5, true, Arc::clone(&pool));
            for step in [0, 1] {
                let wv = want.run(&params, step);
                let gv = got.run(&params, step);
                let what = format!("{} {bound:?} K={k} step {step}", critic.name());
                assert!(
                    (wv - gv).abs() <= 2e-5 * wv.abs().max(1.0),
                    "{what}: value {gv} vs {wv}"
                );
                let err = rel_err(got.grads(), want.grads(), 1e-6);
                assert!(err <= 5e-4, "{what}: gradient rel err {err}");
                let norm = (got.grad_norm() - want.grad_norm()).abs();
                assert!(norm <= 1e-4 * want.grad_norm().max(1e-6), "{what}: norm");
            }
        }
    }
}

#[test]
fn the_concat_pair_network_is_fused_when_small() {
    let (x, y) = data(2);
    let train = common::joint(&x, &y, 2);
    let pool = Arc::new(Pool::new(1));
    let fused = |hidden: Vec<usize>, training: bool| {
        let spec = spec(CriticForm::Concat { hidden }, Bound::InfoNce, 9, 2);
        FastWorkspace::new(&spec, train, 1, training, Arc::clone(&pool)).fuses_pairs()
    };
    assert!(fused(vec![16, 8], true));
    assert!(fused(vec![16, 8], false));
    assert!(fused(vec![5], true));
    assert!(!fused(vec![128, 128], true), "too wide: op by op");
    // Fused, no buffer holds K² values: neither the pair activations nor, for InfoNCE read
    // row by row, S and dS (the program declares them; the plan never touches them).
    let k = 40;
    let spec = spec(
        CriticForm::Concat {
            hidden: vec![16, 8],
        },
        Bound::InfoNce,
        k,
        2,
    );
    let w = FastWorkspace::new(&spec, train, 1, true, Arc::clone(&pool));
    let largest = (0..w.program().buffers.len())
        .map(|id| w.buffer(id).len())
        .max();
    assert!(largest < Some(k * k), "{largest:?}");
    assert!(w.program().buffers.iter().any(|b| b.len >= k * k * 16));
}

#[test]
fn ten_training_steps_track_the_reference() {
    let d = 3;
    let (x, y) = data(d);
    let train = common::joint(&x, &y, d);
    for &k in &KS[1..] {
        for (critic, bound) in runs() {
            let spec = spec(critic.clone(), bound, k, d);
            let what = format!("{} {bound:?} K={k}", critic.name());
            let mut want = CpuTrainer::new(&spec, train, None).unwrap();
            let mut got = FastTrainer::new(&spec, train, 2).unwrap();
            let wv = want.train(10).unwrap();
            let gv = got.train(10).unwrap();
            for (step, (g, w)) in gv.iter().zip(&wv).enumerate() {
                assert!(
                    (g - w).abs() <= 2e-3 * w.abs().max(1.0),
                    "{what}: step {step}: {g} vs {w}"
                );
            }
            let wp = want.parameters().unwrap();
            let err = rel_err(got.parameters(), &wp, 1e-3);
            assert!(err <= 5e-3, "{what}: parameters rel err {err}");
            assert_ne!(got.parameters(), &spec.init()[..], "{what}: never moved");
            let (gn, wn) = (got.take_grad_norms(), want.take_grad_norms());
            let err = rel_err(&gn, &wn, 1e-3);
            assert!(err <= 2e-3, "{what}: gradient norms {err}");
        }
    }
}

#[test]
fn gaussian_batches_and_known_density_bounds_track_the_reference() {
    let rho = [0.3f32, 0.8];
    let gaussian = Batches::Gaussian {
        rho: &rho,
        transform: Transform::Cubic,
    };
    let concat = CriticForm::Concat {
        hidden: vec![16, 8],
    };
    let bmi = TrainSpec::new(5, 5, concat, Bound::InfoNce, 17)
        .with_adam(AdamConfig::default().with_lr(0.1));
    let mut want = CpuTrainer::new(&bmi, gaussian, None).unwrap();
    let mut got = FastTrainer::new(&bmi, gaussian, 2).unwrap();
    let (wv, gv) = (want.train(8).unwrap(), got.train(8).unwrap());
    let err = rel_err(&gv, &wv, 1.0);
    assert!(err <= 2e-3, "bmi-like on Gaussian batches: values {err}");

    let (x, y) = data(2);
    let train = common::joint(&x, &y, 2);
    let ba = TrainSpec::new(
        2,
        2,
        CriticForm::Decoder { hidden: vec![8] },
        Bound::BarberAgakov,
        17,
    );
    let ms = TrainSpec::new(
        2,
        2,
        CriticForm::DecoderCritic { hidden: vec![8] },
        Bound::Multisample { proposals: 4 },
        5,
    );
    for spec in [ba, ms.clone(), ms.with_reparameterised(true)] {
        let mut want = CpuTrainer::new(&spec, train, None).unwrap();
        let mut got = FastTrainer::new(&spec, train, 2).unwrap();
        let (wv, gv) = (want.train(6).unwrap(), got.train(6).unwrap());
        let err = rel_err(&gv, &wv, 1.0);
        assert!(err <= 2e-3, "{:?}: values {err}", spec.bound);
        let err = rel_err(got.parameters(), &want.parameters().unwrap(), 1e-3);
        assert!(err <= 2e-3, "{:?}: parameters {err}", spec.bound);
    }
}

#[test]
fn the_bits_do_not_depend_on_the_thread_count() {
    let d = 3;
    let (x, y) = data(d);
    let train = common::joint(&x, &y, d);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let separable = CriticForm::Separable {
        hidden: vec![40],
        embed: 9,
    };
    let cases = [
        (
            CriticForm::Concat {
                hidden: vec![16, 8],
            },
            Bound::InfoNce,
            65,
        ),
        (
            CriticForm::Concat {
                hidden: vec![40, 110],
            },
            Bound::Smile { tau: 1.5 },
            65,
        ),
        (separable.clone(), Bound::Tuba, 130),
        (CriticForm::Shuffled { hidden: vec![17] }, Bound::Dv, 65),
        // K = 700: the fused bound's blocks fall in eight groups (TUBA's column statistics
        // combine across them; α-InfoNCE's columns split over them), on Gaussian batches.
        (separable.clone(), Bound::Tuba, 700),
        (separable, Bound::AlphaInfoNce { alpha: 0.3 }, 700),
    ];
    let rho = [0.6f32];
    let gaussian = Batches::Gaussian {
        rho: &rho,
        transform: Transform::Identity,
    };
    for (critic, bound, k) in cases {
        let spec = spec(critic.clone(), bound, k, d);
        let train = if k > 257 {
            gaussian
        } else {
            Batches::from(train)
        };
        let run = |threads| {
            let mut t = FastTrainer::new(&spec, train, threads).unwrap();
            let v = t.train(5).unwrap();
            (bits(&v), bits(t.parameters()), bits(&t.take_grad_norms()))
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(
                run(threads) == one,
                "{} {bound:?}: {threads} threads differ",
                critic.name()
            );
        }
    }
}

#[test]
fn the_backend_names_its_mode_and_threads() {
    let fast = backend::open(DeviceChoice::Cpu).unwrap();
    let reference = backend::open(DeviceChoice::CpuReference).unwrap();
    let (x, y) = data(2);
    let train = common::joint(&x, &y, 2);
    let s = spec(CriticForm::Shuffled { hidden: vec![5] }, Bound::Nwj, 8, 2);
    let options = RunOptions::default().with_threads(3);
    let mut t = fast
        .backend
        .trainer(&s, train.into(), None, &options)
        .unwrap();
    assert_eq!(t.device_name(), "CPU fast (f32, 3 threads)");
    assert_eq!(t.train(3).unwrap().len(), 3);
    let t = reference
        .backend
        .trainer(&s, train.into(), None, &options)
        .unwrap();
    assert_eq!(t.device_name(), "CPU reference (f64 accumulation)");
    assert!(fast.backend.device_name().starts_with("CPU fast (f32, "));
    assert_eq!("cpu-reference".parse(), Ok(DeviceChoice::CpuReference));
    assert_eq!(DeviceChoice::CpuReference.to_string(), "cpu-reference");
}
