//! What an estimate returns: the report, its evaluations, the progress a running estimate
//! passes its callback, and a seed ensemble's spread.

use crate::estimate::diagnostics::Diagnostic;
use crate::estimate::marginal::MarginalTransform;
use crate::estimate::readout::CrossCheck;
use crate::estimate::runaway::Runaway;

/// One evaluation on the selection half of the held-out rows (the step is chosen among them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Training steps taken when it ran.
    pub step: u64,
    /// Mean bound value over the evaluation batches, nats.
    pub mi: f64,
    /// Standard error of that mean, nats.
    pub std_err: f64,
}

/// Where a running estimate stands: what [`Estimator::estimate_with_progress`] passes its
/// callback.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Training steps taken.
    pub step: u64,
    /// Most training steps (the run may stop earlier with patience).
    pub total: u64,
    /// The bound's value at the last training step, nats.
    pub train_value: Option<f32>,
    /// The evaluation just made on the selection half of the held-out rows (none without them).
    pub latest: Option<Evaluation>,
    /// Wall time since training began, seconds.
    pub seconds: f64,
    /// Replicas trained in this run (1 for a single estimate).
    pub replicas: usize,
    /// Of those, the ones still training.
    pub running: usize,
}

/// The outcome of an estimate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The estimate, nats: the critic of the step chosen on one part of the held-out rows,
    /// read once on the other part (no selection bias; [`crate::estimate::readout`]), or the
    /// mean of the last training steps without held-out rows.
    pub mi: f64,
    /// Its standard error, nats: the sampling and optimisation errors in quadrature, so that
    /// `mi − 2·std_err` is a lower confidence bound that holds (docs/suite.md).
    pub std_err: f64,
    /// The sampling part of `std_err`: the report part's batch (or row-block) spread, widened
    /// when its batches overlap.
    pub std_err_sampling: f64,
    /// The optimisation part of `std_err`: the critic's own jitter between consecutive
    /// evaluations of the same batches (0 without held-out rows).
    pub std_err_optimisation: f64,
    /// The most the bound can read at the read-out's K (InfoNCE: ln K), nats.
    pub ceiling: Option<f64>,
    /// How the report part was read: as one batch (the separable critic on a GPU; K = its
    /// rows, standard error from row blocks) or in batches.
    pub evaluation: String,
    /// How the reported step was chosen, and on which rows it was read.
    pub selection: String,
    /// The step whose critic is reported (`None` without held-out rows).
    pub chosen_step: Option<u64>,
    /// The InfoNCE read-out of the same critic over every pair of the report part
    /// ([`CrossCheck`]); `None` where none exists (`cross_check_note` says why).
    pub cross_check: Option<CrossCheck>,
    /// The cross-check in words, or why there is none.
    pub cross_check_note: String,
    /// How every column was mapped before training (y kept as given for a known-density
    /// bound).
    pub transform: MarginalTransform,
    /// The bound's name.
    pub bound: &'static str,
    /// The critic's form.
    pub critic: &'static str,
    /// Rows used (train + test).
    pub n: usize,
    /// Of those, rows held out for evaluation (the selection and the report parts).
    pub n_test: usize,
    /// Of those, the report part's rows, which the estimate is read on.
    pub n_report: usize,
    /// Columns of x and of y.
    pub dims: (usize, usize),
    /// The bound's value at every training step, nats.
    pub train_curve: Vec<f32>,
    /// Every evaluation on the selection part of the held-out rows.
    pub test_curve: Vec<Evaluation>,
    /// Training steps taken (fewer than asked when early stopping fired).
    pub steps: u64,
    /// The device that trained the critic.
    pub device: String,
    /// Why that device: the rule of [`DeviceChoice::Auto`] or the explicit choice.
    pub device_reason: String,
    /// On a GPU, the kernel geometry each family used and why ("fused forward: 4×4 wg64
    /// (tuned)"; [`crate::gpu::geometry`]); empty on the CPU. The same seed on the same adapter
    /// with the same geometry gives the same bits.
    pub geometry: Vec<String>,
    /// Wall time of training and evaluation, seconds.
    pub seconds: f64,
    /// Training steps per second.
    pub steps_per_second: f64,
    /// The global L2 norm of the critic's gradient at every training step (before any clip).
    pub grad_norms: Vec<f32>,
    /// Where the run ran away, if it did ([`crate::estimate::runaway`]): `mi` then comes only from
    /// evaluations made before that step, and `warnings` says so.
    pub runaway: Option<Runaway>,
    /// What the curves say about the estimate ([`crate::estimate::diagnostics`]): still rising, fallen
    /// from its best, or overfitting. Each is also in `warnings`, with its remedy.
    pub diagnostics: Vec<Diagnostic>,
    /// The seed this estimate ran with (its split, initialisation and draws).
    pub seed: u64,
    /// Where [`crate::Estimator::estimate_many`] put this pair: its batched run and its
    /// replica in it; `None` for a single estimate.
    pub batched: Option<String>,
    /// A seed ensemble's spread ([`crate::Estimator::with_replicas`]); `mi` and `std_err`
    /// are then the ensemble's, and the curves the first seed's.
    pub ensemble: Option<Ensemble>,
    /// Things the user should know (a CPU fallback, a software adapter, a capped bound, a
    /// runaway, a mostly tied column, a diagnostic).
    pub warnings: Vec<String>,
}

