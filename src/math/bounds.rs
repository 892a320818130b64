//! The variational bounds of SPEC §2: definitions shared by both backends, and their
//! reference values and gradients in f64.

/// A variational lower bound on I(X; Y) (SPEC §2). Scores S_ij = f(x_i, y_j): the diagonal
/// scores joint pairs, the off-diagonal (or, for a shuffled batch, the K negatives) scores
/// pairs from p(x)p(y).
///
/// The black-box bounds ([`Bound::ALL`]; S⁺ the joint scores, S⁻ the others, K the batch):
///
/// | bound | value | trained on | notes |
/// |---|---|---|---|
/// | `InfoNce` | log K + mean(S_ii − LSE_row) | the value | never above ln K (reported as the ceiling); full matrix only |
/// | `Nwj` | mean S⁺ − e⁻¹ mean exp S⁻ | the value | unbiased, variance grows like e^I |
/// | `Tuba` | 1 + mean(S⁺ − b) − mean exp(S⁻ − b) | the value | learned log-baseline b(y), an MLP on y |
/// | `Dv` | mean S⁺ − log mean exp S⁻ | the value | biased gradient |
/// | `Mine { gamma }` | the DV value | EMA-corrected gradient, kept in the log domain | Belghazi et al. 2018; γ = 0.9 in SPEC |
/// | `Js` | 1 + mean S⁺ − mean exp S⁻ | JS f-GAN objective | tight read-out (the reference code reads NWJ: I − 1/e) |
/// | `Smile { tau }` | mean S⁺ − log mean exp clip(S⁻, ±τ) | JS objective | Song & Ermon 2020; the default, τ = 5 |
/// | `AlphaInfoNce { alpha }` | Poole et al. 2019's interpolated bound | the value | learned baseline; full matrix only; ceiling 1 + ln((K−1)/α) |
///
/// Which to pick:
///
/// - `Smile { tau }`: the default. Any MI, including above ln K; the lowest-variance read-out
///   of the uncapped bounds, at the price of a bias that τ trades against that variance
///   (SPEC §4's exact-critic table: batch-to-batch σ 0.70 at 10 nats against 1.35 for DV and
///   2.4 for NWJ).
/// - `InfoNce`: low variance when the MI is well below ln K: small MI, or comparing
///   representations; it can never read above ln K.
/// - `AlphaInfoNce { alpha }`: MI near or above ln K with less variance than NWJ; α moves it
///   from TUBA (α → 0: uncapped, high variance) to InfoNCE (α → 1: low variance, capped).
/// - `Nwj`: an unbiased bound when the MI is a few nats at most.
/// - `Tuba`: NWJ with a learned log-baseline b(y) that recentres the exp term for each y: less
///   variance than NWJ when the scores' scale depends on y.
/// - `Dv`: tighter than NWJ for the same critic; its gradient is biased on small batches.
/// - `Mine { gamma }`: DV with MINE's moving-average gradient correction, to reproduce MINE.
/// - `Js`: the steadiest training; its read-out has NWJ's variance, so use it for the critic
///   (Deep InfoMax style) or read the critic out with SMILE.
///
/// Past the black-box limit (no black-box bound reads reliably above ln n, McAllester &
/// Stratos 2020): `BarberAgakov` and `Multisample` use a known marginal p(y), `LautumDv` and
/// `LautumNwj` estimate the Lautum information instead of I, and `LeaveOneOut` is the upper
/// half of the sandwich with a known conditional ([`crate::losses::sandwich`]).
///
/// Conventions: the JS bound is read out as 1 + mean S⁺ − mean exp S⁻, which is tight at the
/// JS optimum; the SMILE and VBMI reference code read it out with NWJ, which is I − 1/e there
/// (SPEC §2). SMILE clips only inside the partition term of its DV read-out and trains on the
/// JS objective.
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
    /// The leave-one-out statistic log(K−1) + mean_i (S_ii − log Σ_{j≠i} e^(S_ij)): an *upper*
    /// bound on I when the scores are the true log-densities S_ij = log p(y_i | x_j) (the
    /// sandwich of SPEC §8, [`crate::losses::sandwich`]), and no bound at all for a learned critic, so
    /// it is not in [`Bound::ALL`] and the estimator refuses it. Full matrix only.
    LeaveOneOut,
    /// Lautum information LI = KL(p(x)p(y) ‖ p(x,y)) (SPEC §8), Donsker–Varadhan with the roles
    /// of joint and product swapped: mean S⁻ − log mean exp S⁺ (optimal critic −log r + c).
    /// Estimates LI, not I.
    LautumDv,
    /// Lautum information, NWJ with the roles swapped: mean S⁻ − e⁻¹ mean exp S⁺ (optimal
    /// critic 1 − log r). Estimates LI, not I.
    LautumNwj,
    /// Barber–Agakov (SPEC §8): mean_i [log q(y_i|x_i) − log p(y_i)] with a learned
    /// diagonal-Gaussian decoder q (the critic form [`crate::math::critic::CriticForm::Decoder`]) and
    /// the known standard normal marginal p(y). Not a score bound: no ceiling at ln K or ln n.
    BarberAgakov,
    /// The multisample bound V_MS (SPEC §8): Barber–Agakov plus mean_i [f(x_i, y_i) −
    /// log(1/(K+1) Σ_{k=0..K} e^(f(x_i, y_ik)))] with K proposals y_ik ~ q(·|x_i) from the
    /// decoder (critic form [`crate::math::critic::CriticForm::DecoderCritic`]), drawn on the device;
    /// the proposals are held fixed (no gradient through them to the decoder).
    Multisample {
        /// Proposals a row, K.
        proposals: u32,
    },
}

