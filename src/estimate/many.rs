//! Many estimates at once: pairs of the same shape trained side by side as the replicas of one
//! batched run ([`crate::backend::Replicated`]), each pair's report the bits it would get alone.

use std::fmt;
use std::sync::Arc;

use crate::estimate::data::Matrix;
use crate::estimate::estimator::Estimator;
use crate::estimate::prepared::Prepared;
use crate::estimate::report::{Progress, Report};
use crate::math::bounds::Bound;
use crate::math::spec::TrainSpec;
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
        let mut out: Vec<Option<Result<Report, Error>>> = (0..pairs.len()).map(|_| None).collect();
        for (g, run) in plan.iter().enumerate() {
            let members = run
                .pairs
                .iter()
                .map(|&i| (i, self.prepare_seeds(pairs[i].0, pairs[i].1)));
            let label = format!(
                "batched run {} of {} ({} × {} columns, {} rows)",
                g + 1,
                plan.len(),
                run.dims.0,
                run.dims.1,
                run.rows
            );
            self.run_group(members, &label, |p| progress(g, p), &mut out);
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
        let mut out: Vec<Option<Result<Report, Error>>> =
            (0..variants.len()).map(|_| None).collect();
        for (g, (_, members)) in groups.iter().enumerate() {
            let prepared = members
                .iter()
                .map(|&i| (i, variants[i].prepare_seeds(x, y)));
            let label = format!("batched run {} of {} (a sweep)", g + 1, groups.len());
            variants[members[0]].run_group(prepared, &label, |_| {}, &mut out);
        }
        out.into_iter()
            .map(|r| r.expect("every variant is in one run"))
            .collect()
    }

    /// Trains `members` (a request's index, and its jobs or why they could not be prepared)
    /// as one batched run with this estimator's shared settings, and puts each member's
    /// report (an ensemble's for several seeds) or error at its index in `out`, with
    /// [`Report::batched`] naming its replicas and `label` (the run). A member that failed to
    /// prepare fails alone; a run that cannot start gives every member its error.
    fn run_group(
        &self,
        members: impl Iterator<Item = (usize, Result<Vec<(Prepared, TrainSpec)>, Error>)>,
        label: &str,
        progress: impl FnMut(&Progress),
        out: &mut [Option<Result<Report, Error>>],
    ) {
        let mut prepared = Vec::new();
        for (i, jobs) in members {
            match jobs {
                Ok(jobs) => prepared.push((i, jobs)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        let jobs: Vec<_> = prepared
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(d, spec)| (d, spec.clone())))
            .collect();
        if jobs.is_empty() {
            return;
        }
        let replicas = jobs.len();
        let mut results = match self.run_batched(&jobs, progress) {
            Ok(r) => r.into_iter(),
            Err(e) => {
                let shared = Arc::new(e);
                for (i, _) in &prepared {
                    out[*i] = Some(Err(Error::Shared(Arc::clone(&shared))));
                }
                return;
            }
        };
        let mut first = 1;
        for (i, p) in &prepared {
            let seeds: Vec<u64> = p.iter().map(|(_, spec)| spec.seed).collect();
            let reports: Vec<_> = results.by_ref().take(seeds.len()).collect();
            let last = first + seeds.len() - 1;
            let place = match seeds.len() {
                1 => format!("replica {first} of {replicas} in {label}"),
                _ => format!("replicas {first}–{last} of {replicas} in {label}"),
            };
            first = last + 1;
            out[*i] = Some(Report::of_seeds(&seeds, reports).map(|mut r| {
                r.batched = Some(place);
                r
            }));
        }
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
