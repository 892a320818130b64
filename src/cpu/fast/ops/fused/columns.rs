//! TUBA's baseline gradient on the fused path, ∂(−L)/∂b_j = 1/K − e^(LSE_{i≠j}(S_ij) − b_j −
//! log(K(K−1))), needs each column's log-sum-exp while the sweeps hand out blocks of rows. So
//! each group of blocks keeps K partial column maxima (first sweep), then K partial sums
//! shifted by the whole column's maximum (second sweep). The maxima combine exactly; the
//! sums are added in f64 in group order. Shifting by the column's own maximum rather than
//! the negatives' global one keeps a column far below the others from underflowing to 0.

use std::ops::Range;

use crate::cpu::fast::exp::exp;
use crate::cpu::fast::ops::bounds::Scores;
use crate::cpu::fast::simd::multiversion;
use crate::math::bounds::EXP_CLIP;

/// Row i's scores off the diagonal, as two runs with the column each starts at.
#[inline(always)]
fn off_diagonal(row: &[f32], i: usize) -> [(usize, &[f32]); 2] {
    [(0, &row[..i]), (i + 1, &row[i + 1..])]
}

multiversion!(
    /// [`column_max`] compiled for `level`.
    pub(super) fn column_max_at(s: Scores<'_>, rows: Range<usize>, max: &mut [f32]) -> ()
        = column_max
);

/// Folds rows `rows`' off-diagonal scores into the column maxima `max` (K values).
#[inline(always)]
fn column_max<const FMA: bool>(s: Scores<'_>, rows: Range<usize>, max: &mut [f32]) {
    for i in rows {
        for (at, run) in off_diagonal(s.row(i), i) {
            for (m, &x) in max[at..].iter_mut().zip(run) {
                *m = m.max(x);
            }
        }
    }
}

multiversion!(
    /// [`column_sums`] compiled for `level`.
    pub(super) fn column_sums_at(
        s: Scores<'_>,
        rows: Range<usize>,
        max: &[f32],
        sum: &mut [f32]
    ) -> () = column_sums
);

/// Adds rows `rows`' e^(S_ij − max_j), j ≠ i, into the column sums `sum`, row after row.
#[inline(always)]
fn column_sums<const FMA: bool>(s: Scores<'_>, rows: Range<usize>, max: &[f32], sum: &mut [f32]) {
    for i in rows {
        for (at, run) in off_diagonal(s.row(i), i) {
            for ((t, &x), &m) in sum[at..].iter_mut().zip(run).zip(&max[at..]) {
                *t += exp(x - m);
            }
        }
    }
}

/// The groups' partial maxima (K values each) combined.
pub(super) fn maxima(groups: &[Vec<f32>], k: usize) -> Vec<f32> {
    let mut max = vec![f32::NEG_INFINITY; k];
    for g in groups {
        for (m, &v) in max.iter_mut().zip(g) {
            *m = m.max(v);
        }
    }
    max
}

/// ∂(−L)/∂b_j into `db` from the columns' maxima and the groups' partial sums (added in
/// group order), clipped as the score gradients are.
pub(super) fn baseline_grad(max: &[f32], groups: &[Vec<f32>], b: &[f32], db: &mut [f32]) {
    let k = max.len();
    let ln_n = ((k * (k - 1)) as f64).ln();
    for (j, d) in db[..k].iter_mut().enumerate() {
        let sum: f64 = groups.iter().map(|g| f64::from(g[j])).sum();
        let lse = f64::from(max[j]) + sum.ln() - f64::from(b[j]);
        *d = (1.0 / k as f64 - (lse - ln_n).min(EXP_CLIP).exp()) as f32;
    }
}
