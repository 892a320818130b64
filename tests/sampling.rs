//! Batches drawn on the device against their CPU twins (`infobound::math::sampling`): data gathers
//! bit for bit, synthetic Gaussians within f32 transcendental precision; the gathers of one
//! step agree on its rows; the staircase's draws have the scheduled correlation and switch it
//! at stage boundaries. Outputs are poisoned with NaN so an unwritten element cannot pass.

mod common;

use common::gpu;
use infobound::experiments::tasks::{Staircase, Transform};
use infobound::gpu::kernels::state;
use infobound::gpu::{GpuBuffer, GpuContext, GpuError};
use infobound::math::rng::{derangement, Purpose};
use infobound::math::sampling as sample;

/// The odd batch sizes and dimensions every parity test walks.
const KS: [usize; 4] = [2, 3, 17, 65];
const DS: [usize; 3] = [1, 3, 20];

/// Largest |normal| error the device may make (as tests/rng_gpu.rs: WGSL bounds log / cos /
/// sin loosely); y = ρx + √(1−ρ²)ε adds at most √2 of it.
const NORMAL_TOL: f32 = 1e-3;
const Y_TOL: f64 = 1.5e-3;

/// Asserts a synthetic y matches its twin. The cube magnifies an error in y by 3y², so cubic
/// values are compared after taking the cube root back.
fn assert_y_close(got: &[f32], want: &[f32], transform: Transform, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (e, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = match transform {
            Transform::Cubic => (f64::from(g).cbrt(), f64::from(w).cbrt()),
            _ => (f64::from(g), f64::from(w)),
        };
        assert!(
            (g - w).abs() <= Y_TOL,
            "{what}: y[{e}] = {g} vs twin {w} ({transform:?})"
        );
    }
}

fn assert_x_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= NORMAL_TOL,
            "{what}: x[{e}] = {g} vs twin {w}"
        );
    }
}

fn state_at(ctx: &GpuContext, step: u32) -> GpuBuffer {
    ctx.upload("state", &state::initial(step)).unwrap()
}

#[test]
fn gather_batch_matches_its_twin_and_the_joint_rows_of_gather_shuffled() {
    let Some(ctx) = gpu() else { return };
    let (n, seed) = (131usize, 17u64);
    for (dx, dy) in [(1usize, 3usize), (3, 20), (20, 1)] {
        let x = common::values(n * dx, 1);
        let y = common::values(n * dy, 2);
        let (gx, gy) = (ctx.upload("x", &x).unwrap(), ctx.upload("y", &y).unwrap());
        for k in KS {
            for step in [0u32, 7] {
                let st = state_at(&ctx, step);
                let xb = ctx.filled("xb", k * dx, f32::NAN).unwrap();
                let yb = ctx.filled("yb", k * dy, f32::NAN).unwrap();
                let both = ctx.filled("both", 2 * k * (dx + dy), f32::NAN).unwrap();
                let split = ctx
                    .gather_batch(seed, n, k, (&gx, dx), (&gy, dy), &xb, &yb, &st)
                    .unwrap();
                let shuffled = ctx
                    .gather_shuffled(seed, n, k, (&gx, dx), (&gy, dy), &both, &st)
                    .unwrap();
                ctx.run(&[split, shuffled], 1).unwrap();
                let (gxb, gyb): (Vec<f32>, Vec<f32>) =
                    (ctx.read(&xb).unwrap(), ctx.read(&yb).unwrap());
                let what = format!("k {k}, dx {dx}, dy {dy}, step {step}");
                let (wxb, wyb) = sample::gather_batch(seed, step, k, (&x, dx), (&y, dy));
                assert_eq!(gxb, wxb, "{what}: x batch");
                assert_eq!(gyb, wyb, "{what}: y batch");
                let both: Vec<f32> = ctx.read(&both).unwrap();
                for i in 0..k {
                    let row = &both[i * (dx + dy)..(i + 1) * (dx + dy)];
                    assert_eq!(&gxb[i * dx..(i + 1) * dx], &row[..dx], "{what}: row {i}");
                    assert_eq!(&gyb[i * dy..(i + 1) * dy], &row[dx..], "{what}: row {i}");
                }
            }
        }
    }
}

