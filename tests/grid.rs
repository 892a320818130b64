//! The two-dimensional workgroup grid: kernels launched over more workgroups than one
//! dispatch dimension holds fold them into (x, y), and the shader rebuilds the flat index.
//! A real adapter allows 65 535 a dimension, which would take huge buffers to pass; here the
//! same adapter is opened a second time with the limit lowered to `MAX_PER_DIM`, so small
//! launches fold, and every folded launch must give the very bits of the unfolded one.

mod common;

use common::{gpu, values};
use infobound::gpu::kernels::{state, MatrixBoundBuffers, PairAxis};
use infobound::gpu::{GeometryChoice, GpuContext, GpuError, PairGeometry};
use infobound::math::bounds::Bound;
use infobound::math::optim::AdamConfig;

const MAX_PER_DIM: u32 = 8;

/// The default context, and a second one on the same adapter whose device allows only
/// `MAX_PER_DIM` workgroups a dimension (wgpu refuses a dispatch past it).
fn contexts() -> Option<(GpuContext, GpuContext)> {
    let wide = gpu()?;
    let narrow = common::gpu_with_limits(|limits| {
        limits.max_compute_workgroups_per_dimension = MAX_PER_DIM;
    })?;
    assert_eq!(
        narrow.limits().max_compute_workgroups_per_dimension,
        MAX_PER_DIM
    );
    Some((wide, narrow))
}

/// Two Adam steps over `n` parameters: the parameters after them.
fn adam(ctx: &GpuContext, n: usize) -> Result<Vec<f32>, GpuError> {
    let config = AdamConfig::default().with_lr(1e-2);
    let p = ctx.upload("p", &values(n, 1))?;
    let g = ctx.upload("g", &values(n, 2))?;
    let m = ctx.zeros("m", n)?;
    let v = ctx.zeros("v", n)?;
    let st = ctx.upload("state", &state::initial(0))?;
    ctx.run(
        &[ctx.adam(&config, &p, &g, &m, &v, &st)?, ctx.tick(&st)?],
        2,
    )?;
    ctx.read(&p)
}

#[test]
fn adam_folds_its_grid() {
    let Some((wide, narrow)) = contexts() else {
        return;
    };
    // 9, 17 and 64 workgroups of 256: (8, 2), (8, 3) and (8, 8).
    for n in [8 * 256 + 1, 16 * 256 + 77, 64 * 256] {
        let want = adam(&wide, n).unwrap();
        assert_eq!(adam(&narrow, n).unwrap(), want, "n = {n}");
    }
    // 65 workgroups need a ninth row.
    assert!(matches!(
        adam(&narrow, 64 * 256 + 1),
        Err(GpuError::TooManyWorkgroups { .. })
    ));
}

/// pair_expand over k×k×w, then both pair_reduce sums of a k×k×w gradient.
fn pairs(ctx: &GpuContext, k: usize, w: usize) -> Result<Vec<Vec<f32>>, GpuError> {
    let u = ctx.upload("u", &values(k * w, 1))?;
    let v = ctx.upload("v", &values(k * w, 2))?;
    let out = ctx.filled("pairs", k * k * w, f32::NAN)?;
    ctx.run(&[ctx.pair_expand(k, w, &u, &v, &out)?], 1)?;
    let mut got = vec![ctx.read(&out)?];
    let grad = ctx.upload("grad", &values(k * k * w, 3))?;
    for axis in [PairAxis::Rows, PairAxis::Cols] {
        let sums = ctx.filled("sums", k * w, f32::NAN)?;
        ctx.run(&[ctx.pair_reduce(axis, k, w, &grad, &sums)?], 1)?;
        got.push(ctx.read(&sums)?);
    }
    Ok(got)
}

#[test]
fn pair_kernels_fold_their_grid() {
    let Some((wide, narrow)) = contexts() else {
        return;
    };
    // Workgroups of 64, one output an invocation (pinned: the software rule takes four):
    // expand 44 → (8, 6) and reduce 3; expand 62 → (8, 8) and reduce 9 → (8, 2).
    for ctx in [&wide, &narrow] {
        let mut g = ctx.rule_geometry();
        g.pairs = PairGeometry::new(64, 1);
        ctx.set_geometry(GeometryChoice::Pinned(g)).unwrap();
    }
    for (k, w) in [(20, 7), (7, 80)] {
        let want = pairs(&wide, k, w).unwrap();
        assert_eq!(pairs(&narrow, k, w).unwrap(), want, "k = {k}, w = {w}");
    }
    assert!(matches!(
        pairs(&narrow, 8, 65),
        Err(GpuError::TooManyWorkgroups { .. })
    ));
}

/// The value and score gradients of `bound` on k×k scores.
fn matrix(ctx: &GpuContext, bound: Bound, k: usize) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
    let s = ctx.upload("s", &values(k * k, 4))?;
    let ds = ctx.filled("ds", k * k, f32::NAN)?;
    let hist = ctx.filled("hist", 1, f32::NAN)?;
    let st = ctx.upload("state", &state::initial(0))?;
    let scratch = ctx.filled("scratch", GpuContext::matrix_bound_scratch_len(k), f32::NAN)?;
    let io = MatrixBoundBuffers {
        s: &s,
        baseline: None,
        ds: &ds,
        hist: &hist,
        state: &st,
        scratch: &scratch,
    };
    ctx.run(&ctx.matrix_bound(bound, k, &io)?, 1)?;
    Ok((ctx.read(&hist)?, ctx.read(&ds)?))
}

#[test]
fn matrix_bound_gradient_folds_its_grid() {
    let Some((wide, narrow)) = contexts() else {
        return;
    };
    // Workgroups of 256 over K²: 10 → (8, 2) and 64 → (8, 8).
    for k in [50, 128] {
        for bound in [Bound::InfoNce, Bound::Nwj, Bound::Dv, Bound::Js] {
            let want = matrix(&wide, bound, k).unwrap();
            assert_eq!(
                matrix(&narrow, bound, k).unwrap(),
                want,
                "{bound:?}, k = {k}"
            );
        }
    }
    assert!(matches!(
        matrix(&narrow, Bound::Nwj, 129),
        Err(GpuError::TooManyWorkgroups { .. })
    ));
}
