//! The library's error type: every layer's typed error, joined for the public API.

use std::path::PathBuf;

use crate::backend::{BackendError, GpuError};
use crate::estimate::validate::InputError;
use crate::math::spec::{Divergence, SpecError};

/// Everything an estimate can fail with. Every variant's message is one readable line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data or a setting cannot be used ([`InputError`]).
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The training spec cannot run on the data given ([`SpecError`]).
    #[error("invalid input: {0}")]
    Spec(#[from] SpecError),
    /// A file could not be read or parsed ([`FileError`]).
    #[error("invalid input: {0}")]
    File(#[from] FileError),
    /// The GPU failed (and the CPU was not an acceptable fallback).
    #[error(transparent)]
    Gpu(GpuError),
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
    /// The run's cancellation token was cancelled; no estimate is reported.
    #[error("cancelled after {step} steps")]
    Cancelled {
        /// Steps taken.
        step: u64,
    },
    /// The run ran away (see [`crate::estimate::runaway`]) before any held-out evaluation
    /// that could be reported instead.
    #[error("no estimate: {0}")]
    RunawayEstimate(crate::estimate::runaway::NoEstimate),
    /// A loss for the caller's own model refused its input (the contrastive loss's
    /// [`crate::ContrastiveError`], the clips' `ClipError`); the source is that error.
    #[error(transparent)]
    Loss(Box<dyn std::error::Error + Send + Sync>),
    /// The failure of a batched run ([`crate::Estimator::estimate_many`]) that could not
    /// start, given to every pair in it.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),
}

impl Error {
    /// True for bad input (the data, a file or a setting), as opposed to a failure while
    /// running.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Shared(e) => e.is_input(),
            e => matches!(
                e,
                Error::Input(_) | Error::Spec(_) | Error::File(_) | Error::Loss(_)
            ),
        }
    }
}

impl From<Divergence> for Error {
    fn from(d: Divergence) -> Self {
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

impl From<GpuError> for Error {
    fn from(e: GpuError) -> Self {
        BackendError::from(e).into()
    }
}

impl From<BackendError> for Error {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Gpu(g) => Error::Gpu(g),
            BackendError::Spec(s) => Error::Spec(s),
            BackendError::Diverged(d) => d.into(),
            BackendError::Cancelled { step } => Error::Cancelled { step },
            other => Error::Input(InputError::Backend {
                reason: other.to_string(),
            }),
        }
    }
}

/// What is wrong with a file's contents, in words that say what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{found}")]
pub struct FormatError {
    /// What the reader found instead of what it accepts.
    pub found: String,
}

/// A file that could not be read, or whose contents are not a table; it names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The contents are not a `.npy` array or a numeric CSV table.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: FormatError,
    },
}
