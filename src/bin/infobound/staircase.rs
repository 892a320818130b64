//! `infobound staircase`: the SMILE/VBMI benchmark, every chosen bound on every chosen task,
//! the true MI stepping up stage by stage.

use std::path::PathBuf;

use clap::Args;
use infobound::experiments::staircase::{StaircaseResult, StaircaseRun};
use infobound::experiments::tasks::{Staircase, Transform};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Error};

use crate::args::{bound_named, device_parser, embed_of, OneOf, Widths, ESTIMATE_BOUNDS};
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
(SPEC §4; Song & Ermon 2020's benchmark). Writes DIR/staircase.csv (task,bound,step,true_mi,
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
            let sc = Staircase::default()
                .with_steps_per_stage(steps_per_stage)
                .with_transform(transform);
            let r = run.clone().with_staircase(sc.clone()).with_bound(bound);
            let result = match run_showing_progress(&r, task, bound, quiet) {
                Ok(res) => res,
                // A setting the library rejects fails the same way for every bound.
                Err(e) if e.is_input() => return Err(e.into()),
                Err(e) => {
                    eprintln!("error: {task} {}: {e}", bound.name());
                    failures.push(format!("{task} {}", bound.name()));
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
                    "{task} {}: {} steps in {:.1} s on {}",
                    bound.name(),
                    result.estimates.len(),
                    result.seconds,
                    result.device
                );
            }
            files.add(task, bound.name(), &sc, &result);
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

/// `--bounds` (every black-box bound when not given).
fn bounds(args: &StaircaseArgs) -> Result<Vec<Bound>, Failure> {
    if args.bounds.is_empty() {
        return Ok(Bound::ALL.to_vec());
    }
    args.bounds
        .iter()
        .map(|b| bound_named(b, None, None))
        .collect()
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
    bound: Bound,
    quiet: bool,
) -> Result<StaircaseResult, Error> {
    let bar = Bar::new(
        progress::wanted(quiet, false),
        format!("{task} {}", bound.name()),
    );
    let result = r.run_with_progress(|done, total| {
        bar.update(u64::from(done), u64::from(total), String::new());
    });
    bar.finish();
    result
}
