//! Many estimates at once: `estimate_many` over pairs of arrays, `estimate_column_pairs` over
//! pairs of column groups of one array (a shard of an MI matrix), `mi_matrix`, and
//! `plan_many`, the grouping into batched runs. Each pair's report is the bits it gets alone.

use infobound::{BatchedRun, Error, Estimator, Matrix, Progress, Report};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrays::{rows_of, Rows};
use crate::errors::{to_py, value_error};
use crate::report::report_dict;
use crate::run::run_cancellable;
use crate::settings::Settings;

/// A progress event of a batched request: the batched run (index into the plan), how many
/// runs the request has, and the library's event.
type RunProgress = (usize, usize, Progress);

/// A pair of the library's views.
type Pair<'a> = (Matrix<'a>, Matrix<'a>);

/// The (rows, columns) of a pair's x and y.
type Shapes = ((usize, usize), (usize, usize));

/// Pairs that failed before any run: (request index, error).
type Failed = Vec<(usize, Error)>;

/// One result a pair, as Python values: the report's dict, or the exception `estimate` would
/// raise for that pair (not raised).
fn outcomes(
    py: Python<'_>,
    results: Vec<Result<Report, Error>>,
    batch: usize,
) -> PyResult<Vec<Py<PyAny>>> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(report) => Ok(report_dict(py, &report, batch)?.into_any().unbind()),
            Err(e) => Ok(to_py(e).into_value(py).into_any()),
        })
        .collect()
}

/// The progress callback's arguments: (run, runs, step, total, steps_per_second, replicas,
/// running, latest_mi_or_None).
fn relay(cb: &Option<Bound<'_, PyAny>>, (run, runs, p): &RunProgress) -> PyResult<()> {
    if let Some(cb) = cb {
        let rate = p.step as f64 / p.seconds.max(1e-9);
        cb.call1((
            *run,
            *runs,
            p.step,
            p.total,
            rate,
            p.replicas,
            p.running,
            p.latest.map(|e| e.mi),
        ))?;
    }
    Ok(())
}

/// Trains `pairs` with `est` off the GIL (Ctrl-C cancels), one result a pair in order. A pair
/// the library cannot view (no columns) fails alone before any run.
fn run_many(
    py: Python<'_>,
    est: Estimator,
    pairs: &[Pair<'_>],
    failed: Failed,
    progress: &Option<Bound<'_, PyAny>>,
) -> PyResult<Vec<Result<Report, Error>>> {
    let token = infobound::CancelToken::new();
    let est = est.with_cancel(Some(token.clone()));
    run_cancellable(
        py,
        token,
        |tx| {
            let runs = est.plan_many(pairs).len();
            let done = est.estimate_many_with_progress(pairs, |run, p| {
                // The receiver outlives the run unless Python is unwinding: a lost event is fine.
                let _ = tx.send((run, runs, *p));
            });
            Ok(merge(done, failed))
        },
        |e: &RunProgress| relay(progress, e),
    )
}

/// The results of the pairs that ran, with `failed` (request index, error) put back in place.
fn merge(ran: Vec<Result<Report, Error>>, failed: Failed) -> Vec<Result<Report, Error>> {
    let total = ran.len() + failed.len();
    let mut failed = failed.into_iter().peekable();
    let mut ran = ran.into_iter();
    (0..total)
        .map(|i| match failed.peek() {
            Some((j, _)) if *j == i => Err(failed.next().expect("peeked").1),
            _ => ran.next().expect("one result a pair that ran"),
        })
        .collect()
}

/// The library's views of `rows`, pairwise; the pairs it refuses to view (no columns) are
/// set aside with their error and their request index.
fn pair_views(rows: &[(Rows, Rows)]) -> (Vec<Pair<'_>>, Failed) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (i, (x, y)) in rows.iter().enumerate() {
        match (x.matrix(), y.matrix()) {
            (Ok(a), Ok(b)) => ok.push((a, b)),
            (Err(e), _) | (_, Err(e)) => failed.push((i, e)),
        }
    }
    (ok, failed)
}

