//! Writes the rows `infobound bench --configs bmi-dense` trains and holds out: bmi's
//! `multinormal-dense-5-5-0.5` task (0.593 nats) sampled by infobound's task suite, 10 000 rows,
//! data seed 0, as two CSV files, so that a peer can run on exactly these rows
//! (`benches/peers/bmi_peer.py --rows DIR`: the first 5 000 train, the last 5 000 are held out,
//! as the bench splits them).
//!
//! cargo run --release --example bmi_dense_rows -- DIR

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use infobound::experiments::suite::Task;

/// The rows the bench samples, and their seed (see `bmi_dense` in src/bin/infobound/bench.rs).
const ROWS: usize = 10_000;
const SEED: u64 = 0;
const DIM: usize = 5;

fn write_csv(path: &Path, values: &[f32]) -> std::io::Result<()> {
    let mut text = String::new();
    for row in values.chunks(DIM) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        writeln!(text, "{}", cells.join(",")).expect("a string takes any text");
    }
    std::fs::write(path, text)
}

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bmi_dense_rows DIR");
        std::process::exit(2);
    };
    let task = Task::gaussian_dense(DIM).expect("the dense task");
    let (x, y) = task.sample(ROWS, SEED).expect("the rows");
    std::fs::create_dir_all(&dir).expect("the directory");
    for (name, values) in [("x.csv", &x), ("y.csv", &y)] {
        write_csv(&dir.join(name), values).expect("the file");
    }
    println!(
        "wrote {ROWS} rows of {} ({:.4} nats) to {}/x.csv and y.csv",
        task.name(),
        task.true_mi(),
        dir.display()
    );
}
