//! The fused score kernels' geometry (`matrix_bounds.wgsl`'s template constants): every
//! candidate forms each score as one fma chain over the embedding and sums over the other index
//! in order, so all give the same bits.

use serde::{Deserialize, Serialize};

use crate::gpu::error::GpuError;
use crate::gpu::tune::FusedPass;

/// The geometry of the fused score kernels' line passes (`row_stats`, `grad_rows`,
/// `grad_cols` in `matrix_bounds.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FusedGeometry {
    /// Lines (rows, or columns) one invocation owns.
    pub rows: u32,
    /// Lines of the other index a block: an invocation keeps rows × cols scores in registers.
    pub cols: u32,
    /// Invocations a workgroup.
    pub workgroup: u32,
    /// Whether the workgroup stages each block of the other side's embeddings in workgroup
    /// memory (what GPUs reward); otherwise every invocation reads them itself (what CPU
    /// rasterisers reward).
    pub shared: bool,
    /// Embedding entries a stage holds (the embedding loop's step without `shared`).
    pub chunk: u32,
    /// 0: the line kernels recompute every score from the embeddings. n > 0: the pass is
    /// staged through the matrix products a tile of n columns at a time (S_t = G·H_tᵀ, then
    /// the statistics, or ∂S_t and dG += ∂S_t·H_t, dH_t = ∂S_tᵀ·G), in O(K·n) memory; what a
    /// CPU rasteriser rewards, where the products are its best kernels.
    #[serde(default)]
    pub staged: u32,
}

/// The largest register block (rows × cols scores) a candidate may hold.
const MAX_BLOCK: u32 = 64;

impl FusedGeometry {
    /// A geometry; [`Self::validate`] says whether an adapter can run it.
    pub const fn new(rows: u32, cols: u32, workgroup: u32, shared: bool, chunk: u32) -> Self {
        Self {
            rows,
            cols,
            workgroup,
            shared,
            chunk,
            staged: 0,
        }
    }

    /// The same geometry staged through the products in tiles of `width` columns.
    pub const fn staged(mut self, width: u32) -> Self {
        self.staged = width;
        self
    }

    /// The rule without tuning for `pass`: on a CPU rasteriser register blocks read in place,
    /// 4×4 for the statistics and 4×8 for the gradients (the fastest there in `infobound
    /// tune`, BENCHMARKS.md); on a GPU 4×16 blocks staged through workgroup memory.
    pub const fn rule(software: bool, pass: FusedPass) -> Self {
        match (software, pass) {
            (true, FusedPass::Forward) => Self::new(4, 4, 64, false, 64),
            (true, FusedPass::Backward) => Self::new(4, 8, 64, false, 64),
            (false, _) => Self::new(4, 16, 64, true, 16),
        }
    }

    /// The candidates the tuner times: register blocks read in place, and blocks staged
    /// through workgroup memory.
    pub fn candidates() -> Vec<Self> {
        vec![
            Self::new(1, 8, 64, false, 64),
            Self::new(1, 16, 64, false, 64),
            Self::new(1, 32, 64, false, 64),
            Self::new(2, 16, 64, false, 64),
            Self::new(4, 4, 64, false, 64),
            Self::new(4, 8, 64, false, 64),
            Self::new(2, 16, 128, true, 16),
            Self::new(4, 16, 64, true, 16),
            Self::new(4, 8, 128, true, 32),
            Self::new(8, 8, 64, true, 16),
            Self::new(4, 4, 64, false, 64).staged(256),
            Self::new(4, 4, 64, false, 64).staged(1024),
            Self::new(4, 4, 64, false, 64).staged(4096),
        ]
    }

