//! `infobound sandwich` end to end on the CPU reference: the JSON bracket from CSV and .npy
//! files, and exit status 2 with one line on stderr for bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::{number, run, scratch, write_csv, write_npy, BIN};
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi};

/// The Gaussian channel at d = 2, ρ = 0.8 (I = 1.02 nats) with n = 300: y as CSV, μ and σ as
/// .npy.
fn channel(d: &Path) -> (PathBuf, PathBuf, PathBuf, f64) {
    let (dim, rho, n) = (2, 0.8, 300);
    let (x, y) = correlated_gaussian(dim, rho, n, 5);
    let mu: Vec<f32> = x.iter().map(|v| (rho * f64::from(*v)) as f32).collect();
    let sigma = vec![(1.0f64 - rho * rho).sqrt() as f32; n * dim];
    let (yp, mp, sp) = (d.join("y.csv"), d.join("mu.npy"), d.join("sigma.npy"));
    write_csv(&yp, &y, dim);
    write_npy(&mp, &mu, Some(dim));
    write_npy(&sp, &sigma, Some(dim));
    (yp, mp, sp, gaussian_mi(dim, rho))
}

/// The JSON report of `sandwich --y Y --mu MU SIGMA_FLAG SIGMA --block 100` on the CPU, the
/// run having succeeded; `sigma_flag` is `--sigma` or `--log-sigma`.
fn bracket_json(y: &Path, mu: &Path, sigma_flag: &str, sigma: &Path) -> String {
    let out = run(&[
        "sandwich",
        "--y",
        y.to_str().unwrap(),
        "--mu",
        mu.to_str().unwrap(),
        sigma_flag,
        sigma.to_str().unwrap(),
        "--block",
        "100",
        "--device",
        "cpu",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn json_bracket_holds_the_true_value() {
    let d = scratch("sandwich", "json");
    let (y, mu, sigma, truth) = channel(&d);
    let json = bracket_json(&y, &mu, "--sigma", &sigma);
    let (lower, upper) = (number(&json, "lower"), number(&json, "upper"));
    assert_eq!(number(&json, "k"), 100.0);
    assert_eq!(number(&json, "n"), 300.0);
    assert_eq!(number(&json, "blocks"), 3.0);
    assert!(json.contains("\"unit\":\"nats\""), "{json}");
    assert!(json.contains("\"adapter\":\"CPU reference\""), "{json}");
    // Sampling error of the n = 300 sample: about 0.06 nats.
    assert!(lower < upper, "{json}");
    assert!(
        lower <= truth + 0.15 && upper >= truth - 0.15,
        "{json} vs I = {truth}"
    );
    assert!(upper - lower < 0.5, "{json}");

    // The same σ given as log σ: the same bracket.
    let sigma_log = d.join("log_sigma.csv");
    let s = ((1.0f64 - 0.64).sqrt().ln()) as f32;
    write_csv(&sigma_log, &[s; 600], 2);
    let again = bracket_json(&y, &mu, "--log-sigma", &sigma_log);
    assert!((number(&again, "lower") - lower).abs() < 1e-5, "{again}");
    assert!((number(&again, "upper") - upper).abs() < 1e-5, "{again}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let d = scratch("sandwich", "bad");
    let (y, mu, sigma, _) = channel(&d);
    let zeros = d.join("zeros.csv");
    write_csv(&zeros, &vec![0.0; 600], 2);
    let short = d.join("short.csv");
    write_csv(&short, &[1.0; 10], 2);
    let y = y.to_str().unwrap();
    let mu = mu.to_str().unwrap();
    let sigma = sigma.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--y", y, "--mu", mu, "--sigma", zeros.to_str().unwrap()],
            "sigma must be positive",
        ),
        (
            vec!["--y", y, "--mu", mu, "--sigma", short.to_str().unwrap()],
            "sigma is 5 × 2",
        ),
        (vec!["--y", y, "--mu", mu], "needs --sigma"),
        (
            vec!["--y", y, "--mu", mu, "--sigma", sigma, "--block", "1"],
            "block size",
        ),
        (
            vec!["--y", y, "--mu", mu, "--sigma", sigma, "--block", "x"],
            "--block",
        ),
    ] {
        let mut all = vec!["sandwich", "--device", "cpu"];
        all.extend(args);
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
        assert!(err.contains(needle), "{all:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// `estimate --bound ba --critic decoder` (and ms with decoder-critic) on the CPU: the JSON names
/// them; a known-density bound with a black-box critic is bad input.
#[test]
fn known_density_bounds_from_the_command_line() {
    let d = scratch("sandwich", "ba");
    let (x, y) = correlated_gaussian(1, 0.8, 300, 2);
    let (xp, yp) = (d.join("x.csv"), d.join("y.csv"));
    write_csv(&xp, &x, 1);
    write_csv(&yp, &y, 1);
    let base = [
        "estimate",
        "--x",
        xp.to_str().unwrap(),
        "--y",
        yp.to_str().unwrap(),
        "--device",
        "cpu",
        "--steps",
        "40",
        "--batch",
        "16",
        "--hidden",
        "8",
        "--json",
    ];
    for (bound, critic) in [
        ("ba", "decoder"),
        ("ms", "decoder-critic"),
        ("lautum-dv", "shuffled"),
    ] {
        let out = Command::new(BIN)
            .args(base)
            .args(["--bound", bound, "--critic", critic])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{bound}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).unwrap();
        assert!(json.contains(&format!("\"bound\":\"{bound}\"")), "{json}");
        assert!(json.contains(&format!("\"critic\":\"{critic}\"")), "{json}");
    }
    let out = Command::new(BIN)
        .args(base)
        .args(["--bound", "ba", "--critic", "separable"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("decoder"));
}
