//! Long reductions split into several launches where a software adapter's loop limit would
//! refuse one (llvmpipe truncates an invocation's loops after 65 535 iterations): the split
//! products and column sums against the CPU reference on shapes that cross the budget, and a
//! concat-critic training run at K = 256 (K² = 65 536 pairs in its weight and bias gradients)
//! against the CPU backend. Tolerance: norm-wise relative error ≤ 1e-4 for kernels, 1e-3 for
//! a trajectory (as tests/kernels.rs and tests/training.rs).

mod common;

use common::{column_sum_case, gemm_block, gpu, rel_err, values};
use infobound::cpu::{ops, CpuTrainer};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::{GemmGeometry, GeometryChoice, GpuTrainer};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::linalg::{Epilogue, GemmSpec};
use infobound::math::optim::AdamConfig;
use infobound::math::spec::TrainSpec;

const TOL: f64 = 1e-4;

/// A pinned split-K geometry on shapes that are no multiple of the chunk or the tiles: every
/// transpose form and epilogue against the CPU, in both geometries, with the bits the same on
/// a repeat (the partials are added in order, no float atomics).
#[test]
fn split_k_products_match_cpu_and_repeat_bit_for_bit() {
    let Some(ctx) = gpu() else { return };
    let mut pinned = ctx.rule_geometry();
    pinned.gemm_split_k = 64;
    ctx.set_geometry(GeometryChoice::Pinned(pinned)).unwrap();
    let shapes = [
        (1usize, 1usize, 129usize),
        (17, 5, 300),
        (65, 3, 1000),
        (4, 70, 65),
    ];
    let forms = [
        (false, false, Epilogue::None),
        (false, true, Epilogue::Bias),
        (true, false, Epilogue::BiasRelu),
        (true, true, Epilogue::ReluBackward),
    ];
    for (case, (&(m, n, k), (ta, tb, ep))) in shapes.iter().zip(forms).enumerate() {
        for geometry in [GemmGeometry::rule(false), GemmGeometry::rule(true)] {
            let spec = GemmSpec::dense(m, n, k, ta, tb).with_epilogue(ep);
            let (na, nb, nc) = spec.extents();
            let salt = 10 * case as u64 + u64::from(geometry.tiled());
            let a = values(na, salt);
            let b = values(nb, salt + 1);
            let bias = values(n, salt + 2);
            let aux = values(m * n, salt + 3);
            let mut want = vec![f32::NAN; nc];
            ops::gemm(&spec, &a, &b, &mut want, Some(&bias), Some(&aux));
            let ga = ctx.upload("a", &a).unwrap();
            let gb = ctx.upload("b", &b).unwrap();
            let gbias = ctx.upload("bias", &bias).unwrap();
            let gaux = ctx.upload("aux", &aux).unwrap();
            let run = || {
                let gc = ctx.filled("c", nc, f32::NAN).unwrap();
                let launches = ctx
                    .gemm_launches_with(&spec, [&ga, &gb, &gc], Some(&gbias), Some(&gaux), geometry)
                    .unwrap();
                assert_eq!(launches.len(), 2, "k = {k} past the pinned 64 must split");
                ctx.run(&launches, 1).unwrap();
                ctx.read::<f32>(&gc).unwrap()
            };
            let got = run();
            let err = rel_err(&got, &want, 1.0);
            let what = format!("{m}×{n}×{k} ta={ta} tb={tb} {ep:?} {}", geometry.name());
            assert!(err <= TOL, "{what}: rel err {err}");
            let again = run();
            assert!(
                got.iter()
                    .zip(&again)
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{what}: not deterministic"
            );
        }
    }
}

#[test]
fn split_products_past_the_loop_budget_match_cpu() {
    let Some(ctx) = gpu() else { return };
    // k past 65 535 (what llvmpipe truncates) and not a multiple of either geometry's chunk;
    // m and n small so the single long invocation stays quick on lavapipe.
    let (m, n, k) = (3, 5, 70_001);
    // Each transpose form with one epilogue (every pipeline costs llvmpipe a compile; the
    // unsplit product is tested in every combination in tests/kernels.rs).
    let forms = [
        (false, false, Epilogue::None),
        (false, true, Epilogue::Bias),
        (true, false, Epilogue::BiasRelu),
        (true, true, Epilogue::ReluBackward),
    ];
    let mut case = 0u64;
    for (ta, tb, ep) in forms {
        for geometry in [GemmGeometry::rule(false), GemmGeometry::rule(true)] {
            case += 1;
            // Offsets and padded leading dimensions, as layers inside a parameter buffer.
            let mut spec = GemmSpec::dense(m, n, k, ta, tb).with_epilogue(ep);
            spec.lda += 2;
            spec.ldb += 1;
            spec.ldc += 3;
            spec.a_off = 5;
            spec.b_off = 7;
            spec.c_off = 2;
            spec.bias_off = 1;
            spec.ldaux = n + 1;
            spec.aux_off = 4;
            let (na, nb, nc) = spec.extents();
            let a = values(na, 3 * case);
            let b = values(nb, 3 * case + 1);
            let bias = values(n + 1, 3 * case + 2);
            let aux = values(4 + m * (n + 1), 3 * case + 3);
            let mut want = vec![f32::NAN; nc];
            ops::gemm(&spec, &a, &b, &mut want, Some(&bias), Some(&aux));
            let ga = ctx.upload("a", &a).unwrap();
            let gb = ctx.upload("b", &b).unwrap();
            let gc = ctx.filled("c", nc, f32::NAN).unwrap();
            let gbias = ctx.upload("bias", &bias).unwrap();
            let gaux = ctx.upload("aux", &aux).unwrap();
            let launches = ctx
                .gemm_launches_with(&spec, [&ga, &gb, &gc], Some(&gbias), Some(&gaux), geometry)
                .unwrap();
            // Split-K on every adapter: a software one must split k = 70 001, and the rule on
            // hardware splits past 4 096: the partial products, then their sum in order.
            assert_eq!(launches.len(), 2, "k = {k} must be split");
            ctx.run(&launches, 1).unwrap();
            let got: Vec<f32> = ctx.read(&gc).unwrap();
            // Compare C's rows only: the padding between them stays NaN in both.
            let err = rel_err(&gemm_block(&spec, &got), &gemm_block(&spec, &want), 1.0);
            assert!(
                err <= TOL,
                "ta={ta} tb={tb} {ep:?} {}: rel err {err}",
                geometry.name()
            );
        }
    }
}

