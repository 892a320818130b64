//! The reported number (SPEC §6): the chosen step's critic read out once on the report part
//! of the held-out rows, its standard error, and the InfoNCE read-out that checks it.
//!
//! **No selection bias.** The held-out rows are cut in two at random. Every evaluation during
//! training reads the *selection* part, and the step is chosen there (the best evaluation
//! before any runaway). That step's critic is then read once on the *report* part, which no
//! choice has seen, so the reported value is an unbiased read-out of the chosen critic.
//!
//! **The standard error** adds two independent parts in quadrature:
//! - *sampling*: the spread of the report part's batch values. Its B batches of K rows are
//!   drawn from only n_report rows, so they overlap when B·K > n_report, and their mean knows
//!   no more than those rows do: the batch variance is divided by min(B, n_report / K), not
//!   by B. (A whole-split read-out uses disjoint row blocks and needs no such correction.)
//! - *optimisation*: the critic at the chosen step is one draw from the optimiser's
//!   fluctuation. The selection part evaluates the same fixed batches every time, so the
//!   change between consecutive evaluations late in training is the critic's own jitter; its
//!   mean square over the second half of the evaluations, halved, estimates that variance
//!   (a trend left in it only widens the error).
//!
//! **The cross-check.** InfoNCE over every pair of the report part (K = n_report,
//! [`crate::math::cross_check`]) is a lower bound for any critic, capped at ln n_report. When it
//! sits more than 1 nat below its ceiling and the reported value exceeds it by more than
//! max(0.1 nats, 3 × the paired standard error of their difference over the same row blocks),
//! the two read-outs disagree and the report warns.

use crate::backend::{HeldOutValues, ReadOut};
use crate::math::cross_check::{block_means, paired_std_err};
use crate::math::sampling::batch_rows;
use crate::math::spec::eval_seed;
use crate::Error;

/// How far (nats) the cross-check may sit below its ceiling and still be taken as informative.
pub const CEILING_MARGIN_NATS: f64 = 1.0;

/// The smallest excess (nats) of the reported value over the cross-check that warns.
pub const MIN_EXCESS_NATS: f64 = 0.1;

/// Standard errors of the paired difference the reported value may exceed the cross-check by.
pub const EXCESS_STD_ERRS: f64 = 3.0;

/// The InfoNCE read-out of the chosen critic over the whole report part.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct CrossCheck {
    /// InfoNCE at K = the report part's rows, nats.
    pub mi: f64,
    /// Its standard error over the report read-out's row blocks, nats.
    pub std_err: f64,
    /// Its ceiling, ln n_report.
    pub ceiling: f64,
    /// The reported value minus this read-out, over the same row blocks, nats.
    pub excess: f64,
    /// The standard error of that difference from the paired block values.
    pub excess_std_err: f64,
    /// Whether the two read-outs disagree (the rule in the module doc).
    pub disagrees: bool,
}

impl CrossCheck {
    /// Compares the reported read-out with InfoNCE terms of the same critic: `reported` is
    /// the reported value, `report_blocks` its value on each row block, `blocks` those blocks
    /// (indices into the report part's rows), `terms` the InfoNCE term of every report row,
    /// and `overlap` the factor that widens the paired error for overlapping blocks.
    pub fn new(
        reported: f64,
        report_blocks: &[f64],
        blocks: &[Vec<usize>],
        terms: &[f64],
        overlap: f64,
    ) -> Self {
        let n = terms.len();
        let mi = terms.iter().sum::<f64>() / n as f64;
        let ceiling = (n as f64).ln();
        let infonce_blocks = block_means(terms, blocks);
        let std_err = crate::math::split_eval::std_err(&infonce_blocks) * overlap;
        let excess = reported - mi;
        let excess_std_err = paired_std_err(report_blocks, &infonce_blocks) * overlap;
        let threshold = MIN_EXCESS_NATS.max(EXCESS_STD_ERRS * excess_std_err.max(0.0));
        let disagrees = mi < ceiling - CEILING_MARGIN_NATS && excess > threshold;
        Self {
            mi,
            std_err,
            ceiling,
            excess,
            excess_std_err,
            disagrees,
        }
    }

