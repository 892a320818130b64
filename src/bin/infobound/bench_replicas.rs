//! `infobound bench --replicas 1,4,16,…`: R replicas of one configuration trained side by side
//! ([`Backend::replicated`]) against R sequential solo runs, extrapolated from the measured
//! R = 1 row: replica-steps per second, the speed-up, and whole estimates per minute.

use std::time::Instant;

use serde::Serialize;

use infobound::backend::{Backend, Replica, RunOptions};

use crate::bench::Config;

/// One measured replica count.
#[derive(Serialize)]
pub struct ReplicaRow {
    /// The configuration's name.
    pub config: &'static str,
    /// Its batch.
    pub batch: usize,
    /// Replicas trained side by side.
    pub replicas: usize,
    /// Steps of the batched run a second (each step advances every replica).
    pub steps_per_s: f64,
    /// Replica-steps a second: `replicas × steps_per_s`.
    pub replica_steps_per_s: f64,
    /// Against R sequential solo runs (the R = 1 row's rate, extrapolated): how many times
    /// faster; `None` before the R = 1 row is measured.
    pub speedup: Option<f64>,
    /// Whole estimates of `steps_per_estimate` steps a minute.
    pub estimates_per_min: f64,
    /// Steps an estimate trains (the Estimator's default).
    pub steps_per_estimate: u32,
    /// The device, as the run names it.
    pub device: String,
    /// Why the row failed, if it did.
    pub error: Option<String>,
}

/// Measures `config` at each replica count on `device`: a warm-up step, a two-step
/// calibration, then the median of `repeats` runs sized to fill `seconds`.
pub fn measure_replicas(
    device: &dyn Backend,
    config: &Config,
    counts: &[usize],
    (seconds, repeats, threads): (f64, usize, usize),
) -> Vec<ReplicaRow> {
    let steps_per_estimate = infobound::Estimator::default().steps;
    let mut rho = [0.0];
    let batches = config.batches(&mut rho);
    let mut solo: Option<f64> = None;
    let mut rows = Vec::new();
    for &r in counts {
        let replicas: Vec<Replica<'_>> = (0..r as u64)
            .map(|s| Replica::new(config.spec.clone().with_seed(s), batches, None))
            .collect();
        let options = RunOptions::default().with_chunk(250).with_threads(threads);
        let measured = device
            .replicated(&replicas, &options)
            .map_err(|e| e.to_string())
            .and_then(|mut run| {
                let mut train = |n: u32| -> Result<f64, String> {
                    let t = Instant::now();
                    for v in run.train(n) {
                        v.map_err(|e| e.to_string())?;
                    }
                    Ok(t.elapsed().as_secs_f64())
                };
                train(1)?;
                let per_step = train(2)? / 2.0;
                let n = ((seconds / per_step).round() as u32).clamp(1, 2_000);
                let mut rates = (0..repeats)
                    .map(|_| train(n).map(|t| f64::from(n) / t))
                    .collect::<Result<Vec<_>, _>>()?;
                rates.sort_by(f64::total_cmp);
                Ok((rates[rates.len() / 2], run.device_name()))
            });
        let row = match measured {
            Ok((steps_per_s, name)) => {
                let replica_steps = steps_per_s * r as f64;
                if r == 1 {
                    solo = Some(steps_per_s);
                }
                ReplicaRow {
                    config: config.name,
                    batch: config.spec.batch,
                    replicas: r,
                    steps_per_s,
                    replica_steps_per_s: replica_steps,
                    speedup: solo.map(|s| replica_steps / s),
                    estimates_per_min: 60.0 * replica_steps / f64::from(steps_per_estimate),
                    steps_per_estimate,
                    device: name,
                    error: None,
                }
            }
            Err(e) => ReplicaRow {
                config: config.name,
                batch: config.spec.batch,
                replicas: r,
                steps_per_s: f64::NAN,
                replica_steps_per_s: f64::NAN,
                speedup: None,
                estimates_per_min: f64::NAN,
                steps_per_estimate,
                device: device.device_name(),
                error: Some(e),
            },
        };
        rows.push(row);
    }
    rows
}

/// A rate with three significant figures at least (a batched run of many replicas takes
/// well under one step a second on a software adapter).
fn rate(v: f64) -> String {
    match v {
        v if v >= 100.0 => format!("{v:.1}"),
        v if v >= 1.0 => format!("{v:.2}"),
        v => format!("{v:.3}"),
    }
}

/// The Markdown table of `rows`.
pub fn replica_markdown(rows: &[ReplicaRow]) -> String {
    let mut out = String::from(
        "| config | K | replicas | steps/s | replica-steps/s | vs R sequential runs | estimates/min | device |\n\
         |---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        match &r.error {
            Some(e) => out.push_str(&format!(
                "| {} | {} | {} | failed: {e} | | | | {} |\n",
                r.config, r.batch, r.replicas, r.device
            )),
            None => out.push_str(&format!(
                "| {} | {} | {} | {} | {:.1} | {} | {:.2} | {} |\n",
                r.config,
                r.batch,
                r.replicas,
                rate(r.steps_per_s),
                r.replica_steps_per_s,
                r.speedup.map_or("-".into(), |s| format!("{s:.2}×")),
                r.estimates_per_min,
                r.device
            )),
        }
    }
    out.push_str(&format!(
        "\nvs R sequential runs: replica-steps/s over the R = 1 row's steps/s (R solo runs \
         extrapolated from one measured solo run). An estimate: {} steps.\n",
        rows.first().map_or(0, |r| r.steps_per_estimate)
    ));
    out
}
