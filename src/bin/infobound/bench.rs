//! `infobound bench`: whole-training throughput (steps/s, samples/s) of the standard
//! configuration (d = 20, separable critic 20→256→256→32 towers, SMILE τ = 5) at several batch
//! sizes and of the bmi benchmark's configuration (concat critic (16, 8), K = 256, Adam lr 0.1,
//! InfoNCE), each beside its cost model and the floor that implies on this device (from the
//! copy and FMA probes measured in the same run: the adapter's on a GPU, the CPU's own on
//! the CPU backend). Markdown table, or JSON with `--json`.
//!
//! Batches are drawn on the device from the correlated Gaussian of the configuration's task, so
//! the time is the training step alone (`bmi-dense`: minibatches of rows of bmi's 0.593-nat
//! dense Gaussian, sampled once before the timing). Each row: one warm-up step (pipeline compilation), a
//! calibration, then `--repeats` timed runs of as many steps as fill `--seconds`; steps/s is
//! their median, with the spread. The estimate is read on held-out rows of the task as the
//! estimate protocol reads it ([`crate::bench_heldout`]: the step chosen on one part of them,
//! its critic read once on the other), after training on to `--train-steps` if that is more
//! than the timing took, beside the task's true MI and the old mean of the last training
//! batches. The configurations that mirror bmi's estimator (bmi, bmi-dense) also carry bmi's
//! own statistic, read at every check outside the timed training: the maximum over the checks
//! of InfoNCE over every pair of all the held-out rows, for the comparison with bmi only.

use std::time::Instant;

use clap::Args;

use infobound::backend::{self, Backend, RunOptions, Trainer};
use infobound::cpu::fast::{probe, Pool};
use infobound::experiments::bench::{
    measure_probes, published_peak, GpuTimer, ProbeConfig, Probes, PublishedPeak, StepCost,
};
use infobound::experiments::suite::Task;
use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi, Transform};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::optim::AdamConfig;
use infobound::math::spec::{Batches, TrainData, TrainSpec};
use infobound::DeviceChoice;

use crate::args::{device_parser, OneOf};
use crate::bench_heldout::{Accuracy, BmiRows, HeldOutRows, Tracker};
use crate::bench_json::to_json;
use crate::bench_replicas::{measure_replicas, replica_markdown};
use crate::bench_report::{markdown, Header};
use crate::failure::{runtime, usage, Failure};
use crate::json::print_json;
use crate::progress::{self, Bar};

/// One benchmarked configuration.
pub struct Config {
    /// "standard", "bmi", "bmi-dense" or "small".
    pub name: &'static str,
    /// The training run.
    pub spec: TrainSpec,
    /// The task's dimension (dx = dy).
    pub dim: usize,
    /// Where its batches come from.
    pub draws: Draws,
    /// Rows of its task no step trains on, that the estimate is read on.
    pub held_out: HeldOutRows,
    /// Whether it mirrors bmi's estimator, so that bmi's own statistic is read for it.
    pub mirrors_bmi: bool,
}

/// Where a configuration's batches come from.
pub enum Draws {
    /// The correlated Gaussian, drawn afresh every step on the device, each coordinate of y
    /// correlated with its own of x at `rho`.
    Gaussian {
        /// Per-coordinate correlation of x and y.
        rho: f64,
    },
    /// Minibatches of rows sampled once from a task with a known MI.
    Rows {
        /// n × dim.
        x: Vec<f32>,
        /// n × dim.
        y: Vec<f32>,
        /// The task's MI, nats.
        mi: f64,
    },
}

impl Config {
    /// The batches a trainer draws from (`rho` holds the Gaussian's ρ schedule).
    pub fn batches<'a>(&'a self, rho: &'a mut [f32; 1]) -> Batches<'a> {
        match &self.draws {
            Draws::Gaussian { rho: r } => {
                rho[0] = *r as f32;
                Batches::Gaussian {
                    rho: &rho[..],
                    transform: Transform::Identity,
                }
            }
            Draws::Rows { x, y, .. } => Batches::Data(TrainData {
                x,
                dx: self.dim,
                y,
                dy: self.dim,
                log_marginal: None,
            }),
        }
    }
}

/// Rows of each held-out part of a Gaussian configuration (or K, when that is more): the
/// parts' size on bmi's dense task.
const HELD_OUT_PART: usize = 2_500;

