//! The hand-written SVG figures: an estimate's training curve (`estimate --plot`) and the
//! staircase's panels.

use std::fmt::Write as _;

use infobound::Report;

use crate::units::unit;

/// One panel of the staircase figure: its title, every step's estimate and true MI.
pub struct Panel {
    /// The panel's heading, `task: bound`.
    pub title: String,
    /// The bound's value at every step, nats.
    pub estimates: Vec<f32>,
    /// The true MI at every step, nats.
    pub truth: Vec<f64>,
}

/// The training curve (every step, light, and its moving average) and the held-out
/// evaluations (points with ±1 standard error) of an estimate, with the bound's ceiling when
/// it has one, as a hand-written SVG.
pub fn curves_svg(r: &Report, bits: bool) -> String {
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
    let area = Area {
        left: L,
        top: T,
        width: W - L - R,
        height: H - T - B,
        last_step: (train.len().max(2) - 1) as f64,
        lo: y0,
        hi: y1,
    };
    let mut svg = String::new();
    open(&mut svg, W, H);
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"19\" text-anchor=\"middle\" font-size=\"13\">{} on a {} critic: {:.4} ± {:.4} {unit}</text>\n\
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
    for tick in ticks(y0, y1, ((y1 - y0) / 8.0).ceil().max(1.0)) {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>\
             <line x1=\"{L}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>",
            L - 4.0,
            area.y(tick) + 4.0,
            W - R,
            y = area.y(tick)
        );
    }
    let stride = train.len().div_ceil(2000).max(1);
    polyline(&mut svg, &area, &train, stride, "#9ecae1", 0.6);
    polyline(
        &mut svg,
        &area,
        &moving_average(&train),
        stride,
        "#08519c",
        1.5,
    );
    for &(step, mi, se) in &tests {
        // Evaluations come after `step` steps: the x of step index step − 1.
        let x = area.x((step - 1.0).max(0.0));
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e6550d\"/>\
             <circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#e6550d\"/>",
            area.y(mi - se),
            area.y(mi + se),
            area.y(mi)
        );
    }
    if let Some(c) = r.ceiling {
        let y = area.y(c * s);
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

/// The staircase figure as a hand-written SVG, one panel a run in a grid of up to four
/// columns: raw per-step estimates (light), their exponential moving average, the true-MI
/// staircase and the ln K line. Values outside the plotted range are clipped to its edge.
pub fn staircase_svg(panels: &[Panel], ln_k: f64) -> String {
    const W: f64 = 320.0;
    const H: f64 = 240.0;
    const L: f64 = 40.0; // left margin: y ticks
    const T: f64 = 26.0; // top margin: title
    const B: f64 = 30.0; // bottom margin: x ticks
    const R: f64 = 10.0;
    let ncol = panels.len().clamp(1, 4);
    let nrow = panels.len().div_ceil(ncol).max(1);
    let mut svg = String::new();
    open(&mut svg, W * ncol as f64, H * nrow as f64);
    for (idx, p) in panels.iter().enumerate() {
        let (ox, oy) = ((idx % ncol) as f64 * W, (idx / ncol) as f64 * H);
        let top = p.truth.iter().copied().fold(ln_k, f64::max);
        let (y0, y1) = (-2.0f64, (top + 2.0).ceil());
        let area = Area {
            left: ox + L,
            top: oy + T,
            width: W - L - R,
            height: H - T - B,
            last_step: (p.estimates.len().max(2) - 1) as f64,
            lo: y0,
            hi: y1,
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
        for tick in ticks(y0, y1, 2.0) {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>",
                ox + L - 4.0,
                area.y(tick) + 4.0,
                ox + L,
                ox + W - R,
                y = area.y(tick)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step (0 – {})</text>",
            ox + L + (W - L - R) / 2.0,
            oy + H - 10.0,
            p.estimates.len()
        );
        // At most ~1500 points a line.
        let stride = p.estimates.len().div_ceil(1500).max(1);
        let estimates: Vec<f64> = p.estimates.iter().map(|&v| f64::from(v)).collect();
        polyline(&mut svg, &area, &estimates, stride, "#9ecae1", 0.6);
        polyline(
            &mut svg,
            &area,
            &moving_average(&estimates),
            stride,
            "#08519c",
            1.5,
        );
        polyline(&mut svg, &area, &p.truth, stride, "black", 1.2);
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#d62728\">ln K</text>\n</g>",
            ox + L,
            ox + W - R,
            ox + L + 4.0,
            area.y(ln_k) - 3.0,
            y = area.y(ln_k)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Where a plot's frame lies on the page (pixels) and the steps and values it spans.
struct Area {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    /// The step drawn at the right edge (step 0 is at the left).
    last_step: f64,
    /// The value at the bottom edge.
    lo: f64,
    /// The value at the top edge.
    hi: f64,
}

impl Area {
    /// The x of a step.
    fn x(&self, step: f64) -> f64 {
        self.left + self.width * step / self.last_step
    }

    /// The y of a value, clipped to the frame; NaN sits on the bottom edge, so that a
    /// diverged run draws a line along it rather than breaking the figure.
    fn y(&self, v: f64) -> f64 {
        let v = if v.is_nan() {
            self.lo
        } else {
            v.clamp(self.lo, self.hi)
        };
        self.top + self.height * (self.hi - v) / (self.hi - self.lo)
    }
}

/// Opens an SVG document of the given size on a white background.
fn open(svg: &mut String, width: f64, height: f64) {
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
    );
}

/// Axis ticks from `lo` up to `hi`, `every` apart.
fn ticks(lo: f64, hi: f64, every: f64) -> impl Iterator<Item = f64> {
    std::iter::successors(Some(lo), move |t| Some(t + every)).take_while(move |&t| t <= hi)
}

/// A line through every `stride`-th of `values`, the one at index i drawn at step i.
fn polyline(
    svg: &mut String,
    area: &Area,
    values: &[f64],
    stride: usize,
    stroke: &str,
    width: f64,
) {
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, &v)| format!("{:.1},{:.1}", area.x(i as f64), area.y(v)))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\" points=\"{}\"/>",
        points.join(" ")
    );
}

/// The exponential moving average of `values` over about a fiftieth of them, skipping
/// non-finite ones (NaN until the first finite value).
fn moving_average(values: &[f64]) -> Vec<f64> {
    let a = 2.0 / (values.len() as f64 / 50.0 + 1.0).max(2.0);
    let mut ema = None::<f64>;
    values
        .iter()
        .map(|&v| {
            if v.is_finite() {
                ema = Some(ema.map_or(v, |e| e + a * (v - e)));
            }
            ema.unwrap_or(f64::NAN)
        })
        .collect()
}

/// `s` made safe for SVG text and attribute values.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

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
