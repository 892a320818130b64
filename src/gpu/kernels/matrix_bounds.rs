//! Bounds over the full K×K score matrix (`matrix_bounds.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::bounds::{bound_table, check_outputs_distinct};
use super::{check_at_least, check_fits, check_fits_rep, state, to_u32, Strided, VEC4_TABLE_BYTES};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::FusedGeometry;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::gpu::tune::FusedPass;
use crate::math::bounds::Bound;
use crate::math::linalg::GemmSpec;
use Binding::{Read as R, Uniform as U, Unused as N, Write as W};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatrixParams {
    k: u32,
    hist_len: u32,
    e: u32,
    j0: u32,
    j1: u32,
    s_rs: u32,
    baseline_rs: u32,
    ds_rs: u32,
    db_rs: u32,
    scratch_rs: u32,
    h_rs: u32,
    ld: u32,
    jbase: u32,
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

/// The buffers of one fused evaluation of a bound on the separable scores S = G·Hᵀ
/// ([`GpuContext::fused_bound`]): S is never stored, every S_ij is recomputed as dot(G_i, H_j).
pub struct FusedBoundBuffers<'a> {
    /// G (K×e, row-major): the x tower's embeddings.
    pub g: &'a GpuBuffer,
    /// H (K×e, row-major): the y tower's embeddings.
    pub h: &'a GpuBuffer,
    /// For the bounds with a learned log-baseline: b_j (K values) and where ∂(−L)/∂b goes.
    pub baseline: Option<(&'a GpuBuffer, &'a GpuBuffer)>,
    /// Where ∂(−L)/∂G and ∂(−L)/∂H go (K×e each); `None` for the value alone (evaluation).
    pub grads: Option<(&'a GpuBuffer, &'a GpuBuffer)>,
    /// The value history: the value goes to hist[step % hist.len()].
    pub hist: &'a GpuBuffer,
    /// The device state ([`state::LEN`] elements): step counter, flags, MINE's EMA.
    pub state: &'a GpuBuffer,
    /// Working space of [`GpuContext::matrix_bound_scratch_len`] elements (O(K)).
    pub scratch: &'a GpuBuffer,
}

/// Per-row statistics, per-column statistics (α-InfoNCE) and globals, as laid out in
/// `matrix_bounds.wgsl`'s scratch.
const ROW_LEN: usize = 3;
const COL_LEN: usize = 9;
const GLOBAL_LEN: usize = 2;

/// Loop iterations one invocation of a line kernel may run in one launch on a software
/// rasteriser ([`super::SOFTWARE_LOOP_BUDGET`]): the line kernels split the other index over
/// launches that each stay below it.
const SOFTWARE_LOOP_BUDGET: usize = super::SOFTWARE_LOOP_BUDGET as usize;

/// `grad`'s workgroup size (`WG` in `matrix_bounds.wgsl`).
const GRAD_WORKGROUP: usize = 256;

/// The operands of [`GpuContext::bound_launches`] for R replicas: `s` is the K×K scores, or
/// G when `h` holds H; `grads` is where ∂S goes (materialised), or where dG and dH go
/// (fused). Replica r's blocks are at the operands' strides, its history the `hist.1` slots
/// from r · `hist.1`, its state at r · [`state::LEN`].
pub(crate) struct Operands<'a> {
    pub(crate) s: Strided<'a>,
    pub(crate) h: Option<Strided<'a>>,
    pub(crate) baseline: Option<(Strided<'a>, Strided<'a>)>,
    pub(crate) grads: Option<(Strided<'a>, Option<Strided<'a>>)>,
    pub(crate) hist: (&'a GpuBuffer, usize),
    pub(crate) state: &'a GpuBuffer,
    pub(crate) scratch: Strided<'a>,
}

/// The passes down every column the fused form of `bound` makes: α-InfoNCE's `col_stats`
/// four, TUBA's `baseline_grad` two.
fn column_passes(bound: Bound) -> usize {
    match bound {
        Bound::AlphaInfoNce { .. } => 4,
        Bound::Tuba => 2,
        _ => 0,
    }
}

