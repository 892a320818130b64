//! Picking kernel geometries on the adapter a run uses: pinned, the adapter's rule, or tuned
//! at first use (the candidates timed at the run's shape class, the fastest kept) and cached on
//! disk, keyed by adapter, driver, library version, family and shape class.
//!
//! The families with a tuned choice: the fused score kernels' two passes ([`fused`]), the
//! matrix products, the column sums and the pair kernels ([`families`]; on a CPU rasteriser
//! only as `infobound tune` cached them). The split-K length and the two-stage reductions'
//! tree follow the pinned geometry or the rule.
//!
//! Environment: `INFOBOUND_TUNE=off` (or `0`, `false`) turns tuning off, so the rule is used
//! (tests and CI run so); `INFOBOUND_TUNE_CACHE=FILE` moves the cache from
//! `$XDG_CACHE_HOME/infobound/geometry.json` (`~/.cache/…` without it). A cache that does not
//! parse is ignored (and rewritten) with a note in [`GpuContext::geometry_notes`].

mod cache;
mod families;
mod fused;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use cache::{cache_path, TunedEntry};
pub use families::{FamilyTable, Timed};
pub use fused::{TuneRow, TuneTable};

use super::context::GpuContext;
use super::error::GpuError;
use super::geometry::{
    FusedGeometry, GemmGeometry, GeometryChoice, KernelGeometry, PairGeometry, ReduceGeometry,
};
use crate::math::linalg::GemmSpec;

/// The environment variable that turns tuning off.
pub const TUNE_ENV: &str = "INFOBOUND_TUNE";
/// The environment variable that moves the tuning cache.
pub const CACHE_ENV: &str = "INFOBOUND_TUNE_CACHE";

/// The passes of the fused score kernels, tuned separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FusedPass {
    /// The statistics (`row_stats`).
    Forward,
    /// The gradients (`grad_rows`, `grad_cols`).
    Backward,
}

impl FusedPass {
    /// "forward" or "backward".
    pub fn name(self) -> &'static str {
        match self {
            FusedPass::Forward => "forward",
            FusedPass::Backward => "backward",
        }
    }

    /// The cache's family name: "fused forward" or "fused backward".
    pub fn family(self) -> &'static str {
        match self {
            FusedPass::Forward => "fused forward",
            FusedPass::Backward => "fused backward",
        }
    }
}

/// When a tuned family's geometry is tuned under [`GeometryChoice::Auto`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tuning {
    /// A cached choice is used, none is tuned now.
    CachedOnly,
    /// Cached, or tuned at first use.
    AtFirstUse,
}

/// A context's geometry state: the choice, the tuning cache and what was used.
#[derive(Debug, Default)]
pub(crate) struct GeometryState {
    choice: GeometryChoice,
    /// The cache's entries for this adapter, driver and version, once read.
    cache: Option<Vec<TunedEntry>>,
    /// What each kernel family used, for reports: family → "geometry (source)" for every
    /// choice it made (the tuned families choose per shape).
    used: BTreeMap<String, BTreeSet<String>>,
    notes: Vec<String>,
}

/// Whether tuning is on (`INFOBOUND_TUNE` is not off).
pub fn tuning_enabled() -> bool {
    !matches!(
        std::env::var(TUNE_ENV).ok().as_deref().map(str::trim),
        Some("off" | "0" | "false" | "no")
    )
}

/// `n` rounded up to a power of two, within [lo, hi]: the shape class a size is tuned at
/// (larger sizes keep the ranking measured at the cap, and tuning stays seconds long on a
/// software adapter).
pub(crate) fn class(n: usize, lo: usize, hi: usize) -> usize {
    n.max(1).next_power_of_two().clamp(lo, hi)
}

