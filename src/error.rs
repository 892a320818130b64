//! The library's error type.

use crate::gpu::GpuError;
use crate::validate::InputError;

/// Everything an estimate can fail with. Every variant's message is one readable line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data or a setting cannot be used (the typed cases: [`InputError`]).
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// Any other setting or argument that cannot be used, in words.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The GPU failed (and the CPU was not an acceptable fallback).
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// Training produced a non-finite number; no estimate is reported.
    #[error(
        "training diverged at step {step}: {what} was not finite; lower the learning rate, \
         or use a bound with a bounded objective (SMILE, JS)"
    )]
    Diverged {
        /// The first step with a non-finite number.
        step: u64,
        /// "the bound value" or "a parameter or gradient".
        what: &'static str,
    },
    /// The run ran away (see [`crate::runaway`]) before any held-out evaluation that could be
    /// reported instead; the message is [`crate::runaway::Runaway::warning`]'s.
    #[error("no estimate: {0}")]
    RunawayEstimate(String),
}

impl Error {
    /// True for bad input (the data or a setting), as opposed to a failure while running.
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Input(_) | Error::InvalidInput(_))
    }
}

impl From<crate::train::Divergence> for Error {
    fn from(d: crate::train::Divergence) -> Self {
        Error::Diverged {
            step: d.step,
            what: if d.value {
                "the bound value"
            } else {
                "a parameter or gradient"
            },
        }
    }
}
