//! Column sums and two-stage reductions (`reduce.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, check_fits_rep, to_u32, Strided, SOFTWARE_LOOP_BUDGET};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::ReduceGeometry;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
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
    /// Prepares the column sums of `spec` from `src` into `out` in one pass (each invocation
    /// adds a whole column; refused past a software adapter's loop limit).
    pub fn column_sums(
        &self,
        spec: &ColumnSumSpec,
        src: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let rows = spec.rows.max(1);
        self.column_sum_pass(1, spec, rows, Strided::shared(src), Strided::shared(out))
    }

    /// Prepares the column sums of `spec` in this context's geometry for the shape
    /// ([`Self::reduce_geometry`]): one pass, or, where the geometry splits long columns or a
    /// software adapter's loop limit would refuse them (the concat critic's bias gradients
    /// sum over K² pairs), partial sums over consecutive ranges of rows in parallel
    /// invocations, then their sum in order (no float atomics).
    pub fn column_sum_launches(
        &self,
        spec: &ColumnSumSpec,
        src: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let g = self.reduce_geometry(spec.rows, spec.cols);
        self.column_sum_launches_with(spec, src, out, g)
    }

    /// [`Self::column_sum_launches`] in the geometry chosen by the caller.
    pub fn column_sum_launches_with(
        &self,
        spec: &ColumnSumSpec,
        src: &GpuBuffer,
        out: &GpuBuffer,
        geometry: ReduceGeometry,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let solo = Strided::shared;
        self.column_sum_launches_replicated(1, spec, solo(src), solo(out), geometry)
    }

    /// [`Self::column_sum_launches_with`] of `replicas` inputs at once, replica r's blocks of
    /// `src` and `out` at their strides; the launches are one replica's.
    pub(crate) fn column_sum_launches_replicated(
        &self,
        replicas: usize,
        spec: &ColumnSumSpec,
        src: Strided<'_>,
        out: Strided<'_>,
        geometry: ReduceGeometry,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let rows = spec.rows.max(1);
        let mut part = match geometry.column_split {
            0 => rows,
            n => n as usize,
        };
        if self.adapter().is_software {
            part = part.min(SOFTWARE_LOOP_BUDGET as usize);
        }
        if part >= rows {
            return Ok(vec![self.column_sum_pass(replicas, spec, rows, src, out)?]);
        }
        let parts = rows.div_ceil(part);
        let per_replica = parts * spec.cols;
        let partials = self.zeros("column partial sums", replicas * per_replica)?;
        let partials = Strided::new(&partials, per_replica);
        let into_partials = ColumnSumSpec {
            out_off: 0,
            ..*spec
        };
        let finish = ColumnSumSpec {
            rows: parts,
            cols: spec.cols,
            ld: spec.cols,
            in_off: 0,
            out_off: spec.out_off,
        };
        Ok(vec![
            self.column_sum_pass(replicas, &into_partials, part, src, partials)?,
            self.column_sum_finish(replicas, &finish, partials, out)?,
        ])
    }

    /// One launch of `replicas` column sums, an invocation a column and `part` rows: the sums
    /// when `part` covers the rows, else the partial sums, part q's at `out[q·cols + j]`.
    fn column_sum_pass(
        &self,
        replicas: usize,
        spec: &ColumnSumSpec,
        part: usize,
        src: Strided<'_>,
        out: Strided<'_>,
    ) -> Result<Dispatch, GpuError> {
        let &ColumnSumSpec {
            rows,
            cols,
            ld,
            in_off,
            out_off,
        } = spec;
        let parts = rows.div_ceil(part).max(1);
        check_fits_rep(
            "column-sum input",
            src,
            extent(rows, cols, ld, in_off),
            replicas,
        )?;
        check_fits_rep("column-sum output", out, out_off + parts * cols, replicas)?;
        self.check_loop_budget("column sums", part as u64)?;
        let params = ReduceParams {
            n: to_u32("rows", rows)?,
            cols: to_u32("cols", cols)?,
            ld: to_u32("ld", ld)?,
            in_off: to_u32("in_off", in_off)?,
            out_off: to_u32("out_off", out_off)?,
            groups: to_u32("rows a part", part)?,
            in_rs: src.stride_u32()?,
            out_rs: out.stride_u32()?,
        };
        let grid = self.grid("column sums", parts * cols, COLUMN_SUMS_WORKGROUP)?;
        self.column_launch("column_sums", params, src, out, grid, replicas)
    }

    /// The column sums' second pass: out[j] = Σ_q partials[q·cols + j], q ascending
    /// (`spec.rows` partial sums a column).
    fn column_sum_finish(
        &self,
        replicas: usize,
        spec: &ColumnSumSpec,
        partials: Strided<'_>,
        out: Strided<'_>,
    ) -> Result<Dispatch, GpuError> {
        check_fits_rep("column-sum output", out, spec.out_off + spec.cols, replicas)?;
        self.check_loop_budget("column partial sums", spec.rows as u64)?;
        let params = ReduceParams {
            n: to_u32("parts", spec.rows)?,
            cols: to_u32("cols", spec.cols)?,
            ld: to_u32("ld", spec.ld)?,
            in_off: 0,
            out_off: to_u32("out_off", spec.out_off)?,
            groups: 0,
            in_rs: partials.stride_u32()?,
            out_rs: out.stride_u32()?,
        };
        let grid = self.grid_1d("column sums", spec.cols, COLUMN_SUMS_WORKGROUP)?;
        self.column_launch("column_sums_finish", params, partials, out, grid, replicas)
    }

    fn column_launch(
        &self,
        entry: &'static str,
        params: ReduceParams,
        src: Strided<'_>,
        out: Strided<'_>,
        grid: [u32; 3],
        replicas: usize,
    ) -> Result<Dispatch, GpuError> {
        let groups = self.with_replicas("column sums", grid, replicas)?;
        let key = KernelKey {
            family: Family::Reduce,
            entry,
            overrides: Vec::new(),
            template: Family::Reduce.default_template(),
            bindings: vec![Binding::Uniform, Binding::Read, Binding::Write],
        };
        let uniform = self.uniform(entry, &params);
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
            template: self.two_stage_geometry().constants(),
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
    /// that one workgroup finishes the partials quickly (whatever the geometry's workgroup,
    /// so the scratch does not depend on it).
    fn reduce_groups(n: usize) -> usize {
        n.div_ceil(256 * 8).clamp(1, 1024)
    }

    /// Scratch elements a reduction of n elements needs.
    pub fn reduce_scratch_len(n: usize) -> usize {
        2 * Self::reduce_groups(n)
    }
}
