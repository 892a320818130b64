//! `infobound sandwich`: lower and upper bounds on I(X; Y) when p(y | x_i) = N(μ_i, diag σ_i²)
//! is known for every sample (SPEC §8), from files of y, μ and σ.

use std::path::Path;

use infobound::estimate::io::read_table;
use infobound::losses::sandwich::{Sandwich, SandwichReport};

use crate::args::Flags;
use crate::failure::{usage, Failure};
use crate::json::{json_num, json_str};
use crate::units::unit;

/// The options `sandwich` takes a value for.
const VALUED: &[&str] = &[
    "--y",
    "--mu",
    "--sigma",
    "--log-sigma",
    "--block",
    "--device",
];

/// The switches `sandwich` takes.
const SWITCHES: &[&str] = &["--bits", "--json"];

/// Runs `infobound sandwich` with the arguments after the command's name.
pub fn sandwich(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(args, VALUED, SWITCHES)?;
    let path = |name: &str| {
        flags
            .get(name)
            .ok_or_else(|| usage(format!("sandwich needs {name} FILE")))
    };
    let (ypath, mupath) = (path("--y")?, path("--mu")?);
    // σ as given, or as log σ (what an encoder usually outputs).
    let (sigmapath, log_sigma) = match (flags.get("--sigma"), flags.get("--log-sigma")) {
        (Some(p), None) => (p, false),
        (None, Some(p)) => (p, true),
        (Some(_), Some(_)) => return Err(usage("give --sigma or --log-sigma, not both")),
        (None, None) => return Err(usage("sandwich needs --sigma FILE (or --log-sigma FILE)")),
    };
    let block: Option<usize> = flags.parsed("--block", "a block size")?;
    let cfg = Sandwich::default()
        .with_block(block)
        .with_device(flags.device()?);
    let y = read_table(Path::new(ypath))?;
    let mu = read_table(Path::new(mupath))?;
    let mut sigma = read_table(Path::new(sigmapath))?;
    if log_sigma {
        for v in &mut sigma.data {
            *v = v.exp();
        }
    }
    let report = cfg.run(y.matrix()?, mu.matrix()?, sigma.matrix()?)?;
    let bits = flags.has("--bits");
    if flags.has("--json") {
        println!("{}", report_json(&report, y.cols, bits));
    } else {
        print_summary(&report, bits);
    }
    Ok(())
}

/// The bracket as one line of JSON, values in the chosen unit.
fn report_json(r: &SandwichReport, dim: usize, bits: bool) -> String {
    let (s, unit) = unit(bits);
    let warnings: Vec<String> = r.warnings.iter().map(|w| json_str(w)).collect();
    format!(
        "{{\"lower\":{},\"upper\":{},\"lautum_plugin\":{},\"log_k\":{},\"k\":{},\"n\":{},\
         \"blocks\":{},\"dim\":{dim},\"unit\":{},\"adapter\":{},\"warnings\":[{}]}}",
        json_num(r.lower * s),
        json_num(r.upper * s),
        json_num(r.lautum * s),
        json_num((r.k as f64).ln() * s),
        r.k,
        r.n,
        r.blocks,
        json_str(unit),
        json_str(&r.device),
        warnings.join(","),
    )
}

/// The bracket for a person.
fn print_summary(r: &SandwichReport, bits: bool) {
    let (s, unit) = unit(bits);
    println!(
        "{:.4} ≤ I(X; Y) ≤ {:.4} {unit}   (n = {}, blocks of K = {}: {}; the lower bound \
         never exceeds ln K = {:.4})",
        r.lower * s,
        r.upper * s,
        r.n,
        r.k,
        r.blocks,
        (r.k as f64).ln() * s
    );
    println!(
        "plug-in Lautum information: {:.4} {unit}   on {}",
        r.lautum * s,
        r.device
    );
    for w in &r.warnings {
        println!("warning: {w}");
    }
}
