//! Replicas: independent critics trained side by side by one backend, each with its own spec
//! (seed, learning rate, bound parameters), training batches and held-out parts, stepped
//! together so that a device runs them in the same launches where it can.
//!
//! The rule every backend keeps: replica r of a batched run gives exactly the bits of the same
//! replica run alone ([`Backend::trainer`]) on the same device. One replica is the solo path,
//! not a second one: the estimator always trains through [`Replicated`].

use super::{Backend, BackendError, HeldOutParts, HeldOutValues, ReadOut, RunOptions, Trainer};
use crate::math::spec::{Batches, TrainSpec};

/// One replica of a batched run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Replica<'a> {
    /// Its spec: within one run, replicas differ only in seed, learning rate and the bound's
    /// parameters ([`check_replicas`]).
    pub spec: TrainSpec,
    /// Its training batches (each replica's own data, of one shape).
    pub batches: Batches<'a>,
    /// Its held-out parts, if evaluated.
    pub held_out: Option<HeldOutParts<'a>>,
}

impl<'a> Replica<'a> {
    /// A replica of `spec` on `batches`, evaluated on `held_out`.
    pub fn new(spec: TrainSpec, batches: Batches<'a>, held_out: Option<HeldOutParts<'a>>) -> Self {
        Self {
            spec,
            batches,
            held_out,
        }
    }
}

/// Replicated critics being trained on a backend, stepped together.
///
/// A replica that stopped (it diverged, was cancelled, or was frozen by the caller) takes no
/// more steps: its parameters and stream stay exactly as they were.
pub trait Replicated {
    /// How many replicas.
    fn replicas(&self) -> usize;
    /// Takes `steps` steps of every replica still running; for each replica, the bound's value
    /// at each step it took, or why it stopped in this call (then it is frozen). A frozen
    /// replica takes none (an empty list).
    fn train(&mut self, steps: u32) -> Vec<Result<Vec<f32>, BackendError>>;
    /// Replica `r`'s bound on the selection part of its held-out rows.
    fn evaluate(&mut self, r: usize) -> Result<HeldOutValues, BackendError>;
    /// Replica `r`'s critic `params` read out on the report part of its held-out rows.
    fn read_out(&mut self, r: usize, params: &[f32]) -> Result<ReadOut, BackendError>;
    /// Replica `r`'s current parameters.
    fn parameters(&self, r: usize) -> Result<Vec<f32>, BackendError>;
    /// Replica `r`'s gradient norms since the last call (see [`Trainer::take_grad_norms`]).
    fn take_grad_norms(&mut self, r: usize) -> Vec<f32>;
    /// Stops replica `r` for good (early stopping): it takes no more steps.
    fn freeze(&mut self, r: usize);
    /// Steps replica `r` has taken.
    fn step(&self, r: usize) -> u64;
    /// Where it runs, for reports.
    fn device_name(&self) -> String;
}

/// Checks that `replicas` can share a batched run: at least one, and the same bound, critic,
/// batch, row count and column widths (the seed, learning rate and bound parameters may
/// differ). A mixed request is split into runs before it gets here.
pub fn check_replicas(replicas: &[Replica<'_>]) -> Result<(), BackendError> {
    let first = replicas.first().ok_or(BackendError::NoReplicas)?;
    let key = |r: &Replica<'_>| {
        let s = &r.spec;
        (
            s.bound.name(),
            s.critic.clone(),
            s.batch,
            (s.dx, s.dy),
            r.batches.source(),
            r.held_out
                .map(|h| (h.select.data().rows(), h.report.data().rows())),
        )
    };
    let want = key(first);
    for (i, r) in replicas.iter().enumerate().skip(1) {
        let got = key(r);
        let what = if got.0 != want.0 {
            Some("bound")
        } else if got.1 != want.1 {
            Some("critic")
        } else if got.2 != want.2 {
            Some("batch")
        } else if got.3 != want.3 {
            Some("column widths")
        } else if got.4 != want.4 || got.5 != want.5 {
            Some("rows")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(BackendError::ReplicaMismatch { replica: i, what });
        }
    }
    Ok(())
}

/// The batched run of a backend without a replicated program of its own: one solo trainer a
/// replica, stepped in turn. Each replica's bits are its solo bits by construction.
pub struct Lockstep<'a> {
    trainers: Vec<Box<dyn Trainer + 'a>>,
    stopped: Vec<bool>,
}

