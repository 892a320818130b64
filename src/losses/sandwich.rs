//! The sandwich bounds on I(X; Y) for a known diagonal-Gaussian conditional (SPEC §8): the
//! user gives, for each sample i, the parameters μ_i, σ_i of p(y | x_i) = N(μ_i, diag σ_i²)
//! and a draw y_i from it. Over blocks of K samples, with L_ij = log p(y_i | x_j),
//!
//! ```text
//! lower = mean_i [ L_ii − log( 1/K     Σ_j     e^(L_ij) ) ]   (InfoNCE with the true critic; ≤ log K)
//! upper = mean_i [ L_ii − log( 1/(K−1) Σ_{j≠i} e^(L_ij) ) ]   (leave-one-out; Poole et al. 2019)
//! ```
//!
//! On the GPU, L is never stored: L_ij = G_i · H_j with G_i = [y_i², y_i, 1] and H_j =
//! [−1/(2σ_j²), μ_j/σ_j², c_j] (e = 2D + 1; the ones column carries the column bias c_j =
//! −Σ_d (μ_jd²/(2σ_jd²) + log σ_jd) − (D/2) log 2π), and the fused bound kernels of
//! `matrix_bounds.wgsl` compute both bounds and their gradients in O(K·D) memory. The CPU
//! reference forms each row of L in f64 straight from the densities.
//!
//! Gradients (for information-bottleneck training, where the upper bound is minimised) are of
//! the reported values with respect to μ, σ and y, each n×D: y is held fixed in ∂/∂μ and ∂/∂σ,
//! so a reparameterised y = μ + σ ε adds ∂/∂y · ∂y/∂θ on top.
//!
//! The same pass gives the plug-in estimate of the Lautum information LI = E_{p(x)p(y)}[log p(y)
//! − log p(y|x)]: mean_i log(1/K Σ_j e^(L_ij)) − mean_{i≠j} L_ij = mean_i L_ii − lower −
//! mean_{i≠j} L_ij (biased at small K, consistent as K → n).

use crate::backend::{self, DeviceChoice};
use crate::estimate::validate::{setting, InputError};
use crate::gpu::kernels::{state, FusedBoundBuffers};
use crate::gpu::GpuContext;
use crate::math::bounds::{log_sum_exp, Bound};
use crate::{Error, Matrix};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// How to compute the sandwich: block size, device, whether to return gradients.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sandwich {
    /// Samples a block (K); `None` takes every sample (K = n).
    pub block: Option<usize>,
    /// Where to run: the fused kernels on a GPU, or the CPU reference.
    pub device: DeviceChoice,
    /// Whether to return the gradients of both bounds with respect to μ, σ and y.
    pub gradients: bool,
}

impl Default for Sandwich {
    fn default() -> Self {
        Self {
            block: None,
            device: DeviceChoice::Auto,
            gradients: false,
        }
    }
}

impl Sandwich {
    setter!(
        /// Block size K (`None`: K = n).
        with_block, block: Option<usize>);
    setter!(
        /// The device.
        with_device, device: DeviceChoice);
    setter!(
        /// Whether to return gradients.
        with_gradients, gradients: bool);

    /// The bounds of the samples `y` drawn from N(`mu`, diag `sigma`²) (each n × D), on the
    /// device [`Sandwich::device`] names.
    pub fn run(
        &self,
        y: Matrix<'_>,
        mu: Matrix<'_>,
        sigma: Matrix<'_>,
    ) -> Result<SandwichReport, Error> {
        let opened = backend::open(self.device)?;
        let mut r = self.run_on(opened.backend.gpu(), y, mu, sigma)?;
        r.warnings.extend(opened.warnings);
        Ok(r)
    }