    /// Refuses a geometry outside the template's ranges or past `max_workgroup` invocations
    /// and `max_shared_bytes` of workgroup memory.
    pub fn validate(&self, max_workgroup: u32, max_shared_bytes: u32) -> Result<(), GpuError> {
        let bad = |what: &'static str, value: u32, rule: &'static str| GpuError::Geometry {
            what,
            value: u64::from(value),
            rule,
        };
        if !(1..=8).contains(&self.rows) {
            return Err(bad("fused rows", self.rows, "1 to 8"));
        }
        if !(1..=32).contains(&self.cols) {
            return Err(bad("fused cols", self.cols, "1 to 32"));
        }
        if self.rows * self.cols > MAX_BLOCK {
            return Err(bad(
                "fused rows × cols",
                self.rows * self.cols,
                "at most 64 scores an invocation",
            ));
        }
        if !self.workgroup.is_power_of_two() || !(32..=256).contains(&self.workgroup) {
            return Err(bad("fused workgroup", self.workgroup, "32, 64, 128 or 256"));
        }
        if self.workgroup > max_workgroup {
            return Err(bad(
                "fused workgroup",
                self.workgroup,
                "at most the adapter's invocations a workgroup",
            ));
        }
        if !(1..=64).contains(&self.chunk) {
            return Err(bad("fused chunk", self.chunk, "1 to 64"));
        }
        if self.staged != 0
            && (!(16..=4096).contains(&self.staged) || !self.staged.is_multiple_of(16))
        {
            return Err(bad(
                "fused staged tile",
                self.staged,
                "0, or a multiple of 16 from 16 to 4096",
            ));
        }
        if self.shared && self.cols * self.chunk * 4 > max_shared_bytes {
            return Err(bad(
                "fused cols × chunk",
                self.cols * self.chunk,
                "its tile must fit the adapter's workgroup memory",
            ));
        }
        Ok(())
    }

    /// The template constants of `matrix_bounds.wgsl` (part of the pipeline key).
    pub fn constants(&self) -> Vec<(&'static str, u32)> {
        vec![
            ("FB_ROWS", self.rows),
            ("FB_COLS", self.cols),
            ("FB_WG", self.workgroup),
            ("FB_SHARED", u32::from(self.shared)),
            ("FB_CHUNK", self.chunk),
        ]
    }

    /// Loop iterations an invocation runs per block of `cols` lines when the block makes
    /// `passes` passes over an embedding of width e (the constant-trip loops over the register
    /// block are unrolled and not counted, as in `gemm_direct`).
    pub(crate) fn loops_per_block(&self, e: usize, passes: usize) -> usize {
        let chunks = e.div_ceil(self.chunk as usize);
        let stage = if self.shared {
            (self.cols * self.chunk).div_ceil(self.workgroup) as usize
        } else {
            0
        };
        1 + passes * (e + chunks * (1 + stage))
    }

    /// A short name for tables: "1×16 wg64" or "4×16 wg64 shared/16".
    pub fn name(&self) -> String {
        let mut s = format!("{}×{} wg{}", self.rows, self.cols, self.workgroup);
        if self.shared {
            s.push_str(&format!(" shared/{}", self.chunk));
        }
        if self.staged > 0 {
            s.push_str(&format!(" staged/{}", self.staged));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_and_rule_is_valid_within_webgpu_limits() {
        for g in FusedGeometry::candidates()
            .into_iter()
            .chain([true, false].into_iter().flat_map(|soft| {
                [FusedPass::Forward, FusedPass::Backward].map(|p| FusedGeometry::rule(soft, p))
            }))
        {
            g.validate(256, 16 << 10)
                .unwrap_or_else(|e| panic!("{g:?}: {e}"));
        }
    }

    #[test]
    fn out_of_range_geometries_are_refused() {
        for g in [
            FusedGeometry::new(0, 4, 64, false, 16),
            FusedGeometry::new(9, 4, 64, false, 16),
            FusedGeometry::new(4, 33, 64, false, 16),
            FusedGeometry::new(8, 16, 64, false, 16),
            FusedGeometry::new(4, 4, 48, false, 16),
            FusedGeometry::new(4, 4, 512, false, 16),
            FusedGeometry::new(4, 4, 64, false, 0),
        ] {
            assert!(g.validate(1024, 32 << 10).is_err(), "{g:?}");
        }
        assert!(FusedGeometry::new(4, 4, 256, false, 16)
            .validate(128, 32 << 10)
            .is_err());
        assert!(FusedGeometry::new(32, 1, 64, true, 64)
            .validate(256, 32 << 10)
            .is_err());
        assert!(FusedGeometry::new(1, 32, 64, true, 64)
            .validate(256, 4 << 10)
            .is_err());
    }
}
