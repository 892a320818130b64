//! Borrowed row-major matrices and their validation (the per-column maps applied before
//! training live in [`crate::estimate::marginal`]).

use crate::estimate::validate::InputError;
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
