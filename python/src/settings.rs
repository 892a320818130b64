//! The estimator a Python call describes: names parsed as the command line parses them, and
//! every setting left as `None` taken from `Estimator::default()`.

use std::path::{Path, PathBuf};

use infobound::backend::{GeometryChoice, KernelGeometry};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error, Estimator, InputError, MarginalTransform, Matrix};
use pyo3::{FromPyObject, PyResult};

use crate::errors::{to_py, value_error};

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
    /// Seeds in the ensemble (`Estimator::with_replicas`); a Python int, checked here.
    pub replicas: i64,
    /// "auto", "rule", or a geometry file's path (`infobound tune --save`); None: "auto".
    pub geometry: Option<PathBuf>,
}

impl EstimateSettings<'_> {
    /// The estimator these settings describe; a bad name is a `ValueError`.
    pub fn estimator(self) -> PyResult<Estimator> {
        let mut est = Estimator::default()
            .with_bound(bound(self.bound)?)
            .with_critic(critic(self.critic, self.hidden, self.embed)?)
            .with_device(device(self.device)?)
            .with_seed(self.seed)
            .with_replicas(replicas(self.replicas)?);
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
        if let Some(g) = self.geometry {
            est = est.with_geometry(geometry(&g)?);
        }
        Ok(est)
    }
}

/// A GPU's kernel geometry as `geometry=` names it: "auto" (tuned at first use and cached),
/// "rule" (the adapter's rule, never tuned) or a geometry file to pin; an unreadable file is a
/// `ValueError`.
fn geometry(name: &Path) -> PyResult<GeometryChoice> {
    Ok(match name.to_str() {
        Some("auto") => GeometryChoice::Auto,
        Some("rule") => GeometryChoice::Rule,
        _ => GeometryChoice::Pinned(
            KernelGeometry::load(name)
                .map_err(|e| value_error(format!("invalid input: geometry: {e}")))?,
        ),
    })
}

/// A replica count as the library takes it. 0 is passed on, for the library's own message; a
/// negative or oversized int gets the same wording (the library's count is a `u32`).
fn replicas(n: i64) -> PyResult<u32> {
    u32::try_from(n).map_err(|_| {
        let expected = match n < 0 {
            true => "positive".to_string(),
            false => format!("at most {}", u32::MAX),
        };
        value_error(format!(
            "invalid input: replicas must be {expected}, not {n}"
        ))
    })
}

/// Refuses `est`'s settings before any data is copied, with the library's own errors: a
/// one-row probe that the library checks (shapes, values, then every setting) and refuses
/// for its size, never trained. Used where a bad setting would otherwise fail every pair of a
/// batch alike.
pub fn check_settings(est: &Estimator) -> PyResult<()> {
    let one = [0.0f32];
    let probe = Matrix::new(&one, 1, 1).map_err(to_py)?;
    match est.estimate(probe, probe) {
        // The settings passed; one row is always too few for a batch (K ≥ 2).
        Err(Error::Input(InputError::TooFewRows { .. })) => Ok(()),
        Err(e) => Err(to_py(e)),
        // Unreachable (K ≥ 2 rows are needed): nothing to refuse.
        Ok(_) => Ok(()),
    }
}

/// The settings of a batched call (`estimate_many`, `mi_matrix`), read from the dict the
/// Python layer builds from its keywords (every key present; None keeps the default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Settings {
    pub bound: String,
    pub critic: String,
    pub hidden: Option<Vec<usize>>,
    pub embed: Option<usize>,
    pub steps: Option<u32>,
    pub batch: Option<usize>,
    pub lr: Option<f32>,
    pub seed: u64,
    pub device: String,
    pub transform: Option<String>,
    pub test_fraction: Option<f64>,
    pub replicas: i64,
}

impl Settings {
    /// The estimator, its settings checked ([`check_settings`]).
    pub fn estimator(&self) -> PyResult<Estimator> {
        let est = EstimateSettings {
            bound: &self.bound,
            critic: &self.critic,
            hidden: self.hidden.clone(),
            embed: self.embed,
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            device: &self.device,
            transform: self.transform.as_deref(),
            test_fraction: self.test_fraction,
            replicas: self.replicas,
            geometry: None,
        }
        .estimator()?;
        check_settings(&est)?;
        Ok(est)
    }
}
