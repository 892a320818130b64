//! The bound op (`matrix_bounds.wgsl`, `bounds.wgsl`): the value of a bound on a batch's
//! scores, its training objective and d(−objective)/d(scores) (and d/d(baseline)).
//!
//! InfoNCE and the joint-against-negatives bounds (NWJ, TUBA, DV, MINE, JS, SMILE and the two
//! Lautum bounds) run in f32 over fixed row blocks, e^x vectorised, the statistics combined
//! in f64 in row order. α-InfoNCE and the leave-one-out statistic on a stored S (the concat
//! critic's; the separable critic's α-InfoNCE runs in `fused`), and every shuffled batch
//! (2K scores, no cost worth a kernel), use the f64 reference and store its result in f32.

pub use crate::cpu::interp::BoundValue;

use crate::cpu::fast::exp::{exp, sigmoid, softplus};
use crate::cpu::fast::lanes::{max2, sum2};
use crate::cpu::fast::pool::{blocks, Pool};
use crate::cpu::fast::simd::{level, multiversion};
use crate::math::bounds::{log_sum_exp, matrix_eval, mine_log_ema, shuffled_eval, Bound, EXP_CLIP};
use std::ops::Range;

/// Scores a block of rows covers, at least.
const BLOCK_SCORES: usize = 1 << 13;

/// `bound` on the K×K score matrix `s`: writes d(−L)/dS to `ds` (K×K) and, for the bounds
/// with a baseline (`baseline` = b(y_j), K values), d(−L)/db to `db`. `prev_log_ema` is
/// MINE's log m_{t−1}.
///
/// Panics where [`matrix_eval`] does (K < 2, a baseline that does not match the bound), or if
/// a buffer is shorter than the shapes need.
#[allow(clippy::too_many_arguments)]
pub fn matrix_bound(
    pool: &Pool,
    bound: Bound,
    k: usize,
    s: &[f32],
    baseline: Option<&[f32]>,
    prev_log_ema: Option<f64>,
    ds: &mut [f32],
    db: Option<&mut [f32]>,
) -> BoundValue {
    assert!(k >= 2, "the score matrix needs K ≥ 2 (off-diagonal terms)");
    assert!(s.len() >= k * k && ds.len() >= k * k, "scores must be K×K");
    assert_eq!(
        bound.needs_baseline(),
        baseline.is_some(),
        "{bound:?}: baseline"
    );
    let (s, ds) = (&s[..k * k], &mut ds[..k * k]);
    match bound {
        Bound::InfoNce => info_nce(pool, k, s, ds),
        Bound::Nwj
        | Bound::Tuba
        | Bound::Dv
        | Bound::Mine { .. }
        | Bound::Js
        | Bound::Smile { .. }
        | Bound::LautumDv
        | Bound::LautumNwj => {
            let zeros;
            let b = match baseline {
                Some(b) => &b[..k],
                None => {
                    zeros = vec![0.0f32; k];
                    &zeros[..]
                }
            };
            let out = pos_neg(pool, bound, k, s, b, prev_log_ema, ds);
            if let (Bound::Tuba, Some(db)) = (bound, db) {
                tuba_baseline(pool, k, s, b, &mut db[..k]);
            }
            out
        }
        _ => BoundValue::stored(matrix_eval(bound, s, k, baseline, prev_log_ema), ds, db),
    }
}

/// `bound` on a shuffled batch (K joint scores then K negatives), through the f64 reference:
/// 2K scores cost nothing next to the networks that made them.
pub fn shuffled_bound(
    bound: Bound,
    scores: &[f32],
    baseline: Option<&[f32]>,
    prev_log_ema: Option<f64>,
    ds: &mut [f32],
    db: Option<&mut [f32]>,
) -> BoundValue {
    BoundValue::stored(shuffled_eval(bound, scores, baseline, prev_log_ema), ds, db)
}

