//! The infobound command line: `estimate`, `staircase`, `devices`.
//!
//! Errors are one line on stderr and a non-zero exit: 2 for bad input (a missing or unreadable
//! file, a malformed .npy or CSV, mismatched rows, a NaN, an unknown bound or option, a setting
//! the library rejects), 1 for a failure while running (no GPU when one is required, a
//! diverged run, an unwritable output).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use infobound::bounds::Bound;
use infobound::critic::CriticForm;
use infobound::gpu::list_adapters;
use infobound::io::read_table;
use infobound::staircase::{StageStats, StaircaseRun};
use infobound::tasks::{Staircase, Transform};
use infobound::{DeviceChoice, Error, Estimator, Progress, Report};

const USAGE: &str = "\
infobound — mutual-information estimation on the GPU

USAGE:
    infobound estimate --x X --y Y [options]
        X, Y: .npy (float32/float64, 1-D or 2-D, C or Fortran order) or numeric CSV files
        with the same number of rows.
        --bound nwj|infonce|tuba|dv|mine|js|smile|alpha-infonce   (smile)
        --critic separable|concat|shuffled                          (separable)
        --hidden 128,128   --embed 32 (separable only)   --batch 128   --steps 2000
        --lr 1e-3   --tau 5 (smile)   --alpha 0.01 (alpha-infonce)   --seed 0
        --test-fraction 0.2   --device auto|gpu|cpu   --bits   --json   --quiet
        --plot FILE.svg (training curve and held-out evaluations)
    infobound staircase [--bounds smile,infonce,...] [--task gaussian|cubic]
        [--steps-per-stage 4000] [--out DIR] [--device auto|gpu|cpu]
        [--hidden 256,256,256] [--embed 32] [--lr 5e-4] [--seed 0] [--quiet]
        the SMILE/VBMI benchmark; writes DIR/staircase.csv, .md (per-stage bias,
        variance, MSE) and .svg (one panel a bound)
    infobound devices      list every adapter wgpu sees, marking the one `auto` picks
    infobound help         this text

Exit status: 0 on success, 2 for bad input, 1 for a failure while running.
Environment: WGPU_BACKEND (vulkan, metal, dx12) and WGPU_ADAPTER_NAME (a substring) narrow the
adapters; INFOBOUND_REQUIRE_GPU=1 makes a missing GPU an error instead of a CPU fallback.";

const ALL_BOUNDS: [&str; 8] = [
    "infonce",
    "nwj",
    "tuba",
    "dv",
    "mine",
    "js",
    "smile",
    "alpha-infonce",
];

/// A failure: its one-line message and exit status.
struct Failure {
    code: u8,
    msg: String,
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        msg: msg.into(),
    }
}

fn runtime(msg: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        msg: msg.into(),
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = if matches!(e, Error::InvalidInput(_)) {
            2
        } else {
            1
        };
        // One line, whatever the source says.
        let msg = e.to_string().replace('\n', " ");
        Failure { code, msg }
    }
}

/// Parsed `--flag value` / `--flag=value` pairs and switches, checked against what a command
/// knows.
struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Flags {
    fn parse(args: &[String], valued: &[&str], switches: &[&str]) -> Result<Self, Failure> {
        let mut out = Flags {
            values: Vec::new(),
            switches: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            if switches.contains(&name) {
                if inline.is_some() {
                    return Err(usage(format!("{name} takes no value")));
                }
                out.switches.push(name.to_string());
            } else if valued.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage(format!("{name} needs a value")))?,
                };
                if out.values.iter().any(|(n, _)| n == name) {
                    return Err(usage(format!("{name} is given twice")));
                }
                out.values.push((name.to_string(), value));
            } else if name.starts_with('-') {
                return Err(usage(format!(
                    "unknown option {name:?} (see `infobound help`)"
                )));
            } else {
                return Err(usage(format!("unexpected argument {name:?}")));
            }
        }
        Ok(out)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, Failure> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| usage(format!("{name}: {v:?} is not {what}")))
            })
            .transpose()
    }
}