/// The seed of a Gaussian configuration's held-out rows: a stream no training seed of the
/// bench (`--seed`, small numbers) draws its batches from.
const HELD_OUT_SEED: u64 = 0x0068_6f6c_646f_7574;

/// A configuration that draws its batches afresh from the `dim`-dimensional correlated
/// Gaussian of `mi` nats: its held-out rows are two parts drawn once from the same law.
fn gaussian(name: &'static str, spec: TrainSpec, dim: usize, mi: f64) -> Config {
    let rho = rho_for_mi(dim, mi);
    let part = HELD_OUT_PART.max(spec.batch);
    let (x, y) = correlated_gaussian(dim, rho, 2 * part, HELD_OUT_SEED);
    Config {
        name,
        spec,
        dim,
        draws: Draws::Gaussian { rho },
        held_out: HeldOutRows { x, y, select: part },
        mirrors_bmi: false,
    }
}

/// The standard configuration at batch `k`: d = 20, true MI 2 nats (the staircase's first stage).
fn standard(k: usize) -> Config {
    let critic = CriticForm::Separable {
        hidden: vec![256, 256],
        embed: 32,
    };
    let spec = TrainSpec::new(20, 20, critic, Bound::Smile { tau: 5.0 }, k);
    gaussian("standard", spec, 20, 2.0)
}

/// A small separable critic (64-wide towers, embedding 16, K = 64, SMILE τ = 5) on a 5-d
/// Gaussian of 1 nat: a critic far too small to fill a GPU alone.
fn small() -> Config {
    let critic = CriticForm::Separable {
        hidden: vec![64],
        embed: 16,
    };
    let spec = TrainSpec::new(5, 5, critic, Bound::Smile { tau: 5.0 }, 64);
    gaussian("small", spec, 5, 1.0)
}

/// bmi's neural-estimator defaults (benchmark-mi 0.1.3): MLP critic (16, 8) on [x; y], batch
/// 256, Adam lr 0.1, InfoNCE; on a 5 + 5-dimensional Gaussian with 1 nat.
fn bmi() -> Config {
    let critic = CriticForm::Concat {
        hidden: vec![16, 8],
    };
    let adam = AdamConfig::default().with_lr(0.1);
    let spec = TrainSpec::new(5, 5, critic, Bound::InfoNce, 256).with_adam(adam);
    Config {
        mirrors_bmi: true,
        ..gaussian("bmi", spec, 5, 1.0)
    }
}

/// Rows of bmi's `multinormal-dense-5-5-0.5` the bmi-dense configuration trains on: half of
/// 10 000 rows of the task's law (our own draw, not bmi's numpy sample), as bmi's estimator
/// trains on half of the 10 000 rows it is given; the other half is held out (bmi holds out a
/// random half of its rows).
const DENSE_ROWS: usize = 5_000;

/// The bmi configuration on bmi's own 0.593-nat task, `multinormal-dense-5-5-0.5` (every
/// two of the ten coordinates correlated at 0.5): 2 × [`DENSE_ROWS`] rows sampled once (seed
/// 0), minibatches of the first [`DENSE_ROWS`] every step, as bmi's estimator trains; the rest
/// held out, halved into the selection and report parts.
fn bmi_dense() -> Result<Config, Failure> {
    let task = Task::gaussian_dense(5).map_err(|e| runtime(e.to_string()))?;
    let (mut x, mut y) = task
        .sample(2 * DENSE_ROWS, 0)
        .map_err(|e| runtime(e.to_string()))?;
    let base = bmi();
    let (held_x, held_y) = (
        x.split_off(DENSE_ROWS * base.dim),
        y.split_off(DENSE_ROWS * base.dim),
    );
    Ok(Config {
        name: "bmi-dense",
        draws: Draws::Rows {
            x,
            y,
            mi: task.true_mi(),
        },
        held_out: HeldOutRows {
            x: held_x,
            y: held_y,
            select: DENSE_ROWS / 2,
        },
        ..base
    })
}

/// One measured row.
pub struct Row {
    /// The configuration.
    pub config: Config,
    /// What the step costs.
    pub cost: StepCost,
    /// Median steps per second, fastest and slowest run, steps per timed run; or why it failed.
    pub result: Result<Measured, String>,
}

