//! `infobound estimate`: the mutual information between the rows of two files.

use infobound::backend::{GeometryChoice, KernelGeometry};
use std::path::{Path, PathBuf};

use clap::Args;
use infobound::estimate::io::read_table;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator, MarginalTransform};

use crate::args::{
    bound_named, default_tau_alpha, device_parser, embed_of, transform_parser, OneOf, Widths,
    CRITICS, ESTIMATE_BOUNDS,
};
use crate::estimate_plot::curves_figure;
use crate::failure::{usage, Failure};
use crate::json::{print_json, ReportJson};
use crate::plot;
use crate::progress::{self, Bar};
use crate::summary::print_summary;

/// What `estimate --help` adds under the options.
const AFTER_HELP: &str = "\
Files: .npy (float32 or float64, 1-D or 2-D, C or Fortran order) or numeric CSV (comma-separated,
an optional header line, the same columns in every row); row i of X pairs with row i of Y.
The --test-fraction of the rows is held out and cut in two: the step is chosen on one half and
its critic read once on the other (no selection bias); the standard error adds the optimiser's
jitter to the batches' spread, and InfoNCE over every pair of the report rows checks the
estimate. In nats (--bits: bits). Progress goes to stderr on a terminal.

Examples:
  infobound estimate --x x.npy --y y.npy
  infobound estimate --x x.csv --y y.csv --bound infonce --critic concat --json
  infobound estimate --x x.npy --y y.npy --bound ba --critic decoder --log-marginal lp.npy
  infobound estimate --x x.npy --y y.npy --replicas 8      # a seed ensemble, with its spread

Exit status: 0 on success, 2 for bad input (one line on stderr), 1 for a failure while running.";

/// `estimate`'s options. Settings not given take `Estimator::default()`'s values.
#[derive(Args)]
#[command(allow_negative_numbers = true, after_help = AFTER_HELP)]
pub struct EstimateArgs {
    /// X: one sample a row (.npy or CSV)
    #[arg(long, value_name = "FILE")]
    x: PathBuf,
    /// Y: as many rows as X, row i paired with row i of X (.npy or CSV)
    #[arg(long, value_name = "FILE")]
    y: PathBuf,
    /// The bound trained and reported
    #[arg(long, value_name = "BOUND", default_value = "smile",
          value_parser = OneOf::new("bound", ESTIMATE_BOUNDS.as_slice()))]
    bound: &'static str,
    // The help of --tau and --alpha states the library's defaults, read from it.
    #[arg(long, value_name = "TAU", help = tau_help())]
    tau: Option<f32>,
    #[arg(long, value_name = "ALPHA", help = alpha_help())]
    alpha: Option<f32>,
    /// The critic's form
    #[arg(long, value_name = "CRITIC", default_value = "separable",
          value_parser = OneOf::new("critic", CRITICS))]
    critic: &'static str,
    /// Hidden layer widths of each network, comma-separated
    #[arg(long, value_name = "WIDTHS", default_value_t = Widths::of(&Estimator::default().critic))]
    hidden: Widths,
    #[arg(long, value_name = "E", help = embed_help())]
    embed: Option<usize>,
    /// Joint pairs a training batch (K); InfoNCE never reads above ln K
    #[arg(long, value_name = "K", default_value_t = Estimator::default().batch)]
    batch: usize,
    /// Training steps
    #[arg(long, value_name = "N", default_value_t = Estimator::default().steps)]
    steps: u32,
    /// Adam's learning rate
    #[arg(long, value_name = "LR", default_value_t = Estimator::default().adam.lr)]
    lr: f32,
    /// Seeds the initialisation, the split and every draw (the same seed gives the same bits)
    #[arg(long, value_name = "SEED", default_value_t = Estimator::default().seed)]
    seed: u64,
    /// Seeds in an ensemble trained side by side (SEED, SEED+1, …): the estimate is their mean,
    /// and the report adds each seed's estimate and their spread
    #[arg(long, value_name = "N", default_value_t = Estimator::default().replicas)]
    replicas: u32,
    /// Fraction of the rows held out for evaluation, in [0, 1)
    #[arg(long, value_name = "F", default_value_t = Estimator::default().test_fraction)]
    test_fraction: f64,
    /// Clip the critic's gradient to this global L2 norm before Adam [default: no clip]
    #[arg(long, value_name = "G")]
    max_grad_norm: Option<f32>,
    /// ba, ms: log p(y_i) in nats, one value a row (n × 1, .npy or CSV), instead of N(0, I)
    #[arg(long, value_name = "FILE")]
    log_marginal: Option<PathBuf>,
    /// How every column is mapped before training (MI is unchanged by a monotone map of a
    /// column); known-density bounds keep y as given
    #[arg(long, value_name = "TRANSFORM", default_value_t = Estimator::default().transform,
          value_parser = transform_parser())]
    transform: MarginalTransform,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// On a GPU, pin the kernels' geometry to this file (`infobound tune --save`), so the bits
    /// reproduce across machines [default: tuned at first use and cached]
    #[arg(long, value_name = "FILE")]
    geometry: Option<PathBuf>,
    /// Draw the training curve, the held-out evaluations and the gradient norm (.png or .svg)
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Report bits instead of nats
    #[arg(long)]
    bits: bool,
    /// Print the report as one JSON object on stdout (no progress)
    #[arg(long)]
    json: bool,
    /// No progress and no warnings on stderr
    #[arg(long)]
    quiet: bool,
}

