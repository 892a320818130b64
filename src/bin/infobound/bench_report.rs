//! `infobound bench`'s Markdown table, each row beside its cost model and the floor that
//! implies on the measured (and, where known, published) ceilings; `bench_json` writes the
//! same as JSON.

use infobound::experiments::bench::{Probes, PublishedPeak};

use crate::bench::{true_mi, Row};
use crate::bench_heldout::statistic;

/// What a run measured besides its rows.
pub struct Header {
    /// The device, as the report names it.
    pub device: String,
    /// A software adapter (numbers say nothing about GPU speed).
    pub software: bool,
    /// How the probes were timed.
    pub probe_timing: String,
    /// The measured ceilings (the adapter's, or the CPU's own on the CPU backend).
    pub probes: Option<Probes>,
    /// The datasheet peaks, when the adapter is in the table.
    pub peak: Option<PublishedPeak>,
    /// Smoke sizes.
    pub smoke: bool,
    /// Target seconds per timed run.
    pub seconds: f64,
    /// Timed runs per row.
    pub repeats: usize,
}

/// (floor on the probes, with activations stored; floor on the published peak), seconds.
pub fn floors(h: &Header, row: &Row) -> (Option<f64>, Option<f64>, Option<f64>) {
    let c = &row.cost;
    (
        h.probes.map(|p| c.floor(p.flops, p.bandwidth)),
        h.probes.map(|p| c.activation_floor(p.flops, p.bandwidth)),
        h.peak.map(|p| c.floor(p.fp32_flops, p.bandwidth)),
    )
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{:.3}", s * 1e3))
}

/// The markdown report.
pub fn markdown(h: &Header, rows: &[Row]) -> String {
    let mut out = format!("device: {}\n", h.device);
    if h.software {
        out.push_str("software adapter: correct, but these numbers say nothing about GPU speed\n");
    }
    if let Some(p) = &h.probes {
        out.push_str(&format!(
            "probes ({}): copy {:.2} GB/s, FMA {:.2} GFLOP/s\n",
            h.probe_timing,
            p.bandwidth / 1e9,
            p.flops / 1e9
        ));
    }
    if let Some(p) = &h.peak {
        out.push_str(&format!(
            "published peak ({}): {:.1} TFLOP/s FP32, {:.0} GB/s\n",
            p.name,
            p.fp32_flops / 1e12,
            p.bandwidth / 1e9
        ));
    }
    out.push_str(&format!(
        "timing: wall clock around Trainer::train (which waits for the device), median of {} runs of ~{} s{}\n\n",
        h.repeats,
        h.seconds,
        if h.smoke { " (smoke: not numbers to quote)" } else { "" }
    ));
    out.push_str(
        "| config | critic | bound | K | steps/s | spread | samples/s | GFLOP/step | MB/step (min / act.) | floor ms (probes / act. / peak) | floor ÷ time | steps | estimate | all pairs | bmi's statistic | chosen step | best / last check | train tail | true MI |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let s = &row.config.spec;
        let c = &row.cost;
        let (floor, act, peak) = floors(h, row);
        let common = format!(
            "| {} | {} | {} | {} ",
            row.config.name,
            s.critic.name(),
            s.bound.name(),
            s.batch
        );
        let cost = format!(
            "| {:.3} | {:.2} / {:.2} | {} / {} / {} ",
            c.flops / 1e9,
            c.min_bytes / 1e6,
            c.activation_bytes / 1e6,
            ms(floor),
            ms(act),
            ms(peak)
        );
        match &row.result {
            Ok(m) => {
                let spread = (m.range.1 - m.range.0) / m.steps_per_s;
                let frac = floor.map_or("-".into(), |f| {
                    format!("{:.1} %", 100.0 * f * m.steps_per_s)
                });
                let a = &m.accuracy;
                out.push_str(&format!(
                    "{common}| {:.2} | {:.0} % | {:.0} {cost}| {frac} | {} | {:.3} ± {:.3} | {} | {} | {} | {:.3} / {:.3} | {:.3} | {:.3} |\n",
                    m.steps_per_s,
                    100.0 * spread,
                    m.steps_per_s * s.batch as f64,
                    m.steps_total,
                    a.estimate,
                    a.std_err,
                    a.all_pairs.map_or("-".into(), |v| format!("{v:.3}")),
                    a.bmi_statistic.map_or("-".into(), |v| format!("{v:.3}")),
                    a.chosen_step,
                    a.best_held_out,
                    a.final_held_out,
                    a.train_tail,
                    true_mi(&row.config)
                ));
            }
            Err(e) => out.push_str(&format!(
                "{common}| failed: {} | | {cost}| | | | | | | | | | {:.3} |\n",
                e.replace('|', "/"),
                true_mi(&row.config)
            )),
        }
    }
    out.push_str(&format!("\nestimate: {}\n", statistic()));
    for row in rows {
        if let Some(w) = row
            .result
            .as_ref()
            .ok()
            .and_then(|m| m.accuracy.warning.as_ref())
        {
            let (name, k) = (row.config.name, row.config.spec.batch);
            out.push_str(&format!("warning ({name}, K = {k}): {w}\n"));
        }
    }
    out
}
