//! Kernel geometries: how each kernel family cuts its work into invocations and workgroups,
//! the candidates the tuner times ([`super::tune`]) and the file that pins them all
//! (`--geometry`).
//!
//! A geometry changes how fast a kernel runs, and in some families the order of its float
//! sums: the fused line kernels, the matrix products that run in one pass and the pair kernels
//! give the same bits in every geometry; a split product or column sum, and the two-stage
//! reductions' trees, add in another fixed order. So the same seed on the same adapter with
//! the same geometry gives the same bits.

mod fused;
mod gemm;
mod pairs;
mod reduce;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use fused::FusedGeometry;
pub use gemm::GemmGeometry;
pub use pairs::PairGeometry;
pub use reduce::ReduceGeometry;

use super::error::GpuError;
use super::tune::FusedPass;

/// One geometry for every kernel family that has a choice: what `--geometry FILE` pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KernelGeometry {
    /// The matrix products.
    pub gemm: GemmGeometry,
    /// The k one workgroup of a product sums at most: a longer product (the concat critic's
    /// weight gradients over K² pair rows) splits into partial products over k in parallel
    /// workgroups, added in order by a second pass (0: only as a software adapter's loop
    /// limit needs).
    #[serde(default)]
    pub gemm_split_k: u32,
    /// The column sums and two-stage reductions.
    #[serde(default)]
    pub reductions: ReduceGeometry,
    /// The concat critic's pair kernels.
    #[serde(default)]
    pub pairs: PairGeometry,
    /// The fused statistics pass (`row_stats`).
    pub fused_forward: FusedGeometry,
    /// The fused gradient passes (`grad_rows`, `grad_cols`).
    pub fused_backward: FusedGeometry,
}

impl KernelGeometry {
    /// The rule without tuning for a software adapter or a GPU (subgroup reductions where
    /// the device has `subgroups`).
    pub const fn rule(software: bool, subgroups: bool) -> Self {
        Self {
            gemm: GemmGeometry::rule(software),
            gemm_split_k: if software { 0 } else { 4096 },
            reductions: ReduceGeometry::rule(software, subgroups),
            pairs: PairGeometry::rule(software),
            fused_forward: FusedGeometry::rule(software, FusedPass::Forward),
            fused_backward: FusedGeometry::rule(software, FusedPass::Backward),
        }
    }

    /// Refuses a geometry an adapter with these limits cannot run.
    pub fn validate(&self, max_workgroup: u32, max_shared_bytes: u32) -> Result<(), GpuError> {
        self.gemm.validate(max_workgroup, max_shared_bytes)?;
        self.reductions.validate(max_workgroup)?;
        self.pairs.validate(max_workgroup)?;
        for f in [self.fused_forward, self.fused_backward] {
            f.validate(max_workgroup, max_shared_bytes)?;
        }
        Ok(())
    }

    /// Reads a geometry file (JSON, as [`Self::save`] writes it).
    pub fn load(path: &Path) -> Result<Self, GpuError> {
        let text = std::fs::read_to_string(path).map_err(|e| GpuError::GeometryFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| GpuError::GeometryFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Writes the geometry as JSON.
    pub fn save(&self, path: &Path) -> Result<(), GpuError> {
        let text = serde_json::to_string_pretty(self).expect("a geometry serialises");
        std::fs::write(path, text + "\n").map_err(|e| GpuError::GeometryFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        format!(
            "gemm {} (split-K {}); fused forward {}; fused backward {}; reductions {}; pairs {}",
            self.gemm.name(),
            self.gemm_split_k,
            self.fused_forward.name(),
            self.fused_backward.name(),
            self.reductions.name(),
            self.pairs.name(),
        )
    }
}

/// How a context picks its kernels' geometry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GeometryChoice {
    /// Tuned on this adapter at first use and cached on disk (`INFOBOUND_TUNE=off` turns the
    /// tuning off, `INFOBOUND_TUNE_CACHE` moves the cache; see [`super::tune`]); the rule where
    /// tuning is off.
    #[default]
    Auto,
    /// The rule for the adapter ([`KernelGeometry::rule`]), never tuned.
    Rule,
    /// This geometry, for every shape (a result reproduces across machines).
    Pinned(KernelGeometry),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_geometry_file_round_trips_and_old_files_take_the_defaults() {
        let g = KernelGeometry::rule(false, true);
        g.validate(256, 16 << 10).unwrap();
        KernelGeometry::rule(true, false)
            .validate(256, 16 << 10)
            .unwrap();
        let path = std::env::temp_dir().join(format!("geometry-{}.json", std::process::id()));
        g.save(&path).unwrap();
        assert_eq!(KernelGeometry::load(&path).unwrap(), g);
        // A file without the reductions and pairs (an older one) takes their defaults.
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("reductions");
        obj.remove("pairs");
        std::fs::write(&path, json.to_string()).unwrap();
        let old = KernelGeometry::load(&path).unwrap();
        assert_eq!(old.reductions, ReduceGeometry::default());
        assert_eq!(old.pairs, PairGeometry::default());
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            KernelGeometry::load(&path),
            Err(GpuError::GeometryFile { .. })
        ));
        std::fs::remove_file(&path).ok();
    }
}
