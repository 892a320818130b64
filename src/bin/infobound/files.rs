//! Writing what a command produces, failing with one line that names the path.

use std::path::Path;

use crate::failure::{runtime, Failure};

/// Creates `dir` and any folders above it.
pub fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| runtime(format!("cannot create {}: {e}", dir.display())))
}

/// Writes `text` to `path`, replacing what was there.
pub fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| runtime(format!("cannot write {}: {e}", path.display())))
}
