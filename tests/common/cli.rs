//! Running the `infobound` binary in the command-line tests: fresh scratch folders, input
//! files in CSV and .npy, and reading its flat JSON report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_infobound");

/// A fresh, empty folder `{prefix}-{name}` under Cargo's temporary folder for tests.
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{prefix}-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a row-major array of `cols` columns as CSV, with a header row `c0,c1,…` when
/// `header` is set.
pub fn write_csv_as(path: &Path, rowmajor: &[f32], cols: usize, header: bool) {
    let mut s = String::new();
    if header {
        let names: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
        s.push_str(&names.join(","));
        s.push('\n');
    }
    for row in rowmajor.chunks(cols) {
        let r: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        s.push_str(&r.join(","));
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// Writes a row-major array of `cols` columns as CSV without a header.
pub fn write_csv(path: &Path, rowmajor: &[f32], cols: usize) {
    write_csv_as(path, rowmajor, cols, false);
}

/// Writes an n × cols (or 1-D when `cols` is None) array, given row-major, as .npy: f8 when
/// `f64s`, else f4; Fortran order when `fortran`, else C order.
pub fn write_npy_as(path: &Path, rowmajor: &[f32], cols: Option<usize>, f64s: bool, fortran: bool) {
    let c = cols.unwrap_or(1);
    let n = rowmajor.len() / c;
    let values: Vec<f32> = if fortran {
        (0..c)
            .flat_map(|j| (0..n).map(move |i| (i, j)))
            .map(|(i, j)| rowmajor[i * c + j])
            .collect()
    } else {
        rowmajor.to_vec()
    };
    let shape = match cols {
        Some(c) => format!("({n}, {c})"),
        None => format!("({n},)"),
    };
    let descr = if f64s { "<f8" } else { "<f4" };
    let fo = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for v in values {
        if f64s {
            bytes.extend(f64::from(v).to_le_bytes());
        } else {
            bytes.extend(v.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}

/// Writes a little-endian f4 .npy file in C order: n × cols, or 1-D when `cols` is None.
pub fn write_npy(path: &Path, rowmajor: &[f32], cols: Option<usize>) {
    write_npy_as(path, rowmajor, cols, false, false);
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// The raw text of `key`'s value in a flat JSON object (numbers, strings, null).
pub fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let at = json
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + pat.len();
    let rest = &json[at..];
    let end = if let Some(inner) = rest.strip_prefix('"') {
        1 + inner.find('"').unwrap() + 1
    } else if rest.starts_with('[') {
        rest.find(']').unwrap() + 1
    } else {
        rest.find([',', '}']).unwrap()
    };
    &rest[..end]
}

/// The number `key` holds in a flat JSON object.
pub fn number(json: &str, key: &str) -> f64 {
    field(json, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number in {json}"))
}
