//! A run off the GIL that Ctrl-C can stop: the library works on a scoped worker thread while
//! this thread waits with the GIL released, taking it back every `POLL` to call the progress
//! callback and `Python::check_signals`. A pending SIGINT cancels the run's `CancelToken`
//! (the run stops between device submissions) and raises `KeyboardInterrupt`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use infobound::{CancelToken, Error};
use pyo3::prelude::*;

use crate::errors::{panic_to_py, to_py};

/// How often the waiting thread takes the GIL back to look for signals: Ctrl-C is seen within
/// this, plus the time to the next submission boundary.
const POLL: Duration = Duration::from_millis(100);

/// Runs `work` on a worker thread with the GIL released; `token` is the one its estimator
/// stops on. `work` gets a sender for progress events (a library [`infobound::Progress`], or
/// one tagged with its batched run); every event reaches `on_progress` on this thread, with
/// the GIL held. An error raised by `on_progress` or a signal cancels the run and is raised
/// once the worker has stopped.
pub fn run_cancellable<T: Send, E: Send>(
    py: Python<'_>,
    token: CancelToken,
    work: impl FnOnce(&mpsc::Sender<E>) -> Result<T, Error> + Send,
    mut on_progress: impl FnMut(&E) -> PyResult<()>,
) -> PyResult<T> {
    let (tx, rx) = mpsc::channel::<E>();
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            // A panic on the worker is caught here, never unwound into Python.
            catch_unwind(AssertUnwindSafe(|| work(&tx)))
        });
        let mut raised: Option<PyErr> = None;
        // The receiver travels into each wait and back: a `&Receiver` is not `Send`.
        let mut rx = rx;
        loop {
            let (event, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
            rx = back;
            match event {
                Ok(p) if raised.is_none() => {
                    if let Err(e) = on_progress(&p) {
                        token.cancel();
                        raised = Some(e);
                    }
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                // The worker has finished: its sender is gone.
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if raised.is_none() {
                if let Err(e) = py.check_signals() {
                    token.cancel();
                    raised = Some(e);
                }
            }
        }
        let outcome = py.detach(move || worker.join());
        if let Some(e) = raised {
            // Whatever the worker returned (most likely `Error::Cancelled`), the interrupt
            // or the callback's exception is what the caller sees.
            return Err(e);
        }
        match outcome {
            Ok(Ok(result)) => result.map_err(to_py),
            Ok(Err(payload)) | Err(payload) => Err(panic_to_py(payload)),
        }
    })
}
