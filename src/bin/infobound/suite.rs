//! `infobound suite`: the task suite with known MI (bmi-style, Czyż et al. 2023) run with the
//! default estimator, one run a marginal transform, side by side: a Markdown table on stdout,
//! or one JSON object with `--json`.

use clap::Args;
use infobound::experiments::suite::{side_by_side, Row, Suite, SuiteReport, Summary};
use infobound::{DeviceChoice, Estimator, MarginalTransform};
use serde::Serialize;

use crate::args::{device_parser, List};
use crate::failure::{usage, Failure};
use crate::json::print_json;

/// `suite`'s options.
#[derive(Args)]
pub struct SuiteArgs {
    /// CI's subset: 6 tasks at 2 000 rows (the full grid: 37 tasks at 10 000)
    #[arg(long)]
    quick: bool,
    /// The marginal transforms to compare, comma-separated (rank-gauss, standardize, none);
    /// each runs in its own thread
    #[arg(long, value_name = "LIST", default_value = "rank-gauss")]
    transforms: List<String>,
    /// Where to train
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// Print one JSON object (every row of every transform and the summaries) instead of the
    /// table
    #[arg(long)]
    json: bool,
}

/// One task's row in the JSON output.
#[derive(Serialize)]
struct RowJson<'a> {
    transform: &'static str,
    task: &'a str,
    dim_x: usize,
    dim_y: usize,
    truth: f64,
    estimate: f64,
    std_err: f64,
    seconds: f64,
    solved: bool,
    over: bool,
    lower_bound_holds: bool,
    error: Option<&'a str>,
}

/// One transform's summary in the JSON output.
#[derive(Serialize)]
struct SummaryJson {
    transform: &'static str,
    tasks: usize,
    solved: usize,
    over: usize,
    mean_abs_log_ratio: f64,
    lower_bound_holds: usize,
    failed: usize,
    seconds: f64,
}

#[derive(Serialize)]
struct SuiteJson<'a> {
    n: usize,
    rows: Vec<RowJson<'a>>,
    summaries: Vec<SummaryJson>,
}

fn row_json(t: MarginalTransform, r: &Row) -> RowJson<'_> {
    RowJson {
        transform: t.name(),
        task: &r.task,
        dim_x: r.dims.0,
        dim_y: r.dims.1,
        truth: r.truth,
        estimate: r.estimate,
        std_err: r.std_err,
        seconds: r.seconds,
        solved: r.solved,
        over: r.over,
        lower_bound_holds: r.lower_bound_holds,
        error: r.error.as_deref(),
    }
}

fn summary_json(t: MarginalTransform, s: &Summary) -> SummaryJson {
    SummaryJson {
        transform: t.name(),
        tasks: s.tasks,
        solved: s.solved,
        over: s.over,
        mean_abs_log_ratio: s.mean_abs_log_ratio,
        lower_bound_holds: s.lower_bound_holds,
        failed: s.failed,
        seconds: s.seconds,
    }
}

/// Runs `infobound suite`.
pub fn suite(args: &SuiteArgs) -> Result<(), Failure> {
    let transforms: Vec<MarginalTransform> = args
        .transforms
        .0
        .iter()
        .map(|t| t.parse().map_err(|e| usage(format!("--transforms: {e}"))))
        .collect::<Result<_, _>>()?;
    let suite = if args.quick {
        Suite::quick()
    } else {
        Suite::default()
    };
    let estimators: Vec<Estimator> = transforms
        .iter()
        .map(|&t| {
            Estimator::default()
                .with_device(args.device)
                .with_transform(t)
        })
        .collect();
    let reports = suite.run_each(&estimators, |_, _| {})?;
    if args.json {
        let rows = transforms
            .iter()
            .zip(&reports)
            .flat_map(|(&t, r)| r.rows.iter().map(move |row| row_json(t, row)))
            .collect();
        let summaries = transforms
            .iter()
            .zip(&reports)
            .map(|(&t, r)| summary_json(t, &r.summary))
            .collect();
        print_json(&SuiteJson {
            n: suite.n,
            rows,
            summaries,
        });
        return Ok(());
    }
    let names: Vec<&str> = transforms.iter().map(|t| t.name()).collect();
    let refs: Vec<&SuiteReport> = reports.iter().collect();
    println!("{}", side_by_side(&names, &refs)?);
    Ok(())
}
