//! The benchmark machinery: the probe kernels compute what they claim (against the host), the
//! timer returns sane timings by both methods, and the cost model counts what its doc says on
//! shapes small enough to count by hand. No wall-clock value is asserted.

mod common;

use infobound::experiments::bench::{
    measure_probes, GpuTimer, ProbeConfig, StepCost, TimingMethod,
};
use infobound::gpu::kernels::{fma_probe_reference, FMA_FLOPS_PER_ITERATION};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::TrainSpec;

#[test]
fn copy_probe_copies_every_element() {
    let Some(ctx) = common::gpu() else { return };
    for n in [4, 12, 68, 1028] {
        let src: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() + 2.0).collect();
        let a = ctx.upload("src", &src).unwrap();
        // Poisoned, and one element longer than the copy: that one must stay untouched.
        let b = ctx.filled("dst", n + 1, f32::NAN).unwrap();
        ctx.run(&[ctx.copy_probe(&a, &b, n).unwrap()], 1).unwrap();
        let out: Vec<f32> = ctx.read(&b).unwrap();
        assert_eq!(&out[..n], &src[..], "n = {n}");
        assert!(out[n].is_nan(), "n = {n}: wrote past the end");
    }
}

#[test]
fn copy_probe_refuses_bad_lengths() {
    let Some(ctx) = common::gpu() else { return };
    let a = ctx.zeros("a", 16).unwrap();
    assert!(ctx.copy_probe(&a, &a, 6).is_err(), "not a multiple of 4");
    assert!(ctx.copy_probe(&a, &a, 0).is_err(), "empty");
    assert!(ctx.copy_probe(&a, &a, 20).is_err(), "past the buffer");
}

#[test]
fn fma_probe_matches_the_host() {
    let Some(ctx) = common::gpu() else { return };
    for (invocations, iters) in [(1, 0), (3, 1), (257, 17), (1029, 300)] {
        let out = ctx.filled("out", 4 * invocations, f32::NAN).unwrap();
        ctx.run(&[ctx.fma_probe(&out, invocations, iters).unwrap()], 1)
            .unwrap();
        let got: Vec<f32> = ctx.read(&out).unwrap();
        for i in 0..invocations {
            let want = fma_probe_reference(i, iters);
            for lane in 0..4 {
                let g = f64::from(got[4 * i + lane]);
                // Eight sums of values near 1 after f32 rounding in every iteration.
                assert!(
                    (g - want[lane]).abs() <= 1e-4 * want[lane].abs(),
                    "invocation {i} lane {lane}, {iters} iterations: {g} vs {}",
                    want[lane]
                );
            }
        }
    }
}

#[test]
fn timer_and_probes_report_positive_finite_numbers() {
    let Some(ctx) = common::gpu() else { return };
    let timer = GpuTimer::new(&ctx);
    let offered = ctx
        .device()
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY);
    assert_eq!(timer.method() == TimingMethod::Timestamps, offered);
    let probes = measure_probes(&ctx, &timer, &ProbeConfig::smoke()).unwrap();
    for (what, t) in [("copy", probes.copy), ("fma", probes.fma)] {
        assert!(
            t.min > 0.0 && t.min <= t.median && t.median <= t.max,
            "{what}: {t:?}"
        );
        assert!(t.max.is_finite(), "{what}: {t:?}");
        assert_eq!(t.repeats, ProbeConfig::smoke().repeats);
    }
    assert!(probes.bandwidth.is_finite() && probes.bandwidth > 0.0);
    assert!(probes.flops.is_finite() && probes.flops > 0.0);
    assert_eq!(probes.fma_flops % FMA_FLOPS_PER_ITERATION, 0);
    // The host clock measures the same launch too.
    let out = ctx.zeros("out", 4 * 256).unwrap();
    let launch = ctx.fma_probe(&out, 256, 8).unwrap();
    let wall = GpuTimer::wall_clock(&ctx)
        .time(std::slice::from_ref(&launch), 2, 1, 3)
        .unwrap();
    assert_eq!(wall.method, TimingMethod::WallClock);
    assert!(wall.min > 0.0 && wall.median.is_finite());
}

