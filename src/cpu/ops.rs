//! One function per GPU kernel, with the kernel's exact semantics (operands, offsets,
//! epilogues, random draws), so every kernel can be tested against its twin.

use crate::math::linalg::{ColumnSumSpec, Epilogue, GemmSpec};
use crate::math::optim::AdamConfig;
use crate::math::rng::{derangement, Permutation, Purpose};

/// C = epilogue(op(A)·op(B)) as `gemm.wgsl` computes it; products accumulate in f64.
///
/// Panics if an operand is shorter than the spec needs (callers validate first; the GPU
/// wrappers return an error instead).
pub fn gemm(
    spec: &GemmSpec,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    bias: Option<&[f32]>,
    aux: Option<&[f32]>,
) {
    let s = spec;
    let at = |i: usize, k: usize| -> f64 {
        f64::from(if s.trans_a {
            a[s.a_off + k * s.lda + i]
        } else {
            a[s.a_off + i * s.lda + k]
        })
    };
    let bt = |k: usize, j: usize| -> f64 {
        f64::from(if s.trans_b {
            b[s.b_off + j * s.ldb + k]
        } else {
            b[s.b_off + k * s.ldb + j]
        })
    };
    for i in 0..s.m {
        for j in 0..s.n {
            let mut acc = 0.0f64;
            for k in 0..s.k {
                acc += at(i, k) * bt(k, j);
            }
            let v = match s.epilogue {
                Epilogue::None => acc,
                Epilogue::Bias => acc + f64::from(bias.expect("bias")[s.bias_off + j]),
                Epilogue::BiasRelu => {
                    (acc + f64::from(bias.expect("bias")[s.bias_off + j])).max(0.0)
                }
                Epilogue::ReluBackward => {
                    if aux.expect("mask")[s.aux_off + i * s.ldaux + j] > 0.0 {
                        acc
                    } else {
                        0.0
                    }
                }
            };
            c[s.c_off + i * s.ldc + j] = v as f32;
        }
    }
}

/// The column sums of `spec`, as `column_sums` in `reduce.wgsl`.
pub fn column_sums(spec: &ColumnSumSpec, src: &[f32], out: &mut [f32]) {
    let s = spec;
    for j in 0..s.cols {
        let sum: f64 = (0..s.rows)
            .map(|i| f64::from(src[s.in_off + i * s.ld + j]))
            .sum();
        out[s.out_off + j] = sum as f32;
    }
}

/// Σ x in f64.
pub fn sum(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v)).sum()
}

