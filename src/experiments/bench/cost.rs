//! What one training step must cost at the least: floating-point operations and bytes, from the
//! spec alone, and the time floor they imply on a device with given ceilings.
//!
//! Flops count the matrix products (2 per multiply-add: forward, then dW and — except for the
//! first layer, whose input needs no gradient — d(input) in the backward), the score matrix
//! (separable: S = G·Hᵀ once, dG and dH once: 6K²e, although the fused kernels recompute S in
//! the backward), the concat critic's pair sums relu(U_i + V_j) (K²·h₁, forward and backward)
//! and Adam (10 per parameter). Elementwise bound arithmetic (exp, log, clip) is left out: it
//! is O(K²) beside the O(K²e) products.
//!
//! Bytes come in two counts. `min_bytes` is what no implementation can avoid: Adam reads
//! parameters, gradients and both moments and writes three of them back (28 bytes a
//! parameter), and the batch is read once. `activation_bytes` adds each stored activation and
//! its gradient written once and read once (the layer-by-layer kernels infobound runs; the
//! separable scores are not stored, the concat critic's pair activations are).

use crate::math::critic::{CriticForm, MlpConfig};
use crate::math::spec::TrainSpec;

/// Per-step cost of a training step (see the module doc for what is counted).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepCost {
    /// Floating-point operations.
    pub flops: f64,
    /// Bytes no implementation avoids.
    pub min_bytes: f64,
    /// Bytes with every activation and activation gradient stored once and read once.
    pub activation_bytes: f64,
    /// Trainable parameters.
    pub params: usize,
}

/// Flops (forward + backward) and stored activation floats of `net` with `rows[l]` rows at
/// layer l.
fn network(net: &MlpConfig, rows: impl Fn(usize) -> f64) -> (f64, f64) {
    let mut flops = 0.0;
    let mut activations = 0.0;
    for (l, layer) in net.layers().iter().enumerate() {
        let r = rows(l);
        let mac = r * layer.fan_in as f64 * layer.fan_out as f64;
        // Forward, dW, and d(input) except at the first layer.
        flops += 2.0 * mac * if l == 0 { 2.0 } else { 3.0 };
        activations += r * layer.fan_out as f64;
    }
    (flops, activations)
}

impl StepCost {
    /// The cost of one training step of `spec`.
    pub fn of(spec: &TrainSpec) -> Self {
        let k = spec.batch as f64;
        let mut flops = 0.0;
        let mut activations = 0.0;
        for (net, _) in spec.networks() {
            let (f, a) = match &spec.critic {
                CriticForm::Separable { .. } => network(&net, |_| k),
                CriticForm::Shuffled { .. } => network(&net, |_| 2.0 * k),
                // Per-row networks. V_MS's critic also scores the proposals, which this
                // model does not count: the known-density bounds are not benchmarked.
                CriticForm::Decoder { .. } | CriticForm::DecoderCritic { .. } => {
                    network(&net, |_| k)
                }
                CriticForm::Concat { .. } => {
                    // The split first layer runs on K rows (x and y parts); every later layer
                    // on all K² pairs.
                    let (f, a) = network(&net, |l| if l == 0 { k } else { k * k });
                    let h1 = net.hidden.first().copied().unwrap_or(1) as f64;
                    // relu(U_i + V_j): one add forward, two accumulations backward.
                    (f + 3.0 * k * k * h1, a + k * k * h1)
                }
            };
            flops += f;
            activations += a;
        }
        if let Some((net, _)) = spec.baseline_network() {
            let (f, a) = network(&net, |_| k);
            flops += f;
            activations += a;
        }
        if let CriticForm::Separable { embed, .. } = &spec.critic {
            flops += 6.0 * k * k * *embed as f64;
        }
        let params = spec.param_count();
        flops += 10.0 * params as f64;
        let rows = match spec.critic {
            CriticForm::Shuffled { .. } => 2.0 * k,
            _ => k,
        };
        let min_bytes = 28.0 * params as f64 + 4.0 * rows * (spec.dx + spec.dy) as f64;
        Self {
            flops,
            min_bytes,
            activation_bytes: min_bytes + 4.0 * 4.0 * activations,
            params,
        }
    }

    /// Seconds one step needs at least on a device doing `flops_per_s` and moving
    /// `bytes_per_s`: the larger of the arithmetic and the (unavoidable) memory time.
    pub fn floor(&self, flops_per_s: f64, bytes_per_s: f64) -> f64 {
        (self.flops / flops_per_s).max(self.min_bytes / bytes_per_s)
    }

    /// The same floor with every activation stored (what layer-by-layer kernels need).
    pub fn activation_floor(&self, flops_per_s: f64, bytes_per_s: f64) -> f64 {
        (self.flops / flops_per_s).max(self.activation_bytes / bytes_per_s)
    }
}
