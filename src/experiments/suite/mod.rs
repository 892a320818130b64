//! A task suite with known mutual information, in the style of the bmi benchmark (Czyż,
//! Grabowski, Vogt, Beerenwinkel & Marx, 2023, "Beyond normal: on the evaluation of mutual
//! information estimators", NeurIPS; <https://github.com/cbg-ethz/bmi>), and a runner that
//! scores an [`crate::Estimator`] on it (issue 16, item 5).
//!
//! ```no_run
//! use infobound::experiments::suite::Suite;
//! use infobound::{DeviceChoice, Estimator};
//! let report = Suite::quick()
//!     .run(&Estimator::default().with_device(DeviceChoice::Cpu))
//!     .unwrap();
//! println!("{}", report.to_markdown());
//! ```
//!
//! - [`task`]: a [`Task`] is a named law with its true MI, checked when built, and a seeded
//!   sampler; [`grid`] lists issue 16's 37 tasks ([`grid::full`]) and CI's subset
//!   ([`grid::quick`]).
//! - The laws: bmi's dense and sparse Gaussians ([`gaussian`]), the multivariate Student-t
//!   with its closed-form MI ([`student`]), additive uniform noise ([`crate::experiments::tasks`]) and
//!   invertible maps of a Gaussian ([`maps`]), which leave the MI unchanged.
//! - [`Suite`] runs them ([`run`]), [`score`] scores each row and the run, [`markdown`] writes
//!   the tables.

pub mod gaussian;
pub mod grid;
pub mod maps;
pub mod markdown;
pub mod run;
pub mod score;
pub mod seed;
pub mod special;
pub mod student;
pub mod task;

pub use maps::Map;
pub use markdown::side_by_side;
pub use run::{Suite, SuiteReport};
pub use score::{Row, Summary};
pub use task::{Law, Task};