    /// As [`Sandwich::run`] on a given context (`None`: the CPU reference, in f64).
    pub fn run_on(
        &self,
        ctx: Option<&GpuContext>,
        y: Matrix<'_>,
        mu: Matrix<'_>,
        sigma: Matrix<'_>,
    ) -> Result<SandwichReport, Error> {
        let k = check(&y, &mu, &sigma, self.block)?;
        let n = y.rows();
        let blocks = blocks(n, k);
        let mut acc = Accumulator::new(n, y.cols(), self.gradients);
        for &(start, len) in &blocks {
            let part = match ctx {
                Some(ctx) => gpu_block(ctx, &y, &mu, &sigma, start, len, self.gradients)?,
                None => cpu_block(&y, &mu, &sigma, start, len, self.gradients),
            };
            acc.add(start, len, part);
        }
        Ok(acc.finish(
            k,
            blocks.len(),
            ctx.map_or("CPU reference".into(), |c| c.adapter().name.clone()),
        ))
    }
}

/// ∂V/∂μ, ∂V/∂σ and ∂V/∂y of one bound's value V, each n × D row-major (y held fixed in the
/// first two).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ParamGrads {
    /// ∂V/∂μ.
    pub mu: Vec<f64>,
    /// ∂V/∂σ.
    pub sigma: Vec<f64>,
    /// ∂V/∂y.
    pub y: Vec<f64>,
}

/// The sandwich's outcome.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SandwichReport {
    /// The lower bound, nats (InfoNCE with the true critic; ≤ log K).
    pub lower: f64,
    /// The upper bound, nats (leave-one-out).
    pub upper: f64,
    /// The plug-in Lautum information estimate, nats.
    pub lautum: f64,
    /// The block size K (the last block may hold up to K + 1 samples, or fewer than K).
    pub k: usize,
    /// Samples.
    pub n: usize,
    /// Blocks the samples were split into (values are their row-weighted mean).
    pub blocks: usize,
    /// The device that computed it.
    pub device: String,
    /// Gradients of the lower bound, with [`Sandwich::gradients`].
    pub lower_grad: Option<ParamGrads>,
    /// Gradients of the upper bound, with [`Sandwich::gradients`].
    pub upper_grad: Option<ParamGrads>,
    /// Things the user should know (a CPU fallback, a software adapter).
    pub warnings: Vec<String>,
}

/// Checks the inputs and returns the block size.
fn check(y: &Matrix, mu: &Matrix, sigma: &Matrix, block: Option<usize>) -> Result<usize, Error> {
    for (name, m) in [("mu", mu), ("sigma", sigma)] {
        if (m.rows(), m.cols()) != (y.rows(), y.cols()) {
            return Err(InputError::Mismatch {
                name,
                rows: m.rows(),
                cols: m.cols(),
                y_rows: y.rows(),
                y_cols: y.cols(),
                why: "the sandwich needs one μ and σ per sample",
            }
            .into());
        }
    }
    y.check_finite("y")?;
    mu.check_finite("mu")?;
    sigma.check_finite("sigma")?;
    if let Some(p) = sigma.data().iter().position(|&s| s <= 0.0) {
        return Err(InputError::NotPositive {
            name: "sigma",
            row: p / sigma.cols() + 1,
            col: p % sigma.cols() + 1,
            value: sigma.data()[p],
        }
        .into());
    }
    let n = y.rows();
    if n < 2 {
        return Err(setting("the sandwich's samples", "at least 2", n).into());
    }
    let k = block.unwrap_or(n);
    if k < 2 || k > n {
        return Err(InputError::BlockSize {
            block: k,
            samples: n,
        }
        .into());
    }
    Ok(k)
}

/// The blocks (first row, rows) of n samples in blocks of K: a remainder of one joins the last
/// block, a longer one is a block of its own.
pub fn blocks(n: usize, k: usize) -> Vec<(usize, usize)> {
    let mut b: Vec<(usize, usize)> = (0..n / k).map(|i| (i * k, k)).collect();
    match n % k {
        0 => {}
        1 => b.last_mut().expect("n ≥ k").1 += 1,
        r => b.push((n - r, r)),
    }
    b
}

