//! The contrastive losses (`infobound::losses::contrastive`) on the device against the f64 reference
//! (`cpu::contrastive::reference`, which materialises S), the reference against central
//! finite differences, the symmetric form against the two one-directional passes, InfoNCE
//! against the InfoNCE bound (L = ln K − I_NCE), the caller's own wgpu buffers, the errors,
//! and InfoNCE at K = 20 000, where S would not fit one binding, against a reference that
//! streams S.
//! Tolerance: loss within 1e-4 relative (of max(|L|, 1)); dG, dH norm-wise relative ≤ 1e-4.

mod common;

use common::{gpu, rel_err, values};
use infobound::gpu::GpuBuffer;
use infobound::losses::contrastive::reference::{reference, reference_f64};
use infobound::losses::contrastive::ContrastiveLoss;
use infobound::losses::contrastive::{ContrastiveConfig, ContrastiveError, ContrastiveForm};
use infobound::math::bounds::{log_sum_exp, matrix_eval, Bound};

const TOL: f64 = 1e-4;

const FORMS: [ContrastiveForm; 2] = [ContrastiveForm::InfoNce, ContrastiveForm::Symmetric];

/// G and H (K×e) with a raised diagonal (H_j leans towards G_j), scores of spread ~1 at T = 1.
fn embeddings(k: usize, e: usize, salt: u64) -> (Vec<f32>, Vec<f32>) {
    let c = (3.0 / e as f32).sqrt();
    let g: Vec<f32> = values(k * e, salt).iter().map(|v| v * c).collect();
    let h: Vec<f32> = values(k * e, salt + 1)
        .iter()
        .zip(&g)
        .map(|(v, gv)| v * c + 0.5 * gv)
        .collect();
    (g, h)
}

fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn loss_err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

#[test]
fn device_matches_the_f64_reference() {
    let Some(ctx) = gpu() else { return };
    let mut worst: f64 = 0.0;
    for k in [1usize, 2, 3, 63, 65, 257] {
        for e in [1usize, 7, 33] {
            for (f, form) in FORMS.into_iter().enumerate() {
                // Temperatures below and above 1, so the 1/T factors are exercised.
                let t = [0.5f32, 2.0][(k + e + f) % 2];
                let cfg = ContrastiveConfig::default()
                    .with_form(form)
                    .with_temperature(t);
                let (g, h) = embeddings(k, e, (k * 100 + e) as u64);
                let want = reference(&cfg, &g, &h, k, e).unwrap();
                let got = ContrastiveLoss::new(&ctx, cfg, k, e)
                    .unwrap()
                    .compute(&g, &h)
                    .unwrap();
                let what = format!("{form:?} K={k} e={e} T={t}");
                let lerr = loss_err(got.loss, want.loss);
                let gerr = rel_err(&got.dg, &narrow(&want.dg), 1e-12);
                let herr = rel_err(&got.dh, &narrow(&want.dh), 1e-12);
                if k == 1 {
                    // One candidate: the loss and the gradients are exactly 0.
                    assert!(got.loss == 0.0 && want.loss.abs() < 1e-12, "{what}");
                    assert!(got.dg.iter().chain(&got.dh).all(|&v| v == 0.0), "{what}");
                    continue;
                }
                assert!(lerr <= TOL, "{what}: loss {} vs {}", got.loss, want.loss);
                assert!(gerr <= TOL && herr <= TOL, "{what}: dG {gerr}, dH {herr}");
                worst = worst.max(lerr).max(gerr).max(herr);
            }
        }
    }
    eprintln!("worst relative error {worst:.1e}");
}

/// Central differences of the f64 reference, at every coordinate of G and H.
#[test]
fn reference_gradients_match_finite_differences() {
    for form in FORMS {
        for (k, e) in [(2usize, 1usize), (3, 7), (5, 3)] {
            let cfg = ContrastiveConfig::default()
                .with_form(form)
                .with_temperature(0.7);
            let (g, h) = embeddings(k, e, 7 + k as u64);
            let g: Vec<f64> = g.iter().map(|&v| f64::from(v)).collect();
            let h: Vec<f64> = h.iter().map(|&v| f64::from(v)).collect();
            let r = reference_f64(&cfg, &g, &h, k, e);
            let eps = 1e-5;
            let mut worst: f64 = 0.0;
            for which in 0..2 {
                let analytic = if which == 0 { &r.dg } else { &r.dh };
                for c in 0..k * e {
                    let at = |delta: f64| {
                        let (mut g2, mut h2) = (g.clone(), h.clone());
                        if which == 0 {
                            g2[c] += delta;
                        } else {
                            h2[c] += delta;
                        }
                        reference_f64(&cfg, &g2, &h2, k, e).loss
                    };
                    let fd = (at(eps) - at(-eps)) / (2.0 * eps);
                    worst = worst.max((fd - analytic[c]).abs());
                }
            }
            assert!(
                worst <= 1e-7,
                "{form:?} K={k} e={e}: |fd − analytic| {worst:.1e}"
            );
        }
    }
}

