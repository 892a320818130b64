//! `infobound mine-demo`: MINE's experiment (Belghazi et al. 2018), biased DV against the
//! EMA-corrected gradient per ρ, written as a CSV of every step, a Markdown table (also printed)
//! and a figure (PNG, SVG).

use std::path::PathBuf;

use clap::Args;
use infobound::experiments::mine_ema::{MineEmaResult, MineEmaRun};
use infobound::DeviceChoice;

use crate::args::{device_parser, List, Widths};
use crate::failure::Failure;
use crate::files::{create_dir, write_file};
use crate::mine_demo_plot::mine_demo_figure;
use crate::plot;
use crate::progress::{self, Bar};

/// What `mine-demo --help` adds under the options.
const AFTER_HELP: &str = "\
At every ρ the same critic (an MLP on [x; y], negatives through a random derangement of y)
trains from the same start on the same batches twice: once with DV's biased gradient, once with
MINE's EMA-corrected one. Writes DIR/mine_demo_dD.csv (dim,rho,true_mi,run,step,estimate,
grad_norm), .md (the table, also printed), .png and .svg (a column per ρ: both runs' estimates
and the truth over their gradient norms). Estimates in nats.";

/// `mine-demo`'s options; the defaults are MINE's setting (`MineEmaRun::default()`).
#[derive(Args)]
#[command(allow_negative_numbers = true, after_help = AFTER_HELP)]
pub struct MineDemoArgs {
    /// Dimension d of x and of y
    #[arg(long, value_name = "D", default_value_t = MineEmaRun::default().dim)]
    dim: usize,
    /// The correlations ρ compared, comma-separated, each in (−1, 1)
    #[arg(long, value_name = "RHOS", default_value_t = List(MineEmaRun::default().rhos))]
    rhos: List<f64>,
    /// Training steps a run
    #[arg(long, value_name = "N", default_value_t = MineEmaRun::default().steps)]
    steps: u32,
    /// The folder the files are written to
    #[arg(long, value_name = "DIR", default_value = "mine_demo")]
    out: PathBuf,
    /// Hidden layer widths of the critic, comma-separated
    #[arg(long, value_name = "WIDTHS", default_value_t = List(MineEmaRun::default().hidden))]
    hidden: Widths,
    /// Joint pairs (and negatives) a batch
    #[arg(long, value_name = "K", default_value_t = MineEmaRun::default().batch)]
    batch: usize,
    /// Adam's learning rate
    #[arg(long, value_name = "LR", default_value_t = MineEmaRun::default().lr)]
    lr: f32,
    /// The moving average's smoothing α in (0, 1): v ← (1−α)v + α·(batch mean of e^T)
    #[arg(long, value_name = "ALPHA", default_value_t = MineEmaRun::default().alpha)]
    alpha: f32,
    /// Seeds the initialisation and the draws (the same for both runs)
    #[arg(long, value_name = "SEED", default_value_t = MineEmaRun::default().seed)]
    seed: u64,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// No progress, no warnings and no closing line
    #[arg(long)]
    quiet: bool,
}

/// Runs `infobound mine-demo` with the arguments after the command's name: writes
/// DIR/mine_demo_dD.csv (`dim,rho,true_mi,run,step,estimate,grad_norm`) and .md (per ρ: true
/// I, each run's final estimate, final and largest gradient norm) and the figure as .png and
/// .svg (a column per ρ: estimates and truth over gradient norms), and prints the table.
pub fn mine_demo(args: &MineDemoArgs) -> Result<(), Failure> {
    let quiet = args.quiet;
    let run = MineEmaRun::default()
        .with_device(args.device)
        .with_dim(args.dim)
        .with_rhos(args.rhos.0.clone())
        .with_steps(args.steps)
        .with_hidden(args.hidden.0.clone())
        .with_batch(args.batch)
        .with_lr(args.lr)
        .with_alpha(args.alpha)
        .with_seed(args.seed);
    let out = &args.out;
    create_dir(out)?;
    let bar = Bar::new(progress::wanted(quiet, false), "mine-demo");
    let result = run.run_with_progress(|label, done, total| {
        bar.update(u64::from(done), u64::from(total), label.to_string());
    });
    bar.finish();
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
        "# MINE: biased DV gradient against the EMA correction (Belghazi et al. 2018)\n\n\
         d = {}, concat critic on shuffled negatives, hidden {:?}, batch {}, Adam lr {}, \
         {} steps, α = {}, seed {}, on {}. Estimates: the DV value of the training batches, \
         mean of the last 100 steps; ‖g‖: the global L2 norm of the critic's gradient.\n\n{table}",
        run.dim, run.hidden, run.batch, run.lr, run.steps, run.alpha, run.seed, result.device
    )
}