/// One block's results: the two values, Σ_i L_ii, Σ_{i≠j} L_ij, and, with gradients,
/// ∂(value)/∂(μ, σ, y) for the lower then the upper bound, block-local (len × D each).
struct BlockOut {
    lower: f64,
    upper: f64,
    sum_diag: f64,
    sum_off: f64,
    grads: Option<[ParamGrads; 2]>,
}

/// Row-weighted means of the blocks' values and the gradients of those means.
struct Accumulator {
    n: usize,
    d: usize,
    lower: f64,
    upper: f64,
    lautum: f64,
    grads: Option<[ParamGrads; 2]>,
}

impl Accumulator {
    fn new(n: usize, d: usize, gradients: bool) -> Self {
        let zero = || ParamGrads {
            mu: vec![0.0; n * d],
            sigma: vec![0.0; n * d],
            y: vec![0.0; n * d],
        };
        Self {
            n,
            d,
            lower: 0.0,
            upper: 0.0,
            lautum: 0.0,
            grads: gradients.then(|| [zero(), zero()]),
        }
    }

    fn add(&mut self, start: usize, len: usize, b: BlockOut) {
        let w = len as f64 / self.n as f64;
        let l = len as f64;
        self.lower += w * b.lower;
        self.upper += w * b.upper;
        self.lautum += w * (b.sum_diag / l - b.lower - b.sum_off / (l * (l - 1.0)));
        if let (Some(total), Some(part)) = (&mut self.grads, b.grads) {
            let off = start * self.d;
            for (t, p) in total.iter_mut().zip(part) {
                for (dst, src) in [(&mut t.mu, p.mu), (&mut t.sigma, p.sigma), (&mut t.y, p.y)] {
                    for (a, v) in dst[off..off + src.len()].iter_mut().zip(src) {
                        *a += w * v;
                    }
                }
            }
        }
    }

    fn finish(self, k: usize, blocks: usize, device: String) -> SandwichReport {
        let (lower_grad, upper_grad) = match self.grads {
            Some([l, u]) => (Some(l), Some(u)),
            None => (None, None),
        };
        SandwichReport {
            lower: self.lower,
            upper: self.upper,
            lautum: self.lautum,
            k,
            n: self.n,
            blocks,
            device,
            lower_grad,
            upper_grad,
            warnings: Vec::new(),
        }
    }
}

/// The CPU reference for one block, in f64: each row of L formed from the densities,
/// L_ij = Σ_d [−(y_id − μ_jd)²/(2σ_jd²) − log σ_jd] − (D/2) log 2π, and the gradients through
/// ∂L_ij/∂μ_jd = (y_id − μ_jd)/σ_jd², ∂L_ij/∂σ_jd = (y_id − μ_jd)²/σ_jd³ − 1/σ_jd and
/// ∂L_ij/∂y_id = −(y_id − μ_jd)/σ_jd². O(K) memory beyond the gradients.
fn cpu_block(
    y: &Matrix,
    mu: &Matrix,
    sigma: &Matrix,
    start: usize,
    k: usize,
    gradients: bool,
) -> BlockOut {
    let d = y.cols();
    let at = |m: &Matrix, i: usize, c: usize| f64::from(m.data()[(start + i) * d + c]);
    let log_p = |i: usize, j: usize| -> f64 {
        (0..d)
            .map(|c| {
                let (s, z) = (at(sigma, j, c), at(y, i, c) - at(mu, j, c));
                -z * z / (2.0 * s * s) - s.ln()
            })
            .sum::<f64>()
            - 0.5 * d as f64 * LN_2PI
    };
    let kf = k as f64;
    let zero = || ParamGrads {
        mu: vec![0.0; k * d],
        sigma: vec![0.0; k * d],
        y: vec![0.0; k * d],
    };
    let mut grads = gradients.then(|| [zero(), zero()]);
    let (mut lower, mut upper) = (kf.ln(), (kf - 1.0).ln());
    let (mut sum_diag, mut sum_off) = (0.0, 0.0);
    let mut row = vec![0.0; k];
    for i in 0..k {
        for (j, v) in row.iter_mut().enumerate() {
            *v = log_p(i, j);
        }
        let all = log_sum_exp(row.iter().copied());
        let off = log_sum_exp(
            row.iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, &v)| v),
        );
        lower += (row[i] - all) / kf;
        upper += (row[i] - off) / kf;
        sum_diag += row[i];
        sum_off += row.iter().sum::<f64>() - row[i];
        let Some(g) = &mut grads else { continue };
        for (j, &v) in row.iter().enumerate() {
            // ∂V/∂L_ij for the lower and the upper bound.
            let diag = if i == j { 1.0 / kf } else { 0.0 };
            let dl = diag - (v - all).exp() / kf;
            let du = if i == j { diag } else { -(v - off).exp() / kf };
            for (t, w) in g.iter_mut().zip([dl, du]) {
                for c in 0..d {
                    let (s, z) = (at(sigma, j, c), at(y, i, c) - at(mu, j, c));
                    t.mu[j * d + c] += w * z / (s * s);
                    t.sigma[j * d + c] += w * (z * z / (s * s * s) - 1.0 / s);
                    t.y[i * d + c] -= w * z / (s * s);
                }
            }
        }
    }
    BlockOut {
        lower,
        upper,
        sum_diag,
        sum_off,
        grads,
    }
}

