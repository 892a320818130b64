//! The estimate protocol (SPEC §6): the estimator and its report, input validation, the
//! marginal transforms, runaway and limit checks, convergence diagnostics, the known
//! marginal of the density bounds, the data loaders, and the crate's error type.

mod checks;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod estimator;
pub mod io;
pub mod known_marginal;
pub mod limits;
pub mod many;
pub mod marginal;
pub mod mi_matrix;
mod prepared;
mod protocol;
pub mod readout;
pub mod report;
pub mod runaway;
pub mod split;
pub mod validate;
