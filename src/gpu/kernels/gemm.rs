//! The matrix product with its fused epilogues (`gemm.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits_rep, to_u32, Strided, SOFTWARE_LOOP_BUDGET};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::GemmGeometry;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::linalg::{extent, Epilogue, GemmSpec};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GemmParams {
    m: u32,
    n: u32,
    k: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    bias_off: u32,
    aux_off: u32,
    ldaux: u32,
    a_rs: u32,
    b_rs: u32,
    c_rs: u32,
    bias_rs: u32,
    aux_rs: u32,
    k_chunk: u32,
    row_tiles: u32,
    _pad: u32,
}

/// What one launch of `gemm.wgsl` does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// C = epilogue(op(A)·op(B)) (added to C first with `accumulate`).
    Whole { accumulate: bool },
    /// Split-K's first pass: `parts` partial products of `chunk` k each, into C's slices.
    Partials { chunk: usize, parts: usize },
    /// Split-K's second pass: C = epilogue(Σ partials in order), the partials bound as A.
    Reduce { chunk: usize },
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares C = epilogue(op(A)·op(B)). `bias` is needed for the Bias epilogues, `aux` for
    /// ReluBackward. Uses this context's geometry for the shape ([`Self::gemm_geometry`]).
    pub fn gemm(
        &self,
        spec: &GemmSpec,
        a: &GpuBuffer,
        b: &GpuBuffer,
        c: &GpuBuffer,
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
    ) -> Result<Dispatch, GpuError> {
        self.gemm_with(spec, a, b, c, bias, aux, self.gemm_geometry(spec))
    }

    /// [`GpuContext::gemm`] in the geometry chosen by the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_with(
        &self,
        spec: &GemmSpec,
        a: &GpuBuffer,
        b: &GpuBuffer,
        c: &GpuBuffer,
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
        geometry: GemmGeometry,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.gemm_launch(
            1,
            spec,
            [solo(a), solo(b), solo(c)],
            bias.map(solo),
            aux.map(solo),
            geometry,
            false,
        )
    }

    /// Prepares C = epilogue(op(A)·op(B)) like [`GpuContext::gemm`], but where a software
    /// adapter's loop limit would refuse the shared dimension k (the concat critic's weight
    /// gradients sum over K² pairs), as several launches over consecutive ranges of k, in
    /// order: the first writes its partial product, each later one adds its own to C, the last
    /// applies the epilogue. Fixed order, so deterministic; one launch on hardware adapters.
    pub fn gemm_launches(
        &self,
        spec: &GemmSpec,
        [a, b, c]: [&GpuBuffer; 3],
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
    ) -> Result<Vec<Dispatch>, GpuError> {
        self.gemm_launches_with(spec, [a, b, c], bias, aux, self.gemm_geometry(spec))
    }

    /// [`GpuContext::gemm_launches`] in the geometry chosen by the caller.
    pub fn gemm_launches_with(
        &self,
        spec: &GemmSpec,
        [a, b, c]: [&GpuBuffer; 3],
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
        geometry: GemmGeometry,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let solo = Strided::shared;
        self.gemm_launches_replicated(
            1,
            spec,
            [solo(a), solo(b), solo(c)],
            bias.map(solo),
            aux.map(solo),
            geometry,
        )
    }

    /// [`GpuContext::gemm_launches_with`] for `replicas` products at once, replica r's
    /// operands at their strides (the grid's z is the replica). The launches, their k ranges
    /// and their grids are those of one replica, so each replica's C has a solo run's bits.
    pub(crate) fn gemm_launches_replicated(
        &self,
        replicas: usize,
        spec: &GemmSpec,
        [a, b, c]: [Strided<'_>; 3],
        bias: Option<Strided<'_>>,
        aux: Option<Strided<'_>>,
        geometry: GemmGeometry,
    ) -> Result<Vec<Dispatch>, GpuError> {
        // The longest k one partial product may loop over on a software adapter (see the loop
        // count in `gemm_pass`), and the geometry's split.
        let mut chunk = if self.adapter().is_software {
            geometry.max_k_software(SOFTWARE_LOOP_BUDGET)
        } else {
            usize::MAX
        };
        let split_k = self.gemm_split_k();
        if split_k > 0 {
            chunk = chunk.min(split_k as usize);
        }
        if spec.k <= chunk {
            return Ok(vec![self.gemm_launch(
                replicas,
                spec,
                [a, b, c],
                bias,
                aux,
                geometry,
                false,
            )?]);
        }
        // Split-K: the partial products side by side, then their fixed-order sum.
        let parts = spec.k.div_ceil(chunk);
        let per_replica = parts * spec.m * spec.n;
        let partials = self.zeros("split-K partial products", replicas * per_replica)?;
        let slices = Strided::new(&partials, per_replica);
        let mut partial_spec = *spec;
        partial_spec.ldc = spec.n;
        partial_spec.c_off = 0;
        partial_spec.epilogue = Epilogue::None;
        Ok(vec![
            self.gemm_pass(
                replicas,
                &partial_spec,
                [a, b, slices],
                None,
                None,
                geometry,
                Pass::Partials { chunk, parts },
            )?,
            self.gemm_pass(
                replicas,
                spec,
                [slices, b, c],
                bias,
                aux,
                geometry,
                Pass::Reduce { chunk },
            )?,
        ])
    }

    /// One launch of `replicas` products; with `accumulate` it adds op(A)·op(B) to what C
    /// holds before the epilogue.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gemm_launch(
        &self,
        replicas: usize,
        spec: &GemmSpec,
        ops: [Strided<'_>; 3],
        bias: Option<Strided<'_>>,
        aux: Option<Strided<'_>>,
        geometry: GemmGeometry,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        let pass = Pass::Whole { accumulate };
        self.gemm_pass(replicas, spec, ops, bias, aux, geometry, pass)
    }

    /// One launch of `pass` (in `Reduce`, `a` holds the partials).
    #[allow(clippy::too_many_arguments)]
    fn gemm_pass(
        &self,
        replicas: usize,
        spec: &GemmSpec,
        [a, b, c]: [Strided<'_>; 3],
        bias: Option<Strided<'_>>,
        aux: Option<Strided<'_>>,
        geometry: GemmGeometry,
        pass: Pass,
    ) -> Result<Dispatch, GpuError> {
        let s = spec;
        let (a_need, b_need, c_need) = s.extents();
        match pass {
            Pass::Reduce { chunk } => {
                check_fits_rep("partials", a, s.k.div_ceil(chunk) * s.m * s.n, replicas)?
            }
            _ => {
                check_fits_rep("A", a, a_need, replicas)?;
                check_fits_rep("B", b, b_need, replicas)?;
            }
        }
        check_fits_rep("C", c, c_need, replicas)?;
        let a_cols = if s.trans_a { s.m } else { s.k };
        let b_cols = if s.trans_b { s.k } else { s.n };
        for (what, ld, row) in [
            ("A's leading dimension", s.lda, a_cols),
            ("B's leading dimension", s.ldb, b_cols),
            ("C's leading dimension", s.ldc, s.n),
        ] {
            if row > ld {
                return Err(GpuError::Range {
                    what,
                    value: ld as u64,
                    min: row as u64,
                    max: u64::MAX,
                });
            }
        }
        let bias = match s.epilogue {
            Epilogue::Bias | Epilogue::BiasRelu => {
                let bias = bias.ok_or(GpuError::Operand {
                    what: "the bias epilogue",
                    rule: "needs a bias buffer",
                })?;
                check_fits_rep("bias", bias, s.bias_off + s.n, replicas)?;
                bias
            }
            // Unused slots still need a read-only buffer; A is one.
            _ => a,
        };
        let aux = match s.epilogue {
            Epilogue::ReluBackward => {
                let aux = aux.ok_or(GpuError::Operand {
                    what: "the ReLU backward",
                    rule: "needs the forward output",
                })?;
                check_fits_rep("mask", aux, extent(s.m, s.n, s.ldaux, s.aux_off), replicas)?;
                aux
            }
            _ => a,
        };
        let (chunk, parts) = match pass {
            Pass::Whole { .. } => (s.k.max(1), 1),
            Pass::Partials { chunk, parts } => (chunk, parts),
            Pass::Reduce { chunk } => (chunk, s.k.div_ceil(chunk)),
        };
        let gx = self.check_workgroups(
            "gemm columns",
            s.n.div_ceil(geometry.block_cols() as usize) as u64,
        )?;
        let row_tiles = s.m.div_ceil(geometry.block_rows() as usize);
        let gy = self.check_workgroups("gemm rows", (row_tiles * parts) as u64)?;
        let params = GemmParams {
            m: to_u32("m", s.m)?,
            n: to_u32("n", s.n)?,
            k: to_u32("k", s.k)?,
            lda: to_u32("lda", s.lda)?,
            ldb: to_u32("ldb", s.ldb)?,
            ldc: to_u32("ldc", s.ldc)?,
            a_off: to_u32("a_off", s.a_off)?,
            b_off: to_u32("b_off", s.b_off)?,
            c_off: to_u32("c_off", s.c_off)?,
            bias_off: to_u32("bias_off", s.bias_off)?,
            aux_off: to_u32("aux_off", s.aux_off)?,
            ldaux: to_u32("ldaux", s.ldaux)?,
            a_rs: a.stride_u32()?,
            b_rs: b.stride_u32()?,
            c_rs: c.stride_u32()?,
            bias_rs: bias.stride_u32()?,
            aux_rs: aux.stride_u32()?,
            k_chunk: to_u32("k per partial product", chunk)?,
            row_tiles: row_tiles.max(1) as u32,
            _pad: 0,
        };
        // The geometry's loops over k (GemmGeometry::loops); the reduction's over the partials.
        let loops = match pass {
            Pass::Reduce { .. } => parts as u64,
            _ => geometry.loops(chunk.min(s.k) as u64),
        };
        self.check_loop_budget("a matrix product", loops)?;
        let form = if geometry.tiled() {
            "gemm_tiled"
        } else {
            "gemm_direct"
        };
        let (entry, accumulate, split) = match pass {
            Pass::Whole { accumulate } => (form, accumulate, false),
            Pass::Partials { .. } => (form, false, true),
            Pass::Reduce { .. } => ("gemm_reduce", false, false),
        };
        let key = KernelKey {
            family: Family::Gemm,
            entry,
            overrides: vec![
                ("EPILOGUE", s.epilogue.code()),
                ("TRANS_A", s.trans_a as i64),
                ("TRANS_B", s.trans_b as i64),
                ("ACCUMULATE", accumulate as i64),
                ("SPLIT", split as i64),
            ],
            template: geometry.constants(),
            bindings: vec![
                Binding::Uniform,
                Binding::Read,
                Binding::Read,
                Binding::Write,
                Binding::Read,
                Binding::Read,
            ],
        };
        // wgpu forbids binding one buffer as both read-only and writable in a dispatch.
        for (name, other) in [("A", a), ("B", b), ("bias", bias), ("mask", aux)] {
            if other.buffer.buffer == c.buffer.buffer {
                return Err(GpuError::Aliased {
                    what: "C",
                    other: name,
                });
            }
        }
        let uniform = self.uniform("gemm", &params);
        let grid = match pass {
            Pass::Reduce { .. } => self.grid("gemm reduce", s.m * s.n, 256)?,
            _ => [gx.max(1), gy.max(1), 1],
        };
        let grid = self.with_replicas("gemm", grid, replicas)?;
        Ok(self.bind(
            &key,
            &[&uniform, a.raw(), b.raw(), c.raw(), bias.raw(), aux.raw()],
            grid,
        ))
    }
}
