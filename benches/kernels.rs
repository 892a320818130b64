//! Kernel microbenchmarks against the adapter's own ceilings: matrix products at the critic's
//! shapes (K×d×256 and K×256×256, K = 64 … 4 096) and 4 096³ in GFLOP/s, the fused SMILE score
//! kernels (forward + backward, e = 32), Adam and the reductions in GB/s — each as a fraction of
//! the FMA and copy probes measured in the same run, and of the datasheet peak when the adapter
//! is in `infobound::experiments::bench::peaks`.
//!
//! Timing (`infobound::experiments::bench::GpuTimer`): pass timestamps where offered, else the host clock
//! around a queue sync; one warm-up, then the median of `INFOBOUND_BENCH_REPEATS` (default 5)
//! runs, with the spread (max − min)/median. A kernel too small to time alone is recorded
//! back to back in one pass until a run holds about `TARGET_FLOPS` of work, and the time is per
//! launch. Inputs are pseudo-random, never zeros; small shapes stay in cache, as in training.
//!
//! `cargo bench --bench kernels` (full), `cargo bench --bench kernels -- --smoke` or
//! `INFOBOUND_BENCH_SMOKE=1` (tiny sizes, seconds). 4 096³ takes ~20 s a run on lavapipe: on a
//! software adapter it runs only with `INFOBOUND_BENCH_LARGE=1`.

use infobound::experiments::bench::{
    measure_probes, published_peak, GpuTimer, ProbeConfig, Probes, PublishedPeak, Timing,
};
use infobound::gpu::kernels::{state, FusedBoundBuffers, ReduceOp};
use infobound::gpu::{Dispatch, GpuBuffer, GpuContext};
use infobound::math::bounds::Bound;
use infobound::math::linalg::{ColumnSumSpec, GemmSpec};

/// Work per timed run that small kernels are repeated up to (flops or bytes).
const TARGET_WORK: f64 = 2e8;
/// The most launches one timed run records.
const MAX_INNER: u32 = 256;

struct Bench<'c> {
    ctx: &'c GpuContext,
    timer: GpuTimer<'c>,
    probes: Probes,
    peak: Option<PublishedPeak>,
    repeats: usize,
}

fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1 << 24) as f32 - 0.5
        })
        .collect()
}

impl Bench<'_> {
    fn buffer(&self, label: &str, n: usize, seed: u32) -> GpuBuffer {
        self.ctx.upload(label, &noise(n, seed)).expect(label)
    }

    /// Times `d` (per launch of the whole list), repeating it in one pass up to `work`.
    fn time(&self, d: &[Dispatch], work: f64) -> Timing {
        let inner = ((TARGET_WORK / work).ceil() as u32).clamp(1, MAX_INNER);
        let t = self
            .timer
            .time(d, inner, 1, self.repeats)
            .expect("timed run");
        let f = f64::from(inner);
        Timing {
            median: t.median / f,
            min: t.min / f,
            max: t.max / f,
            ..t
        }
    }

    fn pct(x: f64, of: f64) -> String {
        format!("{:.1} %", 100.0 * x / of)
    }

    fn compute_row(&self, what: &str, flops: f64, t: Timing) {
        let rate = flops / t.median;
        let published = self
            .peak
            .map_or("-".into(), |p| Self::pct(rate, p.fp32_flops));
        println!(
            "| {what:<24} | {:>10.4} | {:>5.1} % | {:>9.2} | {:>9} | {:>9} |",
            t.median * 1e3,
            100.0 * t.spread(),
            rate / 1e9,
            Self::pct(rate, self.probes.flops),
            published
        );
    }

    fn memory_row(&self, what: &str, bytes: f64, t: Timing) {
        let rate = bytes / t.median;
        let published = self
            .peak
            .map_or("-".into(), |p| Self::pct(rate, p.bandwidth));
        println!(
            "| {what:<24} | {:>10.4} | {:>5.1} % | {:>9.2} | {:>9} | {:>9} |",
            t.median * 1e3,
            100.0 * t.spread(),
            rate / 1e9,
            Self::pct(rate, self.probes.bandwidth),
            published
        );
    }

    fn gemm(&self, m: usize, n: usize, k: usize) {
        let a = self.buffer("A", m * k, 1);
        let b = self.buffer("B", n * k, 2);
        let c = self.ctx.zeros("C", m * n).expect("C");
        // The critic's forward: X·Wᵀ with W stored out × in (PyTorch layout).
        let spec = GemmSpec::dense(m, n, k, false, true);
        let name = format!("gemm {m}×{k}×{n}");
        match self.ctx.gemm(&spec, &a, &b, &c, None, None) {
            Ok(d) => {
                let flops = 2.0 * (m * n * k) as f64;
                self.compute_row(&name, flops, self.time(&[d], flops));
            }
            Err(e) => println!("| {name:<24} | refused: {e} |"),
        }
    }

    fn fused(&self, k: usize, e: usize) {
        let ke = k * e;
        let g = self.buffer("g", ke, 3);
        let h = self.buffer("h", ke, 4);
        let dg = self.ctx.zeros("dg", ke).expect("dg");
        let dh = self.ctx.zeros("dh", ke).expect("dh");
        let hist = self.ctx.zeros("hist", 1).expect("hist");
        let st = self.ctx.upload("state", &state::initial(0)).expect("state");
        let scratch = self
            .ctx
            .zeros("scratch", GpuContext::matrix_bound_scratch_len(k))
            .expect("scratch");
        let io = FusedBoundBuffers {
            g: &g,
            h: &h,
            baseline: None,
            grads: Some((&dg, &dh)),
            hist: &hist,
            state: &st,
            scratch: &scratch,
        };
        let name = format!("fused SMILE K={k} e={e}");
        match self.ctx.fused_bound(Bound::Smile { tau: 5.0 }, k, e, &io) {
            Ok(d) => {
                // Useful work: S once, dG and dH once (the fused kernels also recompute S).
                let flops = 6.0 * (k * k * e) as f64;
                self.compute_row(&name, flops, self.time(&d, flops));
            }
            Err(err) => println!("| {name:<24} | refused: {err} |"),
        }
    }

    fn adam(&self, n: usize) {
        let p = self.buffer("p", n, 5);
        let g = self.buffer("g", n, 6);
        let m = self.buffer("m", n, 7);
        let v = self.ctx.filled("v", n, 0.25).expect("v");
        let st = self.ctx.upload("state", &state::initial(0)).expect("state");
        let d = self
            .ctx
            .adam(&Default::default(), &p, &g, &m, &v, &st)
            .expect("adam");
        // Reads p, g, m, v; writes p, m, v.
        let bytes = 28.0 * n as f64;
        self.memory_row(&format!("adam n={n}"), bytes, self.time(&[d], bytes));
    }

    fn column_sums(&self, rows: usize, cols: usize) {
        let src = self.buffer("src", rows * cols, 8);
        let out = self.ctx.zeros("out", cols).expect("out");
        let name = format!("column sums {rows}×{cols}");
        match self
            .ctx
            .column_sums(&ColumnSumSpec::dense(rows, cols, 0), &src, &out)
        {
            Ok(d) => {
                let bytes = 4.0 * ((rows + 1) * cols) as f64;
                self.memory_row(&name, bytes, self.time(&[d], bytes));
            }
            Err(e) => println!("| {name:<24} | refused: {e} |"),
        }
    }

    fn reduce(&self, op: ReduceOp, n: usize) {
        let src = self.buffer("src", n, 9);
        let scratch = self
            .ctx
            .zeros("scratch", GpuContext::reduce_scratch_len(n))
            .expect("scratch");
        let out = self.ctx.zeros("out", 1).expect("out");
        let name = format!("reduce {op:?} n={n}");
        match self.ctx.reduce(op, n, &src, &scratch, &out) {
            Ok(d) => {
                let bytes = 4.0 * n as f64;
                self.memory_row(&name, bytes, self.time(&d, bytes));
            }
            Err(e) => println!("| {name:<24} | refused: {e} |"),
        }
    }
}

