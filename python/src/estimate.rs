//! `infobound._infobound.estimate`: the estimator on two arrays, with the GIL released while it
//! trains, Ctrl-C and progress through [`crate::run::run_cancellable`].

use std::path::PathBuf;

use infobound::{CancelToken, Progress};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::rows_of;
use crate::errors::value_error;
use crate::report::report_dict;
use crate::run::run_cancellable;
use crate::settings::EstimateSettings;

/// Estimates I(X; Y) in nats from paired rows of `x` and `y` (2-D float32/float64 arrays);
/// returns the report's fields as a dict (the Python `Report` is built from it). With
/// `replicas` r > 1, a seed ensemble: seeds seed … seed + r − 1 trained side by side.
/// `progress(step, total, steps_per_second, latest_mi_or_None)` is called after every block of
/// training steps. `geometry`: "auto", "rule" or a geometry file to pin (GPU only).
#[pyfunction]
#[pyo3(signature = (x, y, *, bound="smile", critic="separable", hidden=None, embed=None,
    steps=None, batch=None, lr=None, seed=0, device="auto", transform=None,
    test_fraction=None, replicas=1, geometry=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn estimate<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    bound: &str,
    critic: &str,
    hidden: Option<Vec<usize>>,
    embed: Option<usize>,
    steps: Option<u32>,
    batch: Option<usize>,
    lr: Option<f32>,
    seed: u64,
    device: &str,
    transform: Option<&str>,
    test_fraction: Option<f64>,
    replicas: i64,
    geometry: Option<PathBuf>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let est = EstimateSettings {
        bound,
        critic,
        hidden,
        embed,
        steps,
        batch,
        lr,
        seed,
        device,
        transform,
        test_fraction,
        replicas,
        geometry,
    }
    .estimator()?;
    // The one copy of each input, made while the GIL is held.
    let (x, y) = (rows_of(x, "x")?, rows_of(y, "y")?);
    if x.rows != y.rows {
        return Err(value_error(format!(
            "invalid input: x has {} rows but y has {}; row i of x pairs with row i of y",
            x.rows, y.rows
        )));
    }
    let token = CancelToken::new();
    let est = est.with_cancel(Some(token.clone()));
    let batch = est.batch;
    let report = run_cancellable(
        py,
        token,
        |tx| {
            est.estimate_with_progress(x.matrix()?, y.matrix()?, |p| {
                // The receiver outlives the run unless Python is unwinding: a lost event is fine.
                let _ = tx.send(*p);
            })
        },
        |p: &Progress| match &progress {
            Some(cb) => {
                let rate = p.step as f64 / p.seconds.max(1e-9);
                cb.call1((p.step, p.total, rate, p.latest.map(|e| e.mi)))?;
                Ok(())
            }
            None => Ok(()),
        },
    )?;
    report_dict(py, &report, batch)
}
