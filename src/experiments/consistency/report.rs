//! One estimator's results over the settings and row counts: each estimate, its ratio to the
//! estimate it is compared with, and whether each property holds.

use super::setting::Setting;

/// How far a ratio may sit from its ideal and still count as holding: two standard errors of
/// the ratio, or [`RATIO_TOLERANCE`] × max(ideal, 1), whichever is larger.
pub const RATIO_TOLERANCE: f64 = 0.1;

/// One estimate: a setting at a row count t.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// The setting.
    pub setting: Setting,
    /// Y's rows.
    pub t: usize,
    /// (columns of X, columns of Y).
    pub dims: (usize, usize),
    /// The estimate, nats (NaN when the estimator failed: see `error`).
    pub estimate: f64,
    /// Its standard error, nats.
    pub std_err: f64,
    /// The estimate over the one it is compared with (the baseline at the largest t for the
    /// baseline, the baseline at the same t for the others); `None` when either failed or the
    /// denominator is not positive.
    pub ratio: Option<f64>,
    /// The ratio's standard error (the delta method, the two estimates independent; 0 for
    /// the baseline's own denominator).
    pub ratio_std_err: f64,
    /// Wall time of building the data and estimating, seconds.
    pub seconds: f64,
    /// The device that trained the critic (empty when the estimator failed).
    pub device: String,
    /// The estimator's warnings.
    pub warnings: Vec<String>,
    /// The estimator's error, when it produced no estimate.
    pub error: Option<String>,
}

impl Row {
    /// An estimate of `setting` at `t`, its ratio not yet known.
    pub fn scored(setting: Setting, t: usize, dims: (usize, usize), mi: f64, se: f64) -> Self {
        Row {
            setting,
            t,
            dims,
            estimate: mi,
            std_err: se,
            ratio: None,
            ratio_std_err: f64::NAN,
            seconds: 0.0,
            device: String::new(),
            warnings: Vec::new(),
            error: None,
        }
    }

    /// A run of `setting` at `t` that failed with `error`.
    pub fn failed(setting: Setting, t: usize, dims: (usize, usize), error: String) -> Self {
        Row {
            error: Some(error),
            ..Row::scored(setting, t, dims, f64::NAN, f64::NAN)
        }
    }

    /// The ideal ratio ([`Setting::ideal`]).
    pub fn ideal(&self) -> f64 {
        self.setting.ideal()
    }

    /// Whether the ratio is within tolerance of its ideal (see [`RATIO_TOLERANCE`]); `None`
    /// without a ratio. For the baseline this compares with 1, which only the largest t must
    /// reach; its property is [`Verdict`]'s monotonicity.
    pub fn near_ideal(&self) -> Option<bool> {
        let r = self.ratio?;
        Some((r - self.ideal()).abs() <= tolerance(self.ideal(), self.ratio_std_err))
    }
}

/// The tolerance around `ideal` for a ratio of standard error `se`.
fn tolerance(ideal: f64, se: f64) -> f64 {
    let noise = if se.is_finite() { 2.0 * se } else { 0.0 };
    noise.max(RATIO_TOLERANCE * ideal.abs().max(1.0))
}

/// Whether one setting's property holds over the row counts run.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// The setting.
    pub setting: Setting,
    /// True when the property holds at every t with a ratio.
    pub holds: bool,
    /// The row counts where it fails (for the baseline: where the ratio fell from the t
    /// before by more than the tolerance).
    pub failing: Vec<usize>,
    /// The row counts without a ratio (a failed estimate or a denominator ≤ 0).
    pub missing: Vec<usize>,
}

/// `a / b` and its delta-method standard error for independent `a ± sa`, `b ± sb`; `None`
/// unless both are finite and b > 0.
pub fn ratio(a: f64, sa: f64, b: f64, sb: f64) -> Option<(f64, f64)> {
    if !(a.is_finite() && b.is_finite() && b > 0.0) {
        return None;
    }
    let r = a / b;
    let se = (sa * sa + r * r * sb * sb).sqrt() / b;
    Some((r, se))
}

/// Fills every row's ratio: the baseline over the baseline at the largest t, every other
/// setting over the baseline at the same t.
pub fn fill_ratios(rows: &mut [Row]) {
    let baseline = |t: usize| {
        rows.iter()
            .find(|r| r.setting == Setting::Baseline && r.t == t && r.error.is_none())
            .map(|r| (r.estimate, r.std_err))
    };
    let top = rows
        .iter()
        .filter(|r| r.setting == Setting::Baseline)
        .map(|r| r.t)
        .max();
    let found: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| {
            if r.error.is_some() {
                return None;
            }
            if r.setting == Setting::Baseline && Some(r.t) == top {
                // Its own denominator: exactly 1.
                return (r.estimate > 0.0).then_some((1.0, 0.0));
            }
            let t = if r.setting == Setting::Baseline {
                top?
            } else {
                r.t
            };
            let (b, sb) = baseline(t)?;
            ratio(r.estimate, r.std_err, b, sb)
        })
        .collect();
    for (row, f) in rows.iter_mut().zip(found) {
        (row.ratio, row.ratio_std_err) = match f {
            Some((r, se)) => (Some(r), se),
            None => (None, f64::NAN),
        };
    }
}

/// Each setting's verdict from rows whose ratios are filled ([`fill_ratios`]), in the
/// settings' order. The baseline holds when no ratio falls from the previous t's by more than
/// the tolerance (its ideal is not falling); the others when every ratio is near its ideal.
pub fn verdicts(rows: &[Row]) -> Vec<Verdict> {
    let mut out = Vec::new();
    for setting in Setting::ALL {
        let mut these: Vec<&Row> = rows.iter().filter(|r| r.setting == setting).collect();
        if these.is_empty() {
            continue;
        }
        these.sort_by_key(|r| r.t);
        let missing: Vec<usize> = these
            .iter()
            .filter(|r| r.ratio.is_none())
            .map(|r| r.t)
            .collect();
        let failing: Vec<usize> = if setting == Setting::Baseline {
            let with: Vec<&&Row> = these.iter().filter(|r| r.ratio.is_some()).collect();
            with.windows(2)
                .filter(|w| {
                    let (a, b) = (w[0], w[1]);
                    let (ra, rb) = (a.ratio.unwrap_or(0.0), b.ratio.unwrap_or(0.0));
                    let se = a.ratio_std_err.hypot(b.ratio_std_err);
                    rb < ra - tolerance(1.0, se)
                })
                .map(|w| w[1].t)
                .collect()
        } else {
            these
                .iter()
                .filter(|r| r.near_ideal() == Some(false))
                .map(|r| r.t)
                .collect()
        };
        out.push(Verdict {
            setting,
            holds: failing.is_empty() && missing.len() < these.len(),
            failing,
            missing,
        });
    }
    out
}
