//! The task suite (issue 16, items 5 and 7): every closed form against a Monte-Carlo estimate
//! with exact densities, the maps' invertibility, the generators' determinism, and the quick
//! suite end to end on the CPU backend. The modules live in `tests/suite/` (a crate root's
//! modules resolve next to it, hence the paths).

#[path = "suite/closed_forms.rs"]
mod closed_forms;
#[path = "suite/densities.rs"]
mod densities;
#[path = "suite/determinism.rs"]
mod determinism;
#[path = "suite/maps.rs"]
mod maps;
#[path = "suite/runner.rs"]
mod runner;
