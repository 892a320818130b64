//! The joint-against-negatives bounds on the fused path (NWJ, TUBA, DV, MINE, JS, SMILE and
//! the two Lautum bounds): joint scores S_ii − b_i against the off-diagonal S_ij − b_j, b the
//! learned baseline for TUBA and 0 otherwise, as the materialised op computes them.
//!
//! The first sweep finds the negatives' maximum (every exponent below is shifted by it), the
//! second adds their sums. Where the gradient needs none of the sums (all but DV and MINE)
//! the second sweep writes it too; DV and MINE take a third.

use super::columns::{baseline_grad, column_max_at, column_sums_at, maxima};
use super::{block, sweep, sweep_with, FusedBaseline, Layout, Towers};
use crate::cpu::fast::ops::bounds::{
    dpos_for, fill_rows_at, finish, js_pass_at, neg_max_at, neg_sums_at, BoundValue, Dneg, NegSums,
    Wanted,
};
use crate::cpu::fast::pool::Pool;
use crate::cpu::fast::simd::level;
use crate::math::bounds::Bound;

/// `bound` on S = G·Hᵀ through the sweeps; with a baseline that asks for it (TUBA's, in a
/// training step) its gradient from column statistics the first two sweeps take along.
pub(super) fn bound(
    pool: &Pool,
    bound: Bound,
    x: Layout,
    t: Towers<'_>,
    mut grads: Option<(&mut [f32], &mut [f32])>,
    baseline: Option<FusedBaseline<'_>>,
    prev_log_ema: Option<f64>,
) -> BoundValue {
    let k = x.k;
    let level = level();
    let zeros;
    let (b, db) = match baseline {
        Some(bl) => (&bl.values[..k], bl.grad),
        None => {
            zeros = vec![0.0f32; k];
            (&zeros[..], None)
        }
    };
    let columns = db.is_some();
    let partial = |fill: f32| move || if columns { vec![fill; k] } else { Vec::new() };
    // First sweep: the negatives' maximum, the joint scores, and the columns' maxima.
    let (first, col_max) = sweep_with(
        pool,
        x,
        t,
        None,
        partial(f32::NEG_INFINITY),
        |cm, r, s, _| {
            let sc = block(&r, s, k);
            if columns {
                column_max_at(level, sc, r.clone(), cm);
            }
            let pos: Vec<f64> = r
                .clone()
                .map(|i| f64::from(sc.row(i)[i]) - f64::from(b[i]))
                .collect();
            (neg_max_at(level, sc, b, r), pos)
        },
    );
    let col_max = if columns {
        maxima(&col_max, k)
    } else {
        Vec::new()
    };
    let m = first.iter().fold(f32::NEG_INFINITY, |a, (v, _)| a.max(*v));
    let pos: Vec<f64> = first.into_iter().flat_map(|(_, p)| p).collect();
    let want = Wanted::new(bound, m);
    let dpos = dpos_for(bound, &pos);
    let inv_kn = (1.0 / (k as f64 * (k as f64 - 1.0))) as f32;
    // Second sweep: the sums, the columns' sums, and the gradient where it needs no sum.
    let early = Dneg::before_sums(bound, k).filter(|_| grads.is_some());
    let dgh = if early.is_some() { grads.take() } else { None };
    let (parts, col_sums) = sweep_with(pool, x, t, dgh, partial(0.0), |cs, r, s, ds| {
        let sc = block(&r, s, k);
        if columns {
            column_sums_at(level, sc, r.clone(), &col_max, cs);
        }
        match early {
            // JS and SMILE read each row once for both (`js_pass`).
            Some(_) if want.softplus => js_pass_at(level, sc, b, &dpos, r.start, ds, want, inv_kn),
            Some(dneg) => {
                let sums = neg_sums_at(level, sc, b, r.clone(), want);
                fill_rows_at(level, sc, b, &dpos, r.start, ds, dneg);
                sums
            }
            None => neg_sums_at(level, sc, b, r, want),
        }
    });
    let (out, dneg) = finish(bound, k, &pos, want, &NegSums::total(&parts), prev_log_ema);
    // Third sweep (DV, MINE): the gradient, whose shift is the sums' log.
    if grads.is_some() {
        sweep(pool, x, t, grads, |r, s, ds| {
            fill_rows_at(level, block(&r, s, k), b, &dpos, r.start, ds, dneg)
        });
    }
    if let Some(db) = db {
        baseline_grad(&col_max, &col_sums, b, db);
    }
    out
}