/// The same estimate under several seeds, trained side by side: the spread across seeds
/// shows the optimisation's variance (and the split's), which no single run's standard error
/// can.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Ensemble {
    /// The seeds (the estimator's seed, plus 0, 1, 2, …).
    pub seeds: Vec<u64>,
    /// Each seed's estimate, nats (NaN where it failed).
    pub estimates: Vec<f64>,
    /// Each seed's standard error, nats (NaN where it failed).
    pub std_errs: Vec<f64>,
    /// Why a seed failed, where one did.
    pub errors: Vec<Option<String>>,
    /// The mean of the estimates that finished, nats.
    pub mean: f64,
    /// Their sample standard deviation, nats (NaN with fewer than two).
    pub sd: f64,
}

impl Ensemble {
    /// Seeds that finished.
    pub fn finished(&self) -> usize {
        self.errors.iter().filter(|e| e.is_none()).count()
    }
}

impl Report {
    /// The report of one job's replicas (one a seed, in order): the report itself for one
    /// seed, else [`Self::of_ensemble`].
    pub(crate) fn of_seeds(
        seeds: &[u64],
        mut reports: Vec<Result<Report, crate::Error>>,
    ) -> Result<Report, crate::Error> {
        match reports.len() {
            1 => reports.pop().expect("one seed, one report"),
            _ => Report::of_ensemble(seeds, reports),
        }
    }

    /// One report for a seed ensemble: the first finished seed's report with `mi` the mean
    /// over the finished seeds and `std_err` that mean's error: the seeds' sampling error
    /// (their root mean square: the seeds share the data, so it does not average away) and
    /// the spread across seeds over √m (or the runs' own optimisation jitter over √m, if
    /// larger), in quadrature. Fails only when every seed failed (with the first error).
    pub(crate) fn of_ensemble(
        seeds: &[u64],
        reports: Vec<Result<Report, crate::Error>>,
    ) -> Result<Report, crate::Error> {
        let errors: Vec<Option<String>> = reports
            .iter()
            .map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        let ok: Vec<&Report> = reports.iter().filter_map(|r| r.as_ref().ok()).collect();
        let Some(&first) = ok.first() else {
            let first_err = reports.into_iter().find_map(Result::err);
            return Err(first_err.expect("an ensemble has at least one seed"));
        };
        let m = ok.len() as f64;
        let rms = |f: fn(&Report) -> f64| (ok.iter().map(|r| f(r).powi(2)).sum::<f64>() / m).sqrt();
        let mean = ok.iter().map(|r| r.mi).sum::<f64>() / m;
        let sd = match ok.len() {
            1 => f64::NAN,
            _ => (ok.iter().map(|r| (r.mi - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt(),
        };
        let sampling = rms(|r| r.std_err_sampling);
        let jitter = rms(|r| r.std_err_optimisation);
        let optimisation = (if sd.is_nan() { jitter } else { sd.max(jitter) }) / m.sqrt();
        let mut out = first.clone();
        out.mi = mean;
        out.std_err_sampling = sampling;
        out.std_err_optimisation = optimisation;
        out.std_err = sampling.hypot(optimisation);
        for (seed, (r, e)) in seeds.iter().zip(reports.iter().zip(&errors)) {
            match (r, e) {
                (Err(_), Some(e)) => out.warnings.push(format!(
                    "seed {seed} failed ({e}); the ensemble is the mean of the {} seeds that \
                     finished",
                    ok.len()
                )),
                (Ok(r), _) if r.seed != first.seed => {
                    for w in &r.warnings {
                        if !first.warnings.contains(w) {
                            out.warnings.push(format!("seed {seed}: {w}"));
                        }
                    }
                }
                _ => {}
            }
        }
        if sd > 3.0 * sampling {
            out.warnings.push(format!(
                "the seeds disagree: their estimates spread by {sd:.3} nats (standard \
                 deviation), more than 3 × their sampling error {sampling:.3}; the optimisation, \
                 not the data, limits this estimate: train longer, or lower the learning rate"
            ));
        }
        let pick = |f: fn(&Report) -> f64| -> Vec<f64> {
            reports
                .iter()
                .map(|r| r.as_ref().map_or(f64::NAN, f))
                .collect()
        };
        out.ensemble = Some(Ensemble {
            seeds: seeds.to_vec(),
            estimates: pick(|r| r.mi),
            std_errs: pick(|r| r.std_err),
            errors,
            mean,
            sd,
        });
        Ok(out)
    }

    /// The estimate in bits.
    pub fn mi_bits(&self) -> f64 {
        self.mi / std::f64::consts::LN_2
    }
}

/// Mean, and its standard error from the means of up to 10 consecutive blocks (successive
/// training values are correlated, so the naive σ/√n would understate it).
pub fn mean_and_batch_se(values: &[f32]) -> (f64, f64) {
    let n = values.len();
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let blocks = n.min(10);
    if blocks < 2 {
        return (mean, f64::NAN);
    }
    let size = n / blocks;
    let means: Vec<f64> = (0..blocks)
        .map(|b| {
            let block = &values[b * size..(b + 1) * size];
            block.iter().map(|&v| f64::from(v)).sum::<f64>() / size as f64
        })
        .collect();
    let mm = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|m| (m - mm).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    (mean, (var / blocks as f64).sqrt())
}
