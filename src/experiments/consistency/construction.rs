//! X and Y for a setting and a row count t, built from the images once their constant pixels
//! are dropped and their ties broken ([`super::dequantise`]).
//!
//! Every row of X and Y is one image i (of N): X holds the image's varying pixels in row-major
//! order, Y those of its top t rows (a prefix of X's columns). The independence and additivity
//! settings take their second image from a random cyclic derangement π of the images (a
//! permutation with π(i) ≠ i for every i, so each image is used once in each role), drawn
//! from the counter-based generator under the experiment's seed. Every copy of a pixel gets
//! its own noise: X's first image copy 0, Y's first image copy 1, X's second image copy 2,
//! Y's second image copy 3; the copies do not depend on the setting or on t, so Y at t is
//! the first columns of Y at t + 1 in the same draw.

use super::dequantise::{noise, Dequantise, GreyLevels};
use super::error::ConsistencyError;
use super::images::Images;
use super::setting::Setting;
use crate::estimate::validate::setting;
use crate::experiments::suite::seed::task_seed;
use crate::math::rng::{Permutation, Purpose};
use crate::{Error, Matrix};

/// The noise copy of X's (first) image.
pub const X_COPY: u32 = 0;
/// The noise copy of Y's (first) image.
pub const Y_COPY: u32 = 1;
/// The noise copy of X's second image (data processing, additivity).
pub const X_SECOND_COPY: u32 = 2;
/// The noise copy of Y's second image (data processing, additivity).
pub const Y_SECOND_COPY: u32 = 3;

/// Where a block of a row's pixels comes from: (image, noise copy).
type Source = (usize, u32);

/// Paired rows of X and Y, row-major, as the estimator takes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs {
    /// X, n × dx.
    pub x: Vec<f32>,
    /// Columns of X.
    pub dx: usize,
    /// Y, n × dy.
    pub y: Vec<f32>,
    /// Columns of Y.
    pub dy: usize,
    /// Rows (one an image).
    pub n: usize,
}

impl Pairs {
    /// X and Y as the estimator's matrices.
    pub fn matrices(&self) -> Result<(Matrix<'_>, Matrix<'_>), Error> {
        Ok((
            Matrix::new(&self.x, self.n, self.dx)?,
            Matrix::new(&self.y, self.n, self.dy)?,
        ))
    }
}

/// The images ready for every setting: the varying pixels, the grey levels, the noise key
/// and the partner of every image.
#[derive(Clone, Debug)]
pub struct Constructions {
    images: Images,
    /// Row-major indices (r·W + c) of the pixels that vary over the images, ascending.
    kept: Vec<usize>,
    levels: GreyLevels,
    dequantise: Dequantise,
    key: u64,
    partner: Vec<usize>,
}

impl Constructions {
    /// Prepares `images`: drops the pixels that are constant over all of them (fails when
    /// every pixel is), finds the grey levels, and keys the noise and the partners by `seed`.
    pub fn new(
        images: Images,
        dequantise: Dequantise,
        seed: u64,
    ) -> Result<Self, ConsistencyError> {
        let kept: Vec<usize> = images
            .varying()
            .iter()
            .enumerate()
            .filter_map(|(p, &v)| v.then_some(p))
            .collect();
        if kept.is_empty() {
            return Err(ConsistencyError::Constant {
                images: images.len(),
            });
        }
        let levels = GreyLevels::of(images.pixels());
        let key = task_seed(seed, "consistency");
        // A cyclic derangement (as the trainer draws negatives): π(i) = σ(σ⁻¹(i) + 1 mod n),
        // one n-cycle, so no image is its own partner. `Images` holds n ≤ 2^32 − 1.
        let n = images.len() as u32;
        let sigma = Permutation::new(key, Purpose::Negatives, 0, n);
        let partner = (0..n)
            .map(|i| {
                let next = (sigma.invert(i) + 1) % n;
                sigma.apply(next) as usize
            })
            .collect();
        Ok(Constructions {
            images,
            kept,
            levels,
            dequantise,
            key,
            partner,
        })
    }