impl Bound {
    /// The `BOUND` override of `bounds.wgsl` (shuffled batches) and `matrix_bounds.wgsl` (the
    /// full score matrix): one code a bound, so the two families cannot disagree.
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
            Bound::LeaveOneOut => 8,
            Bound::LautumDv => 9,
            Bound::LautumNwj => 10,
            Bound::BarberAgakov => 11,
            Bound::Multisample { .. } => 12,
        }
    }

    /// SMILE's clip (f32::MAX, no clip, for the others).
    pub fn tau(self) -> f32 {
        match self {
            Bound::Smile { tau } => tau,
            _ => f32::MAX,
        }
    }

    /// Whether the bound takes a learned log-baseline b(y), one value for each scored y
    /// (TUBA and α-InfoNCE), and so also returns ∂(−L)/∂b.
    pub fn needs_baseline(self) -> bool {
        matches!(self, Bound::Tuba | Bound::AlphaInfoNce { .. })
    }

    /// The largest value the bound can take on a batch of `k` joint pairs, whatever the critic
    /// (and baseline): InfoNCE's log K, and α-InfoNCE's 1 + log((K−1)/α); `None` for the bounds
    /// that are unbounded above.
    ///
    /// α-InfoNCE: interp_ij ≥ log α + loo_ij, and loo_ij (column j with row i ≠ j held out)
    /// still contains S_jj, so each joint term S_jj − interp_ij ≤ log((K−1)/α); the marginal term
    /// is ≥ 0. Both limits are approached together (S_jj ≫ b_j ≫ S_ij for i ≠ j), so this is the
    /// supremum. The log(K/α) usually quoted from Poole et al. (2019) bounds the log term
    /// alone, with the multi-sample mean over all K samples; SPEC §2's leave-one-out form has
    /// K − 1 samples, and the "1 +" of the TUBA family comes on top, so batch values pass it.
    pub fn ceiling(self, k: usize) -> Option<f64> {
        let kf = k as f64;
        match self {
            Bound::InfoNce => Some(kf.ln()),
            Bound::AlphaInfoNce { alpha } => Some(1.0 + ((kf - 1.0) / f64::from(alpha)).ln()),
            _ => None,
        }
    }

    /// Whether a batch of K joint pairs and K shuffled negatives is enough (else the bound
    /// needs the whole K×K score matrix): every bound but InfoNCE and α-InfoNCE, whose
    /// normaliser runs over the other samples of a row or column.
    pub fn supports_shuffled(self) -> bool {
        !matches!(
            self,
            Bound::InfoNce
                | Bound::AlphaInfoNce { .. }
                | Bound::LeaveOneOut
                | Bound::BarberAgakov
                | Bound::Multisample { .. }
        )
    }

    /// Every bound, in SPEC §2's order, with the default parameters: SMILE τ = 5, MINE γ = 0.9
    /// (SPEC §2), α-InfoNCE α = 0.01.
    pub const ALL: [Bound; 8] = [
        Bound::InfoNce,
        Bound::Nwj,
        Bound::Tuba,
        Bound::Dv,
        Bound::Mine { gamma: 0.9 },
        Bound::Js,
        Bound::Smile { tau: 5.0 },
        Bound::AlphaInfoNce { alpha: 0.01 },
    ];

    /// Every bound an estimate takes, in the order help lists them: the black-box bounds of
    /// [`Bound::ALL`], the Lautum bounds and the two known-density bounds (V_MS with K = 16
    /// proposals). The command line's `--bound` names come from here.
    pub const ESTIMATE: [Bound; 12] = {
        let mut out = [Bound::InfoNce; 12];
        let mut i = 0;
        while i < Bound::ALL.len() {
            out[i] = Bound::ALL[i];
            i += 1;
        }
        out[8] = Bound::LAUTUM[0];
        out[9] = Bound::LAUTUM[1];
        out[10] = Bound::BarberAgakov;
        out[11] = Bound::Multisample { proposals: 16 };
        out
    };

    /// One line on what the bound is and when to pick it, for help texts.
    pub fn about(self) -> &'static str {
        match self {
            Bound::InfoNce => "InfoNCE (van den Oord et al. 2018): low variance, never above ln K; full score matrix only",
            Bound::Nwj => "NWJ (Nguyen, Wainwright & Jordan 2010): unbiased, its variance grows like e^I",
            Bound::Tuba => "TUBA (Poole et al. 2019): NWJ with a learned log-baseline b(y)",
            Bound::Dv => "Donsker–Varadhan: tighter than NWJ, with a biased gradient on small batches",
            Bound::Mine { .. } => "MINE (Belghazi et al. 2018): DV trained with the EMA-corrected gradient",
            Bound::Js => "Jensen–Shannon objective (Deep InfoMax): the steadiest training, NWJ's variance",
            Bound::Smile { .. } => "SMILE (Song & Ermon 2020): clipped DV read-out of a JS-trained critic; any MI (the default)",
            Bound::AlphaInfoNce { .. } => "α-InfoNCE (Poole et al. 2019): from TUBA (α → 0) to InfoNCE (α → 1); full score matrix only",
            Bound::LautumDv => "Lautum information KL(p(x)p(y) ‖ p(x,y)) by DV: estimates LI, not I",
            Bound::LautumNwj => "Lautum information by NWJ: estimates LI, not I",
            Bound::BarberAgakov => "Barber–Agakov: a decoder q(y|x) and a known p(y) (--critic decoder; --log-marginal)",
            Bound::Multisample { .. } => "the multisample bound V_MS: Barber–Agakov plus a critic over 16 proposals (--critic decoder-critic)",
            Bound::LeaveOneOut => {
                "the leave-one-out upper bound: only with the true log-density as critic \
                 (the sandwich)"
            }
        }
    }

    /// The bounds on the Lautum information LI(X; Y) = KL(p(x)p(y) ‖ p(x,y)) (SPEC §8), not on
    /// I: every critic form, matrix and shuffled.
    pub const LAUTUM: [Bound; 2] = [Bound::LautumDv, Bound::LautumNwj];

    /// Whether the bound estimates the Lautum information rather than I.
    pub fn is_lautum(self) -> bool {
        matches!(self, Bound::LautumDv | Bound::LautumNwj)
    }

    /// Whether the bound uses a known density rather than a black-box critic (Barber–Agakov):
    /// the black-box limits (ln K, ln n) do not apply to it.
    pub fn knows_a_density(self) -> bool {
        matches!(self, Bound::BarberAgakov | Bound::Multisample { .. })
    }

    /// The bound of [`Bound::ESTIMATE`] that [`Bound::name`] spells `name`, with its default
    /// parameters.
    pub fn from_name(name: &str) -> Option<Bound> {
        Bound::ESTIMATE.into_iter().find(|b| b.name() == name)
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
            Bound::LeaveOneOut => "leave-one-out",
            Bound::LautumDv => "lautum-dv",
            Bound::LautumNwj => "lautum-nwj",
            Bound::BarberAgakov => "ba",
            Bound::Multisample { .. } => "ms",
        }
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

