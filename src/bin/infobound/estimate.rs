//! `infobound estimate`: the mutual information between the rows of two files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use infobound::estimate::io::read_table;
use infobound::math::critic::CriticForm;
use infobound::Estimator;

use crate::args::{bound_named, Flags};
use crate::estimate_plot::curves_figure;
use crate::failure::{usage, Failure};
use crate::json::report_json;
use crate::plot;
use crate::progress;
use crate::summary::print_summary;

/// The options `estimate` takes a value for.
const VALUED: &[&str] = &[
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
    "--max-grad-norm",
    "--log-marginal",
];

/// The switches `estimate` takes.
const SWITCHES: &[&str] = &["--bits", "--json", "--quiet"];

/// Runs `infobound estimate` with the arguments after the command's name.
pub fn estimate(args: &[String]) -> Result<(), Failure> {
    let flags = Flags::parse(args, VALUED, SWITCHES)?;
    let xpath = flags
        .get("--x")
        .ok_or_else(|| usage("estimate needs --x FILE"))?;
    let ypath = flags
        .get("--y")
        .ok_or_else(|| usage("estimate needs --y FILE"))?;
    let est = estimator(&flags)?;
    let (bits, json, quiet) = (
        flags.has("--bits"),
        flags.has("--json"),
        flags.has("--quiet"),
    );
    let plot = plot_path(&flags)?;

    let x = read_table(Path::new(xpath))?;
    let y = read_table(Path::new(ypath))?;
    if x.rows != y.rows {
        return Err(usage(format!(
            "{xpath} has {} rows but {ypath} has {}",
            x.rows, y.rows
        )));
    }
    let est = match flags.get("--log-marginal") {
        Some(path) => est.with_log_marginal(Some(log_marginal(path, x.rows)?)),
        None => est,
    };
    // The line is redrawn in place, so it is only for a person watching, not for a log.
    let show_progress = !quiet && !json && std::io::stderr().is_terminal();
    let mut shown = false;
    let report = est.estimate_with_progress(x.matrix()?, y.matrix()?, |p| {
        if show_progress {
            progress::estimate_line(p, bits);
            shown = true;
        }
    });
    if shown {
        progress::clear();
    }
    let report = report?;
    if let Some(p) = &plot {
        plot::write(&curves_figure(&report, bits), p)?;
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

/// The estimator the options describe, every setting checked before any file is read.
fn estimator(flags: &Flags) -> Result<Estimator, Failure> {
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
    if flags.get("--log-marginal").is_some() && !bound.knows_a_density() {
        return Err(usage(format!(
            "--log-marginal applies only to --bound ba or ms (a known marginal p(y)), not {bound_name}"
        )));
    }
    let mut est = Estimator::default().with_bound(bound);
    let critic = critic(flags, &est.critic)?;
    est = est.with_critic(critic).with_device(flags.device()?);
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
    if let Some(m) = flags.parsed("--max-grad-norm", "a gradient norm")? {
        est = est.with_max_grad_norm(Some(m));
    }
    if let Some(f) = flags.parsed("--test-fraction", "a fraction")? {
        est = est.with_test_fraction(f);
    }
    Ok(est)
}

/// `--log-marginal FILE`: log p(y_i) in nats, one value a row of the data (n × 1, .npy or CSV).
fn log_marginal(path: &str, rows: usize) -> Result<Vec<f32>, Failure> {
    let t = read_table(Path::new(path))?;
    if t.cols != 1 || t.rows != rows {
        return Err(usage(format!(
            "--log-marginal {path} is {} × {}; it must be {rows} × 1, log p(y) a row of the data",
            t.rows, t.cols
        )));
    }
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(usage(format!(
            "--log-marginal {path}: row {} is {}, not a finite log-density",
            i + 1,
            t.data[i]
        )));
    }
    Ok(t.data)
}

/// `--critic` with `--hidden` and `--embed`; widths not given are those of `default`.
fn critic(flags: &Flags, default: &CriticForm) -> Result<CriticForm, Failure> {
    let hidden = flags.hidden(default)?;
    let embed = flags.parsed::<usize>("--embed", "a width")?;
    Ok(match flags.get("--critic").unwrap_or("separable") {
        "separable" => CriticForm::Separable {
            hidden,
            embed: embed.unwrap_or(32),
        },
        c @ ("concat" | "shuffled" | "decoder" | "decoder-critic") => {
            if embed.is_some() {
                return Err(usage("--embed applies only to --critic separable"));
            }
            match c {
                "concat" => CriticForm::Concat { hidden },
                "shuffled" => CriticForm::Shuffled { hidden },
                // Barber–Agakov (--bound ba) and the multisample bound (--bound ms).
                "decoder" => CriticForm::Decoder { hidden },
                _ => CriticForm::DecoderCritic { hidden },
            }
        }
        c => {
            return Err(usage(format!(
                "unknown critic {c:?} (separable, concat, shuffled, decoder or decoder-critic)"
            )))
        }
    })
}

/// `--plot`, which must name a .png or .svg file.
fn plot_path(flags: &Flags) -> Result<Option<PathBuf>, Failure> {
    let plot = flags.get("--plot").map(PathBuf::from);
    if let Some(p) = &plot {
        plot::format_of(p).map_err(|f| usage(format!("--plot {}", f.msg)))?;
    }
    Ok(plot)
}
