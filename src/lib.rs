//! infobound: mutual-information estimation with neural variational bounds, trained entirely
//! on the GPU in hand-written WGSL kernels, or without one on every CPU core in f32, with a
//! CPU reference backend (f64) that every kernel is tested against.
//!
//! ```no_run
//! use infobound::{Estimator, Matrix};
//! let (x, y) = infobound::experiments::tasks::correlated_gaussian(1, 0.8, 20_000, 7);
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

// The layers, top to bottom (docs/ARCHITECTURE.md; `tests/architecture.rs` holds the arrows):
// experiments and losses → the estimate protocol → the backend trait → gpu | cpu → math.
#[doc(hidden)]
pub mod backend;
#[doc(hidden)]
pub mod cpu;
#[doc(hidden)]
pub mod estimate;
pub mod experiments;
#[doc(hidden)]
pub mod gpu;
#[doc(hidden)]
pub mod losses;
#[doc(hidden)]
pub mod math;

pub use backend::{CancelToken, DeviceChoice};
pub use estimate::data::Matrix;
pub use estimate::diagnostics::Diagnostic;
pub use estimate::error::Error;
pub use estimate::estimator::{Estimator, Evaluation, Progress, Report};
pub use estimate::many::BatchedRun;
pub use estimate::marginal::MarginalTransform;
pub use estimate::mi_matrix::MiMatrix;
pub use estimate::readout::CrossCheck;
pub use estimate::report::Ensemble;
pub use estimate::validate::InputError;
pub use gpu::GpuContext;
pub use losses::contrastive::{
    ContrastiveConfig, ContrastiveError, ContrastiveForm, ContrastiveLoss, ContrastiveOutput,
};
pub use losses::sandwich::{Sandwich, SandwichReport};
pub use math::bounds::Bound;
pub use math::critic::CriticForm;
