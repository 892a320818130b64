//! Optimiser settings shared by both backends.

/// Adam's hyper-parameters (PyTorch names and defaults, but lr = 5e-4 as SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
    /// Weight decay (0 disables it).
    pub weight_decay: f32,
    /// Decoupled weight decay (AdamW) instead of an L2 term in the gradient.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 5e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// Sets the learning rate.
    pub fn with_lr(mut self, lr: f32) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the denominator guard ε.
    pub fn with_eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// Sets weight decay, decoupled (AdamW) or as an L2 term (Adam).
    pub fn with_weight_decay(mut self, weight_decay: f32, decoupled: bool) -> Self {
        self.weight_decay = weight_decay;
        self.decoupled = decoupled;
        self
    }
}
