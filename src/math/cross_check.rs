//! The InfoNCE read-out that checks a reported estimate (SPEC §6, "Ceilings and
//! cross-checks"): the trained critic scored over every pair of a held-out part at once,
//! K = n rows, in f64 on the host.
//!
//! Whatever bound trained the critic, InfoNCE over its scores cannot overshoot the truth by
//! more than its noise (it is a lower bound for any critic, capped at ln n). Each row i gives
//! one term,
//!
//! ```text
//! t_i = ln n + S_ii − log Σ_j e^(S_ij)        InfoNCE = mean_i t_i
//! ```
//!
//! so the read-out of any subset of rows (a batch the reported bound was evaluated on) is the
//! mean of its terms, and the two read-outs can be compared over the same row blocks
//! ([`block_means`], [`paired_std_err`]).
//!
//! Only the critics that score every pair have such a read-out: the separable and the concat
//! critic. The shuffled critic scores K joint and K shuffled pairs, and the decoders are not
//! pair critics.

use crate::math::bounds::log_sum_exp;
use crate::math::critic::{CriticForm, LayerShape};
use crate::math::spec::TrainSpec;

/// Whether `critic` scores every pair, so that the cross-check exists.
pub fn applies(critic: &CriticForm) -> bool {
    matches!(
        critic,
        CriticForm::Separable { .. } | CriticForm::Concat { .. }
    )
}

/// The InfoNCE terms t_i of every row of (x, y) (n rows, row-major, `spec.dx` and `spec.dy`
/// wide) with the critic in `params` (the spec's layout; a baseline network after the critic
/// is ignored), in row order; `None` for a critic without pair scores ([`applies`]) or fewer
/// than two rows. The rows are scored on up to `threads` threads, each row's sums in a fixed
/// order, so the result does not depend on the thread count.
pub fn infonce_terms(
    spec: &TrainSpec,
    params: &[f32],
    x: &[f32],
    y: &[f32],
    threads: usize,
) -> Option<Vec<f64>> {
    let n = x.len() / spec.dx.max(1);
    if !applies(&spec.critic) || n < 2 || y.len() != n * spec.dy {
        return None;
    }
    let nets = spec.networks();
    let score_row: Box<dyn Fn(usize) -> Vec<f64> + Sync> = match &spec.critic {
        CriticForm::Separable { embed, .. } => {
            let e = *embed;
            let g = nets[0].0.forward_f64(params, nets[0].1, x);
            let h = nets[1].0.forward_f64(params, nets[1].1, y);
            Box::new(move |i| {
                let gi = &g[i * e..(i + 1) * e];
                (0..n)
                    .map(|j| {
                        gi.iter()
                            .zip(&h[j * e..(j + 1) * e])
                            .map(|(a, b)| a * b)
                            .sum()
                    })
                    .collect()
            })
        }
        CriticForm::Concat { .. } => {
            let (net, base) = &nets[0];
            let layers = net.layers_at(*base);
            let first = layers[0];
            let (dx, dy, w) = (spec.dx, spec.dy, first.fan_out);
            // The first layer split as the device splits it: u_i = W_x x_i + b, v_j = W_y y_j.
            let wrow = |o: usize| &params[first.w_off + o * (dx + dy)..][..dx + dy];
            let u: Vec<f64> = (0..n * w)
                .map(|e| {
                    let (i, o) = (e / w, e % w);
                    f64::from(params[first.b_off + o])
                        + dot(&wrow(o)[..dx], &x[i * dx..(i + 1) * dx])
                })
                .collect();
            // v column-major (unit o's n values together), and so every layer's activations
            // of row i's n pairs: the inner loops run over the pairs, which vectorises.
            let v: Vec<f64> = (0..w * n)
                .map(|e| {
                    let (o, j) = (e / n, e % n);
                    dot(&wrow(o)[dx..], &y[j * dy..(j + 1) * dy])
                })
                .collect();
            Box::new(move |i| {
                let mut h = Vec::with_capacity(w * n);
                for (o, vo) in v.chunks(n).enumerate() {
                    let ui = u[i * w + o];
                    h.extend(vo.iter().map(|&vj| (ui + vj).max(0.0)));
                }
                for layer in &layers[1..] {
                    h = dense_columns(layer, params, &h, n);
                }
                h
            })
        }
        _ => unreachable!("applies() admits pair critics only"),
    };
    let ln_n = (n as f64).ln();
    let term = |i: usize| {
        let s = score_row(i);
        ln_n + s[i] - log_sum_exp(s.iter().copied())
    };
    let threads = threads.clamp(1, n);
    let mut terms = vec![0.0; n];
    std::thread::scope(|scope| {
        let per = n.div_ceil(threads);
        for (c, out) in terms.chunks_mut(per).enumerate() {
            let term = &term;
            scope.spawn(move || {
                for (k, t) in out.iter_mut().enumerate() {
                    *t = term(c * per + k);
                }
            });
        }
    });
    Some(terms)
}

/// One dense layer over `n` inputs stored column-major (input unit k's n values at
/// `h[k * n..]`), output column-major alike: each output the bias plus the products summed in
/// unit order, as the row-major forward sums them, so the values are the same.
fn dense_columns(layer: &LayerShape, params: &[f32], h: &[f64], n: usize) -> Vec<f64> {
    let (fi, fo) = (layer.fan_in, layer.fan_out);
    let mut out = vec![0.0; n * fo];
    for (o, col) in out.chunks_mut(n).enumerate() {
        for (k, hk) in h.chunks(n).take(fi).enumerate() {
            let wk = f64::from(params[layer.w_off + o * fi + k]);
            for (c, &x) in col.iter_mut().zip(hk) {
                *c += wk * x;
            }
        }
        let b = f64::from(params[layer.b_off + o]);
        for c in col.iter_mut() {
            let z = b + *c;
            *c = if layer.activated { z.max(0.0) } else { z };
        }
    }
    out
}

