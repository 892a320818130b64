//! Picking kernel geometries on the adapter a run uses: pinned, the adapter's rule, or tuned
//! at first use (the candidates timed at the run's shape, the fastest kept) and cached on disk,
//! keyed by adapter, driver and library version.
//!
//! Environment: `INFOBOUND_TUNE=off` (or `0`, `false`) turns tuning off, so the rule is used
//! (tests and CI run so); `INFOBOUND_TUNE_CACHE=FILE` moves the cache from
//! `$XDG_CACHE_HOME/infobound/geometry.json` (`~/.cache/…` without it). Cache writes go to a
//! temporary file renamed over the cache, so a reader never sees half a file; a cache that does
//! not parse is ignored (and rewritten) with a note in [`GpuContext::geometry_notes`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::context::GpuContext;
use super::error::GpuError;
use super::geometry::{FusedGeometry, GemmGeometry, GeometryChoice, KernelGeometry};
use super::kernels::{state, Operands, Strided};
use super::timing::GpuTimer;
use crate::math::bounds::Bound;

/// The environment variable that turns tuning off.
pub const TUNE_ENV: &str = "INFOBOUND_TUNE";
/// The environment variable that moves the tuning cache.
pub const CACHE_ENV: &str = "INFOBOUND_TUNE_CACHE";
/// The cache file's format; a file of another format is ignored.
const FORMAT: u32 = 1;
/// Tuning runs at K rounded up to a power of two, at most this: larger batches keep the
/// ranking measured here (and tuning stays seconds long on a software adapter).
const MAX_TUNE_K: usize = 4096;

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
}

/// One tuned choice in the cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunedEntry {
    /// The adapter's name.
    pub adapter: String,
    /// Its driver and version.
    pub driver: String,
    /// The library version that tuned it.
    pub library: String,
    /// The pass.
    pub pass: FusedPass,
    /// The shape class: K rounded up to a power of two (at most 4 096).
    pub k: usize,
    /// The embedding width.
    pub e: usize,
    /// The fastest candidate.
    pub geometry: FusedGeometry,
    /// Its median seconds per pass at the tuning shape.
    pub seconds: f64,
}

/// The cache file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: Vec<TunedEntry>,
}

/// One candidate's time in a tuning table.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneRow {
    /// The pass.
    pub pass: FusedPass,
    /// The candidate.
    pub geometry: FusedGeometry,
    /// Median seconds per run at the tuning shape; `None` when abandoned (its first run was
    /// more than four times the best) or refused by the adapter.
    pub seconds: Option<f64>,
    /// Why it has no time, if it has none.
    pub note: Option<String>,
}

/// The result of tuning one shape.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneTable {
    /// The shape tuned: K (rounded) and e.
    pub k: usize,
    /// The embedding width.
    pub e: usize,
    /// Every candidate's time.
    pub rows: Vec<TuneRow>,
    /// The chosen (forward, backward) geometries.
    pub chosen: (FusedGeometry, FusedGeometry),
}

/// A context's geometry state: the choice, the tuning cache and what was used.
#[derive(Debug, Default)]
pub(crate) struct GeometryState {
    choice: GeometryChoice,
    /// The cache's entries for this adapter, driver and version, once read.
    cache: Option<Vec<TunedEntry>>,
    /// What each kernel family used, for reports: family → "geometry (source)".
    used: BTreeMap<String, String>,
    notes: Vec<String>,
}

/// Whether tuning is on (`INFOBOUND_TUNE` is not off).
pub fn tuning_enabled() -> bool {
    !matches!(
        std::env::var(TUNE_ENV).ok().as_deref().map(str::trim),
        Some("off" | "0" | "false" | "no")
    )
}

/// Where the tuning cache lives (see the module doc); `None` without a home directory.
pub fn cache_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(CACHE_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("infobound").join("geometry.json"))
}

/// The shape class K is tuned at.
fn k_class(k: usize) -> usize {
    k.next_power_of_two().clamp(64, MAX_TUNE_K)
}

/// Reads the cache file; a missing one is empty, one that does not parse or has another
/// format is empty with a note.
fn read_cache(path: &Path, notes: &mut Vec<String>) -> CacheFile {
    let Ok(text) = std::fs::read_to_string(path) else {
        return CacheFile::default();
    };
    match serde_json::from_str::<CacheFile>(&text) {
        Ok(c) if c.format == FORMAT => c,
        Ok(c) => {
            notes.push(format!(
                "ignored the tuning cache {}: format {} (this library writes {FORMAT})",
                path.display(),
                c.format
            ));
            CacheFile::default()
        }
        Err(e) => {
            notes.push(format!(
                "ignored the corrupted tuning cache {} ({e}); it will be rewritten",
                path.display()
            ));
            CacheFile::default()
        }
    }
}

