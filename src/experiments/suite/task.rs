//! A task: a named joint law with a known I(X; Y) and a seeded sampler.

use super::maps::{Map, Side};
use super::seed::task_seed;
use super::{gaussian, student};
use crate::estimate::validate::setting;
use crate::experiments::tasks::{
    additive_uniform, additive_uniform_mi, gaussian_mi_from_covariance, gaussian_with_covariance,
};
use crate::Error;

/// The joint law of a task.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Law {
    /// Zero-mean Gaussian with this covariance over [x; y] ((dx+dy)², row-major).
    Gaussian {
        /// The covariance.
        cov: Vec<f64>,
    },
    /// Multivariate Student-t ([`student`]) with `nu` degrees of freedom and this dispersion.
    StudentT {
        /// Degrees of freedom (an integer, so that χ²_ν is a sum of ν squared normals).
        nu: u32,
        /// The dispersion over [x; y] (not the covariance, which is ν/(ν−2) times it for ν > 2).
        dispersion: Vec<f64>,
    },
    /// [`crate::experiments::tasks::additive_uniform`]: x ~ U(0, 1), y = x + U(−ε, ε), per coordinate.
    AdditiveUniform {
        /// The noise half-width ε.
        eps: f64,
    },
    /// A Gaussian or Student-t base with an invertible [`Map`] applied to x and y: the same MI.
    Mapped {
        /// The base law (Gaussian or Student-t).
        base: Box<Law>,
        /// The map.
        map: Map,
    },
}

/// A named task with a known MI: the law, the dimensions and the truth, checked when built.
/// Build one with the constructors ([`Task::gaussian_dense`], …) or take the grids of
/// [`super::grid`].
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    name: String,
    dx: usize,
    dy: usize,
    law: Law,
    truth: f64,
}

impl Task {
    /// bmi's "multinormal-dense" d × d task ([`gaussian::dense_covariance`], correlation
    /// 0.5 between every two coordinates), named `gauss-dense-DxD`.
    pub fn gaussian_dense(d: usize) -> Result<Self, Error> {
        let cov = gaussian::dense_covariance(d, d, 0.5);
        Self::gaussian(format!("gauss-dense-{d}x{d}"), cov, d, d)
    }

    /// bmi's "multinormal-sparse" d × d task ([`gaussian::sparse_covariance`]: min(2, d) pairs
    /// at correlation 0.8, the rest independent), named `gauss-sparse-DxD`.
    pub fn gaussian_sparse(d: usize) -> Result<Self, Error> {
        let cov = gaussian::sparse_covariance(d, d, 2, 2.0);
        Self::gaussian(format!("gauss-sparse-{d}x{d}"), cov, d, d)
    }

    /// A Gaussian task with any positive-definite covariance over [x; y].
    pub fn gaussian(name: String, cov: Vec<f64>, dx: usize, dy: usize) -> Result<Self, Error> {
        let truth = gaussian_mi_from_covariance(&cov, dx, dy)?;
        Ok(Self::new(name, dx, dy, Law::Gaussian { cov }, truth))
    }

    /// A d × d Student-t task with ν degrees of freedom and dispersion [[I, ρI], [ρI, I]]
    /// ([`student::paired_dispersion`]): named `student-DxD-nuV` (`student-identity-DxD-nuV`
    /// at ρ = 0, bmi's "student-identity").
    pub fn student(nu: u32, d: usize, rho: f64) -> Result<Self, Error> {
        let name = if rho == 0.0 {
            format!("student-identity-{d}x{d}-nu{nu}")
        } else {
            format!("student-{d}x{d}-nu{nu}")
        };
        Self::student_t(name, nu, student::paired_dispersion(d, rho), d, d)
    }

    /// A Student-t task with ν ≥ 1 degrees of freedom and any positive-definite dispersion.
    pub fn student_t(
        name: String,
        nu: u32,
        dispersion: Vec<f64>,
        dx: usize,
        dy: usize,
    ) -> Result<Self, Error> {
        if nu == 0 {
            return Err(
                setting("a Student-t task's degrees of freedom ν", "at least 1", nu).into(),
            );
        }
        let truth = student::mutual_information(f64::from(nu), &dispersion, dx, dy)?;
        Ok(Self::new(
            name,
            dx,
            dy,
            Law::StudentT { nu, dispersion },
            truth,
        ))
    }

