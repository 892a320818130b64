//! `infobound staircase`: the SMILE/VBMI benchmark, every chosen bound on every chosen task,
//! the true MI stepping up stage by stage.

use std::path::PathBuf;

use clap::Args;
use infobound::experiments::staircase::{StaircaseResult, StaircaseRun};
use infobound::experiments::tasks::{Staircase, Transform};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error};

use crate::args::{
    bound_named, default_tau_alpha, device_parser, embed_of, OneOf, Widths, ESTIMATE_BOUNDS,
};
use crate::failure::{runtime, usage, Failure};
use crate::files::create_dir;
use crate::progress::{self, Bar};
use crate::staircase_files::StaircaseFiles;

/// The tasks `--task` takes, with their help.
const TASKS: &[(&str, &str)] = &[
    ("gaussian", "the correlated Gaussian, d = 20"),
    ("cubic", "the same with y ↦ y³ (the MI is unchanged)"),
];

/// What `staircase --help` adds under the options.
const AFTER_HELP: &str = "\
Each bound trains on a batch of K = 64 while the true MI steps through 2, 4, 6, 8 and 10 nats
(SPEC §4; Song & Ermon 2020's benchmark). SMILE runs once for each --tau; its runs are labelled
`smile τ=1`, `smile τ=∞` in the table, the figure and the per-run lines, and `smile(tau=1)`,
`smile(tau=inf)` in the CSV (plain ASCII). Writes DIR/staircase.csv (task,bound,step,true_mi,
estimate), staircase.md (per stage: mean, bias, variance, MSE; also printed), and
staircase.png and .svg (one panel a run). A run that fails is named on its own error line and
skipped; the others are still written, and the command exits 1.";

/// `staircase`'s options; the defaults are the benchmark's (`StaircaseRun::default()`).
#[derive(Args)]
#[command(allow_negative_numbers = true, after_help = AFTER_HELP)]
pub struct StaircaseArgs {
    /// The bounds to run, comma-separated [default: the eight black-box bounds]
    #[arg(long, value_name = "BOUNDS", value_delimiter = ',',
          value_parser = OneOf::new("bound", ESTIMATE_BOUNDS.as_slice()))]
    bounds: Vec<&'static str>,
    // The help states the library's default τ, read from it.
    #[arg(long, value_name = "TAUS", value_delimiter = ',', value_parser = tau_value,
          help = tau_help())]
    tau: Vec<f32>,
    /// The tasks, comma-separated
    #[arg(long, value_name = "TASKS", value_delimiter = ',', default_value = "gaussian",
          value_parser = OneOf::new("task", TASKS))]
    task: Vec<&'static str>,
    /// Training steps a stage (five stages)
    #[arg(long, value_name = "N", default_value_t = Staircase::default().steps_per_stage)]
    steps_per_stage: u32,
    /// The folder the files are written to
    #[arg(long, value_name = "DIR", default_value = "staircase")]
    out: PathBuf,
    /// Hidden layer widths of each tower of the separable critic, comma-separated
    #[arg(long, value_name = "WIDTHS", default_value_t = Widths::of(&StaircaseRun::default().critic))]
    hidden: Widths,
    /// The towers' embedding width
    #[arg(long, value_name = "E", default_value_t = embed_of(&StaircaseRun::default().critic))]
    embed: usize,
    /// Adam's learning rate
    #[arg(long, value_name = "LR", default_value_t = StaircaseRun::default().adam.lr)]
    lr: f32,
    /// Seeds the initialisation and every draw
    #[arg(long, value_name = "SEED", default_value_t = StaircaseRun::default().seed)]
    seed: u64,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// No progress, no warnings and no per-run lines
    #[arg(long)]
    quiet: bool,
}

