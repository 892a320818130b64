//! The library's layering (docs/ARCHITECTURE.md), checked against the code: every `crate::`
//! path a module names points to a layer that module may depend on, and no two modules import
//! each other.
//!
//! The layers are folders of `src/`; a module's layer is the folder it sits in. Renaming a
//! module cannot pass this test: a path is checked by the layer of the module it resolves to,
//! so only moving code to where its arrows point down can.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every layer, top to bottom, with the layers it may import (itself always allowed).
/// The command line (`src/bin`), the examples and the bindings sit above them all and use the
/// public API.
const ALLOWED: &[(&str, &[&str])] = &[
    // Synthetic tasks, the staircase, the MINE demo, the task suite, benchmarks (whose probes
    // time GPU kernels, so they reach the GPU layer directly).
    (
        "experiments",
        &["estimate", "losses", "backend", "gpu", "math"],
    ),
    // Losses for users' own models: contrastive, gradient clipping, the sandwich. They launch
    // kernels on the caller's own device and buffers, so they reach the GPU layer directly.
    ("losses", &["estimate", "backend", "gpu", "math"]),
    // The estimate protocol: estimator, report, validation, transforms, diagnostics, files.
    ("estimate", &["backend", "math"]),
    // One backend trait and one factory over the two backends.
    ("backend", &["gpu", "cpu", "math"]),
    // The backends: never each other, never anything above.
    ("gpu", &["math"]),
    ("cpu", &["math"]),
    // Backend-neutral math: bounds, critic shapes, the step program, RNG, sampling.
    ("math", &[]),
];

/// src/ itself.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under src/: `src/math/bounds.rs` → `math::bounds`,
/// `src/gpu/mod.rs` → `gpu`, `src/lib.rs` → `` (the root).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without comments (line comments, doc comments and block comments), so
/// an intra-doc link is not an import.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(end) => {
                        in_block -= 1;
                        rest = &rest[end + 2..];
                    }
                    None => break,
                }
            } else {
                let line_comment = rest.find("//");
                let block = rest.find("/*");
                match (line_comment, block) {
                    (Some(l), Some(b)) if b < l => {
                        kept.push_str(&rest[..b]);
                        in_block += 1;
                        rest = &rest[b + 2..];
                    }
                    (Some(l), _) => {
                        kept.push_str(&rest[..l]);
                        break;
                    }
                    (None, Some(b)) => {
                        kept.push_str(&rest[..b]);
                        in_block += 1;
                        rest = &rest[b + 2..];
                    }
                    (None, None) => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// Every module path a file's code names through `crate::…`, including the items of a
/// `use crate::{a::b, c}` group, cut to the longest prefix that is a module of the crate.
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let path = if let Some(group) = after.strip_prefix('{') {
            // `crate::{a::b, c::{d, e}}`: the first segment of every top-level entry.
            let end = matching_brace(group);
            for entry in split_top_level(&group[..end]) {
                out.insert(resolve(&entry, modules));
            }
            rest = &after[end..];
            continue;
        } else {
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            after[..end].trim_end_matches(':').to_string()
        };
        out.insert(resolve(&path, modules));
        rest = after;
    }
    out.remove("");
    out
}

/// The index of the brace that closes the group `s` starts inside.
fn matching_brace(s: &str) -> usize {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// The paths of a `use` group's top-level entries (nested groups keep their prefix only).
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        if depth == 0 && c != '}' {
            current.push(c);
        }
    }
    out.push(current);
    out.into_iter()
        .map(|e| e.trim().trim_end_matches("::").to_string())
        .filter(|e| !e.is_empty() && e != "self")
        .collect()
}

/// The longest prefix of `path` that is a module. A name the crate root re-exports
/// (`crate::Error`) resolves to the module it comes from, so a re-export hides no arrow; the
/// root ("") when neither applies.
fn resolve(path: &str, modules: &BTreeSet<String>) -> String {
    let parts: Vec<&str> = path.split("::").map(str::trim).collect();
    let found = (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|p| modules.contains(p));
    match found {
        Some(m) => m,
        None => root_reexports(modules)
            .get(parts[0])
            .cloned()
            .unwrap_or_default(),
    }
}

/// Every name `src/lib.rs` re-exports with `pub use`, and the module it comes from.
fn root_reexports(modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let lib = code_of(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    let mut out = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(path) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let (prefix, names) = match path.split_once("::{") {
            Some((p, g)) => (p.to_string(), split_top_level(g.trim_end_matches('}'))),
            None => {
                let (p, n) = path.rsplit_once("::").unwrap_or(("", path));
                (p.to_string(), vec![n.to_string()])
            }
        };
        for name in names {
            let full = format!("{prefix}::{name}");
            let module = (1..=full.split("::").count())
                .rev()
                .map(|n| full.split("::").take(n).collect::<Vec<_>>().join("::"))
                .find(|p| modules.contains(p))
                .unwrap_or_default();
            let alias = name.rsplit("::").next().unwrap_or(&name).to_string();
            out.insert(alias, module);
        }
    }
    out
}

/// A module's layer: its first path segment, or None for the crate root.
fn layer_of(module: &str) -> Option<&str> {
    module.split("::").next().filter(|s| !s.is_empty())
}

/// Every module of the crate and the modules its code imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.retain(|f| !f.starts_with(src().join("bin")));
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    files
        .iter()
        .map(|f| {
            let code = code_of(&std::fs::read_to_string(f).unwrap());
            (module_of(f), imports(&code, &modules))
        })
        .collect()
}

#[test]
fn every_import_points_down_the_layers() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, imports) in graph() {
        let Some(from) = layer_of(&module) else {
            continue; // lib.rs declares the layers and re-exports the public API.
        };
        let Some(may) = allowed.get(from) else {
            wrong.push(format!(
                "{module}: in no layer (folders: {:?})",
                allowed.keys()
            ));
            continue;
        };
        for target in imports {
            let to = layer_of(&target).unwrap_or("");
            if to != from && !may.contains(&to) {
                wrong.push(format!("{module} ({from}) imports {target} ({to})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let g = graph();
    let mut pairs = Vec::new();
    for (a, imports) in &g {
        for b in imports {
            // A module importing its own parent (`super`-style glue) counts as well.
            if a < b && g.get(b).is_some_and(|i| i.contains(a)) {
                pairs.push(format!("{a} ↔ {b}"));
            }
        }
    }
    assert!(
        pairs.is_empty(),
        "modules that import each other:\n{}",
        pairs.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups_and_skips_comments() {
    let modules: BTreeSet<String> = ["math", "math::bounds", "gpu", "gpu::kernels"]
        .into_iter()
        .map(String::from)
        .collect();
    let code = code_of(
        "use crate::{math::bounds::Bound, gpu::kernels::{A, B}};\n\
         /// [`crate::cpu::ops`] is a doc link\n\
         let x = crate::math::bounds::f(); /* crate::cpu */\n",
    );
    let got = imports(&code, &modules);
    let want: BTreeSet<String> = ["math::bounds", "gpu::kernels"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
}
