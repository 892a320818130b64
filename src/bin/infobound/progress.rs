//! Progress on a terminal's stderr (indicatif): a bar redrawn in place while a run trains and
//! erased when it ends. It is for a person watching, so it is drawn only when stderr is a
//! terminal, and never under `--quiet` or `--json`; elsewhere the bar draws nothing.

use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use infobound::Progress;

use crate::units::unit;

/// Whether progress is wanted: a terminal on stderr, and neither `--quiet` nor `--json`.
pub fn wanted(quiet: bool, json: bool) -> bool {
    !quiet && !json && std::io::stderr().is_terminal()
}

/// A progress bar on stderr, or one that draws nothing.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar of training steps labelled `prefix` (e.g. "gaussian smile"), with steps/s and
    /// the time left, drawn only when `show`.
    pub fn new(show: bool, prefix: impl Into<String>) -> Self {
        Self::styled(
            show,
            prefix.into(),
            "{prefix}step {pos}/{len} {wide_bar} {msg}  {rate} steps/s  ETA {eta}",
        )
    }

    /// A bar of benchmark rows labelled `prefix`, drawn only when `show`.
    pub fn rows(show: bool, prefix: impl Into<String>) -> Self {
        Self::styled(
            show,
            prefix.into(),
            "{prefix}row {pos}/{len} {wide_bar} {msg}",
        )
    }

    /// A bar drawn with `template` (indicatif's syntax, plus `{rate}`: whole steps a second).
    fn styled(show: bool, prefix: String, template: &str) -> Self {
        if !show {
            return Bar(ProgressBar::hidden());
        }
        // A few redraws a second: the training loop calls back far more often than that.
        let target = ProgressDrawTarget::stderr_with_hz(4);
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(template)
            .expect("a valid progress template")
            .with_key("rate", |s: &ProgressState, w: &mut dyn fmt::Write| {
                let _ = write!(w, "{:.0}", s.per_sec());
            })
            .progress_chars("=> ");
        bar.set_style(style);
        if !prefix.is_empty() {
            bar.set_prefix(format!("{prefix}: "));
        }
        bar.enable_steady_tick(Duration::from_millis(250));
        Bar(bar)
    }

    /// `done` of `total` steps, with a short note after the bar.
    pub fn update(&self, done: u64, total: u64, note: String) {
        self.0.set_length(total);
        self.0.set_position(done);
        self.0.set_message(note);
    }

    /// One estimate's progress: its step and its latest value (held-out, else training), and
    /// how many of a batched run's replicas are still running.
    pub fn estimate(&self, p: &Progress, bits: bool) {
        let (scale, unit) = unit(bits);
        let note = match (p.latest, p.train_value) {
            (Some(e), _) => format!("held-out {:.4} {unit}", e.mi * scale),
            (None, Some(v)) => format!("train {:.4} {unit}", f64::from(v) * scale),
            (None, None) => String::new(),
        };
        let note = match p.replicas {
            1 => note,
            n => format!("{note}  ({} of {n} replicas running)", p.running),
        };
        self.update(p.step, p.total, note);
    }

    /// Erases the bar, so that what follows starts on a clean line.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
