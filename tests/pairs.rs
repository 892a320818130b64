//! The split first layer of the all-pairs concat critic against its CPU twin.

mod common;

use common::{gpu, rel_err, values};
use infobound::cpu::ops;
use infobound::gpu::kernels::PairAxis;

#[test]
fn pair_expand_and_reduce_match_cpu() {
    let Some(ctx) = gpu() else { return };
    for &(k, w) in &[(1usize, 1usize), (2, 3), (17, 5), (65, 17), (130, 9)] {
        let u = values(k * w, 1);
        let v = values(k * w, 2);
        let mut want = vec![f32::NAN; k * k * w];
        ops::pair_expand(k, w, &u, &v, &mut want);
        let (gu, gv) = (ctx.upload("u", &u).unwrap(), ctx.upload("v", &v).unwrap());
        let out = ctx.filled("pairs", k * k * w, f32::NAN).unwrap();
        ctx.run(&[ctx.pair_expand(k, w, &gu, &gv, &out).unwrap()], 1)
            .unwrap();
        let got: Vec<f32> = ctx.read(&out).unwrap();
        assert_eq!(
            got, want,
            "expand k={k} w={w}: one f32 add each, so bit-identical"
        );

        let grad = values(k * k * w, 3);
        let gg = ctx.upload("grad", &grad).unwrap();
        for (axis, rows) in [(PairAxis::Rows, true), (PairAxis::Cols, false)] {
            let mut want = vec![f32::NAN; k * w];
            ops::pair_reduce(rows, k, w, &grad, &mut want);
            let out = ctx.filled("sums", k * w, f32::NAN).unwrap();
            ctx.run(&[ctx.pair_reduce(axis, k, w, &gg, &out).unwrap()], 1)
                .unwrap();
            let got: Vec<f32> = ctx.read(&out).unwrap();
            let err = rel_err(&got, &want, 1e-6);
            assert!(err <= 1e-4, "reduce {axis:?} k={k} w={w}: rel err {err}");
        }
    }
}

#[test]
fn pair_kernels_reject_short_buffers() {
    let Some(ctx) = gpu() else { return };
    let small = ctx.zeros("small", 5).unwrap();
    let out = ctx.zeros("out", 100).unwrap();
    assert!(ctx.pair_expand(3, 2, &small, &small, &out).is_err());
    assert!(ctx.pair_reduce(PairAxis::Rows, 3, 2, &small, &out).is_err());
}
