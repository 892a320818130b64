//! The f64 reference's arithmetic for the shared interpreter ([`super::interp`]): the
//! kernels' twins of [`super::ops`] and the bounds of [`crate::math::bounds`], accumulated
//! in f64 and stored in f32 as the device stores them.

use super::interp::{BoundValue, FusedBaseline, Kernels};
use super::ops;
use crate::math::bounds::{matrix_eval, shuffled_eval, Bound};
use crate::math::clip;
use crate::math::linalg::{ColumnSumSpec, GemmSpec};
use crate::math::program::DrawLayout;
use crate::math::sampling as sample;
use crate::math::spec::Source;

/// The reference's kernels: single-threaded, written for clarity.
pub struct Reference;

/// The batch of `step` for an `Op::Draw` (seed, step and K in `at`): (first, second)
/// buffers of `out`, the second empty for the shuffled layout. `x` and `y` are the
/// program's X and Y buffers with their widths (X holds the ρ schedule of Gaussian batches).
pub fn draw(
    (seed, step, k): (u64, u32, usize),
    source: Source,
    out: DrawLayout,
    (x, dx): (&[f32], usize),
    (y, dy): (&[f32], usize),
) -> (Vec<f32>, Vec<f32>) {
    match (source, out) {
        (Source::Data { .. }, DrawLayout::Shuffled(_)) => (
            ops::gather_shuffled(seed, step, k, (x, dx), (y, dy)),
            Vec::new(),
        ),
        (Source::Data { .. }, DrawLayout::Split(..)) => {
            sample::gather_batch(seed, step, k, (x, dx), (y, dy))
        }
        (Source::Gaussian { transform, .. }, DrawLayout::Shuffled(_)) => (
            sample::sample_gaussian_shuffled(seed, step, k, dx, transform, x),
            Vec::new(),
        ),
        (Source::Gaussian { transform, .. }, DrawLayout::Split(..)) => {
            sample::sample_gaussian_batch(seed, step, k, dx, transform, x)
        }
    }
}

impl Kernels for Reference {
    fn draw(
        &self,
        at: (u64, u32, usize),
        source: Source,
        out: DrawLayout,
        x: (&[f32], usize),
        y: (&[f32], usize),
    ) -> (Vec<f32>, Vec<f32>) {
        draw(at, source, out, x, y)
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
        ops::gemm(spec, a, b, c, bias, aux);
    }

    fn column_sums(&self, spec: &ColumnSumSpec, src: &[f32], out: &mut [f32]) {
        ops::column_sums(spec, src, out);
    }

    fn pair_expand(&self, k: usize, width: usize, u: &[f32], v: &[f32], out: &mut [f32]) {
        ops::pair_expand(k, width, u, v, out);
    }

    fn pair_reduce(&self, rows: bool, k: usize, width: usize, src: &[f32], out: &mut [f32]) {
        ops::pair_reduce(rows, k, width, src, out);
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
        let eval = if shuffled {
            shuffled_eval(bound, scores, baseline, prev_log_ema)
        } else {
            matrix_eval(bound, scores, k, baseline, prev_log_ema)
        };
        BoundValue::stored(eval, ds, db)
    }

    /// The unfused ops in place ([`crate::math::program::Program::materialised`]): S = G·Hᵀ
    /// stored in f32, the bound on it, and dG = dS·H, dH = dSᵀ·G through dS stored in f32.
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
        let mut s = vec![0.0f32; k * k];
        ops::gemm(
            &GemmSpec::dense(k, k, e, false, true),
            g,
            h,
            &mut s,
            None,
            None,
        );
        let mut ds = vec![0.0f32; k * k];
        let (b, db) = match baseline {
            Some(bl) => (Some(bl.values), bl.grad),
            None => (None, None),
        };
        let out = self.bound(bound, k, false, &s, b, prev_log_ema, &mut ds, db);
        if let Some((dg, dh)) = grads {
            ops::gemm(
                &GemmSpec::dense(k, e, k, false, false),
                &ds,
                h,
                dg,
                None,
                None,
            );
            ops::gemm(
                &GemmSpec::dense(k, e, k, true, false),
                &ds,
                g,
                dh,
                None,
                None,
            );
        }
        out
    }

    fn l2_norm(&self, g: &[f32]) -> f64 {
        clip::l2_norm(g)
    }

    fn scale(&self, g: &mut [f32], factor: f64) {
        clip::scale(g, factor);
    }
}
