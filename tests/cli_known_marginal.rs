//! `infobound estimate --bound ba|ms --log-marginal FILE` end to end on the CPU reference: a
//! known marginal other than N(0, I) read from CSV or .npy, and exit status 2 with one line on
//! stderr for bad input (wrong shape, NaN, a bound that knows no density).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::cli::{number, scratch, write_csv, write_npy, BIN};
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi};

/// y of the Gaussian channel scaled by `scale` (d = 1, I = 1 nat) and its exact log p(y) =
/// log N(y; 0, scale²), in files under `d`: (x.csv, y.csv, lp.csv, lp.npy, truth); and the
/// unscaled y, whose marginal is N(0, 1), in y1.csv.
fn scaled_files(d: &Path, n: usize) -> (PathBuf, PathBuf, PathBuf, PathBuf, f64) {
    let scale = 3.0f64;
    let rho = rho_for_mi(1, 1.0);
    let (x, y) = correlated_gaussian(1, rho, n, 21);
    write_csv(&d.join("y1.csv"), &y, 1);
    let y: Vec<f32> = y.iter().map(|&v| (f64::from(v) * scale) as f32).collect();
    let lp: Vec<f32> = y
        .iter()
        .map(|&v| {
            let z = f64::from(v) / scale;
            (-0.5 * z * z - scale.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()) as f32
        })
        .collect();
    let paths = ["x.csv", "y.csv", "lp.csv", "lp.npy"].map(|f| d.join(f));
    write_csv(&paths[0], &x, 1);
    write_csv(&paths[1], &y, 1);
    write_csv(&paths[2], &lp, 1);
    write_npy(&paths[3], &lp, None);
    let [xp, yp, lc, ln] = paths;
    (xp, yp, lc, ln, gaussian_mi(1, rho))
}

fn estimate(x: &Path, y: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["estimate", "--x", x.to_str().unwrap()])
        .args(["--y", y.to_str().unwrap()])
        .args([
            "--device",
            "cpu-reference",
            "--batch",
            "64",
            "--hidden",
            "16",
        ])
        .args(["--steps", "2000", "--lr", "1e-2", "--json"])
        .args(extra)
        .output()
        .unwrap()
}

/// With the per-row log p(y) BA reads what it reads on the unscaled y with N(0, 1) (the same
/// I = 1 nat, the same split and seed) within 0.05, and I within 0.25, from 2 000 rows, where
/// the standard normal it would otherwise assume puts it more than a nat off; the .npy and the
/// CSV of the same values give the same bits; V_MS takes the file too.
#[test]
fn a_known_marginal_from_a_file_reads_i() {
    let d = scratch("cli-marginal", "reads");
    let (xp, yp, lcsv, lnpy, truth) = scaled_files(&d, 2000);
    let ba = ["--bound", "ba", "--critic", "decoder"];
    let with = |lp: &Path, bound: &[&str]| {
        let mut extra = bound.to_vec();
        extra.extend(["--log-marginal", lp.to_str().unwrap()]);
        let out = estimate(&xp, &yp, &extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        number(&String::from_utf8(out.stdout).unwrap(), "mi")
    };
    let from_csv = with(&lcsv, &ba);
    let from_npy = with(&lnpy, &ba);
    let plain = |y: &Path| {
        let out = estimate(&xp, y, &ba);
        assert!(out.status.success());
        number(&String::from_utf8(out.stdout).unwrap(), "mi")
    };
    let (assumed, reference) = (plain(&yp), plain(&d.join("y1.csv")));
    eprintln!(
        "known marginal: {from_csv:.4}; N(0, 1) assumed: {assumed:.4}; \
         unscaled: {reference:.4}; I = {truth:.4}"
    );
    assert!(
        (from_csv - reference).abs() <= 0.05,
        "{from_csv} vs {reference}"
    );
    assert!((from_csv - truth).abs() <= 0.25, "{from_csv} vs {truth}");
    assert_eq!(from_csv.to_bits(), from_npy.to_bits());
    assert!((assumed - truth).abs() > 1.0, "{assumed}");
    let ms = with(&lcsv, &["--bound", "ms", "--critic", "decoder-critic"]);
    eprintln!("V_MS with the known marginal: {ms:.4}");
    assert!((ms - truth).abs() <= 0.25, "{ms} vs {truth}");
}

/// Bad input: exit status 2 and one line on stderr that says what is wrong.
#[test]
fn bad_log_marginals_are_refused() {
    let d = scratch("cli-marginal", "bad");
    let (xp, yp, lcsv, _, _) = scaled_files(&d, 100);
    let short = d.join("short.csv");
    write_csv(&short, &[-1.0; 99], 1);
    let wide = d.join("wide.csv");
    write_csv(&wide, &[-1.0; 200], 2);
    let nan = d.join("nan.csv");
    let mut v = vec![-1.0f32; 100];
    v[41] = f32::NAN;
    write_csv(&nan, &v, 1);
    let missing = d.join("missing.csv");
    let ba = ["--bound", "ba", "--critic", "decoder"];
    for (file, bound, needle) in [
        (&short, &ba[..], "100 × 1"),
        (&wide, &ba[..], "100 × 1"),
        (&nan, &ba[..], "row 42"),
        (&missing, &ba[..], "missing.csv"),
        (
            &lcsv,
            &["--bound", "nwj", "--critic", "shuffled"][..],
            "ba or ms",
        ),
        (&lcsv, &["--critic", "separable"][..], "ba or ms"),
    ] {
        let mut extra = bound.to_vec();
        extra.extend(["--log-marginal", file.to_str().unwrap()]);
        let out = estimate(&xp, &yp, &extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file:?} {bound:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
        assert!(out.stdout.is_empty());
    }
}
