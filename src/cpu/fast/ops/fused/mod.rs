//! The separable critic's bound without its K×K score matrix (`Op::FusedBound`), as the
//! device's fused kernels: S = G·Hᵀ is formed a block of rows at a time, read, and
//! dropped, so a step needs O(K·e) memory (plus a block) instead of S and dS. Each block's dS
//! gives its rows of dG = dS·H at once and a share of dH = dSᵀ·G, added into its group's
//! partial; the groups' partials are added in group order.
//!
//! - InfoNCE needs one sweep (a row's gradient needs that row alone).
//! - The joint-against-negatives bounds ([`pos_neg`]) need the negatives' maximum first, then
//!   their sums, and the bounds whose gradient depends on the sums (DV, MINE) a third sweep:
//!   S is formed two or three times, as the device recomputes it. TUBA's baseline gradient
//!   takes column statistics along, kept a group at a time.
//! - α-InfoNCE's statistics are column statistics ([`alpha`]): it sweeps Sᵀ = H·Gᵀ, whose
//!   rows are S's columns, once.
//!
//! The leave-one-out statistic keeps the materialised path.

mod alpha;
mod columns;
mod pos_neg;

use std::ops::Range;

pub use crate::cpu::interp::FusedBaseline;

use super::bounds::{info_nce_rows_at, BoundValue, Scores};
use super::gemm::gemm;
use crate::cpu::fast::pool::Pool;
use crate::cpu::fast::simd::level;
use crate::math::bounds::Bound;
use crate::math::linalg::GemmSpec;

/// Scores a block of rows holds, about (a block has at least 8 rows).
const BLOCK_SCORES: usize = 1 << 16;
/// Most groups of blocks (each keeps a K×e partial of dH).
const MAX_GROUPS: usize = 16;

/// Whether the fused path takes `bound` (else the program materialises S for it).
pub fn fused_supported(bound: Bound) -> bool {
    matches!(
        bound,
        Bound::InfoNce
            | Bound::Nwj
            | Bound::Tuba
            | Bound::Dv
            | Bound::Mine { .. }
            | Bound::Js
            | Bound::Smile { .. }
            | Bound::AlphaInfoNce { .. }
            | Bound::LautumDv
            | Bound::LautumNwj
    )
}

/// The blocks and groups of a K×K matrix, fixed by K alone.
#[derive(Clone, Copy)]
struct Layout {
    k: usize,
    e: usize,
    /// Rows a block.
    rows: usize,
    /// Rows a group (whole blocks).
    per_group: usize,
    /// Groups.
    groups: usize,
}

impl Layout {
    fn new(k: usize, e: usize) -> Self {
        let rows = (BLOCK_SCORES / k).clamp(8, k.max(8)).min(k);
        let blocks = k.div_ceil(rows);
        let per_group = blocks.div_ceil(blocks.min(MAX_GROUPS)) * rows;
        Self {
            k,
            e,
            rows,
            per_group,
            groups: k.div_ceil(per_group),
        }
    }

    fn group(&self, g: usize) -> Range<usize> {
        g * self.per_group..((g + 1) * self.per_group).min(self.k)
    }
}

/// The towers' outputs: S = G·Hᵀ (K×e each).
#[derive(Clone, Copy)]
struct Towers<'a> {
    g: &'a [f32],
    h: &'a [f32],
}

impl<'a> Towers<'a> {
    /// The towers of Sᵀ = H·Gᵀ, whose rows are S's columns.
    fn transposed(self) -> Self {
        Self {
            g: self.h,
            h: self.g,
        }
    }
}

/// Visits every block of S in order within each group (the groups over the pool): `f(rows,
/// S block, dS block)` reads the block and, when `dgh` asks for gradients, writes its dS,
/// from which the block's rows of dG and its share of dH are formed (without `dgh` the dS
/// block is scratch). Returns `f`'s results, group by group, block by block.
fn sweep<R: Send>(
    pool: &Pool,
    x: Layout,
    t: Towers<'_>,
    dgh: Option<(&mut [f32], &mut [f32])>,
    f: impl Fn(Range<usize>, &[f32], &mut [f32]) -> R + Sync + Send,
) -> Vec<R> {
    sweep_with(pool, x, t, dgh, || (), |_, r, s, ds| f(r, s, ds)).0
}

