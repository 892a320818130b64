//! Critic shapes: the MLP both backends train, its flat parameter layout and its
//! initialisation.

use crate::math::linalg::{ColumnSumSpec, Epilogue, GemmSpec};
use crate::math::rng::{Purpose, Stream};

/// The nonlinearity between hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Activation {
    /// max(x, 0).
    Relu,
}

/// A fully connected network: input → hidden… → output, the activation after every hidden
/// layer and none after the output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MlpConfig {
    /// Input width.
    pub input: usize,
    /// Hidden widths, in order.
    pub hidden: Vec<usize>,
    /// Output width.
    pub output: usize,
    /// Activation after each hidden layer.
    pub activation: Activation,
}

/// Where one layer lives in the flat parameter vector: W (fan_out × fan_in, row-major, the
/// PyTorch `nn.Linear` layout) then b (fan_out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerShape {
    /// Inputs.
    pub fan_in: usize,
    /// Outputs.
    pub fan_out: usize,
    /// Offset of W.
    pub w_off: usize,
    /// Offset of b.
    pub b_off: usize,
    /// Whether the activation follows.
    pub activated: bool,
}

impl MlpConfig {
    /// An MLP with ReLU between layers.
    pub fn new(input: usize, hidden: &[usize], output: usize) -> Self {
        Self {
            input,
            hidden: hidden.to_vec(),
            output,
            activation: Activation::Relu,
        }
    }

    /// The layers, in order, with their offsets in a parameter vector that starts with this
    /// network.
    pub fn layers(&self) -> Vec<LayerShape> {
        self.layers_at(0)
    }

    /// The layers with offsets for a network stored from `base` on in a larger vector.
    pub fn layers_at(&self, base: usize) -> Vec<LayerShape> {
        let widths: Vec<usize> = std::iter::once(self.input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.output))
            .collect();
        let mut off = base;
        let last = widths.len() - 2;
        widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let shape = LayerShape {
                    fan_in: w[0],
                    fan_out: w[1],
                    w_off: off,
                    b_off: off + w[0] * w[1],
                    activated: l < last,
                };
                off += w[0] * w[1] + w[1];
                shape
            })
            .collect()
    }

    /// Total parameters.
    pub fn param_count(&self) -> usize {
        self.layers().last().map_or(0, |l| l.b_off + l.fan_out)
    }

    /// PyTorch's `nn.Linear` initialisation: every weight and bias ~ U(−1/√fan_in, 1/√fan_in),
    /// drawn from the counter-based stream (seed, Init), so both backends start identical.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut params = vec![0.0; self.param_count()];
        self.init_into(&mut Stream::new(seed, Purpose::Init), &mut params, 0);
        params
    }

    /// Initialises this network's slice of `params` (stored from `base`), drawing from `stream`.
    pub fn init_into(&self, stream: &mut Stream, params: &mut [f32], base: usize) {
        for layer in self.layers_at(base) {
            let bound = 1.0 / (layer.fan_in as f32).sqrt();
            let end = layer.b_off + layer.fan_out;
            for p in &mut params[layer.w_off..end] {
                *p = stream.uniform_range(-bound, bound);
            }
        }
    }
}

impl MlpConfig {
    /// The network's outputs for `rows` inputs (row-major, `input` wide), in f64 on the host,
    /// reading this network's parameters from `params[base..]`: the f64 twin of the forward
    /// products both backends run, for read-outs that need no gradient.
    pub fn forward_f64(&self, params: &[f32], base: usize, inputs: &[f32]) -> Vec<f64> {
        let rows = inputs.len() / self.input.max(1);
        let mut h: Vec<f64> = inputs.iter().map(|&v| f64::from(v)).collect();
        for layer in self.layers_at(base) {
            h = dense_f64(&layer, params, &h, rows);
        }
        h
    }
}

/// One layer over `rows` rows of `h` (fan_in wide): h·Wᵀ + b, then the activation if any.
pub(crate) fn dense_f64(layer: &LayerShape, params: &[f32], h: &[f64], rows: usize) -> Vec<f64> {
    let (fi, fo) = (layer.fan_in, layer.fan_out);
    let w = &params[layer.w_off..layer.w_off + fi * fo];
    let b = &params[layer.b_off..layer.b_off + fo];
    let mut out = Vec::with_capacity(rows * fo);
    for r in 0..rows {
        let input = &h[r * fi..(r + 1) * fi];
        for o in 0..fo {
            let row = &w[o * fi..(o + 1) * fi];
            let z = f64::from(b[o])
                + row
                    .iter()
                    .zip(input)
                    .map(|(&wv, &x)| f64::from(wv) * x)
                    .sum::<f64>();
            out.push(if layer.activated { z.max(0.0) } else { z });
        }
    }
    out
}

/// The matrix products of one layer's forward and backward passes over a batch of rows, as
/// both backends execute them. Activations are row-major (rows × width), one buffer a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerPlan {
    /// The layer's shape and offsets.
    pub shape: LayerShape,
    /// H_l = act(H_{l−1} · Wᵀ + b), reading W and b from the parameter vector.
    pub forward: GemmSpec,
    /// dW = G_lᵀ · H_{l−1}, written into the gradient vector at W's offset.
    pub weight_grad: GemmSpec,
    /// db = column sums of G_l, written into the gradient vector at b's offset.
    pub bias_grad: ColumnSumSpec,
    /// G_{l−1} = (G_l · W) ⊙ [H_{l−1} > 0]; `None` for the first layer (its input is data).
    pub input_grad: Option<GemmSpec>,
}