    /// bmi's "additive noise" 1 × 1 task at ε > 0 ([`crate::experiments::tasks::additive_uniform`]), named
    /// `uniform-noise-EPS`.
    pub fn additive_uniform(eps: f64) -> Result<Self, Error> {
        if !(eps.is_finite() && eps > 0.0) {
            return Err(setting(
                "the additive-uniform task's noise half-width ε",
                "positive",
                eps,
            )
            .into());
        }
        let law = Law::AdditiveUniform { eps };
        Ok(Self::new(
            format!("uniform-noise-{eps}"),
            1,
            1,
            law,
            additive_uniform_mi(eps),
        ))
    }

    /// `base` (a Gaussian or Student-t task) with `map` applied to x and y, named
    /// `MAP-BASENAME`; the MI is the base's.
    pub fn mapped(base: &Task, map: Map) -> Result<Self, Error> {
        if !matches!(base.law, Law::Gaussian { .. } | Law::StudentT { .. }) {
            return Err(setting(
                "a map's base task",
                "a Gaussian or Student-t task",
                &base.name,
            )
            .into());
        }
        let (mx, my) = map.min_dims();
        if base.dx < mx || base.dy < my {
            return Err(setting(
                "a map's task dimensions",
                "at least the map's (half-cube, asinh, Φ, wiggly: 1 × 1; spiral: 2 × 1)",
                format!("{} × {} for the {} map", base.dx, base.dy, map.name()),
            )
            .into());
        }
        let law = Law::Mapped {
            base: Box::new(base.law.clone()),
            map,
        };
        Ok(Self::new(
            format!("{}-{}", map.name(), base.name),
            base.dx,
            base.dy,
            law,
            base.truth,
        ))
    }

    fn new(name: String, dx: usize, dy: usize, law: Law, truth: f64) -> Self {
        Self {
            name,
            dx,
            dy,
            law,
            truth,
        }
    }

    /// The task's name (also what its draws are keyed by, see [`super::seed`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// (dx, dy).
    pub fn dims(&self) -> (usize, usize) {
        (self.dx, self.dy)
    }

    /// The joint law.
    pub fn law(&self) -> &Law {
        &self.law
    }

    /// The true I(X; Y) in nats.
    pub fn true_mi(&self) -> f64 {
        self.truth
    }

    /// n rows of the task, (x: n × dx, y: n × dy) row-major, a pure function of (task, n,
    /// seed): drawn under the key [`task_seed`]`(seed, name)`, so two tasks never share draws.
    /// Fails when n · (dx + dy) or n · ν does not fit the u32 draw index.
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>), Error> {
        let per_row = match &self.law {
            Law::StudentT { nu, .. } => (self.dx + self.dy).max(*nu as usize),
            Law::Mapped { base, .. } => match **base {
                Law::StudentT { nu, .. } => (self.dx + self.dy).max(nu as usize),
                _ => self.dx + self.dy,
            },
            _ => self.dx + self.dy,
        };
        if n.checked_mul(per_row).is_none_or(|t| t > u32::MAX as usize) {
            return Err(setting("a task's rows", "at most what a u32 draw index holds", n).into());
        }
        sample_law(&self.law, self.dx, self.dy, n, task_seed(seed, &self.name))
    }
}

/// n rows of `law` under the key `key`.
fn sample_law(
    law: &Law,
    dx: usize,
    dy: usize,
    n: usize,
    key: u64,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    match law {
        Law::Gaussian { cov } => gaussian_with_covariance(cov, dx, dy, n, key),
        Law::StudentT { nu, dispersion } => student::sample(*nu, dispersion, dx, dy, n, key),
        Law::AdditiveUniform { eps } => Ok(additive_uniform(dx, *eps, n, key)),
        Law::Mapped { base, map } => {
            let (mut x, mut y) = sample_law(base, dx, dy, n, key)?;
            let m = dx + dy;
            let scale: Vec<f64> = match &**base {
                Law::Gaussian { cov: s } | Law::StudentT { dispersion: s, .. } => {
                    (0..m).map(|i| s[i * m + i].sqrt()).collect()
                }
                _ => vec![1.0; m],
            };
            map_rows(&mut x, dx, *map, Side::X, &scale[..dx]);
            map_rows(&mut y, dy, *map, Side::Y, &scale[dx..]);
            Ok((x, y))
        }
    }
}

/// Applies `map` to every row of the n × d matrix `v`, in f64.
fn map_rows(v: &mut [f32], d: usize, map: Map, side: Side, scale: &[f64]) {
    let mut row = vec![0.0f64; d];
    for chunk in v.chunks_exact_mut(d) {
        for (r, c) in row.iter_mut().zip(chunk.iter()) {
            *r = f64::from(*c);
        }
        map.apply(side, &mut row, scale);
        for (c, r) in chunk.iter_mut().zip(&row) {
            *c = *r as f32;
        }
    }
}
