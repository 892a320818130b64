//! What an estimate refuses before it touches a device: the data's shape and values and every
//! setting of an [`Estimator`], each with its own [`InputError`].

use crate::estimate::data::Matrix;
use crate::estimate::estimator::Estimator;
use crate::estimate::split::held_out_count;
use crate::estimate::validate::{require, setting, InputError};
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;

// Methods, not free functions: the estimator calls them without importing this module, so
// the arrow runs one way (checks → estimator).
impl Estimator {
    /// Checks the data and every setting before anything is transformed or uploaded.
    pub(crate) fn check_inputs(&self, x: &Matrix<'_>, y: &Matrix<'_>) -> Result<(), InputError> {
        check(self, x, y)
    }
}

/// Checks the data and every setting of `est` before anything is standardised or uploaded, in
/// the order a user would fix them: shapes, values, batch and split, then the settings.
fn check(est: &Estimator, x: &Matrix<'_>, y: &Matrix<'_>) -> Result<(), InputError> {
    if x.rows() != y.rows() {
        return Err(InputError::RowMismatch {
            x: x.rows(),
            y: y.rows(),
        });
    }
    for (m, name) in [(x, "x"), (y, "y")] {
        if m.rows() == 0 {
            return Err(InputError::Empty { name: name.into() });
        }
    }
    x.finite("x")?;
    y.finite("y")?;
    settings(est)?;
    let n = x.rows();
    let test = held_out_count(n, est.test_fraction);
    if n - test < est.batch {
        return Err(InputError::TooFewRows {
            split: "training",
            rows: n - test,
            batch: est.batch,
        });
    }
    if est.test_fraction > 0.0 && test < est.batch {
        return Err(InputError::TooFewRows {
            split: "held-out",
            rows: test,
            batch: est.batch,
        });
    }
    Ok(())
}

/// Checks every setting of `est` on its own (no data needed).
fn settings(est: &Estimator) -> Result<(), InputError> {
    if est.batch < 2 {
        return Err(InputError::BatchTooSmall { batch: est.batch });
    }
    let f = est.test_fraction;
    require((0.0..1.0).contains(&f), "the test fraction", "in [0, 1)", f)?;
    for (v, name) in [
        (est.steps, "steps"),
        (est.eval_every, "eval_every"),
        (est.eval_batches, "eval_batches"),
        (est.average_last, "average_last"),
        (est.chunk, "chunk"),
        (est.replicas, "replicas"),
    ] {
        require(v > 0, name, "positive", v)?;
    }
    let a = &est.adam;
    require(
        a.lr.is_finite() && a.lr > 0.0,
        "the learning rate",
        "positive and finite",
        a.lr,
    )?;
    for (b, name) in [(a.beta1, "Adam's β1"), (a.beta2, "Adam's β2")] {
        require((0.0..1.0).contains(&b), name, "in [0, 1)", b)?;
    }
    require(
        a.eps.is_finite() && a.eps > 0.0,
        "Adam's ε",
        "positive and finite",
        a.eps,
    )?;
    require(
        a.weight_decay.is_finite() && a.weight_decay >= 0.0,
        "the weight decay",
        "finite and not negative",
        a.weight_decay,
    )?;
    match est.bound {
        Bound::Smile { tau } => require(
            tau.is_finite() && tau > 0.0,
            "SMILE's τ",
            "positive and finite",
            tau,
        )?,
        Bound::AlphaInfoNce { alpha } => require(
            alpha > 0.0 && alpha < 1.0,
            "α-InfoNCE's α",
            "in (0, 1)",
            alpha,
        )?,
        Bound::Mine { gamma } => require(
            gamma > 0.0 && gamma < 1.0,
            "MINE's moving-average decay γ",
            "in (0, 1)",
            gamma,
        )?,
        Bound::LeaveOneOut => {
            return Err(InputError::NeedsTrueDensity {
                bound: est.bound.name(),
            })
        }
        _ => {}
    }
    let decoder = matches!(est.critic, CriticForm::Decoder { .. });
    if decoder != (est.bound == Bound::BarberAgakov) {
        return Err(InputError::CriticMismatch {
            bound: est.bound.name(),
            critic: est.critic.name(),
        });
    }
    if !decoder && !est.critic.full_matrix() && !est.bound.supports_shuffled() {
        return Err(InputError::NeedsFullMatrix {
            bound: est.bound.name(),
        });
    }
    let hidden = match &est.critic {
        CriticForm::Separable { hidden, embed } => {
            require(*embed > 0, "the embedding width", "positive", embed)?;
            hidden
        }
        CriticForm::Concat { hidden } => {
            require(
                !hidden.is_empty(),
                "the concat critic's hidden layers",
                "at least one",
                "none",
            )?;
            hidden
        }
        CriticForm::Shuffled { hidden }
        | CriticForm::Decoder { hidden }
        | CriticForm::DecoderCritic { hidden } => hidden,
    };
    if hidden.contains(&0) || est.baseline_hidden.contains(&0) {
        return Err(setting("hidden widths", "positive", 0));
    }
    Ok(())
}