/// Loop iterations the fused column passes of `bound` run in one invocation at K and e in
/// `geometry` (blocks of `cols` rows).
fn fused_column_loops(bound: Bound, k: usize, e: usize, geometry: &FusedGeometry) -> usize {
    column_passes(bound) * k.div_ceil(geometry.cols as usize) * geometry.loops_per_block(e, 1)
}

fn check_k(k: usize) -> Result<(), GpuError> {
    check_at_least("the score matrix's K (off-diagonal pairs)", k, 2)
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
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
        let solo = Strided::shared;
        self.matrix_bound_replicated(
            &[bound],
            k,
            &Operands {
                s: solo(io.s),
                h: None,
                baseline: io.baseline.map(|(b, db)| (solo(b), solo(db))),
                grads: Some((solo(io.ds), None)),
                hist: (io.hist, io.hist.len()),
                state: io.state,
                scratch: solo(io.scratch),
            },
        )
    }

    /// [`Self::matrix_bound`] of R = `bounds.len()` replicas (one kind, each its own
    /// parameters) in the same launches: `io.s` the scores, `io.grads` = (∂S, None).
    pub(crate) fn matrix_bound_replicated(
        &self,
        bounds: &[Bound],
        k: usize,
        io: &Operands,
    ) -> Result<Vec<Dispatch>, GpuError> {
        check_k(k)?;
        let kk = k.checked_mul(k).ok_or(GpuError::Overflow {
            what: "K²",
            value: k as u128 * k as u128,
            limit: "usize",
        })?;
        to_u32("K²", kk)?;
        let r = bounds.len();
        check_fits_rep("scores", io.s, kk, r)?;
        match io.grads {
            Some((ds, None)) => check_fits_rep("score gradients", ds, kk, r)?,
            _ => {
                return Err(GpuError::Operand {
                    what: "a bound on the score matrix",
                    rule: "needs one buffer for the score gradients",
                })
            }
        }
        let forward = self.fused_geometry(FusedPass::Forward, k, 0)?;
        self.bound_launches(bounds, k, None, io, (forward, forward))
    }

    /// Prepares the launches that evaluate `bound` on the separable scores S = G·Hᵀ of
    /// `io.g` and `io.h` (K×e each) without storing S (or ∂S): the value, flags and MINE's
    /// average as [`GpuContext::matrix_bound`] gives them, and, with `io.grads`, ∂(−L)/∂G =
    /// ∂S·H and ∂(−L)/∂H = ∂Sᵀ·G, each summed in index order, plus ∂(−L)/∂b for the baseline
    /// bounds. Memory O(K·e); work O(K²·e) a pass. Run them in order, in one pass.
    pub fn fused_bound(
        &self,
        bound: Bound,
        k: usize,
        e: usize,
        io: &FusedBoundBuffers,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let solo = Strided::shared;
        self.fused_bound_replicated(
            &[bound],
            k,
            e,
            &Operands {
                s: solo(io.g),
                h: Some(solo(io.h)),
                baseline: io.baseline.map(|(b, db)| (solo(b), solo(db))),
                grads: io.grads.map(|(dg, dh)| (solo(dg), Some(solo(dh)))),
                hist: (io.hist, io.hist.len()),
                state: io.state,
                scratch: solo(io.scratch),
            },
        )
    }

    /// [`Self::fused_bound`] of R = `bounds.len()` replicas (one kind, each its own
    /// parameters) in the same launches: `io.s` is G, `io.h` H, `io.grads` (dG, dH) if any.
    pub(crate) fn fused_bound_replicated(
        &self,
        bounds: &[Bound],
        k: usize,
        e: usize,
        io: &Operands,
    ) -> Result<Vec<Dispatch>, GpuError> {
        check_k(k)?;
        check_at_least("the embedding width e", e, 1)?;
        let ke = k.checked_mul(e).ok_or(GpuError::Overflow {
            what: "K·e",
            value: k as u128 * e as u128,
            limit: "usize",
        })?;
        // Every index the kernels form is below K·e + e.
        to_u32("K·e", ke + e)?;
        let r = bounds.len();
        let h = io.h.ok_or(GpuError::Operand {
            what: "a fused bound",
            rule: "needs H",
        })?;
        check_fits_rep("G", io.s, ke, r)?;
        check_fits_rep("H", h, ke, r)?;
        match io.grads {
            Some((dg, Some(dh))) => {
                check_fits_rep("dG", dg, ke, r)?;
                check_fits_rep("dH", dh, ke, r)?;
            }
            Some((_, None)) => {
                return Err(GpuError::Operand {
                    what: "a fused bound",
                    rule: "needs dG and dH, or no gradients",
                })
            }
            None => {}
        }
        let geometry = (
            self.fused_geometry(FusedPass::Forward, k, e)?,
            self.fused_geometry(FusedPass::Backward, k, e)?,
        );
        self.bound_launches(bounds, k, Some(e), io, geometry)
    }

    /// The launches of both forms; `e` is `Some` for the fused one (`io.s` = G, `io.h` = H).
    /// Every launch covers all R = `bounds.len()` replicas (the grid's z); its geometry and
    /// the splits of its loops are one replica's. `geometry` is the (statistics, gradients)
    /// passes' line geometry; the other kernels are compiled in the statistics' module.
    pub(crate) fn bound_launches(
        &self,
        bounds: &[Bound],
        k: usize,
        e: Option<usize>,
        io: &Operands,
        (forward, backward): (FusedGeometry, FusedGeometry),
    ) -> Result<Vec<Dispatch>, GpuError> {
        let limits = self.limits();
        for g in [forward, backward] {
            g.validate(
                limits.max_compute_invocations_per_workgroup,
                limits.max_compute_workgroup_storage_size,
            )?;
        }
        let table = bound_table(bounds, io.baseline.is_some())?;
        let bound = bounds[0];
        let r = bounds.len();
        let (hist, slots) = io.hist;
        check_at_least("a bound's history length", slots, 1)?;
        check_fits("history", hist, r * slots)?;
        check_fits("state", io.state, r * state::LEN)?;
        check_fits_rep("scratch", io.scratch, Self::matrix_bound_scratch_len(k), r)?;
        let mut outputs = vec![hist, io.state, io.scratch.buffer];
        let mut inputs = vec![io.s.buffer];
        inputs.extend(io.h.map(|h| h.buffer));
        if let Some((first, second)) = io.grads {
            outputs.push(first.buffer);
            outputs.extend(second.map(|s| s.buffer));
        }
        if let Some((b, db)) = io.baseline {
            check_fits_rep("baseline", b, k, r)?;
            check_fits_rep("baseline gradients", db, k, r)?;
            inputs.push(b.buffer);
            if io.grads.is_some() {
                outputs.push(db.buffer);
            }
        }
        check_outputs_distinct(&inputs, &outputs)?;

        // Unused operands are bound to a placeholder (the scores, or G): the entry points
        // declare them for the bounds and forms that read them, and never read them otherwise.
        let (baseline, db) = io.baseline.unwrap_or((io.s, io.s));
        let h = io.h.unwrap_or(io.s);
        let e_width = e.unwrap_or(0);
        // The strides of the outputs each launch binds where `ds` and `db` sit.
        // A launch's parameters: the other index's range [j0, j1), the stored scores' columns
        // [jbase, jbase + ld) (all of S unless staged), and the strides of the outputs it binds
        // where `ds` and `db` sit.
        let params_at = |j0: usize,
                         j1: usize,
                         (ld, jbase): (usize, usize),
                         ds: Strided<'_>,
                         db: Strided<'_>| {
            let params = MatrixParams {
                k: to_u32("K", k)?,
                hist_len: to_u32("history", slots)?,
                e: to_u32("e", e_width)?,
                j0: j0 as u32,
                j1: j1 as u32,
                s_rs: io.s.stride_u32()?,
                baseline_rs: baseline.stride_u32()?,
                ds_rs: ds.stride_u32()?,
                db_rs: db.stride_u32()?,
                scratch_rs: io.scratch.stride_u32()?,
                h_rs: h.stride_u32()?,
                ld: to_u32("a score tile's width", ld)?,
                jbase: to_u32("a score tile's first column", jbase)?,
                _pad: [0; 3],
            };
            Ok::<_, GpuError>(self.uniform_with_table(
                "matrix bound",
                &params,
                &table,
                VEC4_TABLE_BYTES,
            ))
        };
        let params = |j0: usize, j1: usize, ds: Strided<'_>, db: Strided<'_>| {
            params_at(j0, j1, (k, 0), ds, db)
        };
        let fused = i64::from(e.is_some());
        // `tile`: the launch reads a staged tile of scores (FUSED = 0) instead of `io.s`.
        let launch_as = |entry: &'static str,
                         tile: Option<Strided<'_>>,
                         geometry: &FusedGeometry,
                         uniform: &wgpu::Buffer,
                         bindings: [Binding; 9],
                         out: Strided<'_>,
                         db: Strided<'_>,
                         groups: [u32; 3]| {
            let fused = if tile.is_some() { 0 } else { fused };
            let key = KernelKey {
                family: Family::MatrixBounds,
                entry,
                overrides: vec![("BOUND", bound.code()), ("FUSED", fused)],
                template: geometry.constants(),
                bindings: bindings.to_vec(),
            };
            let resources = [
                uniform,
                tile.unwrap_or(io.s).raw(),
                baseline.raw(),
                out.raw(),
                db.raw(),
                &hist.buffer,
                &io.state.buffer,
                io.scratch.raw(),
                h.raw(),
            ];
            let groups = self.with_replicas(entry, groups, r)?;
            Ok::<_, GpuError>(self.bind(&key, &resources, groups))
        };
        let launch = |entry: &'static str,
                      geometry: &FusedGeometry,
                      uniform: &wgpu::Buffer,
                      bindings: [Binding; 9],
                      out: Strided<'_>,
                      db: Strided<'_>,
                      groups: [u32; 3]| {
            launch_as(entry, None, geometry, uniform, bindings, out, db, groups)
        };
        // The other index's range of one launch of a line kernel whose blocks of `g.cols`
        // lines cost `per_block` loop iterations (one launch on hardware; see
        // SOFTWARE_LOOP_BUDGET).
        let software = self.adapter().is_software;
        let splits = |g: &FusedGeometry, per_block: usize| -> Vec<(usize, usize)> {
            let len = if software {
                (SOFTWARE_LOOP_BUDGET / per_block).max(1) * g.cols as usize
            } else {
                k
            };
            (0..k)
                .step_by(len)
                .map(|j0| (j0, (j0 + len).min(k)))
                .collect()
        };
        let column_loops = fused_column_loops(bound, k, e_width, &forward);
        if e.is_some() && software && column_loops > SOFTWARE_LOOP_BUDGET * 2 {
            return Err(GpuError::SoftwareLoopLimit {
                what: format!("{} at K = {k}, e = {e_width}", bound.name()),
                iterations: column_loops as u64,
                limit: (SOFTWARE_LOOP_BUDGET * 2) as u64,
            });
        }
        let s = io.s;
        let whole = params(0, k, s, s)?;
        // Invocations of FB_ROWS lines each, in workgroups of the geometry's size.
        let line_grid = |g: &FusedGeometry| {
            self.grid(
                "matrix bound lines",
                k.div_ceil(g.rows as usize),
                g.workgroup as usize,
            )
        };
        let f = &forward;

        // The staged form (FusedGeometry::staged > 0) keeps one tile of columns of S and ∂S.
        let staged = match e {
            Some(_) if forward.staged > 0 => Some(Tiles::new(self, r, k, forward.staged)?),
            _ => None,
        };
        let staged_backward = match (e, io.grads) {
            (Some(_), Some((_, Some(_)))) if backward.staged > 0 => {
                Some(Tiles::new(self, r, k, backward.staged)?)
            }
            _ => None,
        };
        let mut d = Vec::new();
        if let Bound::AlphaInfoNce { .. } = bound {
            d.push(launch(
                "col_stats",
                f,
                &whole,
                [U, R, R, N, N, N, N, W, R],
                s,
                s,
                line_grid(f)?,
            )?);
        } else if let (Some(e), Some(tiles)) = (e, staged.as_ref()) {
            // Staged: each tile of columns formed by a product, then the statistics read it.
            let grid = line_grid(f)?;
            for (t, (j0, j1)) in tiles.ranges.iter().copied().enumerate() {
                d.push(tiles.scores(self, r, k, e, io.s, h, t)?);
                let u = params_at(j0, j1, (j1 - j0, j0), s, s)?;
                d.push(launch_as(
                    "row_stats",
                    Some(tiles.s()),
                    f,
                    &u,
                    [U, R, R, N, N, N, N, W, R],
                    s,
                    s,
                    grid,
                )?);
            }
        } else {
            let grid = line_grid(f)?;
            for (j0, j1) in splits(f, f.loops_per_block(e_width, 1)) {
                let u = params(j0, j1, s, s)?;
                d.push(launch(
                    "row_stats",
                    f,
                    &u,
                    [U, R, R, N, N, N, N, W, R],
                    s,
                    s,
                    grid,
                )?);
            }
        }
        d.push(launch(
            "finalize",
            f,
            &whole,
            [U, N, N, N, N, W, W, W, N],
            s,
            s,
            [1, 1, 1],
        )?);
        match io.grads {
            None => return Ok(d),
            Some((ds, None)) => {
                let u = params(0, k, ds, s)?;
                d.push(launch(
                    "grad",
                    f,
                    &u,
                    [U, R, R, W, N, N, N, W, N],
                    ds,
                    s,
                    self.grid("matrix bound grid", k * k, GRAD_WORKGROUP)?,
                )?)
            }
            Some((dg, Some(dh))) if staged_backward.is_some() => {
                // Staged: per tile of columns, S_t by a product, ∂S_t by `grad`, then
                // dG += ∂S_t·H_t and dH_t = ∂S_tᵀ·G by products.
                let tiles = staged_backward.as_ref().expect("staged");
                let e = e_width;
                for (t, (j0, j1)) in tiles.ranges.iter().copied().enumerate() {
                    let w = j1 - j0;
                    d.push(tiles.scores(self, r, k, e, io.s, h, t)?);
                    let u = params_at(j0, j1, (w, j0), tiles.ds(), s)?;
                    d.push(launch_as(
                        "grad",
                        Some(tiles.s()),
                        f,
                        &u,
                        [U, R, R, W, N, N, N, W, N],
                        tiles.ds(),
                        s,
                        self.grid("matrix bound grid", k * w, GRAD_WORKGROUP)?,
                    )?);
                    d.extend(tiles.products(self, r, k, e, io.s, h, (dg, dh), t)?);
                }
            }
            Some((dg, Some(dh))) => {
                let g = &backward;
                let lines = line_grid(g)?;
                let b = [U, R, R, W, N, N, N, W, R];
                for (entry, out) in [("grad_rows", dg), ("grad_cols", dh)] {
                    for (j0, j1) in splits(g, g.loops_per_block(e_width, 2)) {
                        let u = params(j0, j1, out, s)?;
                        d.push(launch(entry, g, &u, b, out, s, lines)?);
                    }
                }
            }
        }
        if bound.needs_baseline() {
            let u = params(0, k, s, db)?;
            d.push(launch(
                "baseline_grad",
                f,
                &u,
                [U, R, R, N, W, N, N, W, R],
                s,
                db,
                line_grid(f)?,
            )?);
        }
        Ok(d)
    }
}

