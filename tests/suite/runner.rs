//! The quick suite end to end on the CPU backend, and the runner's errors and tables.

use std::time::Instant;

use infobound::experiments::suite::{markdown, Suite};
use infobound::{DeviceChoice, Estimator};

/// A short CPU run: the default estimator with a smaller critic (32-32 towers), fewer steps
/// and evaluation batches, so the test stays fast in the debug profile. Its numbers are
/// loose; `examples/suite.rs` runs the real settings.
fn short_cpu() -> Estimator {
    Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_hidden(vec![32, 32])
        .with_steps(300)
        .with_eval_batches(8)
}

#[test]
fn the_quick_suite_runs_end_to_end_on_the_cpu() {
    let suite = Suite::quick().with_n(1_500);
    let start = Instant::now();
    let mut seen = Vec::new();
    let report = suite
        .run_with_progress(&short_cpu(), |row| seen.push(row.task.clone()))
        .unwrap();
    let table = report.to_markdown();
    println!("{table}\n({:.1} s)", start.elapsed().as_secs_f64());

    // Every task has its row, in order, and the callback saw each as it came.
    let names: Vec<String> = suite.tasks.iter().map(|t| t.name().to_string()).collect();
    let rows: Vec<String> = report.rows.iter().map(|r| r.task.clone()).collect();
    assert_eq!(rows, names);
    assert_eq!(seen, names);
    assert_eq!(report.summary.tasks, names.len());
    assert_eq!(report.summary.failed, 0, "{table}");
    for r in &report.rows {
        assert!(r.estimate.is_finite() && r.std_err.is_finite(), "{table}");
        assert!(table.contains(&r.task));
        // Loose: the Gaussian tasks land within 50 % of the truth even on a short run.
        if r.task.starts_with("gauss-") {
            let rel = (r.estimate / r.truth - 1.0).abs();
            assert!(rel < 0.5, "{}: {} vs truth {}", r.task, r.estimate, r.truth);
        }
    }
    assert!(table.contains("**Summary** (1500 rows a task, on "));
    assert!(table.contains("): solved "));
    assert!(!report.devices().is_empty());

    // Two settings side by side (here the same run twice).
    let both = markdown::side_by_side(&["a", "b"], &[&report, &report]).unwrap();
    assert!(both.contains("| task | dims | true MI | a | b |"));
    assert_eq!(
        both.lines().filter(|l| l.starts_with("| gauss-")).count(),
        2
    );
    assert!(markdown::side_by_side(&["a"], &[&report, &report]).is_err());
    assert!(markdown::side_by_side(&[], &[]).is_err());
}

#[test]
fn bad_suite_settings_are_errors() {
    let est = short_cpu();
    assert!(Suite::quick()
        .with_tasks(vec![])
        .run(&est)
        .unwrap_err()
        .is_input());
    assert!(Suite::quick().with_n(0).run(&est).unwrap_err().is_input());
    // A setting the estimator rejects stops the run instead of failing every row.
    let bad = short_cpu().with_batch(1);
    assert!(Suite::quick().run(&bad).unwrap_err().is_input());
    assert_eq!(Suite::default().n, 10_000);
    assert_eq!(Suite::default().tasks.len(), 37);
    assert_eq!(Suite::quick().n, 2_000);
}