/// The numbers of a row that ran.
pub struct Measured {
    /// Median steps per second.
    pub steps_per_s: f64,
    /// Slowest and fastest run, steps per second.
    pub range: (f64, f64),
    /// Steps in each timed run.
    pub steps_per_run: u32,
    /// Steps taken in all, warm-up included.
    pub steps_total: u64,
    /// Seconds the row took in all: the trainer's set-up, the warm-up, calibration, timed
    /// runs, the training on to `--train-steps`, and the held-out evaluations and read-out.
    pub wall_s: f64,
    /// The estimate read on the held-out rows, and what else they said.
    pub accuracy: Accuracy,
}

/// How long to measure, and on how many threads.
struct Budget {
    seconds: f64,
    repeats: usize,
    max_steps: u32,
    /// Steps to train (after the timed runs) before reading the estimate.
    train_steps: u64,
    /// Threads of the fast CPU backend (0: one a core).
    threads: usize,
}

/// Times `trainer` (made at `start` for `config`) as the module doc says.
fn measure(
    trainer: &mut dyn Trainer,
    config: &Config,
    budget: &Budget,
    start: Instant,
) -> Result<Measured, infobound::Error> {
    let bmi = config.mirrors_bmi.then_some(BmiRows {
        spec: &config.spec,
        rows: &config.held_out,
        threads: budget.threads,
    });
    let mut run = Tracker::new(bmi);
    run.advance(trainer, 1)?;
    // Calibrate on two steps, then size the runs to fill the budget.
    let per_step = run.advance(trainer, 2)? / 2.0;
    let n = ((budget.seconds / per_step).round() as u32).clamp(1, budget.max_steps);
    let mut rates = Vec::with_capacity(budget.repeats);
    for _ in 0..budget.repeats {
        rates.push(f64::from(n) / run.advance(trainer, n.into())?);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    // Train on to `train_steps` for the accuracy column.
    let rest = budget.train_steps.saturating_sub(trainer.step());
    run.advance(trainer, rest)?;
    let accuracy = run.finish(
        trainer,
        (&config.held_out, &config.spec),
        value_limit(config),
    )?;
    Ok(Measured {
        steps_per_s: median,
        range: (rates[0], rates[rates.len() - 1]),
        steps_per_run: n,
        steps_total: trainer.step(),
        wall_s: start.elapsed().as_secs_f64(),
        accuracy,
    })
}

/// The value a bound without a ceiling may not pass on a configuration's finite training
/// rows (ln of them, as the protocol's runaway check takes it); `None` for the Gaussian drawn
/// afresh every step or a bound with a ceiling.
fn value_limit(config: &Config) -> Option<f64> {
    match &config.draws {
        Draws::Rows { x, .. } if config.spec.bound.ceiling(config.spec.batch).is_none() => {
            Some(((x.len() / config.dim) as f64).ln())
        }
        _ => None,
    }
}

/// A row's numbers and the device name its trainer reports (with the CPU's thread count).
fn run_config(
    device: &dyn Backend,
    config: &Config,
    budget: &Budget,
) -> Result<(Measured, String), infobound::Error> {
    let mut rho = [0.0];
    let batches = config.batches(&mut rho);
    let options = RunOptions::default()
        .with_chunk(budget.max_steps.min(250))
        .with_threads(budget.threads);
    let start = Instant::now();
    let held_out = config.held_out.parts(&config.spec);
    let mut t = device.trainer(&config.spec, batches, Some(held_out), &options)?;
    Ok((measure(t.as_mut(), config, budget, start)?, t.device_name()))
}

/// The configurations `--configs` takes, with their help.
const CONFIGS: &[(&str, &str)] = &[
    (
        "standard",
        "d = 20, separable critic (256-256 towers, embedding 32), SMILE τ = 5, at each --ks",
    ),
    (
        "bmi",
        "benchmark-mi's neural defaults: concat critic (16, 8), K = 256, Adam lr 0.1, InfoNCE",
    ),
    (
        "bmi-dense",
        "the bmi configuration on bmi's multinormal-dense-5-5-0.5 (0.593 nats): 5 000 rows, 5 000 held out",
    ),
    (
        "small",
        "a small separable critic: 64-wide towers, embedding 16, K = 64, SMILE τ = 5, d = 5",
    ),
];

/// What `bench --help` adds under the options.
const AFTER_HELP: &str = "\
Each row: one warm-up step, a calibration, then --repeats timed runs of as many steps as fill
--seconds; steps/s is their median. Beside it: the step's cost model and the floor that implies
on this device's copy and FMA probes (measured in the same run: the CPU's own, on its
threads, for the CPU backend) and, where known, the adapter's datasheet peak. The estimate is
read on held-out rows as the estimate protocol reads it: the step chosen on one part of them
(checked every 250 steps, as bmi does), its critic read once on the other. bmi and bmi-dense
also report bmi's own statistic (the best check of InfoNCE over every pair of all the held-out
rows, as bmi's estimator returns it; biased upward, for the comparison with bmi only). See BENCHMARKS.md.
A software adapter's numbers say nothing about GPU speed.";

