//! How a command fails: one line for stderr and the exit status that goes with it.

use infobound::Error;

/// A failure: its one-line message and exit status.
pub struct Failure {
    /// The exit status: 2 for bad input, 1 for a failure while running.
    pub code: u8,
    /// The message, without the `error: ` that `main` puts before it.
    pub msg: String,
}

/// Bad input (exit 2): a missing or malformed option, file or setting.
pub fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        msg: msg.into(),
    }
}

/// A failure while running (exit 1): no GPU when one is required, a diverged run, an
/// unwritable output.
pub fn runtime(msg: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        msg: msg.into(),
    }
}

impl From<Error> for Failure {
    /// A setting the library rejects is bad input; anything else happened while running.
    fn from(e: Error) -> Self {
        let code = if e.is_input() { 2 } else { 1 };
        // One line, whatever the source says.
        let msg = e.to_string().replace('\n', " ");
        Failure { code, msg }
    }
}
