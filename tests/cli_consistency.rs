//! `infobound consistency` end to end through the built binary: the quick run on the bundled
//! digits writes its CSV, tables and figure; `--json` and a user's `.npy` of images; bad input
//! exits 2 with one line.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::cli::{scratch, BIN};

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Decodes the PNG at `path` and returns its width and height; fails on a blank image.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let samples = frame.color_type.samples();
    let first = &pixels[..samples];
    assert!(
        pixels[..frame.buffer_size()]
            .chunks(samples)
            .any(|px| px != first),
        "{} is one flat colour",
        path.display()
    );
    (frame.width, frame.height)
}

#[test]
fn the_quick_run_on_the_digits_writes_its_files() {
    let d = scratch("cli", "consistency-quick");
    let out = run(&[
        "consistency",
        "--quick",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        d.to_str().unwrap(),
    ]);
    let stdout = ok(&out);
    assert!(stdout.contains("| setting | t | dims |"), "{stdout}");
    assert!(stdout.contains("3 of 64 pixels dropped"), "{stdout}");
    assert!(stdout.contains("Only the ratios mean anything"), "{stdout}");

    let csv = std::fs::read_to_string(d.join("consistency.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "bound,setting,t,dim_x,dim_y,estimate,std_err,ratio,ratio_std_err,ideal,seconds,error"
    );
    // Four settings at t = 1, 4 and 8.
    assert_eq!(lines.len(), 1 + 4 * 3, "{csv}");
    let keys: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
        .collect();
    let mut want = Vec::new();
    for (setting, k) in [
        ("baseline", 1),
        ("independence", 1),
        ("data-processing", 2),
        ("additivity", 2),
    ] {
        for (t, dy) in [(1, 7), (4, 31), (8, 61)] {
            want.push(format!("smile,{setting},{t},{},{}", 61 * k, dy * k));
        }
    }
    assert_eq!(keys, want);
    for l in &lines[1..] {
        let f: Vec<&str> = l.split(',').collect();
        assert!(f[5].parse::<f64>().unwrap().is_finite(), "{l}");
        assert!(f[11].is_empty(), "no error: {l}");
    }
    let md = std::fs::read_to_string(d.join("consistency.md")).unwrap();
    assert!(md.starts_with("`infobound consistency --quick"), "{md}");
    assert!(
        md.contains("- **additivity** (ratio to the baseline"),
        "{md}"
    );
    // One panel a setting in a row, 380 × 300 each, under a 34-pixel heading.
    assert_eq!(png_size(&d.join("consistency.png")), (4 * 380, 300 + 34));
    let svg = std::fs::read_to_string(d.join("consistency.svg")).unwrap();
    for text in ["baseline: I(t) / I(t = 8)", "additivity", "ideal", "smile"] {
        assert!(svg.contains(text), "the SVG lacks {text:?}");
    }
}

/// Writes `n` images of `h` × `w` as a little-endian f4 `.npy` of shape (n, h, w).
fn write_images(path: &Path, data: &[f32], n: usize, h: usize, w: usize) {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {h}, {w}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_users_images_with_json() {
    let d = scratch("cli", "consistency-user");
    // 60 images of 3 × 4: every pixel a grey level 0..4 from a hash, the last column 0.
    let (n, h, w) = (60, 3, 4);
    let data: Vec<f32> = (0..n * h * w)
        .map(|k| {
            if k % w == w - 1 {
                0.0
            } else {
                ((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 61) as f32
            }
        })
        .collect();
    let path = d.join("images.npy");
    write_images(&path, &data, n, h, w);
    let out = run(&[
        "consistency",
        "--images",
        path.to_str().unwrap(),
        "--rows",
        "3,1",
        "--settings",
        "additivity",
        "--bounds",
        "smile,nwj",
        "--steps",
        "20",
        "--batch",
        "8",
        "--hidden",
        "8",
        "--embed",
        "4",
        "--device",
        "cpu",
        "--json",
        "--out",
        d.to_str().unwrap(),
    ]);
    let stdout = ok(&out);
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    let json = stdout.trim();
    assert!(
        json.starts_with("{\"images\":60,\"height\":3,\"width\":4,"),
        "{json}"
    );
    assert!(json.contains("\"dropped\":[[0,3],[1,3],[2,3]]"), "{json}");
    assert!(json.contains("\"levels\":8"), "{json}");
    // Two bounds × (baseline, additivity) × t = 1, 3, and a verdict a bound and setting.
    assert_eq!(
        json.matches("\"setting\":\"additivity\",\"t\":").count(),
        2 * 2
    );
    assert_eq!(json.matches("\"holds\":").count(), 2 * 2);
    assert_eq!(
        json.matches("\"bound\":\"nwj\",\"setting\":").count(),
        4 + 2
    );
    let csv = std::fs::read_to_string(d.join("consistency.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 2, "{csv}");
    assert!(csv.contains("\nnwj,additivity,1,18,6,"), "{csv}");
    assert_eq!(png_size(&d.join("consistency.png")), (2 * 380, 300 + 34));
}

/// Runs the binary and checks exit status 2 and one line on stderr containing `what`.
fn rejects(args: &[&str], what: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
    assert!(
        err.starts_with("error: ") && err.contains(what),
        "{args:?}: {err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let d = scratch("cli", "consistency-bad");
    let o = d.to_str().unwrap();
    let flat = d.join("flat.npy");
    common::cli::write_npy(&flat, &[1.0, 2.0, 3.0, 4.0], Some(2));
    let cpu = ["--device", "cpu", "--out", o];
    for (args, what) in [
        (
            vec!["--rows", "9"],
            "the rows t must be between 1 and the images' height, not 9 (the images have 8 rows)",
        ),
        (vec!["--rows", "0"], "not 0"),
        (vec!["--bounds", "bogus"], "unknown bound \"bogus\""),
        (vec!["--settings", "bogus"], "unknown setting \"bogus\""),
        (vec!["--dequantise", "x"], "unknown dequantisation \"x\""),
        (
            vec!["--bounds", "smile,smile"],
            "--bounds names smile twice",
        ),
        (vec!["--batch", "1"], "batch"),
        (
            vec!["--images", flat.to_str().unwrap()],
            "2 dimensions; images are read from a 3-D array",
        ),
        (
            vec!["--images", "/nonexistent/x.npy"],
            "cannot read /nonexistent/x.npy",
        ),
    ] {
        let mut all = vec!["consistency"];
        all.extend(args);
        all.extend(cpu);
        rejects(&all, what);
    }
}
