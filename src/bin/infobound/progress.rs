//! The one-line progress display on a terminal's stderr: redrawn in place while a run
//! trains, erased when it ends.

use std::io::Write as _;
use std::time::Instant;

use infobound::Progress;

use crate::units::unit;

/// An estimate's progress: step, latest value, steps/s and time left.
pub fn estimate_line(p: &Progress, bits: bool) {
    let (scale, unit) = unit(bits);
    let (rate, eta) = pace(
        p.step as f64,
        p.total.saturating_sub(p.step) as f64,
        p.seconds,
    );
    let value = match (p.latest, p.train_value) {
        (Some(e), _) => format!("held-out {:.4} {unit}", e.mi * scale),
        (None, Some(v)) => format!("train {:.4} {unit}", f64::from(v) * scale),
        (None, None) => String::new(),
    };
    redraw(format_args!(
        "step {}/{}  {value}  {rate:.0} steps/s  ETA {eta:.0} s",
        p.step, p.total
    ));
}

/// One staircase run's progress: which run, step, steps/s and time left.
pub fn staircase_line(task: &str, bound: &str, done: u32, total: u32, start: Instant) {
    let (rate, eta) = pace(
        f64::from(done),
        f64::from(total - done),
        start.elapsed().as_secs_f64(),
    );
    redraw(format_args!(
        "{task} {bound}: step {done}/{total}  {rate:.0} steps/s  ETA {eta:.0} s"
    ));
}

/// Erases the progress line, so that what follows starts on a clean line.
pub fn clear() {
    eprint!("\r\x1b[2K");
}

/// Steps a second after `done` steps in `seconds`, and the seconds the `left` steps will take.
fn pace(done: f64, left: f64, seconds: f64) -> (f64, f64) {
    let rate = done / seconds.max(1e-9);
    (rate, left / rate.max(1e-9))
}

/// Replaces the progress line with `line`.
fn redraw(line: std::fmt::Arguments) {
    eprint!("\r\x1b[2K{line}");
    let _ = std::io::stderr().flush();
}
