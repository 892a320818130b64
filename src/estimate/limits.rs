//! The formal limits of black-box bounds, made visible (SPEC §8; McAllester & Stratos 2020): InfoNCE never
//! reads above ln K (K the batch), and no distribution-free lower bound computed from n
//! samples can reliably read far above ln n (McAllester & Stratos 2020), whatever the true I. An
//! estimate near either ceiling says more about the sample size than about I.

use crate::math::bounds::Bound;

/// How close (nats) an estimate may come to ln K or ln n before the report warns. InfoNCE
/// reads about ln K − 1 already when I = ln K, so a tighter margin would warn too late.
pub const LIMIT_MARGIN_NATS: f64 = 1.0;

/// The warnings for a black-box estimate `mi` (nats) of `bound` trained with batches of
/// `batch` pairs on `n` samples: one when InfoNCE is within [`LIMIT_MARGIN_NATS`] of ln K, one
/// when any black-box bound is within it of ln n. Empty when neither limit is near.
/// The Lautum bounds estimate another quantity, to which these limits are not known to apply,
/// and Barber–Agakov knows p(y), which escapes them: none for those.
pub fn black_box_warnings(bound: Bound, mi: f64, batch: usize, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    if bound.is_lautum() || bound.knows_a_density() {
        return out;
    }
    if let Some(c) = bound.ceiling(batch) {
        if mi > c - LIMIT_MARGIN_NATS {
            let form = match bound {
                Bound::InfoNce => "ln K",
                _ => "1 + ln((K − 1)/α)",
            };
            out.push(format!(
                "the estimate {mi:.3} is within {LIMIT_MARGIN_NATS} nat of {}'s ceiling {form} = \
                 {c:.3} (K = {batch}, the batch): the true MI may be far higher; raise the batch, \
                 or use a bound that knows a density (infobound::Sandwich)",
                bound.name()
            ));
        }
    }
    let ln_n = (n as f64).ln();
    if mi > ln_n - LIMIT_MARGIN_NATS {
        out.push(format!(
            "the estimate {mi:.3} is within {LIMIT_MARGIN_NATS} nat of ln n = {ln_n:.3} \
             (n = {n} samples): no black-box bound can read reliably above that \
             (McAllester & Stratos), so the true MI may be far higher"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_near_ln_k_for_infonce_only() {
        // ln 64 = 4.16
        let near = black_box_warnings(Bound::InfoNce, 3.5, 64, 100_000);
        assert_eq!(near.len(), 1);
        assert!(near[0].contains("ln K = 4.159"), "{}", near[0]);
        assert!(near[0].contains("far higher"));
        assert!(black_box_warnings(Bound::InfoNce, 3.0, 64, 100_000).is_empty());
        assert!(black_box_warnings(Bound::Smile { tau: 5.0 }, 3.5, 64, 100_000).is_empty());
    }

    #[test]
    fn warns_near_ln_n_for_every_bound() {
        // ln 1000 = 6.91
        for bound in Bound::ALL {
            let w = black_box_warnings(bound, 6.2, 100_000, 1000);
            assert!(
                w.iter().any(|m| m.contains("ln n = 6.908")),
                "{bound:?}: {w:?}"
            );
            assert!(black_box_warnings(bound, 5.5, 100_000, 1000).is_empty());
        }
        // Both at once: InfoNCE with K = n.
        assert_eq!(black_box_warnings(Bound::InfoNce, 6.5, 1000, 1000).len(), 2);
    }
}