/// G_i = [y_i², y_i, 1] and H_j = [−1/(2σ_j²), μ_j/σ_j², c_j] (K × (2D + 1) each), formed in
/// f64 and rounded once, so that G_i · H_j = log p(y_i | x_j).
pub fn features(y: &[f32], mu: &[f32], sigma: &[f32], d: usize) -> (Vec<f32>, Vec<f32>) {
    let e = 2 * d + 1;
    let k = y.len() / d;
    let mut g = vec![0.0f32; k * e];
    let mut h = vec![0.0f32; k * e];
    for i in 0..k {
        let mut c_bias = -0.5 * d as f64 * LN_2PI;
        for c in 0..d {
            let (yv, m, s) = (
                f64::from(y[i * d + c]),
                f64::from(mu[i * d + c]),
                f64::from(sigma[i * d + c]),
            );
            g[i * e + c] = (yv * yv) as f32;
            g[i * e + d + c] = yv as f32;
            h[i * e + c] = (-0.5 / (s * s)) as f32;
            h[i * e + d + c] = (m / (s * s)) as f32;
            c_bias -= m * m / (2.0 * s * s) + s.ln();
        }
        g[i * e + 2 * d] = 1.0;
        h[i * e + 2 * d] = c_bias as f32;
    }
    (g, h)
}

/// ∂V/∂(μ, σ, y) from ∂V/∂G and ∂V/∂H (K × (2D + 1) each) through [`features`]:
/// ∂/∂μ = dH₂/σ² − dc μ/σ², ∂/∂σ = dH₁/σ³ − 2μ dH₂/σ³ + dc (μ²/σ³ − 1/σ), ∂/∂y = 2y dG₁ + dG₂.
pub fn chain(y: &[f32], mu: &[f32], sigma: &[f32], d: usize, dg: &[f32], dh: &[f32]) -> ParamGrads {
    let e = 2 * d + 1;
    let k = y.len() / d;
    let mut out = ParamGrads {
        mu: vec![0.0; k * d],
        sigma: vec![0.0; k * d],
        y: vec![0.0; k * d],
    };
    for i in 0..k {
        let dc = f64::from(dh[i * e + 2 * d]);
        for c in 0..d {
            let x = i * d + c;
            let (yv, m, s) = (f64::from(y[x]), f64::from(mu[x]), f64::from(sigma[x]));
            let (h1, h2) = (f64::from(dh[i * e + c]), f64::from(dh[i * e + d + c]));
            let s2 = s * s;
            out.mu[x] = h2 / s2 - dc * m / s2;
            out.sigma[x] =
                h1 / (s2 * s) - 2.0 * m * h2 / (s2 * s) + dc * (m * m / (s2 * s) - 1.0 / s);
            out.y[x] = 2.0 * yv * f64::from(dg[i * e + c]) + f64::from(dg[i * e + d + c]);
        }
    }
    out
}

