//! The estimator a Python call describes: names parsed as the command line parses them, and
//! every setting left as `None` taken from `Estimator::default()`.

use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator, MarginalTransform};
use pyo3::PyResult;

use crate::errors::value_error;

/// The critic forms `critic=` takes (the command line's `--critic` names).
const CRITICS: [&str; 5] = [
    "separable",
    "concat",
    "shuffled",
    "decoder",
    "decoder-critic",
];

/// Every bound `bound=` takes: the black-box bounds, the Lautum bounds and the two
/// known-density bounds, spelled as the library names them.
pub fn bound_names() -> Vec<&'static str> {
    Bound::ALL
        .iter()
        .chain(Bound::LAUTUM.iter())
        .map(|b| b.name())
        .chain(["ba", "ms"])
        .collect()
}

/// The bound called `name`.
pub fn bound(name: &str) -> PyResult<Bound> {
    Bound::from_name(name).ok_or_else(|| {
        value_error(format!(
            "invalid input: unknown bound {name:?}; expected one of {}",
            bound_names().join(", ")
        ))
    })
}

/// The device `name` names ("auto", "gpu", "gpu:N", "cpu", "cpu-reference").
pub fn device(name: &str) -> PyResult<DeviceChoice> {
    name.parse()
        .map_err(|e| value_error(format!("invalid input: {e}")))
}

/// The critic called `name` with `hidden` widths and the separable critic's `embed`
/// (defaults: the library's).
pub fn critic(
    name: &str,
    hidden: Option<Vec<usize>>,
    embed: Option<usize>,
) -> PyResult<CriticForm> {
    let default = Estimator::default().critic;
    let (default_hidden, default_embed) = match &default {
        CriticForm::Separable { hidden, embed } => (hidden.clone(), *embed),
        _ => (vec![128, 128], 32),
    };
    let hidden = hidden.unwrap_or(default_hidden);
    if !CRITICS.contains(&name) {
        return Err(value_error(format!(
            "invalid input: unknown critic {name:?}; expected one of {}",
            CRITICS.join(", ")
        )));
    }
    if embed.is_some() && name != "separable" {
        return Err(value_error(
            "invalid input: embed applies only to critic=\"separable\"",
        ));
    }
    Ok(match name {
        "separable" => CriticForm::Separable {
            hidden,
            embed: embed.unwrap_or(default_embed),
        },
        "concat" => CriticForm::Concat { hidden },
        "shuffled" => CriticForm::Shuffled { hidden },
        "decoder" => CriticForm::Decoder { hidden },
        // The last of CRITICS, checked above.
        _ => CriticForm::DecoderCritic { hidden },
    })
}

/// The settings of one `estimate` call; `None` keeps the library's default.
pub struct EstimateSettings<'a> {
    pub bound: &'a str,
    pub critic: &'a str,
    pub hidden: Option<Vec<usize>>,
    pub embed: Option<usize>,
    pub steps: Option<u32>,
    pub batch: Option<usize>,
    pub lr: Option<f32>,
    pub seed: u64,
    pub device: &'a str,
    pub transform: Option<&'a str>,
    pub test_fraction: Option<f64>,
}

impl EstimateSettings<'_> {
    /// The estimator these settings describe; a bad name is a `ValueError`.
    pub fn estimator(self) -> PyResult<Estimator> {
        let mut est = Estimator::default()
            .with_bound(bound(self.bound)?)
            .with_critic(critic(self.critic, self.hidden, self.embed)?)
            .with_device(device(self.device)?)
            .with_seed(self.seed);
        if let Some(steps) = self.steps {
            est = est.with_steps(steps);
        }
        if let Some(batch) = self.batch {
            est = est.with_batch(batch);
        }
        if let Some(lr) = self.lr {
            est = est.with_lr(lr);
        }
        if let Some(t) = self.transform {
            let t: MarginalTransform = t
                .parse()
                .map_err(|e| value_error(format!("invalid input: {e}")))?;
            est = est.with_transform(t);
        }
        if let Some(f) = self.test_fraction {
            est = est.with_test_fraction(f);
        }
        Ok(est)
    }
}
