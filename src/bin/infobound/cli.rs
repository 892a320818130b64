//! The command line's grammar: `infobound <COMMAND> [OPTIONS]`, one subcommand a job. Each
//! command's options live beside the code that runs it; this file names the commands and
//! says what `infobound --help` says about all of them.

use clap::{Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::completions::CompletionsArgs;
use crate::consistency::ConsistencyArgs;
use crate::estimate::EstimateArgs;
use crate::mi_matrix::MiMatrixArgs;
use crate::mine_demo::MineDemoArgs;
use crate::sandwich::SandwichArgs;
use crate::staircase::StaircaseArgs;
use crate::suite::SuiteArgs;
use crate::tune::TuneArgs;

/// What `--help` adds under every command's options.
pub const AFTER_HELP: &str = "\
Estimates are in nats (--bits: bits).
Exit status: 0 on success, 2 for bad input or usage (one line on stderr), 1 for a failure while
running (no GPU when one is required, a diverged run, an unwritable output).
Environment: WGPU_BACKEND (vulkan, metal, dx12) and WGPU_ADAPTER_NAME (a substring) narrow the
adapters; INFOBOUND_REQUIRE_GPU=1 makes `auto` take any adapter, software
or not, and a missing one an error instead of a CPU fallback.";

/// Mutual-information estimation with neural variational bounds, trained on the GPU (wgpu:
/// Vulkan, Metal, DX12) or on the CPU (f32 on every core, or the f64 reference backend).
#[derive(Parser)]
#[command(name = "infobound", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// The command; none prints this help.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Estimate I(X; Y) from two files of paired rows (.npy or CSV)
    Estimate(Box<EstimateArgs>),
    /// The MI between every two column groups of one file, all pairs trained at once
    MiMatrix(Box<MiMatrixArgs>),
    /// The SMILE/VBMI benchmark: every bound while the true MI steps 2, 4, 6, 8, 10 nats
    Staircase(StaircaseArgs),
    /// MINE (Belghazi et al. 2018): the biased DV gradient against the EMA correction, per ρ
    MineDemo(MineDemoArgs),
    /// Lower and upper bounds on I when p(y | x_i) = N(μ_i, diag σ_i²) is known (SPEC §8)
    Sandwich(SandwichArgs),
    /// The task suite with known MI (bmi-style, Czyż et al. 2023): solved, over, |log ratio|
    Suite(SuiteArgs),
    /// Song & Ermon's self-consistency tests on images (the 8×8 digits by default): ratios
    Consistency(Box<ConsistencyArgs>),
    /// Training throughput (steps/s) beside the cost model and this adapter's measured limits
    Bench(BenchArgs),
    /// Time every fused-kernel geometry on this adapter, print the table and cache the choice
    Tune(TuneArgs),
    /// List every adapter wgpu sees (gpu:N), and what `--device auto` chooses and why
    Devices,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout
    Completions(CompletionsArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }
}
