//! The pair kernels' geometry (`pairs.wgsl`'s template constants). Each output is computed by
//! one invocation in index order whatever the geometry, so all give the same bits.

use serde::{Deserialize, Serialize};

use crate::gpu::error::GpuError;

/// How `pair_expand` and `pair_reduce` cut their outputs into invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PairGeometry {
    /// Invocations a workgroup.
    pub workgroup: u32,
    /// Outputs an invocation computes, a workgroup's width apart (so a workgroup's reads stay
    /// side by side).
    pub per_invocation: u32,
}

impl Default for PairGeometry {
    /// The GPU rule: 64 invocations a workgroup, one output each.
    fn default() -> Self {
        Self::rule(false)
    }
}

impl PairGeometry {
    /// A geometry; [`Self::validate`] says whether an adapter can run it.
    pub const fn new(workgroup: u32, per_invocation: u32) -> Self {
        Self {
            workgroup,
            per_invocation,
        }
    }

    /// The rule without tuning: 64 invocations a workgroup, one output each on a GPU and four
    /// on a CPU rasteriser (2.6× faster than one there, `infobound tune` on lavapipe,
    /// BENCHMARKS.md).
    pub const fn rule(software: bool) -> Self {
        Self::new(64, if software { 4 } else { 1 })
    }

    /// The candidates the tuner times.
    pub fn candidates() -> Vec<Self> {
        vec![
            Self::new(64, 1),
            Self::new(256, 1),
            Self::new(128, 2),
            Self::new(64, 4),
            Self::new(256, 4),
        ]
    }

    /// Refuses a geometry outside the template's ranges or past `max_workgroup` invocations.
    pub fn validate(&self, max_workgroup: u32) -> Result<(), GpuError> {
        let bad = |what: &'static str, value: u32, rule: &'static str| GpuError::Geometry {
            what,
            value: u64::from(value),
            rule,
        };
        if !self.workgroup.is_power_of_two() || !(32..=256).contains(&self.workgroup) {
            return Err(bad("pairs workgroup", self.workgroup, "32, 64, 128 or 256"));
        }
        if self.workgroup > max_workgroup {
            return Err(bad(
                "pairs workgroup",
                self.workgroup,
                "at most the adapter's invocations a workgroup",
            ));
        }
        if !(1..=8).contains(&self.per_invocation) {
            return Err(bad("pairs per_invocation", self.per_invocation, "1 to 8"));
        }
        Ok(())
    }

    /// The template constants of `pairs.wgsl` (part of the pipeline key).
    pub fn constants(&self) -> Vec<(&'static str, u32)> {
        vec![("PR_WG", self.workgroup), ("PR_PER", self.per_invocation)]
    }

    /// A short name for tables: "wg64 ×1".
    pub fn name(&self) -> String {
        format!("wg{} ×{}", self.workgroup, self.per_invocation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_valid_and_bad_ones_refused() {
        for g in PairGeometry::candidates()
            .into_iter()
            .chain([true, false].map(PairGeometry::rule))
        {
            g.validate(256).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        }
        assert!(PairGeometry::candidates().len() >= 4);
        for g in [
            PairGeometry::new(48, 1),
            PairGeometry::new(512, 1),
            PairGeometry::new(64, 0),
            PairGeometry::new(64, 9),
        ] {
            assert!(g.validate(1024).is_err(), "{g:?}");
        }
    }
}
