//! The staircase benchmark and MINE's EMA demonstration, returning their tables.

use infobound::experiments::mine_ema::{MineCurve, MineEmaRun};
use infobound::experiments::staircase::StaircaseRun;
use infobound::experiments::tasks::Staircase;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::guarded;
use crate::settings::{bound, critic, device};

/// The SMILE/VBMI staircase (nats): a critic trained on fresh Gaussian batches while the true
/// MI steps through `mis`. Returns a dict: stages (one dict a stage: true_mi, mean, bias,
/// variance, mse), estimates (every step's, numpy), device, seconds, warnings.
#[pyfunction]
#[pyo3(signature = (*, dim=None, mis=None, steps_per_stage=None, bound="smile",
    critic="separable", hidden=None, embed=None, batch=None, lr=None, seed=0, device="auto"))]
#[allow(clippy::too_many_arguments)]
pub fn staircase<'py>(
    py: Python<'py>,
    dim: Option<usize>,
    mis: Option<Vec<f64>>,
    steps_per_stage: Option<u32>,
    bound: &str,
    critic: &str,
    hidden: Option<Vec<usize>>,
    embed: Option<usize>,
    batch: Option<usize>,
    lr: Option<f32>,
    seed: u64,
    device: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let default = StaircaseRun::default();
    let mut task = Staircase::default();
    if let Some(d) = dim {
        task = task.with_dim(d);
    }
    if let Some(m) = &mis {
        task = task.with_mis(m);
    }
    if let Some(s) = steps_per_stage {
        task = task.with_steps_per_stage(s);
    }
    // The staircase's own default widths (three layers of 256) unless given.
    let hidden = hidden.or_else(|| match &default.critic {
        infobound::CriticForm::Separable { hidden, .. } => Some(hidden.clone()),
        _ => None,
    });
    let mut run = default
        .with_staircase(task)
        .with_bound(self::bound(bound)?)
        .with_critic(self::critic(critic, hidden, embed)?)
        .with_seed(seed)
        .with_device(self::device(device)?);
    if let Some(b) = batch {
        run = run.with_batch(b);
    }
    if let Some(lr) = lr {
        run = run.with_lr(lr);
    }
    let r = py.detach(|| guarded(|| run.run()))?;
    let out = PyDict::new(py);
    let stages = r
        .stages
        .iter()
        .map(|s| {
            let d = PyDict::new(py);
            d.set_item("true_mi", s.true_mi)?;
            d.set_item("mean", s.mean)?;
            d.set_item("bias", s.bias)?;
            d.set_item("variance", s.variance)?;
            d.set_item("mse", s.mse)?;
            Ok(d)
        })
        .collect::<PyResult<Vec<_>>>()?;
    out.set_item("stages", stages)?;
    out.set_item("estimates", PyArray1::from_vec(py, r.estimates))?;
    out.set_item("device", r.device)?;
    out.set_item("seconds", r.seconds)?;
    out.set_item("warnings", r.warnings)?;
    Ok(out)
}

/// One MINE run's columns of the table, prefixed `biased_` or `ema_`.
fn curve_items(d: &Bound<'_, PyDict>, prefix: &str, c: &MineCurve) -> PyResult<()> {
    d.set_item(format!("{prefix}final"), c.final_estimate())?;
    d.set_item(format!("{prefix}max_grad_norm"), c.max_grad_norm())?;
    d.set_item(format!("{prefix}final_grad_norm"), c.final_grad_norm())?;
    d.set_item(format!("{prefix}diverged_at"), c.diverged_at)?;
    d.set_item(format!("{prefix}runaway_step"), c.runaway.map(|r| r.step))?;
    Ok(())
}

/// MINE's biased gradient against its moving-average correction (nats), one pair of runs a
/// correlation ρ. Returns a dict: rows (one dict a ρ: rho, true_mi, and for each run
/// `biased_`/`ema_` final, max_grad_norm, final_grad_norm, diverged_at, runaway_step),
/// device, seconds, warnings.
#[pyfunction]
#[pyo3(signature = (*, dim=None, rhos=None, steps=None, hidden=None, batch=None, lr=None,
    alpha=None, seed=0, device="auto"))]
#[allow(clippy::too_many_arguments)]
pub fn mine_demo<'py>(
    py: Python<'py>,
    dim: Option<usize>,
    rhos: Option<Vec<f64>>,
    steps: Option<u32>,
    hidden: Option<Vec<usize>>,
    batch: Option<usize>,
    lr: Option<f32>,
    alpha: Option<f32>,
    seed: u64,
    device: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let mut run = MineEmaRun::default()
        .with_seed(seed)
        .with_device(self::device(device)?);
    if let Some(v) = dim {
        run = run.with_dim(v);
    }
    if let Some(v) = rhos {
        run = run.with_rhos(v);
    }
    if let Some(v) = steps {
        run = run.with_steps(v);
    }
    if let Some(v) = hidden {
        run = run.with_hidden(v);
    }
    if let Some(v) = batch {
        run = run.with_batch(v);
    }
    if let Some(v) = lr {
        run = run.with_lr(v);
    }
    if let Some(v) = alpha {
        run = run.with_alpha(v);
    }
    let r = py.detach(|| guarded(|| run.run()))?;
    let rows = r
        .points
        .iter()
        .map(|p| {
            let d = PyDict::new(py);
            d.set_item("rho", p.rho)?;
            d.set_item("true_mi", p.true_mi)?;
            curve_items(&d, "biased_", &p.biased)?;
            curve_items(&d, "ema_", &p.ema)?;
            Ok(d)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let out = PyDict::new(py);
    out.set_item("rows", rows)?;
    out.set_item("device", r.device)?;
    out.set_item("seconds", r.seconds)?;
    out.set_item("warnings", r.warnings)?;
    Ok(out)
}
