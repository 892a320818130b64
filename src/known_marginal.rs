//! A known marginal p(y) given per row as log-densities, for Barber–Agakov and V_MS (SPEC §8).
//!
//! The values travel with the rows: they are uploaded once with the data
//! ([`crate::train::TrainData::log_marginal`]) and every batch gathers its own rows' log p(y_i)
//! on the device with the same permutation as x and y (`Op::GatherMarginal`), so each batch
//! value is mean_i [log q(y_i|x_i) − log p(y_i)] over that batch's rows, in training and in
//! held-out evaluation alike, and the standard error is that of the bound itself.

use crate::bounds::Bound;
use crate::Error;

/// Checks a per-row `log_marginal` for `bound` over `rows` data rows: fails for a bound that
/// knows no density, a length other than one value a row, or a non-finite value (its 1-based
/// row named).
pub fn check(bound: Bound, log_marginal: &[f32], rows: usize) -> Result<(), Error> {
    if !bound.knows_a_density() {
        return Err(Error::InvalidInput(format!(
            "a known marginal log p(y) applies to Barber–Agakov and the multisample bound, not {}",
            bound.name()
        )));
    }
    if log_marginal.len() != rows {
        return Err(Error::InvalidInput(format!(
            "{} log p(y) values for {} rows: give one a row",
            log_marginal.len(),
            rows
        )));
    }
    if let Some(i) = log_marginal.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "log p(y) of row {} is {}, not a finite log-density",
            i + 1,
            log_marginal[i]
        )));
    }
    Ok(())
}

/// The (training, held-out) splits of a checked per-row `log_marginal`: the values of the rows
/// `train` and `test`, in those orders (as the splits of x and y are taken). `None` without one.
#[allow(clippy::type_complexity)]
pub fn split(
    bound: Bound,
    log_marginal: Option<&[f32]>,
    rows: usize,
    (train, test): (&[usize], &[usize]),
) -> Result<Option<(Vec<f32>, Vec<f32>)>, Error> {
    let Some(lp) = log_marginal else {
        return Ok(None);
    };
    check(bound, lp, rows)?;
    let pick = |r: &[usize]| r.iter().map(|&i| lp[i]).collect();
    Ok(Some((pick(train), pick(test))))
}
