//! The value types more than one command parses: a name from a fixed list (a bound, a critic,
//! a device, a task), a list of layer widths, and the device choice. Each is refused with one
//! line that says what would be accepted.

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{Error, ErrorKind};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, MarginalTransform};

use crate::failure::{usage, Failure};

/// A name from a fixed list, each with a line of help; parses to the name itself, so that
/// `--help` lists the names with their help and the shell completions offer them.
#[derive(Clone)]
pub struct OneOf {
    /// What a name names, for the error ("bound", "critic").
    what: &'static str,
    /// The names and their help, in the order help lists them.
    names: &'static [(&'static str, &'static str)],
}

impl OneOf {
    /// A parser for one of `names`; `what` says in an error what the names are.
    pub const fn new(what: &'static str, names: &'static [(&'static str, &'static str)]) -> Self {
        OneOf { what, names }
    }
}

impl TypedValueParser for OneOf {
    type Value = &'static str;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, Error> {
        let given = value.to_string_lossy();
        let given = given.trim();
        if let Some((name, _)) = self.names.iter().find(|(n, _)| *n == given) {
            return Ok(name);
        }
        Err(unknown_name(self.what, self.names, given, cmd, arg))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(listed(self.names))
    }
}

/// The error for a name in none of `names`, in today's wording ("unknown bound …"), which
/// scripts and tests match, with the option it was given to.
fn unknown_name(
    what: &str,
    names: &[(&str, &str)],
    given: &str,
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
) -> Error {
    let option = arg
        .and_then(|a| a.get_long())
        .map_or(String::new(), |l| format!(" for --{l}"));
    let names: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let msg = format!(
        "unknown {what} {given:?}{option} (one of {})",
        names.join(", ")
    );
    Error::raw(ErrorKind::InvalidValue, msg).with_cmd(cmd)
}

/// `names` with their help, as `--help` and the completions list them.
fn listed<'a>(
    names: &'a [(&'static str, &'static str)],
) -> Box<dyn Iterator<Item = PossibleValue> + 'a> {
    Box::new(
        names
            .iter()
            .map(|(name, help)| PossibleValue::new(*name).help(*help)),
    )
}

/// Every bound `estimate --bound` takes ([`Bound::ESTIMATE`]), with its help
/// ([`Bound::about`]): the library holds the one list.
pub static ESTIMATE_BOUNDS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
    std::sync::LazyLock::new(|| {
        Bound::ESTIMATE
            .iter()
            .map(|b| (b.name(), b.about()))
            .collect()
    });

/// The critic forms `estimate --critic` takes, with their help.
pub const CRITICS: &[(&str, &str)] = &[
    (
        "separable",
        "S = G·Hᵀ from two towers: all K² scores from one product (the default)",
    ),
    (
        "concat",
        "an MLP on [x; y] over all K² pairs: for interactions a dot product misses",
    ),
    (
        "shuffled",
        "an MLP on K joint pairs and K shuffled negatives (MINE's recipe; not InfoNCE)",
    ),
    (
        "decoder",
        "a Gaussian decoder q(y|x) = N(μ(x), diag σ(x)²), for --bound ba",
    ),
    (
        "decoder-critic",
        "the decoder and a critic on [x; y], for --bound ms",
    ),
];

/// The devices `--device` takes, with their help (and `gpu:N`, adapter N of `infobound
/// devices`).
pub const DEVICES: &[(&str, &str)] = &[
    (
        "auto",
        "a hardware GPU; else the CPU backend (with only a software adapter, or none: a warning); \
         the adapter anyway under INFOBOUND_REQUIRE_GPU=1",
    ),
    ("gpu", "the best adapter, software or not, or an error"),
    (
        "gpu:N",
        "adapter N in `infobound devices` order, to tell identical cards apart",
    ),
    (
        "cpu",
        "the fast CPU backend: f32 on every core (the same bits whatever the thread count)",
    ),
    (
        "cpu-reference",
        "the f64 CPU reference backend, single-threaded: the oracle the others are tested against",
    ),
];

/// `--device`: one of [`DEVICES`], as the library's [`DeviceChoice`] (which parses them).
pub fn device_parser() -> impl TypedValueParser<Value = DeviceChoice> {
    LibraryName::<DeviceChoice>::new("device", DEVICES)
}

/// The marginal transforms `--transform` takes, with their help.
pub const TRANSFORMS: &[(&str, &str)] = &[
    (
        "rank-gauss",
        "each column through its empirical CDF and Φ⁻¹: robust to heavy tails (the default)",
    ),
    (
        "standardize",
        "z-scores from the training rows' mean and standard deviation",
    ),
    ("none", "the data as given"),
];

/// `--transform`: one of [`TRANSFORMS`], as the library's [`MarginalTransform`].
pub fn transform_parser() -> impl TypedValueParser<Value = MarginalTransform> {
    LibraryName::<MarginalTransform>::new("transform", TRANSFORMS)
}

