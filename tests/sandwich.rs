//! The sandwich bounds for a known Gaussian conditional (SPEC §8, `infobound::losses::sandwich`): the
//! fused device path (L = G·Hᵀ + column bias, never stored) against the CPU reference, which
//! forms each row of L in f64 straight from the densities; the CPU gradients against central
//! finite differences; and the bracket on the Gaussian channel.
//!
//! Tolerances: values within 1e-4 of max(|V|, 1); gradients norm-wise relative error ≤ 1e-3 of
//! max(max |∂V|, 1e-3) (the device's dG, dH are f32 sums of K terms whose chain to ∂μ, ∂σ
//! cancels: where the lower bound saturates at log K its gradients are ~1e-5 and the f32
//! residue ~1e-8); finite differences within 1e-3 of max(|∂V|, 0.05).

mod common;

use common::{gpu, values};
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi};
use infobound::losses::sandwich::{blocks, ParamGrads, Sandwich, SandwichReport};
use infobound::DeviceChoice;
use infobound::{Error, Matrix};

/// y, μ, σ (n × D each): μ and σ spread, y drawn near μ so that the diagonal of L stands out.
fn inputs(n: usize, d: usize, salt: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mu: Vec<f32> = values(n * d, salt).iter().map(|v| 1.5 * v).collect();
    let sigma: Vec<f32> = values(n * d, salt + 1)
        .iter()
        .map(|v| 0.6 + 0.4 * v)
        .collect();
    let y: Vec<f32> = values(n * d, salt + 2)
        .iter()
        .zip(mu.iter().zip(&sigma))
        .map(|(v, (m, s))| m + s * v)
        .collect();
    (y, mu, sigma)
}

fn run(
    cfg: &Sandwich,
    ctx: Option<&infobound::gpu::GpuContext>,
    (y, mu, sigma): (&[f32], &[f32], &[f32]),
    d: usize,
) -> Result<SandwichReport, Error> {
    let n = y.len() / d;
    cfg.run_on(
        ctx,
        Matrix::new(y, n, d)?,
        Matrix::new(mu, n, d)?,
        Matrix::new(sigma, n, d)?,
    )
}

