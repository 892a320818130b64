//! The matrix product's geometry (`gemm.wgsl`'s template constants): the register block an
//! invocation computes, the workgroup's shape, and whether k is staged through workgroup memory.
//!
//! Every geometry forms each output as one fma chain over k in order, so a product that runs
//! in one pass has the same bits in all of them; a software adapter's loop limit splits long
//! products at a k that depends on the geometry ([`GemmGeometry::max_k_software`]), and there
//! the bits depend on it too.

use serde::{Deserialize, Serialize};

use crate::gpu::error::GpuError;

/// How `gemm.wgsl` cuts C = op(A)·op(B) into invocations and workgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GemmGeometry {
    /// Rows of C (along m) one invocation computes.
    pub rows: u32,
    /// Columns of C (along n) one invocation computes: it keeps rows × cols sums in registers.
    pub cols: u32,
    /// Invocations of a workgroup along n.
    pub threads_x: u32,
    /// Invocations of a workgroup along m.
    pub threads_y: u32,
    /// k a workgroup-memory tile of A and B holds (`gemm_tiled`: what GPUs reward); 0: every
    /// invocation reads its operands from memory, with no barriers (`gemm_direct`: what CPU
    /// rasterisers reward).
    pub tile_k: u32,
}

impl GemmGeometry {
    /// A geometry; [`Self::validate`] says whether an adapter can run it.
    pub const fn new(rows: u32, cols: u32, threads_x: u32, threads_y: u32, tile_k: u32) -> Self {
        Self {
            rows,
            cols,
            threads_x,
            threads_y,
            tile_k,
        }
    }

    /// The rule without tuning: on a GPU 64×64 blocks of C a 16×16 workgroup, 4×4 outputs an
    /// invocation, through workgroup-memory tiles of 16 k; on a CPU rasteriser 8×4 outputs an
    /// invocation read in place, 8×16 invocations a workgroup (of the candidates, the fastest
    /// over the products `infobound tune` times on lavapipe, BENCHMARKS.md).
    pub const fn rule(software: bool) -> Self {
        if software {
            Self::new(8, 4, 8, 16, 0)
        } else {
            Self::new(4, 4, 16, 16, 16)
        }
    }

    /// The candidates the tuner times: register blocks from 2×2 to 8×8, tiled and direct.
    pub fn candidates() -> Vec<Self> {
        vec![
            Self::new(4, 4, 16, 16, 16),
            Self::new(8, 8, 16, 16, 8),
            Self::new(4, 8, 16, 16, 16),
            Self::new(2, 2, 16, 16, 16),
            Self::new(4, 4, 16, 16, 0),
            Self::new(2, 2, 16, 16, 0),
            Self::new(8, 4, 8, 16, 0),
            Self::new(4, 8, 16, 8, 0),
        ]
    }

    /// Whether k is staged through workgroup memory (`gemm_tiled`).
    pub const fn tiled(&self) -> bool {
        self.tile_k > 0
    }

    /// Rows of C a workgroup covers.
    pub const fn block_rows(&self) -> u32 {
        self.rows * self.threads_y
    }

    /// Columns of C a workgroup covers.
    pub const fn block_cols(&self) -> u32 {
        self.cols * self.threads_x
    }

    /// Bytes of workgroup memory the tiled geometry holds (0 for the direct one).
    pub const fn shared_bytes(&self) -> u32 {
        self.tile_k * (self.block_rows() + self.block_cols()) * 4
    }

    /// Refuses a geometry outside the template's ranges or past `max_workgroup` invocations
    /// and `max_shared_bytes` of workgroup memory.
    pub fn validate(&self, max_workgroup: u32, max_shared_bytes: u32) -> Result<(), GpuError> {
        let bad = |what: &'static str, value: u32, rule: &'static str| GpuError::Geometry {
            what,
            value: u64::from(value),
            rule,
        };
        for (what, v) in [("gemm rows", self.rows), ("gemm cols", self.cols)] {
            if !(1..=8).contains(&v) {
                return Err(bad(what, v, "1 to 8"));
            }
        }
        for (what, v) in [
            ("gemm threads_x", self.threads_x),
            ("gemm threads_y", self.threads_y),
        ] {
            if !v.is_power_of_two() || !(4..=32).contains(&v) {
                return Err(bad(what, v, "4, 8, 16 or 32"));
            }
        }
        let threads = self.threads_x * self.threads_y;
        if threads > max_workgroup {
            return Err(bad(
                "gemm threads_x × threads_y",
                threads,
                "at most the adapter's invocations a workgroup",
            ));
        }
        if !matches!(self.tile_k, 0 | 4 | 8 | 16 | 32) {
            return Err(bad("gemm tile_k", self.tile_k, "0, 4, 8, 16 or 32"));
        }
        if self.shared_bytes() > max_shared_bytes {
            return Err(bad(
                "gemm tile bytes",
                self.shared_bytes(),
                "its tiles must fit the adapter's workgroup memory",
            ));
        }
        Ok(())
    }

