//! Every kernel against its CPU twin (f64 accumulation) on shapes that are not tile
//! multiples. Outputs are poisoned with NaN first, so an element a kernel fails to write fails
//! the comparison. Tolerance: norm-wise relative error ≤ 1e-4.

mod common;

use common::{column_sum_case, gemm_block, gpu, rel_err, values};
use infobound::cpu::ops;
use infobound::gpu::kernels::{state, ReduceOp};
use infobound::gpu::{GemmGeometry, GeometryChoice};
use infobound::math::bounds::{shuffled_value_and_grad, Bound};
use infobound::math::linalg::{Epilogue, GemmSpec};
use infobound::math::optim::AdamConfig;

const TOL: f64 = 1e-4;

#[test]
fn gemm_matches_cpu_on_odd_shapes_every_form_and_epilogue() {
    let Some(ctx) = gpu() else { return };
    let shapes = [
        (1, 1, 1),
        (3, 17, 5),
        (17, 3, 65),
        (65, 1, 3),
        (1, 65, 17),
        (257, 17, 3),
        (65, 257, 33),
        (130, 70, 257),
    ];
    let epilogues = [
        Epilogue::None,
        Epilogue::Bias,
        Epilogue::BiasRelu,
        Epilogue::ReluBackward,
    ];
    let mut case = 0u64;
    for &(m, n, k) in &shapes {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            for &ep in &epilogues {
                for geometry in [GemmGeometry::rule(false), GemmGeometry::rule(true)] {
                    case += 1;
                    // Offsets and padded leading dimensions, so strided blocks are exercised.
                    let mut spec = GemmSpec::dense(m, n, k, ta, tb).with_epilogue(ep);
                    spec.lda += 2;
                    spec.a_off = 3;
                    spec.ldb += 1;
                    spec.b_off = 5;
                    spec.ldc = n + 3;
                    spec.c_off = 7;
                    spec.bias_off = 2;
                    spec.ldaux = n + 1;
                    spec.aux_off = 1;
                    let (na, nb, nc) = spec.extents();
                    let a = values(na, case);
                    let b = values(nb, case + 1000);
                    let bias = values(n + 2, case + 2000);
                    let aux = values(1 + m * (n + 1), case + 3000);
                    let mut want = vec![f32::NAN; nc];
                    ops::gemm(&spec, &a, &b, &mut want, Some(&bias), Some(&aux));
                    let ga = ctx.upload("a", &a).unwrap();
                    let gb = ctx.upload("b", &b).unwrap();
                    let gbias = ctx.upload("bias", &bias).unwrap();
                    let gaux = ctx.upload("aux", &aux).unwrap();
                    let gc = ctx.filled("c", nc, f32::NAN).unwrap();
                    let d = ctx
                        .gemm_with(&spec, &ga, &gb, &gc, Some(&gbias), Some(&gaux), geometry)
                        .unwrap();
                    ctx.run(&[d], 1).unwrap();
                    let got: Vec<f32> = ctx.read(&gc).unwrap();
                    // Only C's block is written; elsewhere both stay NaN, so compare the block.
                    let err = rel_err(&gemm_block(&spec, &got), &gemm_block(&spec, &want), 1e-6);
                    assert!(
                        err <= TOL,
                        "{m}×{n}×{k} ta={ta} tb={tb} {ep:?} {}: rel err {err}",
                        geometry.name()
                    );
                }
            }
        }
    }
}

#[test]
fn gemm_rejects_operands_that_do_not_fit() {
    let Some(ctx) = gpu() else { return };
    let spec = GemmSpec::dense(4, 4, 4, false, false);
    let small = ctx.zeros("small", 15).unwrap();
    let ok = ctx.zeros("ok", 16).unwrap();
    let c = ctx.zeros("c", 16).unwrap();
    assert!(ctx.gemm(&spec, &small, &ok, &c, None, None).is_err());
    assert!(
        ctx.gemm(&spec, &ok, &ok, &ok, None, None).is_err(),
        "C aliasing A"
    );
    let bias = spec.with_epilogue(Epilogue::Bias);
    assert!(
        ctx.gemm(&bias, &ok, &ok, &c, None, None).is_err(),
        "missing bias"
    );
}

#[test]
fn column_sums_match_cpu() {
    let Some(ctx) = gpu() else { return };
    for &(rows, cols) in &[(1, 1), (3, 17), (257, 3), (65, 65), (1000, 5)] {
        let (spec, src, want) = column_sum_case(rows, cols);
        let gs = ctx.upload("src", &src).unwrap();
        let go = ctx.filled("out", cols + 3, f32::NAN).unwrap();
        ctx.run(&[ctx.column_sums(&spec, &gs, &go).unwrap()], 1)
            .unwrap();
        let got: Vec<f32> = ctx.read(&go).unwrap();
        let err = rel_err(&got[3..], &want[3..], 1e-6);
        assert!(err <= TOL, "{rows}×{cols}: rel err {err}");
    }
}