/// log(eᵃ + eᵇ) without overflow.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

/// Exponents above this are clipped in gradients (e⁸⁰ ≈ 5.5e34, still finite in f32).
pub const EXP_CLIP: f64 = 80.0;

/// Value, objective and gradients of a bound on one batch, in f64: the full K×K score matrix
/// ([`matrix_eval`]) or K joint scores followed by K shuffled negatives ([`shuffled_eval`]).
#[derive(Clone, Debug)]
pub struct MatrixBoundEval {
    /// The bound's value V (the reported estimate).
    pub value: f64,
    /// The training objective L (maximised): V, the JS objective for JS and SMILE, and MINE's
    /// surrogate mean S⁺ − Z/m_t with m_t the updated moving average.
    pub objective: f64,
    /// ∂(−L)/∂S, one entry per score (K×K row-major, or 2K for a shuffled batch).
    pub ds: Vec<f64>,
    /// ∂(−L)/∂b, one entry per baseline value; zeros when the bound has no baseline.
    pub db: Vec<f64>,
    /// MINE's updated log m_t; NaN for the other bounds.
    pub log_ema: f64,
}

/// MINE's moving average in the log domain: log m_t = logaddexp(log γ + log m_{t−1},
/// log(1−γ) + LME), with m_0 the first batch's Z (`prev` = None).
pub fn mine_log_ema(gamma: f32, prev: Option<f64>, lme: f64) -> f64 {
    let gamma = f64::from(gamma);
    match prev {
        None => lme,
        Some(prev) => log_add_exp(gamma.ln() + prev, (1.0 - gamma).ln() + lme),
    }
}

/// What [`pos_neg`] returns: the value, objective and score gradients of one batch.
struct PosNeg {
    value: f64,
    objective: f64,
    dpos: Vec<f64>,
    dneg: Vec<f64>,
    log_ema: f64,
}

/// The six bounds whose batch statistic is a mean over the joint scores `pos` against a
/// partition term over the product-of-marginals scores `neg` (the off-diagonal of the matrix,
/// or the shuffled negatives): NWJ, TUBA, DV, MINE, JS, SMILE; and the two Lautum bounds, a
/// mean over `neg` against a partition term over `pos`. TUBA's scores come with the
/// baseline already subtracted (S − b), so its gradient with respect to b is minus this one.
fn pos_neg(bound: Bound, pos: &[f64], neg: &[f64], prev_log_ema: Option<f64>) -> PosNeg {
    let kp = pos.len() as f64;
    let kn = neg.len() as f64;
    let ln_kn = kn.ln();
    let mean_pos = pos.iter().sum::<f64>() / kp;
    let lse_neg = log_sum_exp(neg.iter().copied());
    let lme_neg = lse_neg - ln_kn;
    let mean_neg = neg.iter().sum::<f64>() / kn;
    let lse_pos = log_sum_exp(pos.iter().copied());
    let lme_pos = lse_pos - kp.ln();
    let value = match bound {
        Bound::LautumDv => mean_neg - lme_pos,
        Bound::LautumNwj => mean_neg - (lme_pos - 1.0).exp(),
        Bound::Nwj => mean_pos - (lme_neg - 1.0).exp(),
        Bound::Tuba | Bound::Js => 1.0 + mean_pos - lme_neg.exp(),
        Bound::Dv | Bound::Mine { .. } => mean_pos - lme_neg,
        Bound::Smile { tau } => {
            let tau = f64::from(tau);
            mean_pos - (log_sum_exp(neg.iter().map(|s| s.clamp(-tau, tau))) - ln_kn)
        }
        Bound::InfoNce
        | Bound::AlphaInfoNce { .. }
        | Bound::LeaveOneOut
        | Bound::BarberAgakov
        | Bound::Multisample { .. } => {
            unreachable!("{bound:?} is not a joint-against-negatives bound")
        }
    };
    let log_ema = match bound {
        Bound::Mine { gamma } => mine_log_ema(gamma, prev_log_ema, lme_neg),
        _ => f64::NAN,
    };
    let objective = match bound {
        Bound::Js | Bound::Smile { .. } => {
            -pos.iter().map(|&p| softplus(-p)).sum::<f64>() / kp
                - neg.iter().map(|&n| softplus(n)).sum::<f64>() / kn
        }
        Bound::Mine { .. } => mean_pos - (lme_neg - log_ema).exp(),
        _ => value,
    };
    // The exponents are clipped as on the GPU, so a runaway score gives a finite step.
    let dneg = neg
        .iter()
        .map(|&n| match bound {
            Bound::Nwj => (n - 1.0 - ln_kn).min(EXP_CLIP).exp(),
            Bound::Tuba => (n - ln_kn).min(EXP_CLIP).exp(),
            Bound::Dv => (n - lse_neg).exp(),
            Bound::Mine { .. } => (n - ln_kn - log_ema).min(EXP_CLIP).exp(),
            Bound::LautumDv | Bound::LautumNwj => -1.0 / kn,
            _ => sigmoid(n) / kn,
        })
        .collect();
    let dpos = pos
        .iter()
        .map(|&p| match bound {
            Bound::Js | Bound::Smile { .. } => -sigmoid(-p) / kp,
            Bound::LautumDv => (p - lse_pos).exp(),
            Bound::LautumNwj => (p - 1.0 - kp.ln()).min(EXP_CLIP).exp(),
            _ => -1.0 / kp,
        })
        .collect();
    PosNeg {
        value,
        objective,
        dpos,
        dneg,
        log_ema,
    }
}

