//! MINE's experiment (Belghazi et al. 2018): biased DV against EMA-corrected MINE on the correlated Gaussian.
//!
//! `cargo run --release --example mine_ema -- [dim] [steps]` (defaults 5 and 4 000) prints the
//! table: the true MI, each run's final estimate and its final and largest gradient norm per ρ.

use infobound::experiments::mine_ema::MineEmaRun;

fn main() -> Result<(), infobound::Error> {
    let mut args = std::env::args().skip(1);
    let mut run = MineEmaRun::default();
    if let Some(d) = args.next() {
        run = run.with_dim(d.parse().expect("dim: a positive integer"));
    }
    if let Some(s) = args.next() {
        run = run.with_steps(s.parse().expect("steps: a positive integer"));
    }
    let result = run.run()?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    print!("{}", result.table(run.dim));
    println!("{:.1} s on {}", result.seconds, result.device);
    Ok(())
}
