//! e^x and ln x in f32 for the fast backend's loops: the standard library calls libm, one
//! element at a time, which is what made the bound ops the slowest part of a step. These are
//! Cephes' `expf` and `logf` written without branches (selects instead), so a loop over them
//! vectorises; both are within 2 ulp on their normal range.

/// 1.5 · 2²³: adding and subtracting it rounds an f32 below 2²² to the nearest integer
/// (ties to even) without a call, so the rounding vectorises where `f32::round` would not.
const ROUND: f32 = 12_582_912.0;

/// e^x: 0 below −87.3 (where e^x leaves the normal range), +∞ above 88.72, NaN for NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so n·ln 2 is exact in the high part.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Clamped so that 2ⁿ below stays a normal f32 (n in [−126, 127]).
    let xc = x.clamp(-87.336_54, 88.0);
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    // n as an integer from t's bits (t = 1.5·2²³ + n exactly): a float-to-int `as` saturates
    // NaN, which the compiler does lane by lane, where a bit cast vectorises.
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let scale = f32::from_bits((ni.wrapping_add(127) as u32) << 23);
    let v = y * scale;
    let v = if x > 88.722_83 { f32::INFINITY } else { v };
    if x < -87.336_54 {
        0.0
    } else {
        v
    }
}

/// ln x: −∞ at 0, NaN below 0 and for NaN, +∞ at +∞ (subnormal x lose precision).
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    // x = m · 2^e with m in [0.5, 1).
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let low = m < SQRT_HALF;
    e = if low { e - 1 } else { e };
    m = if low { m + m - 1.0 } else { m - 1.0 };
    let ef = e as f32;
    let z = m * m;
    let mut p = 7.037_683_6e-2_f32;
    p = p * m - 1.151_461e-1;
    p = p * m + 1.167_699_9e-1;
    p = p * m - 1.242_014_1e-1;
    p = p * m + 1.424_932_3e-1;
    p = p * m - 1.666_805_8e-1;
    p = p * m + 2.000_071_4e-1;
    p = p * m - 2.499_999_4e-1;
    p = p * m + 3.333_333e-1;
    let mut y = p * m * z;
    y += -2.121_944_4e-4 * ef;
    y += -0.5 * z;
    let v = m + y + 0.693_359_4 * ef;
    let v = if x == f32::INFINITY { x } else { v };
    let v = if x == 0.0 { f32::NEG_INFINITY } else { v };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        v
    }
}

/// log(1 + eˣ) without overflow.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln(1.0 + exp(-x.abs()))
}

/// 1 / (1 + e⁻ˣ) without overflow.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x >= 0.0 {
        r
    } else {
        e * r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_and_ln_are_within_a_few_ulp() {
        let mut worst = (0, 0);
        for i in 0..200_000 {
            let x = -87.0 + 175.0 * i as f32 / 200_000.0;
            let e = ulps(exp(x), (f64::from(x).exp()) as f32);
            worst.0 = worst.0.max(e);
            let y = 1e-30 * 1.0007f32.powi(i / 2) + i as f32;
            let l = ulps(ln(y), (f64::from(y).ln()) as f32);
            // ln near 1 is near 0: compare absolutely there.
            if (f64::from(y).ln()).abs() > 1e-3 {
                worst.1 = worst.1.max(l);
            }
        }
        assert!(worst.0 <= 3 && worst.1 <= 3, "{worst:?}");
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(0.0), f32::NEG_INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f32::NAN).is_nan());
        assert_eq!(ln(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln(1.0), 0.0);
        assert!((softplus(100.0) - 100.0).abs() < 1e-5 && softplus(-100.0) >= 0.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7 && sigmoid(-200.0) == 0.0);
    }
}
