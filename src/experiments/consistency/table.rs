//! A report as text: the Markdown table with its notes and verdicts, and CSV rows.

use std::fmt::Write;

use super::dequantise::Dequantise;
use super::report::{Row, Verdict, RATIO_TOLERANCE};
use super::run::ConsistencyReport;
use super::setting::Setting;

/// The CSV header [`ConsistencyReport::csv_rows`] writes under.
pub const CSV_HEADER: &str =
    "bound,setting,t,dim_x,dim_y,estimate,std_err,ratio,ratio_std_err,ideal,seconds,error";

/// What a setting's ratio should be, in words (the table's ideal column).
fn ideal_words(s: Setting) -> &'static str {
    match s {
        Setting::Baseline => "rising to 1",
        Setting::Independence => "0",
        Setting::DataProcessing => "1",
        Setting::Additivity => "2",
    }
}

/// What a setting's ratio is a ratio of, and what it should do.
fn property_words(s: Setting, top: usize) -> String {
    match s {
        Setting::Baseline => {
            format!("ratio to the estimate at t = {top}; should not fall as t grows")
        }
        _ => format!(
            "ratio to the baseline at the same t; should be {}",
            ideal_words(s)
        ),
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number for the CSV: empty when not finite.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

impl Verdict {
    /// One line: the setting, what it should do, and whether it does.
    pub fn to_markdown(&self, top: usize) -> String {
        let mut s = format!(
            "**{}** ({}): ",
            self.setting.name(),
            property_words(self.setting, top)
        );
        let list = |ts: &[usize]| {
            ts.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.holds {
            s.push_str("holds");
        } else if self.failing.is_empty() {
            s.push_str("no ratio to judge");
        } else {
            let _ = write!(s, "fails at t = {}", list(&self.failing));
        }
        if !self.missing.is_empty() {
            let _ = write!(s, " (no ratio at t = {})", list(&self.missing));
        }
        s
    }
}

impl ConsistencyReport {
    /// The largest t of the baseline (the baseline's ratios are to it); 0 with none.
    pub fn top_rows(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.setting == Setting::Baseline)
            .map(|r| r.t)
            .max()
            .unwrap_or(0)
    }

    /// What the numbers are: the data, the dropped pixels, the ties, and why only ratios count.
    pub fn note(&self) -> String {
        let dropped: Vec<String> = self
            .dropped
            .iter()
            .map(|(r, c)| format!("({r}, {c})"))
            .collect();
        let (h, w) = self.shape;
        let ties = match self.dequantise {
            Dequantise::Levels => format!(
                "{} grey levels, ties broken with uniform noise inside each level (its own draw \
                 for every copy of a pixel)",
                self.levels
            ),
            _ => format!("{} grey levels, kept as given (ties and all)", self.levels),
        };
        format!(
            "{} images of {h} × {w}; {} of {} pixels dropped as constant over the images{}; {ties}. \
             Y's grey levels are a function of X's, so I(X; Y) is the entropy of Y's levels: \
             unknown, and it may pass ln {} = {:.2} nats, the most a lower bound can certify \
             from that many rows. Only the ratios mean anything. A ratio holds within 2 s.e. or {RATIO_TOLERANCE} × \
             max(ideal, 1) of its ideal; the baseline holds when no ratio falls by more than \
             that from the t before.",
            self.images,
            self.dropped.len(),
            h * w,
            if dropped.is_empty() {
                String::new()
            } else {
                format!(" {}", dropped.join(", "))
            },
            self.images,
            (self.images as f64).ln(),
        )
    }

    /// The table (setting, t, dimensions, estimate ± s.e., ratio ± s.e., ideal), the note,
    /// one verdict line a setting, and each failed estimate's error.
    pub fn to_markdown(&self) -> String {
        let top = self.top_rows();
        let mut s = format!(
            "**{}** on {}, {:.1} s of training\n\n| setting | t | dims | estimate (nats) | \
             ratio | ideal |\n|---|---:|---|---:|---:|---|\n",
            self.bound,
            match self.devices() {
                d if d.is_empty() => "no device".to_string(),
                d => d,
            },
            self.seconds
        );
        for r in &self.rows {
            let est = match r.error {
                None => format!("{:.3} ± {:.3}", r.estimate, r.std_err),
                Some(_) => "failed".to_string(),
            };
            let ratio = match r.ratio {
                Some(v) => format!("{v:.3} ± {:.3}", r.ratio_std_err),
                None => "—".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {}×{} | {est} | {ratio} | {} |",
                r.setting.name(),
                r.t,
                r.dims.0,
                r.dims.1,
                ideal_words(r.setting)
            );
        }
        let _ = writeln!(s, "\n{}\n", self.note());
        for v in &self.verdicts {
            let _ = writeln!(s, "- {}", v.to_markdown(top));
        }
        for r in self.rows.iter().filter(|r| r.error.is_some()) {
            let _ = writeln!(
                s,
                "- {} at t = {} failed: {}",
                r.setting.name(),
                r.t,
                r.error.as_deref().unwrap_or("")
            );
        }
        s
    }

    /// One CSV line a row, under [`CSV_HEADER`], each ending in a line break.
    pub fn csv_rows(&self) -> String {
        self.rows.iter().map(|r| csv_row(self.bound, r)).collect()
    }
}

/// One row as a CSV line.
fn csv_row(bound: &str, r: &Row) -> String {
    format!(
        "{bound},{},{},{},{},{},{},{},{},{},{:.3},{}\n",
        r.setting.name(),
        r.t,
        r.dims.0,
        r.dims.1,
        num(r.estimate),
        num(r.std_err),
        r.ratio.map_or(String::new(), num),
        num(r.ratio_std_err),
        r.ideal(),
        r.seconds,
        csv_field(r.error.as_deref().unwrap_or(""))
    )
}
