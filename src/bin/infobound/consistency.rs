//! `infobound consistency`: Song & Ermon's (2020) self-consistency tests on images (the user's
//! N × H × W `.npy`, or the bundled 8 × 8 digits), one run a bound: the tables on stdout (or
//! one JSON object with `--json`), and the CSV, the tables and the figure in `--out`.

use std::path::PathBuf;
use std::sync::LazyLock;

use clap::Args;
use infobound::experiments::consistency::{
    Consistency, ConsistencyError, ConsistencyReport, Dequantise, Images, Row, Setting,
};
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator};
use serde::Serialize;

use crate::args::{bound_named, device_parser, OneOf, Widths, ESTIMATE_BOUNDS};
use crate::consistency_files;
use crate::failure::{runtime, usage, Failure};
use crate::files::create_dir;
use crate::json::print_json;

/// What `consistency --help` adds under the options.
const AFTER_HELP: &str = "\
For t = 1 … H, Y is the top t rows of an image. baseline: X the image (the ratio to the largest
t must not fall as t grows); independence: Y from another image (ratio to the baseline 0); data
processing: X = (image, image), Y = (top t, top t) (ratio 1); additivity: two independent
images side by side (ratio 2). Y's grey levels are a function of X's, so I(X; Y) is unknown and
only the ratios mean anything. Pixels constant over the images are dropped; ties between grey
levels are broken with uniform noise inside each level (--dequantise none keeps them).
Writes DIR/consistency.csv, consistency.md (the tables, also printed), consistency.png and .svg
(one panel a setting, the ratio against t, one line a bound, the ideal dashed). Estimates in
nats. A failed estimate leaves a gap; the files are still written, and the command exits 1.";

/// The settings `--settings` takes, with their help (the library's list).
static SETTINGS: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| Setting::ALL.iter().map(|s| (s.name(), s.about())).collect());

/// The dequantisations `--dequantise` takes, with their help.
const DEQUANTISE: &[(&str, &str)] = &[
    (
        "levels",
        "uniform noise inside each grey level, its own draw for every copy of a pixel (the default)",
    ),
    ("none", "the pixels as given, ties and all"),
];

/// `consistency`'s options; settings not given take `Estimator::default()`'s values (smaller
/// with `--quick`).
#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub struct ConsistencyArgs {
    /// The images: an N × H × W .npy (uint8, float32 or float64) [default: the bundled 8 × 8
    /// digits, 1 797 images]
    #[arg(long, value_name = "FILE")]
    images: Option<PathBuf>,
    /// The bounds, comma-separated; each is a line in the figure
    #[arg(long, value_name = "BOUNDS", value_delimiter = ',', default_value = "smile",
          value_parser = OneOf::new("bound", ESTIMATE_BOUNDS.as_slice()))]
    bounds: Vec<&'static str>,
    /// Y's row counts t, comma-separated, each in 1..=H [default: 1 to H; with --quick 1, H/2
    /// and H]
    #[arg(long, value_name = "T", value_delimiter = ',')]
    rows: Vec<usize>,
    /// The settings, comma-separated (the baseline always runs: the others are ratios to it)
    #[arg(long, value_name = "SETTINGS", value_delimiter = ',',
          default_value = "baseline,independence,data-processing,additivity",
          value_parser = OneOf::new("setting", SETTINGS.as_slice()))]
    settings: Vec<&'static str>,
    /// How ties between grey levels are handled
    #[arg(long, value_name = "HOW", default_value = "levels",
          value_parser = OneOf::new("dequantisation", DEQUANTISE))]
    dequantise: &'static str,
    /// Training steps an estimate [default: 2000; 300 with --quick]
    #[arg(long, value_name = "N")]
    steps: Option<u32>,
    /// Joint pairs a batch (K) [default: 128; 64 with --quick]
    #[arg(long, value_name = "K")]
    batch: Option<usize>,
    /// Hidden layer widths of each tower of the separable critic, comma-separated [default:
    /// 128,128; 32 with --quick]
    #[arg(long, value_name = "WIDTHS")]
    hidden: Option<Widths>,
    /// The towers' embedding width [default: 32; 16 with --quick]
    #[arg(long, value_name = "E")]
    embed: Option<usize>,
    /// Seeds the noise, the partner images and every estimator
    #[arg(long, value_name = "SEED", default_value_t = 0)]
    seed: u64,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// Estimates run side by side; 0: one a core (the CPU backend trains each on one core)
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// The folder the files are written to
    #[arg(long, value_name = "DIR", default_value = "consistency")]
    out: PathBuf,
    /// CI's size: t = 1, H/2 and H, 300 steps, batch 64, towers of 32, embedding 16
    #[arg(long)]
    quick: bool,
    /// Print one JSON object (every row, the verdicts and the note) instead of the tables
    #[arg(long)]
    json: bool,
    /// No per-estimate lines, no warnings and no closing line
    #[arg(long)]
    quiet: bool,
}

/// One row in the JSON output.
#[derive(Serialize)]
struct RowJson<'a> {
    bound: &'a str,
    setting: &'static str,
    t: usize,
    dim_x: usize,
    dim_y: usize,
    estimate: f64,
    std_err: f64,
    ratio: Option<f64>,
    ratio_std_err: f64,
    ideal: f64,
    seconds: f64,
    device: &'a str,
    error: Option<&'a str>,
}

/// One setting's verdict in the JSON output.
#[derive(Serialize)]
struct VerdictJson<'a> {
    bound: &'a str,
    setting: &'static str,
    holds: bool,
    failing: &'a [usize],
    missing: &'a [usize],
}

