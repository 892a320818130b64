//! What a training run is, independent of the backend that runs it: the spec, the data it
//! learns from, and the checks both backends make before they upload anything.

use crate::math::bounds::Bound;
use crate::math::critic::{CriticForm, MlpConfig};
use crate::math::optim::AdamConfig;
use crate::math::rng::{Purpose, Stream};
use crate::math::sampling::Transform;

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

/// Where a program's batches come from.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Source {
    /// Rows of a data set of n rows in the X and Y buffers.
    Data {
        /// Rows.
        n: usize,
        /// The data carry a known marginal's log p(y_i) a row (Barber–Agakov, V_MS), gathered
        /// with every batch by [`Op::GatherMarginal`](crate::math::program::Op::GatherMarginal).
        log_marginal: bool,
    },
    /// Fresh correlated-Gaussian samples every step (dx = dy = d), ρ_t read from a schedule
    /// of `steps` entries held in the X buffer, y transformed by `transform`.
    Gaussian {
        /// Entries of the ρ schedule.
        steps: usize,
        /// The invertible map applied to y.
        transform: Transform,
    },
}

/// A run that stopped because a value or a parameter stopped being finite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The first step (0-based) that produced a non-finite number.
    pub step: u64,
    /// The bound value itself was not finite (else a parameter or gradient was).
    pub value: bool,
}

/// The draw seed of evaluation batches: fixed per run, unrelated to the training draws.
pub fn eval_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_E7A1_0000_0000
}

/// Why a spec cannot train on the data or batches given, or an evaluation cannot run: the
/// checks both backends make before anything is uploaded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A max-norm clip that is not a positive finite number.
    #[error("the max gradient norm must be positive and finite, not {value}")]
    MaxGradNorm {
        /// The limit given.
        value: f32,
    },
    /// Gaussian batches need x and y of one width.
    #[error("Gaussian batches need dx = dy > 0, not {dx} and {dy}")]
    GaussianWidths {
        /// Columns of x.
        dx: usize,
        /// Columns of y.
        dy: usize,
    },
    /// A ρ schedule that is empty or has an entry outside (−1, 1).
    #[error("the ρ schedule needs at least one entry, each in (−1, 1)")]
    RhoSchedule,
    /// Flat data whose lengths do not make dx- and dy-column matrices of equal rows.
    #[error("x and y must be non-empty with equal rows")]
    DataShape,
    /// Data of other widths than the spec's critic takes.
    #[error("the critic takes {dx} + {dy} columns; the data has {data_dx} + {data_dy}")]
    Widths {
        /// The spec's x columns.
        dx: usize,
        /// The spec's y columns.
        dy: usize,
        /// The data's x columns.
        data_dx: usize,
        /// The data's y columns.
        data_dy: usize,
    },
    /// A batch of fewer than 2 pairs, or more than the rows.
    #[error("a batch of {batch} needs 2 ≤ batch ≤ rows ({rows})")]
    Batch {
        /// The batch asked for.
        batch: usize,
        /// Rows of the data.
        rows: usize,
    },
    /// A known marginal given for a bound that knows no density.
    #[error(
        "a known marginal log p(y) applies to Barber–Agakov and the multisample bound, not {bound}"
    )]
    MarginalForBound {
        /// The bound's name.
        bound: &'static str,
    },
    /// A known marginal with other than one value a row.
    #[error("{values} log p(y) values for {rows} rows: give one a row")]
    MarginalLength {
        /// Values given.
        values: usize,
        /// Rows of the data.
        rows: usize,
    },
    /// A known marginal value that is NaN or infinite (the row 1-based).
    #[error("log p(y) of row {row} is {value}, not a finite log-density")]
    MarginalNotFinite {
        /// The row, 1-based.
        row: usize,
        /// The value.
        value: f32,
    },
    /// A program that gathers log p(y) from data that carry none.
    #[error("the program gathers log p(y) but none was given")]
    MissingMarginal,
    /// A count that must be positive (steps per submission, evaluation batches).
    #[error("{what} must be at least 1")]
    Zero {
        /// What was zero.
        what: &'static str,
    },
    /// An evaluation asked of a trainer built without evaluation data.
    #[error("this trainer has no evaluation data")]
    NoEvaluationData,
}

/// Checks a per-row `log_marginal` for `bound` over `rows` data rows: fails for a bound that
/// knows no density, a length other than one value a row, or a non-finite value (its 1-based
/// row named).
pub fn check_log_marginal(
    bound: Bound,
    log_marginal: &[f32],
    rows: usize,
) -> Result<(), SpecError> {
    if !bound.knows_a_density() {
        return Err(SpecError::MarginalForBound {
            bound: bound.name(),
        });
    }
    if log_marginal.len() != rows {
        return Err(SpecError::MarginalLength {
            values: log_marginal.len(),
            rows,
        });
    }
    if let Some(i) = log_marginal.iter().position(|v| !v.is_finite()) {
        return Err(SpecError::MarginalNotFinite {
            row: i + 1,
            value: log_marginal[i],
        });
    }
    Ok(())
}

impl TrainSpec {
    /// Checks that this spec can learn from `batches`: the clip, and the data's shapes or the
    /// Gaussian schedule.
    pub fn check_batches(&self, batches: &Batches<'_>) -> Result<(), SpecError> {
        if let Some(m) = self.max_grad_norm {
            if !(m.is_finite() && m > 0.0) {
                return Err(SpecError::MaxGradNorm { value: m });
            }
        }
        match batches {
            Batches::Data(d) => self.check_data(d),
            Batches::Gaussian { rho, .. } => {
                if self.dx != self.dy || self.dx == 0 {
                    return Err(SpecError::GaussianWidths {
                        dx: self.dx,
                        dy: self.dy,
                    });
                }
                if rho.is_empty() || rho.iter().any(|r| r.is_nan() || r.abs() >= 1.0) {
                    return Err(SpecError::RhoSchedule);
                }
                if self.batch < 2 {
                    return Err(SpecError::Batch {
                        batch: self.batch,
                        rows: usize::MAX,
                    });
                }
                Ok(())
            }
        }
    }

    /// Checks that this spec can learn from (or be evaluated on) `data`: shapes, widths, the
    /// batch against the rows, and a known marginal.
    pub fn check_data(&self, data: &TrainData<'_>) -> Result<(), SpecError> {
        let n = data.rows();
        if data.dx == 0
            || data.dy == 0
            || data.y.len() != n * data.dy
            || data.x.len() != n * data.dx
        {
            return Err(SpecError::DataShape);
        }
        if (self.dx, self.dy) != (data.dx, data.dy) {
            return Err(SpecError::Widths {
                dx: self.dx,
                dy: self.dy,
                data_dx: data.dx,
                data_dy: data.dy,
            });
        }
        if self.batch < 2 || self.batch > n {
            return Err(SpecError::Batch {
                batch: self.batch,
                rows: n,
            });
        }
        if let Some(lp) = data.log_marginal {
            check_log_marginal(self.bound, lp, n)?;
        }
        Ok(())
    }
}
