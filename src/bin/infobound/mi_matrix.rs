//! `infobound mi-matrix`: the MI between every two column groups of one file, all pairs
//! trained at once (pairs of equal widths side by side in one batched run).

use std::path::PathBuf;

use clap::Args;
use infobound::estimate::io::read_table;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator, MarginalTransform};

use crate::args::{
    bound_named, device_parser, embed_of, transform_parser, OneOf, Widths, ESTIMATE_BOUNDS,
};
use crate::failure::{runtime, usage, Failure};
use crate::files::create_dir;
use crate::mi_matrix_files::MatrixFiles;
use crate::progress::{self, Bar};

/// What `mi-matrix --help` adds under the options.
const AFTER_HELP: &str = "\
Groups: --groups 0-3,4-7,8 makes three groups (columns 0 to 3, 4 to 7, and 8; 0-based,
inclusive); --each-column makes one group a column. One estimate a pair of groups (the matrix is
mirrored; the diagonal is empty), each with the estimate protocol of `infobound estimate`.
Pairs of the same widths train side by side as the replicas of one batched run; each gives
the bits it would alone. Writes DIR/mi_matrix.csv (the matrix), mi_matrix.json (values,
standard errors, each pair's batched run and warnings) and a heat map (mi_matrix.png and
.svg). A pair that fails is empty in the matrix and named on stderr, and the command exits 1.

Example:
  infobound mi-matrix --x features.npy --groups 0-3,4-7,8-11 --out mi";

/// `mi-matrix`'s options. Settings not given take `Estimator::default()`'s values.
#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub struct MiMatrixArgs {
    /// The data: one sample a row (.npy or CSV)
    #[arg(long, value_name = "FILE")]
    x: PathBuf,
    /// Column groups, comma-separated: N or A-B (0-based, inclusive)
    #[arg(
        long,
        value_name = "GROUPS",
        required_unless_present = "each_column",
        conflicts_with = "each_column"
    )]
    groups: Option<String>,
    /// One group a column
    #[arg(long)]
    each_column: bool,
    /// The bound trained and reported
    #[arg(long, value_name = "BOUND", default_value = "smile",
          value_parser = OneOf::new("bound", ESTIMATE_BOUNDS.as_slice()))]
    bound: &'static str,
    /// Hidden layer widths of each tower of the separable critic, comma-separated
    #[arg(long, value_name = "WIDTHS", default_value_t = Widths::of(&Estimator::default().critic))]
    hidden: Widths,
    /// The towers' embedding width
    #[arg(long, value_name = "E", default_value_t = embed_of(&Estimator::default().critic))]
    embed: usize,
    /// Joint pairs a training batch (K)
    #[arg(long, value_name = "K", default_value_t = Estimator::default().batch)]
    batch: usize,
    /// Training steps
    #[arg(long, value_name = "N", default_value_t = Estimator::default().steps)]
    steps: u32,
    /// Adam's learning rate
    #[arg(long, value_name = "LR", default_value_t = Estimator::default().adam.lr)]
    lr: f32,
    /// Seeds every estimate (the same seed gives the same bits)
    #[arg(long, value_name = "SEED", default_value_t = Estimator::default().seed)]
    seed: u64,
    /// Seeds in each pair's ensemble (each entry the mean over them)
    #[arg(long, value_name = "N", default_value_t = Estimator::default().replicas)]
    replicas: u32,
    /// How every column is mapped before training
    #[arg(long, value_name = "TRANSFORM", default_value_t = Estimator::default().transform,
          value_parser = transform_parser())]
    transform: MarginalTransform,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// The folder the files are written to
    #[arg(long, value_name = "DIR", default_value = "mi_matrix")]
    out: PathBuf,
    /// Report bits instead of nats
    #[arg(long)]
    bits: bool,
    /// Print the JSON on stdout instead of the table (no progress)
    #[arg(long)]
    json: bool,
    /// No progress and no warnings on stderr
    #[arg(long)]
    quiet: bool,
}

/// Runs `infobound mi-matrix`.
pub fn mi_matrix(args: &MiMatrixArgs) -> Result<(), Failure> {
    if args.hidden.0.contains(&0) || args.embed == 0 {
        return Err(usage("hidden and embedding widths must be positive"));
    }
    let est = Estimator::default()
        .with_bound(bound_named(args.bound, None, None)?)
        .with_critic(CriticForm::Separable {
            hidden: args.hidden.0.clone(),
            embed: args.embed,
        })
        .with_batch(args.batch)
        .with_steps(args.steps)
        .with_lr(args.lr)
        .with_seed(args.seed)
        .with_replicas(args.replicas)
        .with_transform(args.transform)
        .with_device(args.device);
    let table = read_table(&args.x)?;
    let groups = match &args.groups {
        Some(spec) => parse_groups(spec)?,
        None => (0..table.cols).map(|c| vec![c]).collect(),
    };
    let x = table.matrix()?;
    let quiet = args.quiet || args.json;
    let bar = Bar::new(progress::wanted(args.quiet, args.json), "");
    let matrix = est.mi_matrix_with_progress(x, &groups, |_, p| bar.estimate(p, args.bits));
    bar.finish();
    let matrix = matrix?;
    create_dir(&args.out)?;
    let files = MatrixFiles::new(&matrix, args.bits);
    files.write(&args.out)?;
    if args.json {
        println!("{}", files.json());
    } else {
        print!("{}", files.table());
        if !quiet {
            for run in &matrix.runs {
                eprintln!("batched run: {run}");
            }
        }
    }
    let mut failed = Vec::new();
    for ((i, j), r) in &matrix.pairs {
        match r {
            Ok(report) if !quiet => {
                for w in &report.warnings {
                    eprintln!("warning: groups {i} and {j}: {w}");
                }
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: groups {i} and {j}: {e}");
                failed.push(format!("{i}-{j}"));
            }
        }
    }
    if !quiet {
        eprintln!(
            "wrote mi_matrix.csv, mi_matrix.json, mi_matrix.png and mi_matrix.svg in {}",
            args.out.display()
        );
    }
    match failed.len() {
        0 => Ok(()),
        n => Err(runtime(format!(
            "{n} pair(s) failed: {}",
            failed.join(", ")
        ))),
    }
}

/// `--groups`: comma-separated `N` or `A-B` (inclusive).
fn parse_groups(spec: &str) -> Result<Vec<Vec<usize>>, Failure> {
    let bad = |part: &str| {
        usage(format!(
            "--groups: {part:?} is not a column (N) or an inclusive range (A-B)"
        ))
    };
    spec.split(',')
        .map(|part| {
            let part = part.trim();
            let num = |s: &str| s.trim().parse::<usize>().map_err(|_| bad(part));
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(bad(part));
                    }
                    Ok((a..=b).collect())
                }
                None => Ok(vec![num(part)?]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_groups;

    #[test]
    fn groups_parse_as_columns_and_inclusive_ranges() {
        assert_eq!(
            parse_groups("0-2, 3,5-5").ok().unwrap(),
            vec![vec![0, 1, 2], vec![3], vec![5]]
        );
        for bad in ["", "a", "3-1", "1-", "-2", "1,,2"] {
            assert!(parse_groups(bad).is_err(), "{bad}");
        }
    }
}
