//! Errors of the backend layer: a device failure, a spec that cannot run, a divergence, a
//! cancellation, or replicas that cannot share a run.

use crate::gpu::GpuError;
use crate::math::spec::{Divergence, SpecError};

/// Why a backend could not open, build a trainer or run it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The GPU failed.
    #[error(transparent)]
    Gpu(GpuError),
    /// The spec cannot train on the data given.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Training produced a non-finite value, parameter or gradient.
    #[error("training diverged at step {}", .0.step)]
    Diverged(Divergence),
    /// The run's [`super::CancelToken`] was cancelled.
    #[error("cancelled after {step} steps")]
    Cancelled {
        /// Steps taken before the run stopped.
        step: u64,
    },
    /// A whole-split evaluation asked of a backend that has none.
    #[error("this backend cannot evaluate {rows} held-out rows as one batch")]
    WholeSplit {
        /// The held-out rows.
        rows: usize,
    },
    /// A batched run failed as a whole (the device), stopping every replica in it.
    #[error("the batched run failed: {reason}")]
    RunFailed {
        /// What the device said.
        reason: String,
    },
    /// A batched run of no replicas.
    #[error("a batched run needs at least one replica")]
    NoReplicas,
    /// A replica that cannot share a batched run with the first: replicas share the bound,
    /// the critic, the batch, the row counts and the column widths.
    #[error("replica {replica} differs from replica 0 in its {what}; such replicas train in separate runs")]
    ReplicaMismatch {
        /// The replica's index.
        replica: usize,
        /// What differs.
        what: &'static str,
    },
}

impl From<GpuError> for BackendError {
    /// The GPU layer's divergence and spec errors become this layer's, so that callers match
    /// one variant whatever the backend.
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::Diverged(d) => BackendError::Diverged(d),
            GpuError::Spec(s) => BackendError::Spec(s),
            other => BackendError::Gpu(other),
        }
    }
}

impl From<Divergence> for BackendError {
    fn from(d: Divergence) -> Self {
        BackendError::Diverged(d)
    }
}
