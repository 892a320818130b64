//! Many estimates at once: pairs of the same shape trained side by side as the replicas of one
//! batched run ([`crate::backend::Replicated`]), each pair's report the bits it would get alone.

use std::fmt;
use std::sync::Arc;

use crate::estimate::data::Matrix;
use crate::estimate::estimator::Estimator;
use crate::estimate::report::{Progress, Report};
use crate::math::bounds::Bound;
use crate::Error;

/// The most replicas one batched run trains; a larger request is split into several runs.
pub const MAX_REPLICAS_PER_RUN: usize = 256;

/// One batched run of a request: the pairs it trains (indices into the request), which share
/// rows and column widths.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchedRun {
    /// The pairs, in request order.
    pub pairs: Vec<usize>,
    /// Rows of each pair.
    pub rows: usize,
    /// Columns of x and of y.
    pub dims: (usize, usize),
    /// Replicas trained: pairs × seeds of the ensemble.
    pub replicas: usize,
}

impl fmt::Display for BatchedRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs: Vec<String> = self.pairs.iter().map(ToString::to_string).collect();
        write!(
            f,
            "pairs {} ({} × {} columns, {} rows): {} replicas",
            pairs.join(", "),
            self.dims.0,
            self.dims.1,
            self.rows,
            self.replicas
        )
    }
}

impl Estimator {
    /// How [`Self::estimate_many`] groups `pairs` into batched runs: pairs with the same rows
    /// and column widths share a run (in request order, at most [`MAX_REPLICAS_PER_RUN`]
    /// replicas a run, each pair [`Self::replicas`] of them). A pair whose x and y differ in
    /// rows shares a run only with pairs that differ alike; it then fails alone, with the
    /// usual error.
    pub fn plan_many(&self, pairs: &[(Matrix<'_>, Matrix<'_>)]) -> Vec<BatchedRun> {
        let seeds = self.replicas.max(1) as usize;
        let per_run = (MAX_REPLICAS_PER_RUN / seeds).max(1);
        let mut runs: Vec<BatchedRun> = Vec::new();
        for (i, (x, y)) in pairs.iter().enumerate() {
            let key = (x.rows(), y.rows(), (x.cols(), y.cols()));
            let same = |r: &&mut BatchedRun| {
                let (rx, ry) = pairs[r.pairs[0]];
                (rx.rows(), ry.rows(), r.dims) == key && r.pairs.len() < per_run
            };
            match runs.iter_mut().rev().find(same) {
                Some(r) => {
                    r.pairs.push(i);
                    r.replicas += seeds;
                }
                None => runs.push(BatchedRun {
                    pairs: vec![i],
                    rows: key.0,
                    dims: key.2,
                    replicas: seeds,
                }),
            }
        }
        runs
    }

    /// Estimates I(X; Y) for every pair, training pairs of one shape side by side as the
    /// replicas of one batched run ([`Self::plan_many`]). Returns one result a pair, in order;
    /// each is what [`Self::estimate`] returns for that pair alone, bit for bit on the same
    /// device, with [`Report::batched`] saying where it ran. A pair that fails (bad input, a
    /// divergence) fails alone.
    pub fn estimate_many(&self, pairs: &[(Matrix<'_>, Matrix<'_>)]) -> Vec<Result<Report, Error>> {
        self.estimate_many_with_progress(pairs, |_, _| {})
    }

    /// [`Self::estimate_many`], calling `progress(run, progress)` after every block of steps
    /// of batched run `run` (an index into [`Self::plan_many`]'s runs).
    pub fn estimate_many_with_progress(
        &self,
        pairs: &[(Matrix<'_>, Matrix<'_>)],
        mut progress: impl FnMut(usize, &Progress),
    ) -> Vec<Result<Report, Error>> {
        let plan = self.plan_many(pairs);
        let seeds = self.replica_seeds();
        let mut out: Vec<Option<Result<Report, Error>>> = (0..pairs.len()).map(|_| None).collect();
        for (g, run) in plan.iter().enumerate() {
            // Each pair's data split under each seed; a pair that fails to prepare fails alone.
            let mut prepared = Vec::new();
            for &i in &run.pairs {
                let (x, y) = pairs[i];
                match seeds
                    .iter()
                    .map(|&s| self.prepare(x, y, s).map(|p| (p, s)))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(p) => prepared.push((i, p)),
                    Err(e) => out[i] = Some(Err(e)),
                }
            }
            let jobs: Vec<_> = prepared
                .iter()
                .flat_map(|(_, p)| {
                    p.iter()
                        .map(|(d, s)| (d, self.train_spec(d.dims.0, d.dims.1).with_seed(*s)))
                })
                .collect();
            if jobs.is_empty() {
                continue;
            }
            let replicas = jobs.len();
            let results = match self.run_batched(&jobs, |p| progress(g, p)) {
                Ok(r) => r,
                Err(e) => {
                    let shared = Arc::new(e);
                    for (i, _) in &prepared {
                        out[*i] = Some(Err(Error::Shared(Arc::clone(&shared))));
                    }
                    continue;
                }
            };
            let mut results = results.into_iter();
            for (slot, (i, _)) in prepared.iter().enumerate() {
                let reports: Vec<_> = results.by_ref().take(seeds.len()).collect();
                let report = match reports.len() {
                    1 => reports.into_iter().next().expect("one seed, one report"),
                    _ => Report::of_ensemble(&seeds, reports),
                };
                let first = slot * seeds.len() + 1;
                let last = first + seeds.len() - 1;
                let place = match seeds.len() {
                    1 => format!("replica {first} of {replicas}"),
                    _ => format!("replicas {first}–{last} of {replicas}"),
                };
                out[*i] = Some(report.map(|mut r| {
                    r.batched = Some(format!(
                        "{place} in batched run {} of {} ({} × {} columns, {} rows)",
                        g + 1,
                        plan.len(),
                        run.dims.0,
                        run.dims.1,
                        run.rows
                    ));
                    r
                }));
            }
        }
        out.into_iter()
            .map(|r| r.expect("every pair is in one run"))
            .collect()
    }
}