/// The column tiles of the staged fused form: S_t and ∂S_t (K × width each, a pair a replica)
/// and the products that fill and use them.
struct Tiles {
    ranges: Vec<(usize, usize)>,
    s: GpuBuffer,
    ds: GpuBuffer,
    stride: usize,
}

impl Tiles {
    fn new(ctx: &GpuContext, replicas: usize, k: usize, width: u32) -> Result<Self, GpuError> {
        let width = (width as usize).min(k);
        let stride = k * width;
        let ranges = (0..k)
            .step_by(width)
            .map(|j0| (j0, (j0 + width).min(k)))
            .collect();
        Ok(Self {
            ranges,
            s: ctx.zeros("staged score tile", replicas * stride)?,
            ds: ctx.zeros("staged score-gradient tile", replicas * stride)?,
            stride,
        })
    }

    fn s(&self) -> Strided<'_> {
        Strided::new(&self.s, self.stride)
    }

    fn ds(&self) -> Strided<'_> {
        Strided::new(&self.ds, self.stride)
    }

    /// S_t = G·H_tᵀ for tile t.
    #[allow(clippy::too_many_arguments)]
    fn scores(
        &self,
        ctx: &GpuContext,
        replicas: usize,
        k: usize,
        e: usize,
        g: Strided<'_>,
        h: Strided<'_>,
        t: usize,
    ) -> Result<Dispatch, GpuError> {
        let (j0, j1) = self.ranges[t];
        let mut spec = GemmSpec::dense(k, j1 - j0, e, false, true);
        spec.b_off = j0 * e;
        ctx.gemm_launch(
            replicas,
            &spec,
            [g, h, self.s()],
            None,
            None,
            ctx.gemm_geometry(&spec),
            false,
        )
    }

    /// dG += ∂S_t·H_t (dG = for the first tile) and dH_t = ∂S_tᵀ·G.
    #[allow(clippy::too_many_arguments)]
    fn products(
        &self,
        ctx: &GpuContext,
        replicas: usize,
        k: usize,
        e: usize,
        g: Strided<'_>,
        h: Strided<'_>,
        (dg, dh): (Strided<'_>, Strided<'_>),
        t: usize,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let (j0, j1) = self.ranges[t];
        let w = j1 - j0;
        let mut rows = GemmSpec::dense(k, e, w, false, false);
        rows.b_off = j0 * e;
        let mut d = vec![ctx.gemm_launch(
            replicas,
            &rows,
            [self.ds(), h, dg],
            None,
            None,
            ctx.gemm_geometry(&rows),
            t > 0,
        )?];
        let mut cols = GemmSpec::dense(w, e, k, true, false);
        cols.c_off = j0 * e;
        d.extend(ctx.gemm_launches_replicated(
            replicas,
            &cols,
            [self.ds(), g, dh],
            None,
            None,
            ctx.gemm_geometry(&cols),
        )?);
        Ok(d)
    }
}

