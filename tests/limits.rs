//! The black-box limits made visible: an InfoNCE estimate near ln K carries a warning in the
//! CLI's JSON `warnings` and after its summary on stderr (tiny CPU runs).

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_infobound");

#[test]
fn infonce_near_ln_k_warns_in_json_and_summary() {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits");
    std::fs::create_dir_all(&d).unwrap();
    // I = 3.1 nats, far above ln 4 = 1.39.
    let (x, y) = infobound::experiments::tasks::correlated_gaussian(1, 0.999, 400, 3);
    let write = |name: &str, v: &[f32]| {
        let p = d.join(name);
        let s: String = v.iter().map(|x| format!("{x}\n")).collect();
        std::fs::write(&p, s).unwrap();
        p
    };
    let (xp, yp) = (write("x.csv", &x), write("y.csv", &y));
    let args = [
        "estimate",
        "--x",
        xp.to_str().unwrap(),
        "--y",
        yp.to_str().unwrap(),
        "--bound",
        "infonce",
        "--batch",
        "4",
        "--steps",
        "300",
        "--hidden",
        "16",
        "--device",
        "cpu",
        "--lr",
        "0.01",
    ];
    let json = Command::new(BIN).args(args).arg("--json").output().unwrap();
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let out = String::from_utf8(json.stdout).unwrap();
    assert!(out.contains("ceiling ln K = 1.386"), "{out}");
    assert!(out.contains("far higher"), "{out}");
    let plain = Command::new(BIN).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&plain.stderr);
    assert!(
        err.contains("warning: the estimate") && err.contains("ln K = 1.386"),
        "{err}"
    );
}
