//! The two ceilings measured on the adapter itself: copy bandwidth (a streaming vec4 copy,
//! bytes read + written) and FMA throughput (independent FMA chains), each sized up until one
//! run lasts long enough to time. The CPU backend's own probes (run by `cpu::fast::probe`)
//! come in through [`Probes::from_host_runs`].

use crate::gpu::kernels::FMA_FLOPS_PER_ITERATION;
use crate::gpu::timing::{GpuTimer, Timing, TimingMethod};
use crate::gpu::{GpuContext, GpuError};

/// How large the probes may grow and how long one run should last.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProbeConfig {
    /// Floats copied (source and destination each hold this many).
    pub copy_floats: usize,
    /// Iterations of every FMA chain.
    pub fma_iters: u32,
    /// Most FMA invocations tried (each writes 16 bytes).
    pub fma_max_invocations: usize,
    /// The FMA grid doubles until one run takes this long (seconds).
    pub fma_target_secs: f64,
    /// Timed runs after one warm-up.
    pub repeats: usize,
}

impl ProbeConfig {
    /// Full size: a 64 MiB copy (past any cache), FMA runs of at least 50 ms.
    pub fn full() -> Self {
        Self {
            copy_floats: 16 << 20,
            fma_iters: 1024,
            fma_max_invocations: 4 << 20,
            fma_target_secs: 0.05,
            repeats: 5,
        }
    }

    /// Seconds, not numbers to quote: a 1 MiB copy, FMA runs of about 5 ms.
    pub fn smoke() -> Self {
        Self {
            copy_floats: 1 << 18,
            fma_iters: 256,
            fma_max_invocations: 1 << 16,
            fma_target_secs: 0.005,
            repeats: 3,
        }
    }
}

/// The measured ceilings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Probes {
    /// Bytes per second through memory (read + write) of the copy.
    pub bandwidth: f64,
    /// The copy's timing.
    pub copy: Timing,
    /// Bytes the copy moves per run (read + write).
    pub copy_bytes: u64,
    /// Floating-point operations per second of the FMA chains.
    pub flops: f64,
    /// The FMA probe's timing at its final size.
    pub fma: Timing,
    /// Flops per FMA run at its final size.
    pub fma_flops: u64,
}

impl Probes {
    /// The ceilings from probes timed on the host clock (the CPU's own, run by the CPU
    /// backend): `copy` = (bytes read + written a run, each run's seconds), `fma` = (flops
    /// a run, each run's seconds). The rates are taken at the median run. `None` if either
    /// probe has no run.
    pub fn from_host_runs(copy: (u64, &[f64]), fma: (u64, &[f64])) -> Option<Self> {
        if copy.1.is_empty() || fma.1.is_empty() {
            return None;
        }
        let copy_timing = Timing::from_samples(&mut copy.1.to_vec(), TimingMethod::HostClock);
        let fma_timing = Timing::from_samples(&mut fma.1.to_vec(), TimingMethod::HostClock);
        Some(Self {
            bandwidth: copy.0 as f64 / copy_timing.median,
            copy: copy_timing,
            copy_bytes: copy.0,
            flops: fma.0 as f64 / fma_timing.median,
            fma: fma_timing,
            fma_flops: fma.0,
        })
    }
}

/// Pseudo-random, non-zero floats (timing on zeros can flatter a device).
fn noise(n: usize) -> Vec<f32> {
    let mut s: u32 = 0x9E37_79B9;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1 << 24) as f32 + 0.5
        })
        .collect()
}

/// Runs both probes with `config`, timed by `timer`.
pub fn measure(
    ctx: &GpuContext,
    timer: &GpuTimer<'_>,
    config: &ProbeConfig,
) -> Result<Probes, GpuError> {
    let n = config.copy_floats / 4 * 4;
    let src = ctx.upload("probe source", &noise(n))?;
    let dst = ctx.filled("probe destination", n, f32::NAN)?;
    let copy_launch = ctx.copy_probe(&src, &dst, n)?;
    let copy = timer.time(std::slice::from_ref(&copy_launch), 1, 1, config.repeats)?;
    let copy_bytes = 8 * n as u64;
    drop((src, dst, copy_launch));

    let out = ctx.zeros("probe output", 4 * config.fma_max_invocations)?;
    let mut invocations = (config.fma_max_invocations / 64).max(256);
    loop {
        let launch = ctx.fma_probe(&out, invocations, config.fma_iters)?;
        let trial = timer.time(std::slice::from_ref(&launch), 1, 1, 1)?;
        if trial.median >= config.fma_target_secs || invocations >= config.fma_max_invocations {
            let fma = timer.time(std::slice::from_ref(&launch), 1, 0, config.repeats)?;
            let fma_flops =
                FMA_FLOPS_PER_ITERATION * u64::from(config.fma_iters) * invocations as u64;
            return Ok(Probes {
                bandwidth: copy_bytes as f64 / copy.median,
                copy,
                copy_bytes,
                flops: fma_flops as f64 / fma.median,
                fma,
                fma_flops,
            });
        }
        invocations = (invocations * 2).min(config.fma_max_invocations);
    }
}
