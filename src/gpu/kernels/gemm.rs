//! The matrix product with its fused epilogues (`gemm.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits_rep, to_u32, Strided, SOFTWARE_LOOP_BUDGET};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::linalg::{extent, Epilogue, GemmSpec};

/// The tiled geometry's k per tile (`BK` in `gemm.wgsl`).
const TILE_K: u64 = 16;
/// Loop iterations the tiled geometry runs per tile of k: 4 loads and 16 steps.
const TILED_LOOPS_PER_TILE: u64 = 20;

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
    _pad: [u32; 3],
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares C = epilogue(op(A)·op(B)). `bias` is needed for the Bias epilogues, `aux` for
    /// ReluBackward. Uses the geometry this adapter prefers (see `gemm.wgsl`).
    pub fn gemm(
        &self,
        spec: &GemmSpec,
        a: &GpuBuffer,
        b: &GpuBuffer,
        c: &GpuBuffer,
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
    ) -> Result<Dispatch, GpuError> {
        self.gemm_with(spec, a, b, c, bias, aux, self.gemm_direct())
    }

    /// [`GpuContext::gemm`] with the geometry chosen by the caller (`direct`: no workgroup memory).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_with(
        &self,
        spec: &GemmSpec,
        a: &GpuBuffer,
        b: &GpuBuffer,
        c: &GpuBuffer,
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
        direct: bool,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.gemm_launch(
            1,
            spec,
            [solo(a), solo(b), solo(c)],
            bias.map(solo),
            aux.map(solo),
            direct,
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
        self.gemm_launches_with(spec, [a, b, c], bias, aux, self.gemm_direct())
    }

    /// [`GpuContext::gemm_launches`] with the geometry chosen by the caller.
    pub fn gemm_launches_with(
        &self,
        spec: &GemmSpec,
        [a, b, c]: [&GpuBuffer; 3],
        bias: Option<&GpuBuffer>,
        aux: Option<&GpuBuffer>,
        direct: bool,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let solo = Strided::shared;
        self.gemm_launches_replicated(
            1,
            spec,
            [solo(a), solo(b), solo(c)],
            bias.map(solo),
            aux.map(solo),
            direct,
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
        direct: bool,
    ) -> Result<Vec<Dispatch>, GpuError> {
        // The longest k one launch may loop over (see the loop count in `gemm_launch`).
        let max_k = if direct {
            SOFTWARE_LOOP_BUDGET
        } else {
            SOFTWARE_LOOP_BUDGET / TILED_LOOPS_PER_TILE * TILE_K
        };
        let chunks = self.loop_chunks(spec.k, max_k as usize);
        let last = chunks.len() - 1;
        chunks
            .into_iter()
            .enumerate()
            .map(|(n, r)| {
                let mut s = *spec;
                s.k = r.len();
                s.a_off += if spec.trans_a {
                    r.start * spec.lda
                } else {
                    r.start
                };
                s.b_off += if spec.trans_b {
                    r.start
                } else {
                    r.start * spec.ldb
                };
                if n != last {
                    s.epilogue = Epilogue::None;
                }
                self.gemm_launch(replicas, &s, [a, b, c], bias, aux, direct, n > 0)
            })
            .collect()
    }

    /// One launch of `replicas` products; with `accumulate` it adds op(A)·op(B) to what C
    /// holds before the epilogue.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gemm_launch(
        &self,
        replicas: usize,
        spec: &GemmSpec,
        [a, b, c]: [Strided<'_>; 3],
        bias: Option<Strided<'_>>,
        aux: Option<Strided<'_>>,
        direct: bool,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        let s = spec;
        let (a_need, b_need, c_need) = s.extents();
        check_fits_rep("A", a, a_need, replicas)?;
        check_fits_rep("B", b, b_need, replicas)?;
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
            _pad: [0; 3],
        };
        let gx = self.check_workgroups("gemm columns", s.n.div_ceil(64) as u64)?;
        let gy = self.check_workgroups("gemm rows", s.m.div_ceil(64) as u64)?;
        // The direct form loops over k; the tiled one over k/16 tiles of 4 loads and 16 steps.
        let loops = if direct {
            s.k as u64
        } else {
            (s.k as u64).div_ceil(TILE_K) * TILED_LOOPS_PER_TILE
        };
        self.check_loop_budget("a matrix product", loops)?;
        let key = KernelKey {
            family: Family::Gemm,
            entry: if direct { "gemm_direct" } else { "gemm_tiled" },
            overrides: vec![
                ("EPILOGUE", s.epilogue.code()),
                ("TRANS_A", s.trans_a as i64),
                ("TRANS_B", s.trans_b as i64),
                ("ACCUMULATE", accumulate as i64),
            ],
            template: Vec::new(),
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
        let grid = self.with_replicas("gemm", [gx.max(1), gy.max(1), 1], replicas)?;
        Ok(self.bind(
            &key,
            &[&uniform, a.raw(), b.raw(), c.raw(), bias.raw(), aux.raw()],
            grid,
        ))
    }
}