#[test]
fn two_stage_reductions_match_cpu_and_repeat_bit_for_bit() {
    let Some(ctx) = gpu() else { return };
    // Both trees: the workgroup-memory one, and subgroup operations where the device has them
    // (lavapipe does, size 8: there they must run).
    if ctx.adapter().name.contains("llvmpipe") {
        assert!(ctx.has_subgroups(), "lavapipe offers subgroups");
    }
    let mut variants = vec![false];
    if ctx.has_subgroups() {
        variants.push(true);
    } else {
        eprintln!("this adapter offers no subgroups: the workgroup tree alone is tested");
    }
    for subgroups in variants {
        let mut g = ctx.rule_geometry();
        g.reductions.subgroups = subgroups;
        ctx.set_geometry(GeometryChoice::Pinned(g)).unwrap();
        two_stage_reductions(&ctx, subgroups);
        let used = ctx.geometry_summary().join("; ");
        let name = if subgroups {
            "reductions: subgroups"
        } else {
            "reductions: tree"
        };
        assert!(used.contains(name), "{used}");
    }
}

fn two_stage_reductions(ctx: &infobound::gpu::GpuContext, subgroups: bool) {
    for &n in &[1usize, 3, 17, 257, 4099, 70_001] {
        // Spread wide enough that a log-sum-exp without a max shift would overflow.
        let x: Vec<f32> = values(n, n as u64).iter().map(|v| v * 120.0).collect();
        let src = ctx.upload("x", &x).unwrap();
        let scratch = ctx
            .zeros("scratch", infobound::gpu::GpuContext::reduce_scratch_len(n))
            .unwrap();
        for (op, want) in [
            (ReduceOp::Sum, ops::sum(&x)),
            (ReduceOp::Max, ops::max(&x)),
            (ReduceOp::LogSumExp, ops::log_sum_exp(&x)),
        ] {
            let out = ctx.filled("out", 1, f32::NAN).unwrap();
            let d = ctx.reduce(op, n, &src, &scratch, &out).unwrap();
            ctx.run(&d, 1).unwrap();
            let first: Vec<f32> = ctx.read(&out).unwrap();
            ctx.run(&d, 1).unwrap();
            let second: Vec<f32> = ctx.read(&out).unwrap();
            assert_eq!(
                first[0].to_bits(),
                second[0].to_bits(),
                "{op:?} n={n} subgroups={subgroups} not deterministic"
            );
            // A sum's error scales with Σ|x|, not with the (possibly cancelling) result.
            let scale = match op {
                ReduceOp::Sum => x.iter().map(|v| f64::from(v.abs())).sum::<f64>(),
                _ => want.abs().max(1.0),
            };
            let err = (f64::from(first[0]) - want).abs() / scale;
            assert!(
                err <= TOL,
                "{op:?} n={n} subgroups={subgroups}: got {} want {want}",
                first[0]
            );
        }
    }
}

#[test]
fn adam_matches_cpu_over_several_steps() {
    let Some(ctx) = gpu() else { return };
    for (n, config) in [
        (1usize, AdamConfig::default()),
        (
            257,
            AdamConfig::default()
                .with_lr(1e-2)
                .with_weight_decay(0.1, false),
        ),
        (
            70_003,
            AdamConfig::default()
                .with_lr(3e-3)
                .with_weight_decay(0.05, true),
        ),
    ] {
        let mut p = values(n, 1);
        let mut m = vec![0.0; n];
        let mut v = vec![0.0; n];
        let gp = ctx.upload("p", &p).unwrap();
        let gg = ctx.zeros("g", n).unwrap();
        let gm = ctx.zeros("m", n).unwrap();
        let gv = ctx.zeros("v", n).unwrap();
        let st = ctx.upload("state", &state::initial(0)).unwrap();
        // One prepared update and tick, replayed: t comes from the device's step counter.
        let step = [
            ctx.adam(&config, &gp, &gg, &gm, &gv, &st).unwrap(),
            ctx.tick(&st).unwrap(),
        ];
        for t in 1..=5u32 {
            let g = values(n, 100 + u64::from(t));
            ctx.write(&gg, &g).unwrap();
            ctx.run(&step, 1).unwrap();
            ops::adam_step(&config, t, &mut p, &g, &mut m, &mut v);
        }
        let got: Vec<f32> = ctx.read(&gp).unwrap();
        let err = rel_err(&got, &p, 1e-6);
        assert!(err <= TOL, "n={n} {config:?}: rel err {err}");
        let s: Vec<u32> = ctx.read(&st).unwrap();
        assert_eq!(s[state::STEP], 5);
        assert_eq!(s[state::FLAGS], 0);
    }
}

