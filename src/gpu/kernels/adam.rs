//! Adam and the device step counter (`adam.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, to_u32};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::optim::AdamConfig;

/// `adam_step`'s workgroup size (`WG` in `adam.wgsl`).
const WORKGROUP: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AdamParams {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decoupled: u32,
    _pad: u32,
}

/// Layout of the device state buffer that every training kernel shares; the shaders name it
/// `NUM_STATE_*` and `NUM_FLAG_*` (`numerics.wgsl`, checked against this by `tests/shaders.rs`).
pub mod state {
    /// Index of the step counter.
    pub const STEP: usize = 0;
    /// Index of the divergence flags.
    pub const FLAGS: usize = 1;
    /// Index of the first step that raised a flag (u32::MAX while none has).
    pub const FIRST_BAD_STEP: usize = 2;
    /// Index of MINE's moving average of the partition term, log m_t as f32 bits.
    pub const MINE_LOG_EMA: usize = 3;
    /// Flag bit: a bound value was not finite.
    pub const NONFINITE_VALUE: u32 = 1;
    /// Flag bit: a parameter or gradient was not finite.
    pub const NONFINITE_PARAM: u32 = 2;
    /// Elements of the state buffer.
    pub const LEN: usize = 4;
    /// The state at step `step` with no flag raised.
    pub fn initial(step: u32) -> [u32; LEN] {
        [step, 0, u32::MAX, 0]
    }
}

// Typed launches the trainers compile a step program into: internals, out of the
// documented surface (`tests/` call them directly).
#[doc(hidden)]
impl GpuContext {
    /// Prepares one Adam update of all `params` from `grads`, with moments `m` and `v`; the
    /// step t comes from `state` (t = state[STEP] + 1).
    pub fn adam(
        &self,
        config: &AdamConfig,
        params: &GpuBuffer,
        grads: &GpuBuffer,
        m: &GpuBuffer,
        v: &GpuBuffer,
        state: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let n = params.len();
        for (what, b) in [
            ("gradients", grads),
            ("first moments", m),
            ("second moments", v),
        ] {
            check_fits(what, b, n)?;
        }
        check_fits("state", state, state::LEN)?;
        let params_u = AdamParams {
            n: to_u32("parameters", n)?,
            lr: config.lr,
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            weight_decay: config.weight_decay,
            decoupled: config.decoupled as u32,
            _pad: 0,
        };
        let grid = self.grid("adam", n, WORKGROUP)?;
        let key = KernelKey {
            family: Family::Adam,
            entry: "adam_step",
            overrides: vec![],
            bindings: vec![
                Binding::Uniform,
                Binding::Write,
                Binding::Read,
                Binding::Write,
                Binding::Write,
                Binding::Write,
            ],
        };
        let uniform = self.uniform("adam", &params_u);
        Ok(self.bind(
            &key,
            &[
                &uniform,
                &params.buffer,
                &grads.buffer,
                &m.buffer,
                &v.buffer,
                &state.buffer,
            ],
            grid,
        ))
    }

    /// Prepares the end-of-step tick: state[STEP] += 1.
    pub fn tick(&self, state: &GpuBuffer) -> Result<Dispatch, GpuError> {
        check_fits("state", state, state::LEN)?;
        let key = KernelKey {
            family: Family::Adam,
            entry: "tick",
            overrides: vec![],
            bindings: vec![
                Binding::Unused,
                Binding::Unused,
                Binding::Unused,
                Binding::Unused,
                Binding::Unused,
                Binding::Write,
            ],
        };
        let s = &state.buffer;
        Ok(self.bind(&key, &[s, s, s, s, s, s], [1, 1, 1]))
    }
}