impl MlpConfig {
    /// The products and sums of a forward and backward pass over `rows` inputs.
    pub fn plan(&self, rows: usize) -> Vec<LayerPlan> {
        self.plan_at(rows, 0)
    }

    /// [`MlpConfig::plan`] for a network stored from `base` on in the parameter vector.
    pub fn plan_at(&self, rows: usize, base: usize) -> Vec<LayerPlan> {
        self.layers_at(base)
            .into_iter()
            .enumerate()
            .map(|(l, shape)| {
                let (fi, fo) = (shape.fan_in, shape.fan_out);
                let forward = GemmSpec {
                    b_off: shape.w_off,
                    bias_off: shape.b_off,
                    ..GemmSpec::dense(rows, fo, fi, false, true)
                }
                .with_epilogue(if shape.activated {
                    Epilogue::BiasRelu
                } else {
                    Epilogue::Bias
                });
                let weight_grad = GemmSpec {
                    c_off: shape.w_off,
                    ..GemmSpec::dense(fo, fi, rows, true, false)
                };
                let input_grad = (l > 0).then(|| {
                    GemmSpec {
                        b_off: shape.w_off,
                        ..GemmSpec::dense(rows, fi, fo, false, false)
                    }
                    .with_epilogue(Epilogue::ReluBackward)
                });
                LayerPlan {
                    shape,
                    forward,
                    weight_grad,
                    bias_grad: ColumnSumSpec::dense(rows, fo, shape.b_off),
                    input_grad,
                }
            })
            .collect()
    }
}

/// The shape of the critic f(x, y), and so of the scores a batch gets (SPEC §3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CriticForm {
    /// S_ij = g(x_i) · h(y_j): two towers (hidden widths each, embedding width `embed`); the
    /// whole K×K matrix is one product G·Hᵀ.
    Separable {
        /// Hidden widths of each tower.
        hidden: Vec<usize>,
        /// Embedding width e.
        embed: usize,
    },
    /// S_ij = f([x_i; y_j]) for all K² pairs. The first layer is split,
    /// W[x; y] + b = (W_x x + b) + W_y y, so it costs two K-row products, not K².
    Concat {
        /// Hidden widths (at least one).
        hidden: Vec<usize>,
    },
    /// MINE style: f([x_i; y_i]) for K joint pairs and f([x_i; y_π(i)]) for K negatives,
    /// π a random derangement of the batch.
    Shuffled {
        /// Hidden widths.
        hidden: Vec<usize>,
    },
    /// Not a critic but a decoder q(y|x) = N(μ(x), diag σ(x)²): an MLP on x giving μ and log σ
    /// (2·dy outputs, μ first), for Barber–Agakov (SPEC §8). K rows a batch.
    Decoder {
        /// Hidden widths.
        hidden: Vec<usize>,
    },
    /// The decoder (as [`CriticForm::Decoder`]) and a concat critic f([x; y]) with the same
    /// hidden widths, scoring each row's joint pair and its K proposals: the multisample bound.
    DecoderCritic {
        /// Hidden widths of both networks.
        hidden: Vec<usize>,
    },
}

impl CriticForm {
    /// Whether the batch is scored as the full K×K matrix (else K joint + K shuffled).
    pub fn full_matrix(&self) -> bool {
        !matches!(
            self,
            CriticForm::Shuffled { .. } | CriticForm::Decoder { .. }
        )
    }

    /// Short lowercase name, as the command line spells it.
    pub fn name(&self) -> &'static str {
        match self {
            CriticForm::Separable { .. } => "separable",
            CriticForm::Concat { .. } => "concat",
            CriticForm::Shuffled { .. } => "shuffled",
            CriticForm::Decoder { .. } => "decoder",
            CriticForm::DecoderCritic { .. } => "decoder-critic",
        }
    }

    /// The networks this critic trains, for inputs of widths dx and dy, in parameter order.
    pub fn networks(&self, dx: usize, dy: usize) -> Vec<MlpConfig> {
        match self {
            CriticForm::Separable { hidden, embed } => vec![
                MlpConfig::new(dx, hidden, *embed),
                MlpConfig::new(dy, hidden, *embed),
            ],
            CriticForm::Concat { hidden } | CriticForm::Shuffled { hidden } => {
                vec![MlpConfig::new(dx + dy, hidden, 1)]
            }
            CriticForm::Decoder { hidden } => vec![MlpConfig::new(dx, hidden, 2 * dy)],
            CriticForm::DecoderCritic { hidden } => vec![
                MlpConfig::new(dx, hidden, 2 * dy),
                MlpConfig::new(dx + dy, hidden, 1),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_contiguous_and_counts_parameters() {
        let cfg = MlpConfig::new(3, &[5, 4], 1);
        let layers = cfg.layers();
        assert_eq!(layers.len(), 3);
        assert_eq!(layers[0].w_off, 0);
        assert_eq!(layers[0].b_off, 15);
        assert_eq!(layers[1].w_off, 20);
        assert_eq!(layers[2].w_off, 20 + 20 + 4);
        assert_eq!(cfg.param_count(), 3 * 5 + 5 + 5 * 4 + 4 + 4 + 1);
        assert!(layers[0].activated && layers[1].activated && !layers[2].activated);
    }

    #[test]
    fn init_is_seeded_and_within_fan_in_bounds() {
        let cfg = MlpConfig::new(4, &[9], 2);
        let a = cfg.init(7);
        assert_eq!(a, cfg.init(7));
        assert_ne!(a, cfg.init(8));
        for layer in cfg.layers() {
            let bound = 1.0 / (layer.fan_in as f32).sqrt();
            for p in &a[layer.w_off..layer.b_off + layer.fan_out] {
                assert!(p.abs() <= bound);
            }
        }
    }
}
