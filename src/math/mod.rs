//! Backend-neutral math: what both backends compute, and nothing about where they compute it.
//!
//! The bounds and their f64 references, the critic's shapes and initialisation, the training
//! spec and the step program it compiles to, the counter-based RNG, the sampling transforms,
//! the optimiser's settings, gradient-norm arithmetic and the row-block standard errors of a
//! whole-split evaluation. Nothing here imports a backend.

pub mod bounds;
pub mod clip;
pub mod critic;
pub mod cross_check;
pub mod linalg;
pub mod optim;
pub mod program;
pub mod rng;
pub mod sampling;
pub mod spec;
pub mod split_eval;
