//! The `infobound` binary end to end: estimates from .npy (f4/f8, C/Fortran, 1-D/2-D) and CSV
//! files with tiny CPU configurations, the JSON report, the staircase files, and exit status 2
//! with one line on stderr for every kind of bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::cli::{field, number, scratch, write_csv_as, write_npy_as, BIN};

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// A tiny CPU estimate: each run takes well under a second.
const TINY: &[&str] = &[
    "--device",
    "cpu",
    "--steps",
    "30",
    "--batch",
    "16",
    "--hidden",
    "8",
    "--test-fraction",
    "0.5",
];

/// `estimate --x X --y Y`: the start of an estimate's command line.
fn estimate_args<'a>(x: &'a Path, y: &'a Path) -> Vec<&'a str> {
    vec![
        "estimate",
        "--x",
        x.to_str().unwrap(),
        "--y",
        y.to_str().unwrap(),
    ]
}

/// The 200 × 2 Gaussian sample written as x.npy and y.npy (f4, C order) under `d`.
fn gaussian_npy(d: &Path) -> (PathBuf, PathBuf) {
    let (x, y) = gaussian(2, 200);
    let (xp, yp) = (d.join("x.npy"), d.join("y.npy"));
    write_npy_as(&xp, &x, Some(2), false, false);
    write_npy_as(&yp, &y, Some(2), false, false);
    (xp, yp)
}

fn estimate(x: &Path, y: &Path, extra: &[&str]) -> Output {
    let mut args = estimate_args(x, y);
    args.extend(TINY);
    args.extend(extra);
    run(&args)
}

fn gaussian(dim: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
    infobound::experiments::tasks::correlated_gaussian(dim, 0.8, n, 3)
}

fn ok_json(out: &Output) -> String {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
    json.to_string()
}

#[test]
fn estimates_from_npy_c_and_fortran_f4_and_f8() {
    let d = scratch("cli", "npy2d");
    let (x, y) = gaussian(2, 200);
    let (xp, yp) = (d.join("x.npy"), d.join("y.npy"));
    write_npy_as(&xp, &x, Some(2), false, false); // f4, C
    write_npy_as(&yp, &y, Some(2), true, true); // f8, Fortran
    let json = ok_json(&estimate(&xp, &yp, &["--json"]));
    for key in [
        "mi",
        "std_err",
        "steps_per_second",
        "seconds",
        "n",
        "dim_x",
        "dim_y",
        "steps",
    ] {
        assert!(number(&json, key).is_finite(), "{key} in {json}");
    }
    assert_eq!(field(&json, "ceiling"), "null");
    assert_eq!(field(&json, "unit"), "\"nats\"");
    assert_eq!(field(&json, "bound"), "\"smile\"");
    assert_eq!(field(&json, "critic"), "\"separable\"");
    assert_eq!(number(&json, "n"), 200.0);
    assert_eq!(number(&json, "n_test"), 100.0); // TINY holds out half
    assert!(field(&json, "evaluation").contains("batches"), "{json}");
    assert_eq!(number(&json, "dim_x"), 2.0);
    assert_eq!(number(&json, "dim_y"), 2.0);
    assert_eq!(number(&json, "steps"), 30.0);
    assert!(field(&json, "adapter").contains("CPU"), "{json}");
    assert!(field(&json, "warnings").starts_with('['));
    assert_eq!(field(&json, "transform"), "\"rank-gauss\"");
    assert!(field(&json, "device_reason").contains("CPU"), "{json}");
    assert!(field(&json, "diagnostics").starts_with('['));
    let standardized = ok_json(&estimate(
        &xp,
        &yp,
        &["--json", "--transform", "standardize"],
    ));
    assert_eq!(field(&standardized, "transform"), "\"standardize\"");

    // The same data as f8 C and f4 Fortran give the same estimate (f8 rounds to the same f32s).
    write_npy_as(&xp, &x, Some(2), true, false);
    write_npy_as(&yp, &y, Some(2), false, true);
    let again = ok_json(&estimate(&xp, &yp, &["--json"]));
    assert_eq!(number(&json, "mi"), number(&again, "mi"));
}

