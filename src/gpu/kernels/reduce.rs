//! Column sums and two-stage reductions (`reduce.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, check_fits_rep, to_u32, Strided, SOFTWARE_LOOP_BUDGET};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::{Family, SUBGROUPS};
use crate::math::linalg::{extent, ColumnSumSpec};

/// Which two-stage reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReduceOp {
    /// Σ x.
    Sum,
    /// max x.
    Max,
    /// log Σ exp x, max-shifted.
    LogSumExp,
}

/// `column_sums`' workgroup size, one invocation a column.
const COLUMN_SUMS_WORKGROUP: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    n: u32,
    cols: u32,
    ld: u32,
    in_off: u32,
    out_off: u32,
    groups: u32,
    in_rs: u32,
    out_rs: u32,
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares the column sums of `spec` from `src` into `out`.
    pub fn column_sums(
        &self,
        spec: &ColumnSumSpec,
        src: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        self.column_sum_launch(1, spec, Strided::shared(src), Strided::shared(out), false)
    }

    /// Prepares the column sums of `spec` like [`GpuContext::column_sums`], but where a
    /// software adapter's loop limit would refuse the rows (the concat critic's bias gradients
    /// sum over K² pairs), as several launches over consecutive ranges of rows, in order, each
    /// later one going on from the sums the one before wrote: the same additions in the same
    /// order as one launch. One launch on hardware adapters.
    pub fn column_sum_launches(
        &self,
        spec: &ColumnSumSpec,
        src: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Vec<Dispatch>, GpuError> {
        self.column_sum_launches_replicated(1, spec, Strided::shared(src), Strided::shared(out))
    }

    /// [`Self::column_sum_launches`] of `replicas` inputs at once, replica r's blocks of
    /// `src` and `out` at their strides; the launches are one replica's.
    pub(crate) fn column_sum_launches_replicated(
        &self,
        replicas: usize,
        spec: &ColumnSumSpec,
        src: Strided<'_>,
        out: Strided<'_>,
    ) -> Result<Vec<Dispatch>, GpuError> {
        self.loop_chunks(spec.rows, SOFTWARE_LOOP_BUDGET as usize)
            .into_iter()
            .map(|r| {
                let chunk = ColumnSumSpec {
                    rows: r.len(),
                    in_off: spec.in_off + r.start * spec.ld,
                    ..*spec
                };
                self.column_sum_launch(replicas, &chunk, src, out, r.start > 0)
            })
            .collect()
    }

    /// One launch of `replicas` column sums; with `accumulate` the sums start from what `out`
    /// holds.
    fn column_sum_launch(
        &self,
        replicas: usize,
        spec: &ColumnSumSpec,
        src: Strided<'_>,
        out: Strided<'_>,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        let &ColumnSumSpec {
            rows,
            cols,
            ld,
            in_off,
            out_off,
        } = spec;
        check_fits_rep(
            "column-sum input",
            src,
            extent(rows, cols, ld, in_off),
            replicas,
        )?;
        check_fits_rep("column-sum output", out, out_off + cols, replicas)?;
        self.check_loop_budget("column sums", rows as u64)?;
        let params = ReduceParams {
            n: to_u32("rows", rows)?,
            cols: to_u32("cols", cols)?,
            ld: to_u32("ld", ld)?,
            in_off: to_u32("in_off", in_off)?,
            out_off: to_u32("out_off", out_off)?,
            groups: 0,
            in_rs: src.stride_u32()?,
            out_rs: out.stride_u32()?,
        };
        let groups = self.with_replicas(
            "column sums",
            self.grid_1d("column sums", cols, COLUMN_SUMS_WORKGROUP)?,
            replicas,
        )?;
        let key = KernelKey {
            family: Family::Reduce,
            entry: "column_sums",
            overrides: vec![("ACCUMULATE", accumulate as i64)],
            template: Family::Reduce.default_template(),
            bindings: vec![Binding::Uniform, Binding::Read, Binding::Write],
        };
        let uniform = self.uniform("column_sums", &params);
        Ok(self.bind(&key, &[&uniform, src.raw(), out.raw()], groups))
    }

    /// Prepares a deterministic two-stage reduction of src[0..n] into out[0]; `scratch` must
    /// hold [`GpuContext::reduce_scratch_len`] elements. Returns the two launches, in order.
    pub fn reduce(
        &self,
        op: ReduceOp,
        n: usize,
        src: &GpuBuffer,
        scratch: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<[Dispatch; 2], GpuError> {
        check_fits("reduction input", src, n)?;
        let groups = Self::reduce_groups(n);
        check_fits("reduction scratch", scratch, 2 * groups)?;
        check_fits("reduction output", out, 1)?;
        let code = match op {
            ReduceOp::Sum => 0,
            ReduceOp::Max => 1,
            ReduceOp::LogSumExp => 2,
        };
        let bindings = vec![Binding::Uniform, Binding::Read, Binding::Write];
        let partial = KernelKey {
            family: Family::Reduce,
            entry: "reduce_partial",
            overrides: vec![("OP", code)],
            template: vec![(SUBGROUPS, u32::from(self.reduce_subgroups()))],
            bindings: bindings.clone(),
        };
        let finish = KernelKey {
            entry: "reduce_finish",
            ..partial.clone()
        };
        let params = ReduceParams {
            n: to_u32("n", n)?,
            cols: groups as u32,
            ld: 0,
            in_off: 0,
            out_off: 0,
            groups: groups as u32,
            in_rs: 0,
            out_rs: 0,
        };
        let uniform = self.uniform("reduce", &params);
        Ok([
            self.bind(
                &partial,
                &[&uniform, &src.buffer, &scratch.buffer],
                [groups as u32, 1, 1],
            ),
            self.bind(
                &finish,
                &[&uniform, &scratch.buffer, &out.buffer],
                [1, 1, 1],
            ),
        ])
    }

    /// First-stage workgroups for a reduction of n elements: enough to fill a GPU, few enough
    /// that one workgroup finishes the partials quickly.
    fn reduce_groups(n: usize) -> usize {
        n.div_ceil(256 * 8).clamp(1, 1024)
    }

    /// Scratch elements a reduction of n elements needs.
    pub fn reduce_scratch_len(n: usize) -> usize {
        2 * Self::reduce_groups(n)
    }
}