/// `bench`'s options.
#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub struct BenchArgs {
    /// Tiny sizes, for a check that it runs (not numbers to quote)
    #[arg(long)]
    smoke: bool,
    /// Print one JSON object on stdout instead of the Markdown table (no progress)
    #[arg(long)]
    json: bool,
    /// Where to run
    #[arg(long, value_name = "DEVICE", default_value = "auto", value_parser = device_parser())]
    device: DeviceChoice,
    /// The standard configuration's batch sizes K (each above 1), comma-separated
    /// [default: 64,256,1024,4096; --smoke: 64,256]
    #[arg(long, value_name = "KS", value_delimiter = ',')]
    ks: Vec<usize>,
    /// The configurations, comma-separated
    #[arg(long, value_name = "CONFIGS", value_delimiter = ',', default_value = "standard,bmi",
          value_parser = OneOf::new("configuration", CONFIGS))]
    configs: Vec<&'static str>,
    /// Seconds a timed run aims for [default: 2; --smoke: 0.2]
    #[arg(long, value_name = "S")]
    seconds: Option<f64>,
    /// Timed runs a row [default: 3; --smoke: 2]
    #[arg(long, value_name = "N")]
    repeats: Option<usize>,
    /// Train on to this many steps before reading the estimate
    #[arg(long, value_name = "N", default_value_t = 0)]
    train_steps: u64,
    /// The training seed (initialisation and batch draws; a task's rows stay those of seed 0)
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Threads of the CPU backend (0: one a core; the GPU ignores it)
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Replica counts, comma-separated: instead of the table above, train R replicas of each
    /// configuration (bmi and small unless --configs says) side by side against R
    /// sequential runs
    #[arg(long, value_name = "RS", value_delimiter = ',')]
    replicas: Vec<usize>,
}

