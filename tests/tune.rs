//! The kernel tuner on this machine's adapter: it tunes at first use and caches the choice,
//! a fresh context reloads it, a corrupted or stale cache is ignored with a note and
//! rewritten, `INFOBOUND_TUNE=off` keeps the rule, `infobound tune` prints its table and saves
//! a geometry file, and a pinned geometry (`--geometry`) reproduces its bits and says so.
//!
//! One test function: it sets the process's environment (the cache's path, tuning on), which
//! the other tests of a binary would see.

mod common;

use std::process::Command;

use common::cli::{field, scratch, write_csv, BIN};
use common::gpu;
use infobound::gpu::kernels::{state, FusedBoundBuffers};
use infobound::gpu::{GeometryChoice, GpuContext, KernelGeometry};
use infobound::math::bounds::Bound;

/// One fused InfoNCE evaluation at K = 20, e = 3 (tuned at the K class 64): dG's bits.
fn evaluate(ctx: &GpuContext) -> Vec<u32> {
    let (k, e) = (20, 3);
    let g: Vec<f32> = common::values(k * e, 1);
    let h: Vec<f32> = common::values(k * e, 2);
    let up = |v: &[f32]| ctx.upload("operand", v).unwrap();
    let (g, h) = (up(&g), up(&h));
    let dg = ctx.zeros("dg", k * e).unwrap();
    let dh = ctx.zeros("dh", k * e).unwrap();
    let hist = ctx.zeros("hist", 1).unwrap();
    let st = ctx.upload("state", &state::initial(0)).unwrap();
    let scratch = ctx
        .zeros("scratch", GpuContext::matrix_bound_scratch_len(k))
        .unwrap();
    let io = FusedBoundBuffers {
        g: &g,
        h: &h,
        baseline: None,
        grads: Some((&dg, &dh)),
        hist: &hist,
        state: &st,
        scratch: &scratch,
    };
    let d = ctx.fused_bound(Bound::InfoNce, k, e, &io).unwrap();
    ctx.run(&d, 1).unwrap();
    let out: Vec<f32> = ctx.read(&dg).unwrap();
    out.iter().map(|v| v.to_bits()).collect()
}