    /// The warning when the read-outs disagree, with both numbers and what to do.
    pub fn warning(&self, bound: &str) -> Option<String> {
        self.disagrees.then(|| {
            format!(
                "the read-outs disagree: {bound} read {:.3} nats, {:.3} ± {:.3} above InfoNCE over \
                 every pair of the same held-out rows ({:.3} ± {:.3}, ceiling {:.3}), which no \
                 critic can push past the truth by more than its noise; the estimate may \
                 overshoot: trust the InfoNCE read-out as a lower bound, try more steps, a \
                 smaller critic or more rows, or a smaller SMILE τ",
                self.mi + self.excess,
                self.excess,
                self.excess_std_err,
                self.mi,
                self.std_err,
                self.ceiling
            )
        })
    }
}

/// The rows (indices into the report part) of each of a batched read-out's batches: the same
/// draws the backends make ([`batch_rows`] from the stream of [`eval_seed`]).
pub fn batch_blocks(seed: u64, batches: u32, rows: usize, k: usize) -> Vec<Vec<usize>> {
    (0..batches)
        .map(|b| {
            batch_rows(eval_seed(seed), b, rows, k)
                .into_iter()
                .map(|r| r as usize)
                .collect()
        })
        .collect()
}

/// The row blocks of a whole-split read-out: `blocks` contiguous runs (sizes differing by at
/// most one) of its draw order, as [`crate::math::split_eval::row_block_values`] cuts them.
pub fn split_blocks(draw_order: &[usize], blocks: usize) -> Vec<Vec<usize>> {
    let k = draw_order.len();
    let blocks = blocks.clamp(1, k.max(1));
    (0..blocks)
        .map(|b| draw_order[b * k / blocks..(b + 1) * k / blocks].to_vec())
        .collect()
}

/// The factor that widens the standard error of the mean of `batches` overlapping batches of
/// `k` rows drawn from `rows` rows: √(B / min(B, rows / k)), at least 1.
pub fn overlap_factor(batches: usize, rows: usize, k: usize) -> f64 {
    let b = batches.max(1) as f64;
    let independent = (rows as f64 / k.max(1) as f64).max(1.0);
    (b / b.min(independent)).sqrt()
}

/// The optimisation's standard deviation from the selection part's evaluations (in order):
/// √(mean of (e_{t+1} − e_t)² / 2) over the second half of them; 0 with fewer than two there.
pub fn optimisation_sd(evaluations: &[f64]) -> f64 {
    let late = &evaluations[evaluations.len() / 2..];
    if late.len() < 2 {
        return 0.0;
    }
    let msd = late.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (late.len() - 1) as f64;
    (msd / 2.0).sqrt()
}

/// The held-out read-out's numbers: the report part's value, its two standard errors, and the
/// cross-check (the module doc).
pub(crate) struct ReadOutSummary {
    pub(crate) mi: f64,
    pub(crate) sampling: f64,
    pub(crate) optimisation: f64,
    pub(crate) cross: Option<CrossCheck>,
}

impl ReadOutSummary {
    /// Summarises `out` of the chosen critic; `history` is the selection part's evaluations
    /// before any runaway, in order; `(seed, batches)` the estimator's seed and evaluation
    /// batches; `(rows, k)` the report part's rows and batch K.
    pub(crate) fn new(
        out: &ReadOut,
        history: &[f64],
        (seed, batches): (u64, u32),
        (rows, k): (usize, usize),
        step: u64,
    ) -> Result<Self, Error> {
        let (mi, sampling, blocks, row_blocks, overlap) = match &out.values {
            HeldOutValues::Batches(values) => {
                let (mi, se) = finite_mean(&out.values, step, REPORT_VALUE)?;
                let overlap = overlap_factor(values.len(), rows, k);
                let blocks: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
                let row_blocks = batch_blocks(seed, batches, rows, k);
                (mi, se * overlap, blocks, row_blocks, overlap)
            }
            HeldOutValues::WholeSplit {
                mi,
                std_err,
                blocks,
            } => {
                if !mi.is_finite() {
                    return Err(Error::Diverged {
                        step,
                        what: REPORT_VALUE.0,
                    });
                }
                let order = out.draw_order.as_deref().unwrap_or_default();
                let row_blocks = split_blocks(order, blocks.len());
                (*mi, *std_err, blocks.clone(), row_blocks, 1.0)
            }
        };
        let cross = out
            .infonce_terms
            .as_deref()
            .map(|t| CrossCheck::new(mi, &blocks, &row_blocks, t, overlap));
        Ok(Self {
            mi,
            sampling,
            optimisation: optimisation_sd(history),
            cross,
        })
    }

    /// Sampling and optimisation errors in quadrature.
    pub(crate) fn std_err(&self) -> f64 {
        self.sampling.hypot(self.optimisation)
    }
}

