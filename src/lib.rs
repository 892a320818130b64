//! infobound: mutual-information estimation with neural variational bounds, trained entirely
//! on the GPU in hand-written WGSL kernels, with a CPU reference backend that every kernel is
//! tested against.
//!
//! ```no_run
//! use infobound::{Estimator, Matrix};
//! let (x, y) = infobound::tasks::correlated_gaussian(1, 0.8, 20_000, 7);
//! let report = Estimator::default()
//!     .estimate(Matrix::column(&x), Matrix::column(&y))
//!     .unwrap();
//! println!("{:.3} ± {:.3} nats on {}", report.mi, report.std_err, report.device);
//! ```

/// `with_*` builder setters for config structs: `setter!(/// doc
/// with_name, field: Type);` defines `pub fn with_name(mut self, field: Type) -> Self`.
macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $field:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    };
}

pub mod bench;
pub mod bounds;
pub mod clip;
pub mod contrastive;
pub mod cpu;
pub mod critic;
pub mod data;
pub mod diagnostics;
mod error;
pub mod estimator;
pub mod gpu;
pub mod io;
pub mod known_marginal;
pub mod limits;
pub mod linalg;
pub mod marginal;
pub mod mine_ema;
pub mod optim;
pub mod program;
pub mod rng;
pub mod runaway;
pub mod sandwich;
pub mod split_eval;
pub mod staircase;
pub mod tasks;
pub mod train;
pub mod validate;

pub use data::Matrix;
pub use error::Error;
pub use estimator::{DeviceChoice, Estimator, Progress, Report};
pub use marginal::MarginalTransform;
pub use validate::InputError;