#[test]
fn gaussian_batch_matches_its_twin() {
    let Some(ctx) = gpu() else { return };
    let rho = [0.3f32, 0.6, 0.95];
    let grho = ctx.upload("rho", &rho).unwrap();
    for transform in [Transform::Identity, Transform::Cubic] {
        for k in KS {
            for d in DS {
                // Step 1 reads the schedule; step 40 lies past it and clamps to its end.
                for step in [1u32, 40] {
                    let st = state_at(&ctx, step);
                    let xb = ctx.filled("xb", k * d, f32::NAN).unwrap();
                    let yb = ctx.filled("yb", k * d, f32::NAN).unwrap();
                    let disp = ctx
                        .sample_gaussian_batch(3, k, d, transform, &grho, &xb, &yb, &st)
                        .unwrap();
                    ctx.run(&[disp], 1).unwrap();
                    let what = format!("k {k}, d {d}, step {step}");
                    let (wx, wy) = sample::sample_gaussian_batch(3, step, k, d, transform, &rho);
                    assert_x_close(&ctx.read(&xb).unwrap(), &wx, &what);
                    assert_y_close(&ctx.read(&yb).unwrap(), &wy, transform, &what);
                }
            }
        }
    }
}

#[test]
fn gaussian_shuffled_matches_its_twin_and_borrows_the_joint_rows() {
    let Some(ctx) = gpu() else { return };
    let rho = [0.7f32];
    let grho = ctx.upload("rho", &rho).unwrap();
    let step = 5u32;
    let st = state_at(&ctx, step);
    for transform in [Transform::Identity, Transform::Cubic] {
        for k in KS {
            for d in DS {
                let out = ctx.filled("out", 4 * k * d, f32::NAN).unwrap();
                let disp = ctx
                    .sample_gaussian_shuffled(9, k, d, transform, &grho, &out, &st)
                    .unwrap();
                ctx.run(&[disp], 1).unwrap();
                let got: Vec<f32> = ctx.read(&out).unwrap();
                let want = sample::sample_gaussian_shuffled(9, step, k, d, transform, &rho);
                let what = format!("k {k}, d {d}, {transform:?}");
                for r in 0..2 * k {
                    let (g, w) = (
                        &got[r * 2 * d..(r + 1) * 2 * d],
                        &want[r * 2 * d..][..2 * d],
                    );
                    assert_x_close(&g[..d], &w[..d], &format!("{what}, row {r}"));
                    assert_y_close(&g[d..], &w[d..], transform, &format!("{what}, row {r}"));
                }
                // Within the device output, a product row repeats its joint rows bit for bit:
                // x from row i, y from row π(i), π the derangement gather_shuffled uses.
                for i in 0..k {
                    let j = derangement(9, Purpose::Negatives, step, k as u32, i as u32) as usize;
                    let neg = &got[(k + i) * 2 * d..(k + i + 1) * 2 * d];
                    assert_eq!(
                        &neg[..d],
                        &got[i * 2 * d..i * 2 * d + d],
                        "{what}: x of {i}"
                    );
                    assert_eq!(
                        &neg[d..],
                        &got[j * 2 * d + d..(j + 1) * 2 * d],
                        "{what}: y of {i}"
                    );
                }
            }
        }
    }
}