/// Estimates I(X; Y) in nats for every pair `(x, y)` of 2-D float32/float64 arrays, pairs of
/// one shape trained side by side (`Estimator::estimate_many`). Returns one item a pair, in
/// order: the report's dict, or the exception (ValueError / EstimationError) `estimate` would
/// have raised for that pair alone. `settings` is the dict of `estimate`'s keywords; a bad
/// setting raises at once. `progress(run, runs, step, total, steps_per_second, replicas,
/// running, latest_mi)` is called after every block of steps of each batched run.
#[pyfunction]
#[pyo3(signature = (pairs, settings, progress=None))]
pub fn estimate_many(
    py: Python<'_>,
    pairs: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    settings: Settings,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Vec<Py<PyAny>>> {
    let est = settings.estimator()?;
    // Every pair's one copy, made while the GIL is held.
    let rows = pairs
        .iter()
        .enumerate()
        .map(|(i, (x, y))| {
            Ok((
                rows_of(x, &format!("pairs[{i}][0]"))?,
                rows_of(y, &format!("pairs[{i}][1]"))?,
            ))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let (views, failed) = pair_views(&rows);
    let batch = est.batch;
    let results = run_many(py, est, &views, failed, &progress)?;
    outcomes(py, results, batch)
}

/// Columns `cols` of `x`, row-major (one group's matrix).
fn gather(x: &Rows, cols: &[usize]) -> Vec<f32> {
    (0..x.rows)
        .flat_map(|r| cols.iter().map(move |&c| x.data[r * x.cols + c]))
        .collect()
}

/// Estimates Î(group i; group j) in nats for each `(i, j)` of `pairs`, the groups being
/// column lists of the 2-D float array `x` (copied once; each group gathered once), as
/// `estimate_many` does for the pairs of arrays: one item a pair, a report dict or the
/// exception. A shard of an MI matrix: the Python layer has checked the groups.
#[pyfunction]
#[pyo3(signature = (x, groups, pairs, settings, progress=None))]
pub fn estimate_column_pairs(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    groups: Vec<Vec<usize>>,
    pairs: Vec<(usize, usize)>,
    settings: Settings,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Vec<Py<PyAny>>> {
    let est = settings.estimator()?;
    let x = rows_of(x, "x")?;
    let bad = |what: String| value_error(format!("invalid input: column groups: {what}"));
    for (i, g) in groups.iter().enumerate() {
        if let Some(&c) = g.iter().find(|&&c| c >= x.cols) {
            return Err(bad(format!(
                "group {i} names column {c}, but the data have {} columns",
                x.cols
            )));
        }
    }
    if let Some(&(i, j)) = pairs
        .iter()
        .find(|(i, j)| *i >= groups.len() || *j >= groups.len())
    {
        return Err(bad(format!(
            "no group {} (there are {})",
            i.max(j),
            groups.len()
        )));
    }
    let columns: Vec<Option<Rows>> = (0..groups.len())
        .map(|g| {
            pairs.iter().any(|&(i, j)| i == g || j == g).then(|| Rows {
                data: gather(&x, &groups[g]),
                rows: x.rows,
                cols: groups[g].len(),
            })
        })
        .collect();
    let view = |g: usize| columns[g].as_ref().expect("a group of a pair").matrix();
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (k, &(i, j)) in pairs.iter().enumerate() {
        match (view(i), view(j)) {
            (Ok(a), Ok(b)) => ok.push((a, b)),
            (Err(e), _) | (_, Err(e)) => failed.push((k, e)),
        }
    }
    let batch = est.batch;
    let results = run_many(py, est, &ok, failed, &progress)?;
    outcomes(py, results, batch)
}

/// The batched runs `est` makes of pairs of these shapes ((rows, cols) of x, of y), with
/// each run's pairs as request indices. A pair the library cannot view (no columns) is in no
/// run: it fails alone.
fn plan_shapes(est: &Estimator, shapes: &[Shapes]) -> PyResult<Vec<BatchedRun>> {
    // The plan reads shapes only, but the library's views need a slice of each shape: one
    // zeroed buffer of the largest, which the allocator maps lazily and nothing touches.
    let len = |(r, c): (usize, usize)| {
        r.checked_mul(c)
            .ok_or_else(|| value_error(format!("invalid input: a {r} × {c} matrix is too large")))
    };
    let mut largest = 0;
    for &(a, b) in shapes {
        largest = largest.max(len(a)?).max(len(b)?);
    }
    let zeros = vec![0f32; largest];
    let mut index = Vec::new();
    let mut views = Vec::new();
    for (i, &((rx, cx), (ry, cy))) in shapes.iter().enumerate() {
        let view = |r: usize, c: usize| Matrix::new(&zeros[..r * c], r, c);
        if let (Ok(a), Ok(b)) = (view(rx, cx), view(ry, cy)) {
            index.push(i);
            views.push((a, b));
        }
    }
    let mut runs = est.plan_many(&views);
    for run in &mut runs {
        for p in &mut run.pairs {
            *p = index[*p];
        }
    }
    Ok(runs)
}

/// How `estimate_many` groups pairs of these shapes ((rows, cols) of x, of y) into batched
/// runs (`Estimator::plan_many`) under `settings` (checked, as `estimate_many` checks them):
/// a list of dicts (pairs, rows, dims, replicas, text). A pair with no columns is in no run.
#[pyfunction]
pub fn plan_many<'py>(
    py: Python<'py>,
    shapes: Vec<Shapes>,
    settings: Settings,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let est = settings.estimator()?;
    plan_shapes(&est, &shapes)?
        .iter()
        .map(|run| {
            let d = PyDict::new(py);
            d.set_item("pairs", &run.pairs)?;
            d.set_item("rows", run.rows)?;
            d.set_item("dims", run.dims)?;
            d.set_item("replicas", run.replicas)?;
            d.set_item("text", run.to_string())?;
            Ok(d)
        })
        .collect()
}

/// Î(group i; group j) in nats for every unordered pair of column groups of the 2-D float
/// array `x`, all pairs trained at once (`Estimator::mi_matrix`). Returns a dict: groups,
/// values and std_errs (g × g float64, mirrored, NaN on the diagonal and for failed pairs),
/// pairs (one ((i, j), report dict or the error's message) an unordered pair, i < j) and runs
/// (each batched run in words). Bad groups raise ValueError.
#[pyfunction]
#[pyo3(signature = (x, groups, settings, progress=None))]
pub fn mi_matrix<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    groups: Vec<Vec<usize>>,
    settings: Settings,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let est = settings.estimator()?;
    let x = rows_of(x, "x")?;
    let token = infobound::CancelToken::new();
    let est = est.with_cancel(Some(token.clone()));
    let batch = est.batch;
    let g = groups.len();
    // The pairs' shapes, for the progress events' count of runs.
    let runs = {
        let shapes: Vec<_> = (0..g)
            .flat_map(|i| (i + 1..g).map(move |j| (i, j)))
            .map(|(i, j)| ((x.rows, groups[i].len()), (x.rows, groups[j].len())))
            .collect();
        plan_shapes(&est, &shapes)?.len()
    };
    let m = run_cancellable(
        py,
        token,
        |tx| {
            est.mi_matrix_with_progress(x.matrix()?, &groups, |run, p| {
                let _ = tx.send((run, runs, *p));
            })
        },
        |e: &RunProgress| relay(&progress, e),
    )?;
    let out = PyDict::new(py);
    out.set_item("groups", &m.groups)?;
    let square = |v: &[Vec<f64>]| -> PyResult<Bound<'py, PyAny>> {
        let flat: Vec<f64> = v.iter().flatten().copied().collect();
        Ok(PyArray1::from_vec(py, flat).reshape([g, g])?.into_any())
    };
    out.set_item("values", square(&m.values)?)?;
    out.set_item("std_errs", square(&m.std_errs)?)?;
    let pairs = PyList::empty(py);
    for ((i, j), r) in &m.pairs {
        let item: Py<PyAny> = match r {
            Ok(report) => report_dict(py, report, batch)?.into_any().unbind(),
            Err(msg) => msg.into_pyobject(py)?.into_any().unbind(),
        };
        pairs.append(((*i, *j), item))?;
    }
    out.set_item("pairs", pairs)?;
    let runs: Vec<String> = m.runs.iter().map(ToString::to_string).collect();
    out.set_item("runs", runs)?;
    Ok(out)
}
