//! The fast mode's arithmetic for the shared interpreter ([`crate::cpu::interp`]): the ops
//! of [`super::ops`] in f32 over the pool's threads.

use super::draw::draw;
use super::ops;
use super::pool::Pool;
use crate::cpu::interp::{BoundValue, FusedBaseline, Kernels};
use crate::math::bounds::Bound;
use crate::math::linalg::{ColumnSumSpec, GemmSpec};
use crate::math::program::DrawLayout;
use crate::math::spec::Source;

/// The fast kernels, run on a pool.
pub struct FastKernels<'a>(pub &'a Pool);

impl Kernels for FastKernels<'_> {
    fn draw(
        &self,
        at: (u64, u32, usize),
        source: Source,
        out: DrawLayout,
        x: (&[f32], usize),
        y: (&[f32], usize),
    ) -> (Vec<f32>, Vec<f32>) {
        draw(self.0, at, source, out, x, y)
    }

    fn gemm(
        &self,
        spec: &GemmSpec,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        bias: Option<&[f32]>,
        aux: Option<&[f32]>,
    ) {
        ops::gemm(self.0, spec, a, b, c, bias, aux);
    }

    fn column_sums(&self, spec: &ColumnSumSpec, src: &[f32], out: &mut [f32]) {
        ops::column_sums(self.0, spec, src, out);
    }

    fn pair_expand(&self, k: usize, width: usize, u: &[f32], v: &[f32], out: &mut [f32]) {
        ops::pair_expand(self.0, k, width, u, v, out);
    }

    fn pair_reduce(&self, rows: bool, k: usize, width: usize, src: &[f32], out: &mut [f32]) {
        ops::pair_reduce(self.0, rows, k, width, src, out);
    }

    fn bound(
        &self,
        bound: Bound,
        k: usize,
        shuffled: bool,
        scores: &[f32],
        baseline: Option<&[f32]>,
        prev_log_ema: Option<f64>,
        ds: &mut [f32],
        db: Option<&mut [f32]>,
    ) -> BoundValue {
        if shuffled {
            ops::shuffled_bound(bound, scores, baseline, prev_log_ema, ds, db)
        } else {
            ops::matrix_bound(self.0, bound, k, scores, baseline, prev_log_ema, ds, db)
        }
    }

    fn fused_bound(
        &self,
        bound: Bound,
        k: usize,
        e: usize,
        g: &[f32],
        h: &[f32],
        grads: Option<(&mut [f32], &mut [f32])>,
        baseline: Option<FusedBaseline<'_>>,
        prev_log_ema: Option<f64>,
    ) -> BoundValue {
        ops::fused_bound(self.0, bound, k, e, g, h, grads, baseline, prev_log_ema)
    }

    fn l2_norm(&self, g: &[f32]) -> f64 {
        ops::sum_squares(self.0, g).sqrt()
    }

    fn scale(&self, g: &mut [f32], factor: f64) {
        ops::scale(g, factor);
    }
}