/// Pearson correlation of coordinate c between two K × d matrices.
fn correlation(x: &[f32], y: &[f32], d: usize, c: usize, map: impl Fn(f64) -> f64) -> f64 {
    let xs: Vec<f64> = x.iter().skip(c).step_by(d).map(|&v| f64::from(v)).collect();
    let ys: Vec<f64> = y
        .iter()
        .skip(c)
        .step_by(d)
        .map(|&v| map(f64::from(v)))
        .collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn device_draws_have_the_scheduled_correlation_per_coordinate() {
    let Some(ctx) = gpu() else { return };
    let (k, d) = (4096usize, 20usize);
    let stairs = Staircase::default();
    let grho = ctx.upload("rho", &stairs.rho_schedule()).unwrap();
    let xb = ctx.filled("xb", k * d, f32::NAN).unwrap();
    let yb = ctx.filled("yb", k * d, f32::NAN).unwrap();
    for (transform, step) in [(Transform::Identity, 4_000u32), (Transform::Cubic, 16_000)] {
        let st = state_at(&ctx, step);
        let disp = ctx
            .sample_gaussian_batch(21, k, d, transform, &grho, &xb, &yb, &st)
            .unwrap();
        ctx.run(&[disp], 1).unwrap();
        let (x, y): (Vec<f32>, Vec<f32>) = (ctx.read(&xb).unwrap(), ctx.read(&yb).unwrap());
        let rho = stairs.rho_at(step);
        // The sample correlation's standard error is (1 − ρ²)/√K ≤ 0.01 here; allow 4 of them.
        let tol = 4.0 * (1.0 - rho * rho) / (k as f64).sqrt();
        for c in 0..d {
            // The cube root undoes the cubic transform (correlation is not invariant to it).
            let r = match transform {
                Transform::Cubic => correlation(&x, &y, d, c, f64::cbrt),
                _ => correlation(&x, &y, d, c, |v| v),
            };
            assert!(
                (r - rho).abs() < tol,
                "{transform:?}, coordinate {c}: correlation {r}, ρ {rho}"
            );
        }
        // x is standard normal.
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n - mean * mean;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }
}

#[test]
fn the_staircase_switches_rho_at_stage_boundaries_on_the_device() {
    let Some(ctx) = gpu() else { return };
    let (k, seed) = (1024usize, 4u64);
    let stairs = Staircase::default()
        .with_mis(&[2.0, 4.0, 6.0])
        .with_steps_per_stage(3);
    let d = stairs.dim;
    let grho = ctx.upload("rho", &stairs.rho_schedule()).unwrap();
    let xb = ctx.filled("xb", k * d, f32::NAN).unwrap();
    let yb = ctx.filled("yb", k * d, f32::NAN).unwrap();
    // The step advances with the trainer's own counter kernel, as in a training run.
    let st = state_at(&ctx, 0);
    let draw = ctx
        .sample_gaussian_batch(seed, k, d, Transform::Identity, &grho, &xb, &yb, &st)
        .unwrap();
    let tick = ctx.tick(&st).unwrap();
    for step in 0..=10u32 {
        ctx.run(std::slice::from_ref(&draw), 1).unwrap();
        let (x, y): (Vec<f32>, Vec<f32>) = (ctx.read(&xb).unwrap(), ctx.read(&yb).unwrap());
        // Exactly this step's ρ (the twin with a one-entry schedule) ...
        let rho = stairs.rho_at(step);
        let (wx, wy) = stairs.sample(seed, step, k);
        assert_x_close(&x, &wx, &format!("step {step}"));
        assert_y_close(&y, &wy, Transform::Identity, &format!("step {step}"));
        // ... and visibly so: the least-squares slope of y on x, pooled over the batch, has a
        // standard error of √(1−ρ²)/√(K·d) < 0.01, a tenth of the gap between stages.
        let sxy: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        let sxx: f64 = x.iter().map(|&a| f64::from(a).powi(2)).sum();
        let slope = sxy / sxx;
        assert!(
            (slope - rho).abs() < 0.03,
            "step {step}: slope {slope}, ρ {rho}"
        );
        let stage = stairs.stage_of(step);
        for other in (0..stairs.mis.len()).filter(|&s| s != stage) {
            let rho_other = stairs.rho_at(other as u32 * stairs.steps_per_stage);
            assert!(
                (slope - rho_other).abs() > 0.06,
                "step {step} looks like stage {other}"
            );
        }
        ctx.run(std::slice::from_ref(&tick), 1).unwrap();
    }
}

#[test]
fn wrappers_refuse_bad_operands() {
    let Some(ctx) = gpu() else { return };
    let x = ctx.zeros("x", 10 * 2).unwrap();
    let y = ctx.zeros("y", 10 * 3).unwrap();
    let xb = ctx.zeros("xb", 4 * 2).unwrap();
    let yb = ctx.zeros("yb", 4 * 3).unwrap();
    let st = state_at(&ctx, 0);
    let short_state = ctx.zeros("short state", state::LEN - 1).unwrap();
    let bad = |r: Result<infobound::gpu::Dispatch, GpuError>, what: &str| match r {
        Err(e) if e.is_invalid_argument() => eprintln!("{what}: {e}"),
        Err(e) => panic!("{what}: unexpected error {e}"),
        Ok(_) => panic!("{what}: accepted"),
    };
    assert!(ctx
        .gather_batch(0, 10, 4, (&x, 2), (&y, 3), &xb, &yb, &st)
        .is_ok());
    bad(
        ctx.gather_batch(0, 10, 0, (&x, 2), (&y, 3), &xb, &yb, &st),
        "empty batch",
    );
    bad(
        ctx.gather_batch(0, 3, 4, (&x, 2), (&y, 3), &xb, &yb, &st),
        "batch above rows",
    );
    bad(
        ctx.gather_batch(0, 11, 4, (&x, 2), (&y, 3), &xb, &yb, &st),
        "x too short",
    );
    bad(
        ctx.gather_batch(0, 10, 5, (&x, 2), (&y, 3), &xb, &yb, &st),
        "x batch too short",
    );
    bad(
        ctx.gather_batch(0, 10, 4, (&x, 0), (&y, 3), &xb, &yb, &st),
        "no x columns",
    );
    bad(
        ctx.gather_batch(0, 10, 4, (&x, 2), (&y, 3), &yb, &yb, &st),
        "one buffer for both halves",
    );
    bad(
        ctx.gather_batch(0, 10, 4, (&x, 2), (&y, 3), &xb, &yb, &short_state),
        "short state",
    );

    let rho = ctx.upload("rho", &[0.5f32]).unwrap();
    let empty = ctx.zeros("empty", 0).unwrap();
    let (a, b) = (ctx.zeros("a", 12).unwrap(), ctx.zeros("b", 12).unwrap());
    let id = Transform::Identity;
    assert!(ctx
        .sample_gaussian_batch(0, 4, 3, id, &rho, &a, &b, &st)
        .is_ok());
    bad(
        ctx.sample_gaussian_batch(0, 4, 3, id, &empty, &a, &b, &st),
        "empty schedule",
    );
    bad(
        ctx.sample_gaussian_batch(0, 4, 0, id, &rho, &a, &b, &st),
        "d = 0",
    );
    bad(
        ctx.sample_gaussian_batch(0, 5, 3, id, &rho, &a, &b, &st),
        "outputs too short",
    );
    bad(
        ctx.sample_gaussian_batch(0, 4, 3, id, &rho, &a, &a, &st),
        "one buffer for both halves",
    );
    bad(
        ctx.sample_gaussian_batch(0, 1 << 16, 1 << 16, id, &rho, &a, &b, &st),
        "above 2^31 elements",
    );
    let out = ctx.zeros("out", 4 * 3 * 2).unwrap();
    assert!(ctx
        .sample_gaussian_shuffled(0, 3, 2, id, &rho, &out, &st)
        .is_ok());
    bad(
        ctx.sample_gaussian_shuffled(0, 1, 2, id, &rho, &out, &st),
        "a batch of one has no derangement",
    );
    bad(
        ctx.sample_gaussian_shuffled(0, 4, 2, id, &rho, &out, &st),
        "output too short",
    );
}