/// The symmetric loss is the mean of InfoNCE on (G, H) and on (H, G), gradients included; and
/// InfoNCE on (G, H) is ln K − the InfoNCE bound of S = G·Hᵀ/T (`bounds::matrix_eval`).
/// Adaptive clipping of the device's gradients as a regulariser's: a main-loss norm below the
/// MI gradient's joint norm rescales both gradients to exactly that norm (same direction); a
/// larger one leaves them untouched; a negative one is refused.
#[test]
fn adaptive_clipping_rescales_both_gradients_to_the_main_norm() {
    let Some(ctx) = gpu() else { return };
    let (k, e) = (17, 7);
    let (g, h) = embeddings(k, e, 5);
    let cfg = ContrastiveConfig::default().with_form(ContrastiveForm::Symmetric);
    let out = ContrastiveLoss::new(&ctx, cfg, k, e)
        .unwrap()
        .compute(&g, &h)
        .unwrap();
    let norm = |o: &infobound::losses::contrastive::ContrastiveOutput| {
        infobound::math::clip::l2_norm(&o.dg).hypot(infobound::math::clip::l2_norm(&o.dh))
    };
    let joint = norm(&out);
    assert!(joint > 0.0);
    let mut clipped = out.clone();
    let factor = clipped.adaptive_clip(joint / 4.0).unwrap();
    assert!((factor - 0.25).abs() < 1e-12, "{factor}");
    assert!((norm(&clipped) / (joint / 4.0) - 1.0).abs() < 1e-6);
    for (c, o) in clipped
        .dg
        .iter()
        .chain(&clipped.dh)
        .zip(out.dg.iter().chain(&out.dh))
    {
        assert!(
            (f64::from(*c) - 0.25 * f64::from(*o)).abs() <= 1e-7 * f64::from(o.abs()).max(1e-30)
        );
    }
    let mut untouched = out.clone();
    assert_eq!(untouched.adaptive_clip(joint * 2.0).unwrap(), 1.0);
    assert_eq!(untouched, out);
    assert!(out.clone().adaptive_clip(-1.0).is_err());
}

#[test]
fn symmetric_is_the_mean_of_both_directions() {
    let Some(ctx) = gpu() else { return };
    let (k, e, t) = (65usize, 7usize, 0.8f32);
    let (g, h) = embeddings(k, e, 99);
    // Rows of H of growing norm, so that the row and column softmaxes differ.
    let h: Vec<f32> = h
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + 2.0 * (i / e) as f32 / k as f32))
        .collect();
    let run = |form, a: &[f32], b: &[f32]| {
        let cfg = ContrastiveConfig::default()
            .with_form(form)
            .with_temperature(t);
        ContrastiveLoss::new(&ctx, cfg, k, e)
            .unwrap()
            .compute(a, b)
            .unwrap()
    };
    let fwd = run(ContrastiveForm::InfoNce, &g, &h);
    let rev = run(ContrastiveForm::InfoNce, &h, &g);
    let sym = run(ContrastiveForm::Symmetric, &g, &h);
    let mean = |a: &[f32], b: &[f32]| -> Vec<f32> {
        a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect()
    };
    assert!(loss_err(sym.loss, 0.5 * (fwd.loss + rev.loss)) <= 1e-5);
    assert!(rel_err(&sym.dg, &mean(&fwd.dg, &rev.dh), 1e-12) <= 1e-5);
    assert!(rel_err(&sym.dh, &mean(&fwd.dh, &rev.dg), 1e-12) <= 1e-5);
    assert!(
        (sym.loss - fwd.loss).abs() > 1e-3,
        "the directions differ here: {} vs {}",
        fwd.loss,
        rev.loss
    );

    let s: Vec<f32> = (0..k * k)
        .map(|ij| {
            let (i, j) = (ij / k, ij % k);
            (0..e)
                .map(|c| f64::from(g[i * e + c]) * f64::from(h[j * e + c]))
                .sum::<f64>() as f32
                / t
        })
        .collect();
    let bound = matrix_eval(Bound::InfoNce, &s, k, None, None).value;
    let want = (k as f64).ln() - bound;
    assert!(loss_err(fwd.loss, want) <= TOL, "{} vs {want}", fwd.loss);
}

