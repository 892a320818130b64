//! Estimate I(X; Y) from two files of paired rows (.npy or CSV), with the library's defaults.
//!
//! cargo run --release --example from_files -- x.npy y.npy

use std::path::Path;
use std::process::ExitCode;

use infobound::estimate::io::read_table;
use infobound::{Error, Estimator};

fn run(xpath: &str, ypath: &str) -> Result<(), Error> {
    let x = read_table(Path::new(xpath))?;
    let y = read_table(Path::new(ypath))?;
    let report = Estimator::default().estimate(x.matrix()?, y.matrix()?)?;
    println!(
        "I(X; Y) = {:.4} ± {:.4} nats ({:.4} bits), {} rows, {} × {} columns, on {}",
        report.mi,
        report.std_err,
        report.mi_bits(),
        report.n,
        report.dims.0,
        report.dims.1,
        report.device
    );
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [x, y] = args.as_slice() else {
        eprintln!("usage: from_files X Y   (.npy or CSV files with the same number of rows)");
        return ExitCode::from(2);
    };
    match run(x, y) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}
