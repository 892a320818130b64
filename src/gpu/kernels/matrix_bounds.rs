//! Bounds over the full K×K score matrix (`matrix_bounds.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::bounds::{check_bound, check_outputs_distinct};
use super::{check_fits, state, to_u32};
use crate::bounds::Bound;
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use Binding::{Read as R, Uniform as U, Unused as N, Write as W};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatrixParams {
    k: u32,
    hist_len: u32,
    tau: f32,
    alpha: f32,
    gamma: f32,
    _pad: [u32; 3],
}

/// The buffers of one evaluation of a bound on the full score matrix
/// ([`GpuContext::matrix_bound`]).
pub struct MatrixBoundBuffers<'a> {
    /// The K×K scores S_ij = f(x_i, y_j), row-major.
    pub s: &'a GpuBuffer,
    /// For the bounds with a learned log-baseline ([`Bound::needs_baseline`]): b_j = b(y_j)
    /// (K values), and where ∂(−L)/∂b goes (K values). `None` for the others.
    pub baseline: Option<(&'a GpuBuffer, &'a GpuBuffer)>,
    /// Where ∂(−L)/∂S goes (K×K, row-major).
    pub ds: &'a GpuBuffer,
    /// The value history: the value goes to hist[step % hist.len()].
    pub hist: &'a GpuBuffer,
    /// The device state ([`state::LEN`] elements): step counter, flags, MINE's EMA.
    pub state: &'a GpuBuffer,
    /// Working space of [`GpuContext::matrix_bound_scratch_len`] elements.
    pub scratch: &'a GpuBuffer,
}

/// Per-row statistics, per-column statistics (α-InfoNCE) and globals, as laid out in
/// `matrix_bounds.wgsl`'s scratch.
const ROW_LEN: usize = 2;
const COL_LEN: usize = 9;
const GLOBAL_LEN: usize = 2;

/// `grad`'s workgroup size (`WG` in `matrix_bounds.wgsl`).
const GRAD_WORKGROUP: usize = 256;
/// The workgroup size of the kernels with one invocation a row or column.
const LINE_WORKGROUP: usize = 64;

impl GpuContext {
    /// Prepares the launches that evaluate `bound` on the K×K scores `io.s`: the value to
    /// hist[step % hist_len] (a non-finite one raises the state's flag), ∂(−L)/∂S to `io.ds`,
    /// ∂(−L)/∂b to the baseline's gradient buffer (baseline bounds), and MINE's moving average
    /// to state[`state::MINE_LOG_EMA`]. Run them in order, in one pass.
    ///
    /// MINE's average starts (m_0 = the batch's Z) when the device step counter reads 0, so a
    /// trainer that uses MINE must start at step 0.
    pub fn matrix_bound(
        &self,
        bound: Bound,
        k: usize,
        io: &MatrixBoundBuffers,
    ) -> Result<Vec<Dispatch>, GpuError> {
        check_bound(bound, io.baseline.is_some())?;
        if k < 2 {
            return Err(GpuError::InvalidArgument(format!(
                "the score matrix needs K ≥ 2 (off-diagonal pairs), not {k}"
            )));
        }
        if io.hist.is_empty() {
            return Err(GpuError::InvalidArgument(
                "a bound needs a non-empty history".into(),
            ));
        }
        let kk = k
            .checked_mul(k)
            .ok_or_else(|| GpuError::InvalidArgument(format!("K = {k} overflows K²")))?;
        to_u32("K²", kk)?;
        check_fits("scores", io.s, kk)?;
        check_fits("score gradients", io.ds, kk)?;
        check_fits("state", io.state, state::LEN)?;
        check_fits("scratch", io.scratch, Self::matrix_bound_scratch_len(k))?;
        let mut outputs = vec![io.ds, io.hist, io.state, io.scratch];
        let mut inputs = vec![io.s];
        if let Some((b, db)) = io.baseline {
            check_fits("baseline", b, k)?;
            check_fits("baseline gradients", db, k)?;
            inputs.push(b);
            outputs.push(db);
        }
        check_outputs_distinct(&inputs, &outputs)?;

        let params = MatrixParams {
            k: to_u32("K", k)?,
            hist_len: to_u32("history", io.hist.len())?,
            tau: bound.tau(),
            alpha: match bound {
                Bound::AlphaInfoNce { alpha } => alpha,
                _ => 0.5,
            },
            gamma: match bound {
                Bound::Mine { gamma } => gamma,
                _ => 0.5,
            },
            _pad: [0; 3],
        };
        let uniform = self.uniform("matrix bound", &params);
        // Without a baseline the kernels never read one, but the entry points that handle
        // TUBA and α-InfoNCE declare it: the scores stand in.
        let (baseline, db) = io.baseline.unwrap_or((io.s, io.ds));
        let resources = [
            &uniform,
            &io.s.buffer,
            &baseline.buffer,
            &io.ds.buffer,
            &db.buffer,
            &io.hist.buffer,
            &io.state.buffer,
            &io.scratch.buffer,
        ];
        let launch = |entry: &'static str, bindings: [Binding; 8], groups: [u32; 3]| {
            let key = KernelKey {
                family: Family::MatrixBounds,
                entry,
                overrides: vec![("BOUND", bound.code())],
                bindings: bindings.to_vec(),
            };
            self.bind(&key, &resources, groups)
        };
        let per_line = self.grid_1d("matrix bound", k, LINE_WORKGROUP)?;

        let mut d = Vec::with_capacity(4);
        if let Bound::AlphaInfoNce { .. } = bound {
            d.push(launch("col_stats", [U, R, R, N, N, N, N, W], per_line));
        } else {
            d.push(launch("row_stats", [U, R, R, N, N, N, N, W], per_line));
        }
        d.push(launch("finalize", [U, N, N, N, N, W, W, W], [1, 1, 1]));
        d.push(launch(
            "grad",
            [U, R, R, W, N, N, N, W],
            self.grid("matrix bound grid", kk, GRAD_WORKGROUP)?,
        ));
        if bound.needs_baseline() {
            d.push(launch("baseline_grad", [U, R, R, N, W, N, N, W], per_line));
        }
        Ok(d)
    }

    /// Scratch elements [`GpuContext::matrix_bound`] needs for a K×K matrix.
    pub fn matrix_bound_scratch_len(k: usize) -> usize {
        (ROW_LEN + COL_LEN) * k + GLOBAL_LEN
    }
}