#[test]
fn step_cost_counts_by_hand() {
    // Separable, towers 2 → 3 → 4 on K = 5, dx = dy = 2.
    let spec = TrainSpec::new(
        2,
        2,
        CriticForm::Separable {
            hidden: vec![3],
            embed: 4,
        },
        Bound::Smile { tau: 5.0 },
        5,
    );
    let c = StepCost::of(&spec);
    let params = 2 * (2 * 3 + 3 + 3 * 4 + 4);
    assert_eq!(c.params, params);
    // Per tower: layer 0 forward + dW (2 · 2·5·2·3), layer 1 forward + dW + dX (3 · 2·5·3·4).
    let tower = 2.0 * 2.0 * 5.0 * 6.0 + 3.0 * 2.0 * 5.0 * 12.0;
    let scores = 6.0 * 25.0 * 4.0;
    assert_eq!(c.flops, 2.0 * tower + scores + 10.0 * params as f64);
    assert_eq!(c.min_bytes, 28.0 * params as f64 + 4.0 * 5.0 * 4.0);
    // Activations per tower: 5·3 + 5·4, each and its gradient written and read once.
    assert_eq!(c.activation_bytes, c.min_bytes + 16.0 * 2.0 * 35.0);
    // The floor is the larger of the two times.
    assert_eq!(c.floor(c.flops, 1e30), 1.0);
    assert_eq!(c.floor(1e30, c.min_bytes / 2.0), 2.0);

    // Concat 2+2 → 3 → 1 on K = 5: first layer on K rows, the rest on K² pairs.
    let spec = TrainSpec::new(
        2,
        2,
        CriticForm::Concat { hidden: vec![3] },
        Bound::Smile { tau: 5.0 },
        5,
    );
    let c = StepCost::of(&spec);
    let params = 4 * 3 + 3 + 3 + 1;
    let nets = 2.0 * 2.0 * 5.0 * 12.0 + 3.0 * 2.0 * 25.0 * 3.0 + 3.0 * 25.0 * 3.0;
    assert_eq!(c.flops, nets + 10.0 * params as f64);
}

const BIN: &str = env!("CARGO_BIN_EXE_infobound");

fn bench_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("bench")
        .args(args)
        .output()
        .unwrap()
}

