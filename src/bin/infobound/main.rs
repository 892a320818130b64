//! The infobound command line: `estimate`, `staircase`, `mine-demo`, `sandwich`, `suite`,
//! `consistency`, `bench`, `devices`, `completions` (clap; `infobound help` lists them).
//!
//! Errors are one line on stderr and a non-zero exit: 2 for bad input or usage (a missing or
//! unreadable file, a malformed .npy or CSV, mismatched rows, a NaN, an unknown bound or
//! option, a setting the library rejects), 1 for a failure while running (no GPU when one is
//! required, a diverged run, an unwritable output).

mod args;
mod bench;
mod bench_heldout;
mod bench_json;
mod bench_replicas;
mod bench_report;
mod clap_error;
mod cli;
mod completions;
mod consistency;
mod consistency_files;
mod devices;
mod estimate;
mod estimate_plot;
mod failure;
mod files;
mod json;
mod mi_matrix;
mod mi_matrix_files;
mod mine_demo;
mod mine_demo_plot;
mod plot;
mod progress;
mod sandwich;
mod sigpipe;
mod staircase;
mod staircase_files;
mod suite;
mod summary;
mod tune;
mod units;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::failure::Failure;

/// Parses the command line and runs the command it names (help when none).
fn run() -> Result<(), Failure> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error::handle(e),
    };
    match &cli.command {
        Some(Command::Estimate(a)) => estimate::estimate(a),
        Some(Command::MiMatrix(a)) => mi_matrix::mi_matrix(a),
        Some(Command::Staircase(a)) => staircase::staircase(a),
        Some(Command::MineDemo(a)) => mine_demo::mine_demo(a),
        Some(Command::Sandwich(a)) => sandwich::sandwich(a),
        Some(Command::Suite(a)) => suite::suite(a),
        Some(Command::Consistency(a)) => consistency::consistency(a),
        Some(Command::Bench(a)) => bench::bench(a),
        Some(Command::Tune(a)) => tune::tune(a),
        Some(Command::Devices) => devices::devices(),
        Some(Command::Completions(a)) => completions::completions(a),
        None => {
            // No command is a request for help, not a mistake: exit 0, as `help` does.
            let _ = Cli::command().print_help();
            Ok(())
        }
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
    match std::panic::catch_unwind(run) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("error: {}", f.msg);
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(101),
    }
}
