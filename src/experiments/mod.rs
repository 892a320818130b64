//! Experiments with known answers: synthetic tasks, the SMILE/VBMI staircase, MINE's
//! moving-average demonstration (Belghazi et al. 2018), and the benchmarks' probes and cost
//! model.

pub mod bench;
pub mod mine_ema;
pub mod staircase;
pub mod tasks;