fn widths(flags: &Flags) -> Result<Option<Vec<usize>>, Failure> {
    flags
        .get("--hidden")
        .map(|v| {
            v.split(',')
                .map(|w| {
                    w.trim()
                        .parse::<usize>()
                        .map_err(|_| usage(format!("--hidden: {w:?} is not a width")))
                })
                .collect()
        })
        .transpose()
}

fn device(flags: &Flags) -> Result<DeviceChoice, Failure> {
    Ok(match flags.get("--device").unwrap_or("auto") {
        "auto" => DeviceChoice::Auto,
        "gpu" => DeviceChoice::Gpu,
        "cpu" => DeviceChoice::Cpu,
        d => return Err(usage(format!("unknown device {d:?} (auto, gpu or cpu)"))),
    })
}

fn bound_named(name: &str, tau: Option<f32>, alpha: Option<f32>) -> Result<Bound, Failure> {
    Ok(match name {
        "infonce" => Bound::InfoNce,
        "nwj" => Bound::Nwj,
        "tuba" => Bound::Tuba,
        "dv" => Bound::Dv,
        "mine" => Bound::Mine { gamma: 0.9 },
        "js" => Bound::Js,
        "smile" => Bound::Smile {
            tau: tau.unwrap_or(5.0),
        },
        "alpha-infonce" => Bound::AlphaInfoNce {
            alpha: alpha.unwrap_or(0.01),
        },
        _ => {
            return Err(usage(format!(
                "unknown bound {name:?} (one of {})",
                ALL_BOUNDS.join(", ")
            )))
        }
    })
}

/// A critic's hidden widths.
fn hidden_of(critic: &CriticForm) -> Vec<usize> {
    match critic {
        CriticForm::Separable { hidden, .. }
        | CriticForm::Concat { hidden }
        | CriticForm::Shuffled { hidden } => hidden.clone(),
        _ => vec![128, 128],
    }
}

// ---------------------------------------------------------------- estimate

const ESTIMATE_VALUED: &[&str] = &[
    "--x",
    "--y",
    "--bound",
    "--critic",
    "--hidden",
    "--embed",
    "--batch",
    "--steps",
    "--lr",
    "--tau",
    "--alpha",
    "--seed",
    "--test-fraction",
    "--device",
    "--plot",
];

fn estimate(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(args, ESTIMATE_VALUED, &["--bits", "--json", "--quiet"])?;
    let xpath = flags
        .get("--x")
        .ok_or_else(|| usage("estimate needs --x FILE"))?;
    let ypath = flags
        .get("--y")
        .ok_or_else(|| usage("estimate needs --y FILE"))?;
    let bound_name = flags.get("--bound").unwrap_or("smile");
    let tau = flags.parsed::<f32>("--tau", "a number")?;
    let alpha = flags.parsed::<f32>("--alpha", "a number")?;
    if tau.is_some() && bound_name != "smile" {
        return Err(usage("--tau applies only to --bound smile"));
    }
    if alpha.is_some() && bound_name != "alpha-infonce" {
        return Err(usage("--alpha applies only to --bound alpha-infonce"));
    }
    let bound = bound_named(bound_name, tau, alpha)?;
    let mut est = Estimator::default().with_bound(bound);
    let default_hidden = hidden_of(&est.critic);
    let hidden = widths(&flags)?.unwrap_or(default_hidden);
    let embed = flags.parsed::<usize>("--embed", "a width")?;
    let critic = match flags.get("--critic").unwrap_or("separable") {
        "separable" => CriticForm::Separable {
            hidden,
            embed: embed.unwrap_or(32),
        },
        c @ ("concat" | "shuffled") => {
            if embed.is_some() {
                return Err(usage("--embed applies only to --critic separable"));
            }
            if c == "concat" {
                CriticForm::Concat { hidden }
            } else {
                CriticForm::Shuffled { hidden }
            }
        }
        c => {
            return Err(usage(format!(
                "unknown critic {c:?} (separable, concat or shuffled)"
            )))
        }
    };
    est = est.with_critic(critic).with_device(device(&flags)?);
    if let Some(b) = flags.parsed("--batch", "a batch size")? {
        est = est.with_batch(b);
    }
    if let Some(s) = flags.parsed("--steps", "a step count")? {
        est = est.with_steps(s);
    }
    if let Some(lr) = flags.parsed("--lr", "a learning rate")? {
        est = est.with_lr(lr);
    }
    if let Some(s) = flags.parsed("--seed", "a seed")? {
        est = est.with_seed(s);
    }
    if let Some(f) = flags.parsed("--test-fraction", "a fraction")? {
        est = est.with_test_fraction(f);
    }
    let (bits, json, quiet) = (
        flags.has("--bits"),
        flags.has("--json"),
        flags.has("--quiet"),
    );
    let plot = flags.get("--plot").map(PathBuf::from);
    if let Some(p) = &plot {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case("svg") {
            return Err(usage(format!(
                "--plot {}: only .svg figures are written for now",
                p.display()
            )));
        }
    }

    let x = read_table(Path::new(xpath))?;
    let y = read_table(Path::new(ypath))?;
    if x.rows != y.rows {
        return Err(usage(format!(
            "{xpath} has {} rows but {ypath} has {}",
            x.rows, y.rows
        )));
    }
    let show_progress = !quiet && !json && std::io::stderr().is_terminal();
    let mut shown = false;
    let report = est.estimate_with_progress(x.matrix()?, y.matrix()?, |p| {
        if show_progress {
            progress_line(p, bits);
            shown = true;
        }
    });
    if shown {
        eprint!("\r\x1b[2K");
    }
    let report = report?;
    if let Some(p) = &plot {
        std::fs::write(p, curves_svg(&report, bits))
            .map_err(|e| runtime(format!("cannot write {}: {e}", p.display())))?;
    }
    if json {
        println!("{}", report_json(&report, est.batch, bits));
    } else {
        print_summary(&report, bits);
        if !quiet {
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
        }
    }
    Ok(())
}