/// Rows of a K-column score matrix that start at row `base` (the whole matrix, or a block of
/// rows of the fused separable bound).
#[derive(Clone, Copy)]
pub(super) struct Scores<'a> {
    /// The rows, K values each.
    pub s: &'a [f32],
    /// The index of the first.
    pub base: usize,
    /// Columns.
    pub k: usize,
}

impl<'a> Scores<'a> {
    /// Row i (an index of the whole matrix).
    #[inline(always)]
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.s[(i - self.base) * self.k..(i - self.base + 1) * self.k]
    }
}

/// Rows a block takes for a K×K matrix.
fn rows_per_block(k: usize) -> usize {
    BLOCK_SCORES.div_ceil(k).max(1)
}

/// InfoNCE: log K + mean_i (S_ii − LSE_i), ∂(−V)/∂S_ij = (softmax_i(S)_j − [i = j])/K.
fn info_nce(pool: &Pool, k: usize, s: &[f32], ds: &mut [f32]) -> BoundValue {
    let rows = rows_per_block(k);
    let level = level();
    let terms = pool.map_chunks_mut(ds, rows * k, 4 * k * k, |blk, chunk| {
        info_nce_rows_at(level, Scores { s, base: 0, k }, blk * rows, chunk)
    });
    let value = (k as f64).ln() + terms.iter().sum::<f64>() / k as f64;
    BoundValue {
        value,
        objective: value,
        log_ema: f64::NAN,
    }
}

multiversion!(
    /// [`info_nce_row`] compiled for `level`.
    fn info_nce_row_at(row: &[f32], i: usize, d: &mut [f32]) -> f64 = info_nce_row_generic
);

/// [`info_nce_row`] with the signature [`multiversion!`] takes.
#[inline(always)]
fn info_nce_row_generic<const FMA: bool>(row: &[f32], i: usize, d: &mut [f32]) -> f64 {
    info_nce_row(row, i, d)
}

/// InfoNCE's row i of `row`'s K scores (as `info_nce_row`), compiled for the widest
/// vectors this CPU has.
pub fn info_nce_row_for(row: &[f32], i: usize, d: &mut [f32]) -> f64 {
    info_nce_row_at(level(), row, i, d)
}

multiversion!(
    /// [`info_nce_rows`] compiled for `level`.
    pub(super) fn info_nce_rows_at(s: Scores<'_>, first: usize, ds: &mut [f32]) -> f64 = info_nce_rows
);

/// InfoNCE's rows `first..` (as many as `ds` holds, K a row): writes their score gradients
/// and returns Σ (S_ii − LSE_i) over them.
#[inline(always)]
fn info_nce_rows<const FMA: bool>(s: Scores<'_>, first: usize, ds: &mut [f32]) -> f64 {
    let k = s.k;
    // Plain loops: an iterator's `sum` or `fold` is a function of its own, compiled for the
    // baseline CPU rather than inlined here.
    let mut total = 0.0;
    for r in 0..ds.len() / k {
        let i = first + r;
        total += info_nce_row(s.row(i), i, &mut ds[r * k..(r + 1) * k]);
    }
    total
}

/// InfoNCE's row i: ∂(−V)/∂S_ij into `d` (its e^(S_ij − max) computed once, stored there
/// and rescaled), and S_ii − LSE_i.
#[inline(always)]
pub fn info_nce_row(row: &[f32], i: usize, d: &mut [f32]) -> f64 {
    let inv_k = 1.0 / row.len() as f32;
    let m = max2(row, row, |x, _| x);
    for (d, &x) in d.iter_mut().zip(row) {
        *d = exp(x - m);
    }
    let sum = sum2(d, d, |e, _| e);
    let scale = inv_k / sum;
    for d in d.iter_mut() {
        *d *= scale;
    }
    d[i] -= inv_k;
    f64::from(row[i]) - (f64::from(m) + f64::from(sum).ln())
}

/// Row i's off-diagonal scores as two runs (left and right of the diagonal), with the
/// baseline values of their columns.
#[inline(always)]
fn off_diagonal<'a>(row: &'a [f32], b: &'a [f32], i: usize) -> [(&'a [f32], &'a [f32]); 2] {
    [(&row[..i], &b[..i]), (&row[i + 1..], &b[i + 1..])]
}