#[test]
fn estimates_from_1d_npy_and_csv_in_bits() {
    let d = scratch("cli", "npy1d");
    let (x, y) = gaussian(1, 200);
    let (xp, yp, yc) = (d.join("x.npy"), d.join("y.npy"), d.join("y.csv"));
    write_npy_as(&xp, &x, None, true, false);
    write_npy_as(&yp, &y, None, false, true);
    write_csv_as(&yc, &y, 1, true);
    let from_npy = ok_json(&estimate(
        &xp,
        &yp,
        &["--json", "--bound", "infonce", "--bits"],
    ));
    assert_eq!(field(&from_npy, "unit"), "\"bits\"");
    assert_eq!(field(&from_npy, "bound"), "\"infonce\"");
    let ceiling = number(&from_npy, "ceiling");
    assert!((ceiling - 16f64.log2()).abs() < 1e-9, "{from_npy}");
    let from_csv = ok_json(&estimate(
        &xp,
        &yc,
        &["--json", "--bound", "infonce", "--bits"],
    ));
    assert_eq!(number(&from_npy, "mi"), number(&from_csv, "mi"));
    assert_eq!(number(&from_csv, "dim_y"), 1.0);

    // Both as CSV (x without a header), the concat critic, a human summary.
    let xc = d.join("x.csv");
    write_csv_as(&xc, &x, 1, false);
    let svg = d.join("curves.svg");
    let plot = [
        "--critic",
        "concat",
        "--quiet",
        "--plot",
        svg.to_str().unwrap(),
    ];
    let out = estimate(&xc, &yc, &plot);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("estimate") && text.contains("nats") && text.contains("concat"));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert_svg(&svg, &["concat critic", "held-out", "moving average"]);
    assert!(svg.contains("<circle"), "the evaluations are drawn: {svg}");

    // The same figure as a PNG: two 640 × 400 panels, the curves over the gradient norms.
    let png = d.join("curves.png");
    let out = estimate(&xc, &yc, &["--quiet", "--plot", png.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(png_size(&png), (640, 800));

    // A figure that cannot be written is a failure while running: status 1, one line.
    let nowhere = d.join("no-such-folder").join("curves.png");
    let out = estimate(&xc, &yc, &["--quiet", "--plot", nowhere.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot draw"), "{err}");
}

/// Decodes the PNG at `path` (checking its signature first) and returns its width and height.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    // Not blank: a figure has more than one colour.
    let first = &pixels[..frame.color_type.samples()];
    assert!(
        pixels[..frame.buffer_size()]
            .chunks(frame.color_type.samples())
            .any(|px| px != first),
        "{} is one flat colour",
        path.display()
    );
    (frame.width, frame.height)
}

/// Checks that `svg` is a well-formed SVG document (balanced tags) containing every one of `texts`.
fn assert_svg(svg: &str, texts: &[&str]) {
    let body = svg.trim();
    let body = body
        .strip_prefix("<?xml")
        .map_or(body, |rest| &rest[rest.find("?>").unwrap() + 2..])
        .trim_start();
    assert!(
        body.starts_with("<svg") && body.ends_with("</svg>"),
        "not an SVG document: {}",
        &svg[..svg.len().min(200)]
    );
    // Every element opened is closed, in order.
    let mut open: Vec<&str> = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        let end = rest[at..].find('>').expect("an unclosed tag") + at;
        let tag = &rest[at + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "mismatched </{name}>");
        } else if !tag.ends_with('/') && !tag.starts_with('!') && !tag.starts_with('?') {
            open.push(tag.split_whitespace().next().unwrap());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    for t in texts {
        assert!(svg.contains(t), "the SVG lacks {t:?}");
    }
}

/// Runs the binary and checks exit status 2, one line on stderr containing `what`, no panic.
fn rejects(args: &[&str], what: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(what), "{args:?}: {err:?} lacks {what:?}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let d = scratch("cli", "bad");
    let (x, y) = gaussian(2, 200);
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    write_npy_as(Path::new(&p("x.npy")), &x, Some(2), false, false);
    write_npy_as(Path::new(&p("y.npy")), &y, Some(2), false, false);
    write_npy_as(Path::new(&p("short.npy")), &y[..100], Some(2), false, false);
    let mut nan = y.clone();
    nan[2 * 17 + 1] = f32::NAN;
    write_npy_as(Path::new(&p("nan.npy")), &nan, Some(2), false, false);
    std::fs::write(p("garbage.npy"), b"\x93NUMPY\x01\x00garbage").unwrap();
    std::fs::write(p("text.npy"), b"1,2\n3,4\n").unwrap();
    let mut int = std::fs::read(p("x.npy")).unwrap();
    let at = int.windows(3).position(|w| w == b"<f4").unwrap();
    int[at + 1..at + 3].copy_from_slice(b"i4");
    std::fs::write(p("int.npy"), int).unwrap();
    std::fs::write(p("ragged.csv"), "1,2\n3\n").unwrap();
    std::fs::write(p("words.csv"), "a,b\n1,2\nthree,4\n").unwrap();
    let mut csv_nan = String::from("a,b\n");
    for row in 0..200 {
        let v = if row == 5 {
            "NaN".to_string()
        } else {
            format!("{row}")
        };
        csv_nan.push_str(&format!("{row},{v}\n"));
    }
    std::fs::write(p("nan.csv"), &csv_nan).unwrap();
    std::fs::write(p("inf.csv"), csv_nan.replace("NaN", "inf")).unwrap();
    std::fs::create_dir_all(p("folder.npy")).unwrap();

    let est = |x: &str, y: &str, extra: &[&str]| {
        let mut a = vec![
            "estimate".to_string(),
            "--x".into(),
            p(x),
            "--y".into(),
            p(y),
        ];
        a.extend(TINY.iter().map(|s| s.to_string()));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let check = |args: Vec<String>, what: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        rejects(&refs, what);
    };
    check(est("missing.npy", "y.npy", &[]), "cannot read");
    check(est("x.npy", "garbage.npy", &[]), "garbage.npy");
    check(est("x.npy", "text.npy", &[]), "magic");
    check(est("int.npy", "y.npy", &[]), "dtype");
    check(est("x.npy", "short.npy", &[]), "rows");
    check(est("x.npy", "nan.npy", &[]), "row 17, column 1");
    check(est("nan.csv", "y.npy", &[]), "(NaN) at row 5, column 1");
    check(est("x.npy", "inf.csv", &[]), "(inf) at row 5, column 1");
    check(est("folder.npy", "y.npy", &[]), "cannot read");
    check(est("x.npy", "missing.csv", &[]), "cannot read");
    check(est("x.npy", "ragged.csv", &[]), "line 2 has 1 columns");
    check(est("x.npy", "words.csv", &[]), "line 3, column 1");
    check(
        est("x.npy", "y.npy", &["--bound", "bogus"]),
        "lautum-dv, lautum-nwj, ba, ms",
    );
    check(
        est("x.npy", "y.npy", &["--critic", "bogus"]),
        "unknown critic",
    );
    let (xs, ys) = (p("x.npy"), p("y.npy"));
    rejects(
        &["estimate", "--x", &xs, "--y", &ys, "--device", "tpu"],
        "unknown device",
    );
    check(
        est("x.npy", "y.npy", &["--steps", "9"]),
        "cannot be used multiple times",
    );
    check(
        est("x.npy", "y.npy", &["--frobnicate"]),
        "unexpected argument",
    );
    check(est("x.npy", "y.npy", &["--steps", "many"]), "--steps");
    check(
        est("x.npy", "y.npy", &["--bound", "nwj", "--tau", "3"]),
        "--tau",
    );
    check(est("x.npy", "y.npy", &["--lr", "-1"]), "learning rate");
    check(
        est(
            "x.npy",
            "y.npy",
            &["--bound", "infonce", "--critic", "shuffled"],
        ),
        "full score matrix",
    );
    check(
        est("x.npy", "y.npy", &["--plot", "curves.pdf"]),
        ".png or .svg",
    );
    rejects(&["estimate", "--y", &p("y.npy")], "--x");
    rejects(&["frobnicate"], "unrecognized subcommand");
    rejects(&["staircase", "--bounds", "smile,bogus"], "unknown bound");
    rejects(&["staircase", "--task", "quartic"], "unknown task");
    rejects(&["staircase", "--hidden", "8,0"], "widths must be positive");
    rejects(&["staircase", "--embed", "0"], "widths must be positive");
    rejects(&["staircase", "--lr", "0"], "learning rate");
    rejects(
        &["staircase", "--steps-per-stage", "0"],
        "at least one step",
    );
    for tau in ["0", "-1", "nan", "-inf", "1,0"] {
        // `--tau=…`: clap would read a lone `-inf` as the flags -i -n -f.
        rejects(
            &["staircase", &format!("--tau={tau}")],
            "SMILE's τ must be positive",
        );
    }
    rejects(&["staircase", "--tau", "five"], "a positive number or inf");
    rejects(&["staircase", "--tau", "1,5,1"], "--tau lists 1 twice");
    rejects(
        &["staircase", "--bounds", "infonce", "--tau", "1"],
        "--tau applies only to smile",
    );
    check(
        est("x.npy", "y.npy", &["--transform", "copula"]),
        "unknown transform",
    );
    let (xs, ys) = (p("x.npy"), p("y.npy"));
    rejects(
        &["estimate", "--x", &xs, "--y", &ys, "--device", "gpu:x"],
        "unknown device",
    );
    rejects(
        &["suite", "--transforms", "rank-gauss,bogus"],
        "unknown transform",
    );
}

#[test]
fn staircase_writes_the_csv_and_the_stage_table() {
    let d = scratch("cli", "staircase");
    let out = run(&[
        "staircase",
        "--bounds",
        "smile,infonce",
        "--task",
        "cubic",
        "--steps-per-stage",
        "3",
        "--hidden",
        "8",
        "--embed",
        "4",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(d.join("staircase.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "task,bound,step,true_mi,estimate");
    assert_eq!(lines.len(), 1 + 2 * 5 * 3);
    // SMILE is named with its τ, the library's 5 when --tau is not given.
    assert!(
        lines[1].starts_with("cubic,smile(tau=5),0,2,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[30].starts_with("cubic,infonce,14,10,"),
        "{}",
        lines[30]
    );
    let md = std::fs::read_to_string(d.join("staircase.md")).unwrap();
    assert_eq!(md.lines().count(), 2 + 2 * 5);
    assert!(md.contains("| cubic | infonce | 10.0 |"), "{md}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("| bias |"));
    let svg = std::fs::read_to_string(d.join("staircase.svg")).unwrap();
    assert_svg(
        &svg,
        &["cubic: smile τ=5", "cubic: infonce", "true MI", "ln K"],
    );
    // Two panels of 420 × 300 side by side.
    assert_eq!(png_size(&d.join("staircase.png")), (840, 300));
}

/// `staircase --tau 1,inf` on `device`: SMILE runs once a clip, each labelled by its τ in the
/// CSV, the table, the figure and the per-run lines, with finite estimates (τ = ∞ clips
/// nothing; it must not turn into NaN anywhere).
fn staircase_runs_smile_once_a_tau(device: &str) {
    let d = scratch("cli", &format!("staircase-tau-{device}"));
    let out = run(&[
        "staircase",
        "--bounds",
        "smile,infonce",
        "--tau",
        "1,inf",
        "--steps-per-stage",
        "3",
        "--hidden",
        "8",
        "--embed",
        "4",
        "--device",
        device,
        "--out",
        d.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for run in ["smile τ=1", "smile τ=∞", "infonce"] {
        assert!(
            stdout.contains(&format!("gaussian {run}: 15 steps in ")),
            "{run}: {stdout}"
        );
    }
    let csv = std::fs::read_to_string(d.join("staircase.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3 * 5 * 3);
    for (i, label) in ["smile(tau=1)", "smile(tau=inf)", "infonce"]
        .iter()
        .enumerate()
    {
        let run = &rows[15 * i..15 * (i + 1)];
        assert!(run.iter().all(|r| r[1] == *label), "{label}: {csv}");
        for r in run {
            let e: f64 = r[4].parse().unwrap();
            assert!(e.is_finite(), "{label} step {}: {e}", r[2]);
        }
    }
    let md = std::fs::read_to_string(d.join("staircase.md")).unwrap();
    assert_eq!(md.lines().count(), 2 + 3 * 5);
    assert!(md.contains("| gaussian | smile τ=1 | 2.0 |"), "{md}");
    assert!(md.contains("| gaussian | smile τ=∞ | 10.0 |"), "{md}");
    let svg = std::fs::read_to_string(d.join("staircase.svg")).unwrap();
    assert_svg(&svg, &["gaussian: smile τ=1", "gaussian: smile τ=∞"]);
    assert_eq!(png_size(&d.join("staircase.png")), (3 * 420, 300));
}

#[test]
fn staircase_runs_smile_once_a_tau_on_the_cpu() {
    staircase_runs_smile_once_a_tau("cpu");
    staircase_runs_smile_once_a_tau("cpu-reference");
}

#[test]
fn staircase_runs_smile_once_a_tau_on_the_gpu() {
    let Some(ctx) = common::gpu() else { return };
    drop(ctx);
    staircase_runs_smile_once_a_tau("gpu");
}

/// Runs the binary with its stdout already closed by the reader (as `… | head -1` leaves it)
/// and checks that it ends quietly: status 0, or on Unix death by SIGPIPE, as `cat` ends;
/// never the panic hook's "internal error" and status 101.
fn ends_quietly_when_stdout_closes(args: &[&str]) {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the command prints anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("internal error") && !err.contains("panicked") && !err.contains("error:"),
        "{args:?}: {err}"
    );
    #[cfg(unix)]
    let by_sigpipe = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(13)
    };
    #[cfg(not(unix))]
    let by_sigpipe = false;
    assert!(
        out.status.success() || by_sigpipe,
        "{args:?}: status {:?}, stderr {err}",
        out.status
    );
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let d = scratch("cli", "closed");
    let (xp, yp) = gaussian_npy(&d);
    ends_quietly_when_stdout_closes(&["help"]);
    ends_quietly_when_stdout_closes(&["devices"]);
    let mut args = estimate_args(&xp, &yp);
    args.extend(TINY);
    ends_quietly_when_stdout_closes(&args);
    args.push("--json");
    ends_quietly_when_stdout_closes(&args);
    ends_quietly_when_stdout_closes(&[
        "staircase",
        "--bounds",
        "smile",
        "--steps-per-stage",
        "2",
        "--hidden",
        "4",
        "--embed",
        "2",
        "--device",
        "cpu",
        "--out",
        d.to_str().unwrap(),
    ]);
}

#[test]
fn estimates_on_the_gpu_agree_with_the_cpu() {
    let Some(ctx) = common::gpu() else { return };
    drop(ctx);
    let d = scratch("cli", "gpu");
    let (xp, yp) = gaussian_npy(&d);
    let run_on = |device: &str| {
        let mut args = estimate_args(&xp, &yp);
        args.extend(["--json", "--device", device]);
        args.extend(&TINY[2..]); // the tiny settings without their --device
        ok_json(&run(&args))
    };
    let (gpu, cpu) = (run_on("gpu"), run_on("cpu-reference"));
    assert!(!field(&gpu, "adapter").contains("CPU reference"), "{gpu}");
    assert!(field(&cpu, "adapter").contains("CPU reference"), "{cpu}");
    let (g, c) = (number(&gpu, "mi"), number(&cpu, "mi"));
    assert!((g - c).abs() < 1e-3, "gpu {g} against cpu {c}");
}

#[test]
fn refused_settings_and_values_exit_2_with_one_line() {
    let d = scratch("cli", "refused");
    let (x, y) = gaussian(2, 200);
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    write_npy_as(Path::new(&p("x.npy")), &x, Some(2), false, false);
    write_npy_as(Path::new(&p("y.npy")), &y, Some(2), false, false);
    let mut constant = y.clone();
    (0..200).for_each(|r| constant[2 * r] = 1.25);
    write_npy_as(
        Path::new(&p("constant.npy")),
        &constant,
        Some(2),
        false,
        false,
    );
    let mut inf = x.clone();
    inf[2 * 150] = f32::NEG_INFINITY;
    write_npy_as(Path::new(&p("inf.npy")), &inf, Some(2), false, false);
    std::fs::write(p("header_only.csv"), "a,b\n").unwrap();
    std::fs::write(p("empty.csv"), "").unwrap();
    let est = |x: &str, y: &str, extra: &[&str]| {
        let mut a: Vec<String> = vec!["estimate".into(), "--x".into(), p(x), "--y".into(), p(y)];
        // TINY's settings, except those `extra` sets.
        for pair in TINY.chunks(2) {
            if !extra.contains(&pair[0]) {
                a.extend(pair.iter().map(|s| s.to_string()));
            }
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&refs)
    };
    let check = |out: Output, what: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: stderr {err}");
        assert_eq!(err.lines().count(), 1, "{what}: one line, got {err}");
        assert!(err.contains(what), "{err:?} lacks {what:?}");
    };
    check(
        est("x.npy", "constant.npy", &[]),
        "column 0 of y is constant",
    );
    check(est("inf.npy", "y.npy", &[]), "(-inf) at row 150, column 0");
    check(est("x.npy", "header_only.csv", &[]), "no data rows");
    check(est("empty.csv", "y.npy", &[]), "no data rows");
    check(
        est("x.npy", "y.npy", &["--bound", "smile", "--tau", "0"]),
        "τ must be positive",
    );
    check(
        est(
            "x.npy",
            "y.npy",
            &[
                "--bound",
                "alpha-infonce",
                "--alpha",
                "1.5",
                "--critic",
                "separable",
            ],
        ),
        "α must be in (0, 1)",
    );
    check(
        est("x.npy", "y.npy", &["--test-fraction", "1"]),
        "test fraction",
    );
    check(
        est("x.npy", "y.npy", &["--test-fraction", "0.02"]),
        "4 held-out rows are fewer than one batch of 16",
    );
}

#[test]
fn a_diverged_run_exits_1_with_one_line_naming_the_step() {
    let d = scratch("cli", "diverged");
    let (x, y) = gaussian(2, 200);
    let p = |n: &str| d.join(n);
    write_npy_as(&p("x.npy"), &x, Some(2), false, false);
    write_npy_as(&p("y.npy"), &y, Some(2), false, false);
    let out = estimate(&p("x.npy"), &p("y.npy"), &["--bound", "dv", "--lr", "1e30"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("diverged at step"), "{err}");
    assert!(lines[0].contains("lower the learning rate"), "{err}");
    assert!(out.stdout.is_empty());
}
