//! Tuning the matrix products, the column sums and the pair kernels: every candidate of the
//! family timed at the shape class a run needs, the fastest kept and cached.

use super::class;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::{GemmGeometry, PairGeometry, ReduceGeometry};
use crate::gpu::kernels::{PairAxis, Strided};
use crate::gpu::timing::GpuTimer;
use crate::math::linalg::{ColumnSumSpec, GemmSpec};

/// One candidate's time.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed<G> {
    /// The candidate.
    pub geometry: G,
    /// Median seconds per run at the tuning shape; `None` when abandoned (its first run was
    /// more than four times the best) or refused by the adapter.
    pub seconds: Option<f64>,
    /// Why it has no time, if it has none.
    pub note: Option<String>,
}

/// The result of tuning one family at one shape class.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyTable<G> {
    /// The family ("gemm", "column sums", "pairs").
    pub family: &'static str,
    /// The shape class, in the cache's order for the family.
    pub shape: Vec<usize>,
    /// Every candidate's time.
    pub rows: Vec<Timed<G>>,
    /// The fastest candidate (the rule if none ran).
    pub chosen: G,
}

/// The most elements one tuning operand holds, and the most multiply-adds a tuned product
/// does: larger shapes keep the ranking measured at the cap (and a shape's tuning stays
/// milliseconds on a GPU).
const MAX_OPERAND: usize = 1 << 20;
const MAX_PRODUCT: usize = 1 << 24;

/// A matrix product's shape class: m, n, k rounded up to powers of two, the largest halved
/// until the operands and the work fit the caps; then whether A and B are transposed.
pub(crate) fn gemm_class(spec: &GemmSpec) -> Vec<usize> {
    let mut d = [
        class(spec.m, 1, 1 << 16),
        class(spec.n, 1, 1 << 16),
        class(spec.k, 1, 1 << 17),
    ];
    let fits = |[m, n, k]: [usize; 3]| {
        m * n * k <= MAX_PRODUCT
            && m * k <= MAX_OPERAND
            && k * n <= MAX_OPERAND
            && m * n <= MAX_OPERAND
    };
    while !fits(d) {
        let largest = (0..3).max_by_key(|&i| (d[i], i)).expect("three sizes");
        d[largest] /= 2;
    }
    vec![
        d[0],
        d[1],
        d[2],
        usize::from(spec.trans_a),
        usize::from(spec.trans_b),
    ]
}

/// The column sums' shape class: rows and columns rounded up to powers of two, rows halved
/// until the input fits the cap.
pub(crate) fn column_class(rows: usize, cols: usize) -> Vec<usize> {
    let cols = class(cols, 1, 1 << 10);
    let mut rows = class(rows, 64, 1 << 20);
    while rows * cols > MAX_OPERAND {
        rows /= 2;
    }
    vec![rows, cols]
}

/// The pair kernels' shape class: K and the width rounded up to powers of two, K halved
/// until the K² pair rows fit the cap.
pub(crate) fn pair_class(k: usize, width: usize) -> Vec<usize> {
    let width = class(width, 1, 1 << 8);
    let mut k = class(k, 16, 1 << 12);
    while k * k * width > MAX_OPERAND {
        k /= 2;
    }
    vec![k, width]
}

/// Deterministic small values for tuning operands.
pub(crate) fn noise(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i.wrapping_mul(2_654_435_761) % 1000) as f32 / 1000.0 - 0.5) * 0.1)
        .collect()
}

/// Times each candidate's launches: refused ones (`validate`, or the launch itself) get a
/// note; after a warm-up (the pipelines compile at their first dispatch) one run, and a
/// candidate more than four times the best so far is abandoned; the others the median of
/// three. Returns every row and the fastest (seconds, candidate).
pub(crate) fn time_candidates<G: Copy>(
    timer: &GpuTimer<'_>,
    candidates: Vec<G>,
    validate: impl Fn(G) -> Result<(), GpuError>,
    mut launches: impl FnMut(G) -> Result<Vec<Dispatch>, GpuError>,
) -> Result<Timings<G>, GpuError> {
    let mut rows = Vec::new();
    let mut best: Option<(f64, G)> = None;
    for cand in candidates {
        let refused = |note: String| Timed {
            geometry: cand,
            seconds: None,
            note: Some(note),
        };
        let d = match validate(cand).and_then(|()| launches(cand)) {
            Ok(d) => d,
            Err(err) => {
                rows.push(refused(err.to_string()));
                continue;
            }
        };
        let first = timer.time(&d, 1, 1, 1)?.median;
        if let Some((b, _)) = best {
            if first > 4.0 * b {
                rows.push(refused(format!(
                    "abandoned: first run {:.3} ms",
                    first * 1e3
                )));
                continue;
            }
        }
        let t = timer.time(&d, 1, 0, 3)?.median;
        if best.is_none_or(|(b, _)| t < b) {
            best = Some((t, cand));
        }
        rows.push(Timed {
            geometry: cand,
            seconds: Some(t),
            note: None,
        });
    }
    Ok(Timings { rows, best })
}

/// What [`time_candidates`] measured: every candidate's row, and the fastest (seconds,
/// candidate).
pub(crate) struct Timings<G> {
    pub rows: Vec<Timed<G>>,
    pub best: Option<(f64, G)>,
}

