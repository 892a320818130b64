//! Song & Ermon's (2020) self-consistency tests on images (seed 003; SPEC §5; issue 17):
//! whether an estimator's answers keep the properties mutual information has, on data that
//! nobody synthesised.
//!
//! For t = 1 … H, Y sees the top t rows of an image:
//! - **baseline**: X the image, Y its top t rows; the estimate must not fall as t grows
//!   (shown as the ratio to the estimate at the largest t);
//! - **independence**: Y the top rows of another image paired at random; ideal ratio 0;
//! - **data processing**: X = (image, image), Y = (top t, top t); ideal ratio to the
//!   baseline 1;
//! - **additivity**: two independent images side by side, X = (a, b), Y = (top t of a,
//!   top t of b); ideal ratio to the baseline 2.
//!
//! Y's grey levels are a function of X's, so I(X; Y) is the entropy of Y's levels: unknown,
//! and it may pass what any lower bound can certify from N samples (ln N). Only the ratios
//! mean anything, as in the paper.
//!
//! ```no_run
//! use infobound::experiments::consistency::{Consistency, Images};
//! use infobound::{DeviceChoice, Estimator};
//! let images = Images::digits().unwrap();
//! let report = Consistency::quick(images.height())
//!     .run(&images, &Consistency::quick_estimator(Estimator::default().with_device(DeviceChoice::Cpu)))
//!     .unwrap();
//! println!("{}", report.to_markdown());
//! ```
//!
//! - [`images`]: the images, the user's or the bundled 8 × 8 digits ([`Images::digits`]);
//! - [`dequantise`]: the ties between grey levels broken by noise inside each level;
//! - [`construction`]: X and Y of each setting, with the constant pixels dropped;
//! - [`setting`], [`run`] (the runner), [`report`] (ratios and verdicts), [`table`] (Markdown
//!   and CSV); [`error`] what it refuses.

pub mod construction;
pub mod dequantise;
pub mod error;
pub mod images;
pub mod report;
pub mod run;
pub mod setting;
pub mod table;

pub use construction::{Constructions, Pairs};
pub use dequantise::{Dequantise, GreyLevels};
pub use error::ConsistencyError;
pub use images::Images;
pub use report::{Row, Verdict};
pub use run::{Consistency, ConsistencyReport};
pub use setting::Setting;