fn dot(w: &[f32], x: &[f32]) -> f64 {
    w.iter()
        .zip(x)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum()
}

/// The mean of `terms` over each block of row indices.
pub fn block_means(terms: &[f64], blocks: &[Vec<usize>]) -> Vec<f64> {
    blocks
        .iter()
        .map(|b| b.iter().map(|&i| terms[i]).sum::<f64>() / b.len().max(1) as f64)
        .collect()
}

/// The standard error of mean(a − b) from the paired differences a_b − b_b (the same blocks on
/// both sides), sd/√B; NaN for fewer than two pairs.
pub fn paired_std_err(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    crate::math::split_eval::std_err(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::bounds::{matrix_eval, Bound};

    /// The terms' mean is InfoNCE on the whole matrix, and repeats on any thread count.
    #[test]
    fn terms_average_to_the_whole_matrix_infonce() {
        for critic in [
            CriticForm::Separable {
                hidden: vec![5],
                embed: 3,
            },
            CriticForm::Concat { hidden: vec![4, 3] },
        ] {
            let spec = TrainSpec::new(2, 3, critic, Bound::Smile { tau: 5.0 }, 4).with_seed(9);
            let p = spec.init();
            let n = 7;
            let x: Vec<f32> = (0..n * 2).map(|e| (e as f32 * 0.37).sin()).collect();
            let y: Vec<f32> = (0..n * 3).map(|e| (e as f32 * 0.91).cos()).collect();
            let t1 = infonce_terms(&spec, &p, &x, &y, 1).unwrap();
            let t3 = infonce_terms(&spec, &p, &x, &y, 3).unwrap();
            assert_eq!(t1, t3, "the thread count changes no bit");
            // The same scores by brute force: S_ij = f(x_i, y_j) from one-row forwards.
            let s: Vec<f32> = (0..n * n)
                .map(|e| score(&spec, &p, &x[e / n * 2..][..2], &y[e % n * 3..][..3]) as f32)
                .collect();
            let want = matrix_eval(Bound::InfoNce, &s, n, None, None).value;
            let got = t1.iter().sum::<f64>() / n as f64;
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    fn score(spec: &TrainSpec, p: &[f32], x: &[f32], y: &[f32]) -> f64 {
        let nets = spec.networks();
        match spec.critic {
            CriticForm::Separable { .. } => {
                let g = nets[0].0.forward_f64(p, nets[0].1, x);
                let h = nets[1].0.forward_f64(p, nets[1].1, y);
                g.iter().zip(&h).map(|(a, b)| a * b).sum()
            }
            _ => {
                let xy: Vec<f32> = x.iter().chain(y).copied().collect();
                nets[0].0.forward_f64(p, nets[0].1, &xy)[0]
            }
        }
    }

    /// The concat critic's column-major pass gives the row-major forward's values, bit for bit.
    #[test]
    fn concat_terms_match_the_row_major_forward() {
        let spec = TrainSpec::new(
            2,
            3,
            CriticForm::Concat { hidden: vec![4, 3] },
            Bound::InfoNce,
            4,
        )
        .with_seed(5);
        let p = spec.init();
        let n = 9;
        let x: Vec<f32> = (0..n * 2).map(|e| (e as f32 * 0.53).sin()).collect();
        let y: Vec<f32> = (0..n * 3).map(|e| (e as f32 * 0.71).cos()).collect();
        let nets = spec.networks();
        let layers = nets[0].0.layers_at(nets[0].1);
        let (first, w) = (layers[0], layers[0].fan_out);
        let wrow = |o: usize| &p[first.w_off + o * 5..][..5];
        let want: Vec<f64> = (0..n)
            .map(|i| {
                let mut h: Vec<f64> = (0..n * w)
                    .map(|e| {
                        let (j, o) = (e / w, e % w);
                        let u =
                            f64::from(p[first.b_off + o]) + dot(&wrow(o)[..2], &x[i * 2..][..2]);
                        (u + dot(&wrow(o)[2..], &y[j * 3..][..3])).max(0.0)
                    })
                    .collect();
                for layer in &layers[1..] {
                    h = crate::math::critic::dense_f64(layer, &p, &h, n);
                }
                (n as f64).ln() + h[i] - log_sum_exp(h.iter().copied())
            })
            .collect();
        assert_eq!(infonce_terms(&spec, &p, &x, &y, 2).unwrap(), want);
    }

    #[test]
    fn shuffled_and_decoder_critics_have_no_cross_check() {
        let spec = TrainSpec::new(1, 1, CriticForm::Shuffled { hidden: vec![3] }, Bound::Dv, 4);
        assert!(infonce_terms(&spec, &spec.init(), &[0.0; 4], &[0.0; 4], 1).is_none());
    }

    #[test]
    fn blocks_and_paired_errors() {
        let t = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(block_means(&t, &[vec![0, 1], vec![2, 3]]), vec![1.5, 3.5]);
        // Identical sides: no spread of the difference.
        assert_eq!(paired_std_err(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!((paired_std_err(&[2.0, 4.0], &[1.0, 1.0]) - 1.0).abs() < 1e-12);
        assert!(paired_std_err(&[1.0], &[0.0]).is_nan());
    }
}
