//! The multivariate Student-t law of bmi's `SplitStudentT` (Czyż et al., 2023, "Beyond normal"):
//! its mutual information in closed form, its dispersion matrices and its sampler.
//!
//! A k-dimensional t with ν degrees of freedom and dispersion Σ is z / √(w/ν) with
//! z ~ N(0, Σ) and an independent w ~ χ²_ν. Its marginals are t laws with the same ν and the
//! sub-blocks of Σ, and its entropy is (Arellano-Valle, Contreras-Reyes & Genton 2013, eq. 7;
//! bmi's `_differential_entropy`)
//!
//! h_k = ½ ln det Σ + ln Γ(ν/2) + (k/2) ln(νπ) − ln Γ((ν+k)/2)
//!       + ((ν+k)/2) [ψ((ν+k)/2) − ψ(ν/2)].
//!
//! I(X; Y) = h_dx + h_dy − h_(dx+dy). The ½ ln det terms give the Gaussian MI of Σ; the
//! (k/2) ln(νπ) terms cancel (dx + dy − (dx + dy) = 0); ln Γ(ν/2) appears 1 + 1 − 1 = once and
//! −(1/2)ψ(ν/2) with weight (ν+dx) + (ν+dy) − (ν+dx+dy) = ν. With f(a) = ln Γ(a/2) − (a/2) ψ(a/2):
//!
//! I = I_Gauss(Σ) + c(ν, dx, dy),  c = f(ν) + f(ν+dx+dy) − f(ν+dx) − f(ν+dy).
//!
//! This is bmi's `mi_correction_function` (h_x + h_y − h_xy of unit-dispersion t laws) written
//! out. `tests/suite.rs` checks it against E[ln p(x,y) − ln p(x) − ln p(y)] over draws of
//! [`sample`] with the exact t densities.

use super::special::{digamma, ln_gamma};
use crate::estimate::validate::setting;
use crate::experiments::tasks::gaussian_with_covariance;
use crate::math::rng::{normal_f32, Purpose};
use crate::Error;

/// Step word, under [`Purpose::Gaussian`] and the task's own key, of the normals whose squares
/// make the χ² draws (z uses step word 0 through [`gaussian_with_covariance`]).
pub const STREAM_CHI_SQUARE: u32 = 16;

/// The smallest χ² draw used. A draw of exactly 0 (at ν = 1, a Box–Muller radius of 0:
/// probability 2⁻²⁴ a row) would make the row infinite; flooring it keeps every value finite
/// (at most ~1e10 times z); a nonzero draw that small needs two 2⁻²⁴-probability words at once.
const MIN_CHI_SQUARE: f64 = 1e-20;

/// f(a) = ln Γ(a/2) − (a/2) ψ(a/2), the building block of [`correction`].
fn f(a: f64) -> f64 {
    ln_gamma(0.5 * a) - 0.5 * a * digamma(0.5 * a)
}

/// c(ν, dx, dy) = f(ν) + f(ν+dx+dy) − f(ν+dx) − f(ν+dy) (module docs): the nats a t law with
/// ν degrees of freedom adds to the Gaussian MI of its dispersion. Positive, and → 0 as ν → ∞.
/// For ν = 1, dx = dy = 1 it is 0.2242, the MI of bmi's "Student-t 1 × 1 (dof=1)".
pub fn correction(nu: f64, dx: usize, dy: usize) -> f64 {
    let (dx, dy) = (dx as f64, dy as f64);
    f(nu) + f(nu + dx + dy) - f(nu + dx) - f(nu + dy)
}

/// I(X; Y) in nats of the t law with ν degrees of freedom and dispersion `dispersion` over
/// [x; y] ((dx+dy)², row-major): the Gaussian MI of the dispersion plus [`correction`].
pub fn mutual_information(nu: f64, dispersion: &[f64], dx: usize, dy: usize) -> Result<f64, Error> {
    if !(nu.is_finite() && nu > 0.0) {
        return Err(setting("a Student-t law's degrees of freedom ν", "positive", nu).into());
    }
    Ok(
        crate::experiments::tasks::gaussian_mi_from_covariance(dispersion, dx, dy)?
            + correction(nu, dx, dy),
    )
}

