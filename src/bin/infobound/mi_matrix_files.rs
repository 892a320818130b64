//! What `infobound mi-matrix` writes: the matrix as CSV (mi_matrix.csv), everything as JSON
//! (mi_matrix.json), and a heat map with the values in the cells (mi_matrix.png and .svg).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use infobound::MiMatrix;

use crate::failure::Failure;
use crate::files::write_file;
use crate::plot::{write_heatmap, HeatMap};
use crate::units::unit;

/// The matrix in the chosen unit, with a label a group.
pub struct MatrixFiles<'a> {
    matrix: &'a MiMatrix,
    labels: Vec<String>,
    scale: f64,
    unit: &'static str,
}

/// mi_matrix.json: non-finite numbers (the diagonal, failed pairs) are null.
#[derive(Serialize)]
struct MatrixJson<'a> {
    unit: &'static str,
    groups: &'a [Vec<usize>],
    labels: &'a [String],
    values: Vec<Vec<f64>>,
    std_errs: Vec<Vec<f64>>,
    pairs: Vec<PairJson<'a>>,
    runs: Vec<String>,
}

/// One unordered pair of groups.
#[derive(Serialize)]
struct PairJson<'a> {
    i: usize,
    j: usize,
    mi: Option<f64>,
    std_err: Option<f64>,
    error: Option<&'a str>,
    batched: Option<&'a str>,
    warnings: &'a [String],
}

impl<'a> MatrixFiles<'a> {
    /// The files of `matrix`, in bits when `bits`.
    pub fn new(matrix: &'a MiMatrix, bits: bool) -> Self {
        let (scale, unit) = unit(bits);
        let labels = matrix.groups.iter().map(|g| label(g)).collect();
        Self {
            matrix,
            labels,
            scale,
            unit,
        }
    }

    /// The matrix as aligned text, a row a group.
    pub fn table(&self) -> String {
        let width = self
            .labels
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(8);
        let mut out = format!("{:>width$}", self.unit);
        for l in &self.labels {
            let _ = write!(out, " {l:>width$}");
        }
        out.push('\n');
        for (l, row) in self.labels.iter().zip(&self.matrix.values) {
            let _ = write!(out, "{l:>width$}");
            for v in row {
                match v.is_finite() {
                    true => write!(out, " {:>width$.4}", v * self.scale),
                    false => write!(out, " {:>width$}", "·"),
                }
                .expect("writing to a String");
            }
            out.push('\n');
        }
        out
    }

    /// The matrix as CSV: a header of group labels, then a row a group (empty cells where
    /// there is no value).
    fn csv(&self) -> String {
        let mut out = format!("group,{}\n", self.labels.join(","));
        for (l, row) in self.labels.iter().zip(&self.matrix.values) {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v.is_finite() {
                    true => format!("{}", v * self.scale),
                    false => String::new(),
                })
                .collect();
            let _ = writeln!(out, "{l},{}", cells.join(","));
        }
        out
    }

    /// Everything as one JSON object.
    pub fn json(&self) -> String {
        let s = self.scale;
        let scaled = |m: &[Vec<f64>]| -> Vec<Vec<f64>> {
            m.iter()
                .map(|r| r.iter().map(|v| v * s).collect())
                .collect()
        };
        let json = MatrixJson {
            unit: self.unit,
            groups: &self.matrix.groups,
            labels: &self.labels,
            values: scaled(&self.matrix.values),
            std_errs: scaled(&self.matrix.std_errs),
            pairs: self
                .matrix
                .pairs
                .iter()
                .map(|((i, j), r)| PairJson {
                    i: *i,
                    j: *j,
                    mi: r.as_ref().ok().map(|r| r.mi * s),
                    std_err: r.as_ref().ok().map(|r| r.std_err * s),
                    error: r.as_ref().err().map(String::as_str),
                    batched: r.as_ref().ok().and_then(|r| r.batched.as_deref()),
                    warnings: r.as_ref().map_or(&[], |r| &r.warnings),
                })
                .collect(),
            runs: self.matrix.runs.iter().map(ToString::to_string).collect(),
        };
        serde_json::to_string(&json).expect("the matrix serialises")
    }

    /// Writes mi_matrix.csv, mi_matrix.json, mi_matrix.png and mi_matrix.svg in `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), Failure> {
        write_file(&dir.join("mi_matrix.csv"), &self.csv())?;
        write_file(&dir.join("mi_matrix.json"), &self.json())?;
        let map = HeatMap {
            title: format!("mutual information between column groups ({})", self.unit),
            labels: self.labels.clone(),
            values: self
                .matrix
                .values
                .iter()
                .map(|r| r.iter().map(|v| v * self.scale).collect())
                .collect(),
        };
        for ext in ["png", "svg"] {
            write_heatmap(&map, &dir.join(format!("mi_matrix.{ext}")))?;
        }
        Ok(())
    }
}

/// A group's label: its columns, as ranges (`0-3`, `5`, `7-8+10`).
fn label(cols: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cols.len() {
        let mut j = i;
        while j + 1 < cols.len() && cols[j + 1] == cols[j] + 1 {
            j += 1;
        }
        parts.push(match i == j {
            true => cols[i].to_string(),
            false => format!("{}-{}", cols[i], cols[j]),
        });
        i = j + 1;
    }
    parts.join("+")
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_name_runs_of_columns() {
        assert_eq!(label(&[0, 1, 2, 3]), "0-3");
        assert_eq!(label(&[5]), "5");
        assert_eq!(label(&[7, 8, 10]), "7-8+10");
    }
}
