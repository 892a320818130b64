//! Issue 16's task suite (bmi-style tasks with known MI) run with the default estimator on a
//! chosen device; prints each row as it finishes, then the Markdown table and its summary.
//!
//! cargo run --release --example suite -- [cpu|gpu|auto] [--quick]
//!
//! The full grid (37 tasks, 10 000 rows each) takes about half an hour on a GPU; `--quick`
//! is CI's 6-task subset at 2 000 rows.

use infobound::experiments::suite::Suite;
use infobound::{DeviceChoice, Estimator};

fn main() {
    let mut device = DeviceChoice::Auto;
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "cpu" => device = DeviceChoice::Cpu,
            "gpu" => device = DeviceChoice::Gpu,
            "auto" => device = DeviceChoice::Auto,
            "--quick" => quick = true,
            other => {
                eprintln!("unknown argument {other:?}; usage: suite [cpu|gpu|auto] [--quick]");
                std::process::exit(2);
            }
        }
    }
    let suite = if quick {
        Suite::quick()
    } else {
        Suite::default()
    };
    let estimator = Estimator::default().with_device(device);
    eprintln!(
        "{} tasks, {} rows each, the default estimator on {device:?}",
        suite.tasks.len(),
        suite.n
    );
    let result = suite.run_with_progress(&estimator, |r| {
        eprintln!(
            "{:28} truth {:.3}  estimate {:.3} ± {:.3}  {:.1} s{}",
            r.task,
            r.truth,
            r.estimate,
            r.std_err,
            r.seconds,
            if r.solved { "  solved" } else { "" }
        );
    });
    match result {
        Ok(report) => {
            println!(
                "`cargo run --release --example suite -- {}{}`\n",
                format!("{device:?}").to_lowercase(),
                if quick { " --quick" } else { "" }
            );
            println!("{}", report.to_markdown());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