#[derive(Serialize)]
struct ConsistencyJson<'a> {
    images: usize,
    height: usize,
    width: usize,
    dropped: &'a [(usize, usize)],
    levels: usize,
    dequantise: &'static str,
    note: String,
    rows: Vec<RowJson<'a>>,
    verdicts: Vec<VerdictJson<'a>>,
}

impl From<ConsistencyError> for Failure {
    /// Bad input (the images, a setting) exits 2; anything else happened while running.
    fn from(e: ConsistencyError) -> Self {
        let code = if e.is_input() { 2 } else { 1 };
        Failure {
            code,
            msg: e.to_string().replace('\n', " "),
        }
    }
}

/// Runs `infobound consistency`.
pub fn consistency(args: &ConsistencyArgs) -> Result<(), Failure> {
    let images = match &args.images {
        Some(path) => Images::read(path)?,
        None => Images::digits()?,
    };
    let experiment = experiment(args, images.height());
    let estimators = estimators(args)?;
    create_dir(&args.out)?;
    let quiet = args.quiet || args.json;
    let reports = experiment.run_each(&images, &estimators, |i, r| {
        if !quiet {
            eprintln!("{}", progress_line(estimators[i].bound.name(), r));
        }
    })?;
    consistency_files::write(&args.out, &command_line(), &reports)?;
    if args.json {
        print_json(&json(&reports));
    } else {
        for r in &reports {
            println!("{}", r.to_markdown());
        }
    }
    if !quiet {
        for rep in &reports {
            for r in &rep.rows {
                for w in &r.warnings {
                    eprintln!(
                        "warning: {} {} t = {}: {w}",
                        rep.bound,
                        r.setting.name(),
                        r.t
                    );
                }
            }
        }
        println!(
            "wrote consistency.csv, consistency.md, consistency.png and consistency.svg in {}",
            args.out.display()
        );
    }
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|rep| {
            rep.rows
                .iter()
                .filter(|r| r.error.is_some())
                .map(move |r| format!("{} {} t = {}", rep.bound, r.setting.name(), r.t))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(runtime(format!(
            "{} estimate(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

/// The experiment's settings from the options.
fn experiment(args: &ConsistencyArgs, height: usize) -> Consistency {
    let base = if args.quick {
        Consistency::quick(height)
    } else {
        Consistency::default()
    };
    let base = if args.rows.is_empty() {
        base
    } else {
        base.with_rows(args.rows.clone())
    };
    let settings = args
        .settings
        .iter()
        .filter_map(|s| Setting::from_name(s))
        .collect();
    base.with_settings(settings)
        .with_dequantise(Dequantise::from_name(args.dequantise).unwrap_or_default())
        .with_seed(args.seed)
        .with_threads(args.threads)
}

/// One estimator a bound, sized by the options (and `--quick`).
fn estimators(args: &ConsistencyArgs) -> Result<Vec<Estimator>, Failure> {
    let mut base = Estimator::default()
        .with_device(args.device)
        .with_seed(args.seed);
    if args.quick {
        base = Consistency::quick_estimator(base);
    }
    if let Some(steps) = args.steps {
        base = base.with_steps(steps);
    }
    if let Some(batch) = args.batch {
        base = base.with_batch(batch);
    }
    if args.hidden.is_some() || args.embed.is_some() {
        let (hidden, embed) = match &base.critic {
            CriticForm::Separable { hidden, embed } => (hidden.clone(), *embed),
            _ => (vec![128, 128], 32),
        };
        base = base.with_critic(CriticForm::Separable {
            hidden: args.hidden.as_ref().map_or(hidden, |w| w.0.clone()),
            embed: args.embed.unwrap_or(embed),
        });
    }
    let mut bounds: Vec<&str> = Vec::new();
    for &b in &args.bounds {
        if bounds.contains(&b) {
            return Err(usage(format!("--bounds names {b} twice")));
        }
        bounds.push(b);
    }
    bounds
        .iter()
        .map(|b| Ok(base.clone().with_bound(bound_named(b, None, None)?)))
        .collect()
}

/// A finished estimate, one line on stderr.
fn progress_line(bound: &str, r: &Row) -> String {
    match &r.error {
        None => format!(
            "{bound} {} t = {}: {:.3} ± {:.3} nats ({:.1} s)",
            r.setting.name(),
            r.t,
            r.estimate,
            r.std_err,
            r.seconds
        ),
        Some(e) => format!("{bound} {} t = {}: failed: {e}", r.setting.name(), r.t),
    }
}

/// The command as typed, for the Markdown file.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("infobound {}", args.join(" "))
}

/// The JSON object of every report.
fn json(reports: &[ConsistencyReport]) -> ConsistencyJson<'_> {
    let first = &reports[0];
    ConsistencyJson {
        images: first.images,
        height: first.shape.0,
        width: first.shape.1,
        dropped: &first.dropped,
        levels: first.levels,
        dequantise: first.dequantise.name(),
        note: first.note(),
        rows: reports
            .iter()
            .flat_map(|rep| {
                rep.rows.iter().map(move |r| RowJson {
                    bound: rep.bound,
                    setting: r.setting.name(),
                    t: r.t,
                    dim_x: r.dims.0,
                    dim_y: r.dims.1,
                    estimate: r.estimate,
                    std_err: r.std_err,
                    ratio: r.ratio,
                    ratio_std_err: r.ratio_std_err,
                    ideal: r.ideal(),
                    seconds: r.seconds,
                    device: &r.device,
                    error: r.error.as_deref(),
                })
            })
            .collect(),
        verdicts: reports
            .iter()
            .flat_map(|rep| {
                rep.verdicts.iter().map(move |v| VerdictJson {
                    bound: rep.bound,
                    setting: v.setting.name(),
                    holds: v.holds,
                    failing: &v.failing,
                    missing: &v.missing,
                })
            })
            .collect(),
    }
}