#[test]
fn split_products_are_deterministic() {
    let Some(ctx) = gpu() else { return };
    let spec = GemmSpec::dense(2, 3, 66_000, true, false);
    let (na, nb, nc) = spec.extents();
    let ga = ctx.upload("a", &values(na, 1)).unwrap();
    let gb = ctx.upload("b", &values(nb, 2)).unwrap();
    let run = || {
        let gc = ctx.filled("c", nc, f32::NAN).unwrap();
        let l = ctx
            .gemm_launches(&spec, [&ga, &gb, &gc], None, None)
            .unwrap();
        ctx.run(&l, 1).unwrap();
        ctx.read::<f32>(&gc)
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn split_column_sums_past_the_loop_budget_match_cpu() {
    let Some(ctx) = gpu() else { return };
    for &(rows, cols) in &[(65_537, 1), (70_001, 3), (100_003, 2)] {
        let (spec, src, want) = column_sum_case(rows, cols);
        let gs = ctx.upload("src", &src).unwrap();
        let go = ctx.filled("out", cols + 3, f32::NAN).unwrap();
        let launches = ctx.column_sum_launches(&spec, &gs, &go).unwrap();
        if ctx.adapter().is_software {
            assert!(launches.len() > 1, "{rows} rows must be split here");
            // The single launch is still refused, not truncated.
            assert!(ctx.column_sums(&spec, &gs, &go).is_err());
        }
        ctx.run(&launches, 1).unwrap();
        let got: Vec<f32> = ctx.read(&go).unwrap();
        // Sums of ~1e5 values in (-1, 1): a floor of 1 keeps the relative error meaningful.
        let err = rel_err(&got[3..], &want[3..], 1.0);
        assert!(
            err <= TOL,
            "{rows}×{cols}: rel err {err}\n{got:?}\n{want:?}"
        );
    }
}

#[test]
fn concat_critic_at_k_256_trains_on_gpu_as_on_cpu() {
    let Some(ctx) = gpu() else { return };
    // The bmi configuration's shape (concat critic (16, 8), K = 256: K² = 65 536 pair rows in
    // every weight and bias gradient) on a 2 + 2-dimensional task. Adam's eps = 1 makes each
    // update about lr·gradient, continuous in it: with the usual eps a near-zero gradient
    // whose f32 and f64 signs differ moves a parameter by ±lr either way, which would hide
    // the gradients this compares.
    let (x, y) = correlated_gaussian(2, 0.8, 600, 3);
    let critic = CriticForm::Concat {
        hidden: vec![16, 8],
    };
    let spec = TrainSpec::new(2, 2, critic, Bound::InfoNce, 256)
        .with_seed(7)
        .with_adam(AdamConfig::default().with_lr(0.5).with_eps(1.0));
    let data = common::joint(&x, &y, 2);
    let mut g = GpuTrainer::new(&ctx, &spec, data, None, 3).unwrap();
    let mut c = CpuTrainer::new(&spec, data, None).unwrap();
    let steps = 3;
    let gv = g.train(steps).unwrap();
    let cv = c.train(steps).unwrap();
    let verr = rel_err(&gv, &cv, 1e-3);
    assert!(
        verr <= 1e-3,
        "values differ, rel err {verr}\n{gv:?}\n{cv:?}"
    );
    // The displacement from the initial parameters, so the shared start cannot hide a
    // difference in what the steps did.
    let init = spec.init();
    let moved = |p: Vec<f32>| -> Vec<f32> { p.iter().zip(&init).map(|(p, i)| p - i).collect() };
    let gd = moved(g.parameters().unwrap());
    let cd = moved(c.parameters().unwrap());
    assert!(gd.iter().any(|v| *v != 0.0), "the parameters never moved");
    let perr = rel_err(&gd, &cd, 1e-6);
    assert!(perr <= 1e-3, "parameter steps differ, rel err {perr}");
}
