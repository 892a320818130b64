//! numpy arrays in: a 2-D float32 or float64 array of any memory order, copied once into the
//! row-major f32 rows the library takes (the Python layer has already refused integers,
//! complex numbers and CUDA tensors, and made 1-D inputs columns).

use numpy::{PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// Row-major f32 values with their shape: the one copy of an input, made with the GIL held.
pub struct Rows {
    /// The values, row i at `data[i * cols..(i + 1) * cols]`.
    pub data: Vec<f32>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl Rows {
    /// The library's view of these rows.
    pub fn matrix(&self) -> Result<infobound::Matrix<'_>, infobound::Error> {
        infobound::Matrix::new(&self.data, self.rows, self.cols)
    }
}

/// Copies `obj` (a 2-D float32 or float64 ndarray, C or Fortran order or strided) into
/// row-major f32; `name` says which argument in an error.
pub fn rows_of(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Rows> {
    if let Ok(a) = obj.cast::<PyArray2<f32>>() {
        let (rows, cols) = (a.shape()[0], a.shape()[1]);
        let view = a.readonly();
        let view = view.as_array();
        // `iter` walks in logical (row-major) order whatever the memory order.
        let data = match view.as_slice() {
            Some(s) => s.to_vec(),
            None => view.iter().copied().collect(),
        };
        return Ok(Rows { data, rows, cols });
    }
    if let Ok(a) = obj.cast::<PyArray2<f64>>() {
        let (rows, cols) = (a.shape()[0], a.shape()[1]);
        let view = a.readonly();
        // f64 → f32 is the one copy: the kernels train in f32.
        let data = view.as_array().iter().map(|&v| v as f32).collect();
        return Ok(Rows { data, rows, cols });
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be a 2-D float32 or float64 array"
    )))
}