impl GpuContext {
    /// Tunes the matrix products at `spec`'s shape class now and caches the choice.
    pub fn tune_gemm_at(&self, spec: &GemmSpec) -> Result<FamilyTable<GemmGeometry>, GpuError> {
        self.tune_gemm(&gemm_class(spec))
    }

    pub(super) fn tune_gemm(&self, shape: &[usize]) -> Result<FamilyTable<GemmGeometry>, GpuError> {
        let [m, n, k, ta, tb] = shape else {
            unreachable!("a gemm class has five entries")
        };
        let (m, n, k) = (*m, *n, *k);
        let spec = GemmSpec::dense(m, n, k, *ta == 1, *tb == 1);
        let a = self.upload("tuning A", &noise(m * k))?;
        let b = self.upload("tuning B", &noise(k * n))?;
        let c = self.zeros("tuning C", m * n)?;
        let limits = self.limits();
        let timer = GpuTimer::new(self);
        let Timings { rows, best } = time_candidates(
            &timer,
            GemmGeometry::candidates(),
            |g| {
                g.validate(
                    limits.max_compute_invocations_per_workgroup,
                    limits.max_compute_workgroup_storage_size,
                )
            },
            |g| self.gemm_launches_with(&spec, [&a, &b, &c], None, None, g),
        )?;
        let chosen = best.map_or(self.rule_geometry().gemm, |(_, g)| g);
        self.finish("gemm", shape, rows, best, chosen)
    }

    /// Tunes the column sums at `rows` × `cols` (their shape class) now and caches the choice.
    pub fn tune_column_sums_at(
        &self,
        rows: usize,
        cols: usize,
    ) -> Result<FamilyTable<ReduceGeometry>, GpuError> {
        self.tune_column_sums(&column_class(rows, cols))
    }

    pub(super) fn tune_column_sums(
        &self,
        shape: &[usize],
    ) -> Result<FamilyTable<ReduceGeometry>, GpuError> {
        let [rows, cols] = *shape else {
            unreachable!("a column-sum class has two entries")
        };
        let spec = ColumnSumSpec::dense(rows, cols, 0);
        let src = self.upload("tuning column input", &noise(rows * cols))?;
        let out = self.zeros("tuning column sums", cols)?;
        let max_wg = self.limits().max_compute_invocations_per_workgroup;
        let rule = self.rule_geometry().reductions;
        let timer = GpuTimer::new(self);
        let Timings { rows: timed, best } = time_candidates(
            &timer,
            ReduceGeometry::candidates(rule),
            |g| g.validate(max_wg),
            |g| self.column_sum_launches_with(&spec, &src, &out, g),
        )?;
        let chosen = best.map_or(rule, |(_, g)| g);
        self.finish("column sums", shape, timed, best, chosen)
    }

    /// Tunes the pair kernels at K and `width` (their shape class) now and caches the choice.
    pub fn tune_pairs_at(
        &self,
        k: usize,
        width: usize,
    ) -> Result<FamilyTable<PairGeometry>, GpuError> {
        self.tune_pairs(&pair_class(k, width))
    }

    pub(super) fn tune_pairs(
        &self,
        shape: &[usize],
    ) -> Result<FamilyTable<PairGeometry>, GpuError> {
        let [k, w] = *shape else {
            unreachable!("a pair class has two entries")
        };
        let u = self.upload("tuning U", &noise(k * w))?;
        let v = self.upload("tuning V", &noise(k * w))?;
        let pairs = self.zeros("tuning pairs", k * k * w)?;
        let du = self.zeros("tuning dU", k * w)?;
        let dv = self.zeros("tuning dV", k * w)?;
        let max_wg = self.limits().max_compute_invocations_per_workgroup;
        let timer = GpuTimer::new(self);
        let s = Strided::shared;
        // A step's pair work: the expansion, then both sums (here over the activations).
        let Timings { rows: timed, best } = time_candidates(
            &timer,
            PairGeometry::candidates(),
            |g| g.validate(max_wg),
            |g| {
                Ok(vec![
                    self.pair_expand_replicated(1, k, w, [s(&u), s(&v), s(&pairs)], g)?,
                    self.pair_reduce_replicated(1, PairAxis::Rows, k, w, s(&pairs), s(&du), g)?,
                    self.pair_reduce_replicated(1, PairAxis::Cols, k, w, s(&pairs), s(&dv), g)?,
                ])
            },
        )?;
        let chosen = best.map_or(self.rule_geometry().pairs, |(_, g)| g);
        self.finish("pairs", shape, timed, best, chosen)
    }

    /// Caches a family's choice and returns its table.
    fn finish<G: Copy + serde::Serialize>(
        &self,
        family: &'static str,
        shape: &[usize],
        rows: Vec<Timed<G>>,
        best: Option<(f64, G)>,
        chosen: G,
    ) -> Result<FamilyTable<G>, GpuError> {
        let seconds = best.map_or(f64::NAN, |(t, _)| t);
        self.remember(vec![self.entry(family, shape.to_vec(), &chosen, seconds)]);
        Ok(FamilyTable {
            family,
            shape: shape.to_vec(),
            rows,
            chosen,
        })
    }
}
