//! A closed stdout ends the process quietly, as it ends `cat` or `grep`.
//!
//! Rust starts programs with SIGPIPE ignored, so once the reader of `infobound … | head -1`
//! has gone every later print fails, and `println!` panics on the failure: an "internal
//! error" and exit status 101 for what is an ordinary way to stop reading. Restoring the
//! default disposition makes the kernel end the process at that write instead (status 141 in
//! a shell), for every command and every print at once.

/// Restores SIGPIPE's default disposition (terminate). Call first thing in `main`.
#[cfg(unix)]
pub fn end_quietly_when_stdout_closes() {
    // SAFETY: `signal` with SIG_DFL only changes this process's disposition for SIGPIPE; it is
    // called before any other thread exists and no handler of ours is replaced.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Elsewhere there is no SIGPIPE; a failed print still ends in the panic hook's one line.
#[cfg(not(unix))]
pub fn end_quietly_when_stdout_closes() {}
