//! `infobound mine-demo` end to end on a tiny CPU configuration: the CSV of every step, the
//! Markdown table (also printed), the figure, and exit status 2 with one line for bad settings.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_infobound");

#[test]
fn mine_demo_writes_the_csv_and_the_table() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-mine-demo");
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(BIN)
        .args([
            "mine-demo",
            "--dim",
            "2",
            "--rhos",
            "0.5,0.9",
            "--steps",
            "30",
            "--hidden",
            "8",
            "--batch",
            "16",
            "--device",
            "cpu",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("mine_demo_d2.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("dim,rho,true_mi,run,step,estimate,grad_norm")
    );
    // 2 ρ × 2 runs × 30 steps, each with a finite estimate and a positive norm.
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 120);
    for r in &rows {
        assert!(r[5].parse::<f64>().unwrap().is_finite());
        assert!(r[6].parse::<f64>().unwrap() > 0.0);
    }
    assert!(rows.iter().any(|r| r[3] == "ema" && r[1] == "0.9"));
    let md = std::fs::read_to_string(out.join("mine_demo_d2.md")).unwrap();
    // −(2/2)·ln(1 − 0.81) = 1.661 nats.
    for text in [&md as &str, &stdout] {
        assert!(text.contains("| 2 | 0.9 | 1.661 |"), "{text}");
        assert!(text.contains("| 2 | 0.5 | 0.288 |"), "{text}");
    }
    let svg = std::fs::read_to_string(out.join("mine_demo_d2.svg")).unwrap();
    for t in ["ρ = 0.9: gradient norm", "true MI", "biased DV", "EMA MINE"] {
        assert!(svg.contains(t), "the SVG lacks {t:?}");
    }
    let png = std::fs::read(out.join("mine_demo_d2.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}

#[test]
fn mine_demo_rejects_bad_settings_with_exit_2() {
    for args in [
        &["--rhos", "1.5"][..],
        &["--rhos", "0.5,x"],
        &["--alpha", "0"],
        &["--steps", "0"],
        &["--dim", "-1"],
        &["--bogus", "1"],
    ] {
        let o = Command::new(BIN)
            .arg("mine-demo")
            .args(args)
            .args(["--device", "cpu", "--out"])
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-mine-demo-bad"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