/// The cache's entries of the fused kernels (a staged choice also tunes its products).
fn fused_entries(cache: &serde_json::Value) -> Vec<serde_json::Value> {
    cache["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["family"].as_str().unwrap().starts_with("fused"))
        .cloned()
        .collect()
}

fn summary(ctx: &GpuContext) -> String {
    ctx.geometry_summary().join("; ")
}

#[test]
fn the_tuner_caches_reloads_ignores_bad_caches_and_pinned_geometries_reproduce() {
    let dir = scratch("tune", "cache");
    let cache = dir.join("geometry.json");
    // SAFETY of the environment: this binary runs this one test, on one thread.
    std::env::set_var("INFOBOUND_TUNE_CACHE", &cache);
    std::env::set_var("INFOBOUND_TUNE", "on");

    // First use tunes both passes at the K class and caches them.
    let Some(ctx) = gpu() else { return };
    let first = evaluate(&ctx);
    assert!(summary(&ctx).contains("(tuned)"), "{}", summary(&ctx));
    let text = std::fs::read_to_string(&cache).expect("the cache was written");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fused = fused_entries(&json);
    assert_eq!(fused.len(), 2, "{text}");
    assert!(
        fused
            .iter()
            .all(|t| t["shape"] == serde_json::json!([64, 3])),
        "{text}"
    );

    // A fresh context reloads the choice: plant one the tuner would not have picked itself
    // for one pass (1×8) and see it used.
    let mut planted = json.clone();
    for t in planted["entries"].as_array_mut().unwrap() {
        if t["family"] == "fused forward" {
            t["geometry"] = serde_json::json!(
                { "rows": 1, "cols": 8, "workgroup": 64, "shared": false, "chunk": 64, "staged": 0 });
        }
    }
    std::fs::write(&cache, planted.to_string()).unwrap();
    let ctx = gpu().unwrap();
    let reloaded = evaluate(&ctx);
    assert!(
        summary(&ctx).contains("fused forward: 1×8 wg64 (tuned)"),
        "{}",
        summary(&ctx)
    );
    assert!(
        ctx.geometry_notes().is_empty(),
        "{:?}",
        ctx.geometry_notes()
    );
    // Line geometries share their bits; a staged choice may round differently.
    if fused.iter().all(|t| t["geometry"]["staged"] == 0) {
        assert_eq!(first, reloaded);
    }

    // A corrupted cache is ignored with a note, the shape tuned again and the file rewritten.
    std::fs::write(&cache, "{ this is not json").unwrap();
    let ctx = gpu().unwrap();
    evaluate(&ctx);
    let notes = ctx.geometry_notes().join(" ");
    assert!(notes.contains("corrupted"), "{notes}");
    let rewritten: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(fused_entries(&rewritten).len(), 2);

    // Entries of another library version are stale: not used, and dropped when rewritten.
    let mut stale = rewritten.clone();
    for t in stale["entries"].as_array_mut().unwrap() {
        t["library"] = serde_json::json!("0.0.0-old");
    }
    std::fs::write(&cache, stale.to_string()).unwrap();
    let ctx = gpu().unwrap();
    evaluate(&ctx);
    let fresh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let libraries: Vec<&str> = fresh["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["library"].as_str().unwrap())
        .collect();
    assert!(
        libraries.iter().all(|&l| l == env!("CARGO_PKG_VERSION")),
        "{fresh}"
    );
    assert_eq!(fused_entries(&fresh).len(), 2, "{fresh}");

    // Tuning off: the adapter's rule, and the cache untouched.
    std::env::set_var("INFOBOUND_TUNE", "off");
    let before = std::fs::read_to_string(&cache).unwrap();
    let ctx = gpu().unwrap();
    evaluate(&ctx);
    assert!(summary(&ctx).contains("(rule)"), "{}", summary(&ctx));
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), before);

    // A pinned geometry (here a staged one, whose bits differ from the line kernels')
    // reproduces its bits in a fresh context and is named as pinned.
    let mut staged = ctx.rule_geometry();
    staged.fused_backward = infobound::gpu::FusedGeometry::new(4, 4, 64, false, 64).staged(16);
    let pinned = |g: KernelGeometry| {
        let ctx = gpu().unwrap();
        ctx.set_geometry(GeometryChoice::Pinned(g)).unwrap();
        let bits = evaluate(&ctx);
        assert!(summary(&ctx).contains("(pinned)"), "{}", summary(&ctx));
        bits
    };
    assert_eq!(pinned(staged), pinned(staged));

    // The command: its table, and a geometry file that --geometry takes and names.
    std::env::set_var("INFOBOUND_TUNE", "on");
    let saved = dir.join("pinned.json");
    let out = Command::new(BIN)
        .args(["tune", "--ks", "40", "--es", "4", "--save"])
        .arg(&saved)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("K = 64, e = 4"), "{stdout}");
    assert!(stdout.contains("| backward |"), "{stdout}");
    assert!(stdout.contains('*'), "{stdout}");
    for family in [
        "gemm at [64, 64, 4, 0, 1]",
        "column sums at [",
        "pairs at [64, 16]",
    ] {
        assert!(stdout.contains(family), "{family}: {stdout}");
    }
    // The other families' choices are cached beside the fused ones.
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let families: Vec<&str> = cached["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["family"].as_str().unwrap())
        .collect();
    for family in ["gemm", "column sums", "pairs"] {
        assert!(families.contains(&family), "{family}: {cached}");
    }
    let g = KernelGeometry::load(&saved).unwrap();
    let data = infobound::experiments::tasks::correlated_gaussian(2, 0.8, 300, 5);
    let (x, y) = (dir.join("x.csv"), dir.join("y.csv"));
    write_csv(&x, &data.0, 2);
    write_csv(&y, &data.1, 2);
    let estimate = || {
        let out = Command::new(BIN)
            .args([
                "estimate", "--device", "gpu", "--bound", "infonce", "--steps", "40", "--batch",
                "32", "--json",
            ])
            .arg("--geometry")
            .arg(&saved)
            .arg("--x")
            .arg(&x)
            .arg("--y")
            .arg(&y)
            .output()
            .unwrap();
        let json = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{json}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json
    };
    let (a, b) = (estimate(), estimate());
    assert_eq!(field(&a, "mi"), field(&b, "mi"));
    let named = field(&a, "geometry");
    assert!(named.contains("(pinned)"), "{a}");
    assert!(named.contains(&g.fused_forward.name()), "{a}");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"gemm": "direct"}"#).unwrap();
    let out = Command::new(BIN)
        .args([
            "estimate",
            "--device",
            "gpu",
            "--steps",
            "5",
            "--batch",
            "32",
            "--geometry",
        ])
        .arg(&bad)
        .arg("--x")
        .arg(&x)
        .arg("--y")
        .arg(&y)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--geometry"));
}
