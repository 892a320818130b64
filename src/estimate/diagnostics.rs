//! Convergence diagnostics: what the curves of a finished run say about whether its estimate
//! can be trusted, each as a warning with a remedy.
//!
//! Three failure shapes, read off the held-out evaluations and the training curve:
//! - **still rising**: the last quarter of the evaluations sits clearly above the quarter
//!   before it, so more steps would have read more;
//! - **fell from its best**: the last quarter sits well below the best evaluation, so the
//!   critic overfits or training destabilised, and the best is one noisy peak;
//! - **overfitting gap**: the training value over the last evaluation interval sits well above
//!   the held-out value at the same K, so the critic memorised its training rows.
//!
//! "Clearly" is relative to the noise of the means being compared (the evaluations' standard
//! errors) and to a floor in nats, so that none fires on the default Gaussian tasks (tested
//! in `tests/protocol.rs`) while each fires on a constructed curve (the tests below).

use std::fmt;

/// Fewest evaluations the trend diagnostics look at: with fewer, a quarter is not a mean.
pub const MIN_EVALUATIONS: usize = 8;

/// A rise or fall counts when it passes this many standard errors of the difference...
const SIGMAS: f64 = 3.0;
/// ...and this share of the best value...
const RELATIVE: f64 = 0.05;
/// ...and this many nats.
const FLOOR: f64 = 0.02;

/// The overfitting gap counts past this share of the held-out value and [`GAP_FLOOR`] nats.
/// Tuned on the default 10-d Gaussian of 4 nats, whose training values sit about 20 % above
/// its held-out ones at 2 000 steps while the held-out estimate is on the truth.
const GAP_RELATIVE: f64 = 0.3;
/// The overfitting gap's floor, nats.
const GAP_FLOOR: f64 = 0.1;

/// One held-out evaluation as the diagnostics read it: the value and its standard error, nats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Training steps taken when it ran.
    pub step: u64,
    /// The value, nats.
    pub mi: f64,
    /// Its standard error, nats (NaN when unknown).
    pub std_err: f64,
}

/// Something a run's curves say about its estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Diagnostic {
    /// The held-out value was still rising when training stopped.
    StillRising {
        /// Mean of the quarter of evaluations before the last quarter, nats.
        before: f64,
        /// Mean of the last quarter, nats.
        last: f64,
    },
    /// The held-out value fell well below its best.
    FellFromBest {
        /// The best evaluation, nats.
        best: f64,
        /// The step it was made at.
        best_step: u64,
        /// Mean of the last quarter, nats.
        last: f64,
    },
    /// Training values sit well above held-out values at the same batch size.
    OverfittingGap {
        /// Mean training value over the last evaluation interval, nats.
        train: f64,
        /// The last held-out value, nats.
        held_out: f64,
    },
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Diagnostic::StillRising { before, last } => write!(
                f,
                "the held-out value was still rising when training stopped ({before:.4} → \
                 {last:.4} nats over the last half of the evaluations): the estimate is likely \
                 low; train for more steps"
            ),
            Diagnostic::FellFromBest {
                best,
                best_step,
                last,
            } => write!(
                f,
                "the held-out value fell from its best, {best:.4} nats at step {best_step}, to \
                 {last:.4} over the last evaluations: the critic overfits or training is \
                 unstable; use a smaller critic, a lower learning rate, more rows, or fewer \
                 steps"
            ),
            Diagnostic::OverfittingGap { train, held_out } => write!(
                f,
                "training values ({train:.4} nats) sit well above held-out values \
                 ({held_out:.4}): the critic memorises its training rows; use more rows, a \
                 smaller critic, or fewer steps"
            ),
        }
    }
}

/// Mean of the values and the standard error of that mean from the points' own errors.
fn mean_with_se(points: &[Point]) -> (f64, f64) {
    let n = points.len() as f64;
    let mean = points.iter().map(|p| p.mi).sum::<f64>() / n;
    let var = points
        .iter()
        .map(|p| {
            if p.std_err.is_finite() {
                p.std_err.powi(2)
            } else {
                0.0
            }
        })
        .sum::<f64>()
        / (n * n);
    (mean, var.sqrt())
}

