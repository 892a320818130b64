//! `estimate --json`: the report as one hand-written JSON object.

use std::fmt::Write as _;

use infobound::Report;

use crate::units::unit;

/// The report as one line of JSON, values in the chosen unit; non-finite numbers are `null`.
pub fn report_json(r: &Report, batch: usize, bits: bool) -> String {
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
         \"n\":{},\"n_test\":{},\"evaluation\":{},\"dim_x\":{},\"dim_y\":{},\"batch\":{batch},\"steps\":{},\"seconds\":{},\
         \"steps_per_second\":{},\"adapter\":{},\"grad_norm_max\":{},\"grad_norm_final\":{},\
         \"runaway_step\":{},\"warnings\":[{}],\"evaluations\":[{}]}}",
        json_num(r.mi * s),
        json_num(r.std_err * s),
        r.ceiling.map_or("null".into(), |c| json_num(c * s)),
        json_str(unit),
        json_str(r.bound),
        json_str(r.critic),
        r.n,
        r.n_test,
        json_str(&r.evaluation),
        r.dims.0,
        r.dims.1,
        r.steps,
        json_num(r.seconds),
        json_num(r.steps_per_second),
        json_str(&r.device),
        json_num(
            r.grad_norms
                .iter()
                .map(|&v| f64::from(v))
                .fold(f64::NAN, f64::max)
        ),
        json_num(r.grad_norms.last().map_or(f64::NAN, |&v| f64::from(v))),
        r.runaway.map_or("null".into(), |w| w.step.to_string()),
        warnings.join(","),
        curve.join(","),
    )
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
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
pub fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
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
}
