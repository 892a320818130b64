//! What a run asks of a backend beyond the spec: steps per submission, room for a kernel
//! geometry per adapter, cancellation and the fast CPU backend's threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::gpu::GeometryChoice;

/// A flag another thread sets to stop a run between submissions. Cloning shares the flag.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding this token to stop at its next submission boundary.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A run's options: `Default` plus `with_*` setters.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Most steps one GPU submission records; values are read back once a chunk, and a
    /// cancellation is seen between chunks.
    pub chunk: u32,
    /// How the GPU picks its kernels' geometry (the CPU backends ignore it).
    pub geometry: GeometryChoice,
    /// Stops the run between submissions when cancelled.
    pub cancel: Option<CancelToken>,
    /// Threads of the fast CPU backend (0, the default: one a core). The GPU and the CPU
    /// reference ignore it; the bits of a run do not depend on it.
    pub threads: usize,
}

impl PartialEq for CancelToken {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            chunk: 250,
            geometry: GeometryChoice::Auto,
            cancel: None,
            threads: 0,
        }
    }
}

impl RunOptions {
    setter!(/// Sets the steps per submission.
        with_chunk, chunk: u32);
    setter!(/// Sets the kernel geometry.
        with_geometry, geometry: GeometryChoice);
    setter!(/// Sets the cancellation token.
        with_cancel, cancel: Option<CancelToken>);
    setter!(/// Sets the fast CPU backend's threads (0: one a core).
        with_threads, threads: usize);

    /// Whether a cancellation was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }
}

/// Runs `steps` steps as calls of at most `options.chunk` (one submission each on the GPU),
/// checking the cancellation before each; `step` is the steps taken before.
pub(super) fn in_chunks(
    options: &RunOptions,
    steps: u32,
    step: u64,
    mut run: impl FnMut(u32) -> Result<Vec<f32>, super::BackendError>,
) -> Result<Vec<f32>, super::BackendError> {
    let mut values = Vec::with_capacity(steps as usize);
    let chunk = options.chunk.max(1);
    while (values.len() as u32) < steps {
        if options.cancelled() {
            return Err(super::BackendError::Cancelled {
                step: step + values.len() as u64,
            });
        }
        let now = (steps - values.len() as u32).min(chunk);
        values.extend(run(now)?);
    }
    Ok(values)
}
