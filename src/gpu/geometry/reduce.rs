//! The reductions' geometry (`reduce.wgsl`): how the column sums split their rows, and the
//! two-stage reductions' workgroup and tree.

use serde::{Deserialize, Serialize};

use crate::gpu::error::GpuError;
use crate::gpu::shaders::{REDUCE_WORKGROUP, SUBGROUPS};

/// How the reductions cut their work. The column sums (the bias gradients, over K² pair rows
/// for the concat critic) are what training runs; the two-stage sum / max / log-sum-exp serve
/// the tests and tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReduceGeometry {
    /// Rows one invocation of the column sums adds (0: all of them). A longer column splits
    /// into partial sums in parallel invocations, added in order by a second pass; the bits
    /// depend on it.
    #[serde(default)]
    pub column_split: u32,
    /// Invocations a workgroup of the two-stage reductions.
    #[serde(default = "default_workgroup")]
    pub workgroup: u32,
    /// Whether the two-stage reductions fold each subgroup with subgroup operations (where
    /// the device has them) instead of a workgroup-memory tree; the bits depend on it.
    #[serde(default)]
    pub subgroups: bool,
}

fn default_workgroup() -> u32 {
    256
}

impl Default for ReduceGeometry {
    /// One pass a column, 256-wide workgroup trees.
    fn default() -> Self {
        Self::new(0, 256, false)
    }
}

impl ReduceGeometry {
    /// A geometry; [`Self::validate`] says whether an adapter can run it.
    pub const fn new(column_split: u32, workgroup: u32, subgroups: bool) -> Self {
        Self {
            column_split,
            workgroup,
            subgroups,
        }
    }

    /// The rule without tuning: on a GPU, columns split every 1 024 rows so that a long
    /// column sum fills the device; on a CPU rasteriser one pass a column (its loop limit
    /// splits what it must); subgroup trees wherever the device has subgroups.
    pub const fn rule(software: bool, subgroups: bool) -> Self {
        Self::new(if software { 0 } else { 1024 }, 256, subgroups)
    }

    /// The candidates the tuner times for the column sums, each with `base`'s two-stage
    /// settings: rows an invocation adds.
    pub fn candidates(base: Self) -> Vec<Self> {
        [0, 256, 1024, 4096]
            .into_iter()
            .map(|split| Self {
                column_split: split,
                ..base
            })
            .collect()
    }

    /// Refuses a geometry outside the kernels' ranges or past `max_workgroup` invocations.
    pub fn validate(&self, max_workgroup: u32) -> Result<(), GpuError> {
        let bad = |what: &'static str, value: u32, rule: &'static str| GpuError::Geometry {
            what,
            value: u64::from(value),
            rule,
        };
        if self.column_split != 0 && !(16..=1 << 20).contains(&self.column_split) {
            return Err(bad(
                "reductions column_split",
                self.column_split,
                "0, or 16 to 1 048 576 rows",
            ));
        }
        if !self.workgroup.is_power_of_two() || !(32..=256).contains(&self.workgroup) {
            return Err(bad(
                "reductions workgroup",
                self.workgroup,
                "32, 64, 128 or 256",
            ));
        }
        if self.workgroup > max_workgroup {
            return Err(bad(
                "reductions workgroup",
                self.workgroup,
                "at most the adapter's invocations a workgroup",
            ));
        }
        Ok(())
    }

    /// The template constants of `reduce.wgsl` (part of the pipeline key): the two-stage
    /// tree and workgroup.
    pub fn constants(&self) -> Vec<(&'static str, u32)> {
        vec![
            (SUBGROUPS, u32::from(self.subgroups)),
            (REDUCE_WORKGROUP, self.workgroup),
        ]
    }

    /// The column sums' part of the name: "whole columns" or "split 1024".
    pub fn column_name(&self) -> String {
        match self.column_split {
            0 => "whole columns".to_string(),
            n => format!("split {n}"),
        }
    }

    /// The two-stage reductions' part of the name: "tree wg256" or "subgroups wg256".
    pub fn tree_name(&self) -> String {
        let tree = if self.subgroups { "subgroups" } else { "tree" };
        format!("{tree} wg{}", self.workgroup)
    }

    /// A short name for tables: "split 1024; tree wg256".
    pub fn name(&self) -> String {
        format!("{}; {}", self.column_name(), self.tree_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_and_rules_are_valid_and_bad_ones_refused() {
        for g in ReduceGeometry::candidates(ReduceGeometry::default())
            .into_iter()
            .chain([true, false].map(|s| ReduceGeometry::rule(s, s)))
        {
            g.validate(256).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        }
        assert!(ReduceGeometry::candidates(ReduceGeometry::default()).len() >= 4);
        for g in [
            ReduceGeometry::new(8, 256, false),
            ReduceGeometry::new(0, 48, false),
            ReduceGeometry::new(0, 512, false),
        ] {
            assert!(g.validate(1024).is_err(), "{g:?}");
        }
        assert!(ReduceGeometry::new(0, 256, false).validate(128).is_err());
    }
}