/// max x.
pub fn max(x: &[f32]) -> f64 {
    x.iter()
        .map(|&v| f64::from(v))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// log Σ exp x, max-shifted, in f64.
pub fn log_sum_exp(x: &[f32]) -> f64 {
    crate::math::bounds::log_sum_exp(x.iter().map(|&v| f64::from(v)))
}

/// One Adam step at t (1-based) over flat buffers, as `adam_step` in `adam.wgsl`, in f64.
pub fn adam_step(
    config: &AdamConfig,
    t: u32,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let (lr, b1, b2) = (
        f64::from(config.lr),
        f64::from(config.beta1),
        f64::from(config.beta2),
    );
    let wd = f64::from(config.weight_decay);
    let bc1 = 1.0 - b1.powi(t as i32);
    let bc2 = 1.0 - b2.powi(t as i32);
    for i in 0..params.len() {
        let mut w = f64::from(params[i]);
        let mut g = f64::from(grads[i]);
        if config.decoupled {
            w *= 1.0 - lr * wd;
        } else {
            g += wd * w;
        }
        let mt = b1 * f64::from(m[i]) + (1.0 - b1) * g;
        let vt = b2 * f64::from(v[i]) + (1.0 - b2) * g * g;
        let denom = vt.sqrt() / bc2.sqrt() + f64::from(config.eps);
        w -= (lr / bc1) * mt / denom;
        m[i] = mt as f32;
        v[i] = vt as f32;
        params[i] = w as f32;
    }
}

/// The data rows of a step's batch and of its negatives' y, as `gather_shuffled` draws them:
/// batch i is σ(i) of a fresh permutation of the n rows; its negative partner is the batch
/// row π(i) of a cyclic derangement.
pub fn shuffled_rows(seed: u64, step: u32, n: usize, k: usize) -> (Vec<u32>, Vec<u32>) {
    let batch = Permutation::new(seed, Purpose::Minibatch, step, n as u32);
    let xs: Vec<u32> = (0..k as u32).map(|i| batch.apply(i)).collect();
    let ys = (0..k as u32)
        .map(|i| batch.apply(derangement(seed, Purpose::Negatives, step, k as u32, i)))
        .collect();
    (xs, ys)
}

/// The 2k × (dx+dy) batch of `gather_shuffled`: k joint rows, then k shuffled rows.
pub fn gather_shuffled(
    seed: u64,
    step: u32,
    k: usize,
    x: (&[f32], usize),
    y: (&[f32], usize),
) -> Vec<f32> {
    let ((x, dx), (y, dy)) = (x, y);
    let n = x.len() / dx.max(1);
    let (xi, yi) = shuffled_rows(seed, step, n, k);
    let d = dx + dy;
    let mut out = vec![0.0; 2 * k * d];
    for r in 0..2 * k {
        let i = r % k;
        let xr = xi[i] as usize;
        let yr = if r < k { xr } else { yi[i] as usize };
        out[r * d..r * d + dx].copy_from_slice(&x[xr * dx..(xr + 1) * dx]);
        out[r * d + dx..(r + 1) * d].copy_from_slice(&y[yr * dy..(yr + 1) * dy]);
    }
    out
}

/// out (K²×w) = relu(U_i + V_j), as `pair_expand` in `pairs.wgsl`.
pub fn pair_expand(k: usize, width: usize, u: &[f32], v: &[f32], out: &mut [f32]) {
    for i in 0..k {
        for j in 0..k {
            for c in 0..width {
                out[(i * k + j) * width + c] = (u[i * width + c] + v[j * width + c]).max(0.0);
            }
        }
    }
}

/// The sums of a K×K×w pair gradient over j (`rows`) or over i, as `pair_reduce`, in f64.
pub fn pair_reduce(rows: bool, k: usize, width: usize, src: &[f32], out: &mut [f32]) {
    for r in 0..k {
        for c in 0..width {
            let s: f64 = (0..k)
                .map(|t| {
                    let pair = if rows { r * k + t } else { t * k + r };
                    f64::from(src[pair * width + c])
                })
                .sum();
            out[r * width + c] = s as f32;
        }
    }
}

/// Barber–Agakov on a batch of K rows as `decoder.wgsl` computes it, in f64: `dec` holds the
/// decoder's output (K × 2·dy: μ then log σ a row), `y` the batch's y. Returns V = mean_i
/// Σ_d [−½ z² − log σ + ½ y²] (log q(y|x) − log N(y; 0, I)) and writes ∂(−V)/∂(μ, log σ) =
/// (−z/σ, 1 − z²)/K to `dout`. With `log_marginal` (log p(y_i) of the batch's rows, K values)
/// the marginal is that instead of N(0, I): V = mean_i [log q(y_i|x_i) − log p(y_i)], the
/// gradient unchanged.
pub fn barber_agakov(
    k: usize,
    dy: usize,
    dec: &[f32],
    y: &[f32],
    log_marginal: Option<&[f32]>,
    dout: &mut [f32],
) -> f64 {
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;
    let kf = k as f64;
    let mut total = 0.0;
    for i in 0..k {
        for c in 0..dy {
            let at = i * 2 * dy + c;
            let (mu, log_s) = (f64::from(dec[at]), f64::from(dec[at + dy]));
            let yv = f64::from(y[i * dy + c]);
            let inv_s = (-log_s).min(crate::math::bounds::EXP_CLIP).exp();
            let z = (yv - mu) * inv_s;
            total += match log_marginal {
                Some(_) => -0.5 * z * z - log_s - HALF_LN_2PI,
                None => -0.5 * z * z - log_s + 0.5 * yv * yv,
            };
            dout[at] = (-z * inv_s / kf) as f32;
            dout[at + dy] = ((1.0 - z * z) / kf) as f32;
        }
        if let Some(lp) = log_marginal {
            total -= f64::from(lp[i]);
        }
    }
    total / kf
}

/// The multisample term as `multisample.wgsl` computes it, in f64: scores f_ik (B rows of
/// K + 1, the joint pair first), the term mean_i [f_i0 − log(1/(K+1) Σ_k e^(f_ik))], and
/// ∂(−term)/∂f_ik = (softmax_ik − [k = 0])/B into `dscores`.
pub fn multisample(b: usize, k: usize, scores: &[f32], dscores: &mut [f32]) -> f64 {
    let kk = k + 1;
    let mut total = 0.0;
    for i in 0..b {
        let row = &scores[i * kk..(i + 1) * kk];
        let lse = crate::math::bounds::log_sum_exp(row.iter().map(|&v| f64::from(v)));
        total += f64::from(row[0]) - lse + (kk as f64).ln();
        for (j, &v) in row.iter().enumerate() {
            let hit = if j == 0 { 1.0 } else { 0.0 };
            dscores[i * kk + j] = (((f64::from(v) - lse).exp() - hit) / b as f64) as f32;
        }
    }
    total / b as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::sampling::{batch_rows, gather_batch};

    #[test]
    fn gather_batch_is_the_joint_half_of_gather_shuffled() {
        let (n, k, dx, dy) = (50, 7, 3, 2);
        let x: Vec<f32> = (0..n * dx).map(|v| v as f32).collect();
        let y: Vec<f32> = (0..n * dy).map(|v| -(v as f32)).collect();
        for step in [0, 3, 99] {
            let (xb, yb) = gather_batch(4, step, k, (&x, dx), (&y, dy));
            let both = gather_shuffled(4, step, k, (&x, dx), (&y, dy));
            for i in 0..k {
                let row = &both[i * (dx + dy)..(i + 1) * (dx + dy)];
                assert_eq!(&xb[i * dx..(i + 1) * dx], &row[..dx]);
                assert_eq!(&yb[i * dy..(i + 1) * dy], &row[dx..]);
            }
            assert_eq!(batch_rows(4, step, n, k), shuffled_rows(4, step, n, k).0);
        }
        // A batch of one needs no derangement.
        let (xb, _) = gather_batch(4, 0, 1, (&x, dx), (&y, dy));
        assert_eq!(xb.len(), dx);
    }
}