/// Checks that `baseline` is present (with `len` values) exactly when `bound` needs one, and
/// widens it to f64.
fn baseline_f64(bound: Bound, baseline: Option<&[f32]>, len: usize) -> Option<Vec<f64>> {
    match (bound.needs_baseline(), baseline) {
        (true, Some(b)) => {
            assert_eq!(b.len(), len, "{bound:?} needs {len} baseline values");
            Some(b.iter().map(|&v| f64::from(v)).collect())
        }
        (true, None) => panic!("{bound:?} needs a baseline"),
        (false, Some(_)) => panic!("{bound:?} takes no baseline"),
        (false, None) => None,
    }
}

/// log Σ exp over `v`, and for each i the same sum with v_i held out, all max-shifted, in
/// O(len). The held-out sums are exact even where one term dominates: the largest term's own
/// is a log-sum-exp shifted by the second largest, and any other term is at most half of the
/// total, so log(1 − e^(v_i − total)) loses nothing (`matrix_bounds.wgsl` does the same in f32).
fn held_out_lse(v: &[f64]) -> (f64, Vec<f64>) {
    let mut top = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[top] {
            top = i;
        }
    }
    let m1 = v[top];
    let total = m1 + v.iter().map(|&x| (x - m1).exp()).sum::<f64>().ln();
    let others = v
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != top)
        .map(|(_, &x)| x);
    let without_top = log_sum_exp(others);
    let held = v
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if i == top {
                without_top
            } else {
                total + (-(x - total).exp()).ln_1p()
            }
        })
        .collect();
    (total, held)
}

/// Value, objective and gradients of `bound` on the full K×K score matrix `s` (row-major,
/// S_ij = f(x_i, y_j)), in f64: the reference for `matrix_bounds.wgsl`.
///
/// `baseline` holds b_j = b(y_j) (K values) for the bounds that need one
/// ([`Bound::needs_baseline`]), else `None`. `prev_log_ema` is MINE's log m_{t−1} (`None` on
/// the first step, which takes m_0 = Z); the other bounds ignore it.
///
/// Panics for K < 2, a matrix that is not K×K, or a baseline where none belongs (or none where
/// one does).
pub fn matrix_eval(
    bound: Bound,
    s: &[f32],
    k: usize,
    baseline: Option<&[f32]>,
    prev_log_ema: Option<f64>,
) -> MatrixBoundEval {
    assert!(k >= 2, "the score matrix needs K ≥ 2 (off-diagonal terms)");
    assert_eq!(s.len(), k * k, "scores must be K×K");
    let b = baseline_f64(bound, baseline, k);
    let s: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
    match bound {
        Bound::InfoNce => info_nce(&s, k),
        Bound::LeaveOneOut => leave_one_out(&s, k),
        Bound::AlphaInfoNce { alpha } => {
            alpha_info_nce(&s, b.as_deref().expect("checked"), k, f64::from(alpha))
        }
        _ => {
            let bj = |j: usize| b.as_ref().map_or(0.0, |b| b[j]);
            let pos: Vec<f64> = (0..k).map(|i| s[i * k + i] - bj(i)).collect();
            let off = || (0..k * k).filter(|&e| e / k != e % k);
            let neg: Vec<f64> = off().map(|e| s[e] - bj(e % k)).collect();
            let r = pos_neg(bound, &pos, &neg, prev_log_ema);
            let mut ds = vec![0.0; k * k];
            for (i, d) in r.dpos.iter().enumerate() {
                ds[i * k + i] = *d;
            }
            for (e, d) in off().zip(&r.dneg) {
                ds[e] = *d;
            }
            let mut db = vec![0.0; k];
            if bound == Bound::Tuba {
                // ∂(−L)/∂b_j = 1/K − Σ_{i≠j} e^(S_ij − b_j) / (K(K−1)): the column's sum as
                // one max-shifted exponent, clipped like the score gradients.
                let ln_n = ((k * (k - 1)) as f64).ln();
                for (j, d) in db.iter_mut().enumerate() {
                    let col = (0..k).filter(|&i| i != j).map(|i| s[i * k + j] - bj(j));
                    *d = 1.0 / k as f64 - (log_sum_exp(col) - ln_n).min(EXP_CLIP).exp();
                }
            }
            MatrixBoundEval {
                value: r.value,
                objective: r.objective,
                ds,
                db,
                log_ema: r.log_ema,
            }
        }
    }
}

