//! How the library's failures reach Python: bad input as `ValueError` with the library's one
//! line, a failure while running as `infobound.EstimationError` (a `RuntimeError`), and a
//! panic as `EstimationError` too, caught before it can unwind across the FFI boundary.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    infobound,
    EstimationError,
    PyRuntimeError,
    "A failure while running: no GPU where one was required, divergence, a runaway run."
);

/// The Python exception of a library error: `ValueError` for bad input
/// ([`infobound::Error::is_input`]), `EstimationError` for the rest.
pub fn to_py(e: infobound::Error) -> PyErr {
    if e.is_input() {
        PyValueError::new_err(e.to_string())
    } else {
        EstimationError::new_err(e.to_string())
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, turning a panic into `EstimationError` so that no panic crosses into Python.
/// The closures here touch only owned Rust data, so resuming after a panic is sound.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, infobound::Error>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(to_py),
        Err(payload) => Err(panic_to_py(payload)),
    }
}

/// `EstimationError` for a caught panic's payload.
pub fn panic_to_py(payload: Box<dyn Any + Send>) -> PyErr {
    EstimationError::new_err(format!(
        "internal error (a bug; please report it): {}",
        panic_message(payload.as_ref())
    ))
}

/// A `ValueError` with `msg`, for settings refused before the library is called.
pub fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}
