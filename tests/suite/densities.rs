//! Exact log densities of the suite's Gaussian and Student-t laws, written here independently
//! of the library's closed forms, and the Monte-Carlo MI E[ln p(x,y) − ln p(x) − ln p(y)].

use infobound::experiments::suite::{Law, Task};

/// The lower Cholesky factor of the symmetric positive-definite m × m matrix `a`.
pub fn cholesky(a: &[f64], m: usize) -> Vec<f64> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * m + k] * l[j * m + k]).sum();
            if i == j {
                let v = a[i * m + i] - s;
                assert!(v > 0.0, "not positive definite");
                l[i * m + i] = v.sqrt();
            } else {
                l[i * m + j] = (a[i * m + j] - s) / l[j * m + j];
            }
        }
    }
    l
}

/// A zero-mean elliptical law's shape: the factor of its covariance (dispersion).
pub struct Shape {
    m: usize,
    l: Vec<f64>,
    log_det: f64,
}

impl Shape {
    /// The principal block [lo, hi)² of the (dx+dy)² matrix `a`.
    pub fn block(a: &[f64], total: usize, lo: usize, hi: usize) -> Self {
        let m = hi - lo;
        let b: Vec<f64> = (lo..hi)
            .flat_map(|i| (lo..hi).map(move |j| a[i * total + j]))
            .collect();
        let l = cholesky(&b, m);
        let log_det = 2.0 * (0..m).map(|i| l[i * m + i].ln()).sum::<f64>();
        Self { m, l, log_det }
    }

    /// vᵀ Σ⁻¹ v by forward substitution.
    fn quad(&self, v: &[f64]) -> f64 {
        let m = self.m;
        let mut u = vec![0.0; m];
        for i in 0..m {
            let s: f64 = (0..i).map(|k| self.l[i * m + k] * u[k]).sum();
            u[i] = (v[i] - s) / self.l[i * m + i];
        }
        u.iter().map(|a| a * a).sum()
    }

    /// ln N(v; 0, Σ).
    pub fn ln_normal(&self, v: &[f64]) -> f64 {
        let k = self.m as f64;
        -0.5 * self.quad(v) - 0.5 * self.log_det - 0.5 * k * (2.0 * std::f64::consts::PI).ln()
    }

    /// ln t_ν(v; 0, Σ): ln Γ((ν+k)/2) − ln Γ(ν/2) − (k/2) ln(νπ) − ½ ln det Σ
    /// − ((ν+k)/2) ln(1 + vᵀΣ⁻¹v / ν).
    pub fn ln_student(&self, nu: f64, v: &[f64]) -> f64 {
        let k = self.m as f64;
        statrs::function::gamma::ln_gamma(0.5 * (nu + k))
            - statrs::function::gamma::ln_gamma(0.5 * nu)
            - 0.5 * k * (nu * std::f64::consts::PI).ln()
            - 0.5 * self.log_det
            - 0.5 * (nu + k) * (1.0 + self.quad(v) / nu).ln()
    }
}

/// The Monte-Carlo MI of a Gaussian or Student-t task from n of its own draws (seed `seed`):
/// the mean of ln p(x,y) − ln p(x) − ln p(y) and its standard error.
pub fn monte_carlo_mi(task: &Task, n: usize, seed: u64) -> (f64, f64) {
    let (dx, dy) = task.dims();
    let m = dx + dy;
    let (sigma, nu) = match task.law() {
        Law::Gaussian { cov } => (cov.clone(), None),
        Law::StudentT { nu, dispersion } => (dispersion.clone(), Some(f64::from(*nu))),
        other => panic!("no density for {other:?}"),
    };
    let (joint, sx, sy) = (
        Shape::block(&sigma, m, 0, m),
        Shape::block(&sigma, m, 0, dx),
        Shape::block(&sigma, m, dx, m),
    );
    let ln_p = |s: &Shape, v: &[f64]| match nu {
        None => s.ln_normal(v),
        Some(nu) => s.ln_student(nu, v),
    };
    let (x, y) = task.sample(n, seed).unwrap();
    let mut v = vec![0.0; m];
    let terms: Vec<f64> = (0..n)
        .map(|r| {
            for (c, vc) in v.iter_mut().enumerate() {
                *vc = f64::from(if c < dx {
                    x[r * dx + c]
                } else {
                    y[r * dy + c - dx]
                });
            }
            ln_p(&joint, &v) - ln_p(&sx, &v[..dx]) - ln_p(&sy, &v[dx..])
        })
        .collect();
    let mean = terms.iter().sum::<f64>() / n as f64;
    let var = terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, (var / n as f64).sqrt())
}