/// A value the library parses itself (`FromStr`), listed with help like [`OneOf`]: the
/// library's parser is the one source of the accepted spellings.
#[derive(Clone)]
pub struct LibraryName<T> {
    what: &'static str,
    names: &'static [(&'static str, &'static str)],
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T> LibraryName<T> {
    /// A parser of `T`, listing `names` in help and completions.
    pub const fn new(what: &'static str, names: &'static [(&'static str, &'static str)]) -> Self {
        LibraryName {
            what,
            names,
            kind: std::marker::PhantomData,
        }
    }
}

impl<T> TypedValueParser for LibraryName<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, Error> {
        let given = value.to_string_lossy();
        let given = given.trim();
        given
            .parse()
            .map_err(|_| unknown_name(self.what, self.names, given, cmd, arg))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(listed(self.names))
    }
}

/// The bound called `name` (one of [`ESTIMATE_BOUNDS`]), with `tau` (SMILE's clip) and
/// `alpha` (α-InfoNCE's mix) where they apply and the library's defaults where not given.
pub fn bound_named(name: &str, tau: Option<f32>, alpha: Option<f32>) -> Result<Bound, Failure> {
    // The parser lets only the library's names through (a unit test checks the list); this
    // error is for a name that reaches here some other way.
    let bound = Bound::from_name(name).ok_or_else(|| usage(format!("unknown bound {name:?}")))?;
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

/// SMILE's default clip τ and α-InfoNCE's default mix α, as the library sets them.
pub fn default_tau_alpha() -> (f32, f32) {
    let tau = Bound::from_name("smile").map_or(f32::NAN, Bound::tau);
    let alpha = match Bound::from_name("alpha-infonce") {
        Some(Bound::AlphaInfoNce { alpha }) => alpha,
        _ => f32::NAN,
    };
    (tau, alpha)
}

/// A comma-separated list, as `--hidden 128,128` or `--rhos 0.5,0.9` take one; printed the
/// same way, so that `--help` shows a default that can be typed back.
#[derive(Clone, Debug, PartialEq)]
pub struct List<T>(pub Vec<T>);

/// Hidden layer widths, written `128,128`.
pub type Widths = List<usize>;

impl Widths {
    /// A critic's hidden widths.
    pub fn of(critic: &CriticForm) -> Self {
        List(match critic {
            CriticForm::Separable { hidden, .. }
            | CriticForm::Concat { hidden }
            | CriticForm::Shuffled { hidden }
            | CriticForm::Decoder { hidden }
            | CriticForm::DecoderCritic { hidden } => hidden.clone(),
            // CriticForm is non-exhaustive: a form added later falls back to the usual widths.
            _ => vec![128, 128],
        })
    }
}

impl<T: FromStr> FromStr for List<T>
where
    T::Err: fmt::Display,
{
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(|item| {
                item.trim()
                    .parse::<T>()
                    .map_err(|e| format!("{:?}: {e}", item.trim()))
            })
            .collect::<Result<_, _>>()
            .map(List)
    }
}

impl<T: fmt::Display> fmt::Display for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(T::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// The separable critic's embedding width in `critic` (32 for any other form).
pub fn embed_of(critic: &CriticForm) -> usize {
    match critic {
        CriticForm::Separable { embed, .. } => *embed,
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_list_is_the_librarys() {
        let ours: Vec<&str> = ESTIMATE_BOUNDS.iter().map(|(n, _)| *n).collect();
        let library: Vec<&str> = Bound::ALL
            .iter()
            .chain(Bound::LAUTUM.iter())
            .chain([Bound::BarberAgakov, Bound::Multisample { proposals: 16 }].iter())
            .map(|b| b.name())
            .collect();
        assert_eq!(ours, library);
        assert!(ours.iter().all(|n| Bound::from_name(n).is_some()));
    }

    #[test]
    fn the_critic_list_is_the_librarys() {
        let forms = [
            CriticForm::Separable {
                hidden: vec![1],
                embed: 1,
            },
            CriticForm::Concat { hidden: vec![1] },
            CriticForm::Shuffled { hidden: vec![1] },
            CriticForm::Decoder { hidden: vec![1] },
            CriticForm::DecoderCritic { hidden: vec![1] },
        ];
        let ours: Vec<&str> = CRITICS.iter().map(|(n, _)| *n).collect();
        let library: Vec<&str> = forms.iter().map(CriticForm::name).collect();
        assert_eq!(ours, library);
    }

    #[test]
    fn lists_read_and_print_with_commas() {
        assert_eq!("128, 64".parse::<Widths>(), Ok(List(vec![128, 64])));
        assert_eq!(List(vec![8, 8]).to_string(), "8,8");
        assert!("8,x".parse::<Widths>().unwrap_err().starts_with("\"x\": "));
        assert_eq!(List(vec![0.85, 0.9]).to_string(), "0.85,0.9");
    }
}