/// InfoNCE on the full matrix: log K + mean_i (S_ii − LSE_row(i)).
fn info_nce(s: &[f64], k: usize) -> MatrixBoundEval {
    let kf = k as f64;
    let mut ds = vec![0.0; k * k];
    let mut value = kf.ln();
    for (i, row) in s.chunks_exact(k).enumerate() {
        let lse = log_sum_exp(row.iter().copied());
        value += (row[i] - lse) / kf;
        for (j, &v) in row.iter().enumerate() {
            ds[i * k + j] = (v - lse).exp() / kf - if i == j { 1.0 / kf } else { 0.0 };
        }
    }
    MatrixBoundEval {
        value,
        objective: value,
        ds,
        db: vec![0.0; k],
        log_ema: f64::NAN,
    }
}

/// The leave-one-out statistic on the full matrix: log(K−1) + mean_i (S_ii − log Σ_{j≠i} e^(S_ij)),
/// with ∂(−V)/∂S_ij = −[i=j]/K + [i≠j] e^(S_ij − LSE_off(i))/K.
fn leave_one_out(s: &[f64], k: usize) -> MatrixBoundEval {
    let kf = k as f64;
    let mut ds = vec![0.0; k * k];
    let mut value = (kf - 1.0).ln();
    for (i, row) in s.chunks_exact(k).enumerate() {
        let off = row
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &v)| v);
        let lse = log_sum_exp(off);
        value += (row[i] - lse) / kf;
        for (j, &v) in row.iter().enumerate() {
            ds[i * k + j] = if i == j {
                -1.0 / kf
            } else {
                (v - lse).exp() / kf
            };
        }
    }
    MatrixBoundEval {
        value,
        objective: value,
        ds,
        db: vec![0.0; k],
        log_ema: f64::NAN,
    }
}

/// α-InfoNCE (SPEC §2) on the full matrix, with its gradients:
///
/// ∂(−V)/∂S_kj = −[k=j]/K + α/(N(K−1)) Σ_{i∉{j,k}} e^(S_kj − interp_ij)
///               + [k≠j] (1−α)/N e^(S_kj + b_j − 2 interp_jj)
/// ∂(−V)/∂b_j  = (1−α)/N (Σ_{i≠j} e^(b_j − interp_ij) − Σ_{i≠j} e^(S_ij + b_j − 2 interp_jj))
///
/// with N = K(K−1): the first sum is the joint term through each loo_ij (which holds row i
/// out, hence k ∉ {i}), the second the marginal term directly and through interp_jj. Each sum
/// over i is a held-out log-sum-exp of −interp_ij down the column, so the whole is O(K²).
fn alpha_info_nce(s: &[f64], b: &[f64], k: usize, alpha: f64) -> MatrixBoundEval {
    let kf = k as f64;
    let n = kf * (kf - 1.0);
    let (ln_a, ln_1a, ln_k1) = (alpha.ln(), (1.0 - alpha).ln(), (kf - 1.0).ln());
    let mut ds = vec![0.0; k * k];
    let mut db = vec![0.0; k];
    let (mut joint, mut marg) = (0.0, 0.0);
    for j in 0..k {
        let col: Vec<f64> = (0..k).map(|i| s[i * k + j]).collect();
        // log Σ_{l≠i} e^(S_lj) for each held-out row i; loo_ij is this − log(K−1)
        let (_, held) = held_out_lse(&col);
        let interp: Vec<f64> = held
            .iter()
            .map(|&h| log_add_exp(ln_a + h - ln_k1, ln_1a + b[j]))
            .collect();
        joint += (0..k)
            .filter(|&i| i != j)
            .map(|i| col[j] - interp[i])
            .sum::<f64>();
        marg += (held[j] - interp[j]).exp();
        // −interp_ij over rows i ≠ j (row j excluded by −∞), and the same with each row held out
        let minus: Vec<f64> = (0..k)
            .map(|i| {
                if i == j {
                    f64::NEG_INFINITY
                } else {
                    -interp[i]
                }
            })
            .collect();
        let (q, q_held) = held_out_lse(&minus);
        for (r, &v) in col.iter().enumerate() {
            ds[r * k + j] = if r == j {
                alpha / (n * (kf - 1.0)) * (v + q).exp() - 1.0 / kf
            } else {
                alpha / (n * (kf - 1.0)) * (v + q_held[r]).exp()
                    + (1.0 - alpha) / n * (v + b[j] - 2.0 * interp[j]).exp()
            };
        }
        db[j] = (1.0 - alpha) / n * ((b[j] + q).exp() - (held[j] + b[j] - 2.0 * interp[j]).exp());
    }
    let value = 1.0 + joint / n - marg / n;
    MatrixBoundEval {
        value,
        objective: value,
        ds,
        db,
        log_ema: f64::NAN,
    }
}

