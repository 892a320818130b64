//! What the self-consistency experiment refuses or fails with, each a one-line message that
//! names the offending value.

use crate::estimate::validate::InputError;
use crate::Error;

/// Why the experiment cannot run, or what stopped it. A setting out of its range (a row count
/// t outside 1..=H, no settings) is `Estimate(Error::Input(InputError::Setting { .. }))`, as
/// the estimator reports its own settings; the images' own problems have a variant each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsistencyError {
    /// The estimator refused a setting or the data built from the images (bad input), or a
    /// setting of the experiment is out of range ([`InputError::Setting`]).
    #[error(transparent)]
    Estimate(#[from] Error),
    /// A flat buffer whose length is not n × height × width, or a shape with no pixel.
    #[error("{len} pixel values do not make {n} images of {height} × {width} pixels")]
    Shape {
        /// Values given.
        len: usize,
        /// Images asked for.
        n: usize,
        /// Rows of pixels an image.
        height: usize,
        /// Pixels a row.
        width: usize,
    },
    /// A NaN or infinity among the pixels (the first one).
    #[error("image {image} has a non-finite pixel ({value}) at row {row}, column {col}")]
    NotFinite {
        /// The image (0-based).
        image: usize,
        /// Its row (0-based).
        row: usize,
        /// Its column (0-based).
        col: usize,
        /// The value.
        value: f32,
    },
    /// Fewer than two images: the independence and additivity settings pair every image with
    /// a different one.
    #[error(
        "{images} image(s) are too few: the independence and additivity settings pair every \
         image with a different one"
    )]
    TooFewImages {
        /// Images given.
        images: usize,
    },
    /// More images or pixels than the random streams can key: the partner permutation keys
    /// images by a u32, the dequantisation noise 2^34 copies of a pixel.
    #[error(
        "{images} images of {pixels} pixels in all are more than the random streams can key \
         (2^32 images, 2^34 pixels)"
    )]
    TooLarge {
        /// Images given.
        images: usize,
        /// Pixels given (images × height × width).
        pixels: u128,
    },
    /// Every pixel is the same in every image: there is nothing to estimate.
    #[error("every pixel is the same in all {images} images: there is nothing to estimate")]
    Constant {
        /// Images given.
        images: usize,
    },
    /// The top t rows hold no pixel that varies over the images (constant pixels are
    /// dropped), so Y would have no column.
    #[error(
        "the top {t} row(s) have no pixel that varies over the images (constant pixels are \
         dropped); ask for more rows"
    )]
    NoVaryingPixel {
        /// The rows asked for.
        t: usize,
    },
}

impl ConsistencyError {
    /// True for bad input (the images, a setting, or data the estimator refuses), as opposed
    /// to a failure while running.
    pub fn is_input(&self) -> bool {
        match self {
            ConsistencyError::Estimate(e) => e.is_input(),
            _ => true,
        }
    }
}

impl From<InputError> for ConsistencyError {
    fn from(e: InputError) -> Self {
        ConsistencyError::Estimate(e.into())
    }
}
