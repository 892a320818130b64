//! One pair's data made ready to train (SPEC §6): checked, split into training rows and the
//! two held-out parts under the run's seed, every column mapped by the marginal transform
//! fitted on the training rows, and the known marginal's log-densities picked for each part.

use crate::backend::{HeldOut, HeldOutParts};
use crate::estimate::data::Matrix;
use crate::estimate::estimator::Estimator;
use crate::estimate::marginal::FittedMarginals;
use crate::estimate::split::Rows;
use crate::math::spec::{TrainData, TrainSpec};
use crate::Error;

/// One part of the rows, transformed: x and y row-major, and log p(y) for the known-density
/// bounds.
pub(crate) struct Part {
    x: Vec<f32>,
    y: Vec<f32>,
    log_marginal: Option<Vec<f32>>,
}

/// A pair's data ready to train and evaluate.
pub(crate) struct Prepared {
    /// Rows of the data given.
    pub(crate) n: usize,
    /// Columns of x and y.
    pub(crate) dims: (usize, usize),
    /// Rows of the selection and report parts.
    pub(crate) held: (usize, usize),
    train: Part,
    select: Part,
    report: Part,
    /// What the transforms found (mostly tied columns).
    pub(crate) warnings: Vec<String>,
}

impl Prepared {
    /// The training rows.
    pub(crate) fn train(&self) -> TrainData<'_> {
        self.data(&self.train)
    }

    /// Whether both held-out parts have rows.
    pub(crate) fn has_held_out(&self) -> bool {
        self.held.0 > 0 && self.held.1 > 0
    }

    /// The held-out parts, evaluated as `part` says (whole, or in batches), if there are any.
    pub(crate) fn held_out<'a>(
        &'a self,
        part: impl Fn(TrainData<'a>) -> HeldOut<'a>,
    ) -> Option<HeldOutParts<'a>> {
        self.has_held_out().then(|| {
            HeldOutParts::new(part(self.data(&self.select)), part(self.data(&self.report)))
        })
    }

    fn data<'a>(&'a self, p: &'a Part) -> TrainData<'a> {
        TrainData {
            x: &p.x,
            dx: self.dims.0,
            y: &p.y,
            dy: self.dims.1,
            log_marginal: p.log_marginal.as_deref(),
        }
    }
}

// A method, not a free function: the estimator calls it without importing this module, so
// the arrow runs one way (prepared → estimator).
impl Estimator {
    /// Checks `x` and `y` with every setting, splits the rows under `seed`, and maps every
    /// column with the transform fitted on the training rows.
    pub(crate) fn prepare(
        &self,
        x: Matrix<'_>,
        y: Matrix<'_>,
        seed: u64,
    ) -> Result<Prepared, Error> {
        self.check_inputs(&x, &y)?;
        let n = x.rows();
        let rows = Rows::split(n, self.test_fraction, seed);
        let mut warnings = Vec::new();
        let (tx, wx) = FittedMarginals::fit(&x, &rows.train, self.transform, "x")?;
        // Barber–Agakov's p(y) is a density of y as given: y is not transformed for it.
        let (ty, wy) = if self.bound.knows_a_density() {
            (FittedMarginals::identity(y.cols()), Vec::new())
        } else {
            FittedMarginals::fit(&y, &rows.train, self.transform, "y")?
        };
        warnings.extend(wx.into_iter().chain(wy));
        let marginal = |part: &[usize]| {
            crate::estimate::known_marginal::split(
                self.bound,
                self.log_marginal.as_deref(),
                n,
                (&rows.train, part),
            )
        };
        let (lp_select, lp_report) = (marginal(&rows.select)?, marginal(&rows.report)?);
        let part = |r: &[usize], lp: Option<Vec<f32>>| Part {
            x: tx.apply(&x, r),
            y: ty.apply(&y, r),
            log_marginal: lp,
        };
        let lp_train = lp_select.as_ref().map(|(t, _)| t.clone());
        Ok(Prepared {
            n,
            dims: (x.cols(), y.cols()),
            held: (rows.select.len(), rows.report.len()),
            train: part(&rows.train, lp_train),
            select: part(&rows.select, lp_select.map(|(_, p)| p)),
            report: part(&rows.report, lp_report.map(|(_, p)| p)),
            warnings,
        })
    }

    /// The pair prepared under each of [`Self::replica_seeds`], with the training spec of that
    /// seed: the jobs of this estimator's replicas. Replica r's split is drawn under its own
    /// seed, as a solo run with that seed draws it.
    pub(crate) fn prepare_seeds(
        &self,
        x: Matrix<'_>,
        y: Matrix<'_>,
    ) -> Result<Vec<(Prepared, TrainSpec)>, Error> {
        self.replica_seeds()
            .into_iter()
            .map(|s| {
                let spec = self.train_spec(x.cols(), y.cols()).with_seed(s);
                self.prepare(x, y, s).map(|p| (p, spec))
            })
            .collect()
    }
}