    /// The images.
    pub fn images(&self) -> &Images {
        &self.images
    }

    /// The grey levels the noise breaks ties within.
    pub fn levels(&self) -> &GreyLevels {
        &self.levels
    }

    /// How ties are handled.
    pub fn dequantise(&self) -> Dequantise {
        self.dequantise
    }

    /// The pixels kept, row-major indices r·W + c, ascending.
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// The pixels dropped because they are the same in every image, as (row, column).
    pub fn dropped(&self) -> Vec<(usize, usize)> {
        let w = self.images.width();
        (0..self.images.height() * w)
            .filter(|p| self.kept.binary_search(p).is_err())
            .map(|p| (p / w, p % w))
            .collect()
    }

    /// How many kept pixels lie in the top `t` rows: Y's width for one image.
    pub fn kept_in_top(&self, t: usize) -> usize {
        let limit = t.saturating_mul(self.images.width());
        self.kept.partition_point(|&p| p < limit)
    }

    /// The image paired with image `i` in the independence and additivity settings (never
    /// `i`; over all i, a permutation).
    pub fn partner(&self, i: usize) -> usize {
        self.partner[i]
    }

    /// Fails unless 1 ≤ `t` ≤ H ([`crate::InputError::Setting`]) and the top `t` rows hold
    /// a kept pixel.
    pub fn check_rows(&self, t: usize) -> Result<(), ConsistencyError> {
        let h = self.images.height();
        if t == 0 || t > h {
            return Err(setting(
                "the rows t",
                "between 1 and the images' height",
                format!("{t} (the images have {h} rows)"),
            )
            .into());
        }
        if self.kept_in_top(t) == 0 {
            return Err(ConsistencyError::NoVaryingPixel { t });
        }
        Ok(())
    }

    /// Copy `copy` of pixel `p` (row-major index) of image `image`, dequantised unless
    /// [`Dequantise::None`].
    pub fn pixel(&self, copy: u32, image: usize, p: usize) -> f32 {
        let per = self.images.height() * self.images.width();
        let v = self.images.image(image)[p];
        match self.dequantise {
            Dequantise::None => v,
            Dequantise::Levels => {
                let u = noise(self.key, copy, (image * per + p) as u64);
                self.levels.dequantise(v, u)
            }
        }
    }

    /// X and Y of `setting` with Y the top `t` rows (see the module documentation).
    pub fn build(&self, setting: Setting, t: usize) -> Result<Pairs, ConsistencyError> {
        self.check_rows(t)?;
        let n = self.images.len();
        let top = &self.kept[..self.kept_in_top(t)];
        let parts = setting.images_a_row();
        let (dx, dy) = (parts * self.kept.len(), parts * top.len());
        let mut x = Vec::with_capacity(n * dx);
        let mut y = Vec::with_capacity(n * dy);
        for i in 0..n {
            let j = self.partner[i];
            let (xs, ys): (&[Source], &[Source]) = match setting {
                Setting::Baseline => (&[(i, X_COPY)], &[(i, Y_COPY)]),
                Setting::Independence => (&[(i, X_COPY)], &[(j, Y_COPY)]),
                Setting::DataProcessing => (
                    &[(i, X_COPY), (i, X_SECOND_COPY)],
                    &[(i, Y_COPY), (i, Y_SECOND_COPY)],
                ),
                Setting::Additivity => (
                    &[(i, X_COPY), (j, X_SECOND_COPY)],
                    &[(i, Y_COPY), (j, Y_SECOND_COPY)],
                ),
            };
            for &(image, copy) in xs {
                x.extend(self.kept.iter().map(|&p| self.pixel(copy, image, p)));
            }
            for &(image, copy) in ys {
                y.extend(top.iter().map(|&p| self.pixel(copy, image, p)));
            }
        }
        Ok(Pairs { x, dx, y, dy, n })
    }
}