fn tau_help() -> String {
    format!(
        "SMILE's clip τ (--bound smile) [default: {}]",
        default_tau_alpha().0
    )
}

fn alpha_help() -> String {
    format!(
        "α-InfoNCE's mix α in (0, 1) (--bound alpha-infonce) [default: {}]",
        default_tau_alpha().1
    )
}

fn embed_help() -> String {
    format!(
        "The separable critic's embedding width [default: {}]",
        embed_of(&Estimator::default().critic)
    )
}

/// Runs `infobound estimate`.
pub fn estimate(args: &EstimateArgs) -> Result<(), Failure> {
    let est = estimator(args)?;
    if let Some(p) = &args.plot {
        plot::format_of(p).map_err(|f| usage(format!("--plot {}", f.msg)))?;
    }
    let x = read_table(&args.x)?;
    let y = read_table(&args.y)?;
    if x.rows != y.rows {
        return Err(usage(format!(
            "{} has {} rows but {} has {}",
            args.x.display(),
            x.rows,
            args.y.display(),
            y.rows
        )));
    }
    let est = match &args.log_marginal {
        Some(path) => est.with_log_marginal(Some(log_marginal(path, x.rows)?)),
        None => est,
    };
    let bar = Bar::new(progress::wanted(args.quiet, args.json), "");
    let report = est.estimate_with_progress(x.matrix()?, y.matrix()?, |p| {
        bar.estimate(p, args.bits);
    });
    bar.finish();
    let report = report?;
    if let Some(p) = &args.plot {
        plot::write(&curves_figure(&report, args.bits), p)?;
    }
    if args.json {
        print_json(&ReportJson::new(&report, est.batch, args.bits));
    } else {
        print_summary(&report, args.bits);
        if !args.quiet {
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
        }
    }
    Ok(())
}

/// The estimator the options describe, every setting checked before any file is read.
fn estimator(args: &EstimateArgs) -> Result<Estimator, Failure> {
    if args.tau.is_some() && args.bound != "smile" {
        return Err(usage("--tau applies only to --bound smile"));
    }
    if args.alpha.is_some() && args.bound != "alpha-infonce" {
        return Err(usage("--alpha applies only to --bound alpha-infonce"));
    }
    let bound = bound_named(args.bound, args.tau, args.alpha)?;
    if args.log_marginal.is_some() && !bound.knows_a_density() {
        return Err(usage(format!(
            "--log-marginal applies only to --bound ba or ms (a known marginal p(y)), not {}",
            args.bound
        )));
    }
    let mut est = Estimator::default()
        .with_bound(bound)
        .with_critic(critic(args)?)
        .with_device(args.device)
        .with_batch(args.batch)
        .with_steps(args.steps)
        .with_lr(args.lr)
        .with_seed(args.seed)
        .with_replicas(args.replicas)
        .with_test_fraction(args.test_fraction)
        .with_transform(args.transform);
    if let Some(m) = args.max_grad_norm {
        est = est.with_max_grad_norm(Some(m));
    }
    if let Some(path) = &args.geometry {
        let g = KernelGeometry::load(path).map_err(|e| usage(format!("--geometry: {e}")))?;
        est = est.with_geometry(GeometryChoice::Pinned(g));
    }
    Ok(est)
}

/// `--critic` with `--hidden` and `--embed`.
fn critic(args: &EstimateArgs) -> Result<CriticForm, Failure> {
    let hidden = args.hidden.0.clone();
    if args.embed.is_some() && args.critic != "separable" {
        return Err(usage("--embed applies only to --critic separable"));
    }
    Ok(match args.critic {
        "concat" => CriticForm::Concat { hidden },
        "shuffled" => CriticForm::Shuffled { hidden },
        // Barber–Agakov (--bound ba) and the multisample bound (--bound ms).
        "decoder" => CriticForm::Decoder { hidden },
        "decoder-critic" => CriticForm::DecoderCritic { hidden },
        _ => CriticForm::Separable {
            hidden,
            embed: args
                .embed
                .unwrap_or_else(|| embed_of(&Estimator::default().critic)),
        },
    })
}

/// `--log-marginal FILE`: log p(y_i) in nats, one value a row of the data (n × 1, .npy or CSV).
fn log_marginal(path: &Path, rows: usize) -> Result<Vec<f32>, Failure> {
    let t = read_table(path)?;
    let shown = path.display();
    if t.cols != 1 || t.rows != rows {
        return Err(usage(format!(
            "--log-marginal {shown} is {} × {}; it must be {rows} × 1, log p(y) a row of the data",
            t.rows, t.cols
        )));
    }
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(usage(format!(
            "--log-marginal {shown}: row {} is {}, not a finite log-density",
            i + 1,
            t.data[i]
        )));
    }
    Ok(t.data)
}