/// G, H, dG and dH as the caller's own wgpu buffers on the device infobound shares: the
/// gradients land in them, only the loss is read back, and both agree with the host path.
#[test]
fn caller_buffers_on_a_shared_device() {
    let Some(ctx) = gpu() else { return };
    let (k, e) = (63usize, 33usize);
    let (g, h) = embeddings(k, e, 5);
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    let make = |data: Option<&[f32]>| {
        let b = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("caller"),
            size: (k * e * 4) as u64,
            usage,
            mapped_at_creation: false,
        });
        if let Some(d) = data {
            ctx.queue().write_buffer(&b, 0, bytemuck::cast_slice(d));
        }
        b
    };
    let (gb, hb, dgb, dhb) = (make(Some(&g)), make(Some(&h)), make(None), make(None));
    for form in FORMS {
        let cfg = ContrastiveConfig::default()
            .with_form(form)
            .with_temperature(0.3);
        let loss = ContrastiveLoss::new(&ctx, cfg, k, e).unwrap();
        let got = loss.compute_buffers(&gb, &hb, &dgb, &dhb).unwrap();
        let read = |b: &wgpu::Buffer| -> Vec<f32> {
            ctx.read(&GpuBuffer::from_raw(b.clone(), k * e).unwrap())
                .unwrap()
        };
        let want = reference(&cfg, &g, &h, k, e).unwrap();
        assert!(
            loss_err(got, want.loss) <= TOL,
            "{form:?}: {got} vs {}",
            want.loss
        );
        assert!(rel_err(&read(&dgb), &narrow(&want.dg), 1e-12) <= TOL);
        assert!(rel_err(&read(&dhb), &narrow(&want.dh), 1e-12) <= TOL);
        // The loss stays on the device too.
        let on_device: Vec<f32> = ctx.read(loss.loss_buffer()).unwrap();
        assert_eq!(f64::from(on_device[0]), got);
    }
}

