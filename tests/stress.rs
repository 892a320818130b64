//! A long run whose memory must stay flat: 200 000 steps at small width and batch, the resident
//! set sampled (VmRSS of /proc/self/status) at every progress callback. Ignored (minutes on
//! lavapipe); run it with `cargo test --test stress -- --ignored --nocapture`, which prints the
//! samples. Linux only (it reads /proc).

mod common;

use infobound::experiments::tasks;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator, Matrix};

/// The resident set, KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

#[test]
#[ignore]
fn two_hundred_thousand_steps_in_flat_memory() {
    let Some(ctx) = common::gpu() else { return };
    drop(ctx);
    let steps: u32 = std::env::var("INFOBOUND_STRESS_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let (n, d) = (4_000usize, 2usize);
    let (x, y) = tasks::correlated_gaussian(d, 0.8, n, 3);
    let est = Estimator::default()
        .with_device(DeviceChoice::Gpu)
        .with_bound(Bound::Smile { tau: 5.0 })
        .with_critic(CriticForm::Separable {
            hidden: vec![8],
            embed: 4,
        })
        .with_batch(16)
        .with_lr(1e-3)
        .with_steps(steps)
        .with_chunk(1_000)
        .with_eval_every(steps / 20)
        .with_eval_batches(4);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let report = est
        .estimate_with_progress(
            Matrix::new(&x, n, d).unwrap(),
            Matrix::new(&y, n, d).unwrap(),
            |p| {
                let rss = rss_kib();
                eprintln!(
                    "step {:>7}  RSS {:>7} KiB  {:.0} s  held-out {:.3}",
                    p.step,
                    rss,
                    p.seconds,
                    p.latest.map_or(f64::NAN, |e| e.mi)
                );
                samples.push((p.step, rss));
            },
        )
        .unwrap();
    assert_eq!(report.steps, u64::from(steps));
    assert!(report.mi.is_finite());
    // From the second sample on (the first includes pipeline compilation and first-use
    // allocations), the resident set may grow only by the training curve the report keeps
    // (4 bytes a step) and a little slack for the allocator.
    let (s0, r0) = samples[1];
    let (s1, r1) = *samples.last().unwrap();
    let curve_kib = (s1 - s0) * 4 / 1024;
    let growth = r1.saturating_sub(r0);
    eprintln!(
        "{} steps at {:.0} steps/s; RSS {r0} KiB at step {s0}, {r1} KiB at step {s1}: \
         +{growth} KiB (the curve accounts for {curve_kib} KiB)",
        report.steps, report.steps_per_second
    );
    assert!(
        growth <= curve_kib + 4 * 1024,
        "RSS grew by {growth} KiB from step {s0} to {s1}"
    );
}
