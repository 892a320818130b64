//! The native module of the `infobound` Python package (`infobound._infobound`): thin
//! functions over the library's public API. The Python layer (`python/infobound/`) checks
//! dtypes, makes 1-D inputs columns, draws progress and builds the `Report` dataclass from the
//! dicts returned here.

mod arrays;
mod demos;
mod devices;
mod errors;
mod estimate;
mod losses;
mod many;
mod report;
mod run;
mod settings;

use pyo3::prelude::*;

/// The bound names `estimate(bound=...)` takes.
#[pyfunction]
fn bound_names() -> Vec<&'static str> {
    settings::bound_names()
}

/// The module: every function, and `EstimationError`.
#[pymodule]
fn _infobound(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(estimate::estimate, m)?)?;
    m.add_function(wrap_pyfunction!(many::estimate_many, m)?)?;
    m.add_function(wrap_pyfunction!(many::estimate_column_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(many::plan_many, m)?)?;
    m.add_function(wrap_pyfunction!(many::mi_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(devices::devices, m)?)?;
    m.add_function(wrap_pyfunction!(losses::sandwich, m)?)?;
    m.add_function(wrap_pyfunction!(losses::contrastive_loss, m)?)?;
    m.add_function(wrap_pyfunction!(demos::staircase, m)?)?;
    m.add_function(wrap_pyfunction!(demos::mine_demo, m)?)?;
    m.add_function(wrap_pyfunction!(bound_names, m)?)?;
    m.add(
        "EstimationError",
        m.py().get_type::<errors::EstimationError>(),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
