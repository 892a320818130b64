//! The f64 reference of the contrastive losses ([`crate::losses::contrastive`]): the K×K scores
//! materialised, every sum in f64.

use super::{check_inputs, ContrastiveConfig, ContrastiveError, ContrastiveForm};
use crate::math::bounds::log_sum_exp;

/// A loss and its gradients in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The loss, nats.
    pub loss: f64,
    /// ∂L/∂G (K×e).
    pub dg: Vec<f64>,
    /// ∂L/∂H (K×e).
    pub dh: Vec<f64>,
}

/// The loss of `config` on G and H (K×e each, row-major) and its gradients.
pub fn reference(
    config: &ContrastiveConfig,
    g: &[f32],
    h: &[f32],
    k: usize,
    e: usize,
) -> Result<Reference, ContrastiveError> {
    config.validate()?;
    check_inputs(g, h, k, e)?;
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    Ok(reference_f64(config, &wide(g), &wide(h), k, e))
}

/// [`reference`] on f64 embeddings (for finite differences finer than f32 allows); the
/// caller has checked the shapes and the temperature.
pub fn reference_f64(
    config: &ContrastiveConfig,
    g: &[f64],
    h: &[f64],
    k: usize,
    e: usize,
) -> Reference {
    assert!(g.len() == k * e && h.len() == k * e, "G and H must be K×e");
    let t = f64::from(config.temperature);
    let s: Vec<f64> = (0..k * k)
        .map(|ij| {
            let (i, j) = (ij / k, ij % k);
            (0..e).map(|c| g[i * e + c] * h[j * e + c]).sum::<f64>() / t
        })
        .collect();
    // (weight of the row-wise term, weight of the column-wise term)
    let (wr, wc) = match config.form {
        ContrastiveForm::InfoNce => (1.0, 0.0),
        ContrastiveForm::Symmetric => (0.5, 0.5),
    };
    let kf = k as f64;
    let mut loss = 0.0;
    // ∂L/∂S_ij: (softmax − δ_ij)/K for each direction, weighted.
    let mut ds = vec![0.0; k * k];
    for i in 0..k {
        let row = log_sum_exp((0..k).map(|j| s[i * k + j]));
        let col = log_sum_exp((0..k).map(|l| s[l * k + i]));
        loss += (wr * (row - s[i * k + i]) + wc * (col - s[i * k + i])) / kf;
        for j in 0..k {
            ds[i * k + j] += wr * ((s[i * k + j] - row).exp() - f64::from(u8::from(i == j))) / kf;
            ds[j * k + i] += wc * ((s[j * k + i] - col).exp() - f64::from(u8::from(i == j))) / kf;
        }
    }
    let mut dg = vec![0.0; k * e];
    let mut dh = vec![0.0; k * e];
    for i in 0..k {
        for j in 0..k {
            let d = ds[i * k + j] / t;
            for c in 0..e {
                dg[i * e + c] += d * h[j * e + c];
                dh[j * e + c] += d * g[i * e + c];
            }
        }
    }
    Reference { loss, dg, dh }
}