#[test]
fn bad_input_gets_a_typed_error() {
    let Some(ctx) = gpu() else { return };
    let cfg = ContrastiveConfig::default();
    for t in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let e = ContrastiveLoss::new(&ctx, cfg.with_temperature(t), 4, 2).err();
        assert!(
            matches!(e, Some(ContrastiveError::Temperature { .. })),
            "T = {t}: {e:?}"
        );
        let r = reference(&cfg.with_temperature(t), &[0.0; 8], &[0.0; 8], 4, 2);
        assert!(matches!(r, Err(ContrastiveError::Temperature { .. })));
    }
    for (k, e) in [(0usize, 3usize), (3, 0)] {
        let r = ContrastiveLoss::new(&ctx, cfg, k, e).err();
        assert!(
            matches!(r, Some(ContrastiveError::ZeroSize { .. })),
            "{r:?}"
        );
    }
    let loss = ContrastiveLoss::new(&ctx, cfg, 4, 2).unwrap();
    let msg = loss.compute(&[0.0; 7], &[0.0; 8]).unwrap_err().to_string();
    assert!(msg.contains("G holds 7") && msg.contains("4·2"), "{msg}");
    let mut g = vec![0.5f32; 8];
    g[5] = f32::NAN;
    match loss.compute(&g, &[0.5; 8]) {
        Err(ContrastiveError::NonFinite {
            what: "G",
            index: 5,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let mut h = vec![0.5f32; 8];
    h[2] = f32::INFINITY;
    assert!(matches!(
        loss.compute(&[0.5; 8], &h),
        Err(ContrastiveError::NonFinite {
            what: "H",
            index: 2,
            ..
        })
    ));

    // Device buffers are not read back, so a non-finite value shows in the loss.
    let gb = ctx.upload("G", &g).unwrap();
    let hb = ctx.upload("H", &[0.5f32; 8]).unwrap();
    let (dg, dh) = (ctx.zeros("dG", 8).unwrap(), ctx.zeros("dH", 8).unwrap());
    let r = loss.compute_buffers(gb.raw(), hb.raw(), dg.raw(), dh.raw());
    assert!(
        matches!(r, Err(ContrastiveError::NonFiniteLoss { .. })),
        "{r:?}"
    );
    // Scores past f32 are caught the same way.
    let big = ctx.upload("G", &[1e30f32; 8]).unwrap();
    let big_h = ctx.upload("H", &[1e30f32; 8]).unwrap();
    let r = loss.compute_buffers(big.raw(), big_h.raw(), dg.raw(), dh.raw());
    assert!(
        matches!(r, Err(ContrastiveError::NonFiniteLoss { .. })),
        "{r:?}"
    );
    // Too short, or a gradient written over an input.
    let short = ctx.zeros("short", 7).unwrap();
    let r = loss.compute_buffers(short.raw(), hb.raw(), dg.raw(), dh.raw());
    assert!(r.is_err(), "a 7-element G for K·e = 8");
    for r in [
        loss.dispatches(&gb, &hb, &gb, &dh).err(),
        loss.dispatches(&gb, &hb, &dg, &hb).err(),
    ] {
        assert!(matches!(r, Some(ContrastiveError::Aliased { .. })), "{r:?}");
    }
    let as_crate: infobound::Error = ContrastiveError::Temperature { value: 0.0 }.into();
    assert!(as_crate.to_string().contains("temperature"));
}

/// K = 20 000, where S (1.6 GB) would not fit one binding: InfoNCE at T = 0.5 against an f64
/// reference that streams S; dG and dH on a sample of rows. (The symmetric form adds the same
/// pass on (H, G/T), covered above at small K; at this K it would double a test that already
/// takes the longest of this file on a CPU rasteriser.)
#[test]
fn contrastive_runs_where_the_score_matrix_would_not_fit() {
    let Some(ctx) = gpu() else { return };
    let (k, e, t) = (20_000usize, 2usize, 0.5f32);
    assert!(
        (k * k * 4) as u64 > 128 << 20,
        "S would not fit one binding"
    );
    let (g, h) = embeddings(k, e, 2024);
    let cfg = ContrastiveConfig::default().with_temperature(t);
    let got = ContrastiveLoss::new(&ctx, cfg, k, e)
        .unwrap()
        .compute(&g, &h)
        .unwrap();
    let (loss, rows, dg, dh) = streamed_info_nce(k, e, t, &g, &h);
    let pick = |v: &[f32]| -> Vec<f32> {
        rows.iter()
            .flat_map(|&r| v[r * e..(r + 1) * e].to_vec())
            .collect()
    };
    let lerr = loss_err(got.loss, loss);
    let gerr = rel_err(&pick(&got.dg), &dg, 1e-12);
    let herr = rel_err(&pick(&got.dh), &dh, 1e-12);
    eprintln!("K={k}: loss {loss:.5}, errors loss {lerr:.1e}, dG {gerr:.1e}, dH {herr:.1e}");
    assert!(lerr <= TOL, "loss {} vs {loss}", got.loss);
    assert!(gerr <= TOL && herr <= TOL, "dG {gerr}, dH {herr}");
    assert!(got.dg.iter().chain(&got.dh).all(|v| v.is_finite()));
}

/// InfoNCE in f64 without storing S: every row's log-sum-exp, then dG and dH of a sample of
/// rows. Returns (loss, rows, dG rows, dH rows).
fn streamed_info_nce(
    k: usize,
    e: usize,
    t: f32,
    g: &[f32],
    h: &[f32],
) -> (f64, Vec<usize>, Vec<f32>, Vec<f32>) {
    let t = f64::from(t);
    let s = |i: usize, j: usize| {
        (0..e)
            .map(|c| f64::from(g[i * e + c]) * f64::from(h[j * e + c]))
            .sum::<f64>()
            / t
    };
    let row: Vec<f64> = (0..k)
        .map(|i| log_sum_exp((0..k).map(move |j| s(i, j))))
        .collect();
    let kf = k as f64;
    let loss = (0..k).map(|i| row[i] - s(i, i)).sum::<f64>() / kf;
    // ∂L/∂S_ij = (P_ij − δ_ij) / K
    let ds = |i: usize, j: usize| {
        let d = if i == j { 1.0 } else { 0.0 };
        ((s(i, j) - row[i]).exp() - d) / kf
    };
    let rows: Vec<usize> = (0..k).step_by(997).chain([k - 1]).collect();
    let (mut dg, mut dh) = (Vec::new(), Vec::new());
    for &r in &rows {
        let (mut a, mut b) = (vec![0.0f64; e], vec![0.0f64; e]);
        for o in 0..k {
            let (wg, wh) = (ds(r, o) / t, ds(o, r) / t);
            for c in 0..e {
                a[c] += wg * f64::from(h[o * e + c]);
                b[c] += wh * f64::from(g[o * e + c]);
            }
        }
        dg.extend(a.iter().map(|&x| x as f32));
        dh.extend(b.iter().map(|&x| x as f32));
    }
    (loss, rows, dg, dh)
}
