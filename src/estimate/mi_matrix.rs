//! The mutual information between every two column groups of one matrix: one estimate per
//! unordered pair of groups, trained side by side ([`Estimator::estimate_many`]), mirrored,
//! with an empty diagonal.

use crate::estimate::data::Matrix;
use crate::estimate::estimator::Estimator;
use crate::estimate::many::BatchedRun;
use crate::estimate::report::{Progress, Report};
use crate::estimate::validate::InputError;
use crate::Error;

/// The pairwise MI between column groups.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MiMatrix {
    /// Each group's columns.
    pub groups: Vec<Vec<usize>>,
    /// `values[i][j]` = Î(group i; group j) in nats, mirrored; NaN on the diagonal and where
    /// the pair's estimate failed.
    pub values: Vec<Vec<f64>>,
    /// Their standard errors, nats (NaN likewise).
    pub std_errs: Vec<Vec<f64>>,
    /// Each unordered pair (i < j) in order, with its report or why it failed.
    pub pairs: Vec<((usize, usize), Result<Report, String>)>,
    /// How the pairs were grouped into batched runs ([`Estimator::plan_many`]; its pair
    /// indices index [`Self::pairs`]).
    pub runs: Vec<BatchedRun>,
}

impl Estimator {
    /// Estimates Î(group i; group j) for every unordered pair of column groups of `x`, all
    /// pairs trained at once (pairs of equal widths share a batched run). Fails only for bad
    /// groups: fewer than two, an empty one, or a column out of range; a pair whose estimate
    /// fails is NaN in the matrix and says why in [`MiMatrix::pairs`].
    pub fn mi_matrix(&self, x: Matrix<'_>, groups: &[Vec<usize>]) -> Result<MiMatrix, Error> {
        self.mi_matrix_with_progress(x, groups, |_, _| {})
    }

    /// [`Self::mi_matrix`], calling `progress(run, progress)` as
    /// [`Self::estimate_many_with_progress`] does.
    pub fn mi_matrix_with_progress(
        &self,
        x: Matrix<'_>,
        groups: &[Vec<usize>],
        progress: impl FnMut(usize, &Progress),
    ) -> Result<MiMatrix, Error> {
        check_groups(groups, x.cols())?;
        let columns: Vec<Vec<f32>> = groups.iter().map(|g| gather(&x, g)).collect();
        let index: Vec<(usize, usize)> = (0..groups.len())
            .flat_map(|i| (i + 1..groups.len()).map(move |j| (i, j)))
            .collect();
        let matrix = |g: usize| {
            Matrix::new(&columns[g], x.rows(), groups[g].len()).expect("groups are non-empty")
        };
        let pairs: Vec<_> = index.iter().map(|&(i, j)| (matrix(i), matrix(j))).collect();
        let runs = self.plan_many(&pairs);
        let reports = self.estimate_many_with_progress(&pairs, progress);
        let g = groups.len();
        let mut values = vec![vec![f64::NAN; g]; g];
        let mut std_errs = vec![vec![f64::NAN; g]; g];
        for (&(i, j), r) in index.iter().zip(&reports) {
            if let Ok(r) = r {
                for (a, b) in [(i, j), (j, i)] {
                    values[a][b] = r.mi;
                    std_errs[a][b] = r.std_err;
                }
            }
        }
        Ok(MiMatrix {
            groups: groups.to_vec(),
            values,
            std_errs,
            pairs: index
                .into_iter()
                .zip(reports)
                .map(|(ij, r)| (ij, r.map_err(|e| e.to_string())))
                .collect(),
            runs,
        })
    }
}

/// The columns `cols` of `x`, row-major.
fn gather(x: &Matrix<'_>, cols: &[usize]) -> Vec<f32> {
    let (data, c) = (x.data(), x.cols());
    (0..x.rows())
        .flat_map(|r| cols.iter().map(move |&j| data[r * c + j]))
        .collect()
}

/// At least two groups, none empty, every column in range.
fn check_groups(groups: &[Vec<usize>], cols: usize) -> Result<(), InputError> {
    let bad = |reason: String| InputError::ColumnGroups { reason };
    if groups.len() < 2 {
        return Err(bad(format!(
            "need at least two groups, not {}",
            groups.len()
        )));
    }
    for (i, g) in groups.iter().enumerate() {
        if g.is_empty() {
            return Err(bad(format!("group {i} is empty")));
        }
        if let Some(&c) = g.iter().find(|&&c| c >= cols) {
            return Err(bad(format!(
                "group {i} names column {c}, but the data have {cols} columns (0 … {})",
                cols - 1
            )));
        }
    }
    Ok(())
}
