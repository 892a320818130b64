//! Option parsing: `--flag value`, `--flag=value` and switches, and the options that more
//! than one command reads (device, hidden widths, bound names).

use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::DeviceChoice;

use crate::failure::{usage, Failure};

/// Every bound's command-line name, in the order the staircase runs them by default.
pub fn all_bound_names() -> Vec<&'static str> {
    Bound::ALL.iter().map(|b| b.name()).collect()
}

/// Every name `estimate --bound` takes: the black-box MI bounds, the Lautum bounds and the
/// known-density bounds (Barber–Agakov and the multisample bound).
pub fn estimate_bound_names() -> Vec<&'static str> {
    Bound::ALL
        .iter()
        .chain(Bound::LAUTUM.iter())
        .chain([Bound::BarberAgakov, Bound::Multisample { proposals: 16 }].iter())
        .map(|b| b.name())
        .collect()
}

/// Parsed `--flag value` / `--flag=value` pairs and switches, checked against what a command
/// knows.
pub struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `args`, accepting only the options in `valued` (which take a value) and
    /// `switches` (which take none), each at most once.
    pub fn parse(args: &[String], valued: &[&str], switches: &[&str]) -> Result<Self, Failure> {
        let mut out = Flags {
            values: Vec::new(),
            switches: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            if switches.contains(&name) {
                if inline.is_some() {
                    return Err(usage(format!("{name} takes no value")));
                }
                out.switches.push(name.to_string());
            } else if valued.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage(format!("{name} needs a value")))?,
                };
                if out.values.iter().any(|(n, _)| n == name) {
                    return Err(usage(format!("{name} is given twice")));
                }
                out.values.push((name.to_string(), value));
            } else if name.starts_with('-') {
                return Err(usage(format!(
                    "unknown option {name:?} (see `infobound help`)"
                )));
            } else {
                return Err(usage(format!("unexpected argument {name:?}")));
            }
        }
        Ok(out)
    }

    /// The value given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the switch `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The value given for `name`, parsed; `what` names the expected kind in the error.
    pub fn parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, Failure> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| usage(format!("{name}: {v:?} is not {what}")))
            })
            .transpose()
    }

    /// `--hidden`'s comma-separated widths, or the hidden widths of `default`.
    pub fn hidden(&self, default: &CriticForm) -> Result<Vec<usize>, Failure> {
        let given = self
            .get("--hidden")
            .map(|v| {
                v.split(',')
                    .map(|w| {
                        w.trim()
                            .parse::<usize>()
                            .map_err(|_| usage(format!("--hidden: {w:?} is not a width")))
                    })
                    .collect()
            })
            .transpose()?;
        Ok(given.unwrap_or_else(|| hidden_of(default)))
    }

    /// `--device` (`auto` when not given).
    pub fn device(&self) -> Result<DeviceChoice, Failure> {
        Ok(match self.get("--device").unwrap_or("auto") {
            "auto" => DeviceChoice::Auto,
            "gpu" => DeviceChoice::Gpu,
            "cpu" => DeviceChoice::Cpu,
            d => return Err(usage(format!("unknown device {d:?} (auto, gpu or cpu)"))),
        })
    }
}

/// The bound called `name`, with `tau` (SMILE's clip) and `alpha` (α-InfoNCE's mix) where
/// they apply and their defaults where not given.
pub fn bound_named(name: &str, tau: Option<f32>, alpha: Option<f32>) -> Result<Bound, Failure> {
    let bound = Bound::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown bound {name:?} (one of {})",
            estimate_bound_names().join(", ")
        ))
    })?;
    Ok(match bound {
        Bound::Smile { tau: default } => Bound::Smile {
            tau: tau.unwrap_or(default),
        },
        Bound::AlphaInfoNce { alpha: default } => Bound::AlphaInfoNce {
            alpha: alpha.unwrap_or(default),
        },
        other => other,
    })
}

/// A critic's hidden widths.
fn hidden_of(critic: &CriticForm) -> Vec<usize> {
    match critic {
        CriticForm::Separable { hidden, .. }
        | CriticForm::Concat { hidden }
        | CriticForm::Shuffled { hidden } => hidden.clone(),
        // CriticForm is non-exhaustive: a form added later falls back to the usual widths.
        _ => vec![128, 128],
    }
}