    /// The template constants of `gemm.wgsl` (part of the pipeline key).
    pub fn constants(&self) -> Vec<(&'static str, u32)> {
        vec![
            ("GM_ROWS", self.rows),
            ("GM_COLS", self.cols),
            ("GM_TX", self.threads_x),
            ("GM_TY", self.threads_y),
            ("GM_TK", self.tile_k),
        ]
    }

    /// Loop iterations an invocation runs for a product over `k` (the constant-trip loops over
    /// the register block are unrolled and not counted): one a k in the direct geometry; a
    /// tile's loads and its tile_k steps in the tiled one.
    pub(crate) fn loops(&self, k: u64) -> u64 {
        if !self.tiled() {
            return k;
        }
        k.div_ceil(u64::from(self.tile_k)) * self.loops_per_tile()
    }

    fn loops_per_tile(&self) -> u64 {
        let threads = self.threads_x * self.threads_y;
        let loads = |block: u32| (self.tile_k * block).div_ceil(threads);
        u64::from(loads(self.block_rows()) + loads(self.block_cols()) + self.tile_k)
    }

    /// The longest k one pass may sum on a software adapter whose loops stop at `budget`
    /// iterations.
    pub(crate) fn max_k_software(&self, budget: u64) -> usize {
        if self.tiled() {
            (budget / self.loops_per_tile() * u64::from(self.tile_k)) as usize
        } else {
            budget as usize
        }
    }

    /// A short name for tables: "tiled 4×4 16×16 k16" or "direct 4×4 16×16".
    pub fn name(&self) -> String {
        let form = if self.tiled() { "tiled" } else { "direct" };
        let mut s = format!(
            "{form} {}×{} {}×{}",
            self.rows, self.cols, self.threads_x, self.threads_y
        );
        if self.tiled() {
            s.push_str(&format!(" k{}", self.tile_k));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_and_rule_is_valid_within_webgpu_limits() {
        for g in GemmGeometry::candidates()
            .into_iter()
            .chain([GemmGeometry::rule(true), GemmGeometry::rule(false)])
        {
            g.validate(256, 16 << 10)
                .unwrap_or_else(|e| panic!("{g:?}: {e}"));
        }
        assert!(GemmGeometry::candidates().len() >= 4);
    }

    #[test]
    fn out_of_range_geometries_are_refused() {
        for g in [
            GemmGeometry::new(0, 4, 16, 16, 0),
            GemmGeometry::new(4, 9, 16, 16, 0),
            GemmGeometry::new(4, 4, 12, 16, 0),
            GemmGeometry::new(4, 4, 64, 16, 0),
            GemmGeometry::new(4, 4, 16, 16, 12),
            GemmGeometry::new(8, 8, 32, 32, 32),
        ] {
            assert!(g.validate(1024, 32 << 10).is_err(), "{g:?}");
        }
        assert!(GemmGeometry::new(4, 4, 32, 16, 0)
            .validate(256, 16 << 10)
            .is_err());
    }

    #[test]
    fn the_software_split_keeps_every_pass_within_the_budget() {
        for g in GemmGeometry::candidates() {
            let k = g.max_k_software(32_768);
            assert!(k > 0 && g.loops(k as u64) <= 32_768, "{g:?}");
        }
        // The direct geometry loops once a k; the tiled 4×4 one 4 + 4 loads and 16 steps a
        // tile of 16.
        assert_eq!(GemmGeometry::rule(true).max_k_software(32_768), 32_768);
        assert_eq!(GemmGeometry::rule(false).loops(32), 48);
    }
}
