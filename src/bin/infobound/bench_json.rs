//! `infobound bench --json`: the run as one JSON object (serde): the device, its probes and
//! datasheet peak, and a row a configuration with its cost model, floors and measured rates.

use serde::Serialize;

use crate::bench::{true_mi, Row};
use crate::bench_heldout::statistic;
use crate::bench_report::{floors, Header};

/// The whole run.
#[derive(Serialize)]
pub struct BenchJson<'a> {
    unix_time: u64,
    device: &'a str,
    software: bool,
    smoke: bool,
    probes: Option<ProbesJson<'a>>,
    published_peak: Option<PeakJson>,
    /// What a row's `estimate` (and `bmi_statistic`) is.
    estimate_statistic: String,
    rows: Vec<RowJson>,
}

/// The copy and FMA probes.
#[derive(Serialize)]
struct ProbesJson<'a> {
    copy_bytes_per_s: f64,
    copy_spread: f64,
    fma_flops_per_s: f64,
    fma_spread: f64,
    timing: &'a str,
}

/// The adapter's datasheet peak.
#[derive(Serialize)]
struct PeakJson {
    name: &'static str,
    fp32_flops_per_s: f64,
    bytes_per_s: f64,
}

/// One configuration: what it is, what it costs, what it measured (or why it failed).
#[derive(Serialize)]
struct RowJson {
    config: &'static str,
    critic: &'static str,
    bound: &'static str,
    batch: usize,
    dim: usize,
    true_mi: f64,
    params: usize,
    flops_per_step: f64,
    min_bytes_per_step: f64,
    activation_bytes_per_step: f64,
    floor_s: Option<f64>,
    activation_floor_s: Option<f64>,
    published_floor_s: Option<f64>,
    steps_per_s: Option<f64>,
    // Only a row that ran has these.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_per_s_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_per_s_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_per_run: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_s: Option<f64>,
    /// The held-out read-out of the chosen step's critic ([`statistic`]).
    estimate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimate_std_err: Option<f64>,
    /// InfoNCE over every pair of the report part with the same critic.
    #[serde(skip_serializing_if = "Option::is_none")]
    estimate_all_pairs: Option<f64>,
    /// bmi's own statistic for this run (the configurations that mirror bmi only): the maximum
    /// over the checks of InfoNCE over every pair of all the held-out rows. Biased upward; for
    /// the comparison with bmi only.
    #[serde(skip_serializing_if = "Option::is_none")]
    bmi_statistic: Option<f64>,
    /// Seconds its all-pairs evaluations took (outside the timed training).
    #[serde(skip_serializing_if = "Option::is_none")]
    bmi_statistic_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chosen_step: Option<u64>,
    /// The selection part's value at the chosen step (the best check).
    #[serde(skip_serializing_if = "Option::is_none")]
    best_held_out: Option<f64>,
    /// The selection part's value at the last step.
    #[serde(skip_serializing_if = "Option::is_none")]
    final_held_out: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluations: Option<usize>,
    /// The mean bound value over the last (at most 100) training batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    train_tail_mean: Option<f64>,
    /// A runaway or a late collapse; null when neither.
    warning: Option<String>,
    error: Option<String>,
}

/// The run `h` with its `rows`, as JSON.
pub fn to_json<'a>(h: &'a Header, rows: &[Row]) -> BenchJson<'a> {
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    BenchJson {
        unix_time,
        device: &h.device,
        software: h.software,
        smoke: h.smoke,
        probes: h.probes.map(|p| ProbesJson {
            copy_bytes_per_s: p.bandwidth,
            copy_spread: p.copy.spread(),
            fma_flops_per_s: p.flops,
            fma_spread: p.fma.spread(),
            timing: &h.probe_timing,
        }),
        published_peak: h.peak.map(|p| PeakJson {
            name: p.name,
            fp32_flops_per_s: p.fp32_flops,
            bytes_per_s: p.bandwidth,
        }),
        estimate_statistic: statistic(),
        rows: rows.iter().map(|row| row_json(h, row)).collect(),
    }
}

/// One row as JSON.
fn row_json(h: &Header, row: &Row) -> RowJson {
    let s = &row.config.spec;
    let c = &row.cost;
    let (floor, act, peak_floor) = floors(h, row);
    let ok = row.result.as_ref().ok();
    let acc = ok.map(|m| &m.accuracy);
    RowJson {
        config: row.config.name,
        critic: s.critic.name(),
        bound: s.bound.name(),
        batch: s.batch,
        dim: row.config.dim,
        true_mi: true_mi(&row.config),
        params: c.params,
        flops_per_step: c.flops,
        min_bytes_per_step: c.min_bytes,
        activation_bytes_per_step: c.activation_bytes,
        floor_s: floor,
        activation_floor_s: act,
        published_floor_s: peak_floor,
        steps_per_s: ok.map(|m| m.steps_per_s),
        steps_per_s_min: ok.map(|m| m.range.0),
        steps_per_s_max: ok.map(|m| m.range.1),
        samples_per_s: ok.map(|m| m.steps_per_s * s.batch as f64),
        steps_per_run: ok.map(|m| m.steps_per_run),
        steps_total: ok.map(|m| m.steps_total),
        wall_s: ok.map(|m| m.wall_s),
        estimate: acc.map(|a| a.estimate),
        estimate_std_err: acc.map(|a| a.std_err),
        estimate_all_pairs: acc.and_then(|a| a.all_pairs),
        bmi_statistic: acc.and_then(|a| a.bmi_statistic),
        bmi_statistic_s: acc.and_then(|a| a.bmi_statistic_s),
        chosen_step: acc.map(|a| a.chosen_step),
        best_held_out: acc.map(|a| a.best_held_out),
        final_held_out: acc.map(|a| a.final_held_out),
        evaluations: acc.map(|a| a.evaluations),
        train_tail_mean: acc.map(|a| a.train_tail),
        warning: acc.and_then(|a| a.warning.clone()),
        error: row.result.as_ref().err().cloned(),
    }
}
