//! Borrowed row-major matrices, their validation and standardisation.

use crate::validate::InputError;
use crate::Error;

/// A borrowed row-major f32 matrix: `rows` × `cols`, element (i, j) at `data[i * cols + j]`.
#[derive(Clone, Copy, Debug)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
}

impl<'a> Matrix<'a> {
    /// Views `data` as `rows` × `cols`; fails when the lengths disagree.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Result<Self, Error> {
        if cols == 0 {
            return Err(InputError::NoColumns {
                name: "a matrix".into(),
            }
            .into());
        }
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(InputError::Shape {
                len: data.len(),
                rows,
                cols,
            }
            .into());
        }
        Ok(Self { data, rows, cols })
    }

    /// A column vector (n × 1).
    pub fn column(data: &'a [f32]) -> Self {
        Self {
            data,
            rows: data.len(),
            cols: 1,
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The values, row-major.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// Fails on the first NaN or infinity, naming its row and column (`name` says which input).
    pub fn check_finite(&self, name: &str) -> Result<(), Error> {
        Ok(self.finite(name)?)
    }

    /// [`Self::check_finite`] with the typed error.
    pub(crate) fn finite(&self, name: &str) -> Result<(), InputError> {
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(at) => Err(InputError::NotFinite {
                name: name.into(),
                row: at / self.cols,
                col: at % self.cols,
                value: self.data[at],
            }),
        }
    }
}

/// Per-column mean and standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations (population).
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits the columns of the rows `fit_rows` of `m`. A constant column is an error: it carries
    /// no information and cannot be scaled.
    pub fn fit(m: &Matrix<'_>, fit_rows: &[usize], name: &str) -> Result<Self, Error> {
        let c = m.cols();
        let n = fit_rows.len() as f64;
        let mut mean = vec![0.0; c];
        for &i in fit_rows {
            for (j, mu) in mean.iter_mut().enumerate() {
                *mu += f64::from(m.data[i * c + j]);
            }
        }
        mean.iter_mut().for_each(|v| *v /= n);
        let mut var = vec![0.0; c];
        for &i in fit_rows {
            for (j, s) in var.iter_mut().enumerate() {
                let d = f64::from(m.data[i * c + j]) - mean[j];
                *s += d * d;
            }
        }
        let std: Vec<f64> = var.iter().map(|v| (v / n).sqrt()).collect();
        if let Some(j) = std
            .iter()
            .zip(&mean)
            .position(|(s, mu)| *s <= 1e-12 * mu.abs().max(1e-30))
        {
            return Err(InputError::ConstantColumn {
                name: name.into(),
                col: j,
            }
            .into());
        }
        Ok(Self { mean, std })
    }

    /// The rows `rows` of `m`, standardised, row-major.
    pub fn apply(&self, m: &Matrix<'_>, rows: &[usize]) -> Vec<f32> {
        let c = m.cols();
        let mut out = Vec::with_capacity(rows.len() * c);
        for &i in rows {
            for j in 0..c {
                out.push(((f64::from(m.data[i * c + j]) - self.mean[j]) / self.std[j]) as f32);
            }
        }
        out
    }
}