/// Max |got − want| / max(max |want|, 1e-3).
fn rel(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(1e-3, |m, v| f64::max(m, v.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max)
        / scale
}

fn grads_err(a: &ParamGrads, b: &ParamGrads) -> f64 {
    rel(&a.mu, &b.mu)
        .max(rel(&a.sigma, &b.sigma))
        .max(rel(&a.y, &b.y))
}

#[test]
fn fused_matches_the_f64_reference_on_odd_shapes() {
    let Some(ctx) = gpu() else { return };
    let cfg = Sandwich::default().with_gradients(true);
    // Every K with every D: one block each, plus three blocks with a remainder (n = 40, K = 17).
    let mut cases: Vec<(usize, usize, Option<usize>)> = Vec::new();
    for k in [2, 3, 17, 65, 257] {
        for d in [1, 3, 20] {
            cases.push((k, d, None));
        }
    }
    cases.push((40, 3, Some(17)));
    cases.push((41, 2, Some(4)));
    for (n, d, block) in cases {
        let cfg = cfg.clone().with_block(block);
        let data = inputs(n, d, (n * 100 + d) as u64);
        let io = (&data.0[..], &data.1[..], &data.2[..]);
        let want = run(&cfg, None, io, d).unwrap();
        let got = run(&cfg, Some(&ctx), io, d).unwrap();
        let tol = |v: f64| 1e-4 * v.abs().max(1.0);
        let ctxt = format!("n = {n}, D = {d}, block {block:?}");
        assert!(
            (got.lower - want.lower).abs() <= tol(want.lower),
            "lower {ctxt}: {} vs {}",
            got.lower,
            want.lower
        );
        assert!(
            (got.upper - want.upper).abs() <= tol(want.upper),
            "upper {ctxt}: {} vs {}",
            got.upper,
            want.upper
        );
        assert!(
            (got.lautum - want.lautum).abs() <= tol(want.lautum),
            "lautum {ctxt}: {} vs {}",
            got.lautum,
            want.lautum
        );
        assert!(
            want.lower <= want.upper + 1e-12,
            "{ctxt}: lower above upper"
        );
        assert_eq!((got.k, got.n, got.blocks), (want.k, want.n, want.blocks));
        for (g, w, which) in [
            (&got.lower_grad, &want.lower_grad, "lower"),
            (&got.upper_grad, &want.upper_grad, "upper"),
        ] {
            let (g, w) = (g.as_ref().unwrap(), w.as_ref().unwrap());
            let e = grads_err(g, w);
            assert!(e <= 1e-3, "{which} gradients {ctxt}: {e:e}");
        }
    }
}

#[test]
fn reference_gradients_match_finite_differences() {
    let (n, d) = (7, 2);
    let (y, mu, sigma) = inputs(n, d, 9);
    // Two blocks (4 and 3), so the row weighting of the blocks is covered too.
    let cfg = Sandwich::default().with_gradients(true).with_block(Some(4));
    let base = run(&cfg, None, (&y, &mu, &sigma), d).unwrap();
    let h = 1e-3f32;
    for which in 0..3 {
        for x in 0..n * d {
            let eval = |delta: f32| {
                let mut v = [y.clone(), mu.clone(), sigma.clone()];
                v[which][x] += delta;
                let r = run(&cfg, None, (&v[0], &v[1], &v[2]), d).unwrap();
                ((r.lower, r.upper), v[which][x])
            };
            let ((lp, up), xp) = eval(h);
            let ((lm, um), xm) = eval(-h);
            let step = f64::from(xp) - f64::from(xm);
            let pick = |g: &ParamGrads| match which {
                0 => g.y[x],
                1 => g.mu[x],
                _ => g.sigma[x],
            };
            for (fd, an, name) in [
                (
                    (lp - lm) / step,
                    pick(base.lower_grad.as_ref().unwrap()),
                    "lower",
                ),
                (
                    (up - um) / step,
                    pick(base.upper_grad.as_ref().unwrap()),
                    "upper",
                ),
            ] {
                assert!(
                    (fd - an).abs() <= 1e-3 * an.abs().max(0.05),
                    "{name}, input {which}, element {x}: finite difference {fd} vs {an}"
                );
            }
        }
    }
}

/// On y = ρx + √(1−ρ²)ε, μ_i = ρx_i and σ = √(1−ρ²): lower ≤ I ≤ upper (within three
/// standard errors of the sample), and the gap narrows as K grows.
#[test]
fn bracket_contains_i_and_narrows_with_k() {
    let Some(ctx) = gpu() else { return };
    let n = 512;
    for (d, mi) in [(1usize, 0.5), (5, 2.5), (20, 10.0)] {
        let rho = rho_for_mi(d, mi);
        let truth = gaussian_mi(d, rho);
        let (x, y) = correlated_gaussian(d, rho, n, 11 + d as u64);
        let mu: Vec<f32> = x.iter().map(|v| (rho * f64::from(*v)) as f32).collect();
        let sigma = vec![(1.0 - rho * rho).sqrt() as f32; n * d];
        // The sample's own estimate of I, log p(y|x) − log p(y) with p(y) = N(0, I), gives the
        // Monte-Carlo error the bracket is allowed.
        let s2 = 1.0 - rho * rho;
        let terms: Vec<f64> = (0..n)
            .map(|i| {
                (0..d)
                    .map(|c| {
                        let (yv, m) = (f64::from(y[i * d + c]), f64::from(mu[i * d + c]));
                        -(yv - m).powi(2) / (2.0 * s2) - 0.5 * s2.ln() + yv * yv / 2.0
                    })
                    .sum()
            })
            .collect();
        let mean = terms.iter().sum::<f64>() / n as f64;
        let var = terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        let mut last_gap = f64::INFINITY;
        for k in [8, 64, 512] {
            let cfg = Sandwich::default().with_block(Some(k));
            let r = run(&cfg, Some(&ctx), (&y, &mu, &sigma), d).unwrap();
            eprintln!(
                "d = {d}, I = {truth:.3}, K = {k}: [{:.3}, {:.3}] (se {se:.3})",
                r.lower, r.upper
            );
            assert!(r.lower <= (k as f64).ln() + 1e-5, "lower above log K");
            assert!(
                r.lower <= truth + 3.0 * se,
                "d = {d}, K = {k}: lower {} > I {truth}",
                r.lower
            );
            assert!(
                r.upper >= truth - 3.0 * se,
                "d = {d}, K = {k}: upper {} < I {truth}",
                r.upper
            );
            let gap = r.upper - r.lower;
            assert!(
                gap < last_gap,
                "d = {d}: the gap grew from {last_gap} to {gap} at K = {k}"
            );
            last_gap = gap;
        }
    }
}

#[test]
fn blocks_cover_every_row_once() {
    assert_eq!(blocks(10, 5), vec![(0, 5), (5, 5)]);
    assert_eq!(blocks(11, 5), vec![(0, 5), (5, 6)]);
    assert_eq!(blocks(12, 5), vec![(0, 5), (5, 5), (10, 2)]);
    assert_eq!(blocks(3, 3), vec![(0, 3)]);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (y, mu, sigma) = inputs(5, 2, 1);
    let cpu = Sandwich::default().with_device(DeviceChoice::Cpu);
    let mut bad_sigma = sigma.clone();
    bad_sigma[3] = 0.0;
    let check = |r: Result<SandwichReport, Error>, needle: &str| match r {
        Err(e) if e.is_input() => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected an input error with {needle:?}, got {other:?}"),
    };
    check(
        run(&cpu, None, (&y, &mu, &bad_sigma), 2),
        "sigma must be positive",
    );
    check(
        run(&cpu.clone().with_block(Some(6)), None, (&y, &mu, &sigma), 2),
        "block size",
    );
    check(
        run(&cpu.clone().with_block(Some(1)), None, (&y, &mu, &sigma), 2),
        "block size",
    );
    let m = Matrix::new(&mu[..8], 4, 2).unwrap();
    check(
        cpu.run(
            Matrix::new(&y, 5, 2).unwrap(),
            m,
            Matrix::new(&sigma, 5, 2).unwrap(),
        ),
        "mu is 4 × 2",
    );
    let mut nan = y.clone();
    nan[0] = f32::NAN;
    match run(&cpu, None, (&nan, &mu, &sigma), 2) {
        Err(e) if e.is_input() => assert!(e.to_string().contains("row 0"), "{e}"),
        other => panic!("expected an input error, got {other:?}"),
    }
}

/// The leave-one-out statistic on a materialised K×K matrix (`matrix_bound`, the `grad`
/// kernel) against `matrix_eval` in f64: value within 1e-4, ∂S within 1e-4 norm-wise.
#[test]
fn leave_one_out_on_the_materialised_matrix() {
    use infobound::gpu::kernels::{state, MatrixBoundBuffers};
    use infobound::gpu::GpuContext;
    use infobound::math::bounds::{matrix_eval, Bound};
    let Some(ctx) = gpu() else { return };
    for k in [2usize, 3, 17, 65] {
        let s: Vec<f32> = values(k * k, k as u64)
            .iter()
            .enumerate()
            .map(|(e, v)| 3.0 * v + if e / k == e % k { 2.0 } else { 0.0 })
            .collect();
        let want = matrix_eval(Bound::LeaveOneOut, &s, k, None, None);
        let sb = ctx.upload("s", &s).unwrap();
        let ds = ctx.filled("ds", k * k, f32::NAN).unwrap();
        let hist = ctx.filled("hist", 1, f32::NAN).unwrap();
        let st = ctx.upload("state", &state::initial(0)).unwrap();
        let scratch = ctx
            .filled("scratch", GpuContext::matrix_bound_scratch_len(k), f32::NAN)
            .unwrap();
        let launches = ctx
            .matrix_bound(
                Bound::LeaveOneOut,
                k,
                &MatrixBoundBuffers {
                    s: &sb,
                    baseline: None,
                    ds: &ds,
                    hist: &hist,
                    state: &st,
                    scratch: &scratch,
                },
            )
            .unwrap();
        ctx.run(&launches, 1).unwrap();
        let v: Vec<f32> = ctx.read(&hist).unwrap();
        assert!(
            (f64::from(v[0]) - want.value).abs() <= 1e-4 * want.value.abs().max(1.0),
            "K = {k}"
        );
        let got: Vec<f32> = ctx.read(&ds).unwrap();
        let want_ds: Vec<f32> = want.ds.iter().map(|&x| x as f32).collect();
        assert!(common::rel_err(&got, &want_ds, 1e-6) <= 1e-4, "K = {k}: ∂S");
    }
}
