//! What a training run is, independent of the backend that runs it.

use crate::bounds::Bound;
use crate::critic::{CriticForm, MlpConfig};
use crate::optim::AdamConfig;
use crate::program::Source;
use crate::rng::{Purpose, Stream};
use crate::tasks::Transform;

/// A critic of some form trained with one bound: everything both backends need to take the
/// same steps from the same seed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainSpec {
    /// The critic's form and widths.
    pub critic: CriticForm,
    /// Columns of x.
    pub dx: usize,
    /// Columns of y.
    pub dy: usize,
    /// The bound whose objective is maximised.
    pub bound: Bound,
    /// Joint pairs per batch (K).
    pub batch: usize,
    /// Hidden widths of the learned log-baseline b(y) of TUBA and α-InfoNCE.
    pub baseline_hidden: Vec<usize>,
    /// The optimiser.
    pub adam: AdamConfig,
    /// Seeds the initialisation and every random draw.
    pub seed: u64,
    /// Clips the gradient to this global L2 norm before Adam (`None`: no clip).
    pub max_grad_norm: Option<f32>,
    /// The multisample bound's decoder also learns through its proposals y_ik = μ_i + σ_i ε_ik
    /// (the reparameterised gradient of V_MS); `false` (the default): the proposals are held
    /// fixed and the decoder learns from the Barber–Agakov term alone. Other bounds ignore it.
    pub reparameterised: bool,
}

impl TrainSpec {
    /// A spec for `critic` on dx + dy inputs, trained with `bound` on batches of `batch`.
    pub fn new(dx: usize, dy: usize, critic: CriticForm, bound: Bound, batch: usize) -> Self {
        Self {
            critic,
            dx,
            dy,
            bound,
            batch,
            baseline_hidden: vec![64],
            adam: AdamConfig::default(),
            seed: 0,
            max_grad_norm: None,
            reparameterised: false,
        }
    }

    /// Sets [`TrainSpec::reparameterised`].
    pub fn with_reparameterised(mut self, reparameterised: bool) -> Self {
        self.reparameterised = reparameterised;
        self
    }

    /// Sets the max-norm clip of the gradient (`None`: none).
    pub fn with_max_grad_norm(mut self, max_grad_norm: Option<f32>) -> Self {
        self.max_grad_norm = max_grad_norm;
        self
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

    /// Sets the baseline network's hidden widths.
    pub fn with_baseline_hidden(mut self, hidden: Vec<usize>) -> Self {
        self.baseline_hidden = hidden;
        self
    }

    /// The critic's networks with the offset each starts at in the parameter vector.
    pub fn networks(&self) -> Vec<(MlpConfig, usize)> {
        let mut base = 0;
        self.critic
            .networks(self.dx, self.dy)
            .into_iter()
            .map(|net| {
                let at = base;
                base += net.param_count();
                (net, at)
            })
            .collect()
    }

    /// The baseline network b(y) and its offset, for the bounds that learn one.
    pub fn baseline_network(&self) -> Option<(MlpConfig, usize)> {
        matches!(self.bound, Bound::Tuba | Bound::AlphaInfoNce { .. }).then(|| {
            let base = self.networks().iter().map(|(n, _)| n.param_count()).sum();
            (MlpConfig::new(self.dy, &self.baseline_hidden, 1), base)
        })
    }

    /// Every network, critic first, then the baseline.
    fn all_networks(&self) -> Vec<(MlpConfig, usize)> {
        let mut all = self.networks();
        all.extend(self.baseline_network());
        all
    }

    /// Parameters of all networks.
    pub fn param_count(&self) -> usize {
        self.all_networks()
            .iter()
            .map(|(n, _)| n.param_count())
            .sum()
    }

    /// The initial parameters: PyTorch's `nn.Linear` initialisation of every network, in
    /// order, from the stream (seed, Init).
    pub fn init(&self) -> Vec<f32> {
        let mut params = vec![0.0; self.param_count()];
        let mut stream = Stream::new(self.seed, Purpose::Init);
        for (net, base) in self.all_networks() {
            net.init_into(&mut stream, &mut params, base);
        }
        params
    }

    /// Rows the critic scores per step: 2K for shuffled negatives, K² for all pairs, K for a
    /// decoder.
    pub fn scored_rows(&self) -> usize {
        match self.critic {
            CriticForm::Shuffled { .. } => 2 * self.batch,
            CriticForm::Decoder { .. } => self.batch,
            CriticForm::DecoderCritic { .. } => match self.bound {
                Bound::Multisample { proposals } => self.batch * (proposals as usize + 1),
                _ => self.batch,
            },
            _ => self.batch * self.batch,
        }
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
    /// A known marginal's log p(y_i) a row (n values, nats), for Barber–Agakov and V_MS;
    /// `None`: p(y) = N(0, I). Uploaded with the data and gathered with every batch.
    pub log_marginal: Option<&'a [f32]>,
}

/// What a trainer learns from: a data set, or fresh Gaussian batches every step.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Batches<'a> {
    /// Minibatches of a data set.
    Data(TrainData<'a>),
    /// The correlated Gaussian (dx = dy = the spec's dims) with ρ_t = rho[step] (the last
    /// entry past the end), y transformed: the staircase of SPEC §4, drawn on the device.
    Gaussian {
        /// ρ for every step.
        rho: &'a [f32],
        /// The map applied to y.
        transform: Transform,
    },
}

impl<'a> From<TrainData<'a>> for Batches<'a> {
    fn from(d: TrainData<'a>) -> Self {
        Batches::Data(d)
    }
}

impl Batches<'_> {
    /// The program source these batches come from.
    pub fn source(&self) -> Source {
        match self {
            Batches::Data(d) => Source::Data {
                n: d.rows(),
                log_marginal: d.log_marginal.is_some(),
            },
            Batches::Gaussian { rho, transform } => Source::Gaussian {
                steps: rho.len(),
                transform: *transform,
            },
        }
    }

    /// The contents of the program's X and Y buffers.
    pub fn inputs(&self) -> (&[f32], &[f32]) {
        match self {
            Batches::Data(d) => (d.x, d.y),
            Batches::Gaussian { rho, .. } => (rho, &[0.0]),
        }
    }

    /// The data's per-row log p(y), if given.
    pub fn log_marginal(&self) -> Option<&[f32]> {
        match self {
            Batches::Data(d) => d.log_marginal,
            Batches::Gaussian { .. } => None,
        }
    }
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
    /// The bound's value with the current critic on each of the evaluation batches (the same
    /// batches every time), drawn from the evaluation data given at construction.
    fn evaluate(&mut self) -> Result<Vec<f32>, crate::Error>;
    /// The current parameters (flat, in [`MlpConfig::layers`] order).
    fn parameters(&self) -> Result<Vec<f32>, crate::Error>;
    /// The global L2 norm of the gradient (every network, before any clip) at each step
    /// trained since the last call, in order; a run that diverged keeps at least the steps
    /// before the first bad one. Both backends record them; a trainer that does not returns none.
    fn take_grad_norms(&mut self) -> Vec<f32> {
        Vec::new()
    }
    /// Steps taken so far.
    fn step(&self) -> u64;
    /// Where it runs, for reports.
    fn device_name(&self) -> String;
}

/// The draw seed of evaluation batches: fixed per run, unrelated to the training draws.
pub fn eval_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_E7A1_0000_0000
}