/// The dispersion [[I, ρI], [ρI, I]] over [x; y] with x, y of dimension d: each x_i is paired
/// with y_i at dispersion correlation ρ and nothing else. ρ = 0 is bmi's "student-identity"
/// (the MI is then the correction alone).
pub fn paired_dispersion(d: usize, rho: f64) -> Vec<f64> {
    let m = 2 * d;
    let mut s = vec![0.0; m * m];
    for i in 0..m {
        s[i * m + i] = 1.0;
    }
    for i in 0..d {
        s[i * m + d + i] = rho;
        s[(d + i) * m + i] = rho;
    }
    s
}

/// n rows of the t law with ν (an integer ≥ 1) degrees of freedom and dispersion Σ over
/// [x; y]: z ~ N(0, Σ) from [`gaussian_with_covariance`] (key `seed`, step word 0), and per row
/// w = Σₖ gₖ² over ν normals gₖ (step word [`STREAM_CHI_SQUARE`], index row·ν + k), an exact
/// χ²_ν for integer ν; the row is z / √(w/ν). Returns (x: n × dx, y: n × dy), row-major.
pub fn sample(
    nu: u32,
    dispersion: &[f64],
    dx: usize,
    dy: usize,
    n: usize,
    seed: u64,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    if nu == 0 {
        return Err(setting(
            "a Student-t sampler's degrees of freedom ν",
            "at least 1",
            nu,
        )
        .into());
    }
    let (mut x, mut y) = gaussian_with_covariance(dispersion, dx, dy, n, seed)?;
    let k = nu as usize;
    for row in 0..n {
        let w: f64 = (0..k)
            .map(|j| {
                let g = f64::from(normal_f32(
                    seed,
                    Purpose::Gaussian,
                    STREAM_CHI_SQUARE,
                    (row * k + j) as u32,
                ));
                g * g
            })
            .sum();
        let scale = 1.0 / (w.max(MIN_CHI_SQUARE) / f64::from(nu)).sqrt();
        for v in x[row * dx..(row + 1) * dx]
            .iter_mut()
            .chain(&mut y[row * dy..(row + 1) * dy])
        {
            *v = (f64::from(*v) * scale) as f32;
        }
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_matches_bmi_and_its_limits() {
        // bmi's Student-t 1 × 1 (dof = 1): 0.224 nats (issue 16's example).
        assert!((correction(1.0, 1, 1) - 0.2242).abs() < 5e-5);
        // Positive, falling in ν, rising in the dimensions.
        for d in [1, 2, 3, 5] {
            let c: Vec<f64> = [1.0, 2.0, 3.0, 5.0, 30.0]
                .iter()
                .map(|&nu| correction(nu, d, d))
                .collect();
            assert!(c.iter().all(|&v| v > 0.0), "{c:?}");
            assert!(c.windows(2).all(|w| w[1] < w[0]), "{c:?}");
        }
        assert!(correction(1.0, 2, 2) > correction(1.0, 1, 1));
        // ν → ∞: the t law tends to the Gaussian.
        assert!(correction(1e6, 3, 3).abs() < 1e-4);
        assert!((correction(2.0, 1, 3) - correction(2.0, 3, 1)).abs() < 1e-15);
    }

    #[test]
    fn identity_dispersion_mi_is_the_correction() {
        let s = paired_dispersion(2, 0.0);
        let mi = mutual_information(3.0, &s, 2, 2).unwrap();
        assert!((mi - correction(3.0, 2, 2)).abs() < 1e-12);
        let s = paired_dispersion(3, 0.5);
        let want = -1.5 * (1.0f64 - 0.25).ln() + correction(5.0, 3, 3);
        assert!((mutual_information(5.0, &s, 3, 3).unwrap() - want).abs() < 1e-12);
        assert!(mutual_information(0.0, &s, 3, 3).is_err());
        assert!(mutual_information(f64::NAN, &s, 3, 3).is_err());
        assert!(sample(0, &s, 3, 3, 10, 0).is_err());
    }
}