/// Whether `a − b` is clearly positive: past [`SIGMAS`] standard errors, [`RELATIVE`] of
/// `scale` and [`FLOOR`] nats.
fn clearly_above(a: (f64, f64), b: (f64, f64), scale: f64) -> bool {
    let diff = a.0 - b.0;
    let se = (a.1.powi(2) + b.1.powi(2)).sqrt();
    diff > SIGMAS * se && diff > RELATIVE * scale.abs() && diff > FLOOR
}

/// The diagnostics of a run: its held-out `evaluations` in order, its training `curve` (one
/// value a step) and `eval_every`. `same_k` says whether training and held-out values are on
/// the same batch size, so comparable (not for the whole-split evaluation, whose K differs).
pub fn diagnose(
    evaluations: &[Point],
    curve: &[f32],
    eval_every: usize,
    same_k: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let m = evaluations.len();
    if m >= MIN_EVALUATIONS {
        let q = m / 4;
        let last = mean_with_se(&evaluations[m - q..]);
        let before = mean_with_se(&evaluations[m - 2 * q..m - q]);
        let best =
            evaluations
                .iter()
                .copied()
                .fold(evaluations[0], |b, e| if e.mi > b.mi { e } else { b });
        if clearly_above(last, before, best.mi) {
            out.push(Diagnostic::StillRising {
                before: before.0,
                last: last.0,
            });
        } else if best.step <= evaluations[m - q].step
            && clearly_above((best.mi, best.std_err), last, best.mi)
        {
            // The best must precede the last quarter: a best inside it is the plateau's noise.
            out.push(Diagnostic::FellFromBest {
                best: best.mi,
                best_step: best.step,
                last: last.0,
            });
        }
    }
    if let (true, Some(e)) = (same_k, evaluations.last()) {
        let tail = &curve[curve.len().saturating_sub(eval_every)..];
        if !tail.is_empty() {
            let train = tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len() as f64;
            let gap = train - e.mi;
            if gap > GAP_FLOOR && gap > GAP_RELATIVE * e.mi.abs() {
                out.push(Diagnostic::OverfittingGap {
                    train,
                    held_out: e.mi,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64], se: f64) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, &mi)| Point {
                step: 100 * (i as u64 + 1),
                mi,
                std_err: se,
            })
            .collect()
    }

    /// A converged run: a rise, then a noisy plateau around 1 nat.
    fn plateau() -> Vec<f64> {
        let mut v = vec![0.2, 0.5, 0.7, 0.85, 0.93];
        v.extend([
            0.98, 1.01, 0.99, 1.02, 0.97, 1.0, 1.01, 0.99, 1.0, 0.98, 1.02, 0.99,
        ]);
        v
    }

    #[test]
    fn a_converged_run_gets_no_diagnostic() {
        let curve = vec![1.0f32; 1700];
        assert!(diagnose(&points(&plateau(), 0.02), &curve, 100, true).is_empty());
    }

    #[test]
    fn a_rising_run_is_flagged() {
        let v: Vec<f64> = (0..16).map(|i| 0.1 * i as f64).collect();
        let d = diagnose(&points(&v, 0.02), &[], 100, false);
        assert!(matches!(d[..], [Diagnostic::StillRising { .. }]), "{d:?}");
        assert!(d[0].to_string().contains("train for more steps"));
    }

    #[test]
    fn a_run_that_fell_from_its_best_is_flagged() {
        let mut v = plateau();
        v.extend([0.9, 0.8, 0.75, 0.7, 0.7, 0.68]);
        let d = diagnose(&points(&v, 0.02), &[], 100, false);
        assert!(
            matches!(
                d[..],
                [Diagnostic::FellFromBest {
                    best_step: 900 | 1200 | 1600,
                    ..
                }]
            ),
            "{d:?}"
        );
    }

    #[test]
    fn a_gap_between_training_and_held_out_values_is_flagged_only_at_the_same_k() {
        let curve = vec![1.6f32; 2000];
        let e = points(&plateau(), 0.02);
        let d = diagnose(&e, &curve, 100, true);
        assert!(
            matches!(d[..], [Diagnostic::OverfittingGap { .. }]),
            "{d:?}"
        );
        assert!(diagnose(&e, &curve, 100, false).is_empty());
    }

    #[test]
    fn noise_within_the_errors_is_not_a_trend() {
        // The last quarter 0.05 above the one before, with standard errors of 0.1.
        let mut v = vec![1.0; 12];
        v.extend([1.05; 4]);
        assert!(diagnose(&points(&v, 0.1), &[], 100, false).is_empty());
    }
}
