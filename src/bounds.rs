//! The variational bounds of SPEC §2: definitions shared by both backends, and their
//! reference values and gradients in f64.

/// A variational lower bound on I(X; Y) (SPEC §2). Scores S_ij = f(x_i, y_j): the diagonal
/// scores joint pairs, the off-diagonal (or, for a shuffled batch, the K negatives) scores
/// pairs from p(x)p(y).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Bound {
    /// InfoNCE (CPC): log K + mean_i (S_ii − LSE_row(i)); never above log K. Full matrix only.
    InfoNce,
    /// NWJ: mean S⁺ − e⁻¹ mean exp S⁻.
    Nwj,
    /// TUBA with a learned log-baseline b(y) (an MLP on y).
    Tuba,
    /// Donsker–Varadhan: mean S⁺ − log mean exp S⁻ (biased gradient).
    Dv,
    /// MINE: the DV value, trained with the EMA-corrected gradient (γ the EMA's decay).
    Mine {
        /// Decay of the moving average of the partition term (SPEC: 0.9).
        gamma: f32,
    },
    /// Jensen–Shannon objective, read out as 1 + mean S⁺ − mean exp S⁻.
    Js,
    /// SMILE(τ): JS objective, read out as mean S⁺ − log mean exp clip(S⁻, ±τ).
    Smile {
        /// The clip.
        tau: f32,
    },
    /// α-InfoNCE (Poole et al.'s interpolated bound) with a learned baseline. Full matrix only.
    AlphaInfoNce {
        /// Interpolation weight in (0, 1).
        alpha: f32,
    },
}

impl Bound {
    /// The `BOUND` override of `bounds.wgsl` (shuffled batches).
    pub(crate) fn code(self) -> i64 {
        match self {
            Bound::Nwj => 0,
            Bound::Dv => 1,
            Bound::Js => 2,
            Bound::Smile { .. } => 3,
            Bound::InfoNce => 4,
            Bound::Tuba => 5,
            Bound::Mine { .. } => 6,
            Bound::AlphaInfoNce { .. } => 7,
        }
    }

    /// SMILE's clip (f32::MAX, no clip, for the others).
    pub fn tau(self) -> f32 {
        match self {
            Bound::Smile { tau } => tau,
            _ => f32::MAX,
        }
    }

    /// Whether a batch of K joint pairs and K shuffled negatives is enough (else the bound
    /// needs the whole K×K score matrix).
    pub fn supports_shuffled(self) -> bool {
        matches!(
            self,
            Bound::Nwj | Bound::Dv | Bound::Js | Bound::Smile { .. }
        )
    }

    /// Short lowercase name, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Bound::InfoNce => "infonce",
            Bound::Nwj => "nwj",
            Bound::Tuba => "tuba",
            Bound::Dv => "dv",
            Bound::Mine { .. } => "mine",
            Bound::Js => "js",
            Bound::Smile { .. } => "smile",
            Bound::AlphaInfoNce { .. } => "alpha-infonce",
        }
    }
}

/// The most `bound` can read with batches of K (InfoNCE: ln K), if it is capped.
pub fn ceiling(bound: Bound, k: usize) -> Option<f64> {
    match bound {
        Bound::InfoNce => Some((k as f64).ln()),
        _ => None,
    }
}