fn lock(m: &Mutex<GeometryState>) -> std::sync::MutexGuard<'_, GeometryState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl GpuContext {
    /// Sets how this context picks its kernels' geometry from now on (a pinned geometry is
    /// validated against the adapter's limits first).
    pub fn set_geometry(&self, choice: GeometryChoice) -> Result<(), GpuError> {
        if let GeometryChoice::Pinned(g) = choice {
            if g.reductions.subgroups && !self.has_subgroups() {
                return Err(GpuError::Geometry {
                    what: "reductions subgroups",
                    value: 1,
                    rule: "false on a device without subgroup operations",
                });
            }
            let limits = self.limits();
            g.validate(
                limits.max_compute_invocations_per_workgroup,
                limits.max_compute_workgroup_storage_size,
            )?;
        }
        lock(&self.geometry).choice = choice;
        Ok(())
    }

    /// How this context picks its geometry.
    pub fn geometry_choice(&self) -> GeometryChoice {
        lock(&self.geometry).choice
    }

    /// What each kernel family has used so far, and why ("fused forward: 1×16 wg64 (tuned)"),
    /// for reports; empty before the first launch that has a choice. A family tuned per shape
    /// lists each geometry it used.
    pub fn geometry_summary(&self) -> Vec<String> {
        lock(&self.geometry)
            .used
            .iter()
            .map(|(family, g)| {
                let list: Vec<&str> = g.iter().map(String::as_str).collect();
                format!("{family}: {}", list.join(", "))
            })
            .collect()
    }

    /// Notes of the tuner: a cache ignored, a tuning that failed (the rule was used).
    pub fn geometry_notes(&self) -> Vec<String> {
        lock(&self.geometry).notes.clone()
    }

    /// Whether this device has subgroup operations (requested wherever the adapter offers
    /// them).
    pub fn has_subgroups(&self) -> bool {
        self.device().features().contains(wgpu::Features::SUBGROUP)
    }

    /// The adapter's rule for every family.
    pub fn rule_geometry(&self) -> KernelGeometry {
        KernelGeometry::rule(self.adapter().is_software, self.has_subgroups())
    }

    /// Notes what `family` used, for [`Self::geometry_summary`].
    fn record(&self, family: &str, what: String) {
        lock(&self.geometry)
            .used
            .entry(family.into())
            .or_default()
            .insert(what);
    }

    /// One tuned family's geometry: pinned; where the choice is Auto and tuning is on, cached,
    /// or tuned now (`tune` times the candidates at `shape` and caches the fastest) as `tuning`
    /// allows; else the adapter's rule. `part` takes the family's part of a whole geometry. A
    /// failed tuning is noted and the rule used.
    fn pick<G>(
        &self,
        family: &str,
        shape: &[usize],
        part: impl Fn(&KernelGeometry) -> G,
        tuning: Tuning,
        tune: impl FnOnce() -> Result<G, GpuError>,
    ) -> (G, &'static str)
    where
        G: DeserializeOwned,
    {
        let choice = lock(&self.geometry).choice;
        if choice != GeometryChoice::Auto || !tuning_enabled() {
            return self.pinned_or_rule(part);
        }
        if let Some(g) = self.cached(family, shape) {
            return (g, "tuned");
        }
        if tuning == Tuning::CachedOnly {
            return self.pinned_or_rule(part);
        }
        match tune() {
            Ok(g) => (g, "tuned"),
            Err(err) => {
                lock(&self.geometry).notes.push(format!(
                    "tuning {family} failed ({err}); the rule geometry is used"
                ));
                self.pinned_or_rule(part)
            }
        }
    }

    /// A family's part of the pinned geometry, else of the adapter's rule, and which it is:
    /// what the families that are never tuned use, and the others without tuning.
    fn pinned_or_rule<G>(&self, part: impl Fn(&KernelGeometry) -> G) -> (G, &'static str) {
        match lock(&self.geometry).choice {
            GeometryChoice::Pinned(g) => (part(&g), "pinned"),
            _ => (part(&self.rule_geometry()), "rule"),
        }
    }

    /// How the products, column sums and pair kernels are tuned on this adapter: at first use
    /// on a GPU; on a CPU rasteriser only what `infobound tune` cached, since timing their
    /// candidates at every shape a run needs costs minutes there (its rule is what the tuner
    /// measured on lavapipe, BENCHMARKS.md).
    fn shape_tuning(&self) -> Tuning {
        if self.adapter().is_software {
            Tuning::CachedOnly
        } else {
            Tuning::AtFirstUse
        }
    }

    /// The cached choice for this adapter of `family` at `shape`, reading the cache file at
    /// the first call.
    fn cached<G: DeserializeOwned>(&self, family: &str, shape: &[usize]) -> Option<G> {
        let adapter = self.adapter().clone();
        let mut st = lock(&self.geometry);
        if st.cache.is_none() {
            let mut notes = Vec::new();
            let entries = cache_path()
                .map(|p| cache::read(&p, &mut notes))
                .unwrap_or_default();
            st.notes.extend(notes);
            st.cache = Some(
                entries
                    .into_iter()
                    .filter(|t| t.is_mine(&adapter))
                    .collect(),
            );
        }
        let entry = st
            .cache
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|t| t.is_for(family, shape))?;
        // An entry this version cannot read (hand-edited) is as good as none: tuned again.
        serde_json::from_value(entry.geometry.clone()).ok()
    }

    /// Keeps tuned choices for this run and writes them to the cache file.
    fn remember(&self, new: Vec<TunedEntry>) {
        let adapter = self.adapter().clone();
        let mut st = lock(&self.geometry);
        let cached = st.cache.get_or_insert_with(Vec::new);
        cached.retain(|t| !new.iter().any(|n| t.is_for(&n.family, &n.shape)));
        cached.extend(new.iter().cloned());
        if let Some(path) = cache_path() {
            let mut notes = Vec::new();
            if let Err(err) = cache::store(&path, &adapter, &new, &mut notes) {
                notes.push(format!(
                    "could not write the tuning cache {} ({err}); the choice holds for this run only",
                    path.display()
                ));
            }
            st.notes.extend(notes);
        }
    }

    /// An entry of the cache for this adapter.
    fn entry<G: Serialize>(
        &self,
        family: &str,
        shape: Vec<usize>,
        geometry: &G,
        seconds: f64,
    ) -> TunedEntry {
        let adapter = self.adapter();
        TunedEntry {
            adapter: adapter.name.clone(),
            driver: adapter.driver.clone(),
            library: cache::VERSION.into(),
            family: family.into(),
            shape,
            geometry: serde_json::to_value(geometry).expect("a geometry serialises"),
            seconds,
        }
    }

    /// The matrix product's geometry for `spec`'s shape: pinned, tuned at its shape class, or
    /// the adapter's rule.
    pub fn gemm_geometry(&self, spec: &GemmSpec) -> GemmGeometry {
        let shape = families::gemm_class(spec);
        let (g, source) = self.pick(
            "gemm",
            &shape,
            |k| k.gemm,
            self.shape_tuning(),
            || self.tune_gemm(&shape).map(|t| t.chosen),
        );
        self.record("gemm", format!("{} ({source})", g.name()));
        g
    }

    /// The k past which a matrix product splits (0: only as the loop limit needs).
    pub(crate) fn gemm_split_k(&self) -> u32 {
        let (split, source) = self.pinned_or_rule(|k| k.gemm_split_k);
        self.record("gemm split-K", format!("{split} ({source})"));
        split
    }

    /// The column sums' geometry for `rows` × `cols`: pinned, tuned at its shape class, or
    /// the adapter's rule.
    pub fn reduce_geometry(&self, rows: usize, cols: usize) -> ReduceGeometry {
        let shape = families::column_class(rows, cols);
        let (g, source) = self.pick(
            "column sums",
            &shape,
            |k| k.reductions,
            self.shape_tuning(),
            || self.tune_column_sums(&shape).map(|t| t.chosen),
        );
        self.record("column sums", format!("{} ({source})", g.column_name()));
        g
    }

    /// The two-stage reductions' geometry (workgroup and tree): pinned, else the rule
    /// (subgroups where the device has them).
    pub(crate) fn two_stage_geometry(&self) -> ReduceGeometry {
        let (g, source) = self.pinned_or_rule(|k| k.reductions);
        self.record("reductions", format!("{} ({source})", g.tree_name()));
        g
    }

    /// The pair kernels' geometry at K and `width`: pinned, tuned at its shape class, or the
    /// rule.
    pub fn pair_geometry(&self, k: usize, width: usize) -> PairGeometry {
        let shape = families::pair_class(k, width);
        let (g, source) = self.pick(
            "pairs",
            &shape,
            |k| k.pairs,
            self.shape_tuning(),
            || self.tune_pairs(&shape).map(|t| t.chosen),
        );
        self.record("pairs", format!("{} ({source})", g.name()));
        g
    }

    /// The fused kernels' geometry for `pass` at K and e: pinned, cached, tuned now (and
    /// cached), or the adapter's rule, as [`Self::set_geometry`] and the environment say.
    /// e = 0 is the materialised form's statistics pass (it only reads S), never tuned.
    pub(crate) fn fused_geometry(
        &self,
        pass: FusedPass,
        k: usize,
        e: usize,
    ) -> Result<FusedGeometry, GpuError> {
        let kc = fused::k_class(k, self.adapter().is_software);
        let part = |g: &KernelGeometry| match pass {
            FusedPass::Forward => g.fused_forward,
            FusedPass::Backward => g.fused_backward,
        };
        // e = 0 is the materialised form's statistics pass, never tuned and named apart.
        if e == 0 {
            let (g, source) = self.pinned_or_rule(part);
            self.record("materialised rows", format!("{} ({source})", g.name()));
            return Ok(g);
        }
        let (g, source) = self.pick(pass.family(), &[kc, e], part, Tuning::AtFirstUse, || {
            self.tune_and_cache(kc, e).map(|t| match pass {
                FusedPass::Forward => t.chosen.0,
                FusedPass::Backward => t.chosen.1,
            })
        });
        self.record(pass.family(), format!("{} ({source})", g.name()));
        Ok(g)
    }
}
