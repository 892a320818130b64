//! The tuning cache on disk: one JSON file of tuned choices, each keyed by adapter, driver,
//! library version, kernel family and shape class. Writes go to a temporary file renamed over
//! the cache, so a reader never sees half a file; a file that does not parse, or of another
//! format, is ignored with a note.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CACHE_ENV;
use crate::gpu::context::AdapterSummary;

/// The cache file's format; a file of another format is ignored.
const FORMAT: u32 = 2;

/// One tuned choice in the cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunedEntry {
    /// The adapter's name.
    pub adapter: String,
    /// Its driver and version.
    pub driver: String,
    /// The library version that tuned it.
    pub library: String,
    /// The kernel family ("fused forward", "gemm", "column sums", "pairs" …).
    pub family: String,
    /// The shape class it was tuned at, in the family's order (fused: K, e; gemm: m, n, k,
    /// transposed A, transposed B; column sums: rows, columns; pairs: K, width).
    pub shape: Vec<usize>,
    /// The fastest candidate, as the family's geometry type writes it.
    pub geometry: serde_json::Value,
    /// Its median seconds per run at the shape class.
    pub seconds: f64,
}

impl TunedEntry {
    /// Whether this entry was tuned on `adapter` by this library version.
    pub(crate) fn is_mine(&self, adapter: &AdapterSummary) -> bool {
        self.adapter == adapter.name && self.driver == adapter.driver && self.library == VERSION
    }

    /// Whether it holds the choice for `family` at `shape` (whichever adapter tuned it).
    pub(crate) fn is_for(&self, family: &str, shape: &[usize]) -> bool {
        self.family == family && self.shape == shape
    }
}

/// This library's version, part of every entry's key.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The cache file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: Vec<TunedEntry>,
}

/// Where the tuning cache lives (`INFOBOUND_TUNE_CACHE`, else
/// `$XDG_CACHE_HOME/infobound/geometry.json`, else under `~/.cache`); `None` without a home
/// directory.
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

/// The entries of the cache file at `path`; a missing one is empty, one that does not parse
/// or has another format is empty with a note.
pub(crate) fn read(path: &Path, notes: &mut Vec<String>) -> Vec<TunedEntry> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    match serde_json::from_str::<CacheFile>(&text) {
        Ok(c) if c.format == FORMAT => c.entries,
        Ok(c) => {
            notes.push(format!(
                "ignored the tuning cache {}: format {} (this library writes {FORMAT}); it will be rewritten",
                path.display(),
                c.format
            ));
            Vec::new()
        }
        Err(e) => {
            notes.push(format!(
                "ignored the corrupted tuning cache {} ({e}); it will be rewritten",
                path.display()
            ));
            Vec::new()
        }
    }
}

/// Adds `new` (tuned on `adapter`) to the file at `path`, merged with what is on disk now
/// (another process may have tuned other shapes): this adapter's entries of other library
/// versions, and of the same families and shapes, are dropped. Atomic: a temporary file
/// beside it, then a rename.
pub(crate) fn store(
    path: &Path,
    adapter: &AdapterSummary,
    new: &[TunedEntry],
    notes: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries = read(path, notes);
    entries.retain(|t| {
        t.adapter != adapter.name
            || t.driver != adapter.driver
            || (t.library == VERSION && !new.iter().any(|n| t.is_for(&n.family, &n.shape)))
    });
    entries.extend_from_slice(new);
    let file = CacheFile {
        format: FORMAT,
        entries,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let text = serde_json::to_string_pretty(&file).expect("the cache serialises");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}
