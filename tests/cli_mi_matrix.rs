//! `infobound mi-matrix`: the files it writes, its groups, and the usage errors it refuses
//! with exit status 2.

mod common;

use common::cli::{run, scratch, write_csv};
use infobound::experiments::tasks::correlated_gaussian;

#[test]
fn mi_matrix_writes_the_matrix_the_json_and_the_heat_map() {
    let d = scratch("cli", "mi-matrix");
    let (x, y) = correlated_gaussian(1, 0.8, 300, 4);
    let (z, _) = correlated_gaussian(1, 0.0, 300, 5);
    let rows: Vec<f32> = (0..300).flat_map(|i| [x[i], y[i], z[i]]).collect();
    let data = d.join("x.csv");
    write_csv(&data, &rows, 3);
    let out = d.join("out");
    let o = run(&[
        "mi-matrix",
        "--x",
        data.to_str().unwrap(),
        "--each-column",
        "--steps",
        "40",
        "--batch",
        "16",
        "--hidden",
        "8",
        "--embed",
        "4",
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("\"labels\":[\"0\",\"1\",\"2\"]"),
        "{stdout}"
    );
    assert!(stdout.contains("batched run 1 of 1"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("mi_matrix.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "group,0,1,2");
    assert_eq!(lines.len(), 4);
    // The diagonal is empty; the matrix is mirrored.
    let cells: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    for i in 0..3 {
        assert_eq!(cells[i][i + 1], "");
        for j in 0..3 {
            assert_eq!(cells[i][j + 1], cells[j][i + 1]);
        }
    }
    for f in ["mi_matrix.json", "mi_matrix.png", "mi_matrix.svg"] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 100, "{f}");
    }
}

#[test]
fn mi_matrix_refuses_bad_groups() {
    let d = scratch("cli", "mi-matrix-bad");
    let data = d.join("x.csv");
    write_csv(&data, &[1.0, 2.0, 3.0, 4.0, 5.0, 7.0], 2);
    let path = data.to_str().unwrap();
    for (args, says) in [
        (vec!["--groups", "0-x"], "not a column"),
        (vec!["--groups", "0,5"], "column 5"),
        (vec!["--groups", "0"], "at least two groups"),
        (vec![], "--groups"),
    ] {
        let mut all = vec!["mi-matrix", "--x", path, "--device", "cpu"];
        all.extend(args);
        let o = run(&all);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(stderr.contains(says), "{all:?}: {stderr}");
    }
}
