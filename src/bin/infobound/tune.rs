//! `infobound tune`: times every geometry of the tuned kernel families on this adapter at the
//! shapes asked for (the fused score kernels, the matrix products, the column sums and the pair
//! kernels), prints the tables, caches the choices (as a run's first use would) and can write
//! them as a geometry file for `--geometry`.

use std::path::PathBuf;

use clap::Args;
use infobound::backend;
use infobound::gpu::{tune, FamilyTable, FusedPass, GpuContext, TuneTable};
use infobound::math::linalg::GemmSpec;
use infobound::DeviceChoice;

use crate::args::device_parser;
use crate::failure::{runtime, usage, Failure};

const AFTER_HELP: &str = "\
The fused score kernels (the separable critic's statistics and gradients, S = G·Hᵀ never
stored) have several geometries: lines an invocation owns, the block of the other index it
keeps in registers, the workgroup size, and whether a workgroup stages the other side's
embeddings in workgroup memory. Every line geometry gives the same bits; only the speed
differs. The matrix products (register block, workgroup, workgroup-memory tiles), the column
sums (rows an invocation adds) and the pair kernels (workgroup, outputs an invocation) have
theirs, tuned per shape class; at each K and e this command tunes the score product
S = G·Hᵀ (K × K × e) and dG = ∂S·H (K × e × K), the concat critic's bias-gradient column
sums over K² pair rows (16 columns) and its pair kernels (width 16).

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
    /// 4096, or 1024 on a CPU rasteriser)
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
            tune_families(ctx, k, e)?;
            last = Some(table);
        }
    }
    for note in ctx.geometry_notes() {
        eprintln!("note: {note}");
    }
    if let (Some(path), Some(table)) = (&args.save, last) {
        let (k, e) = (table.k, table.e);
        let mut g = ctx.rule_geometry();
        g.fused_forward = table.chosen.0;
        g.fused_backward = table.chosen.1;
        // The families tuned per shape: their choice at the last K and e (cached above).
        g.gemm = ctx.gemm_geometry(&GemmSpec::dense(k, k, e, false, true));
        g.reductions = ctx.reduce_geometry(k * k, 16);
        g.pairs = ctx.pair_geometry(k, 16);
        g.save(path).map_err(|e| runtime(e.to_string()))?;
        println!("wrote {} ({})", path.display(), g.describe());
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
        let time = time_cell(row.seconds, row.note.as_deref());
        println!(
            "| {:<8} | {:<20} | {time} | {:<6} |",
            row.pass.name(),
            row.geometry.name(),
            if chosen { "*" } else { "" }
        );
    }
}

/// Tunes the products, column sums and pair kernels at the shapes of K and e (see the help)
/// and prints their tables.
fn tune_families(ctx: &GpuContext, k: usize, e: usize) -> Result<(), Failure> {
    let failed = |what: &str, err: infobound::gpu::GpuError| {
        runtime(format!("tuning {what} at K = {k}, e = {e}: {err}"))
    };
    for spec in [
        GemmSpec::dense(k, k, e, false, true),
        GemmSpec::dense(k, e, k, false, false),
    ] {
        let t = ctx.tune_gemm_at(&spec).map_err(|err| failed("gemm", err))?;
        print_family(&t, |g| g.name());
    }
    let t = ctx
        .tune_column_sums_at(k * k, 16)
        .map_err(|err| failed("column sums", err))?;
    print_family(&t, |g| g.column_name());
    let t = ctx
        .tune_pairs_at(k, 16)
        .map_err(|err| failed("pairs", err))?;
    print_family(&t, |g| g.name());
    Ok(())
}

/// One family's table at one shape class, the fastest marked.
fn print_family<G: PartialEq>(t: &FamilyTable<G>, name: impl Fn(&G) -> String) {
    let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
    println!();
    println!("{} at [{}] (median of 3 runs)", t.family, shape.join(", "));
    println!("| geometry                     |   time (ms) | chosen |");
    println!("|------------------------------|-------------|--------|");
    for row in &t.rows {
        let chosen = row.geometry == t.chosen && row.seconds.is_some();
        println!(
            "| {:<28} | {} | {:<6} |",
            name(&row.geometry),
            time_cell(row.seconds, row.note.as_deref()),
            if chosen { "*" } else { "" }
        );
    }
}

/// A table's time column: milliseconds, or why there is none.
fn time_cell(seconds: Option<f64>, note: Option<&str>) -> String {
    match (seconds, note) {
        (Some(s), _) => format!("{:>11.3}", s * 1e3),
        (None, Some(n)) => n.to_string(),
        (None, None) => "-".into(),
    }
}
