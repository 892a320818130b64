//! Bound values and score gradients for shuffled-negative batches (`bounds.wgsl`), and the
//! checks the bound kernels share.

use bytemuck::{Pod, Zeroable};

use super::{
    check_at_least, check_fits, check_fits_rep, check_replicas, state, to_u32, Strided,
    VEC4_TABLE_BYTES,
};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::bounds::Bound;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BoundParams {
    k: u32,
    hist_len: u32,
    scores_rs: u32,
    dscores_rs: u32,
    baseline_rs: u32,
    dbaseline_rs: u32,
    _pad: [u32; 2],
}

/// Each replica's bound parameters as the bound families' `reps` table holds them:
/// (SMILE's τ, α-InfoNCE's α, MINE's γ, 0), with the defaults the kernels expect where a
/// bound has no such parameter. Fails unless every bound is of replica 0's kind, and for a
/// parameter outside its domain ([`check_bound`]).
pub(super) fn bound_table(bounds: &[Bound], has_baseline: bool) -> Result<Vec<[f32; 4]>, GpuError> {
    check_replicas(bounds.len())?;
    let kind = bounds[0].code();
    bounds
        .iter()
        .enumerate()
        .map(|(r, &bound)| {
            if bound.code() != kind {
                return Err(GpuError::ReplicaMismatch {
                    replica: r,
                    what: "bound",
                });
            }
            check_bound(bound, has_baseline)?;
            Ok([
                bound.tau(),
                match bound {
                    Bound::AlphaInfoNce { alpha } => alpha,
                    _ => 0.5,
                },
                match bound {
                    Bound::Mine { gamma } => gamma,
                    _ => 0.5,
                },
                0.0,
            ])
        })
        .collect()
}

/// Refuses a baseline where the bound takes none (or none where it needs one), and parameters
/// whose logarithms the kernels take outside their domain.
pub(super) fn check_bound(bound: Bound, has_baseline: bool) -> Result<(), GpuError> {
    if bound.needs_baseline() != has_baseline {
        return Err(GpuError::Operand {
            what: bound.name(),
            rule: if has_baseline {
                "takes no baseline"
            } else {
                "needs a baseline and a buffer for its gradient"
            },
        });
    }
    let open_unit = |what: &'static str, v: f32| {
        if v > 0.0 && v < 1.0 {
            Ok(())
        } else {
            Err(GpuError::Parameter {
                what,
                value: v,
                rule: "lie in (0, 1)",
            })
        }
    };
    match bound {
        Bound::Mine { gamma } => open_unit("MINE's γ", gamma),
        Bound::AlphaInfoNce { alpha } => open_unit("α-InfoNCE's α", alpha),
        _ => Ok(()),
    }
}

