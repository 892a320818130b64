//! Bound values and score gradients for shuffled-negative batches (`bounds.wgsl`), and the
//! checks the bound kernels share.

use bytemuck::{Pod, Zeroable};

use super::{check_at_least, check_fits, state, to_u32};
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
    tau: f32,
    gamma: f32,
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
        if !bound.supports_shuffled() {
            return Err(GpuError::Operand {
                what: bound.name(),
                rule: "needs the full score matrix, not shuffled negatives",
            });
        }
        check_bound(bound, baseline.is_some())?;
        check_at_least("a bound's batch K", k, 1)?;
        check_at_least("a bound's history length", hist.len(), 1)?;
        check_fits("scores", scores, 2 * k)?;
        check_fits("score gradients", dscores, 2 * k)?;
        check_fits("state", state_buf, state::LEN)?;
        let mut inputs = vec![scores];
        let mut outputs = vec![dscores, hist, state_buf];
        if let Some((b, db)) = baseline {
            check_fits("baseline", b, 2 * k)?;
            check_fits("baseline gradients", db, 2 * k)?;
            inputs.push(b);
            outputs.push(db);
        }
        check_outputs_distinct(&inputs, &outputs)?;
        let params = BoundParams {
            k: to_u32("batch", k)?,
            hist_len: to_u32("history", hist.len())?,
            tau: bound.tau(),
            gamma: match bound {
                Bound::Mine { gamma } => gamma,
                _ => 0.5,
            },
        };
        let key = KernelKey {
            family: Family::Bounds,
            entry: "shuffled_bound",
            overrides: vec![("BOUND", bound.code())],
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
        let uniform = self.uniform("bound", &params);
        // The kernel declares TUBA's baseline for every bound; without one it is never touched,
        // and the scores and their gradients stand in.
        let (b, db) = baseline.unwrap_or((scores, dscores));
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &scores.buffer,
                &dscores.buffer,
                &hist.buffer,
                &state_buf.buffer,
                &b.buffer,
                &db.buffer,
            ],
            [1, 1, 1],
        ))
    }
}
