//! Every tuner candidate of the matrix products, the column sums and the pair kernels against
//! the f64 CPU reference, on shapes that are no multiple of any tile (1, 3, 17, 65, 257 …),
//! with NaN-poisoned outputs. Tolerances: products and sums within 1e-4 relative (of
//! max(|x|, 1) for sums of many terms, 1e-6 for products, norm-wise). Beyond the reference:
//! a product that runs in one pass has the same bits in every geometry (each output is one
//! fma chain over k in order), and so do the pair kernels (one invocation an output, in index
//! order); a split column sum repeats its bits.

mod common;

use common::{column_sum_case, gemm_block, gpu, rel_err, values};
use infobound::cpu::ops;
use infobound::gpu::kernels::PairAxis;
use infobound::gpu::{GemmGeometry, GeometryChoice, PairGeometry, ReduceGeometry};
use infobound::math::linalg::{Epilogue, GemmSpec};

const TOL: f64 = 1e-4;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_gemm_candidate_matches_cpu_and_shares_its_bits() {
    let Some(ctx) = gpu() else { return };
    // Each transpose form once, with an epilogue, on awkward shapes (k past one tile).
    let cases = [
        (1usize, 1usize, 1usize, false, false, Epilogue::None),
        (3, 17, 65, false, true, Epilogue::Bias),
        (65, 3, 17, true, false, Epilogue::BiasRelu),
        (17, 257, 33, true, true, Epilogue::ReluBackward),
        (257, 5, 3, false, false, Epilogue::None),
    ];
    for (case, &(m, n, k, ta, tb, ep)) in cases.iter().enumerate() {
        let mut spec = GemmSpec::dense(m, n, k, ta, tb).with_epilogue(ep);
        spec.lda += 1;
        spec.a_off = 2;
        spec.ldc = n + 2;
        spec.c_off = 1;
        let (na, nb, nc) = spec.extents();
        let salt = 100 * case as u64;
        let a = values(na, salt);
        let b = values(nb, salt + 1);
        let bias = values(n, salt + 2);
        let aux = values(m * n, salt + 3);
        let mut want = vec![f32::NAN; nc];
        ops::gemm(&spec, &a, &b, &mut want, Some(&bias), Some(&aux));
        let up = |what, v: &[f32]| ctx.upload(what, v).unwrap();
        let (ga, gb) = (up("a", &a), up("b", &b));
        let (gbias, gaux) = (up("bias", &bias), up("aux", &aux));
        let mut first: Option<(String, Vec<u32>)> = None;
        for g in GemmGeometry::candidates() {
            let gc = ctx.filled("c", nc, f32::NAN).unwrap();
            let d = ctx
                .gemm_with(&spec, &ga, &gb, &gc, Some(&gbias), Some(&gaux), g)
                .unwrap();
            ctx.run(&[d], 1).unwrap();
            let got: Vec<f32> = ctx.read(&gc).unwrap();
            let what = format!("{m}×{n}×{k} ta={ta} tb={tb} {ep:?} {}", g.name());
            let err = rel_err(&gemm_block(&spec, &got), &gemm_block(&spec, &want), 1e-6);
            assert!(err <= TOL, "{what}: rel err {err}");
            match &first {
                None => first = Some((g.name(), bits(&got))),
                Some((name, b)) => assert!(*b == bits(&got), "{what}: bits differ from {name}"),
            }
        }
    }
}

#[test]
fn every_column_split_matches_cpu_and_repeats_its_bits() {
    let Some(ctx) = gpu() else { return };
    let base = ctx.rule_geometry().reductions;
    for &(rows, cols) in &[(1usize, 1usize), (17, 3), (257, 65), (4099, 5)] {
        let (spec, src, want) = column_sum_case(rows, cols);
        let gs = ctx.upload("src", &src).unwrap();
        let mut candidates = ReduceGeometry::candidates(base);
        candidates.push(ReduceGeometry::new(16, base.workgroup, base.subgroups));
        for g in candidates {
            let run = || {
                let go = ctx.filled("out", cols + 3, f32::NAN).unwrap();
                let d = ctx.column_sum_launches_with(&spec, &gs, &go, g).unwrap();
                let split = g.column_split != 0 && (g.column_split as usize) < rows;
                assert_eq!(d.len(), if split { 2 } else { 1 }, "{g:?} at {rows} rows");
                ctx.run(&d, 1).unwrap();
                ctx.read::<f32>(&go).unwrap()
            };
            let got = run();
            assert!(got[..3].iter().all(|v| v.is_nan()), "wrote before out_off");
            let err = rel_err(&got[3..], &want[3..], 1.0);
            assert!(err <= TOL, "{rows}×{cols} {}: rel err {err}", g.name());
            assert_eq!(bits(&got), bits(&run()), "{rows}×{cols} {}", g.name());
        }
    }
}

#[test]
fn every_pair_geometry_matches_cpu_with_the_same_bits() {
    let Some(ctx) = gpu() else { return };
    for &(k, width) in &[(1usize, 1usize), (3, 17), (17, 3), (65, 5)] {
        let u = values(k * width, 7 * k as u64);
        let v = values(k * width, 7 * k as u64 + 1);
        let mut pairs = vec![f32::NAN; k * k * width];
        ops::pair_expand(k, width, &u, &v, &mut pairs);
        let mut want_rows = vec![f32::NAN; k * width];
        let mut want_cols = vec![f32::NAN; k * width];
        ops::pair_reduce(true, k, width, &pairs, &mut want_rows);
        ops::pair_reduce(false, k, width, &pairs, &mut want_cols);
        let (gu, gv) = (ctx.upload("u", &u).unwrap(), ctx.upload("v", &v).unwrap());
        let mut first: Option<Vec<u32>> = None;
        for g in PairGeometry::candidates() {
            let mut pinned = ctx.rule_geometry();
            pinned.pairs = g;
            ctx.set_geometry(GeometryChoice::Pinned(pinned)).unwrap();
            let out = ctx.filled("pairs", k * k * width, f32::NAN).unwrap();
            let rows = ctx.filled("dU", k * width, f32::NAN).unwrap();
            let cols = ctx.filled("dV", k * width, f32::NAN).unwrap();
            let d = [
                ctx.pair_expand(k, width, &gu, &gv, &out).unwrap(),
                ctx.pair_reduce(PairAxis::Rows, k, width, &out, &rows)
                    .unwrap(),
                ctx.pair_reduce(PairAxis::Cols, k, width, &out, &cols)
                    .unwrap(),
            ];
            ctx.run(&d, 1).unwrap();
            let what = format!("K = {k}, width {width}, {}", g.name());
            let got: [Vec<f32>; 3] = [&out, &rows, &cols].map(|b| ctx.read(b).unwrap());
            for (name, got, want) in [
                ("pairs", &got[0], &pairs),
                ("row sums", &got[1], &want_rows),
                ("column sums", &got[2], &want_cols),
            ] {
                let err = rel_err(got, want, 1.0);
                assert!(err <= TOL, "{what}: {name} rel err {err}");
            }
            let all: Vec<u32> = got.iter().flat_map(|v| bits(v)).collect();
            match &first {
                None => first = Some(all),
                Some(b) => assert!(*b == all, "{what}: bits differ from the first geometry"),
            }
            assert!(
                ctx.geometry_summary()
                    .iter()
                    .any(|s| s.starts_with("pairs:")
                        && s.contains(&format!("{} (pinned)", g.name()))),
                "{:?}",
                ctx.geometry_summary()
            );
        }
    }
}
