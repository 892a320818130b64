//! A known marginal p(y) given per row as log-densities, for Barber–Agakov and V_MS (SPEC §8).
//!
//! The values travel with the rows: they are uploaded once with the data
//! ([`crate::math::spec::TrainData::log_marginal`]) and every batch gathers its own rows' log p(y_i)
//! on the device with the same permutation as x and y (`Op::GatherMarginal`), so each batch
//! value is mean_i [log q(y_i|x_i) − log p(y_i)] over that batch's rows, in training and in
//! held-out evaluation alike, and the standard error is that of the bound itself.

use crate::math::bounds::Bound;
use crate::math::spec::{check_log_marginal, SpecError};

/// The (training, held-out) splits of a checked per-row `log_marginal`: the values of the rows
/// `train` and `test`, in those orders (as the splits of x and y are taken). `None` without one.
#[allow(clippy::type_complexity)]
pub fn split(
    bound: Bound,
    log_marginal: Option<&[f32]>,
    rows: usize,
    (train, test): (&[usize], &[usize]),
) -> Result<Option<(Vec<f32>, Vec<f32>)>, SpecError> {
    let Some(lp) = log_marginal else {
        return Ok(None);
    };
    check_log_marginal(bound, lp, rows)?;
    let pick = |r: &[usize]| r.iter().map(|&i| lp[i]).collect();
    Ok(Some((pick(train), pick(test))))
}