impl Estimator {
    /// Estimates I(X; Y) with each estimator of `variants` on the same data: a sweep over
    /// learning rates, seeds or the bound's parameter (SMILE's τ, α-InfoNCE's α, MINE's γ).
    /// Variants that differ only in those train side by side as one batched run; the others
    /// run in turn. Each result is what that variant's [`Self::estimate`] returns alone, bit
    /// for bit on the same device, in order.
    pub fn sweep(
        variants: &[Estimator],
        x: Matrix<'_>,
        y: Matrix<'_>,
    ) -> Vec<Result<Report, Error>> {
        let mut groups: Vec<(Estimator, Vec<usize>)> = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let key = v.run_key();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        let (dx, dy) = (x.cols(), y.cols());
        let mut out: Vec<Option<Result<Report, Error>>> =
            (0..variants.len()).map(|_| None).collect();
        for (g, (_, members)) in groups.iter().enumerate() {
            let base = &variants[members[0]];
            let mut prepared = Vec::new();
            for &i in members {
                let v = &variants[i];
                match v
                    .replica_seeds()
                    .into_iter()
                    .map(|s| {
                        let spec = v.train_spec(dx, dy).with_seed(s);
                        v.prepare(x, y, s).map(|p| (p, spec))
                    })
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(p) => prepared.push((i, p)),
                    Err(e) => out[i] = Some(Err(e)),
                }
            }
            let jobs: Vec<_> = prepared
                .iter()
                .flat_map(|(_, p)| p.iter().map(|(d, spec)| (d, spec.clone())))
                .collect();
            if jobs.is_empty() {
                continue;
            }
            let replicas = jobs.len();
            let results = match base.run_batched(&jobs, |_| {}) {
                Ok(r) => r,
                Err(e) => {
                    let shared = Arc::new(e);
                    for (i, _) in &prepared {
                        out[*i] = Some(Err(Error::Shared(Arc::clone(&shared))));
                    }
                    continue;
                }
            };
            let mut results = results.into_iter();
            let mut first = 1;
            for (i, p) in &prepared {
                let seeds: Vec<u64> = p.iter().map(|(_, spec)| spec.seed).collect();
                let reports: Vec<_> = results.by_ref().take(seeds.len()).collect();
                let report = match reports.len() {
                    1 => reports.into_iter().next().expect("one seed, one report"),
                    _ => Report::of_ensemble(&seeds, reports),
                };
                let last = first + seeds.len() - 1;
                let place = format!(
                    "replica{} {first}{} of {replicas} in batched run {} of {} (a sweep)",
                    if seeds.len() > 1 { "s" } else { "" },
                    if seeds.len() > 1 {
                        format!("–{last}")
                    } else {
                        String::new()
                    },
                    g + 1,
                    groups.len()
                );
                first = last + 1;
                out[*i] = Some(report.map(|mut r| {
                    r.batched = Some(place);
                    r
                }));
            }
        }
        out.into_iter()
            .map(|r| r.expect("every variant is in one run"))
            .collect()
    }

    /// This estimator with what a batched run lets replicas differ in (learning rate, seed,
    /// the bound's parameter) set to one value, so that two estimators share a run exactly
    /// when their keys are equal.
    fn run_key(&self) -> Estimator {
        let bound = match self.bound {
            Bound::Smile { .. } => Bound::Smile { tau: 0.0 },
            Bound::AlphaInfoNce { .. } => Bound::AlphaInfoNce { alpha: 0.0 },
            Bound::Mine { .. } => Bound::Mine { gamma: 0.0 },
            other => other,
        };
        self.clone().with_lr(1.0).with_seed(0).with_bound(bound)
    }
}