/// Runs `infobound staircase` with the arguments after the command's name. A run that fails
/// while training is reported and skipped; the others still write their files, and the
/// command then fails naming the runs that did not finish.
pub fn staircase(args: &StaircaseArgs) -> Result<(), Failure> {
    let bounds = bounds(args)?;
    let tasks = tasks(args);
    let quiet = args.quiet;
    let run = staircase_run(args)?;
    let steps_per_stage = args.steps_per_stage;
    Staircase::default()
        .with_steps_per_stage(steps_per_stage)
        .validate()?;
    let out = &args.out;
    create_dir(out)?;

    let mut files = StaircaseFiles::new();
    let mut failures = Vec::new();
    let mut warned = Vec::new();
    for &(task, transform) in &tasks {
        for &bound in &bounds {
            let label = label(bound);
            let sc = Staircase::default()
                .with_steps_per_stage(steps_per_stage)
                .with_transform(transform);
            let r = run.clone().with_staircase(sc.clone()).with_bound(bound);
            let result = match run_showing_progress(&r, task, &label, quiet) {
                Ok(res) => res,
                // A setting the library rejects fails the same way for every bound.
                Err(e) if e.is_input() => return Err(e.into()),
                Err(e) => {
                    eprintln!("error: {task} {label}: {e}");
                    failures.push(format!("{task} {label}"));
                    continue;
                }
            };
            for w in &result.warnings {
                // Every run on the same device says the same; once is enough.
                if !quiet && !warned.contains(w) {
                    eprintln!("warning: {w}");
                    warned.push(w.clone());
                }
            }
            if !quiet {
                println!(
                    "{task} {label}: {} steps in {:.1} s on {}",
                    result.estimates.len(),
                    result.seconds,
                    result.device
                );
            }
            files.add(task, &label, &csv_label(bound), &sc, &result);
        }
    }
    files.write(out, (run.batch as f64).ln())?;
    print!("{}", files.table());
    if !quiet {
        println!(
            "wrote staircase.csv, staircase.md, staircase.png and staircase.svg in {}",
            out.display()
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(runtime(format!(
            "{} run(s) failed: {}",
            failures.len(),
            failures.join(", ")
        )))
    }
}

/// `--tau`'s help, with the library's default clip.
fn tau_help() -> String {
    format!(
        "SMILE's clips τ, comma-separated: SMILE runs once for each; inf for no clip \
         [default: {}]",
        default_tau_alpha().0
    )
}

/// One clip of `--tau`: a positive number, or `inf` (also `infinity`, `∞`) for none.
fn tau_value(given: &str) -> Result<f32, String> {
    let given = given.trim();
    let tau = if given == "∞" {
        f32::INFINITY
    } else {
        given
            .parse::<f32>()
            .map_err(|_| format!("SMILE's τ must be a positive number or inf, not {given:?}"))?
    };
    if tau.is_nan() || tau <= 0.0 {
        return Err(format!(
            "SMILE's τ must be positive (inf for no clip), not {given}"
        ));
    }
    Ok(tau)
}

/// `--bounds` (every black-box bound when not given), SMILE once for each `--tau` (the
/// library's τ when none is given) in the place `--bounds` names it.
fn bounds(args: &StaircaseArgs) -> Result<Vec<Bound>, Failure> {
    let names: Vec<&str> = if args.bounds.is_empty() {
        Bound::ALL.iter().map(|b| b.name()).collect()
    } else {
        args.bounds.clone()
    };
    if !args.tau.is_empty() && !names.contains(&"smile") {
        return Err(usage(
            "--tau applies only to smile, which --bounds leaves out",
        ));
    }
    for (i, tau) in args.tau.iter().enumerate() {
        if args.tau[..i].contains(tau) {
            return Err(usage(format!(
                "--tau lists {} twice",
                tau_text(*tau, false)
            )));
        }
    }
    let taus: Vec<Option<f32>> = if args.tau.is_empty() {
        vec![None]
    } else {
        args.tau.iter().copied().map(Some).collect()
    };
    let mut out = Vec::new();
    for name in names {
        if name == "smile" {
            for &tau in &taus {
                out.push(bound_named(name, tau, None)?);
            }
        } else {
            out.push(bound_named(name, None, None)?);
        }
    }
    Ok(out)
}

/// τ as the labels write it: `∞` (or `inf` in ASCII) for no clip, else the shortest decimal.
fn tau_text(tau: f32, ascii: bool) -> String {
    match (tau.is_infinite(), ascii) {
        (true, true) => "inf".into(),
        (true, false) => "∞".into(),
        (false, _) => format!("{tau}"),
    }
}

/// A run's name in the table, the figure and the per-run lines: the bound's name, and
/// SMILE's τ (`smile τ=5`).
fn label(bound: Bound) -> String {
    match bound {
        Bound::Smile { tau } => format!("{} τ={}", bound.name(), tau_text(tau, false)),
        _ => bound.name().to_string(),
    }
}

/// A run's name in the CSV, plain ASCII: `smile(tau=5)`, `smile(tau=inf)`.
fn csv_label(bound: Bound) -> String {
    match bound {
        Bound::Smile { tau } => format!("{}(tau={})", bound.name(), tau_text(tau, true)),
        _ => bound.name().to_string(),
    }
}

/// `--task`: each task's name and the transform it applies to y.
fn tasks(args: &StaircaseArgs) -> Vec<(&'static str, Transform)> {
    args.task
        .iter()
        .map(|&t| match t {
            "cubic" => (t, Transform::Cubic),
            _ => (t, Transform::Identity),
        })
        .collect()
}

/// The run every bound and task shares: device, critic, learning rate and seed.
fn staircase_run(args: &StaircaseArgs) -> Result<StaircaseRun, Failure> {
    // StaircaseRun trusts its critic and learning rate; check them as Estimator does.
    if args.hidden.0.contains(&0) || args.embed == 0 {
        return Err(usage("hidden and embedding widths must be positive"));
    }
    let lr = args.lr;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(usage(format!(
            "the learning rate must be positive and finite, not {lr}"
        )));
    }
    Ok(StaircaseRun::default()
        .with_device(args.device)
        .with_critic(CriticForm::Separable {
            hidden: args.hidden.0.clone(),
            embed: args.embed,
        })
        .with_lr(lr)
        .with_seed(args.seed))
}

/// Runs `r`, showing its progress on a terminal unless `quiet`.
fn run_showing_progress(
    r: &StaircaseRun,
    task: &str,
    label: &str,
    quiet: bool,
) -> Result<StaircaseResult, Error> {
    let bar = Bar::new(progress::wanted(quiet, false), format!("{task} {label}"));
    let result = r.run_with_progress(|done, total| {
        bar.update(u64::from(done), u64::from(total), String::new());
    });
    bar.finish();
    result
}
