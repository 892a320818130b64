//! α-InfoNCE (SPEC §2) on the fused path. Its statistics run down S's columns: loo_ij holds
//! row i out of column j's log-sum-exp, and column j's gradient needs the whole column. So it
//! sweeps Sᵀ = H·Gᵀ instead of S: a block of Sᵀ's rows is a block of S's columns, each whole,
//! and each column is finished inside its block, with no state across blocks and S formed
//! once (column blocks need no recomputation here, the rows being what is split). The
//! gradients swap with the towers: the sweep's dG of Sᵀ is dH, its dH is dG.
//!
//! Per column, in f32 (the reference's `alpha_info_nce` in f64, term for term): the
//! held-out log-sum-exps loo_ij and the interpolations interp_ij, the joint and marginal
//! terms, then q = LSE_{i≠j}(−interp_ij) held out row by row for the gradient. Every
//! exponent is shifted by a maximum, or bounded by the bound's structure and clipped as well.

use super::{block, sweep, FusedBaseline, Layout, Towers};
use crate::cpu::fast::exp::{exp, ln};
use crate::cpu::fast::lanes::{max2, sum2};
use crate::cpu::fast::ops::bounds::{BoundValue, Scores};
use crate::cpu::fast::pool::Pool;
use crate::cpu::fast::simd::{level, multiversion};
use crate::math::bounds::EXP_CLIP;

/// The constants of α-InfoNCE at one K, in the logs the column loop adds.
#[derive(Clone, Copy)]
struct Consts {
    /// ln α − ln(K−1): loo_ij's mean and α in one shift.
    ln_a_loo: f32,
    /// ln(1 − α).
    ln_1a: f32,
    /// ln(α / (N(K−1))), N = K(K−1): the joint term's factor.
    ln_joint: f32,
    /// ln((1 − α) / N): the marginal term's factor.
    ln_marg: f32,
    /// 1/K.
    inv_k: f32,
}

impl Consts {
    fn new(k: usize, alpha: f32) -> Self {
        let (kf, a) = (k as f64, f64::from(alpha));
        let (ln_k1, ln_n) = ((kf - 1.0).ln(), (kf * (kf - 1.0)).ln());
        Self {
            ln_a_loo: (a.ln() - ln_k1) as f32,
            ln_1a: (1.0 - a).ln() as f32,
            ln_joint: (a.ln() - ln_n - ln_k1) as f32,
            ln_marg: ((1.0 - a).ln() - ln_n) as f32,
            inv_k: (1.0 / kf) as f32,
        }
    }
}

/// α-InfoNCE on S = G·Hᵀ: the value, with `grads` d(−V)/dG and d(−V)/dH, and d(−V)/db into
/// the baseline's gradient when it asks.
pub(super) fn bound(
    pool: &Pool,
    x: Layout,
    t: Towers<'_>,
    grads: Option<(&mut [f32], &mut [f32])>,
    baseline: FusedBaseline<'_>,
    alpha: f32,
) -> BoundValue {
    let k = x.k;
    let level = level();
    let c = Consts::new(k, alpha);
    let b = &baseline.values[..k];
    let grads = grads.map(|(dg, dh)| (dh, dg));
    let parts = sweep(pool, x, t.transposed(), grads, |cols, s, ds| {
        let mut db = vec![0.0f32; cols.len()];
        let (joint, marg) = columns_at(level, block(&cols, s, k), b, cols.start, ds, &mut db, c);
        (joint, marg, db)
    });
    let n = k as f64 * (k as f64 - 1.0);
    let (mut joint, mut marg) = (0.0, 0.0);
    for (j, m, _) in &parts {
        joint += j;
        marg += m;
    }
    if let Some(out) = baseline.grad {
        let all = parts.iter().flat_map(|(_, _, db)| db);
        for (o, v) in out[..k].iter_mut().zip(all) {
            *o = *v;
        }
    }
    let value = 1.0 + joint / n - marg / n;
    BoundValue {
        value,
        objective: value,
        log_ema: f64::NAN,
    }
}

multiversion!(
    /// [`columns`] compiled for `level`.
    fn columns_at(
        s: Scores<'_>,
        b: &[f32],
        first: usize,
        ds: &mut [f32],
        db: &mut [f32],
        c: Consts
    ) -> (f64, f64) = columns
);

/// Columns `first..` of S (rows of `s`, as many as `ds` holds): their gradients into `ds`
/// (a row each, Sᵀ's layout) and `db`; returns Σ_j Σ_{i≠j} (S_jj − interp_ij) and
/// Σ_j Σ_{i≠j} e^(S_ij − interp_jj), added column after column.
#[inline(always)]
fn columns<const FMA: bool>(
    s: Scores<'_>,
    b: &[f32],
    first: usize,
    ds: &mut [f32],
    db: &mut [f32],
    c: Consts,
) -> (f64, f64) {
    let k = s.k;
    let (mut joint, mut marg) = (0.0, 0.0);
    for r in 0..ds.len() / k {
        let j = first + r;
        let d = &mut ds[r * k..(r + 1) * k];
        let (jt, mg, g) = column(s.row(j), j, b[j], d, c);
        joint += jt;
        marg += mg;
        db[r] = g;
    }
    (joint, marg)
}