fn header(unit: &str) {
    println!(
        "| kernel                   |  time (ms) | spread  | {unit:>9} | of probe  | of peak   |"
    );
    println!(
        "|--------------------------|------------|---------|-----------|-----------|-----------|"
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke" || a == "smoke")
        || std::env::var("INFOBOUND_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let repeats: usize = std::env::var("INFOBOUND_BENCH_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 3 } else { 5 });
    let ctx = GpuContext::new().expect("a GPU adapter");
    let timer = GpuTimer::new(&ctx);
    let config = if smoke {
        ProbeConfig::smoke()
    } else {
        ProbeConfig::full()
    };
    let probes = measure_probes(&ctx, &timer, &config).expect("probes");
    let peak = published_peak(&ctx.adapter().name);
    let b = Bench {
        ctx: &ctx,
        timer,
        probes,
        peak,
        repeats,
    };
    println!("adapter: {}", ctx.adapter());
    println!(
        "timing: {}, 1 warm-up, median of {repeats}{}",
        b.timer.method().name(),
        if smoke {
            " (smoke sizes: not numbers to quote)"
        } else {
            ""
        }
    );
    println!(
        "probes: copy {:.2} GB/s ({} MiB read + written, spread {:.1} %), FMA {:.2} GFLOP/s (spread {:.1} %)",
        probes.bandwidth / 1e9,
        probes.copy_bytes >> 20,
        100.0 * probes.copy.spread(),
        probes.flops / 1e9,
        100.0 * probes.fma.spread()
    );
    match peak {
        Some(p) => println!(
            "published peak ({}): {:.1} TFLOP/s FP32, {:.0} GB/s",
            p.name,
            p.fp32_flops / 1e12,
            p.bandwidth / 1e9
        ),
        None => println!("published peak: adapter not in the table (fractions of the probes only)"),
    }
    if ctx.adapter().is_software {
        println!("software adapter: these numbers prove nothing about GPU speed");
    }

    let ks: &[usize] = if smoke {
        &[64, 256]
    } else {
        &[64, 256, 1024, 4096]
    };
    println!("\n### Matrix products (C = A·Bᵀ, m×k×n)\n");
    header("GFLOP/s");
    for &k in ks {
        b.gemm(k, 256, 20);
        b.gemm(k, 256, 256);
    }
    let large = !ctx.adapter().is_software
        || std::env::var("INFOBOUND_BENCH_LARGE").is_ok_and(|v| v == "1");
    if smoke {
        b.gemm(512, 512, 512);
    } else if large {
        b.gemm(4096, 4096, 4096);
    } else {
        println!("| gemm 4096×4096×4096      | skipped on a software adapter (INFOBOUND_BENCH_LARGE=1) |");
    }

    println!("\n### Fused score kernels (SMILE τ = 5, forward + backward; 6K²e useful flops)\n");
    header("GFLOP/s");
    for &k in ks {
        b.fused(k, 32);
    }

    println!("\n### Memory-bound kernels\n");
    header("GB/s");
    let params = 2 * (20 * 256 + 256 + 256 * 256 + 256 + 256 * 32 + 32);
    b.adam(params);
    b.adam(if smoke { 1 << 16 } else { 1 << 22 });
    for &k in ks {
        b.column_sums(k, 256);
    }
    let n = if smoke { 1 << 16 } else { 1 << 22 };
    b.reduce(ReduceOp::Sum, n);
    b.reduce(ReduceOp::LogSumExp, n);
}
