//! What a training run is, independent of the backend that runs it.

use crate::bounds::Bound;
use crate::critic::MlpConfig;
use crate::optim::AdamConfig;

/// A critic trained on shuffled-negative batches with one bound: everything both backends need
/// to take the same steps from the same seed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainSpec {
    /// The joint critic f([x; y]) → score: input dx + dy, output 1.
    pub critic: MlpConfig,
    /// The bound whose objective is maximised.
    pub bound: Bound,
    /// Joint pairs per batch (K); the batch also holds K negatives.
    pub batch: usize,
    /// The optimiser.
    pub adam: AdamConfig,
    /// Seeds the initialisation and every random draw.
    pub seed: u64,
}

impl TrainSpec {
    /// A spec for a concat critic with the given hidden widths on dx + dy inputs.
    pub fn new(dx: usize, dy: usize, hidden: &[usize], bound: Bound, batch: usize) -> Self {
        Self {
            critic: MlpConfig::new(dx + dy, hidden, 1),
            bound,
            batch,
            adam: AdamConfig::default(),
            seed: 0,
        }
    }

    /// Sets the optimiser.
    pub fn with_adam(mut self, adam: AdamConfig) -> Self {
        self.adam = adam;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Row-major training data (already standardised), borrowed by a trainer at construction.
#[derive(Clone, Copy, Debug)]
pub struct TrainData<'a> {
    /// n × dx.
    pub x: &'a [f32],
    /// Columns of x.
    pub dx: usize,
    /// n × dy.
    pub y: &'a [f32],
    /// Columns of y.
    pub dy: usize,
}

impl TrainData<'_> {
    /// Rows.
    pub fn rows(&self) -> usize {
        self.x.len() / self.dx.max(1)
    }
}

/// A run that stopped because a value or a parameter stopped being finite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The first step (0-based) that produced a non-finite number.
    pub step: u64,
    /// The bound value itself was not finite (else a parameter or gradient was).
    pub value: bool,
}

/// A backend that trains a critic step by step.
pub trait Trainer {
    /// Takes `steps` steps; returns the bound's value at each, or where the run diverged.
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, crate::Error>;
    /// The current parameters (flat, in [`MlpConfig::layers`] order).
    fn parameters(&self) -> Result<Vec<f32>, crate::Error>;
    /// Steps taken so far.
    fn step(&self) -> u64;
    /// Where it runs, for reports.
    fn device_name(&self) -> String;
}
