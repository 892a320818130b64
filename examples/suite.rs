//! Issue 16's task suite (bmi-style tasks with known MI) run with the default estimator on a
//! chosen device, one run a marginal transform, side by side; prints each row as it finishes,
//! then the Markdown table and the summaries.
//!
//! cargo run --release --example suite -- [cpu|gpu|auto] [--quick] [--only SUBSTRING] [--transforms rank-gauss,standardize]
//!
//! Each transform runs in its own thread ([`Suite::run_each`]). The full grid (37 tasks, 10 000
//! rows each) took 50 to 1 200 s a task on a shared 2-core machine, more than a session;
//! `--quick` is CI's 6-task subset at 2 000 rows.

use infobound::experiments::suite::{side_by_side, Suite, SuiteReport};
use infobound::{DeviceChoice, Estimator, MarginalTransform};

fn usage(what: &str) -> ! {
    eprintln!(
        "{what}; usage: suite [cpu|gpu|auto] [--quick] [--only SUBSTRING] [--transforms rank-gauss,standardize,none]"
    );
    std::process::exit(2);
}

fn main() {
    let mut device = DeviceChoice::Auto;
    let mut quick = false;
    let mut transforms = vec![MarginalTransform::default()];
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => only = Some(args.next().unwrap_or_else(|| usage("--only needs a name"))),
            "--transforms" => {
                let list = args
                    .next()
                    .unwrap_or_else(|| usage("--transforms needs a list"));
                transforms = list
                    .split(',')
                    .map(|t| t.parse().unwrap_or_else(|e| usage(&format!("{e}"))))
                    .collect();
            }
            other => device = other.parse().unwrap_or_else(|e| usage(&format!("{e}"))),
        }
    }
    let mut suite = if quick {
        Suite::quick()
    } else {
        Suite::default()
    };
    // The tasks whose name contains the substring (e.g. `student` for the heavy-tailed ones).
    if let Some(part) = &only {
        suite.tasks.retain(|t| t.name().contains(part.as_str()));
        if suite.tasks.is_empty() {
            usage(&format!("no task's name contains {part:?}"));
        }
    }
    eprintln!(
        "{} tasks, {} rows each, the default estimator on {device}, transforms {:?}",
        suite.tasks.len(),
        suite.n,
        transforms.iter().map(|t| t.name()).collect::<Vec<_>>()
    );
    let estimators: Vec<Estimator> = transforms
        .iter()
        .map(|&t| Estimator::default().with_device(device).with_transform(t))
        .collect();
    let result = suite.run_each(&estimators, |i, r| {
        eprintln!(
            "{:12} {:28} truth {:.3}  estimate {:.3} ± {:.3}  {:.1} s{}",
            transforms[i].name(),
            r.task,
            r.truth,
            r.estimate,
            r.std_err,
            r.seconds,
            if r.solved { "  solved" } else { "" }
        );
    });
    let reports: Vec<SuiteReport> = result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let names: Vec<&str> = transforms.iter().map(|t| t.name()).collect();
    println!(
        "`cargo run --release --example suite -- {device}{}{} --transforms {}`\n",
        if quick { " --quick" } else { "" },
        only.as_ref()
            .map_or(String::new(), |o| format!(" --only {o}")),
        names.join(",")
    );
    match side_by_side(&names, &reports.iter().collect::<Vec<_>>()) {
        Ok(table) => println!("{table}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    for (name, r) in names.iter().zip(&reports) {
        println!("\n**{name}**\n\n{}", r.to_markdown());
    }
}
