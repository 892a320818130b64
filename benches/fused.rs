//! Fused against materialised bound kernels on the separable critic (S = G·Hᵀ): forward
//! (statistics + value) and backward (dG, dH) at e = 128. Plain timing: one warm-up, then the
//! median of `INFOBOUND_BENCH_REPEATS` (default 5) runs of `ctx.run`, which waits for the device.
//! GFLOP/s counts 2K²e per product (S, dG and dH each; the fused forward recomputes S once,
//! its backward twice). Materialised runs only where S fits one storage binding.
//!
//! `cargo bench --bench fused -- 1024 4096` picks sizes (default 1024 4096 16384); on a
//! software adapter start small. `INFOBOUND_BENCH_FORWARD_ONLY=1` times the forward alone.

use std::time::Instant;

use infobound::gpu::kernels::{state, FusedBoundBuffers, MatrixBoundBuffers};
use infobound::gpu::{Dispatch, GpuContext};
use infobound::math::bounds::Bound;
use infobound::math::linalg::GemmSpec;

const E: usize = 128;

fn median_secs(ctx: &GpuContext, d: &[Dispatch], repeats: usize) -> f64 {
    ctx.run(d, 1).expect("warm-up");
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            ctx.run(d, 1).expect("run");
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn row(k: usize, path: &str, pass: &str, secs: f64, products: f64, bytes: usize) {
    let flops = products * 2.0 * (k as f64).powi(2) * E as f64;
    println!(
        "| {k:>6} | {path:<12} | {pass:<8} | {:>10.2} | {:>8.2} | {:>10.1} |",
        secs * 1e3,
        flops / secs / 1e9,
        bytes as f64 / (1 << 20) as f64
    );
}

fn main() {
    let ctx = GpuContext::new().expect("a GPU adapter");
    let repeats: usize = std::env::var("INFOBOUND_BENCH_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut ks: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if ks.is_empty() {
        ks = vec![1024, 4096, 16_384];
    }
    let forward_only = std::env::var("INFOBOUND_BENCH_FORWARD_ONLY").is_ok_and(|v| v == "1");
    let bound = Bound::Smile { tau: 5.0 };
    println!("adapter: {}", ctx.adapter());
    // The geometry is the adapter's rule unless INFOBOUND_TUNE allows tuning; printed below.
    println!("bound {}, e = {E}, median of {repeats}", bound.name());
    println!("|      K | path         | pass     |  time (ms) | GFLOP/s | memory MiB |");
    println!("|--------|--------------|----------|------------|---------|------------|");
    for k in ks {
        let ke = k * E;
        let g = ctx.filled("g", ke, 0.01).expect("g");
        let h = ctx.filled("h", ke, 0.02).expect("h");
        let dg = ctx.zeros("dg", ke).expect("dg");
        let dh = ctx.zeros("dh", ke).expect("dh");
        let hist = ctx.zeros("hist", 1).expect("hist");
        let st = ctx.upload("state", &state::initial(0)).expect("state");
        let scratch_len = GpuContext::matrix_bound_scratch_len(k);
        let scratch = ctx.zeros("scratch", scratch_len).expect("scratch");
        let base = 4 * (4 * ke + scratch_len + 1 + state::LEN);
        let io = |grads| FusedBoundBuffers {
            g: &g,
            h: &h,
            baseline: None,
            grads,
            hist: &hist,
            state: &st,
            scratch: &scratch,
        };
        let fwd = ctx
            .fused_bound(bound, k, E, &io(None))
            .expect("fused forward");
        let t_fwd = median_secs(&ctx, &fwd, repeats);
        row(k, "fused", "forward", t_fwd, 1.0, base);
        if !forward_only {
            let all = ctx
                .fused_bound(bound, k, E, &io(Some((&dg, &dh))))
                .expect("fused");
            let t_all = median_secs(&ctx, &all, repeats);
            row(k, "fused", "backward", (t_all - t_fwd).max(0.0), 2.0, base);
        }

        let kk_bytes = (k * k * 4) as u64;
        if ctx.check_storage_size("S", kk_bytes).is_err() {
            println!(
                "| {k:>6} | materialised | -        | S = {} MiB exceeds one binding |",
                kk_bytes >> 20
            );
            continue;
        }
        let s = ctx.zeros("s", k * k).expect("s");
        let ds = ctx.zeros("ds", k * k).expect("ds");
        let spec_s = GemmSpec::dense(k, k, E, false, true);
        let launches = |with_grad: bool| -> Vec<Dispatch> {
            let mut d = vec![ctx.gemm(&spec_s, &g, &h, &s, None, None).expect("S")];
            let mut b = ctx
                .matrix_bound(
                    bound,
                    k,
                    &MatrixBoundBuffers {
                        s: &s,
                        baseline: None,
                        ds: &ds,
                        hist: &hist,
                        state: &st,
                        scratch: &scratch,
                    },
                )
                .expect("bound");
            if !with_grad {
                // SMILE's last launch is `grad`; the rest are the statistics and the value.
                b.pop();
                d.extend(b);
                return d;
            }
            d.extend(b);
            let spec = GemmSpec::dense(k, E, k, false, false);
            d.push(ctx.gemm(&spec, &ds, &h, &dg, None, None).expect("dG"));
            let spec = GemmSpec::dense(k, E, k, true, false);
            d.push(ctx.gemm(&spec, &ds, &g, &dh, None, None).expect("dH"));
            d
        };
        let (fwd, all) = (launches(false), launches(true));
        let t_fwd = median_secs(&ctx, &fwd, repeats);
        let t_all = median_secs(&ctx, &all, repeats);
        let mem = base + 2 * kk_bytes as usize;
        for line in ctx.geometry_summary() {
            println!("geometry {line}");
        }
        row(k, "materialised", "forward", t_fwd, 1.0, mem);
        row(
            k,
            "materialised",
            "backward",
            (t_all - t_fwd).max(0.0),
            2.0,
            mem,
        );
    }
}
