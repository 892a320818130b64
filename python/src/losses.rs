//! The losses for users' own models: the sandwich bounds of a Gaussian encoder's samples and
//! the contrastive (InfoNCE / CLIP) loss with both gradients.

use infobound::losses::contrastive::reference::reference;
use infobound::{ContrastiveConfig, ContrastiveForm, ContrastiveLoss, Error, Sandwich};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{rows_of, Rows};
use crate::errors::guarded;
use crate::settings::device;

/// A flat row-major vector as an n × d numpy array.
fn matrix<'py, T: numpy::Element>(
    py: Python<'py>,
    v: Vec<T>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape([rows, cols])?.into_any())
}

/// The sandwich bounds (nats) of samples `y` drawn from N(`mu`, diag `sigma`²), each n × D;
/// returns a dict: lower, upper, lautum, k, n, blocks, device, warnings, and with
/// `gradients` lower_grad and upper_grad (dicts of n × D arrays mu, sigma, y).
#[pyfunction]
#[pyo3(signature = (y, mu, sigma, *, block=None, device="auto", gradients=false))]
pub fn sandwich<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    mu: &Bound<'py, PyAny>,
    sigma: &Bound<'py, PyAny>,
    block: Option<usize>,
    device: &str,
    gradients: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let config = Sandwich::default()
        .with_block(block)
        .with_device(self::device(device)?)
        .with_gradients(gradients);
    let (y, mu, sigma) = (
        rows_of(y, "y")?,
        rows_of(mu, "mu")?,
        rows_of(sigma, "sigma")?,
    );
    let (n, d) = (y.rows, y.cols);
    let r = py.detach(|| guarded(|| config.run(y.matrix()?, mu.matrix()?, sigma.matrix()?)))?;
    let out = PyDict::new(py);
    out.set_item("lower", r.lower)?;
    out.set_item("upper", r.upper)?;
    out.set_item("lautum", r.lautum)?;
    out.set_item("k", r.k)?;
    out.set_item("n", r.n)?;
    out.set_item("blocks", r.blocks)?;
    out.set_item("device", r.device)?;
    out.set_item("warnings", r.warnings)?;
    for (key, grads) in [("lower_grad", r.lower_grad), ("upper_grad", r.upper_grad)] {
        match grads {
            Some(g) => {
                let gd = PyDict::new(py);
                gd.set_item("mu", matrix(py, g.mu, n, d)?)?;
                gd.set_item("sigma", matrix(py, g.sigma, n, d)?)?;
                gd.set_item("y", matrix(py, g.y, n, d)?)?;
                out.set_item(key, gd)?;
            }
            None => out.set_item(key, py.None())?,
        }
    }
    Ok(out)
}

/// The loss on a GPU when `device` opens one, else the f64 CPU reference (gradients rounded
/// to f32).
fn contrastive(
    choice: infobound::DeviceChoice,
    config: ContrastiveConfig,
    g: &Rows,
    h: &Rows,
) -> Result<(f64, Vec<f32>, Vec<f32>), Error> {
    let (k, e) = (g.rows, g.cols);
    let opened = infobound::backend::open(choice)?;
    match opened.backend.gpu() {
        Some(ctx) => {
            let out = ContrastiveLoss::new(ctx, config, k, e)?.compute(&g.data, &h.data)?;
            Ok((out.loss, out.dg, out.dh))
        }
        None => {
            let r = reference(&config, &g.data, &h.data, k, e)?;
            let narrow = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
            Ok((r.loss, narrow(r.dg), narrow(r.dh)))
        }
    }
}

/// The contrastive loss (nats) of embeddings `g` and `h` (K × e, row i of each a positive
/// pair) at `temperature`, InfoNCE or with `symmetric` CLIP's form; returns
/// (loss, dL/dg, dL/dh), the gradients K × e float32.
#[pyfunction]
#[pyo3(signature = (g, h, temperature=1.0, symmetric=false, *, device="auto"))]
pub fn contrastive_loss<'py>(
    py: Python<'py>,
    g: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
    temperature: f32,
    symmetric: bool,
    device: &str,
) -> PyResult<(f64, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let form = match symmetric {
        true => ContrastiveForm::Symmetric,
        false => ContrastiveForm::InfoNce,
    };
    let config = ContrastiveConfig::default()
        .with_temperature(temperature)
        .with_form(form);
    let choice = self::device(device)?;
    let (g, h) = (rows_of(g, "g")?, rows_of(h, "h")?);
    if (g.rows, g.cols) != (h.rows, h.cols) {
        return Err(crate::errors::value_error(format!(
            "invalid input: g is {} × {} but h is {} × {}; both must be K × e",
            g.rows, g.cols, h.rows, h.cols
        )));
    }
    let (k, e) = (g.rows, g.cols);
    let (loss, dg, dh) = py.detach(|| guarded(|| contrastive(choice, config, &g, &h)))?;
    Ok((loss, matrix(py, dg, k, e)?, matrix(py, dh, k, e)?))
}