/// Value, objective and gradients of `bound` on a shuffled batch: `scores` holds K joint scores
/// then K negatives (f(x_i, y_π(i))), in f64: the reference for `bounds.wgsl`. `baseline`
/// holds b(y) for the 2K scored pairs' y (TUBA), in the same order; `prev_log_ema` is MINE's
/// log m_{t−1}, as for [`matrix_eval`]. `ds` and `db` have 2K entries.
///
/// Panics for a bound that needs the full score matrix ([`Bound::supports_shuffled`]) or a
/// baseline that does not match the bound.
pub fn shuffled_eval(
    bound: Bound,
    scores: &[f32],
    baseline: Option<&[f32]>,
    prev_log_ema: Option<f64>,
) -> MatrixBoundEval {
    assert!(
        bound.supports_shuffled(),
        "{bound:?} needs the full score matrix"
    );
    let k = scores.len() / 2;
    assert!(
        k >= 1 && scores.len() == 2 * k,
        "a shuffled batch holds K joint scores then K negatives"
    );
    let b = baseline_f64(bound, baseline, 2 * k);
    let shifted: Vec<f64> = scores
        .iter()
        .enumerate()
        .map(|(i, &v)| f64::from(v) - b.as_ref().map_or(0.0, |b| b[i]))
        .collect();
    let r = pos_neg(bound, &shifted[..k], &shifted[k..], prev_log_ema);
    let ds: Vec<f64> = r.dpos.into_iter().chain(r.dneg).collect();
    // The baseline enters every score as S − b, so its gradient is the scores' negated.
    let db = if b.is_some() {
        ds.iter().map(|d| -d).collect()
    } else {
        vec![0.0; 2 * k]
    };
    MatrixBoundEval {
        value: r.value,
        objective: r.objective,
        ds,
        db,
        log_ema: r.log_ema,
    }
}

/// Panics for the shuffled bounds that carry a baseline or a moving average, which the
/// stateless wrappers below cannot express.
fn assert_stateless(bound: Bound) {
    assert!(
        !bound.needs_baseline() && !matches!(bound, Bound::Mine { .. }),
        "{bound:?} carries a baseline or a moving average: use shuffled_eval"
    );
}

/// A bound's value on 2k scores (k joint, then k shuffled negatives) and the gradient of its
/// loss (−objective) with respect to each score, in f64: [`shuffled_eval`] for the bounds
/// without a baseline or a moving average.
///
/// Panics for a bound that needs the full score matrix (see [`Bound::supports_shuffled`]), for
/// TUBA and for MINE.
pub fn shuffled_value_and_grad(bound: Bound, scores: &[f32]) -> (f64, Vec<f64>) {
    assert_stateless(bound);
    let e = shuffled_eval(bound, scores, None, None);
    (e.value, e.ds)
}

