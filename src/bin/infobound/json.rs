//! `estimate --json`: the report as one JSON object (serde), built here from the library's
//! [`Report`] so that the library needs no serialisation of its own. Non-finite numbers are
//! written as `null` (serde_json's rule for NaN and ±∞).

use serde::Serialize;

use infobound::Report;

use crate::units::unit;

/// The JSON report of an estimate, values in the chosen unit; the field order is the one
/// scripts have read since the first hand-written version.
#[derive(Serialize)]
pub struct ReportJson<'a> {
    mi: f64,
    std_err: f64,
    ceiling: Option<f64>,
    unit: &'static str,
    bound: &'a str,
    critic: &'a str,
    n: usize,
    n_test: usize,
    evaluation: &'a str,
    dim_x: usize,
    dim_y: usize,
    batch: usize,
    steps: u64,
    seconds: f64,
    steps_per_second: f64,
    adapter: &'a str,
    grad_norm_max: f64,
    grad_norm_final: f64,
    runaway_step: Option<u64>,
    warnings: &'a [String],
    evaluations: Vec<EvaluationJson>,
    transform: &'static str,
    device_reason: &'a str,
    geometry: &'a [String],
    diagnostics: Vec<String>,
    n_report: usize,
    selection: &'a str,
    chosen_step: Option<u64>,
    std_err_sampling: f64,
    std_err_optimisation: f64,
    cross_check: Option<CrossCheckJson>,
    cross_check_note: &'a str,
    seed: u64,
    ensemble: Option<EnsembleJson<'a>>,
    batched: Option<&'a str>,
}

/// A seed ensemble's spread (in the report's unit); a failed seed's estimate is null.
#[derive(Serialize)]
struct EnsembleJson<'a> {
    seeds: &'a [u64],
    estimates: Vec<f64>,
    std_errs: Vec<f64>,
    errors: &'a [Option<String>],
    mean: f64,
    sd: f64,
}

/// The InfoNCE read-out that checks the estimate (in the report's unit).
#[derive(Serialize)]
struct CrossCheckJson {
    mi: f64,
    std_err: f64,
    ceiling: f64,
    excess: f64,
    excess_std_err: f64,
    disagrees: bool,
}

/// One held-out evaluation.
#[derive(Serialize)]
struct EvaluationJson {
    step: u64,
    mi: f64,
    std_err: f64,
}

impl<'a> ReportJson<'a> {
    /// The report `r` of a run with batches of `batch`, in bits when `bits`.
    pub fn new(r: &'a Report, batch: usize, bits: bool) -> Self {
        let (s, unit) = unit(bits);
        let norms = r.grad_norms.iter().map(|&v| f64::from(v));
        ReportJson {
            mi: r.mi * s,
            std_err: r.std_err * s,
            ceiling: r.ceiling.map(|c| c * s),
            unit,
            bound: r.bound,
            critic: r.critic,
            n: r.n,
            n_test: r.n_test,
            evaluation: &r.evaluation,
            dim_x: r.dims.0,
            dim_y: r.dims.1,
            batch,
            steps: r.steps,
            seconds: r.seconds,
            steps_per_second: r.steps_per_second,
            adapter: &r.device,
            // NaN (written null) when no step recorded a norm.
            grad_norm_max: norms.fold(f64::NAN, f64::max),
            grad_norm_final: r.grad_norms.last().map_or(f64::NAN, |&v| f64::from(v)),
            runaway_step: r.runaway.map(|w| w.step),
            warnings: &r.warnings,
            evaluations: r
                .test_curve
                .iter()
                .map(|e| EvaluationJson {
                    step: e.step,
                    mi: e.mi * s,
                    std_err: e.std_err * s,
                })
                .collect(),
            transform: r.transform.name(),
            device_reason: &r.device_reason,
            geometry: &r.geometry,
            diagnostics: r.diagnostics.iter().map(ToString::to_string).collect(),
            n_report: r.n_report,
            selection: &r.selection,
            chosen_step: r.chosen_step,
            std_err_sampling: r.std_err_sampling * s,
            std_err_optimisation: r.std_err_optimisation * s,
            cross_check: r.cross_check.map(|c| CrossCheckJson {
                mi: c.mi * s,
                std_err: c.std_err * s,
                ceiling: c.ceiling * s,
                excess: c.excess * s,
                excess_std_err: c.excess_std_err * s,
                disagrees: c.disagrees,
            }),
            cross_check_note: &r.cross_check_note,
            seed: r.seed,
            ensemble: r.ensemble.as_ref().map(|e| EnsembleJson {
                seeds: &e.seeds,
                estimates: e.estimates.iter().map(|v| v * s).collect(),
                std_errs: e.std_errs.iter().map(|v| v * s).collect(),
                errors: &e.errors,
                mean: e.mean * s,
                sd: e.sd * s,
            }),
            batched: r.batched.as_deref(),
        }
    }
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl Serialize) {
    // Serialising plain structs of numbers and strings cannot fail.
    let line = serde_json::to_string(value).expect("a serialisable value");
    println!("{line}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped_and_non_finite_numbers_are_null() {
        let v = serde_json::json!({ "s": "a\"b\\c\nd\u{1}é", "x": 0.5 });
        assert_eq!(
            v.to_string(),
            "{\"s\":\"a\\\"b\\\\c\\nd\\u0001é\",\"x\":0.5}"
        );
        assert_eq!(serde_json::to_string(&f64::NAN).unwrap(), "null");
        assert_eq!(serde_json::to_string(&f64::INFINITY).unwrap(), "null");
    }
}
