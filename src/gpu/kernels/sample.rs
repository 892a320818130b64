//! Minibatches, negatives, synthetic batches of the staircase task and raw random streams
//! drawn on the device (`sample.wgsl`). CPU twins: [`crate::cpu::ops::gather_shuffled`] and
//! [`crate::math::sampling`].

use bytemuck::{Pod, Zeroable};

use super::{
    check_at_least, check_fits, check_fits_rep, check_replicas, state, to_u32, Strided,
    MAX_REPLICAS,
};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::rows::{DeviceRows, MAX_PARTS};
use crate::gpu::shaders::Family;
use crate::math::rng::{seed_key, Purpose};
use crate::math::sampling::Transform;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SampleParams {
    n: u32,
    k: u32,
    dx: u32,
    dy: u32,
    ld: u32,
    purpose: u32,
    step: u32,
    rows_per_part: u32,
    out_rs: u32,
    out_y_rs: u32,
    rows_rs: u32,
    rho_rs: u32,
}

impl SampleParams {
    /// The uniform block of a launch of `seeds.len()` replicas: these parameters, then each
    /// replica's key.
    fn uniform(&self, ctx: &GpuContext, label: &str, seeds: &[u64]) -> wgpu::Buffer {
        let keys: Vec<[u32; 2]> = seeds.iter().map(|&s| seed_key(s)).collect();
        ctx.uniform_with_table(label, self, &keys, KEY_TABLE_BYTES)
    }
}

/// Bytes of `sample.wgsl`'s key table (`keys`: two a vec4).
const KEY_TABLE_BYTES: usize = MAX_REPLICAS * 8;

/// The workgroup size of every `sample.wgsl` entry point, one invocation a row or element.
const WORKGROUP: usize = 64;

/// Binding slots of `sample.wgsl` in order: the uniform, x, y, out (the shuffled layout or
/// the x half), state, out_y (the y half), rho. Entries list what they use.
const SPLIT_BINDINGS: [Binding; 7] = [
    Binding::Uniform,
    Binding::Read,
    Binding::Read,
    Binding::Write,
    Binding::Read,
    Binding::Write,
    Binding::Unused,
];

/// The gathers' bindings: [`SPLIT_BINDINGS`]' first six (`out_y` unused by
/// `gather_shuffled`), `rho` unused, then parts 1..4 of x and of y (bindings 7..13).
fn gather_bindings(split: bool) -> Vec<Binding> {
    let mut b = SPLIT_BINDINGS.to_vec();
    if !split {
        b[5] = Binding::Unused;
    }
    b.extend([Binding::Read; 2 * (MAX_PARTS - 1)]);
    b
}

/// The buffers of [`gather_bindings`] in order (unused slots repeat `out`).
fn gather_resources<'a>(
    uniform: &'a wgpu::Buffer,
    x: &'a DeviceRows,
    y: &'a DeviceRows,
    out: &'a wgpu::Buffer,
    state_buf: &'a wgpu::Buffer,
    out_y: &'a wgpu::Buffer,
) -> Vec<&'a wgpu::Buffer> {
    let mut r = vec![
        uniform,
        x.binding(0),
        y.binding(0),
        out,
        state_buf,
        out_y,
        out,
    ];
    r.extend((1..MAX_PARTS).map(|p| x.binding(p)));
    r.extend((1..MAX_PARTS).map(|p| y.binding(p)));
    r
}

/// The data rows the replicas of a gather draw from: replica r's n rows are rows
/// r · `stride` .. r · `stride` + n of `x` and `y` (stride 0: every replica draws from the same
/// rows; stride n: each replica's own data, concatenated).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReplicaRows<'a> {
    pub(crate) x: &'a DeviceRows,
    pub(crate) y: &'a DeviceRows,
    /// Rows a replica draws from.
    pub(crate) n: usize,
    /// Rows from one replica's first row to the next's.
    pub(crate) stride: usize,
}

impl<'a> ReplicaRows<'a> {
    /// Every row of `x` and `y`, for every replica.
    pub(crate) fn shared(x: &'a DeviceRows, y: &'a DeviceRows) -> Self {
        Self {
            x,
            y,
            n: x.rows(),
            stride: 0,
        }
    }
}

/// The largest K·d of a synthetic batch: x's draws take normal indices below 2³¹ and the
/// noise's the ones above (`math::sampling::NOISE_OFFSET`).
const MAX_SYNTHETIC_ELEMENTS: usize = 1 << 31;

