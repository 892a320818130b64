//! Breaking ties between pixels of the same grey level: uniform noise inside the level, drawn
//! from the counter-based generator so that the same seed gives the same bits.
//!
//! Grey levels tie: the digits' pixels take 17 values, so most columns are mostly tied, the
//! rank-Gauss transform maps a level to one value (and warns), and a pixel that is nonzero in a
//! handful of images can be constant on the training rows, which the estimator refuses.
//! Dequantising gives every pixel a continuous value that still says which level it came
//! from: the data set's distinct values v_0 < v_1 < … < v_m are the levels, and a pixel at
//! level k becomes v_k + u·(v_{k+1} − v_k) with u uniform in [0, 1) (the top level uses the
//! width below it), so it stays in [v_k, v_{k+1}) and its level is a function of it. For
//! the digits (levels 0..16) that is v + u, in [v, v + 1).
//!
//! Every copy of a pixel placed in X or Y gets its own draw (keyed by the copy, the image and
//! the pixel), so Y's noise is independent of X's: Y's *levels* are a function of X's, and
//! I(X; Y) is the entropy of Y's levels, not infinite.

use crate::math::rng::{draw, uniform_f32, Purpose};

/// How tied grey levels are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dequantise {
    /// Uniform noise inside each grey level (see the module documentation).
    #[default]
    Levels,
    /// The pixels as given (ties and all).
    None,
}

impl Dequantise {
    /// Every choice, in the order help lists them.
    pub const ALL: [Dequantise; 2] = [Dequantise::Levels, Dequantise::None];

    /// Its command-line name: `levels` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Dequantise::Levels => "levels",
            Dequantise::None => "none",
        }
    }

    /// The choice called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name.trim())
    }
}

/// The distinct values of a data set, ascending: its grey levels.
#[derive(Clone, Debug, PartialEq)]
pub struct GreyLevels {
    values: Vec<f32>,
}

impl GreyLevels {
    /// The distinct values among `pixels` (finite, as [`super::Images`] guarantees); -0 and 0
    /// are one level.
    pub fn of(pixels: &[f32]) -> Self {
        let mut values: Vec<f32> = pixels.iter().map(|&v| v + 0.0).collect();
        values.sort_unstable_by(f32::total_cmp);
        values.dedup();
        GreyLevels { values }
    }

    /// The levels, ascending.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// How many levels.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there is no level (no pixel).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The interval [lo, hi) that `v`'s level dequantises into: from v's level to the next
    /// one, the top level as wide as the gap below it (1 when there is one level only). `v`
    /// should be one of the levels; any other value gets the interval of the highest level at
    /// or below it (the lowest level's when below them all).
    pub fn interval(&self, v: f32) -> (f32, f32) {
        let k = self.values.partition_point(|&l| l <= v).saturating_sub(1);
        let lo = self.values.get(k).copied().unwrap_or(v);
        let hi = match (self.values.get(k + 1), k.checked_sub(1)) {
            (Some(&next), _) => next,
            (None, Some(below)) => lo + (lo - self.values[below]),
            (None, None) => lo + 1.0,
        };
        (lo, hi)
    }

    /// `v` moved to `lo + u·(hi − lo)` inside its level's [`Self::interval`], `u` in [0, 1);
    /// never `hi` itself, even where f32 rounding would reach it.
    pub fn dequantise(&self, v: f32, u: f32) -> f32 {
        let (lo, hi) = self.interval(v);
        let moved = (f64::from(lo) + f64::from(u) * (f64::from(hi) - f64::from(lo))) as f32;
        if moved < hi {
            moved.max(lo)
        } else {
            hi.next_down().max(lo)
        }
    }
}

/// The uniform in [0, 1) for copy `copy` of pixel `flat` (image·H·W + pixel) under `key`:
/// word `flat mod 4` of the Philox block `draw(key, Proposal, copy, flat / 4)`. `flat` is
/// below 2^34 ([`super::Images::new`] checks), so the block index fits its u32.
pub fn noise(key: u64, copy: u32, flat: u64) -> f32 {
    let block = draw(key, Purpose::Proposal, copy, (flat / 4) as u32);
    uniform_f32(block[(flat % 4) as usize])
}