/// Runs `infobound bench`.
pub fn bench(args: &BenchArgs) -> Result<(), Failure> {
    let smoke = args.smoke;
    let ks = if args.ks.is_empty() {
        if smoke {
            vec![64, 256]
        } else {
            vec![64, 256, 1024, 4096]
        }
    } else {
        args.ks.clone()
    };
    if let Some(k) = ks.iter().find(|&&k| k < 2) {
        return Err(usage(format!("--ks: {k} is not a batch size above 1")));
    }
    if let Some(&r) = args.replicas.iter().find(|&&r| r == 0) {
        return Err(usage(format!("--replicas: {r} is not a replica count")));
    }
    let mut configs = Vec::new();
    for &c in &args.configs {
        match c {
            "standard" => configs.extend(ks.iter().map(|&k| standard(k))),
            "small" => configs.push(small()),
            "bmi-dense" => configs.push(bmi_dense()?),
            _ => configs.push(bmi()),
        }
    }
    for config in &mut configs {
        config.spec.seed = args.seed;
    }
    let seconds = args.seconds.unwrap_or(if smoke { 0.2 } else { 2.0 });
    let repeats = args.repeats.unwrap_or(if smoke { 2 } else { 3 });
    if !(seconds > 0.0 && seconds.is_finite()) || repeats == 0 {
        return Err(usage("--seconds and --repeats must be positive"));
    }
    let budget = Budget {
        seconds,
        repeats,
        max_steps: if smoke { 20 } else { 2_000 },
        train_steps: args.train_steps,
        threads: args.threads,
    };

    let opened = backend::open(args.device).map_err(|e| runtime(e.to_string()))?;
    for w in &opened.warnings {
        eprintln!("warning: {w}");
    }
    let device = opened.backend;
    if !args.replicas.is_empty() {
        return bench_replicas(device.as_ref(), args, (seconds, repeats));
    }
    let ctx = device.gpu();
    let (probes, peak, timing): (Option<Probes>, Option<PublishedPeak>, &str) = match ctx {
        Some(ctx) => {
            let timer = GpuTimer::new(ctx);
            let config = if smoke {
                ProbeConfig::smoke()
            } else {
                ProbeConfig::full()
            };
            let probes =
                measure_probes(ctx, &timer, &config).map_err(|e| runtime(e.to_string()))?;
            (
                Some(probes),
                published_peak(&ctx.adapter().name),
                timer.method().name(),
            )
        }
        None => (None, None, "-"),
    };
    // On the CPU backend, the CPU's own probes on the threads its trainers run on.
    let (probes, timing) = match ctx {
        Some(_) => (probes, timing.to_string()),
        None => {
            let threads = match args.device {
                DeviceChoice::CpuReference => 1,
                _ => args.threads,
            };
            let config = if smoke {
                ProbeConfig::smoke()
            } else {
                ProbeConfig::full()
            };
            cpu_probes(threads, &config)
        }
    };
    let mut header = Header {
        device: device.device_name(),
        software: ctx.is_some_and(|c| c.adapter().is_software),
        probe_timing: timing,
        probes,
        peak,
        smoke,
        seconds,
        repeats,
    };
    let mut rows = Vec::new();
    // Progress on stderr, so stdout stays one JSON object or one table.
    let bar = Bar::rows(progress::wanted(false, args.json), "bench");
    let total = configs.len() as u64;
    for (i, config) in configs.into_iter().enumerate() {
        let note = format!("{} K = {}", config.name, config.spec.batch);
        bar.update(i as u64, total, note);
        let result = match run_config(device.as_ref(), &config, &budget) {
            Ok((m, name)) => {
                // The trainer's name carries what the run used (the CPU's threads).
                header.device = name;
                Ok(m)
            }
            Err(e) => Err(e.to_string()),
        };
        rows.push(Row {
            cost: StepCost::of(&config.spec),
            config,
            result,
        });
    }
    bar.finish();
    if args.json {
        print_json(&to_json(&header, &rows));
    } else {
        println!("{}", markdown(&header, &rows));
    }
    Ok(())
}

/// The CPU's FMA and copy probes on `threads` threads (0: one a core), sized by `config`, and
/// how they were timed.
fn cpu_probes(threads: usize, config: &ProbeConfig) -> (Option<Probes>, String) {
    let pool = Pool::new(threads);
    let copy = probe::copy(&pool, config.copy_floats, config.repeats);
    let fma = probe::fma(&pool, config.fma_target_secs, config.repeats);
    let probes = Probes::from_host_runs((copy.work, &copy.seconds), (fma.work, &fma.seconds));
    let n = pool.threads();
    let timing = format!("host clock, {n} thread{}", if n == 1 { "" } else { "s" });
    (probes, timing)
}

/// `bench --replicas`: the replica table of each configuration (bmi and small by default).
fn bench_replicas(
    device: &dyn Backend,
    args: &BenchArgs,
    (seconds, repeats): (f64, usize),
) -> Result<(), Failure> {
    let configs: Vec<Config> = if args.configs == ["standard", "bmi"] {
        vec![bmi(), small()]
    } else {
        args.configs
            .iter()
            .map(|&c| match c {
                "standard" => Ok(standard(64)),
                "small" => Ok(small()),
                "bmi-dense" => bmi_dense(),
                _ => Ok(bmi()),
            })
            .collect::<Result<_, _>>()?
    };
    let bar = Bar::rows(progress::wanted(false, args.json), "bench");
    let mut rows = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        bar.update(i as u64, configs.len() as u64, config.name.to_string());
        rows.extend(measure_replicas(
            device,
            config,
            &args.replicas,
            (seconds, repeats, args.threads),
        ));
    }
    bar.finish();
    if args.json {
        print_json(&rows);
    } else {
        println!("{}", replica_markdown(&rows));
    }
    Ok(())
}

/// The true MI of a configuration's task, nats.
pub fn true_mi(config: &Config) -> f64 {
    match &config.draws {
        Draws::Gaussian { rho } => gaussian_mi(config.dim, *rho),
        Draws::Rows { mi, .. } => *mi,
    }
}
