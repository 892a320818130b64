//! Replicated critics on one device: R independent critics of one shape trained in the same
//! launches, each with its own seed, learning rate, bound parameters and (optionally) data.
//!
//! How the launches see replicas: every buffer of the step program holds R blocks, replica r's
//! at r × the buffer's solo length (data shared by all replicas has stride 0); every kernel of
//! the step takes the replica from its grid's z (dispatch z = R) and offsets each operand by
//! r × its stride, passed in the launch's uniform block. Each replica's own data (or ρ
//! schedule, or known marginal) follows the replica before's, and the gathers add the
//! replica's first row before they map a row to its part of the upload. The per-replica
//! scalars (each replica's draw key, learning rate and the bound's τ, α, γ) sit in fixed
//! tables at the end of the uniform blocks ([`crate::gpu::kernels::MAX_REPLICAS`] entries);
//! each replica's max gradient norm is its element of the clip's limit buffer. The state
//! buffer holds one block of [`state::LEN`] a replica: its step counter, divergence flags,
//! first bad step and MINE's average. Reductions (the bound's statistics, the gradient's
//! global norm) are each replica's own, in a solo run's fixed order. Tile sizes, the x/y grid, workgroup sizes and the software
//! adapter's loop splits depend only on one replica's shapes, never on R, so **replica r of a
//! batched run computes exactly the bits of the same spec trained alone** (same seed, same
//! adapter); one replica is the solo trainer, not a second code path.
//!
//! Stopping: a replica whose step raised a divergence flag (a non-finite bound value or
//! gradient norm, both raised before Adam runs), or that the caller froze
//! ([`GpuTrainer::freeze`], which sets [`state::FROZEN`]), is frozen exactly: Adam reads the
//! replica's flags and leaves its parameters and moments as they are from that step on (the
//! end-of-step tick marks a flagged replica [`state::HALTED`], so a flag Adam raises itself
//! stops it from the next step); the others go on unchanged.

use std::borrow::Cow;

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::{check_fits, state};
use super::trainer::{GpuTrainer, Inputs};
use super::GpuError;
use crate::math::optim::AdamConfig;
use crate::math::program::PARAMS;
use crate::math::spec::{Batches, Divergence, Source, TrainSpec};

/// Where the replicas of a batched run take their training batches from.
#[derive(Clone, Debug)]
pub enum ReplicaBatches<'a> {
    /// Every replica draws from the same data (or the same synthetic source), each with its
    /// own seed.
    Shared(Batches<'a>),
    /// Replica r draws from `batches[r]`: data sets of one row count and column widths, or
    /// synthetic sources of one schedule length and transform.
    Each(Vec<Batches<'a>>),
}

impl<'a> From<Batches<'a>> for ReplicaBatches<'a> {
    fn from(b: Batches<'a>) -> Self {
        ReplicaBatches::Shared(b)
    }
}

/// What one replica did in one call of [`GpuTrainer::train_replicas`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaSteps {
    /// The bound's value at each step the replica took in this call, in order: none for a
    /// replica frozen before the call; those before the bad step for one that diverged in it.
    pub values: Vec<f32>,
    /// The gradient's global norm (before any clip) at the same steps.
    pub grad_norms: Vec<f32>,
    /// Set when the replica diverged in this call: the first step that produced a
    /// non-finite number. The replica is frozen from that step on.
    pub diverged: Option<Divergence>,
    /// The replica takes no more steps: the caller froze it, or it diverged (in this call or
    /// an earlier one).
    pub frozen: bool,
}

/// The host's account of one replica.
#[derive(Clone, Debug, Default)]
pub(super) struct ReplicaRecord {
    /// Steps the replica has taken.
    pub(super) steps: u64,
    /// The caller froze it.
    pub(super) frozen: bool,
    /// It diverged there.
    pub(super) diverged: Option<Divergence>,
}

impl ReplicaRecord {
    /// It takes no more steps.
    pub(super) fn stopped(&self) -> bool {
        self.frozen || self.diverged.is_some()
    }
}

/// Checks that every spec can share replica 0's launches: the same critic, column widths,
/// batch, bound kind (its parameters may differ), baseline network, optimiser settings but
/// the learning rate, and a gradient clip on all replicas or none (its norm may differ).
pub(super) fn check_specs(specs: &[TrainSpec]) -> Result<(), GpuError> {
    let first = &specs[0];
    for (replica, s) in specs.iter().enumerate().skip(1) {
        let what = if s.critic != first.critic {
            Some("critic")
        } else if (s.dx, s.dy) != (first.dx, first.dy) {
            Some("column widths")
        } else if s.batch != first.batch {
            Some("batch")
        } else if std::mem::discriminant(&s.bound) != std::mem::discriminant(&first.bound) {
            Some("bound")
        } else if s.bound.needs_baseline() && s.baseline_hidden != first.baseline_hidden {
            Some("baseline network")
        } else if s.reparameterised != first.reparameterised {
            Some("reparameterised decoder")
        } else if (AdamConfig {
            lr: first.adam.lr,
            ..s.adam
        }) != first.adam
        {
            Some("optimiser settings other than the learning rate")
        } else if s.max_grad_norm.is_some() != first.max_grad_norm.is_some() {
            Some("gradient clip (set on some replicas only)")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(GpuError::ReplicaMismatch { replica, what });
        }
    }
    Ok(())
}