/// What a non-finite selection-part evaluation is called: (the first value, a later one).
pub(crate) const HELD_OUT_VALUE: (&str, &str) =
    ("the held-out bound value", "a held-out bound value");

/// What a non-finite report-part read-out is called.
const REPORT_VALUE: (&str, &str) = (
    "the held-out report part's read-out",
    "the held-out report part's read-out",
);

/// The mean and standard error of one evaluation's values, or the divergence a non-finite
/// value means, named by `what` (the first value, a later one).
pub(crate) fn finite_mean(
    values: &HeldOutValues,
    step: u64,
    what: (&'static str, &'static str),
) -> Result<(f64, f64), Error> {
    let (mi, se) = match values {
        HeldOutValues::WholeSplit { mi, std_err, .. } => (*mi, *std_err),
        HeldOutValues::Batches(values) => {
            if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
                let what = if bad == 0 { what.0 } else { what.1 };
                return Err(Error::Diverged { step, what });
            }
            mean_and_se(values)
        }
    };
    if !mi.is_finite() {
        return Err(Error::Diverged { step, what: what.0 });
    }
    Ok((mi, se))
}

/// Mean and standard error of independent values.
pub fn mean_and_se(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_batches_count_as_the_rows_they_hold() {
        // 16 batches of 128 from 1 000 rows hold 1 000 / 128 ≈ 7.8 batches' worth.
        let f = overlap_factor(16, 1000, 128);
        assert!((f - (16.0f64 / 7.8125).sqrt()).abs() < 1e-12);
        // Disjoint enough: no widening.
        assert_eq!(overlap_factor(4, 1000, 128), 1.0);
        assert_eq!(overlap_factor(1, 10, 128), 1.0);
    }

    #[test]
    fn optimisation_jitter_from_consecutive_evaluations() {
        assert_eq!(optimisation_sd(&[1.0]), 0.0);
        assert_eq!(optimisation_sd(&[5.0, 1.0, 1.0, 1.0]), 0.0, "a flat tail");
        // A tail alternating ±0.1: successive differences of 0.2, variance 0.02 = 0.1².
        let e = [0.0, 0.0, 1.0, 1.2, 1.0, 1.2, 1.0];
        assert!((optimisation_sd(&e) - 0.2 / 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn blocks_follow_the_draws_and_the_split() {
        let b = batch_blocks(3, 4, 50, 10);
        assert_eq!(b.len(), 4);
        for block in &b {
            let mut s = block.clone();
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), 10, "a batch draws distinct rows");
            assert!(s.iter().all(|&r| r < 50));
        }
        assert_eq!(b, batch_blocks(3, 4, 50, 10));
        let order = [4, 2, 0, 1, 3];
        assert_eq!(
            split_blocks(&order, 2),
            vec![vec![4, 2], vec![0, 1, 3]],
            "contiguous runs of the draw order"
        );
    }

    #[test]
    fn disagreement_needs_a_clear_excess_below_the_ceiling() {
        // 100 rows, every InfoNCE term 0.5; blocks of 10.
        let terms = vec![0.5; 100];
        let blocks: Vec<Vec<usize>> = (0..10).map(|b| (b * 10..b * 10 + 10).collect()).collect();
        let noisy = |c: f64| -> Vec<f64> {
            (0..10)
                .map(|b| c + if b % 2 == 0 { 0.01 } else { -0.01 })
                .collect()
        };
        let agree = CrossCheck::new(0.55, &noisy(0.55), &blocks, &terms, 1.0);
        assert!(!agree.disagrees, "0.05 above is within 0.1 nats");
        assert!(agree.warning("smile").is_none());
        let over = CrossCheck::new(2.0, &noisy(2.0), &blocks, &terms, 1.0);
        assert!(over.disagrees);
        assert!((over.excess - 1.5).abs() < 1e-12);
        let w = over.warning("smile").unwrap();
        assert!(w.contains("2.000") && w.contains("0.500"), "{w}");
        // Near its ceiling ln 100 ≈ 4.6 the InfoNCE read-out says nothing: no warning.
        let capped = vec![4.0; 100];
        assert!(!CrossCheck::new(9.0, &noisy(9.0), &blocks, &capped, 1.0).disagrees);
        // A noisy difference: 3 s.e. above 1.5 keeps it quiet.
        let wild: Vec<f64> = (0..10)
            .map(|b| if b % 2 == 0 { 8.0 } else { -4.0 })
            .collect();
        assert!(!CrossCheck::new(2.0, &wild, &blocks, &terms, 1.0).disagrees);
    }
}
