//! A stack of same-sized grey-level images: the user's (an N × H × W `.npy`) or the bundled
//! 8 × 8 handwritten digits, checked when built.

use std::path::Path;

use super::error::ConsistencyError;
use crate::estimate::io::{parse_npy_stack, read_stack, Stack};
use crate::estimate::validate::setting;

/// The 8 × 8 handwritten digits scikit-learn ships (1 797 images, integer pixels 0..16), as a
/// uint8 `.npy` of shape (1797, 8, 8); `assets/digits/LICENSE-digits.txt` gives their source
/// (the UCI repository's optical digits test set) and licence.
pub static DIGITS_NPY: &[u8] = include_bytes!("../../../assets/digits/digits.npy");

/// Images of `height` × `width` pixels, row-major, image after image; every pixel finite and
/// at least two images (the checks of [`Images::new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    data: Vec<f32>,
    n: usize,
    height: usize,
    width: usize,
}

impl Images {
    /// `n` images of `height` × `width` from `data` (pixel (r, c) of image i at
    /// `(i·height + r)·width + c`). Fails on a length that is not n·height·width, an empty
    /// shape, a non-finite pixel, fewer than two images, or more pixels than the
    /// dequantisation noise can key.
    pub fn new(
        data: Vec<f32>,
        n: usize,
        height: usize,
        width: usize,
    ) -> Result<Self, ConsistencyError> {
        let shape_error = || ConsistencyError::Shape {
            len: data.len(),
            n,
            height,
            width,
        };
        let count = n
            .checked_mul(height)
            .and_then(|p| p.checked_mul(width))
            .ok_or_else(shape_error)?;
        if count != data.len() || height == 0 || width == 0 {
            return Err(shape_error());
        }
        if n < 2 {
            return Err(ConsistencyError::TooFewImages { images: n });
        }
        // The partner permutation keys images by a u32; four noise draws come from one
        // Philox block, whose index is a u32 (see `dequantise::noise`).
        if n > u32::MAX as usize || count as u128 >= 1 << 34 {
            return Err(ConsistencyError::TooLarge {
                images: n,
                pixels: count as u128,
            });
        }
        if let Some(at) = data.iter().position(|v| !v.is_finite()) {
            let per = height * width;
            return Err(ConsistencyError::NotFinite {
                image: at / per,
                row: at % per / width,
                col: at % width,
                value: data[at],
            });
        }
        Ok(Images {
            data,
            n,
            height,
            width,
        })
    }

    /// The bundled 8 × 8 digits ([`DIGITS_NPY`]): 1 797 images, 17 grey levels (0..16).
    pub fn digits() -> Result<Self, ConsistencyError> {
        // The bytes are compiled in and a test reads them; an error here would be a bug, but it
        // is still an error, not a panic.
        let stack = parse_npy_stack(DIGITS_NPY).map_err(|e| {
            ConsistencyError::from(setting("the bundled digits", "a readable .npy", e.found))
        })?;
        Self::from_stack(stack)
    }

    /// Images read from an N × H × W `.npy` file (uint8, float32 or float64; the reader's
    /// errors name the file).
    pub fn read(path: &Path) -> Result<Self, ConsistencyError> {
        Self::from_stack(read_stack(path)?)
    }

    /// The images of a stack read from a file, checked as [`Images::new`] checks.
    pub fn from_stack(stack: Stack) -> Result<Self, ConsistencyError> {
        Self::new(stack.data, stack.n, stack.height, stack.width)
    }

    /// How many images.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: [`Images::new`] refuses fewer than two images.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Rows of pixels an image (H).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Pixels a row (W).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Image `i`'s pixels, row-major (H·W values); `i < len()`.
    pub fn image(&self, i: usize) -> &[f32] {
        let per = self.height * self.width;
        &self.data[i * per..(i + 1) * per]
    }

    /// Every pixel of every image, image after image.
    pub fn pixels(&self) -> &[f32] {
        &self.data
    }

    /// Which pixels (row-major index r·W + c) take more than one value over the images: the
    /// others carry no information and are dropped from X and Y.
    pub fn varying(&self) -> Vec<bool> {
        let per = self.height * self.width;
        let first = self.image(0);
        let mut varies = vec![false; per];
        for i in 1..self.n {
            for (v, (&a, &b)) in varies.iter_mut().zip(self.image(i).iter().zip(first)) {
                *v |= a != b;
            }
        }
        varies
    }
}