/// log(eᵃ + eᵇ) without overflow.
#[inline(always)]
fn log_add_exp(a: f32, b: f32) -> f32 {
    let m = a.max(b);
    let v = m + ln(1.0 + exp(-(a - b).abs()));
    if m == f32::NEG_INFINITY {
        m
    } else {
        v
    }
}

/// log Σ e^(f(v_i)) over `runs`, max-shifted (−∞ when every term is).
#[inline(always)]
fn lse(runs: &[&[f32]], f: impl Fn(f32) -> f32 + Copy) -> f32 {
    let mut m = f32::NEG_INFINITY;
    for run in runs {
        m = m.max(max2(run, run, |x, _| f(x)));
    }
    if m == f32::NEG_INFINITY {
        return m;
    }
    let mut sum = 0.0;
    for run in runs {
        sum += sum2(run, run, |x, _| exp(f(x) - m));
    }
    m + ln(sum)
}

/// Over v_i ↦ f(v_i): the index of the largest term (the first if tied), the log-sum-exp of
/// all, and that of all but the largest. Any other term is at most half the total, so its
/// held-out sum total + ln(1 − e^(f(v_i) − total)) loses nothing; the largest one's is the
/// third value (`held_out_lse` of the reference).
#[inline(always)]
fn held_out(v: &[f32], f: impl Fn(f32) -> f32 + Copy) -> (usize, f32, f32) {
    let m = max2(v, v, |x, _| f(x));
    let top = v.iter().position(|&x| f(x) == m).unwrap_or(0);
    let total = lse(&[v], f);
    let without = lse(&[&v[..top], &v[top + 1..]], f);
    (top, total, without)
}

/// Column j of S (`col`, K values) with baseline b_j: its gradient ∂(−V)/∂S_ij into `d`, and
/// its joint term, marginal term and ∂(−V)/∂b_j.
#[inline(always)]
fn column(col: &[f32], j: usize, bj: f32, d: &mut [f32], c: Consts) -> (f64, f64, f32) {
    let clip = EXP_CLIP as f32;
    // interp_ij = log(α e^(loo_ij) + (1−α) e^(b_j)), loo_ij from the held-out sums.
    let (top, total, without_top) = held_out(col, |x| x);
    let held = |x: f32| total + ln(1.0 - exp(x - total));
    let marg_b = c.ln_1a + bj;
    for (d, &x) in d.iter_mut().zip(col) {
        *d = log_add_exp(c.ln_a_loo + held(x), marg_b);
    }
    d[top] = log_add_exp(c.ln_a_loo + without_top, marg_b);
    let held_j = if j == top { without_top } else { held(col[j]) };
    let interp_j = d[j];
    let sjj = col[j];
    let joint = f64::from(sum2(&d[..j], &d[..j], |v, _| sjj - v))
        + f64::from(sum2(&d[j + 1..], &d[j + 1..], |v, _| sjj - v));
    // Σ_{i≠j} e^(S_ij − interp_jj) = e^(held_j − interp_jj) ≤ (K−1)/α.
    let marg = f64::from(exp((held_j - interp_j).min(clip)));
    // q = LSE_{i≠j}(−interp_ij), and its held-out sums: row j leaves them as −∞.
    d[j] = f32::INFINITY;
    let (top_q, q, without_q) = held_out(d, |v| -v);
    // ∂(−V)/∂S_rj, r ≠ j: the joint term α/(N(K−1)) e^(S_rj + q_r), q_r = q held out of row
    // r, written e^(S_rj + q)(1 − e^(−interp_rj − q)) (the share is at most ½ but for q's
    // largest term, whose q_r is `without_q`), and the marginal term (1−α)/N e^(S_rj + b_j −
    // 2 interp_jj). Both exponents are bounded by ln((K−1)/α) and so on; the clip is a guard.
    let ln_j = c.ln_joint + q;
    let ln_m = c.ln_marg + bj - 2.0 * interp_j;
    for (d, &x) in d.iter_mut().zip(col) {
        let share = 1.0 - exp(-*d - q);
        *d = exp((x + ln_j).min(clip)) * share + exp((x + ln_m).min(clip));
    }
    let x = col[top_q];
    d[top_q] = exp((x + c.ln_joint + without_q).min(clip)) + exp((x + ln_m).min(clip));
    d[j] = exp((sjj + ln_j).min(clip)) - c.inv_k;
    let db = exp((c.ln_marg + bj + q).min(clip)) - exp((held_j + ln_m).min(clip));
    (joint, marg, db)
}
