//! `infobound staircase`: the SMILE/VBMI benchmark, every chosen bound on every chosen task,
//! the true MI stepping up stage by stage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use infobound::experiments::staircase::{StaircaseResult, StaircaseRun};
use infobound::experiments::tasks::{Staircase, Transform};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::Error;

use crate::args::{all_bound_names, bound_named, Flags};
use crate::failure::{runtime, usage, Failure};
use crate::files::create_dir;
use crate::progress;
use crate::staircase_files::StaircaseFiles;

/// The options `staircase` takes a value for.
const VALUED: &[&str] = &[
    "--bounds",
    "--task",
    "--steps-per-stage",
    "--out",
    "--device",
    "--hidden",
    "--embed",
    "--lr",
    "--seed",
];

/// Runs `infobound staircase` with the arguments after the command's name. A run that fails
/// while training is reported and skipped; the others still write their files, and the
/// command then fails naming the runs that did not finish.
pub fn staircase(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(args, VALUED, &["--quiet"])?;
    let bounds = bounds(&flags)?;
    let tasks = tasks(&flags)?;
    let quiet = flags.has("--quiet");
    let run = staircase_run(&flags)?;
    let steps_per_stage = flags
        .parsed("--steps-per-stage", "a step count")?
        .unwrap_or(Staircase::default().steps_per_stage);
    Staircase::default()
        .with_steps_per_stage(steps_per_stage)
        .validate()?;
    let out = PathBuf::from(flags.get("--out").unwrap_or("staircase"));
    create_dir(&out)?;

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
    files.write(&out, (run.batch as f64).ln())?;
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

/// `--bounds`, comma-separated (every bound when not given).
fn bounds(flags: &Flags) -> Result<Vec<Bound>, Failure> {
    flags
        .get("--bounds")
        .map_or(all_bound_names().join(","), str::to_string)
        .split(',')
        .map(|b| bound_named(b.trim(), None, None))
        .collect()
}

/// `--task`, comma-separated: each task's name and the transform it applies to y.
fn tasks(flags: &Flags) -> Result<Vec<(&'static str, Transform)>, Failure> {
    flags
        .get("--task")
        .unwrap_or("gaussian")
        .split(',')
        .map(|t| match t.trim() {
            "gaussian" => Ok(("gaussian", Transform::Identity)),
            "cubic" => Ok(("cubic", Transform::Cubic)),
            t => Err(usage(format!("unknown task {t:?} (gaussian or cubic)"))),
        })
        .collect()
}

/// The run every bound and task shares: device, critic, learning rate and seed.
fn staircase_run(flags: &Flags) -> Result<StaircaseRun, Failure> {
    let mut run = StaircaseRun::default().with_device(flags.device()?);
    let hidden = flags.hidden(&run.critic)?;
    let embed = flags.parsed("--embed", "a width")?.unwrap_or(32);
    // StaircaseRun trusts its critic and learning rate; check them as Estimator does.
    if hidden.contains(&0) || embed == 0 {
        return Err(usage("hidden and embedding widths must be positive"));
    }
    run = run.with_critic(CriticForm::Separable { hidden, embed });
    if let Some(lr) = flags.parsed::<f32>("--lr", "a learning rate")? {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(usage(format!(
                "the learning rate must be positive and finite, not {lr}"
            )));
        }
        run = run.with_lr(lr);
    }
    if let Some(s) = flags.parsed("--seed", "a seed")? {
        run = run.with_seed(s);
    }
    Ok(run)
}

/// Runs `r`, showing its progress on a terminal unless `quiet`.
fn run_showing_progress(
    r: &StaircaseRun,
    task: &str,
    bound: Bound,
    quiet: bool,
) -> Result<StaircaseResult, Error> {
    // The line is redrawn in place, so it is only for a person watching, not for a log.
    let show = !quiet && std::io::stderr().is_terminal();
    let start = Instant::now();
    let result = r.run_with_progress(|done, total| {
        if show {
            progress::staircase_line(task, bound.name(), done, total, start);
        }
    });
    if show {
        progress::clear();
    }
    result
}
