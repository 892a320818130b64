//! The self-consistency experiment on images (issue 17): the bundled digits, the settings'
//! constructions, the dequantisation, the ratios and verdicts, and a tiny run end to end on
//! the CPU backend. The modules live in `tests/consistency/`.

#[path = "consistency/constructions.rs"]
mod constructions;
#[path = "consistency/dequantisation.rs"]
mod dequantisation;
#[path = "consistency/digits.rs"]
mod digits;
#[path = "consistency/ratios.rs"]
mod ratios;
#[path = "consistency/runner.rs"]
mod runner;