/// The training objective L (maximised) on a shuffled batch, in f64: the value for NWJ and DV,
/// the Jensen–Shannon f-GAN objective for JS and SMILE. Its gradient is −`shuffled_value_and_grad`'s.
/// Panics where [`shuffled_value_and_grad`] does.
pub fn shuffled_objective(bound: Bound, scores: &[f32]) -> f64 {
    assert_stateless(bound);
    shuffled_eval(bound, scores, None, None).objective
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(k: usize, shift: f32) -> Vec<f32> {
        (0..2 * k)
            .map(|i| (i as f32 * 0.37).sin() * 2.0 + if i < k { shift } else { 0.0 })
            .collect()
    }

    /// A K×K matrix with a raised diagonal, and no two entries equal.
    fn matrix(k: usize) -> Vec<f32> {
        (0..k * k)
            .map(|e| (e as f32 * 0.61 + 0.3).sin() * 1.5 + if e / k == e % k { 1.0 } else { 0.0 })
            .collect()
    }

    fn baseline(n: usize) -> Vec<f32> {
        (0..n).map(|j| (j as f32 * 1.3).cos() * 0.8).collect()
    }

    /// Every bound SPEC §2 defines, with the parameters the tests use.
    const ALL: [Bound; 8] = [
        Bound::InfoNce,
        Bound::Nwj,
        Bound::Tuba,
        Bound::Dv,
        Bound::Mine { gamma: 0.9 },
        Bound::Js,
        Bound::Smile { tau: 1.0 },
        Bound::AlphaInfoNce { alpha: 0.3 },
    ];

    /// MINE's surrogate mean S⁺ − Z/m with m held at e^`log_m`: what its gradient follows.
    fn mine_surrogate(pos: &[f64], neg: &[f64], log_m: f64) -> f64 {
        let lme = log_sum_exp(neg.iter().copied()) - (neg.len() as f64).ln();
        pos.iter().sum::<f64>() / pos.len() as f64 - (lme - log_m).exp()
    }

    fn diag_off(s: &[f32], k: usize) -> (Vec<f64>, Vec<f64>) {
        let pos = (0..k).map(|i| f64::from(s[i * k + i])).collect();
        let neg = (0..k * k)
            .filter(|&e| e / k != e % k)
            .map(|e| f64::from(s[e]))
            .collect();
        (pos, neg)
    }

    /// Central differences of `objective` along each coordinate of `x`, checked against `grad`
    /// (which is ∂(−L)/∂x).
    fn check_fd(what: &str, x: &[f32], grad: &[f64], objective: impl Fn(&[f32]) -> f64) {
        assert_eq!(x.len(), grad.len());
        for i in 0..x.len() {
            let h = 1e-3f32;
            let mut up = x.to_vec();
            let mut down = x.to_vec();
            up[i] += h;
            down[i] -= h;
            let fd = -(objective(&up) - objective(&down)) / (f64::from(up[i]) - f64::from(down[i]));
            assert!(
                (fd - grad[i]).abs() < 1e-5 * (1.0 + grad[i].abs()),
                "{what} entry {i}: finite difference {fd} vs analytic {}",
                grad[i]
            );
        }
    }

    #[test]
    fn matrix_gradients_match_finite_differences() {
        for k in [2usize, 3, 7] {
            let s = matrix(k);
            let b = baseline(k);
            for bound in ALL {
                let base = bound.needs_baseline().then_some(&b[..]);
                // MINE on its second step, so the moving average is not just this batch's Z.
                let prev = Some(0.4);
                let e = matrix_eval(bound, &s, k, base, prev);
                let objective = |s: &[f32], base: Option<&[f32]>| match bound {
                    Bound::Mine { .. } => {
                        let (pos, neg) = diag_off(s, k);
                        mine_surrogate(&pos, &neg, e.log_ema)
                    }
                    _ => matrix_eval(bound, s, k, base, prev).objective,
                };
                check_fd(&format!("{bound:?} K={k} ds"), &s, &e.ds, |s| {
                    objective(s, base)
                });
                if bound.needs_baseline() {
                    check_fd(&format!("{bound:?} K={k} db"), &b, &e.db, |b| {
                        objective(&s, Some(b))
                    });
                } else {
                    assert!(e.db.iter().all(|&d| d == 0.0));
                }
            }
        }
    }

    #[test]
    fn shuffled_gradients_match_finite_differences() {
        for k in [1usize, 7] {
            let s = scores(k, 1.0);
            let b = baseline(2 * k);
            for bound in ALL.into_iter().filter(|b| b.supports_shuffled()) {
                let base = bound.needs_baseline().then_some(&b[..]);
                let prev = Some(-0.3);
                let e = shuffled_eval(bound, &s, base, prev);
                let objective = |s: &[f32], base: Option<&[f32]>| match bound {
                    Bound::Mine { .. } => {
                        let f: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
                        mine_surrogate(&f[..k], &f[k..], e.log_ema)
                    }
                    _ => shuffled_eval(bound, s, base, prev).objective,
                };
                check_fd(&format!("{bound:?} K={k} ds"), &s, &e.ds, |s| {
                    objective(s, base)
                });
                if bound.needs_baseline() {
                    check_fd(&format!("{bound:?} K={k} db"), &b, &e.db, |b| {
                        objective(&s, Some(b))
                    });
                }
            }
        }
    }

    #[test]
    fn stateless_wrappers_agree_with_shuffled_eval() {
        for bound in [Bound::Nwj, Bound::Dv, Bound::Js, Bound::Smile { tau: 5.0 }] {
            let s = scores(7, 1.0);
            let e = shuffled_eval(bound, &s, None, None);
            let (value, grad) = shuffled_value_and_grad(bound, &s);
            assert_eq!((value, grad), (e.value, e.ds));
            assert_eq!(shuffled_objective(bound, &s), e.objective);
        }
    }

    #[test]
    #[should_panic(expected = "use shuffled_eval")]
    fn stateless_wrappers_refuse_tuba() {
        shuffled_value_and_grad(Bound::Tuba, &[0.0; 4]);
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

    #[test]
    fn matrix_values_at_known_points() {
        let k = 5;
        let zeros = vec![0.0f32; k * k];
        let zb = vec![0.0f32; k];
        for bound in ALL {
            let base = bound.needs_baseline().then_some(&zb[..]);
            let e = matrix_eval(bound, &zeros, k, base, None);
            // All zero: every bound is 0 (InfoNCE log K − log K, α: interp = log 1), but NWJ.
            let want = if bound == Bound::Nwj {
                -(-1f64).exp()
            } else {
                0.0
            };
            assert!((e.value - want).abs() < 1e-12, "{bound:?}: {}", e.value);
            assert_eq!(e.log_ema.is_nan(), !matches!(bound, Bound::Mine { .. }));
        }
        // A constant c off the diagonal and d on it: the closed forms.
        let (c, d) = (0.5f32, 2.0f32);
        let s: Vec<f32> = (0..k * k)
            .map(|e| if e / k == e % k { d } else { c })
            .collect();
        let (c, d, kf) = (f64::from(c), f64::from(d), k as f64);
        let v = |bound| matrix_eval(bound, &s, k, None, None).value;
        let lse_row = (d.exp() + (kf - 1.0) * c.exp()).ln();
        assert!((v(Bound::InfoNce) - (kf.ln() + d - lse_row)).abs() < 1e-12);
        assert!((v(Bound::Nwj) - (d - (c - 1.0).exp())).abs() < 1e-12);
        assert!((v(Bound::Dv) - (d - c)).abs() < 1e-12);
        assert!((v(Bound::Js) - (1.0 + d - c.exp())).abs() < 1e-12);
        assert!((v(Bound::Smile { tau: 0.25 }) - (d - 0.25)).abs() < 1e-12);
        // MINE: the first step takes m_0 = Z; the next mixes in the previous average.
        let mine = Bound::Mine { gamma: 0.9 };
        let first = matrix_eval(mine, &s, k, None, None);
        assert!((first.log_ema - c).abs() < 1e-12);
        assert!((first.objective - (d - 1.0)).abs() < 1e-12);
        let next = matrix_eval(mine, &s, k, None, Some(0.0));
        let g = f64::from(0.9f32);
        let want = (g + (1.0 - g) * c.exp()).ln();
        assert!((next.log_ema - want).abs() < 1e-12);
        // TUBA with b ≡ c: 1 + (d − c) − 1.
        let b = vec![c as f32; k];
        let tuba = matrix_eval(Bound::Tuba, &s, k, Some(&b), None).value;
        assert!((tuba - (d - c)).abs() < 1e-6);
    }

    /// τ = ∞ clips nothing: SMILE's value is DV's and its objective and gradient are JS's, on
    /// the full matrix and on a shuffled batch, with scores far outside any finite clip used.
    #[test]
    fn smile_without_a_clip_reads_out_dv() {
        let smile = Bound::Smile { tau: f32::INFINITY };
        let k = 9;
        let wide: Vec<f32> = matrix(k).iter().map(|v| v * 40.0).collect();
        let pairs: Vec<f32> = scores(k, 1.0).iter().map(|v| v * 40.0).collect();
        let evals = [
            (
                matrix_eval(smile, &wide, k, None, None),
                matrix_eval(Bound::Dv, &wide, k, None, None),
                matrix_eval(Bound::Js, &wide, k, None, None),
            ),
            (
                shuffled_eval(smile, &pairs, None, None),
                shuffled_eval(Bound::Dv, &pairs, None, None),
                shuffled_eval(Bound::Js, &pairs, None, None),
            ),
        ];
        for (smile, dv, js) in evals {
            assert!(smile.value.is_finite(), "{}", smile.value);
            assert!((smile.value - dv.value).abs() <= 1e-12 * dv.value.abs().max(1.0));
            assert_eq!(smile.objective, js.objective);
            assert_eq!(smile.ds, js.ds);
        }
        // A finite clip does bite on these scores: τ = ∞ is not a large τ by accident.
        let clipped = matrix_eval(Bound::Smile { tau: 5.0 }, &wide, k, None, None).value;
        let dv = matrix_eval(Bound::Dv, &wide, k, None, None).value;
        assert!((clipped - dv).abs() > 1.0, "{clipped} vs {dv}");
    }

    #[test]
    fn held_out_sums_match_brute_force_even_when_one_term_dominates() {
        let cases: [&[f64]; 4] = [
            &[0.3, -1.2, 2.5, 0.0, 1.1],
            &[40.0, 0.0, -3.0],
            &[0.0, 800.0, 1.0, 2.0],
            &[f64::NEG_INFINITY, 1.0, 1.0],
        ];
        for v in cases {
            let (total, held) = held_out_lse(v);
            assert!((total - log_sum_exp(v.iter().copied())).abs() < 1e-12);
            for (i, h) in held.iter().enumerate() {
                let brute = log_sum_exp(
                    v.iter()
                        .enumerate()
                        .filter(|&(l, _)| l != i)
                        .map(|(_, &x)| x),
                );
                assert!(
                    (h - brute).abs() < 1e-12 * brute.abs().max(1.0),
                    "{v:?} without {i}: {h} vs {brute}"
                );
            }
        }
    }

    /// α-InfoNCE straight from SPEC §2's definition, O(K³), against the O(K²) evaluation.
    #[test]
    fn alpha_infonce_matches_its_definition() {
        let k = 6;
        let alpha = 0.3;
        let s: Vec<f64> = matrix(k).iter().map(|&v| f64::from(v)).collect();
        let b: Vec<f64> = baseline(k).iter().map(|&v| f64::from(v)).collect();
        let loo = |i: usize, j: usize| {
            log_sum_exp((0..k).filter(|&l| l != i).map(|l| s[l * k + j])) - ((k - 1) as f64).ln()
        };
        let interp =
            |i: usize, j: usize| (alpha * loo(i, j).exp() + (1.0 - alpha) * b[j].exp()).ln();
        let n = (k * (k - 1)) as f64;
        let (mut joint, mut marg) = (0.0, 0.0);
        for i in 0..k {
            for j in (0..k).filter(|&j| j != i) {
                joint += (s[j * k + j] - interp(i, j)) / n;
                marg += (s[i * k + j] - interp(j, j)).exp() / n;
            }
        }
        let s32: Vec<f32> = s.iter().map(|&v| v as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let e = matrix_eval(
            Bound::AlphaInfoNce { alpha: 0.3 },
            &s32,
            k,
            Some(&b32),
            None,
        );
        let want = 1.0 + joint - marg;
        assert!((e.value - want).abs() < 1e-6, "{} vs {want}", e.value);
    }

    #[test]
    fn every_estimable_bound_has_a_name_and_a_line_of_help() {
        for b in Bound::ESTIMATE {
            assert_eq!(Bound::from_name(b.name()), Some(b));
            assert!(!b.about().is_empty(), "{b:?}");
        }
        assert_eq!(Bound::from_name("leave-one-out"), None);
    }

    #[test]
    fn ceilings_hold_and_are_approached() {
        for k in [2usize, 5, 64] {
            let kf = k as f64;
            assert_eq!(Bound::InfoNce.ceiling(k), Some(kf.ln()));
            assert_eq!(Bound::Nwj.ceiling(k), None);
            // A critic that singles out every joint pair, with a baseline far above the
            // off-diagonal scores and far below the diagonal: both bounds near their ceiling.
            let s: Vec<f32> = (0..k * k)
                .map(|e| if e / k == e % k { 60.0 } else { 0.0 })
                .collect();
            let b = vec![20.0f32; k];
            let infonce = matrix_eval(Bound::InfoNce, &s, k, None, None).value;
            assert!(infonce <= kf.ln() && infonce > kf.ln() - 1e-9);
            for alpha in [0.01f32, 0.5, 0.99] {
                let bound = Bound::AlphaInfoNce { alpha };
                let ceiling = bound.ceiling(k).unwrap();
                let v = matrix_eval(bound, &s, k, Some(&b), None).value;
                assert!(
                    v <= ceiling && v > ceiling - 1e-6,
                    "{bound:?} K={k}: {v} vs {ceiling}"
                );
                assert!(v > (kf / f64::from(alpha)).ln(), "log(K/α) is passed");
                // Random critics and baselines never pass it.
                for salt in 0..20 {
                    let s: Vec<f32> = (0..k * k)
                        .map(|e| ((e * 7 + salt * 13) as f32 * 0.9).sin() * 8.0)
                        .collect();
                    let b: Vec<f32> = (0..k).map(|j| ((j + salt) as f32).cos() * 8.0).collect();
                    assert!(matrix_eval(bound, &s, k, Some(&b), None).value <= ceiling);
                }
            }
        }
    }
}
