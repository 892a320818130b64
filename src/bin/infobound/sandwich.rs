//! `infobound sandwich`: lower and upper bounds on I(X; Y) when p(y | x_i) = N(μ_i, diag σ_i²)
//! is known for every sample (SPEC §8), from files of y, μ and σ.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use infobound::estimate::io::read_table;
use infobound::losses::sandwich::{Sandwich, SandwichReport};
use infobound::DeviceChoice;

use crate::args::device_parser;
use crate::failure::{usage, Failure};
use crate::json::print_json;
use crate::units::unit;

/// What `sandwich --help` adds under the options.
const AFTER_HELP: &str = "\
Y, MU and SIGMA (or LOG-SIGMA) are n × D each (.npy or CSV): row i holds a draw y_i from
N(μ_i, diag σ_i²) and that distribution's parameters. Over blocks of K rows, the lower bound is
InfoNCE with the true critic (never above ln K) and the upper bound the leave-one-out bound of
Poole et al. 2019; the plug-in Lautum information comes with them. In nats (--bits: bits).";

/// `sandwich`'s options.
#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub struct SandwichArgs {
    /// y: one draw a row
    #[arg(long, value_name = "FILE")]
    y: PathBuf,
    /// μ_i of p(y | x_i), a row for each row of y
    #[arg(long, value_name = "FILE")]
    mu: PathBuf,
    /// σ_i of p(y | x_i) (positive), a row for each row of y
    #[arg(long, value_name = "FILE", conflicts_with = "log_sigma")]
    sigma: Option<PathBuf>,
    /// log σ_i instead of σ_i (what an encoder usually outputs)
    #[arg(long, value_name = "FILE")]
    log_sigma: Option<PathBuf>,
    /// Rows a block (K, at least 2) [default: every row, K = n]
    #[arg(long, value_name = "K")]
    block: Option<usize>,
    /// Where to run
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// Report bits instead of nats
    #[arg(long)]
    bits: bool,
    /// Print the bracket as one JSON object on stdout
    #[arg(long)]
    json: bool,
}

/// Runs `infobound sandwich`.
pub fn sandwich(args: &SandwichArgs) -> Result<(), Failure> {
    // σ as given, or as log σ; clap refuses both at once.
    let (sigma_path, log_sigma) = match (&args.sigma, &args.log_sigma) {
        (Some(p), _) => (p, false),
        (None, Some(p)) => (p, true),
        (None, None) => return Err(usage("sandwich needs --sigma FILE (or --log-sigma FILE)")),
    };
    let cfg = Sandwich::default()
        .with_block(args.block)
        .with_device(args.device);
    let y = read_table(&args.y)?;
    let mu = read_table(&args.mu)?;
    let mut sigma = read_table(sigma_path)?;
    if log_sigma {
        for v in &mut sigma.data {
            *v = v.exp();
        }
    }
    let report = cfg.run(y.matrix()?, mu.matrix()?, sigma.matrix()?)?;
    if args.json {
        print_json(&BracketJson::new(&report, y.cols, args.bits));
    } else {
        print_summary(&report, args.bits);
    }
    Ok(())
}

/// The bracket as JSON, values in the chosen unit.
#[derive(Serialize)]
struct BracketJson<'a> {
    lower: f64,
    upper: f64,
    lautum_plugin: f64,
    log_k: f64,
    k: usize,
    n: usize,
    blocks: usize,
    dim: usize,
    unit: &'static str,
    adapter: &'a str,
    warnings: &'a [String],
}

impl<'a> BracketJson<'a> {
    /// The report `r` on y of `dim` columns, in bits when `bits`.
    fn new(r: &'a SandwichReport, dim: usize, bits: bool) -> Self {
        let (s, unit) = unit(bits);
        BracketJson {
            lower: r.lower * s,
            upper: r.upper * s,
            lautum_plugin: r.lautum * s,
            log_k: (r.k as f64).ln() * s,
            k: r.k,
            n: r.n,
            blocks: r.blocks,
            dim,
            unit,
            adapter: &r.device,
            warnings: &r.warnings,
        }
    }
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