/// Refuses an output buffer that is also an input or another output: one launch cannot bind
/// a buffer both read-only and writable, and two outputs would overwrite each other.
pub(super) fn check_outputs_distinct(
    inputs: &[&GpuBuffer],
    outputs: &[&GpuBuffer],
) -> Result<(), GpuError> {
    for (i, out) in outputs.iter().enumerate() {
        let clash = inputs.iter().chain(&outputs[..i]);
        if clash.into_iter().any(|b| b.buffer == out.buffer) {
            return Err(GpuError::Aliased {
                what: "a bound's output",
                other: "another operand",
            });
        }
    }
    Ok(())
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares the bound on `scores` (2k: joint then negatives): the value goes to
    /// hist[step % hist_len], the gradient of the loss (−objective) to `dscores`.
    ///
    /// `baseline` is TUBA's (b, db): b(y) for the 2k scored pairs' y, in the scores' order,
    /// and where ∂(−L)/∂b goes (2k); `None` for every other bound. MINE keeps its moving
    /// average in state[`state::MINE_LOG_EMA`] and starts it (m_0 = the batch's Z) when the
    /// device step counter reads 0, so a trainer that uses MINE must start at step 0.
    #[allow(clippy::too_many_arguments)]
    pub fn shuffled_bound(
        &self,
        bound: Bound,
        k: usize,
        scores: &GpuBuffer,
        dscores: &GpuBuffer,
        hist: &GpuBuffer,
        state_buf: &GpuBuffer,
        baseline: Option<(&GpuBuffer, &GpuBuffer)>,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.shuffled_bound_replicated(
            &[bound],
            k,
            [solo(scores), solo(dscores)],
            (hist, hist.len()),
            state_buf,
            baseline.map(|(b, db)| (solo(b), solo(db))),
        )
    }

    /// [`Self::shuffled_bound`] of R = `bounds.len()` replicas (one kind, each its own
    /// parameters) in one launch: replica r's scores, gradients and baseline at their
    /// strides, its history the `slots` from r · `slots` of `hist`, its state at
    /// r · [`state::LEN`].
    pub(crate) fn shuffled_bound_replicated(
        &self,
        bounds: &[Bound],
        k: usize,
        [scores, dscores]: [Strided<'_>; 2],
        (hist, slots): (&GpuBuffer, usize),
        state_buf: &GpuBuffer,
        baseline: Option<(Strided<'_>, Strided<'_>)>,
    ) -> Result<Dispatch, GpuError> {
        let bound = bounds.first().copied().ok_or(GpuError::NoReplicas)?;
        let r = bounds.len();
        if !bound.supports_shuffled() {
            return Err(GpuError::Operand {
                what: bound.name(),
                rule: "needs the full score matrix, not shuffled negatives",
            });
        }
        let table = bound_table(bounds, baseline.is_some())?;
        check_at_least("a bound's batch K", k, 1)?;
        check_at_least("a bound's history length", slots, 1)?;
        check_fits_rep("scores", scores, 2 * k, r)?;
        check_fits_rep("score gradients", dscores, 2 * k, r)?;
        check_fits("history", hist, r * slots)?;
        check_fits("state", state_buf, r * state::LEN)?;
        let mut inputs = vec![scores.buffer];
        let mut outputs = vec![dscores.buffer, hist, state_buf];
        if let Some((b, db)) = baseline {
            check_fits_rep("baseline", b, 2 * k, r)?;
            check_fits_rep("baseline gradients", db, 2 * k, r)?;
            inputs.push(b.buffer);
            outputs.push(db.buffer);
        }
        check_outputs_distinct(&inputs, &outputs)?;
        // The kernel declares TUBA's baseline for every bound; without one it is never touched,
        // and the scores and their gradients stand in.
        let (b, db) = baseline.unwrap_or((scores, dscores));
        let params = BoundParams {
            k: to_u32("batch", k)?,
            hist_len: to_u32("history", slots)?,
            scores_rs: scores.stride_u32()?,
            dscores_rs: dscores.stride_u32()?,
            baseline_rs: b.stride_u32()?,
            dbaseline_rs: db.stride_u32()?,
            _pad: [0; 2],
        };
        let key = KernelKey {
            family: Family::Bounds,
            entry: "shuffled_bound",
            overrides: vec![("BOUND", bound.code())],
            template: Vec::new(),
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Write,
                Binding::Write,
                Binding::Write,
                Binding::Read,
                Binding::Write,
            ],
        };
        let uniform = self.uniform_with_table("bound", &params, &table, VEC4_TABLE_BYTES);
        let grid = self.with_replicas("bound", [1, 1, 1], r)?;
        Ok(self.bind(
            &key,
            &[
                &uniform,
                scores.raw(),
                dscores.raw(),
                &hist.buffer,
                &state_buf.buffer,
                b.raw(),
                db.raw(),
            ],
            grid,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::gpu::shaders::{check_replica_table, Family};

    #[test]
    fn the_replica_table_sits_where_the_host_writes_it() {
        let header = std::mem::size_of::<super::BoundParams>();
        check_replica_table(Family::Bounds, "BoundParams", header, "reps", 16);
    }
}
