//! `infobound tune`: times every fused-kernel geometry on this adapter at the shapes asked for,
//! prints the table, caches the choice (as a run's first use would) and can write it as a
//! geometry file for `--geometry`.

use std::path::PathBuf;

use clap::Args;
use infobound::backend;
use infobound::gpu::{tune, FusedPass, KernelGeometry, TuneTable};
use infobound::DeviceChoice;

use crate::args::device_parser;
use crate::failure::{runtime, usage, Failure};

const AFTER_HELP: &str = "\
The fused score kernels (the separable critic's statistics and gradients, S = G·Hᵀ never
stored) have several geometries: lines an invocation owns, the block of the other index it
keeps in registers, the workgroup size, and whether a workgroup stages the other side's
embeddings in workgroup memory. Every geometry gives the same bits; only the speed differs.

A run tunes the shapes it needs at first use and caches the choice, keyed by adapter, driver
and library version, in $XDG_CACHE_HOME/infobound/geometry.json (INFOBOUND_TUNE_CACHE moves it,
INFOBOUND_TUNE=off turns tuning off). This command tunes now and prints the table.";

/// `infobound tune`'s options.
#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub struct TuneArgs {
    /// Where to tune: a GPU adapter (software ones included)
    #[arg(long, value_name = "DEVICE", default_value = "gpu", value_parser = device_parser())]
    device: DeviceChoice,
    /// Batch sizes K, comma-separated (each tuned at K rounded up to a power of two, at most
    /// 4096)
    #[arg(
        long,
        value_name = "KS",
        value_delimiter = ',',
        default_value = "1024,4096"
    )]
    ks: Vec<usize>,
    /// Embedding widths e, comma-separated
    #[arg(
        long,
        value_name = "ES",
        value_delimiter = ',',
        default_value = "32,128"
    )]
    es: Vec<usize>,
    /// Also write the choice at the last K and e as a geometry file for `--geometry`
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

/// Runs `infobound tune`.
pub fn tune(args: &TuneArgs) -> Result<(), Failure> {
    if let Some(&k) = args.ks.iter().find(|&&k| k < 2) {
        return Err(usage(format!("--ks: K must be at least 2, not {k}")));
    }
    if let Some(&e) = args.es.iter().find(|&&e| e == 0) {
        return Err(usage(format!("--es: e must be at least 1, not {e}")));
    }
    let opened = backend::open(args.device).map_err(|e| runtime(e.to_string()))?;
    let Some(ctx) = opened.backend.gpu() else {
        return Err(usage(format!(
            "--device {}: tuning needs a GPU adapter (`infobound devices` lists them)",
            args.device
        )));
    };
    let adapter = ctx.adapter();
    println!("adapter: {adapter}");
    println!(
        "driver: {}",
        if adapter.driver.is_empty() {
            "?"
        } else {
            &adapter.driver
        }
    );
    match tune::cache_path() {
        Some(p) => println!("cache: {}", p.display()),
        None => println!("cache: none (no home directory; set {})", tune::CACHE_ENV),
    }
    let mut last = None;
    for &k in &args.ks {
        for &e in &args.es {
            let table = ctx
                .tune_and_cache(k, e)
                .map_err(|err| runtime(format!("tuning at K = {k}, e = {e}: {err}")))?;
            print_table(&table);
            last = Some(table);
        }
    }
    for note in ctx.geometry_notes() {
        eprintln!("note: {note}");
    }
    if let (Some(path), Some(table)) = (&args.save, last) {
        let mut g = KernelGeometry::rule(adapter.is_software);
        g.fused_forward = table.chosen.0;
        g.fused_backward = table.chosen.1;
        g.reduce_subgroups = ctx.has_subgroups();
        g.save(path).map_err(|e| runtime(e.to_string()))?;
        println!(
            "wrote {} (fused forward {}, backward {}, gemm {})",
            path.display(),
            g.fused_forward.name(),
            g.fused_backward.name(),
            g.gemm.name()
        );
    }
    Ok(())
}

/// One shape's table: every candidate's median time, the fastest of each pass marked.
fn print_table(t: &TuneTable) {
    println!();
    println!("K = {}, e = {} (InfoNCE, median of 3 runs)", t.k, t.e);
    println!("| pass     | geometry             |   time (ms) | chosen |");
    println!("|----------|----------------------|-------------|--------|");
    for row in &t.rows {
        let chosen = match row.pass {
            FusedPass::Forward => t.chosen.0,
            _ => t.chosen.1,
        } == row.geometry
            && row.seconds.is_some();
        let time = match (row.seconds, &row.note) {
            (Some(s), _) => format!("{:>11.3}", s * 1e3),
            (None, Some(n)) => n.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "| {:<8} | {:<20} | {time} | {:<6} |",
            row.pass.name(),
            row.geometry.name(),
            if chosen { "*" } else { "" }
        );
    }
}
