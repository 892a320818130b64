//! A library [`Report`] as a dict of Python values: the fields of the Python `Report`
//! dataclass, the curves as numpy arrays.

use infobound::Report;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The report's fields; `batch` is the run's K (the CLI's JSON has it).
pub fn report_dict<'py>(py: Python<'py>, r: &Report, batch: usize) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("mi", r.mi)?;
    d.set_item("std_err", r.std_err)?;
    d.set_item("ceiling", r.ceiling)?;
    d.set_item("unit", "nats")?;
    d.set_item("bound", r.bound)?;
    d.set_item("critic", r.critic)?;
    d.set_item("n", r.n)?;
    d.set_item("n_test", r.n_test)?;
    d.set_item("dim_x", r.dims.0)?;
    d.set_item("dim_y", r.dims.1)?;
    d.set_item("batch", batch)?;
    d.set_item("steps", r.steps)?;
    d.set_item("evaluation", &r.evaluation)?;
    d.set_item("transform", r.transform.name())?;
    d.set_item("device", &r.device)?;
    d.set_item("device_reason", &r.device_reason)?;
    d.set_item("geometry", r.geometry.clone())?;
    d.set_item("seconds", r.seconds)?;
    d.set_item("steps_per_second", r.steps_per_second)?;
    d.set_item("runaway_step", r.runaway.map(|w| w.step))?;
    d.set_item("warnings", r.warnings.clone())?;
    let diagnostics: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
    d.set_item("diagnostics", diagnostics)?;
    d.set_item("n_report", r.n_report)?;
    d.set_item("selection", &r.selection)?;
    d.set_item("chosen_step", r.chosen_step)?;
    d.set_item("std_err_sampling", r.std_err_sampling)?;
    d.set_item("std_err_optimisation", r.std_err_optimisation)?;
    d.set_item("cross_check_note", &r.cross_check_note)?;
    match &r.cross_check {
        Some(c) => {
            let cc = PyDict::new(py);
            cc.set_item("mi", c.mi)?;
            cc.set_item("std_err", c.std_err)?;
            cc.set_item("ceiling", c.ceiling)?;
            cc.set_item("excess", c.excess)?;
            cc.set_item("excess_std_err", c.excess_std_err)?;
            cc.set_item("disagrees", c.disagrees)?;
            d.set_item("cross_check", cc)?;
        }
        None => d.set_item("cross_check", py.None())?,
    }
    d.set_item("seed", r.seed)?;
    d.set_item("batched", r.batched.as_deref())?;
    match &r.ensemble {
        Some(e) => {
            let ens = PyDict::new(py);
            ens.set_item("seeds", e.seeds.clone())?;
            ens.set_item("estimates", e.estimates.clone())?;
            ens.set_item("std_errs", e.std_errs.clone())?;
            ens.set_item("errors", e.errors.clone())?;
            ens.set_item("mean", e.mean)?;
            ens.set_item("sd", e.sd)?;
            d.set_item("ensemble", ens)?;
        }
        None => d.set_item("ensemble", py.None())?,
    }
    d.set_item("grad_norms", PyArray1::from_vec(py, r.grad_norms.clone()))?;
    d.set_item("train_curve", PyArray1::from_vec(py, r.train_curve.clone()))?;
    // n × 3: step, mi, std_err (nats).
    let flat: Vec<f64> = r
        .test_curve
        .iter()
        .flat_map(|e| [e.step as f64, e.mi, e.std_err])
        .collect();
    let test = PyArray1::from_vec(py, flat).reshape([r.test_curve.len(), 3])?;
    d.set_item("test_curve", test)?;
    Ok(d)
}