fn progress_line(p: &Progress, bits: bool) {
    let (scale, unit) = unit(bits);
    let rate = p.step as f64 / p.seconds.max(1e-9);
    let eta = p.total.saturating_sub(p.step) as f64 / rate.max(1e-9);
    let value = match (p.latest, p.train_value) {
        (Some(e), _) => format!("held-out {:.4} {unit}", e.mi * scale),
        (None, Some(v)) => format!("train {:.4} {unit}", f64::from(v) * scale),
        (None, None) => String::new(),
    };
    eprint!(
        "\r\x1b[2Kstep {}/{}  {value}  {rate:.0} steps/s  ETA {eta:.0} s",
        p.step, p.total
    );
    let _ = std::io::stderr().flush();
}

fn unit(bits: bool) -> (f64, &'static str) {
    if bits {
        (1.0 / std::f64::consts::LN_2, "bits")
    } else {
        (1.0, "nats")
    }
}

fn print_summary(r: &Report, bits: bool) {
    let (s, unit) = unit(bits);
    println!(
        "estimate  {:.4} ± {:.4} {unit}  ({} bound, {} critic)",
        r.mi * s,
        r.std_err * s,
        r.bound,
        r.critic
    );
    if let Some(c) = r.ceiling {
        println!(
            "ceiling   {:.4} {unit} (the most this bound can read at this batch)",
            c * s
        );
    }
    println!(
        "data      {} rows, x {} columns, y {} columns",
        r.n, r.dims.0, r.dims.1
    );
    println!(
        "training  {} steps in {:.2} s ({:.0} steps/s)",
        r.steps, r.seconds, r.steps_per_second
    );
    println!("device    {}", r.device);
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` when not finite).
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn report_json(r: &Report, batch: usize, bits: bool) -> String {
    let (s, unit) = unit(bits);
    let warnings: Vec<String> = r.warnings.iter().map(|w| json_str(w)).collect();
    let curve: Vec<String> = r
        .test_curve
        .iter()
        .map(|e| {
            format!(
                "{{\"step\":{},\"mi\":{},\"std_err\":{}}}",
                e.step,
                json_num(e.mi * s),
                json_num(e.std_err * s)
            )
        })
        .collect();
    format!(
        "{{\"mi\":{},\"std_err\":{},\"ceiling\":{},\"unit\":{},\"bound\":{},\"critic\":{},\
         \"n\":{},\"dim_x\":{},\"dim_y\":{},\"batch\":{batch},\"steps\":{},\"seconds\":{},\
         \"steps_per_second\":{},\"adapter\":{},\"warnings\":[{}],\"evaluations\":[{}]}}",
        json_num(r.mi * s),
        json_num(r.std_err * s),
        r.ceiling.map_or("null".into(), |c| json_num(c * s)),
        json_str(unit),
        json_str(r.bound),
        json_str(r.critic),
        r.n,
        r.dims.0,
        r.dims.1,
        r.steps,
        json_num(r.seconds),
        json_num(r.steps_per_second),
        json_str(&r.device),
        warnings.join(","),
        curve.join(","),
    )
}

// ---------------------------------------------------------------- staircase

fn staircase(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(
        args,
        &[
            "--bounds",
            "--task",
            "--steps-per-stage",
            "--out",
            "--device",
            "--hidden",
            "--embed",
            "--lr",
            "--seed",
        ],
        &["--quiet"],
    )?;
    let bounds = flags
        .get("--bounds")
        .map_or(ALL_BOUNDS.join(","), str::to_string)
        .split(',')
        .map(|b| bound_named(b.trim(), None, None))
        .collect::<Result<Vec<_>, _>>()?;
    let tasks = flags
        .get("--task")
        .unwrap_or("gaussian")
        .split(',')
        .map(|t| match t.trim() {
            "gaussian" => Ok(("gaussian", Transform::Identity)),
            "cubic" => Ok(("cubic", Transform::Cubic)),
            t => Err(usage(format!("unknown task {t:?} (gaussian or cubic)"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let quiet = flags.has("--quiet");
    let mut run = StaircaseRun::default().with_device(device(&flags)?);
    let default_hidden = hidden_of(&run.critic);
    let hidden = widths(&flags)?.unwrap_or(default_hidden);
    let embed = flags.parsed("--embed", "a width")?.unwrap_or(32);
    // StaircaseRun trusts its critic and learning rate; check them as Estimator does.
    if hidden.contains(&0) || embed == 0 {
        return Err(usage("hidden and embedding widths must be positive"));
    }
    run = run.with_critic(CriticForm::Separable { hidden, embed });
    if let Some(lr) = flags.parsed::<f32>("--lr", "a learning rate")? {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(usage(format!(
                "the learning rate must be positive and finite, not {lr}"
            )));
        }
        run = run.with_lr(lr);
    }
    if let Some(s) = flags.parsed("--seed", "a seed")? {
        run = run.with_seed(s);
    }
    let steps_per_stage = flags
        .parsed("--steps-per-stage", "a step count")?
        .unwrap_or(Staircase::default().steps_per_stage);
    Staircase::default()
        .with_steps_per_stage(steps_per_stage)
        .validate()?;
    let out = PathBuf::from(flags.get("--out").unwrap_or("staircase"));
    std::fs::create_dir_all(&out)
        .map_err(|e| runtime(format!("cannot create {}: {e}", out.display())))?;

    let mut csv = String::from("task,bound,step,true_mi,estimate\n");
    let mut md = String::from(
        "| task | bound | true MI | mean | bias | variance | MSE |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    let mut failures = Vec::new();
    let mut panels = Vec::new();
    let mut warned = Vec::new();
    for &(task, transform) in &tasks {
        for &bound in &bounds {
            let sc = Staircase::default()
                .with_steps_per_stage(steps_per_stage)
                .with_transform(transform);
            let r = run.clone().with_staircase(sc.clone()).with_bound(bound);
            let show = !quiet && std::io::stderr().is_terminal();
            let start = std::time::Instant::now();
            let result = r.run_with_progress(|done, total| {
                if show {
                    let rate = f64::from(done) / start.elapsed().as_secs_f64().max(1e-9);
                    eprint!(
                        "\r\x1b[2K{task} {}: step {done}/{total}  {rate:.0} steps/s  ETA {:.0} s",
                        bound.name(),
                        f64::from(total - done) / rate.max(1e-9)
                    );
                    let _ = std::io::stderr().flush();
                }
            });
            if show {
                eprint!("\r\x1b[2K");
            }
            let result = match result {
                Ok(res) => res,
                // A setting the library rejects fails the same way for every bound.
                Err(e @ Error::InvalidInput(_)) => return Err(e.into()),
                Err(e) => {
                    eprintln!("error: {task} {}: {e}", bound.name());
                    failures.push(format!("{task} {}", bound.name()));
                    continue;
                }
            };
            for w in &result.warnings {
                if !quiet && !warned.contains(w) {
                    eprintln!("warning: {w}");
                    warned.push(w.clone());
                }
            }
            if !quiet {
                println!(
                    "{task} {}: {} steps in {:.1} s on {}",
                    bound.name(),
                    result.estimates.len(),
                    result.seconds,
                    result.device
                );
            }
            let truths: Vec<f64> = (0..result.estimates.len())
                .map(|step| sc.true_mi_at(step as u32))
                .collect();
            for (step, (e, truth)) in result.estimates.iter().zip(&truths).enumerate() {
                let _ = writeln!(csv, "{task},{},{step},{truth},{e}", bound.name());
            }
            panels.push(Panel {
                title: format!("{task}: {}", bound.name()),
                estimates: result.estimates.clone(),
                truth: truths,
            });
            for s in &result.stages {
                md.push_str(&stage_row(task, bound.name(), s));
            }
        }
    }
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text)
            .map_err(|e| runtime(format!("cannot write {}: {e}", path.display())))
    };
    write("staircase.csv", &csv)?;
    write("staircase.md", &md)?;
    write(
        "staircase.svg",
        &staircase_svg(&panels, (run.batch as f64).ln()),
    )?;
    print!("{md}");
    if !quiet {
        println!(
            "wrote staircase.csv, staircase.md and staircase.svg in {}",
            out.display()
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(runtime(format!(
            "{} run(s) failed: {}",
            failures.len(),
            failures.join(", ")
        )))
    }
}

/// The training curve (every step, light, and its moving average) and the held-out
/// evaluations (points with ±1 standard error) of an estimate, with the bound's ceiling when
/// it has one, as a hand-written SVG.
fn curves_svg(r: &Report, bits: bool) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const L: f64 = 56.0;
    const T: f64 = 30.0;
    const B: f64 = 56.0;
    const R: f64 = 16.0;
    let (s, unit) = unit(bits);
    let train: Vec<f64> = r.train_curve.iter().map(|&v| f64::from(v) * s).collect();
    let tests: Vec<(f64, f64, f64)> = r
        .test_curve
        .iter()
        .map(|e| (e.step as f64, e.mi * s, e.std_err * s))
        .collect();
    let finite = train
        .iter()
        .copied()
        .chain(tests.iter().flat_map(|t| [t.1 - t.2, t.1 + t.2]))
        .chain(r.ceiling.map(|c| c * s))
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    // Keep a diverging start from squashing the rest: no lower than 2 below the estimate's scale.
    let lo = lo.max(-(hi.abs() + 2.0));
    let (y0, y1) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    let steps = (train.len().max(2) - 1) as f64;
    let px = |step: f64| L + (W - L - R) * step / steps;
    let py = |v: f64| {
        let v = if v.is_nan() { y0 } else { v.clamp(y0, y1) };
        T + (H - T - B) * (y1 - v) / (y1 - y0)
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{:.1}\" y=\"19\" text-anchor=\"middle\" font-size=\"13\">{} on a {} critic: {:.4} ± {:.4} {unit}</text>\n\
         <rect x=\"{L}\" y=\"{T}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>\n\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\">bound ({unit})</text>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step (0 – {})</text>",
        L + (W - L - R) / 2.0,
        xml_escape(r.bound),
        xml_escape(r.critic),
        r.mi * s,
        r.std_err * s,
        W - L - R,
        H - T - B,
        T + (H - T - B) / 2.0,
        L + (W - L - R) / 2.0,
        H - B + 18.0,
        train.len()
    );
    let every = ((y1 - y0) / 8.0).ceil().max(1.0);
    let mut tick = y0;
    while tick <= y1 {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>\
             <line x1=\"{L}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>",
            L - 4.0,
            py(tick) + 4.0,
            W - R,
            y = py(tick)
        );
        tick += every;
    }
    let stride = train.len().div_ceil(2000).max(1);
    let raw: Vec<String> = train
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, &v)| format!("{:.1},{:.1}", px(i as f64), py(v)))
        .collect();
    let a = 2.0 / (train.len() as f64 / 50.0 + 1.0).max(2.0);
    let mut ema = None::<f64>;
    let smooth: Vec<String> = train
        .iter()
        .enumerate()
        .filter_map(|(i, &v)| {
            if v.is_finite() {
                ema = Some(ema.map_or(v, |e| e + a * (v - e)));
            }
            (i % stride == 0)
                .then(|| format!("{:.1},{:.1}", px(i as f64), py(ema.unwrap_or(f64::NAN))))
        })
        .collect();
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"0.6\" points=\"{}\"/>\n\
         <polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.5\" points=\"{}\"/>",
        raw.join(" "),
        smooth.join(" ")
    );
    for &(step, mi, se) in &tests {
        // Evaluations come after `step` steps: the x of step index step − 1.
        let x = px((step - 1.0).max(0.0));
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e6550d\"/>\
             <circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#e6550d\"/>",
            py(mi - se),
            py(mi + se),
            py(mi)
        );
    }
    if let Some(c) = r.ceiling {
        let y = py(c * s);
        let _ = writeln!(
            svg,
            "<line x1=\"{L}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#d62728\">ceiling</text>",
            W - R,
            W - R - 4.0,
            y - 3.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#08519c\">training (every step, moving average)</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#e6550d\">held-out evaluations ± 1 s.e.</text>\n</svg>",
        L,
        H - 8.0,
        W - R,
        H - 8.0
    );
    svg
}

/// One panel of the staircase figure: its title, every step's estimate and true MI.
struct Panel {
    title: String,
    estimates: Vec<f32>,
    truth: Vec<f64>,
}

/// The staircase figure as a hand-written SVG, one panel a run in a grid of up to four
/// columns: raw per-step estimates (light), their exponential moving average, the true-MI
/// staircase and the ln K line. Values outside the plotted range are clipped to its edge.
fn staircase_svg(panels: &[Panel], ln_k: f64) -> String {
    const W: f64 = 320.0;
    const H: f64 = 240.0;
    const L: f64 = 40.0; // left margin: y ticks
    const T: f64 = 26.0; // top margin: title
    const B: f64 = 30.0; // bottom margin: x ticks
    const R: f64 = 10.0;
    let ncol = panels.len().clamp(1, 4);
    let nrow = panels.len().div_ceil(ncol).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        W * ncol as f64,
        H * nrow as f64
    );
    for (idx, p) in panels.iter().enumerate() {
        let (ox, oy) = ((idx % ncol) as f64 * W, (idx / ncol) as f64 * H);
        let top = p.truth.iter().copied().fold(ln_k, f64::max);
        let (y0, y1) = (-2.0f64, (top + 2.0).ceil());
        let n = p.estimates.len().max(2);
        let px = |i: usize| ox + L + (W - L - R) * i as f64 / (n - 1) as f64;
        let py = |v: f64| {
            let v = if v.is_nan() { y0 } else { v.clamp(y0, y1) };
            oy + T + (H - T - B) * (y1 - v) / (y1 - y0)
        };
        let _ = write!(
            svg,
            "<g>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>\n",
            ox + L + (W - L - R) / 2.0,
            oy + 17.0,
            xml_escape(&p.title),
            ox + L,
            oy + T,
            W - L - R,
            H - T - B
        );
        let _ = writeln!(
            svg,
            "<text transform=\"translate({:.1},{:.1}) rotate(-90)\" text-anchor=\"middle\">MI (nats)</text>",
            ox + 11.0,
            oy + T + (H - T - B) / 2.0
        );
        let mut tick = y0;
        while tick <= y1 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>",
                ox + L - 4.0,
                py(tick) + 4.0,
                ox + L,
                ox + W - R,
                y = py(tick)
            );
            tick += 2.0;
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step (0 – {})</text>",
            ox + L + (W - L - R) / 2.0,
            oy + H - 10.0,
            p.estimates.len()
        );
        // Raw estimates, at most ~1500 points a panel.
        let every = p.estimates.len().div_ceil(1500).max(1);
        let raw: Vec<String> = p
            .estimates
            .iter()
            .enumerate()
            .step_by(every)
            .map(|(i, &v)| format!("{:.1},{:.1}", px(i), py(f64::from(v))))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"0.6\" points=\"{}\"/>",
            raw.join(" ")
        );
        // Exponential moving average over about a fiftieth of the run.
        let a = 2.0 / (p.estimates.len() as f64 / 50.0 + 1.0).max(2.0);
        let mut ema = None::<f64>;
        let smooth: Vec<String> = p
            .estimates
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| {
                let v = f64::from(v);
                if v.is_finite() {
                    ema = Some(ema.map_or(v, |e| e + a * (v - e)));
                }
                (i % every == 0).then(|| format!("{:.1},{:.1}", px(i), py(ema.unwrap_or(f64::NAN))))
            })
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.5\" points=\"{}\"/>",
            smooth.join(" ")
        );
        let truth: Vec<String> = p
            .truth
            .iter()
            .enumerate()
            .step_by(every)
            .map(|(i, &v)| format!("{:.1},{:.1}", px(i), py(v)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.2\" points=\"{}\"/>",
            truth.join(" ")
        );
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#d62728\">ln K</text>\n</g>",
            ox + L,
            ox + W - R,
            ox + L + 4.0,
            py(ln_k) - 3.0,
            y = py(ln_k)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn stage_row(task: &str, bound: &str, s: &StageStats) -> String {
    format!(
        "| {task} | {bound} | {:.1} | {:.3} | {:+.3} | {:.3} | {:.3} |\n",
        s.true_mi, s.mean, s.bias, s.variance, s.mse
    )
}

// ---------------------------------------------------------------- devices

fn devices() -> Result<(), Failure> {
    let adapters = list_adapters();
    if adapters.is_empty() {
        return Err(runtime(
            "no GPU adapter found; estimates will run on the CPU reference backend \
             (install a Vulkan, Metal or DX12 driver; on headless Linux: apt-get install mesa-vulkan-drivers)",
        ));
    }
    for (a, chosen) in adapters {
        println!(
            "{} {}\n    backend {}, type {}{}, driver {}\n    max storage binding {} MiB, max buffer {} MiB, workgroups/dim {}",
            if chosen { "*" } else { " " },
            a.name,
            a.backend,
            a.device_type,
            if a.is_software { " (software)" } else { "" },
            if a.driver.is_empty() { "?" } else { &a.driver },
            a.max_storage_binding >> 20,
            a.max_buffer >> 20,
            a.max_workgroups_per_dim,
        );
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), Failure> {
    match args.first().map(String::as_str) {
        Some("estimate") => estimate(&args[1..]),
        Some("staircase") => staircase(&args[1..]),
        Some("devices") => devices(),
        None | Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(usage(format!(
            "unknown command {other:?} (estimate, staircase, devices or help)"
        ))),
    }
}

fn main() -> ExitCode {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_and_numbers_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        assert_eq!(json_num(0.5), "0.5");
        assert_eq!(json_num(f64::NAN), "null");
        assert_eq!(json_num(f64::INFINITY), "null");
        assert_eq!(json_num(1e-7), "0.0000001");
    }

    #[test]
    fn the_figure_has_a_panel_per_run_and_clips_wild_values() {
        let panel = |t: &str| Panel {
            title: t.into(),
            estimates: vec![0.5, f32::NAN, 1e30, -1e30, 2.0],
            truth: vec![2.0, 2.0, 4.0, 4.0, 4.0],
        };
        let svg = staircase_svg(&[panel("a <b>"), panel("c")], 64f64.ln());
        assert_eq!(svg.matches("<g>").count(), 2);
        assert!(svg.contains("a &lt;b&gt;"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
