//! `devices()`: the adapters in the order `device="gpu:N"` counts them.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Every adapter wgpu sees, best first, as dicts: index (N of `device="gpu:N"`), name,
/// backend, device_type, driver, is_software, and chosen (what `device="gpu"` takes).
#[pyfunction]
pub fn devices(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    // Enumerating adapters can take a moment (driver loading): without the GIL.
    let adapters = py.detach(|| {
        std::panic::catch_unwind(infobound::gpu::list_adapters).map_err(crate::errors::panic_to_py)
    })?;
    adapters
        .into_iter()
        .enumerate()
        .map(|(index, (a, chosen))| {
            let d = PyDict::new(py);
            d.set_item("index", index)?;
            d.set_item("name", a.name)?;
            d.set_item("backend", a.backend)?;
            d.set_item("device_type", a.device_type)?;
            d.set_item("driver", a.driver)?;
            d.set_item("is_software", a.is_software)?;
            d.set_item("chosen", chosen)?;
            Ok(d)
        })
        .collect()
}