/// [`sweep`] with a state each group keeps across its blocks (made by `init`, passed to `f`
/// with each block, returned group by group): per-column partial statistics, which a block
/// of rows cannot finish alone. Combining the groups' states in group order keeps every sum
/// fixed by K alone.
fn sweep_with<A: Send, R: Send>(
    pool: &Pool,
    x: Layout,
    t: Towers<'_>,
    dgh: Option<(&mut [f32], &mut [f32])>,
    init: impl Fn() -> A + Sync + Send,
    f: impl Fn(&mut A, Range<usize>, &[f32], &mut [f32]) -> R + Sync + Send,
) -> (Vec<R>, Vec<A>) {
    let (k, e) = (x.k, x.e);
    let work = 2 * k * k * e;
    let serial = Pool::new(1);
    let group = |gi: usize, dg: Option<&mut [f32]>| -> (Vec<R>, A, Vec<f32>) {
        let rows_g = x.group(gi);
        let mut state = init();
        let mut s = vec![0.0f32; x.rows * k];
        let mut ds = vec![0.0f32; x.rows * k];
        let (mut dh, mut share) = match dg {
            Some(_) => (vec![0.0f32; k * e], vec![0.0f32; k * e]),
            None => (Vec::new(), Vec::new()),
        };
        let mut dg = dg;
        let mut out = Vec::new();
        for r0 in rows_g.clone().step_by(x.rows) {
            let r = r0..(r0 + x.rows).min(rows_g.end);
            let m = r.len();
            let spec = GemmSpec {
                a_off: r0 * e,
                ..GemmSpec::dense(m, k, e, false, true)
            };
            gemm(&serial, &spec, t.g, t.h, &mut s[..m * k], None, None);
            out.push(f(&mut state, r.clone(), &s[..m * k], &mut ds[..m * k]));
            if let Some(dg) = dg.as_deref_mut() {
                let at = (r0 - rows_g.start) * e;
                let rows_of_dg = GemmSpec::dense(m, e, k, false, false);
                gemm(
                    &serial,
                    &rows_of_dg,
                    &ds,
                    t.h,
                    &mut dg[at..at + m * e],
                    None,
                    None,
                );
                let dh_share = GemmSpec {
                    b_off: r0 * e,
                    ..GemmSpec::dense(k, e, m, true, false)
                };
                gemm(&serial, &dh_share, &ds, t.g, &mut share, None, None);
                for (d, v) in dh.iter_mut().zip(&share) {
                    *d += v;
                }
            }
        }
        (out, state, dh)
    };
    let parts = match dgh {
        Some((dg, dh)) => {
            let parts = pool.map_chunks_mut(&mut dg[..k * e], x.per_group * e, work, |gi, c| {
                group(gi, Some(c))
            });
            let dh = &mut dh[..k * e];
            dh.fill(0.0);
            for (_, _, p) in &parts {
                for (d, v) in dh.iter_mut().zip(p) {
                    *d += v;
                }
            }
            parts
        }
        None => pool.map(x.groups, work, |gi| group(gi, None)),
    };
    let mut out = Vec::new();
    let mut states = Vec::with_capacity(parts.len());
    for (o, state, _) in parts {
        out.extend(o);
        states.push(state);
    }
    (out, states)
}

/// The block of S holding rows `r`.
fn block<'a>(r: &Range<usize>, s: &'a [f32], k: usize) -> Scores<'a> {
    Scores {
        s,
        base: r.start,
        k,
    }
}

/// `bound` ([`fused_supported`]) on S = G·Hᵀ (G and H K×e), never stored: the value, and
/// with `grads` d(−L)/dG and d(−L)/dH (K×e each); with a `baseline` (TUBA, α-InfoNCE; no
/// other bound takes one) d(−L)/db where it asks. `prev_log_ema` is MINE's log m_{t−1}.
///
/// Panics for K < 2, an unsupported bound, a baseline where none belongs (or none where one
/// does), or buffers shorter than K×e (or K for the baseline).
#[allow(clippy::too_many_arguments)]
pub fn fused_bound(
    pool: &Pool,
    bound: Bound,
    k: usize,
    e: usize,
    g: &[f32],
    h: &[f32],
    grads: Option<(&mut [f32], &mut [f32])>,
    baseline: Option<FusedBaseline<'_>>,
    prev_log_ema: Option<f64>,
) -> BoundValue {
    assert!(k >= 2, "the score matrix needs K ≥ 2 (off-diagonal terms)");
    assert!(fused_supported(bound), "{bound:?} has no fused path");
    assert!(g.len() >= k * e && h.len() >= k * e, "G and H are K×e");
    assert_eq!(
        bound.needs_baseline(),
        baseline.is_some(),
        "{bound:?}: baseline"
    );
    if let Some(b) = &baseline {
        let short = b.grad.as_ref().is_some_and(|d| d.len() < k);
        assert!(b.values.len() >= k && !short, "the baseline holds K values");
    }
    let x = Layout::new(k, e);
    let t = Towers { g, h };
    match (bound, baseline) {
        (Bound::InfoNce, _) => info_nce(pool, x, t, grads),
        (Bound::AlphaInfoNce { alpha }, Some(b)) => alpha::bound(pool, x, t, grads, b, alpha),
        (_, b) => pos_neg::bound(pool, bound, x, t, grads, b, prev_log_ema),
    }
}

/// InfoNCE: each row's value and gradient from that row alone, in one sweep.
fn info_nce(
    pool: &Pool,
    x: Layout,
    t: Towers<'_>,
    grads: Option<(&mut [f32], &mut [f32])>,
) -> BoundValue {
    let (k, level) = (x.k, level());
    let terms = sweep(pool, x, t, grads, |r, s, ds| {
        info_nce_rows_at(level, block(&r, s, k), r.start, ds)
    });
    let value = (k as f64).ln() + terms.iter().sum::<f64>() / k as f64;
    BoundValue {
        value,
        objective: value,
        log_ema: f64::NAN,
    }
}