/// Refuses two output operands that are one buffer: the halves would overwrite each other.
fn check_distinct(a: &GpuBuffer, b: &GpuBuffer) -> Result<(), GpuError> {
    if a.buffer == b.buffer {
        return Err(GpuError::Aliased {
            what: "the x half of a batch",
            other: "the y half",
        });
    }
    Ok(())
}

/// What a fill kernel writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleFill {
    /// n standard normals.
    Normal,
    /// The 4n raw words of blocks 0..n, as bit patterns.
    Words,
    /// σ(0..n) of a random permutation, then the derangement π(0..n) built from it.
    Permutation,
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares the minibatch draw of one training step: out (2k × (dx+dy)) receives k joint
    /// rows [x_i ; y_i] and k product rows [x_i ; y_π(i)], drawn for the step in `state`.
    #[allow(clippy::too_many_arguments)]
    pub fn gather_shuffled(
        &self,
        seed: u64,
        n: usize,
        k: usize,
        xs: (&GpuBuffer, usize),
        ys: (&GpuBuffer, usize),
        out: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let (x, y) = (
            DeviceRows::whole(xs.0, n, xs.1)?,
            DeviceRows::whole(ys.0, n, ys.1)?,
        );
        self.gather_shuffled_rows(seed, k, &x, &y, out, state_buf)
    }

    /// [`Self::gather_shuffled`] from data that may be split over several buffers
    /// ([`GpuContext::upload_rows`]).
    pub fn gather_shuffled_rows(
        &self,
        seed: u64,
        k: usize,
        x: &DeviceRows,
        y: &DeviceRows,
        out: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let rows = ReplicaRows::shared(x, y);
        self.gather_shuffled_replicated(&[seed], k, &rows, Strided::shared(out), state_buf)
    }

    /// [`Self::gather_shuffled_rows`] of R = `seeds.len()` replicas in one launch: replica r
    /// draws from its rows of `rows` with seed `seeds[r]` and its state (at r ·
    /// [`state::LEN`]) into its block of `out`.
    pub(crate) fn gather_shuffled_replicated(
        &self,
        seeds: &[u64],
        k: usize,
        rows: &ReplicaRows<'_>,
        out: Strided<'_>,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let replicas = seeds.len();
        let mut params = Self::gather_params(replicas, k, 2, rows, state_buf)?;
        let (x, y) = (rows.x, rows.y);
        let (dx, dy) = (x.cols(), y.cols());
        check_fits_rep("batch", out, 2 * k * (dx + dy), replicas)?;
        params.ld = to_u32("dx + dy", dx + dy)?;
        params.out_rs = out.stride_u32()?;
        let groups =
            self.with_replicas("gather", self.grid("gather", 2 * k, WORKGROUP)?, replicas)?;
        let key = KernelKey {
            family: Family::Sample,
            entry: "gather_shuffled",
            overrides: vec![],
            template: Vec::new(),
            bindings: gather_bindings(false),
        };
        let uniform = params.uniform(self, "gather", seeds);
        let o = out.raw();
        let resources = gather_resources(&uniform, x, y, o, &state_buf.buffer, o);
        Ok(self.bind(&key, &resources, groups))
    }

    /// Prepares the batch of one step for the full-matrix critics: `xb` (k × dx) and `yb`
    /// (k × dy) receive the data rows σ(0..k) of the step's minibatch permutation
    /// (Purpose::Minibatch, step = `state[0]`), the very rows that form the joint half of
    /// [`Self::gather_shuffled`] at that step. Twin: [`crate::math::sampling::gather_batch`].
    ///
    /// Errors unless 1 ≤ k ≤ n, dx, dy ≥ 1, every operand holds what it must and `xb`, `yb`
    /// are different buffers.
    #[allow(clippy::too_many_arguments)]
    pub fn gather_batch(
        &self,
        seed: u64,
        n: usize,
        k: usize,
        xs: (&GpuBuffer, usize),
        ys: (&GpuBuffer, usize),
        xb: &GpuBuffer,
        yb: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let (x, y) = (
            DeviceRows::whole(xs.0, n, xs.1)?,
            DeviceRows::whole(ys.0, n, ys.1)?,
        );
        self.gather_batch_rows(seed, k, &x, &y, xb, yb, state_buf)
    }

    /// [`Self::gather_batch`] from data that may be split over several buffers
    /// ([`GpuContext::upload_rows`]).
    #[allow(clippy::too_many_arguments)]
    pub fn gather_batch_rows(
        &self,
        seed: u64,
        k: usize,
        x: &DeviceRows,
        y: &DeviceRows,
        xb: &GpuBuffer,
        yb: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let rows = ReplicaRows::shared(x, y);
        let solo = Strided::shared;
        self.gather_batch_replicated(&[seed], k, &rows, [solo(xb), solo(yb)], state_buf)
    }

    /// [`Self::gather_batch_rows`] of R = `seeds.len()` replicas in one launch: replica r
    /// draws from its rows of `rows` with seed `seeds[r]` and its state into its blocks of
    /// `xb` and `yb`.
    pub(crate) fn gather_batch_replicated(
        &self,
        seeds: &[u64],
        k: usize,
        rows: &ReplicaRows<'_>,
        [xb, yb]: [Strided<'_>; 2],
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let replicas = seeds.len();
        let mut params = Self::gather_params(replicas, k, 1, rows, state_buf)?;
        let (x, y) = (rows.x, rows.y);
        let (dx, dy) = (x.cols(), y.cols());
        check_at_least("x's columns", dx, 1)?;
        check_at_least("y's columns", dy, 1)?;
        check_fits_rep("x batch", xb, k * dx, replicas)?;
        check_fits_rep("y batch", yb, k * dy, replicas)?;
        check_distinct(xb.buffer, yb.buffer)?;
        params.out_rs = xb.stride_u32()?;
        params.out_y_rs = yb.stride_u32()?;
        let groups = self.with_replicas(
            "gather_batch",
            self.grid("gather_batch", k, WORKGROUP)?,
            replicas,
        )?;
        let key = KernelKey {
            family: Family::Sample,
            entry: "gather_batch",
            overrides: vec![],
            template: Vec::new(),
            bindings: gather_bindings(true),
        };
        let uniform = params.uniform(self, "gather_batch", seeds);
        let resources = gather_resources(&uniform, x, y, xb.raw(), &state_buf.buffer, yb.raw());
        Ok(self.bind(&key, &resources, groups))
    }

    /// Prepares one step of the synthetic correlated Gaussian (the staircase) drawn on the
    /// device, so a benchmark never waits on the host: for the step t in `state[0]`, `xb`
    /// (k × d) receives standard normals and `yb` (k × d) y = transform(ρ_t x + √(1−ρ_t²) ε),
    /// with ρ_t = `rho[min(t, len − 1)]` (e.g. [`crate::experiments::tasks::Staircase::rho_schedule`]).
    /// Draws are keyed by (seed, Purpose::Gaussian, t, element); see [`crate::math::sampling`],
    /// whose [`sample_gaussian_batch`](crate::math::sampling::sample_gaussian_batch) is the twin.
    ///
    /// Errors unless k, d ≥ 1, k·d ≤ 2³¹, `rho` is not empty, the outputs hold k·d elements
    /// and are different buffers.
    #[allow(clippy::too_many_arguments)]
    pub fn sample_gaussian_batch(
        &self,
        seed: u64,
        k: usize,
        d: usize,
        transform: Transform,
        rho: &GpuBuffer,
        xb: &GpuBuffer,
        yb: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.sample_gaussian_batch_replicated(
            &[seed],
            (k, d),
            transform,
            (solo(rho), rho.len()),
            [solo(xb), solo(yb)],
            state_buf,
        )
    }

    /// [`Self::sample_gaussian_batch`] of R = `seeds.len()` replicas in one launch: replica r
    /// draws with seed `seeds[r]` and its state, reads its schedule of `rho.1` entries at
    /// `rho.0`'s stride, and writes its blocks of `xb` and `yb`.
    pub(crate) fn sample_gaussian_batch_replicated(
        &self,
        seeds: &[u64],
        (k, d): (usize, usize),
        transform: Transform,
        rho: (Strided<'_>, usize),
        [xb, yb]: [Strided<'_>; 2],
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let replicas = seeds.len();
        let mut params = self.synthetic_params(replicas, k, d, 1, rho, state_buf)?;
        check_fits_rep("x batch", xb, k * d, replicas)?;
        check_fits_rep("y batch", yb, k * d, replicas)?;
        check_distinct(xb.buffer, yb.buffer)?;
        params.out_rs = xb.stride_u32()?;
        params.out_y_rs = yb.stride_u32()?;
        let entry = "sample_gaussian_batch";
        let groups = self.with_replicas(entry, self.grid(entry, k * d, WORKGROUP)?, replicas)?;
        let mut bindings = SPLIT_BINDINGS.to_vec();
        bindings[1] = Binding::Unused;
        bindings[2] = Binding::Unused;
        bindings[6] = Binding::Read;
        let key = KernelKey {
            family: Family::Sample,
            entry,
            overrides: vec![("TRANSFORM", transform.shader_code())],
            template: Vec::new(),
            bindings,
        };
        let uniform = params.uniform(self, entry, seeds);
        let (xo, yo) = (xb.raw(), yb.raw());
        Ok(self.bind(
            &key,
            &[&uniform, xo, xo, xo, &state_buf.buffer, yo, rho.0.raw()],
            groups,
        ))
    }

    /// Prepares the draws of [`Self::sample_gaussian_batch`] in [`Self::gather_shuffled`]'s
    /// layout, so the joint critic (shuffled negatives) can train on the staircase too: `out`
    /// (2k × 2d) receives the k joint rows [x_i ; y_i], then the k rows [x_i ; y_π(i)] with π the
    /// same (seed, Negatives, step) derangement `gather_shuffled` uses. Twin:
    /// [`crate::math::sampling::sample_gaussian_shuffled`].
    ///
    /// Errors unless k ≥ 2 (a derangement needs two rows), d ≥ 1, k·d ≤ 2³¹, `rho` is not
    /// empty and `out` holds 4·k·d elements.
    #[allow(clippy::too_many_arguments)]
    pub fn sample_gaussian_shuffled(
        &self,
        seed: u64,
        k: usize,
        d: usize,
        transform: Transform,
        rho: &GpuBuffer,
        out: &GpuBuffer,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.sample_gaussian_shuffled_replicated(
            &[seed],
            (k, d),
            transform,
            (solo(rho), rho.len()),
            solo(out),
            state_buf,
        )
    }

    /// [`Self::sample_gaussian_shuffled`] of R = `seeds.len()` replicas in one launch (see
    /// [`Self::sample_gaussian_batch_replicated`]).
    pub(crate) fn sample_gaussian_shuffled_replicated(
        &self,
        seeds: &[u64],
        (k, d): (usize, usize),
        transform: Transform,
        rho: (Strided<'_>, usize),
        out: Strided<'_>,
        state_buf: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let replicas = seeds.len();
        let mut params = self.synthetic_params(replicas, k, d, 2, rho, state_buf)?;
        check_fits_rep("batch", out, 4 * k * d, replicas)?;
        params.out_rs = out.stride_u32()?;
        let entry = "sample_gaussian_shuffled";
        let groups =
            self.with_replicas(entry, self.grid(entry, 4 * k * d, WORKGROUP)?, replicas)?;
        let key = KernelKey {
            family: Family::Sample,
            entry,
            overrides: vec![("TRANSFORM", transform.shader_code())],
            template: Vec::new(),
            bindings: vec![
                Binding::Uniform,
                Binding::Unused,
                Binding::Unused,
                Binding::Write,
                Binding::Read,
                Binding::Unused,
                Binding::Read,
            ],
        };
        let uniform = params.uniform(self, entry, seeds);
        let o = out.raw();
        Ok(self.bind(
            &key,
            &[&uniform, o, o, o, &state_buf.buffer, o, rho.0.raw()],
            groups,
        ))
    }

    /// Validates the operands shared by the gathers from data (`min_k` is 2 where a
    /// derangement is drawn) and fills their uniform block (`ld` and the output strides
    /// left 0).
    fn gather_params(
        replicas: usize,
        k: usize,
        min_k: usize,
        rows: &ReplicaRows<'_>,
        state_buf: &GpuBuffer,
    ) -> Result<SampleParams, GpuError> {
        check_replicas(replicas)?;
        let (x, y) = (rows.x, rows.y);
        let n = rows.n;
        if y.rows() != x.rows() {
            return Err(GpuError::Shape {
                what: "y (as many rows as x)",
                len: y.rows() * y.cols(),
                rows: x.rows(),
                cols: y.cols(),
            });
        }
        if x.rows_per_part() != y.rows_per_part() {
            return Err(GpuError::Range {
                what: "y's rows a part (as x's)",
                value: y.rows_per_part() as u64,
                min: x.rows_per_part() as u64,
                max: x.rows_per_part() as u64,
            });
        }
        // Every replica's rows lie in the data.
        let reach = (replicas - 1)
            .checked_mul(rows.stride)
            .and_then(|o| o.checked_add(n));
        if reach.is_none_or(|r| r > x.rows()) {
            return Err(GpuError::Range {
                what: "the replicas' data rows (at most the rows uploaded)",
                value: reach.unwrap_or(usize::MAX) as u64,
                min: 0,
                max: x.rows() as u64,
            });
        }
        if k < min_k || k > n {
            return Err(GpuError::Range {
                what: "the batch K (at most the rows)",
                value: k as u64,
                min: min_k as u64,
                max: n as u64,
            });
        }
        check_fits("state", state_buf, replicas * state::LEN)?;
        Ok(SampleParams {
            n: to_u32("rows", n)?,
            k: to_u32("batch", k)?,
            dx: to_u32("dx", x.cols())?,
            dy: to_u32("dy", y.cols())?,
            ld: 0,
            purpose: 0,
            step: 0,
            rows_per_part: to_u32("rows per part", x.rows_per_part())?,
            out_rs: 0,
            out_y_rs: 0,
            rows_rs: to_u32("rows a replica", rows.stride)?,
            rho_rs: 0,
        })
    }

    /// Validates the operands shared by the synthetic-batch kernels (`min_k` is 2 where a
    /// derangement is drawn) and fills their uniform block (the output strides left 0).
    fn synthetic_params(
        &self,
        replicas: usize,
        k: usize,
        d: usize,
        min_k: usize,
        (rho, rho_len): (Strided<'_>, usize),
        state_buf: &GpuBuffer,
    ) -> Result<SampleParams, GpuError> {
        check_replicas(replicas)?;
        check_at_least("a synthetic batch K", k, min_k)?;
        check_at_least("a synthetic batch's width d", d, 1)?;
        if k.checked_mul(d).is_none_or(|e| e > MAX_SYNTHETIC_ELEMENTS) {
            return Err(GpuError::Overflow {
                what: "a synthetic batch's elements K·d",
                value: k as u128 * d as u128,
                limit: "2^31 elements",
            });
        }
        check_at_least("the ρ schedule's length", rho_len, 1)?;
        check_fits_rep("the ρ schedule", rho, rho_len, replicas)?;
        check_fits("state", state_buf, replicas * state::LEN)?;
        Ok(SampleParams {
            n: to_u32("ρ schedule length", rho_len)?,
            k: to_u32("batch", k)?,
            dx: to_u32("d", d)?,
            dy: to_u32("d", d)?,
            ld: to_u32("2d", 2 * d)?,
            purpose: Purpose::Gaussian as u32,
            step: 0,
            rows_per_part: 0,
            out_rs: 0,
            out_y_rs: 0,
            rows_rs: 0,
            rho_rs: rho.stride_u32()?,
        })
    }

    /// Prepares a fill of `out` from stream (seed, purpose, step): see [`SampleFill`].
    pub fn sample_fill(
        &self,
        what: SampleFill,
        seed: u64,
        purpose: Purpose,
        step: u32,
        n: usize,
        out: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let (entry, len) = match what {
            SampleFill::Normal => ("fill_normal", n),
            SampleFill::Words => ("fill_words", 4 * n),
            SampleFill::Permutation => {
                check_at_least("a derangement's elements", n, 2)?;
                ("fill_permutation", 2 * n)
            }
        };
        check_fits("fill output", out, len)?;
        let params = SampleParams {
            n: to_u32("n", n)?,
            k: 0,
            dx: 0,
            dy: 0,
            ld: 0,
            purpose: purpose as u32,
            step,
            rows_per_part: 0,
            out_rs: 0,
            out_y_rs: 0,
            rows_rs: 0,
            rho_rs: 0,
        };
        let groups = self.grid(entry, n, WORKGROUP)?;
        let key = KernelKey {
            family: Family::Sample,
            entry,
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![
                Binding::Uniform,
                Binding::Unused,
                Binding::Unused,
                Binding::Write,
                Binding::Unused,
            ],
        };
        let uniform = params.uniform(self, entry, &[seed]);
        let o = &out.buffer;
        Ok(self.bind(&key, &[&uniform, o, o, o, o], groups))
    }
}

#[cfg(test)]
mod tests {
    use crate::gpu::shaders::{check_replica_table, Family};

    #[test]
    fn the_replica_table_sits_where_the_host_writes_it() {
        let header = std::mem::size_of::<super::SampleParams>();
        check_replica_table(Family::Sample, "SampleParams", header, "keys", 8);
    }
}