/// Writes the cache atomically: a temporary file beside it, then a rename.
fn write_cache(path: &Path, cache: &CacheFile) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let text = serde_json::to_string_pretty(cache).expect("the cache serialises");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}

fn lock(m: &Mutex<GeometryState>) -> std::sync::MutexGuard<'_, GeometryState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl GpuContext {
    /// Sets how this context picks its kernels' geometry from now on (a pinned geometry is
    /// validated against the adapter's limits first).
    pub fn set_geometry(&self, choice: GeometryChoice) -> Result<(), GpuError> {
        if let GeometryChoice::Pinned(g) = choice {
            if g.reduce_subgroups && !self.has_subgroups() {
                return Err(GpuError::Geometry {
                    what: "reduce_subgroups",
                    value: 1,
                    rule: "false on a device without subgroup operations",
                });
            }
            let limits = self.limits();
            for f in [g.fused_forward, g.fused_backward] {
                f.validate(
                    limits.max_compute_invocations_per_workgroup,
                    limits.max_compute_workgroup_storage_size,
                )?;
            }
        }
        lock(&self.geometry).choice = choice;
        Ok(())
    }

    /// How this context picks its geometry.
    pub fn geometry_choice(&self) -> GeometryChoice {
        lock(&self.geometry).choice
    }

    /// What each kernel family has used so far, and why ("fused forward: 1×16 wg64 (tuned)"),
    /// for reports; empty before the first launch that has a choice.
    pub fn geometry_summary(&self) -> Vec<String> {
        lock(&self.geometry)
            .used
            .iter()
            .map(|(family, g)| format!("{family}: {g}"))
            .collect()
    }

    /// Notes of the tuner: a cache ignored, a tuning that failed (the rule was used).
    pub fn geometry_notes(&self) -> Vec<String> {
        lock(&self.geometry).notes.clone()
    }

    /// The whole geometry of the families that are pinned or follow the adapter's rule (all
    /// but the fused passes), and which of the two it is.
    fn pinned_or_rule(&self, choice: GeometryChoice) -> (KernelGeometry, &'static str) {
        match choice {
            GeometryChoice::Pinned(g) => (g, "pinned"),
            _ => (KernelGeometry::rule(self.adapter().is_software), "rule"),
        }
    }

    /// The matrix product's geometry: pinned, else the adapter's rule.
    pub(crate) fn gemm_geometry(&self) -> GemmGeometry {
        let mut st = lock(&self.geometry);
        let (g, source) = self.pinned_or_rule(st.choice);
        st.used.insert(
            "gemm".into(),
            format!("{}, split-K {} ({source})", g.gemm.name(), g.gemm_split_k),
        );
        g.gemm
    }

    /// Whether this device has subgroup operations (requested wherever the adapter offers
    /// them).
    pub fn has_subgroups(&self) -> bool {
        self.device().features().contains(wgpu::Features::SUBGROUP)
    }

    /// Whether the two-stage reductions use subgroup operations: pinned, else where the device
    /// has them (the rule).
    pub(crate) fn reduce_subgroups(&self) -> bool {
        let offered = self.has_subgroups();
        let mut st = lock(&self.geometry);
        let (on, source) = match st.choice {
            GeometryChoice::Pinned(g) => (g.reduce_subgroups && offered, "pinned"),
            _ => (offered, "rule"),
        };
        let name = if on { "subgroups" } else { "workgroup tree" };
        st.used
            .insert("reductions".into(), format!("{name} ({source})"));
        on
    }

    /// The k past which a matrix product splits (0: only as the loop limit needs).
    pub(crate) fn gemm_split_k(&self) -> u32 {
        let choice = lock(&self.geometry).choice;
        self.pinned_or_rule(choice).0.gemm_split_k
    }

    /// Whether the matrix products use the direct geometry ([`Self::gemm_geometry`]).
    pub(crate) fn gemm_direct(&self) -> bool {
        self.gemm_geometry() == GemmGeometry::Direct
    }

    /// The fused kernels' geometry for `pass` at K and e: pinned, cached, tuned now (and
    /// cached), or the adapter's rule, as [`Self::set_geometry`] and the environment say.
    pub(crate) fn fused_geometry(
        &self,
        pass: FusedPass,
        k: usize,
        e: usize,
    ) -> Result<FusedGeometry, GpuError> {
        let software = self.adapter().is_software;
        let choice = lock(&self.geometry).choice;
        let (g, source) = match choice {
            GeometryChoice::Pinned(g) => (
                match pass {
                    FusedPass::Forward => g.fused_forward,
                    FusedPass::Backward => g.fused_backward,
                },
                "pinned",
            ),
            // e = 0: the materialised form, whose line kernel only reads S.
            GeometryChoice::Auto if tuning_enabled() && e > 0 => match self.tuned(pass, k, e) {
                Ok(g) => (g, "tuned"),
                Err(err) => {
                    lock(&self.geometry)
                        .notes
                        .push(format!("tuning failed ({err}); the rule geometry is used"));
                    (FusedGeometry::rule(software, pass), "rule")
                }
            },
            _ => (FusedGeometry::rule(software, pass), "rule"),
        };
        // e = 0 is the materialised form's statistics pass, named apart.
        let family = if e > 0 {
            format!("fused {}", pass.name())
        } else {
            "materialised rows".into()
        };
        lock(&self.geometry)
            .used
            .insert(family, format!("{} ({source})", g.name()));
        Ok(g)
    }

    /// The cached choice for this adapter at (pass, K class, e), tuning both passes first
    /// when the cache has none.
    fn tuned(&self, pass: FusedPass, k: usize, e: usize) -> Result<FusedGeometry, GpuError> {
        let kc = k_class(k);
        let adapter = self.adapter().clone();
        let version = env!("CARGO_PKG_VERSION");
        let find = |entries: &[TunedEntry]| {
            entries
                .iter()
                .find(|t| t.pass == pass && t.k == kc && t.e == e)
                .map(|t| t.geometry)
        };
        let path = cache_path();
        {
            let mut st = lock(&self.geometry);
            if st.cache.is_none() {
                let mut notes = Vec::new();
                let file = path
                    .as_deref()
                    .map(|p| read_cache(p, &mut notes))
                    .unwrap_or_default();
                let mine = file
                    .entries
                    .into_iter()
                    .filter(|t| {
                        t.adapter == adapter.name
                            && t.driver == adapter.driver
                            && t.library == version
                    })
                    .collect();
                st.notes.extend(notes);
                st.cache = Some(mine);
            }
            if let Some(g) = find(st.cache.as_deref().unwrap_or_default()) {
                return Ok(g);
            }
        }
        let table = self.tune_and_cache(kc, e)?;
        Ok(match pass {
            FusedPass::Forward => table.chosen.0,
            FusedPass::Backward => table.chosen.1,
        })
    }

    /// Tunes K (its class: rounded up to a power of two, at most 4 096) and e now, whatever
    /// the cache holds, and caches the choice for this adapter (`infobound tune`).
    pub fn tune_and_cache(&self, k: usize, e: usize) -> Result<TuneTable, GpuError> {
        let kc = k_class(k);
        let adapter = self.adapter().clone();
        let version = env!("CARGO_PKG_VERSION");
        let table = self.tune_fused(kc, e)?;
        let seconds = |p: FusedPass, g: FusedGeometry| {
            table
                .rows
                .iter()
                .find(|r| r.pass == p && r.geometry == g)
                .and_then(|r| r.seconds)
                .unwrap_or(f64::NAN)
        };
        let new: Vec<TunedEntry> = [
            (FusedPass::Forward, table.chosen.0),
            (FusedPass::Backward, table.chosen.1),
        ]
        .into_iter()
        .map(|(p, g)| TunedEntry {
            adapter: adapter.name.clone(),
            driver: adapter.driver.clone(),
            library: version.into(),
            pass: p,
            k: kc,
            e,
            geometry: g,
            seconds: seconds(p, g),
        })
        .collect();
        let same = |a: &TunedEntry, b: &TunedEntry| a.pass == b.pass && a.k == b.k && a.e == b.e;
        let mut st = lock(&self.geometry);
        let cache = st.cache.get_or_insert_with(Vec::new);
        cache.retain(|t| !new.iter().any(|n| same(n, t)));
        cache.extend(new.clone());
        if let Some(path) = cache_path() {
            // Merge with what is on disk now (another process may have tuned other shapes),
            // dropping this adapter's entries of other library versions and of these shapes.
            let mut notes = Vec::new();
            let mut file = read_cache(&path, &mut notes);
            file.format = FORMAT;
            file.entries.retain(|t| {
                t.adapter != adapter.name
                    || t.driver != adapter.driver
                    || (t.library == version && !new.iter().any(|n| same(n, t)))
            });
            file.entries.extend(new);
            if let Err(err) = write_cache(&path, &file) {
                st.notes.push(format!(
                    "could not write the tuning cache {} ({err}); the choice holds for this run only",
                    path.display()
                ));
            }
        }
        Ok(table)
    }

    /// Times every fused candidate this adapter can run at K = `k`, e = `e` (InfoNCE, one
    /// replica) and returns the table with the fastest of each pass. The forward is timed
    /// alone; a backward candidate is timed with the rule's forward before it, so the
    /// difference between candidates is the backward's.
    pub fn tune_fused(&self, k: usize, e: usize) -> Result<TuneTable, GpuError> {
        let ke = k * e;
        let noise: Vec<f32> = (0..ke)
            .map(|i| ((i.wrapping_mul(2_654_435_761) % 1000) as f32 / 1000.0 - 0.5) * 0.1)
            .collect();
        let g = self.upload("tuning G", &noise)?;
        let h = self.upload("tuning H", &noise)?;
        let dg = self.zeros("tuning dG", ke)?;
        let dh = self.zeros("tuning dH", ke)?;
        let hist = self.zeros("tuning history", 1)?;
        let st = self.upload("tuning state", &state::initial(0))?;
        let scratch = self.zeros("tuning scratch", Self::matrix_bound_scratch_len(k))?;
        let solo = Strided::shared;
        let io = |grads: bool| Operands {
            s: solo(&g),
            h: Some(solo(&h)),
            baseline: None,
            grads: grads.then(|| (solo(&dg), Some(solo(&dh)))),
            hist: (&hist, 1),
            state: &st,
            scratch: solo(&scratch),
        };
        let limits = self.limits();
        let timer = GpuTimer::new(self);
        let rule = FusedGeometry::rule(self.adapter().is_software, FusedPass::Forward);
        let mut rows = Vec::new();
        let mut best: [Option<(f64, FusedGeometry)>; 2] = [None, None];
        for pass in [FusedPass::Forward, FusedPass::Backward] {
            let slot = usize::from(pass == FusedPass::Backward);
            for cand in FusedGeometry::candidates() {
                let refused = |note: String| TuneRow {
                    pass,
                    geometry: cand,
                    seconds: None,
                    note: Some(note),
                };
                if let Err(err) = cand.validate(
                    limits.max_compute_invocations_per_workgroup,
                    limits.max_compute_workgroup_storage_size,
                ) {
                    rows.push(refused(err.to_string()));
                    continue;
                }
                let pair = match pass {
                    FusedPass::Forward => (cand, cand),
                    FusedPass::Backward => (rule, cand),
                };
                let launches = self.bound_launches(
                    &[Bound::InfoNce],
                    k,
                    Some(e),
                    &io(pass == FusedPass::Backward),
                    pair,
                )?;
                // A warm-up (the pipelines compile at their first dispatch), then one run: a
                // candidate far behind the best is not timed further.
                let first = timer.time(&launches, 1, 1, 1)?.median;
                if let Some((b, _)) = best[slot] {
                    if first > 4.0 * b {
                        rows.push(TuneRow {
                            pass,
                            geometry: cand,
                            seconds: None,
                            note: Some(format!("abandoned: first run {:.3} ms", first * 1e3)),
                        });
                        continue;
                    }
                }
                let t = timer.time(&launches, 1, 0, 3)?.median;
                if best[slot].is_none_or(|(b, _)| t < b) {
                    best[slot] = Some((t, cand));
                }
                rows.push(TuneRow {
                    pass,
                    geometry: cand,
                    seconds: Some(t),
                    note: None,
                });
            }
        }
        let software = self.adapter().is_software;
        let pick =
            |slot: usize, pass| best[slot].map_or(FusedGeometry::rule(software, pass), |(_, g)| g);
        Ok(TuneTable {
            k,
            e,
            rows,
            chosen: (pick(0, FusedPass::Forward), pick(1, FusedPass::Backward)),
        })
    }
}