/// One block on the device: the fused kernels with InfoNCE (the lower bound) and the
/// leave-one-out statistic (the upper), G and H from [`features`]. The kernels return ∂(−V),
/// negated here.
fn gpu_block(
    ctx: &GpuContext,
    y: &Matrix,
    mu: &Matrix,
    sigma: &Matrix,
    start: usize,
    k: usize,
    gradients: bool,
) -> Result<BlockOut, Error> {
    let d = y.cols();
    let e = 2 * d + 1;
    let range = start * d..(start + k) * d;
    let (ys, ms, ss) = (
        &y.data()[range.clone()],
        &mu.data()[range.clone()],
        &sigma.data()[range],
    );
    let (g, h) = features(ys, ms, ss, d);
    let gb = ctx.upload("sandwich G", &g)?;
    let hb = ctx.upload("sandwich H", &h)?;
    let mut values = [0.0; 2];
    let mut grads = Vec::new();
    for (slot, bound) in [Bound::InfoNce, Bound::LeaveOneOut].into_iter().enumerate() {
        let hist = ctx.zeros("sandwich value", 1)?;
        let st = ctx.upload("sandwich state", &state::initial(0))?;
        let scratch = ctx.zeros("sandwich scratch", GpuContext::matrix_bound_scratch_len(k))?;
        let dg = ctx.zeros("sandwich dG", k * e)?;
        let dh = ctx.zeros("sandwich dH", k * e)?;
        let launches = ctx.fused_bound(
            bound,
            k,
            e,
            &FusedBoundBuffers {
                g: &gb,
                h: &hb,
                baseline: None,
                grads: gradients.then_some((&dg, &dh)),
                hist: &hist,
                state: &st,
                scratch: &scratch,
            },
        )?;
        ctx.run(&launches, 1)?;
        let v: Vec<f32> = ctx.read(&hist)?;
        let flags: Vec<u32> = ctx.read(&st)?;
        if flags[state::FLAGS] != 0 || !v[0].is_finite() {
            return Err(InputError::Underflow {
                side: if slot == 0 { "lower" } else { "upper" },
                first: start + 1,
                last: start + k,
            }
            .into());
        }
        values[slot] = f64::from(v[0]);
        if gradients {
            let neg = |b: Vec<f32>| b.into_iter().map(|x| -x).collect::<Vec<f32>>();
            let (dg, dh) = (neg(ctx.read(&dg)?), neg(ctx.read(&dh)?));
            grads.push(chain(ys, ms, ss, d, &dg, &dh));
        }
    }
    // Σ_i L_ii and Σ_{i≠j} L_ij = G_sum · H_sum − Σ_i L_ii, in f64 on the host: O(K·e).
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let row = |m: &[f32], i: usize| {
        m[i * e..(i + 1) * e]
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>()
    };
    let mut gsum = vec![0.0; e];
    let mut hsum = vec![0.0; e];
    let mut sum_diag = 0.0;
    for i in 0..k {
        let (gi, hi) = (row(&g, i), row(&h, i));
        sum_diag += dot(&gi, &hi);
        for c in 0..e {
            gsum[c] += gi[c];
            hsum[c] += hi[c];
        }
    }
    let grads = match grads.len() {
        2 => {
            let u = grads.pop().expect("two");
            let l = grads.pop().expect("two");
            Some([l, u])
        }
        _ => None,
    };
    Ok(BlockOut {
        lower: values[0],
        upper: values[1],
        sum_diag,
        sum_off: dot(&gsum, &hsum) - sum_diag,
        grads,
    })
}