impl<'a> Lockstep<'a> {
    /// Builds a solo trainer a replica on `backend`.
    pub fn new<B: Backend + ?Sized>(
        backend: &'a B,
        replicas: &[Replica<'_>],
        options: &RunOptions,
    ) -> Result<Self, BackendError> {
        check_replicas(replicas)?;
        let trainers = replicas
            .iter()
            .map(|r| backend.trainer(&r.spec, r.batches, r.held_out, options))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_trainers(trainers))
    }

    /// A batched run of trainers already built.
    pub fn from_trainers(trainers: Vec<Box<dyn Trainer + 'a>>) -> Self {
        let stopped = vec![false; trainers.len()];
        Self { trainers, stopped }
    }
}

impl Replicated for Lockstep<'_> {
    fn replicas(&self) -> usize {
        self.trainers.len()
    }

    fn train(&mut self, steps: u32) -> Vec<Result<Vec<f32>, BackendError>> {
        self.trainers
            .iter_mut()
            .zip(&mut self.stopped)
            .map(|(t, stopped)| train_one(t.as_mut(), stopped, steps))
            .collect()
    }

    fn evaluate(&mut self, r: usize) -> Result<HeldOutValues, BackendError> {
        self.trainers[r].evaluate()
    }

    fn read_out(&mut self, r: usize, params: &[f32]) -> Result<ReadOut, BackendError> {
        self.trainers[r].read_out(params)
    }

    fn parameters(&self, r: usize) -> Result<Vec<f32>, BackendError> {
        self.trainers[r].parameters()
    }

    fn take_grad_norms(&mut self, r: usize) -> Vec<f32> {
        self.trainers[r].take_grad_norms()
    }

    fn freeze(&mut self, r: usize) {
        self.stopped[r] = true;
    }

    fn step(&self, r: usize) -> u64 {
        self.trainers[r].step()
    }

    fn device_name(&self) -> String {
        self.trainers
            .first()
            .map_or_else(String::new, |t| t.device_name())
    }
}

/// One replica's share of [`Replicated::train`]: nothing when it has stopped; stops it on an
/// error.
pub(super) fn train_one(
    t: &mut dyn Trainer,
    stopped: &mut bool,
    steps: u32,
) -> Result<Vec<f32>, BackendError> {
    if *stopped {
        return Ok(Vec::new());
    }
    let r = t.train(steps);
    *stopped = r.is_err();
    r
}

/// Several batched runs of one request, as one: replica r is replica r mod `size` of run
/// r / `size` (a request too large for one run of the device).
pub(super) struct Split<'a> {
    runs: Vec<Box<dyn Replicated + 'a>>,
    size: usize,
    note: String,
}

impl<'a> Split<'a> {
    /// `runs` of `size` replicas each (the last may hold fewer); `note` says why.
    pub(super) fn new(runs: Vec<Box<dyn Replicated + 'a>>, size: usize, note: String) -> Self {
        Self { runs, size, note }
    }

    fn at(&self, r: usize) -> (usize, usize) {
        (r / self.size, r % self.size)
    }
}

impl Replicated for Split<'_> {
    fn replicas(&self) -> usize {
        self.runs.iter().map(|r| r.replicas()).sum()
    }

    fn train(&mut self, steps: u32) -> Vec<Result<Vec<f32>, BackendError>> {
        self.runs.iter_mut().flat_map(|r| r.train(steps)).collect()
    }

    fn evaluate(&mut self, r: usize) -> Result<HeldOutValues, BackendError> {
        let (run, i) = self.at(r);
        self.runs[run].evaluate(i)
    }

    fn read_out(&mut self, r: usize, params: &[f32]) -> Result<ReadOut, BackendError> {
        let (run, i) = self.at(r);
        self.runs[run].read_out(i, params)
    }

    fn parameters(&self, r: usize) -> Result<Vec<f32>, BackendError> {
        let (run, i) = self.at(r);
        self.runs[run].parameters(i)
    }

    fn take_grad_norms(&mut self, r: usize) -> Vec<f32> {
        let (run, i) = self.at(r);
        self.runs[run].take_grad_norms(i)
    }

    fn freeze(&mut self, r: usize) {
        let (run, i) = self.at(r);
        self.runs[run].freeze(i);
    }

    fn step(&self, r: usize) -> u64 {
        let (run, i) = self.at(r);
        self.runs[run].step(i)
    }

    fn device_name(&self) -> String {
        let one = self
            .runs
            .first()
            .map_or_else(String::new, |r| r.device_name());
        format!("{one}; {}", self.note)
    }
}