/// Per-row sums the joint-against-negatives bounds need, over n = S_ij − b_j, i ≠ j.
#[derive(Clone, Copy, Default)]
pub(super) struct NegSums {
    /// Σ e^(n − M).
    exp: f64,
    /// Σ e^(clip(n, ±τ) − clip(M, ±τ)) (SMILE).
    exp_clip: f64,
    /// Σ n (Lautum).
    sum: f64,
    /// Σ softplus(n) (the JS objective).
    softplus: f64,
}

/// NWJ, TUBA, DV, MINE, JS, SMILE, Lautum-DV and Lautum-NWJ on the matrix, as the reference's
/// `pos_neg`: joint scores S_ii − b_i against the off-diagonal S_ij − b_j.
fn pos_neg(
    pool: &Pool,
    bound: Bound,
    k: usize,
    s: &[f32],
    b: &[f32],
    prev_log_ema: Option<f64>,
    ds: &mut [f32],
) -> BoundValue {
    let rows = rows_per_block(k);
    let (count, range) = blocks(k, rows);
    let work = k * k;
    let level = level();
    let sc = Scores { s, base: 0, k };
    let maxima = pool.map(count, work, |blk| neg_max_at(level, sc, b, range(blk)));
    let m = maxima.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
    let want = Wanted::new(bound, m);
    let pos: Vec<f64> = (0..k)
        .map(|i| f64::from(s[i * k + i]) - f64::from(b[i]))
        .collect();
    let dpos = dpos_for(bound, &pos);
    let inv_kn = (1.0 / (k as f64 * (k as f64 - 1.0))) as f32;
    // JS and SMILE: the sums and the gradient in one pass over S (their gradient needs no
    // sum); the others' gradients may need the sums first.
    let fused = want.softplus;
    let parts = if fused {
        let rows = rows_per_block(k);
        pool.map_chunks_mut(ds, rows * k, work * 3, |blk, chunk| {
            js_pass_at(level, sc, b, &dpos, blk * rows, chunk, want, inv_kn)
        })
    } else {
        pool.map(count, work * 2, |blk| {
            neg_sums_at(level, sc, b, range(blk), want)
        })
    };
    let neg = NegSums::total(&parts);
    let (out, dneg) = finish(bound, k, &pos, want, &neg, prev_log_ema);
    if !fused {
        let rows = rows_per_block(k);
        pool.chunks_mut(ds, rows * k, 2 * k * k, |blk, chunk| {
            fill_rows_at(level, sc, b, &dpos, blk * rows, chunk, dneg)
        });
    }
    out
}

impl Wanted {
    /// What `bound` needs, for negatives whose maximum is `m`.
    pub(super) fn new(bound: Bound, m: f32) -> Self {
        let tau = bound.tau();
        Self {
            // SMILE's value takes the clipped sum alone.
            exp: !matches!(bound, Bound::Smile { .. }),
            clip: matches!(bound, Bound::Smile { .. }),
            softplus: matches!(bound, Bound::Js | Bound::Smile { .. }),
            sum: bound.is_lautum(),
            m,
            mc: m.clamp(-tau, tau),
            tau,
        }
    }
}

impl NegSums {
    /// Blocks' sums added in block order.
    pub(super) fn total(parts: &[NegSums]) -> Self {
        let mut neg = NegSums::default();
        for p in parts {
            neg.exp += p.exp;
            neg.exp_clip += p.exp_clip;
            neg.sum += p.sum;
            neg.softplus += p.softplus;
        }
        neg
    }
}

