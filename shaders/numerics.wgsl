// numerics.wgsl: the numerical helpers, the device state layout and the 2-D grid index that
// the kernel families share.
//
// Library only: this text is prepended to other shader modules (`Family::source`), so it
// defines no entry points, no bindings, and only names prefixed `num_` / `NUM_` to stay out of
// the way of the including module.

// The lowest finite f32: the identity of max and the starting max of a log-sum-exp.
const NUM_LOWEST: f32 = -3.4028234e38;
// Exponents that are neither max-shifted nor bounded above are clipped here (e^80 < f32::MAX).
const NUM_EXP_CLIP: f32 = 80.0;

// The device state buffer, `kernels::state` on the host (tests/shaders.rs checks they agree).
// The step counter (0-based, incremented by `tick` at the end of each step).
const NUM_STATE_STEP: u32 = 0u;
// Divergence flags, NUM_FLAG_* bits.
const NUM_STATE_FLAGS: u32 = 1u;
// The first step that raised a flag (0xFFFFFFFF while none has).
const NUM_STATE_FIRST_BAD_STEP: u32 = 2u;
// MINE's log m_t as f32 bits (written by the bound kernels, read at the next step).
const NUM_STATE_MINE_LOG_EMA: u32 = 3u;
// Words of one replica's state: replica r's state starts at r · NUM_STATE_LEN.
const NUM_STATE_LEN: u32 = 4u;
// A bound value was not finite.
const NUM_FLAG_NONFINITE_VALUE: u32 = 1u;
// A parameter or gradient was not finite (Adam's own check).
const NUM_FLAG_NONFINITE_PARAM: u32 = 2u;
// The gradient's global norm was not finite (recorded before Adam, so Adam skips that step).
const NUM_FLAG_NONFINITE_GRAD: u32 = 4u;
// The host froze the replica (early stopping): Adam leaves its parameters alone.
const NUM_FLAG_FROZEN: u32 = 8u;
// Set by `tick` at the end of a step that ended with any flag raised: the replica has stopped
// and Adam leaves its parameters alone from the next step on.
const NUM_FLAG_HALTED: u32 = 16u;

// Whether Adam leaves replica's parameters alone this step: any flag but Adam's own (which
// Adam raises while it runs, so reading it there would split one step's update).
fn num_adam_skips(flags: u32) -> bool {
    return (flags & ~NUM_FLAG_NONFINITE_PARAM) != 0u;
}

// log(1 + e^x), without overflow.
fn num_softplus(x: f32) -> f32 {
    return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// 1 / (1 + e^(−x)), without overflow.
fn num_sigmoid(x: f32) -> f32 {
    let e = exp(-abs(x));
    return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// Neither ±∞ nor NaN, from the exponent bits (WGSL has no isinf / isnan).
fn num_is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// log(e^a + e^b).
fn num_log_add_exp(a: f32, b: f32) -> f32 {
    return max(a, b) + log(1.0 + exp(-abs(a - b)));
}

// Online log-sum-exp: (max, Σ exp(v − max)); start from (NUM_LOWEST, 0).
fn num_lse_push(acc: vec2<f32>, v: f32) -> vec2<f32> {
    let m = max(acc.x, v);
    return vec2<f32>(m, acc.y * exp(acc.x - m) + exp(v - m));
}

// Two online log-sum-exps combined.
fn num_lse_merge(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let m = max(a.x, b.x);
    return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

// The flat index of an invocation on the two-dimensional grid of `GpuContext::grid`: rows of
// num_workgroups.x workgroups of `workgroup_size` (the entry point's, along x only), so a
// launch past the per-dimension limit of workgroups still fits one dispatch.
fn num_flat_index(gid: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
    return gid.x + gid.y * groups.x * workgroup_size;
}
