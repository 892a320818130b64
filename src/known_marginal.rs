//! A known marginal p(y) given per row as log-densities, for Barber–Agakov and V_MS (SPEC §8).
//!
//! The device kernels use the standard normal; log p(y) does not touch any gradient, so a
//! per-row marginal enters as a shift of the values: for a batch, V = mean_i log q(y_i|x_i) −
//! mean_i log p(y_i), and the kernels' −mean_i log N(y_i; 0, I) is traded for the per-row
//! log-densities' mean over the split the batch was drawn from (the training rows for training
//! values, the held-out rows for evaluations). Each batch value keeps its expectation, but the
//! batch-to-batch spread of log N(y; 0, I) − log p(y) no longer cancels, so the standard error is
//! wider than per-batch densities would give (y scaled by 3 at d = 2: ± 0.14 nats from 2 000
//! held-out rows, batch 128). Per-batch densities on the device are left for later.

use crate::bounds::Bound;
use crate::{Error, Matrix};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The shifts (training rows, held-out rows) to add to the values of a standard-normal
/// marginal so that they use the per-row `log_marginal` instead: mean over the rows of
/// log N(y_i; 0, I) − log p(y_i). (0, 0) without one. Fails for a bound that knows no density,
/// a length other than one value a row, or a non-finite value.
pub fn shifts(
    bound: Bound,
    log_marginal: Option<&[f32]>,
    y: &Matrix<'_>,
    (train, test): (&[usize], &[usize]),
) -> Result<(f32, f32), Error> {
    let Some(lp) = log_marginal else {
        return Ok((0.0, 0.0));
    };
    if !bound.knows_a_density() {
        return Err(Error::InvalidInput(format!(
            "a known marginal log p(y) applies to Barber–Agakov and the multisample bound, not {}",
            bound.name()
        )));
    }
    if lp.len() != y.rows() {
        return Err(Error::InvalidInput(format!(
            "{} log p(y) values for {} rows: give one a row",
            lp.len(),
            y.rows()
        )));
    }
    if let Some(i) = lp.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "log p(y) of row {} is {}, not a finite log-density",
            i + 1,
            lp[i]
        )));
    }
    let d = y.cols();
    let shift = |rows: &[usize]| -> f32 {
        if rows.is_empty() {
            return 0.0;
        }
        let total: f64 = rows
            .iter()
            .map(|&i| {
                let row = &y.data()[i * d..(i + 1) * d];
                let std_normal: f64 = row
                    .iter()
                    .map(|&v| -0.5 * f64::from(v).powi(2) - 0.5 * LN_2PI)
                    .sum();
                std_normal - f64::from(lp[i])
            })
            .sum();
        (total / rows.len() as f64) as f32
    };
    Ok((shift(train), shift(test)))
}