/// ∂(−L)/∂(joint score) for each of `pos`, in f32.
pub(super) fn dpos_for(bound: Bound, pos: &[f64]) -> Vec<f32> {
    let kp = pos.len() as f64;
    let lse_pos = log_sum_exp(pos.iter().copied());
    pos.iter()
        .map(|&p| {
            (match bound {
                Bound::Js | Bound::Smile { .. } => -crate::math::bounds::sigmoid(-p) / kp,
                Bound::LautumDv => (p - lse_pos).exp(),
                Bound::LautumNwj => (p - 1.0 - kp.ln()).min(EXP_CLIP).exp(),
                _ => -1.0 / kp,
            }) as f32
        })
        .collect()
}

/// The bound's value, objective and MINE's average from the joint scores `pos` and the
/// negatives' sums, and the rule of the negatives' gradient.
pub(super) fn finish(
    bound: Bound,
    k: usize,
    pos: &[f64],
    want: Wanted,
    neg: &NegSums,
    prev_log_ema: Option<f64>,
) -> (BoundValue, Dneg) {
    let lse_of = |max: f32, sum: f64| {
        if max == f32::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            f64::from(max) + sum.ln()
        }
    };
    let kp = k as f64;
    let kn = kp * (kp - 1.0);
    let ln_kn = kn.ln();
    let mean_pos = pos.iter().sum::<f64>() / kp;
    let lse_neg = lse_of(want.m, neg.exp);
    let lme_neg = lse_neg - ln_kn;
    let mean_neg = neg.sum / kn;
    let lme_pos = log_sum_exp(pos.iter().copied()) - kp.ln();
    let value = match bound {
        Bound::LautumDv => mean_neg - lme_pos,
        Bound::LautumNwj => mean_neg - (lme_pos - 1.0).exp(),
        Bound::Nwj => mean_pos - (lme_neg - 1.0).exp(),
        Bound::Tuba | Bound::Js => 1.0 + mean_pos - lme_neg.exp(),
        Bound::Smile { .. } => mean_pos - (lse_of(want.mc, neg.exp_clip) - ln_kn),
        _ => mean_pos - lme_neg,
    };
    let log_ema = match bound {
        Bound::Mine { gamma } => mine_log_ema(gamma, prev_log_ema, lme_neg),
        _ => f64::NAN,
    };
    let objective = match bound {
        Bound::Js | Bound::Smile { .. } => {
            -pos.iter()
                .map(|&p| crate::math::bounds::softplus(-p))
                .sum::<f64>()
                / kp
                - neg.softplus / kn
        }
        Bound::Mine { .. } => mean_pos - (lme_neg - log_ema).exp(),
        _ => value,
    };
    let dneg = match Dneg::before_sums(bound, k) {
        Some(dneg) => dneg,
        // DV's exponent is at most 0: no clip binds.
        None if bound == Bound::Dv => Dneg::Exp {
            shift: lse_neg as f32,
        },
        None => Dneg::Exp {
            shift: (ln_kn + log_ema) as f32,
        },
    };
    let out = BoundValue {
        value,
        objective,
        log_ema,
    };
    (out, dneg)
}

/// Which sums over the negatives a bound needs, and the shifts they take.
#[derive(Clone, Copy)]
pub(super) struct Wanted {
    exp: bool,
    clip: bool,
    /// The softplus sum of the JS objective (JS and SMILE, whose gradient needs no sum).
    pub(super) softplus: bool,
    sum: bool,
    /// The negatives' maximum.
    m: f32,
    /// SMILE's clip of it.
    mc: f32,
    /// SMILE's τ.
    tau: f32,
}