/// log Σ exp over `values`, max-shifted, in f64.
pub fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + values.map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// log(1 + eˣ) without overflow.
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// 1 / (1 + e⁻ˣ) without overflow.
pub fn sigmoid(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// The reference for `bounds.wgsl`: a bound's value on 2k scores (k joint, then k shuffled
/// negatives) and the gradient of its loss (−objective) with respect to each score, in f64.
///
/// Panics for a bound that needs the full score matrix (see [`Bound::supports_shuffled`]).
pub fn shuffled_value_and_grad(bound: Bound, scores: &[f32]) -> (f64, Vec<f64>) {
    assert!(
        bound.supports_shuffled(),
        "{bound:?} needs the full score matrix"
    );
    let k = scores.len() / 2;
    let kf = k as f64;
    let pos = scores[..k].iter().map(|&s| f64::from(s));
    let neg = scores[k..2 * k].iter().map(|&s| f64::from(s));
    let mean_pos = pos.clone().sum::<f64>() / kf;
    let lse_neg = log_sum_exp(neg.clone());
    let lme_neg = lse_neg - kf.ln();
    let tau = f64::from(bound.tau());
    let value = match bound {
        Bound::Nwj => mean_pos - (lme_neg - 1.0).exp(),
        Bound::Dv => mean_pos - lme_neg,
        Bound::Js => 1.0 + mean_pos - lme_neg.exp(),
        Bound::Smile { .. } => {
            mean_pos - (log_sum_exp(neg.clone().map(|s| s.clamp(-tau, tau))) - kf.ln())
        }
        _ => unreachable!("checked above"),
    };
    let mut grad = vec![0.0; 2 * k];
    for (i, (p, n)) in pos.zip(neg).enumerate() {
        let (dp, dn) = match bound {
            // The exponent is clipped as on the GPU, so a runaway score gives a finite step.
            Bound::Nwj => (-1.0 / kf, (n - 1.0 - kf.ln()).min(EXP_CLIP).exp()),
            Bound::Dv => (-1.0 / kf, (n - lse_neg).exp()),
            _ => (-sigmoid(-p) / kf, sigmoid(n) / kf),
        };
        grad[i] = dp;
        grad[k + i] = dn;
    }
    (value, grad)
}

/// The training objective L (maximised) on a shuffled batch, in f64: the value for NWJ and DV,
/// the Jensen–Shannon f-GAN objective for JS and SMILE. Its gradient is −`shuffled_value_and_grad`'s.
pub fn shuffled_objective(bound: Bound, scores: &[f32]) -> f64 {
    let k = scores.len() / 2;
    match bound {
        Bound::Js | Bound::Smile { .. } => {
            let sp_pos: f64 = scores[..k].iter().map(|&s| softplus(-f64::from(s))).sum();
            let sp_neg: f64 = scores[k..].iter().map(|&s| softplus(f64::from(s))).sum();
            -(sp_pos + sp_neg) / k as f64
        }
        _ => shuffled_value_and_grad(bound, scores).0,
    }
}

/// Exponents above this are clipped in gradients (e⁸⁰ ≈ 5.5e34, still finite in f32).
pub const EXP_CLIP: f64 = 80.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(k: usize, shift: f32) -> Vec<f32> {
        (0..2 * k)
            .map(|i| (i as f32 * 0.37).sin() * 2.0 + if i < k { shift } else { 0.0 })
            .collect()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let bounds = [Bound::Nwj, Bound::Dv, Bound::Js, Bound::Smile { tau: 5.0 }];
        for bound in bounds {
            let s = scores(7, 1.0);
            let (_, grad) = shuffled_value_and_grad(bound, &s);
            for i in 0..s.len() {
                let h = 1e-3f32;
                let mut up = s.clone();
                let mut down = s.clone();
                up[i] += h;
                down[i] -= h;
                let fd = -(shuffled_objective(bound, &up) - shuffled_objective(bound, &down))
                    / (f64::from(up[i]) - f64::from(down[i]));
                assert!(
                    (fd - grad[i]).abs() < 1e-4 * (1.0 + grad[i].abs()),
                    "{bound:?} score {i}: finite difference {fd} vs analytic {}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn values_at_known_points() {
        // All scores zero: NWJ = 0 − e⁻¹, DV = 0, JS = 1 + 0 − 1 = 0.
        let z = vec![0.0f32; 10];
        assert!((shuffled_value_and_grad(Bound::Nwj, &z).0 + (-1f64).exp()).abs() < 1e-12);
        assert!(shuffled_value_and_grad(Bound::Dv, &z).0.abs() < 1e-12);
        assert!(shuffled_value_and_grad(Bound::Js, &z).0.abs() < 1e-12);
        // SMILE with a small clip caps the partition term.
        let mut s = vec![0.0f32; 4];
        s[2] = 100.0;
        s[3] = 100.0;
        let v = shuffled_value_and_grad(Bound::Smile { tau: 1.0 }, &s).0;
        assert!((v + 1.0).abs() < 1e-12);
    }
}
