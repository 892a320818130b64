//! The held-out evaluation over the whole test split at once (K = n_test) for the separable
//! critic, and its standard error from row blocks.
//!
//! The fused kernels (`matrix_bounds.wgsl`, `row_stats`) leave for every row i of the K×K
//! scores its log-sum-exp ℓ_i (over the whole row for InfoNCE, off the diagonal otherwise; of
//! the clipped scores for SMILE, of S_ij − b_j for TUBA) and its diagonal term d_i
//! (S_ii − ℓ_i for InfoNCE, S_ii − b_i for TUBA, S_ii otherwise). The bound on the whole matrix
//! is what the device reports. For its standard error the rows are cut into B contiguous
//! blocks (the rows come in a random order, so each block is a random subset); block b's value
//! is the bound on the block's rows against all K columns:
//!
//! ```text
//! InfoNCE:       ln K + mean_{i∈b} d_i
//! DV/SMILE/MINE: mean_{i∈b} d_i − LME_b           LME_b = log Σ_{i∈b} e^(ℓ_i) − log(|b|(K−1))
//! NWJ:           mean_{i∈b} d_i − e^(LME_b − 1)
//! TUBA, JS:      1 + mean_{i∈b} d_i − e^(LME_b)
//! ```
//!
//! (the formulas of `finalize` restricted to the block; one block gives the whole matrix's
//! value), and the standard error is that of their mean, sd/√B (batch means over row blocks).
//! α-InfoNCE's statistics are per column, not per row: it keeps the batched evaluation.

use crate::math::bounds::{log_sum_exp, Bound};

/// Whether [`row_block_values`] covers `bound` (every bound but α-InfoNCE).
pub fn supports(bound: Bound) -> bool {
    !matches!(bound, Bound::AlphaInfoNce { .. })
}

/// The bound's value on each of `blocks` contiguous row blocks (sizes differing by at most
/// one) of a K×K score matrix, from its per-row log-sum-exps `lse` and diagonal terms `diag`
/// (K each, as the module doc defines them). `blocks` is clamped to [1, K].
///
/// Panics for α-InfoNCE ([`supports`]), K < 2, or `lse` and `diag` not of length K.
pub fn row_block_values(bound: Bound, lse: &[f64], diag: &[f64], blocks: usize) -> Vec<f64> {
    assert!(supports(bound), "α-InfoNCE's statistics are per column");
    let k = lse.len();
    assert!(k >= 2 && diag.len() == k, "K ≥ 2 rows of statistics");
    let kf = k as f64;
    let blocks = blocks.clamp(1, k);
    (0..blocks)
        .map(|b| {
            let (lo, hi) = (b * k / blocks, (b + 1) * k / blocks);
            let m = (hi - lo) as f64;
            let mean_diag = diag[lo..hi].iter().sum::<f64>() / m;
            let lme = log_sum_exp(lse[lo..hi].iter().copied()) - (m * (kf - 1.0)).ln();
            match bound {
                Bound::InfoNce => kf.ln() + mean_diag,
                Bound::Nwj => mean_diag - (lme - 1.0).exp(),
                Bound::Tuba | Bound::Js => 1.0 + mean_diag - lme.exp(),
                _ => mean_diag - lme,
            }
        })
        .collect()
}

/// The standard error of the mean of `values` (sd/√n with the n − 1 variance); NaN for fewer
/// than two.
pub fn std_err(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if values.len() < 2 {
        return f64::NAN;
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (var / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::bounds::matrix_eval;

    /// `row_stats` of `matrix_bounds.wgsl` on the host, in f64.
    fn row_stats(bound: Bound, s: &[f32], b: &[f32], k: usize) -> (Vec<f64>, Vec<f64>) {
        let (mut lse, mut diag) = (Vec::new(), Vec::new());
        for i in 0..k {
            let term = |j: usize| {
                let v = f64::from(s[i * k + j]);
                match bound {
                    Bound::Smile { tau } => v.clamp(-f64::from(tau), f64::from(tau)),
                    Bound::Tuba => v - f64::from(b[j]),
                    _ => v,
                }
            };
            let whole = bound == Bound::InfoNce;
            let l = log_sum_exp((0..k).filter(|&j| whole || j != i).map(term));
            let d = f64::from(s[i * k + i]);
            lse.push(l);
            diag.push(match bound {
                Bound::InfoNce => d - l,
                Bound::Tuba => d - f64::from(b[i]),
                _ => d,
            });
        }
        (lse, diag)
    }

    fn scores(k: usize) -> Vec<f32> {
        (0..k * k)
            .map(|e| {
                let (i, j) = (e / k, e % k);
                ((e as f32 * 0.7).sin() * 2.0) + if i == j { 1.5 } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn one_block_is_the_whole_matrix_bound() {
        let k = 7;
        let s = scores(k);
        let b: Vec<f32> = (0..k).map(|j| (j as f32 * 0.3).cos()).collect();
        for bound in [
            Bound::InfoNce,
            Bound::Nwj,
            Bound::Tuba,
            Bound::Dv,
            Bound::Mine { gamma: 0.9 },
            Bound::Js,
            Bound::Smile { tau: 1.0 },
        ] {
            let baseline = (bound == Bound::Tuba).then_some(&b[..]);
            let want = matrix_eval(bound, &s, k, baseline, None).value;
            let (lse, diag) = row_stats(bound, &s, &b, k);
            let got = row_block_values(bound, &lse, &diag, 1);
            assert_eq!(got.len(), 1);
            assert!(
                (got[0] - want).abs() < 1e-9,
                "{bound:?}: {} vs {want}",
                got[0]
            );
        }
    }

    #[test]
    fn infonce_blocks_average_to_the_whole_and_spread_gives_the_error() {
        let k = 12;
        let s = scores(k);
        let (lse, diag) = row_stats(Bound::InfoNce, &s, &[], k);
        let whole = row_block_values(Bound::InfoNce, &lse, &diag, 1)[0];
        // Equal blocks: the mean of the block values is the whole matrix's value.
        let v = row_block_values(Bound::InfoNce, &lse, &diag, 4);
        assert_eq!(v.len(), 4);
        assert!((v.iter().sum::<f64>() / 4.0 - whole).abs() < 1e-12);
        let se = std_err(&v);
        assert!(se.is_finite() && se > 0.0);
        // More blocks than rows: one row each.
        assert_eq!(row_block_values(Bound::InfoNce, &lse, &diag, 100).len(), k);
        assert!(std_err(&[1.0]).is_nan());
        assert!((std_err(&[1.0, 3.0]) - 1.0).abs() < 1e-12);
    }
}
