//! The infobound command line: `estimate`, `staircase`, `mine-demo`, `bench`, `devices`.
//!
//! Errors are one line on stderr and a non-zero exit: 2 for bad input (a missing or unreadable
//! file, a malformed .npy or CSV, mismatched rows, a NaN, an unknown bound or option, a setting
//! the library rejects), 1 for a failure while running (no GPU when one is required, a
//! diverged run, an unwritable output).

mod args;
mod bench;
mod bench_report;
mod devices;
mod estimate;
mod estimate_plot;
mod failure;
mod files;
mod json;
mod mine_demo;
mod mine_demo_plot;
mod plot;
mod progress;
mod sandwich;
mod sigpipe;
mod staircase;
mod staircase_files;
mod summary;
mod units;

use std::process::ExitCode;

use crate::devices::devices;
use crate::estimate::estimate;
use crate::failure::{usage, Failure};
use crate::mine_demo::mine_demo;
use crate::staircase::staircase;

/// What `infobound help` (or no command at all) prints.
const USAGE: &str = "\
infobound — mutual-information estimation on the GPU

USAGE:
    infobound estimate --x X --y Y [options]
        X, Y: .npy (float32/float64, 1-D or 2-D, C or Fortran order) or numeric CSV files
        with the same number of rows.
        --bound nwj|infonce|tuba|dv|mine|js|smile|alpha-infonce   (smile)
                lautum-dv|lautum-nwj (Lautum information, not I)
                ba (--critic decoder), ms (--critic decoder-critic): y ~ N(0, I) known
        --log-marginal LP (ba, ms): log p(y_i) in nats a row (n × 1) instead of N(0, I)
        --critic separable|concat|shuffled|decoder|decoder-critic   (separable)
        --hidden 128,128   --embed 32 (separable only)   --batch 128   --steps 2000
        --lr 1e-3   --tau 5 (smile)   --alpha 0.01 (alpha-infonce)   --seed 0
        --test-fraction 0.2   --device auto|gpu|cpu   --bits   --json   --quiet
        --plot FILE.png|FILE.svg (training curve and held-out evaluations)
        --max-grad-norm G (clip the critic's gradient to norm G before Adam)
    infobound staircase [--bounds smile,infonce,...] [--task gaussian|cubic]
        [--steps-per-stage 4000] [--out DIR] [--device auto|gpu|cpu]
        [--hidden 256,256,256] [--embed 32] [--lr 5e-4] [--seed 0] [--quiet]
        the SMILE/VBMI benchmark; writes DIR/staircase.csv, .md (per-stage bias,
        variance, MSE), .png and .svg (one panel a bound)
    infobound mine-demo [--dim 5] [--rhos 0.85,0.9,0.95,0.99] [--steps 4000] [--out DIR]
        [--hidden 128,128] [--batch 256] [--lr 1e-3] [--alpha 0.01] [--seed 0]
        [--device auto|gpu|cpu] [--quiet]
        seed 002: biased DV against EMA-corrected MINE per ρ; writes DIR/mine_demo_dD.csv
        (every step's estimate and gradient norm), .md (the table, also printed), .png and
        .svg (one panel a ρ: both runs' estimates, the truth, both gradient norms)
    infobound bench [--smoke] [--json] [--device auto|gpu|cpu] [--ks 64,256,1024,4096]
        [--configs standard,bmi] [--seconds 2] [--repeats 3] [--train-steps N]
        training throughput (steps/s) beside the cost model and the floor it implies
        on this adapter's measured copy and FMA probes (see BENCHMARKS.md)
    infobound sandwich --y Y --mu MU --sigma SIGMA|--log-sigma LOGSIGMA [--block K]
        [--device auto|gpu|cpu]
        [--bits] [--json]
        lower and upper bounds on I when y_i ~ N(mu_i, diag sigma_i^2) is known (n × D each)
    infobound devices      list every adapter wgpu sees, marking the one `auto` picks
    infobound help         this text

Exit status: 0 on success, 2 for bad input, 1 for a failure while running.
Environment: WGPU_BACKEND (vulkan, metal, dx12) and WGPU_ADAPTER_NAME (a substring) narrow the
adapters; INFOBOUND_REQUIRE_GPU=1 makes a missing GPU an error instead of a CPU fallback.";

/// Runs the command `args` names (help when none).
fn run(args: &[String]) -> Result<(), Failure> {
    match args.first().map(String::as_str) {
        Some("estimate") => estimate(&args[1..]),
        Some("staircase") => staircase(&args[1..]),
        Some("mine-demo") => mine_demo(&args[1..]),
        Some("devices") => devices(),
        Some("bench") => crate::bench::bench(&args[1..]),
        Some("sandwich") => sandwich::sandwich(&args[1..]),
        None | Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(usage(format!(
            "unknown command {other:?} (estimate, staircase, mine-demo, bench, devices or help)"
        ))),
    }
}

/// Runs the command and turns its outcome into the exit status: 0, 2 for bad input, 1 for a
/// failure while running, 101 for a bug (and, on Unix, death by SIGPIPE when stdout closes).
fn main() -> ExitCode {
    sigpipe::end_quietly_when_stdout_closes();
    // A bug must still end in one line, not a panic message and a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        eprintln!(
            "error: internal error (please report): {}",
            msg.replace('\n', " ")
        );
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match std::panic::catch_unwind(|| run(&args)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("error: {}", f.msg);
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(101),
    }
}
