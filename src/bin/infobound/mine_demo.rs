//! `infobound mine-demo`: seed 002's experiment, biased DV against EMA-corrected MINE per ρ,
//! written as a CSV of every step, a Markdown table (also printed) and a figure (PNG, SVG).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use infobound::experiments::mine_ema::{MineEmaResult, MineEmaRun};

use crate::args::Flags;
use crate::failure::{usage, Failure};
use crate::files::{create_dir, write_file};
use crate::mine_demo_plot::mine_demo_figure;
use crate::plot;
use crate::progress;

/// The options `mine-demo` takes a value for.
const VALUED: &[&str] = &[
    "--dim", "--rhos", "--steps", "--out", "--device", "--hidden", "--batch", "--lr", "--alpha",
    "--seed",
];

/// Runs `infobound mine-demo` with the arguments after the command's name: writes
/// DIR/mine_demo_dD.csv (`dim,rho,true_mi,run,step,estimate,grad_norm`) and .md (per ρ: true
/// I, each run's final estimate, final and largest gradient norm) and the figure as .png and
/// .svg (a column per ρ: estimates and truth over gradient norms), and prints the table.
pub fn mine_demo(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(args, VALUED, &["--quiet"])?;
    let quiet = flags.has("--quiet");
    let run = demo_run(&flags)?;
    let out = PathBuf::from(flags.get("--out").unwrap_or("mine_demo"));
    create_dir(&out)?;
    let show = !quiet && std::io::stderr().is_terminal();
    let start = Instant::now();
    let result = run.run_with_progress(|label, done, total| {
        if show {
            progress::staircase_line("mine-demo", label, done, total, start);
        }
    });
    if show {
        progress::clear();
    }
    let result = result?;
    if !quiet {
        for w in &result.warnings {
            eprintln!("warning: {w}");
        }
    }
    let stem = format!("mine_demo_d{}", run.dim);
    let table = result.table(run.dim);
    write_file(&out.join(format!("{stem}.csv")), &result.csv(run.dim))?;
    write_file(
        &out.join(format!("{stem}.md")),
        &markdown(&run, &result, &table),
    )?;
    let figure = mine_demo_figure(&result, run.dim);
    plot::write(&figure, &out.join(format!("{stem}.png")))?;
    plot::write(&figure, &out.join(format!("{stem}.svg")))?;
    print!("{table}");
    if !quiet {
        println!(
            "{:.1} s on {}; wrote {stem}.csv, .md, .png and .svg in {}",
            result.seconds,
            result.device,
            out.display()
        );
    }
    Ok(())
}

/// The table with the settings that produced it.
fn markdown(run: &MineEmaRun, result: &MineEmaResult, table: &str) -> String {
    format!(
        "# MINE: biased DV gradient against the EMA correction (seed 002)\n\n\
         d = {}, concat critic on shuffled negatives, hidden {:?}, batch {}, Adam lr {}, \
         {} steps, α = {}, seed {}, on {}. Estimates: the DV value of the training batches, \
         mean of the last 100 steps; ‖g‖: the global L2 norm of the critic's gradient.\n\n{table}",
        run.dim, run.hidden, run.batch, run.lr, run.steps, run.alpha, run.seed, result.device
    )
}

/// The run the flags describe (seed 002's setting where not given).
fn demo_run(flags: &Flags) -> Result<MineEmaRun, Failure> {
    let mut run = MineEmaRun::default().with_device(flags.device()?);
    if let Some(d) = flags.parsed("--dim", "a dimension")? {
        run = run.with_dim(d);
    }
    if let Some(rhos) = flags.get("--rhos") {
        let parsed: Result<Vec<f64>, Failure> = rhos
            .split(',')
            .map(|r| {
                r.trim()
                    .parse::<f64>()
                    .map_err(|_| usage(format!("--rhos: {r:?} is not a number")))
            })
            .collect();
        run = run.with_rhos(parsed?);
    }
    if let Some(s) = flags.parsed("--steps", "a step count")? {
        run = run.with_steps(s);
    }
    if flags.get("--hidden").is_some() {
        let hidden = flags.hidden(&infobound::math::critic::CriticForm::Shuffled {
            hidden: run.hidden.clone(),
        })?;
        run = run.with_hidden(hidden);
    }
    if let Some(b) = flags.parsed("--batch", "a batch size")? {
        run = run.with_batch(b);
    }
    if let Some(lr) = flags.parsed("--lr", "a learning rate")? {
        run = run.with_lr(lr);
    }
    if let Some(a) = flags.parsed("--alpha", "a smoothing in (0, 1)")? {
        run = run.with_alpha(a);
    }
    if let Some(s) = flags.parsed("--seed", "a seed")? {
        run = run.with_seed(s);
    }
    Ok(run)
}