#[test]
fn adam_flags_a_non_finite_gradient() {
    let Some(ctx) = gpu() else { return };
    let p = ctx.upload("p", &[1.0f32, 2.0, 3.0]).unwrap();
    let g = ctx.upload("g", &[0.1f32, f32::NAN, 0.3]).unwrap();
    let m = ctx.zeros("m", 3).unwrap();
    let v = ctx.zeros("v", 3).unwrap();
    let st = ctx.upload("state", &state::initial(41)).unwrap();
    ctx.run(
        &[ctx
            .adam(&AdamConfig::default(), &p, &g, &m, &v, &st)
            .unwrap()],
        1,
    )
    .unwrap();
    let s: Vec<u32> = ctx.read(&st).unwrap();
    assert_eq!(
        s[state::FLAGS] & state::NONFINITE_PARAM,
        state::NONFINITE_PARAM
    );
    assert_eq!(s[state::FIRST_BAD_STEP], 41);
}

#[test]
fn shuffled_bounds_match_cpu_values_and_gradients() {
    let Some(ctx) = gpu() else { return };
    let bounds = [Bound::Nwj, Bound::Dv, Bound::Js, Bound::Smile { tau: 1.5 }];
    for &k in &[1usize, 3, 17, 257, 1000] {
        for bound in bounds {
            let scores: Vec<f32> = values(2 * k, k as u64).iter().map(|v| v * 4.0).collect();
            let (value, grad) = shuffled_value_and_grad(bound, &scores);
            let s = ctx.upload("scores", &scores).unwrap();
            let ds = ctx.filled("dscores", 2 * k, f32::NAN).unwrap();
            let hist = ctx.filled("hist", 4, f32::NAN).unwrap();
            let st = ctx.upload("state", &state::initial(6)).unwrap();
            ctx.run(
                &[ctx
                    .shuffled_bound(bound, k, &s, &ds, &hist, &st, None)
                    .unwrap()],
                1,
            )
            .unwrap();
            let h: Vec<f32> = ctx.read(&hist).unwrap();
            let got = f64::from(h[6 % 4]);
            assert!(
                (got - value).abs() <= TOL * value.abs().max(1.0),
                "{bound:?} k={k}: value {got} vs {value}"
            );
            let g: Vec<f32> = ctx.read(&ds).unwrap();
            let want: Vec<f32> = grad.iter().map(|&v| v as f32).collect();
            let err = rel_err(&g, &want, 1e-6);
            assert!(err <= TOL, "{bound:?} k={k}: gradient rel err {err}");
        }
    }
}

#[test]
fn a_non_finite_bound_value_raises_the_flag() {
    let Some(ctx) = gpu() else { return };
    // NWJ's partition term e^(S−1) overflows f32 for S = 200.
    let s = ctx.upload("scores", &[0.0f32, 0.0, 200.0, 200.0]).unwrap();
    let ds = ctx.zeros("dscores", 4).unwrap();
    let hist = ctx.zeros("hist", 1).unwrap();
    let st = ctx.upload("state", &state::initial(3)).unwrap();
    ctx.run(
        &[ctx
            .shuffled_bound(Bound::Nwj, 2, &s, &ds, &hist, &st, None)
            .unwrap()],
        1,
    )
    .unwrap();
    let flags: Vec<u32> = ctx.read(&st).unwrap();
    assert_eq!(flags[state::FLAGS], state::NONFINITE_VALUE);
    assert_eq!(flags[state::FIRST_BAD_STEP], 3);
    let g: Vec<f32> = ctx.read(&ds).unwrap();
    assert!(
        g.iter().all(|v| v.is_finite()),
        "clipped gradients stay finite: {g:?}"
    );
}

#[test]
fn long_loops_are_refused_on_software_adapters_not_truncated() {
    let Some(ctx) = gpu() else { return };
    // llvmpipe truncates an invocation's loops after 65 535 iterations: a k = 70 000 product
    // came out 27–41 % wrong before this check existed. One launch is refused; the trainer's
    // `gemm_launches` splits such a product instead (tests/loop_split.rs).
    let k = 70_000;
    let spec = GemmSpec::dense(2, 2, k, false, false);
    let (na, nb, nc) = spec.extents();
    let (a, b) = (values(na, 1), values(nb, 2));
    let (ga, gb) = (ctx.upload("a", &a).unwrap(), ctx.upload("b", &b).unwrap());
    let gc = ctx.filled("c", nc, f32::NAN).unwrap();
    for geometry in [GemmGeometry::rule(true), GemmGeometry::rule(false)] {
        let launch = ctx.gemm_with(&spec, &ga, &gb, &gc, None, None, geometry);
        if ctx.adapter().is_software {
            let err = launch.err().expect("a software adapter must refuse");
            assert!(
                matches!(err, infobound::gpu::GpuError::SoftwareLoopLimit { .. }),
                "{err}"
            );
        } else {
            ctx.run(&[launch.unwrap()], 1).unwrap();
            let mut want = vec![0.0; nc];
            ops::gemm(&spec, &a, &b, &mut want, None, None);
            let err = rel_err(&ctx.read::<f32>(&gc).unwrap(), &want, 1e-6);
            assert!(err <= TOL, "k = {k}: rel err {err}");
        }
    }
}