#[doc(hidden)]
impl GpuContext {
    /// Whether [`GpuContext::fused_bound`] can run `bound` at K, e on this adapter: always on
    /// hardware; on a software rasteriser the column passes of α-InfoNCE (four) and of TUBA's
    /// baseline gradient (two), which are not split over launches, must stay under its loop
    /// limit (see SOFTWARE_LOOP_BUDGET) in the forward geometry. Where it cannot, materialise
    /// S instead.
    pub fn fused_bound_runs(&self, bound: Bound, k: usize, e: usize) -> bool {
        if !self.adapter().is_software || column_passes(bound) == 0 {
            return true;
        }
        match self.fused_geometry(FusedPass::Forward, k, e) {
            Ok(g) => fused_column_loops(bound, k, e, &g) <= SOFTWARE_LOOP_BUDGET * 2,
            Err(_) => false,
        }
    }

    /// Scratch elements [`GpuContext::matrix_bound`] needs for a K×K matrix.
    pub fn matrix_bound_scratch_len(k: usize) -> usize {
        (ROW_LEN + COL_LEN) * k + GLOBAL_LEN
    }
}

#[cfg(test)]
mod tests {
    use crate::gpu::shaders::{check_replica_table, Family};

    #[test]
    fn the_replica_table_sits_where_the_host_writes_it() {
        let header = std::mem::size_of::<super::MatrixParams>();
        check_replica_table(Family::MatrixBounds, "MatrixParams", header, "reps", 16);
    }
}