/// What differs between two batch sources of replicas.
fn source_mismatch(a: Source, b: Source) -> &'static str {
    match (a, b) {
        (Source::Data { n, .. }, Source::Data { n: m, .. }) if n != m => "rows",
        (Source::Data { .. }, Source::Data { .. }) => "known marginal",
        (Source::Gaussian { steps, .. }, Source::Gaussian { steps: t, .. }) if steps != t => {
            "ρ schedule length"
        }
        (Source::Gaussian { .. }, Source::Gaussian { .. }) => "transform of y",
        _ => "source of batches (data or the synthetic Gaussian)",
    }
}

/// Checks each replica's batches against its spec and replica 0's source, and lays out the
/// program's inputs: the shared batches, or every replica's concatenated in replica order.
pub(super) fn inputs<'a>(
    specs: &[TrainSpec],
    batches: &'a ReplicaBatches<'a>,
) -> Result<(Source, Inputs<'a>), GpuError> {
    match batches {
        ReplicaBatches::Shared(b) => {
            for s in specs {
                s.check_batches(b)?;
            }
            let (x, y) = b.inputs();
            Ok((b.source(), Inputs::shared(x, y, b.log_marginal())))
        }
        ReplicaBatches::Each(each) => {
            if each.len() != specs.len() {
                return Err(GpuError::ReplicaCount {
                    what: "batches",
                    given: each.len(),
                    replicas: specs.len(),
                });
            }
            let source = each[0].source();
            for (replica, (s, b)) in specs.iter().zip(each).enumerate() {
                s.check_batches(b)?;
                if b.source() != source {
                    return Err(GpuError::ReplicaMismatch {
                        replica,
                        what: source_mismatch(b.source(), source),
                    });
                }
            }
            let x: Vec<f32> = each.iter().flat_map(|b| b.inputs().0).copied().collect();
            let y: Vec<f32> = match source {
                Source::Data { .. } => each.iter().flat_map(|b| b.inputs().1).copied().collect(),
                // The synthetic source reads no Y.
                _ => vec![0.0],
            };
            Ok((
                source,
                Inputs {
                    x: Cow::Owned(x),
                    y: Cow::Owned(y),
                    log_marginal: each[0].log_marginal().map(|_| {
                        each.iter()
                            .flat_map(|b| b.log_marginal().unwrap_or_default())
                            .copied()
                            .collect()
                    }),
                    each: true,
                },
            ))
        }
    }
}

impl<'c> GpuTrainer<'c> {
    /// Uploads R = `specs.len()` critics and their batches, and prepares one step of all of
    /// them in the same launches (at most `chunk` steps a submission). Replica r trains
    /// `specs[r]` and takes exactly the steps, with exactly the bits, that
    /// [`GpuTrainer::new`] would with that spec and its batches on the same adapter.
    ///
    /// Replicas may differ in their seed (their initial critic and their draws), learning
    /// rate, the bound's parameters (SMILE's τ, α-InfoNCE's α, MINE's γ), their max gradient
    /// norm and, with [`ReplicaBatches::Each`], their data. Everything else must be replica
    /// 0's ([`GpuError::ReplicaMismatch`] names what differs). At most
    /// [`crate::gpu::kernels::MAX_REPLICAS`] replicas.
    pub fn replicated(
        ctx: &'c GpuContext,
        specs: &[TrainSpec],
        batches: ReplicaBatches<'_>,
        chunk: u32,
    ) -> Result<GpuTrainer<'c>, GpuError> {
        Self::build(ctx, specs, &batches, chunk)
    }
}

