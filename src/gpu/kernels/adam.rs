//! Adam and the device step counter (`adam.wgsl`).

use bytemuck::{Pod, Zeroable};

use super::{check_fits, check_fits_rep, check_replicas, to_u32, Strided, MAX_REPLICAS};
use crate::gpu::buffer::GpuBuffer;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::Dispatch;
use crate::gpu::error::GpuError;
use crate::gpu::pipelines::{Binding, KernelKey};
use crate::gpu::shaders::Family;
use crate::math::optim::AdamConfig;

/// `adam_step`'s workgroup size (`WG` in `adam.wgsl`).
const WORKGROUP: usize = 256;

/// Bytes of `adam.wgsl`'s learning-rate table (`lrs`: four a vec4).
const ADAM_TABLE_BYTES: usize = MAX_REPLICAS * 4;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AdamParams {
    n: u32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decoupled: u32,
    params_rs: u32,
    grads_rs: u32,
    m_rs: u32,
    v_rs: u32,
    _pad: [u32; 2],
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
    /// Flag bit: a parameter or gradient was not finite (Adam's own check).
    pub const NONFINITE_PARAM: u32 = 2;
    /// Flag bit: the gradient's global norm was not finite (recorded before Adam, which then
    /// skips the step).
    pub const NONFINITE_GRAD: u32 = 4;
    /// Flag bit: the host froze the replica (early stopping); Adam leaves it alone.
    pub const FROZEN: u32 = 8;
    /// Flag bit: set by the end-of-step tick when the step ended with any flag raised; Adam
    /// leaves the replica alone from the next step on.
    pub const HALTED: u32 = 16;
    /// The flags that mean a non-finite number was produced.
    pub const DIVERGED: u32 = NONFINITE_VALUE | NONFINITE_PARAM | NONFINITE_GRAD;
    /// Elements of one replica's state; a replicated run's state holds one block of `LEN` a
    /// replica, replica r's at r · `LEN`.
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
    /// step t comes from `state` (t = state[STEP] + 1). A state whose flags say the run
    /// stopped (any flag but Adam's own [`state::NONFINITE_PARAM`]) leaves the parameters as
    /// they are.
    pub fn adam(
        &self,
        config: &AdamConfig,
        params: &GpuBuffer,
        grads: &GpuBuffer,
        m: &GpuBuffer,
        v: &GpuBuffer,
        state: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let solo = Strided::shared;
        self.adam_replicated(
            std::slice::from_ref(config),
            params.len(),
            [solo(params), solo(grads), solo(m), solo(v)],
            state,
        )
    }

    /// [`Self::adam`] of R = `configs.len()` replicas of `n` parameters each in one launch:
    /// replica r's blocks of `params`, `grads`, `m` and `v` by their strides, its state at
    /// r · [`state::LEN`], its learning rate `configs[r].lr`. The other settings must be
    /// replica 0's.
    pub(crate) fn adam_replicated(
        &self,
        configs: &[AdamConfig],
        n: usize,
        [params, grads, m, v]: [Strided<'_>; 4],
        state: &GpuBuffer,
    ) -> Result<Dispatch, GpuError> {
        let r = configs.len();
        check_replicas(r)?;
        let config = &configs[0];
        if let Some(i) = configs.iter().position(|c| {
            AdamConfig {
                lr: config.lr,
                ..*c
            } != *config
        }) {
            return Err(GpuError::ReplicaMismatch {
                replica: i,
                what: "optimiser settings other than the learning rate",
            });
        }
        for (what, b) in [
            ("parameters", params),
            ("gradients", grads),
            ("first moments", m),
            ("second moments", v),
        ] {
            check_fits_rep(what, b, n, r)?;
        }
        check_fits("state", state, r * state::LEN)?;
        let params_u = AdamParams {
            n: to_u32("parameters", n)?,
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            weight_decay: config.weight_decay,
            decoupled: config.decoupled as u32,
            params_rs: params.stride_u32()?,
            grads_rs: grads.stride_u32()?,
            m_rs: m.stride_u32()?,
            v_rs: v.stride_u32()?,
            _pad: [0; 2],
        };
        let grid = self.with_replicas("adam", self.grid("adam", n, WORKGROUP)?, r)?;
        let key = KernelKey {
            family: Family::Adam,
            entry: "adam_step",
            overrides: vec![],
            template: Vec::new(),
            bindings: vec![
                Binding::Uniform,
                Binding::Write,
                Binding::Read,
                Binding::Write,
                Binding::Write,
                Binding::Write,
            ],
        };
        let lrs: Vec<f32> = configs.iter().map(|c| c.lr).collect();
        let uniform = self.uniform_with_table("adam", &params_u, &lrs, ADAM_TABLE_BYTES);
        Ok(self.bind(
            &key,
            &[
                &uniform,
                params.raw(),
                grads.raw(),
                m.raw(),
                v.raw(),
                &state.buffer,
            ],
            grid,
        ))
    }

    /// Prepares the end-of-step tick: state[STEP] += 1, and a state whose flags are raised
    /// is marked [`state::HALTED`].
    pub fn tick(&self, state: &GpuBuffer) -> Result<Dispatch, GpuError> {
        self.tick_replicated(state, 1)
    }

    /// [`Self::tick`] of each of `replicas` states (replica r's at r · [`state::LEN`]).
    pub(crate) fn tick_replicated(
        &self,
        state: &GpuBuffer,
        replicas: usize,
    ) -> Result<Dispatch, GpuError> {
        check_fits("state", state, replicas.max(1) * state::LEN)?;
        let key = KernelKey {
            family: Family::Adam,
            entry: "tick",
            overrides: vec![],
            template: Vec::new(),
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
        let grid = self.with_replicas("tick", [1, 1, 1], replicas)?;
        Ok(self.bind(&key, &[s, s, s, s, s, s], grid))
    }
}

#[cfg(test)]
mod tests {
    use crate::gpu::shaders::{check_replica_table, Family};

    #[test]
    fn the_replica_table_sits_where_the_host_writes_it() {
        let header = std::mem::size_of::<super::AdamParams>();
        check_replica_table(Family::Adam, "AdamParams", header, "lrs", 4);
    }
}