/// `infobound bench ARGS`, which must succeed: its standard output.
fn bench_ok(args: &[&str]) -> String {
    let out = bench_cli(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number after `"key":` in a one-line JSON object (the first occurrence from `from`).
fn json_number(json: &str, key: &str, from: usize) -> Option<f64> {
    let at = json[from..].find(&format!("\"{key}\":"))? + from + key.len() + 3;
    let end = json[at..].find([',', '}'])? + at;
    json[at..end].parse().ok()
}

#[test]
fn bench_command_reports_rates_beside_the_cost_model() {
    // The CPU backend: no adapter needed, and quick at K = 3.
    let stdout = bench_ok(&[
        "--json",
        "--device",
        "cpu",
        "--configs",
        "standard",
        "--ks",
        "3,5",
        "--seconds",
        "0.01",
        "--repeats",
        "1",
    ]);
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object: {stdout}"
    );
    let rows = stdout.find("\"rows\":[").expect("rows");
    let second = stdout[rows..].find("\"batch\":5").expect("K = 5 row") + rows;
    for from in [rows, second] {
        let rate = json_number(&stdout, "steps_per_s", from).expect("steps_per_s");
        assert!(rate > 0.0 && rate.is_finite(), "{stdout}");
        assert!(json_number(&stdout, "estimate", from).is_some_and(f64::is_finite));
    }
    // The cost model's flops for K = 3 match the library's.
    let spec = TrainSpec::new(
        20,
        20,
        CriticForm::Separable {
            hidden: vec![256, 256],
            embed: 32,
        },
        Bound::Smile { tau: 5.0 },
        3,
    );
    let flops = json_number(&stdout, "flops_per_step", rows).unwrap();
    assert_eq!(flops, StepCost::of(&spec).flops);
    // The CPU's own probes give every row a floor.
    for key in ["copy_bytes_per_s", "fma_flops_per_s", "floor_s"] {
        let v = json_number(&stdout, key, 0).unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{key}: {stdout}");
    }
    assert!(stdout.contains("\"timing\":\"host clock, "), "{stdout}");
    // bmi's statistic belongs to the configurations that mirror bmi only.
    assert!(!stdout.contains("\"bmi_statistic\""), "{stdout}");
}

#[test]
fn bench_runs_the_bmi_configuration_on_bmis_dense_task() {
    let stdout = bench_ok(&[
        "--json",
        "--smoke",
        "--device",
        "cpu",
        "--configs",
        "bmi-dense",
        "--seconds",
        "0.01",
        "--repeats",
        "1",
    ]);
    assert!(stdout.contains("\"config\":\"bmi-dense\""), "{stdout}");
    // bmi's multinormal-dense-5-5-0.5: ½ ln(36/11) nats.
    let truth = json_number(&stdout, "true_mi", 0).expect("true_mi");
    assert!(
        (truth - 0.5 * (36.0f64 / 11.0).ln()).abs() < 1e-9,
        "{truth}"
    );
    let rows = stdout.find("\"rows\":[").expect("rows");
    assert!(json_number(&stdout, "estimate", rows).is_some_and(f64::is_finite));
    let wall = json_number(&stdout, "wall_s", rows).expect("wall_s");
    assert!(wall.is_finite() && wall > 0.0, "{stdout}");
    // The estimate is read on held-out rows (the statistic named), beside the checks it was
    // chosen from, InfoNCE over every pair of the report rows, bmi's own statistic (InfoNCE
    // over every pair of all the held-out rows, the best check) and the old training tail.
    assert!(
        stdout.contains("\"estimate_statistic\":\"the held-out read-out"),
        "{stdout}"
    );
    for key in [
        "estimate_std_err",
        "estimate_all_pairs",
        "bmi_statistic",
        "bmi_statistic_s",
        "best_held_out",
        "final_held_out",
        "train_tail_mean",
    ] {
        let v = json_number(&stdout, key, rows);
        assert!(v.is_some_and(f64::is_finite), "{key}: {stdout}");
    }
    // A smoke run ends before the first 250-step check: the last step is the one checked.
    let steps = json_number(&stdout, "steps_total", rows).expect("steps_total");
    assert_eq!(json_number(&stdout, "chosen_step", rows), Some(steps));
    assert_eq!(json_number(&stdout, "evaluations", rows), Some(1.0));
    // bmi's statistic (its one check here) is named as bmi's, beside the estimate.
    assert!(
        stdout.contains("'bmi_statistic' (the configurations that mirror bmi"),
        "{stdout}"
    );
}

#[test]
fn bench_command_refuses_bad_options() {
    for args in [
        &["--ks", "1"][..],
        &["--ks", "x"],
        &["--configs", "nope"],
        &["--seconds", "0"],
        &["--repeats", "0"],
        &["--replicas", "0"],
        &["--frobnicate"],
    ] {
        let out = bench_cli(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}

#[test]
fn bench_replicas_reports_each_count_against_sequential_runs() {
    let stdout = bench_ok(&[
        "--json",
        "--device",
        "cpu",
        "--configs",
        "small",
        "--replicas",
        "1,3",
        "--seconds",
        "0.01",
        "--repeats",
        "1",
    ]);
    let second = stdout.find("\"replicas\":3").expect("the R = 3 row");
    for from in [0, second] {
        let rate = json_number(&stdout, "replica_steps_per_s", from).expect("a rate");
        assert!(rate > 0.0 && rate.is_finite(), "{stdout}");
        assert!(json_number(&stdout, "speedup", from).is_some_and(|s| s > 0.0));
    }
    assert_eq!(
        json_number(&stdout, "speedup", 0),
        Some(1.0),
        "R = 1 is the baseline"
    );
}