impl GpuTrainer<'_> {
    /// Replicas R of this run (1 for [`GpuTrainer::new`]).
    pub fn replicas(&self) -> usize {
        self.train.replicas
    }

    /// Parameters of one replica's critic (P): replica r's are elements r · P .. (r + 1) · P
    /// of [`GpuTrainer::parameter_buffer`].
    pub fn replica_parameter_count(&self) -> usize {
        self.param_len
    }

    /// Takes `steps` steps of every replica still training (in submissions of at most
    /// `chunk`); returns, for each replica in order, the bound's value and gradient norm at
    /// each step it took, and whether it diverged or is frozen ([`ReplicaSteps`]). A replica
    /// that diverges does not stop the others; it is frozen from its bad step on. When every
    /// replica has stopped, no more steps are submitted.
    pub fn train_replicas(&mut self, steps: u32) -> Result<Vec<ReplicaSteps>, GpuError> {
        let mut out: Vec<ReplicaSteps> = self
            .records
            .iter()
            .map(|r| ReplicaSteps {
                frozen: r.stopped(),
                ..ReplicaSteps::default()
            })
            .collect();
        let slots = self.train.slots;
        let mut left = steps;
        while left > 0 && self.records.iter().any(|r| !r.stopped()) {
            let now = left.min(slots as u32);
            self.ctx.run(&self.train.dispatches, now)?;
            let st: Vec<u32> = self.ctx.read(&self.train.state)?;
            let hist: Vec<f32> = self.ctx.read(&self.train.hist)?;
            let norms: Vec<f32> = self.ctx.read(&self.train.norms)?;
            let (start, end) = (self.step, self.step + u64::from(now));
            for (r, (rec, done)) in self.records.iter_mut().zip(&mut out).enumerate() {
                if rec.stopped() {
                    continue;
                }
                let s = &st[r * state::LEN..][..state::LEN];
                let diverged = (s[state::FLAGS] & state::DIVERGED != 0).then(|| Divergence {
                    step: u64::from(s[state::FIRST_BAD_STEP]),
                    value: s[state::FLAGS] & state::NONFINITE_VALUE != 0,
                });
                // Step t wrote replica r's slot r · slots + t % slots.
                let good = diverged.as_ref().map_or(end, |d| d.step.clamp(start, end));
                for t in start..good {
                    let slot = r * slots + (t % slots as u64) as usize;
                    done.values.push(hist[slot]);
                    done.grad_norms.push(norms[slot]);
                }
                rec.steps += good - start;
                if let Some(d) = diverged {
                    rec.diverged = Some(d.clone());
                    done.diverged = Some(d);
                    done.frozen = true;
                }
            }
            self.step = end;
            self.state_seen = st;
            left -= now;
        }
        Ok(out)
    }

    /// Stops `replica` for good (early stopping): from the next step on Adam leaves its
    /// parameters exactly as they are, and [`GpuTrainer::train_replicas`] reports it frozen
    /// with no steps. The other replicas go on unchanged. An index past the replicas is
    /// ignored.
    pub fn freeze(&mut self, replica: usize) {
        let Some(rec) = self.records.get_mut(replica) else {
            return;
        };
        rec.frozen = true;
        let at = replica * state::LEN + state::FLAGS;
        let flags = self.state_seen[at] | state::FROZEN;
        self.state_seen[at] = flags;
        self.ctx.queue.write_buffer(
            &self.train.state.buffer,
            (at * 4) as u64,
            bytemuck::bytes_of(&flags),
        );
    }

    /// Steps `replica` has taken (the steps [`GpuTrainer::train_replicas`] returned to it);
    /// `None` past the replicas.
    pub fn replica_step(&self, replica: usize) -> Option<u64> {
        self.records.get(replica).map(|r| r.steps)
    }

    /// Replica `replica`'s current parameters (flat, in its spec's network order).
    pub fn replica_parameters(&self, replica: usize) -> Result<Vec<f32>, GpuError> {
        self.check_replica(replica)?;
        let p = self.param_len;
        self.ctx
            .read_range(&self.train.buffers[PARAMS], replica * p, p)
    }

    /// Copies replica `replica`'s parameters, on the device, to the start of `dst` (at least
    /// [`GpuTrainer::replica_parameter_count`] elements), so that a solo evaluator
    /// ([`super::BatchEvaluator`], [`super::SplitEvaluator`]) reading `dst` evaluates that
    /// replica. Queued behind the steps submitted so far.
    pub fn copy_replica_parameters(&self, replica: usize, dst: &GpuBuffer) -> Result<(), GpuError> {
        self.check_replica(replica)?;
        let p = self.param_len;
        check_fits("the parameters' copy", dst, p)?;
        let params = &self.train.buffers[PARAMS];
        if dst.buffer == params.buffer {
            return Err(GpuError::Aliased {
                what: "the parameters' copy",
                other: "the replicas' parameters",
            });
        }
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("replica parameters"),
            });
        encoder.copy_buffer_to_buffer(
            &params.buffer,
            (replica * p * 4) as u64,
            &dst.buffer,
            0,
            (p * 4) as u64,
        );
        self.ctx.queue.submit(Some(encoder.finish()));
        self.ctx.take_errors()
    }

    fn check_replica(&self, replica: usize) -> Result<(), GpuError> {
        if replica >= self.replicas() {
            return Err(GpuError::NoSuchReplica {
                replica,
                replicas: self.replicas(),
            });
        }
        Ok(())
    }
}
