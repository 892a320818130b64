//! Experiments with known answers: synthetic tasks, the SMILE/VBMI staircase, MINE's
//! moving-average demonstration (Belghazi et al. 2018), the task suite with known answers
//! (in the style of Czyż et al. 2023's bmi benchmark), Song & Ermon's self-consistency tests
//! on images, and the benchmarks' probes and cost model.

pub mod bench;
pub mod consistency;
pub mod mine_ema;
pub mod staircase;
pub mod suite;
pub mod tasks;
