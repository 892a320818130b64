//! Runaway detection: a run whose estimate grows past what the bound and the sample size can
//! certify, or whose gradient norms grow by orders of magnitude, is flagged with the step and
//! a remedy rather than reported as an answer.
//!
//! Why these two signals. A distribution-free lower bound on MI computed from n samples cannot
//! certify more than about ln n (McAllester and Stratos 2020), so a black-box bound reading
//! above ln n says more about the critic than about the data. And the biased DV gradient
//! (Belghazi et al. 2018) does not fail with a NaN: its norms climb by orders of magnitude while the
//! value runs off to hundreds of nats, all finite.

/// How far the gradient norm's running median may grow over its early level before a run is
/// flagged: three orders of magnitude. A critic that learns a large MI legitimately grows its
/// gradient from its initial level (about 0.4 at initialisation in `mine-demo`) by up to two
/// orders (the EMA-corrected runs' medians stay near 10–100, with single spikes higher); the
/// running median ignores single spikes.
pub const NORM_GROWTH: f64 = 1_000.0;

/// What ran away.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum RunawayKind {
    /// The bound's value (its running median) passed what the samples can certify.
    Value {
        /// The running median of the values, nats.
        value: f64,
        /// The limit it passed (ln of the samples), nats.
        limit: f64,
    },
    /// The gradient norm's running median grew past [`NORM_GROWTH`] times its early level.
    GradNorm {
        /// The running median.
        norm: f64,
        /// The early level: the median norm of the first steps.
        early: f64,
    },
}

/// The first sign of a runaway.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Runaway {
    /// The training step (0-based) where it showed.
    pub step: u64,
    /// What showed it.
    pub kind: RunawayKind,
}

impl Runaway {
    /// One line for a report's warnings: the step, what happened, and what to do about it.
    pub fn warning(&self, bound: &str) -> String {
        let what = match self.kind {
            RunawayKind::Value { value, limit } => format!(
                "{bound} read {value:.3} nats, above ln(samples) = {limit:.3}, more than the samples can certify"
            ),
            RunawayKind::GradNorm { norm, early } => format!(
                "the critic's gradient norm (running median) reached {norm:.4e}, over {NORM_GROWTH:.0}× its early level {early:.4e}"
            ),
        };
        format!(
            "the run ran away at step {}: {what}; estimates from then on are not reported. \
             Remedies: MINE's EMA-corrected gradient (--bound mine) instead of DV, SMILE's \
             clipped bound (--bound smile), a lower learning rate, or a max gradient norm",
            self.step
        )
    }
}

/// Why a run has no estimate: it ran away (`runaway`) before any evaluation that could be
/// reported, or nothing was evaluated at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoEstimate {
    /// The runaway, if one was found.
    pub runaway: Option<Runaway>,
    /// The bound's name.
    pub bound: &'static str,
}

impl std::fmt::Display for NoEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.runaway {
            Some(r) => f.write_str(&r.warning(self.bound)),
            None => f.write_str("nothing was evaluated"),
        }
    }
}

/// Steps whose median norm is the early level: a twentieth of the run, 10 to 100 steps.
fn early_window(len: usize) -> usize {
    (len / 20).clamp(10, 100)
}

/// The first runaway in a training run: `values` and `norms` per step (from step 0), and the
/// value limit where one applies (ln of the sample size for bounds without a ceiling).
/// Both signals are running medians of the last w steps (w: a twentieth of the run, 10 to
/// 100 steps; fewer at the start), so one noisy batch or one spike is not a runaway: the
/// values' against the limit, the norms' against the median of the first w norms. The step
/// reported is the window's last.
pub fn detect(values: &[f32], norms: &[f32], value_limit: Option<f64>) -> Option<Runaway> {
    let wv = early_window(values.len());
    let by_value = value_limit.and_then(|limit| {
        (0..values.len()).find_map(|t| {
            let m = median(&values[(t + 1).saturating_sub(wv)..=t])?;
            (m > limit).then_some(Runaway {
                step: t as u64,
                kind: RunawayKind::Value { value: m, limit },
            })
        })
    });
    let w = early_window(norms.len());
    let by_norm = (norms.len() > w)
        .then(|| {
            let early = median(&norms[..w])?;
            if early <= 0.0 {
                return None;
            }
            (w..norms.len()).find_map(|t| {
                let m = median(&norms[t + 1 - w..=t])?;
                (m > NORM_GROWTH * early).then_some(Runaway {
                    step: t as u64,
                    kind: RunawayKind::GradNorm { norm: m, early },
                })
            })
        })
        .flatten();
    match (by_value, by_norm) {
        (Some(a), Some(b)) => Some(if b.step < a.step { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The median of the finite values (the upper one of an even count), if any.
fn median(values: &[f32]) -> Option<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .map(|&x| f64::from(x))
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_staying_past_the_limit_are_flagged_but_not_one_noisy_batch() {
        let mut values = vec![1.0f32; 40];
        values[3] = 50.0;
        assert!(detect(&values, &[], Some(9.0)).is_none());
        for v in &mut values[20..] {
            *v = 9.5;
        }
        // The running median of the last 10 passes 9 once five of them are 9.5 (step 24).
        let r = detect(&values, &[], Some(9.0)).unwrap();
        assert_eq!(r.step, 24);
        assert!(matches!(r.kind, RunawayKind::Value { value, .. } if value == 9.5));
        assert!(detect(&values, &[], Some(10.0)).is_none());
        assert!(detect(&values, &[], None).is_none());
        assert!(r.warning("DV").contains("step 24"));
        // The first step alone is its own window.
        assert_eq!(detect(&[20.0], &[], Some(9.0)).unwrap().step, 0);
    }

    #[test]
    fn norms_growing_three_orders_are_flagged_but_not_single_spikes() {
        // w = 10 for 40 steps; early level 1.
        let mut norms = vec![1.0f32; 40];
        norms[15] = 1e6;
        assert!(detect(&[], &norms, None).is_none());
        for n in &mut norms[20..30] {
            *n = 999.0;
        }
        assert!(detect(&[], &norms, None).is_none());
        for n in &mut norms[30..] {
            *n = 1001.0;
        }
        // The running median (the upper of an even count) of steps 25..=34 passes 1000 once
        // five of its ten are 1001.
        let r = detect(&[], &norms, None).unwrap();
        assert_eq!(r.step, 34);
        // The earlier of the two signals wins.
        let values = vec![0.0f32; 40];
        let mut v2 = values.clone();
        for v in &mut v2[16..] {
            *v = 50.0;
        }
        assert_eq!(detect(&v2, &norms, Some(10.0)).unwrap().step, 20);
        assert_eq!(detect(&values, &norms, Some(10.0)).unwrap().step, 34);
    }
}