multiversion!(
    /// [`neg_max`] compiled for `level`.
    pub(super) fn neg_max_at(s: Scores<'_>, b: &[f32], rows: Range<usize>) -> f32 = neg_max
);

/// max over rows `rows` of S_ij − b_j, i ≠ j.
#[inline(always)]
fn neg_max<const FMA: bool>(s: Scores<'_>, b: &[f32], rows: Range<usize>) -> f32 {
    let mut m = f32::NEG_INFINITY;
    for i in rows {
        for (r, bb) in off_diagonal(s.row(i), b, i) {
            m = m.max(max2(r, bb, |x, b| x - b));
        }
    }
    m
}

multiversion!(
    /// [`neg_sums`] compiled for `level`.
    pub(super) fn neg_sums_at(s: Scores<'_>, b: &[f32], rows: Range<usize>, want: Wanted) -> NegSums
        = neg_sums
);

/// The sums `want` asks for over rows `rows`' negatives, each row's in f32 lanes, the rows'
/// in f64.
#[inline(always)]
fn neg_sums<const FMA: bool>(
    s: Scores<'_>,
    b: &[f32],
    rows: Range<usize>,
    want: Wanted,
) -> NegSums {
    let Wanted { m, mc, tau, .. } = want;
    let mut t = NegSums::default();
    for i in rows {
        for (r, bb) in off_diagonal(s.row(i), b, i) {
            if want.exp {
                t.exp += f64::from(sum2(r, bb, |x, b| exp(x - b - m)));
            }
            if want.clip {
                let f = |x: f32, b: f32| exp((x - b).clamp(-tau, tau) - mc);
                t.exp_clip += f64::from(sum2(r, bb, f));
            }
            if want.softplus {
                t.softplus += f64::from(sum2(r, bb, |x, b| softplus(x - b)));
            }
            if want.sum {
                t.sum += f64::from(sum2(r, bb, |x, b| x - b));
            }
        }
    }
    t
}

multiversion!(
    /// [`js_pass`] compiled for `level`.
    pub(super) fn js_pass_at(
        s: Scores<'_>,
        b: &[f32],
        dpos: &[f32],
        first: usize,
        ds: &mut [f32],
        want: Wanted,
        inv_kn: f32
    ) -> NegSums = js_pass
);

/// JS and SMILE on rows `first..` (as many as `ds` holds): their sums, as [`neg_sums`], and
/// their gradient sigmoid(n)/(K(K−1)) off the diagonal (dpos_i on it), each row read once
/// while it is in L1.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn js_pass<const FMA: bool>(
    s: Scores<'_>,
    b: &[f32],
    dpos: &[f32],
    first: usize,
    ds: &mut [f32],
    want: Wanted,
    inv_kn: f32,
) -> NegSums {
    let k = b.len();
    let Wanted { m, mc, tau, .. } = want;
    let mut t = NegSums::default();
    for r in 0..ds.len() / k {
        let i = first + r;
        let row = s.row(i);
        let d = &mut ds[r * k..(r + 1) * k];
        // The row's softplus terms land in `d` first, summed (diagonal left out) before the
        // gradient overwrites them.
        for ((d, &x), &b) in d.iter_mut().zip(row).zip(b) {
            let n = x - b;
            *d = n.max(0.0) + crate::cpu::fast::exp::ln(1.0 + exp(-n.abs()));
        }
        for (run, _) in off_diagonal(d, b, i) {
            t.softplus += f64::from(sum2(run, run, |v, _| v));
        }
        for (run, bb) in off_diagonal(row, b, i) {
            if want.exp {
                t.exp += f64::from(sum2(run, bb, |x, b| exp(x - b - m)));
            }
            if want.clip {
                let f = |x: f32, b: f32| exp((x - b).clamp(-tau, tau) - mc);
                t.exp_clip += f64::from(sum2(run, bb, f));
            }
        }
        for ((d, &x), &b) in d.iter_mut().zip(row).zip(b) {
            *d = sigmoid(x - b) * inv_kn;
        }
        d[i] = dpos[i];
    }
    t
}

/// ∂(−L)/∂n of a negative n = S_ij − b_j, by bound.
#[derive(Clone, Copy)]
pub(super) enum Dneg {
    /// e^min(n − shift, EXP_CLIP).
    Exp { shift: f32 },
    /// A constant.
    Constant(f32),
    /// sigmoid(n) · scale.
    Sigmoid { scale: f32 },
}

impl Dneg {
    /// The rule of `bound`'s negatives' gradient when it needs none of their sums (every
    /// joint-against-negatives bound but DV and MINE, whose shifts are the sums' log), so
    /// that a sweep can write the gradient while it adds the sums.
    pub(super) fn before_sums(bound: Bound, k: usize) -> Option<Self> {
        let kn = k as f64 * (k as f64 - 1.0);
        let ln_kn = kn.ln() as f32;
        let inv_kn = (1.0 / kn) as f32;
        match bound {
            Bound::Nwj => Some(Dneg::Exp { shift: 1.0 + ln_kn }),
            Bound::Tuba => Some(Dneg::Exp { shift: ln_kn }),
            Bound::LautumDv | Bound::LautumNwj => Some(Dneg::Constant(-inv_kn)),
            Bound::Js | Bound::Smile { .. } => Some(Dneg::Sigmoid { scale: inv_kn }),
            _ => None,
        }
    }
}

multiversion!(
    /// [`fill_rows`] compiled for `level`.
    pub(super) fn fill_rows_at(
        s: Scores<'_>,
        b: &[f32],
        dpos: &[f32],
        first: usize,
        ds: &mut [f32],
        dneg: Dneg
    ) -> () = fill_rows
);

/// Rows `first..` of the gradient (as many as `ds` holds): `dneg` off the diagonal, dpos_i
/// on it.
#[inline(always)]
fn fill_rows<const FMA: bool>(
    s: Scores<'_>,
    b: &[f32],
    dpos: &[f32],
    first: usize,
    ds: &mut [f32],
    dneg: Dneg,
) {
    let k = b.len();
    let clip = EXP_CLIP as f32;
    for r in 0..ds.len() / k {
        let i = first + r;
        let row = s.row(i);
        let d = &mut ds[r * k..(r + 1) * k];
        // One loop a case, so that each vectorises.
        match dneg {
            Dneg::Exp { shift } => {
                for ((d, &x), &b) in d.iter_mut().zip(row).zip(b) {
                    *d = exp((x - b - shift).min(clip));
                }
            }
            Dneg::Constant(v) => d.fill(v),
            Dneg::Sigmoid { scale } => {
                for ((d, &x), &b) in d.iter_mut().zip(row).zip(b) {
                    *d = sigmoid(x - b) * scale;
                }
            }
        }
        d[i] = dpos[i];
    }
}

/// TUBA's ∂(−L)/∂b_j = 1/K − e^(LSE_{i≠j}(S_ij − b_j) − log(K(K−1))) (clipped as the score
/// gradients), from column statistics over fixed column blocks, rows in order.
fn tuba_baseline(pool: &Pool, k: usize, s: &[f32], b: &[f32], db: &mut [f32]) {
    const COLS: usize = 64;
    let ln_n = ((k * (k - 1)) as f64).ln();
    pool.chunks_mut(db, COLS, 2 * k * k, |blk, out| {
        let j0 = blk * COLS;
        let w = out.len();
        let mut max = vec![f32::NEG_INFINITY; w];
        let mut sum = vec![0.0f32; w];
        // Column j skips row j: the row's run splits around it.
        let runs = |i: usize| {
            let row = &s[i * k + j0..i * k + j0 + w];
            if (j0..j0 + w).contains(&i) {
                let c = i - j0;
                [(0, &row[..c]), (c + 1, &row[c + 1..])]
            } else {
                [(0, row), (w, &row[w..])]
            }
        };
        for i in 0..k {
            for (at, run) in runs(i) {
                for (m, &x) in max[at..].iter_mut().zip(run) {
                    *m = m.max(x);
                }
            }
        }
        for i in 0..k {
            for (at, run) in runs(i) {
                for ((t, &x), &m) in sum[at..].iter_mut().zip(run).zip(&max[at..]) {
                    *t += exp(x - m);
                }
            }
        }
        for (c, d) in out.iter_mut().enumerate() {
            let lse = f64::from(max[c]) + f64::from(sum[c]).ln() - f64::from(b[j0 + c]);
            *d = (1.0 / k as f64 - (lse - ln_n).min(EXP_CLIP).exp()) as f32;
        }
    });
}
