// Adam over every parameter of a model in one dispatch (PyTorch semantics), and the device
// step counter that every kernel of a training step reads. The state buffer's layout is
// numerics.wgsl's NUM_STATE_* (prepended).
//
// Replicas: the grid's z is the replica r (one for a solo run). Replica r's parameters,
// gradients and moments start at r · *_rs, its state at r · NUM_STATE_LEN, and its learning
// rate is lrs[r / 4][r % 4]; the x/y grid covers one replica's n parameters, whatever R is.

struct AdamParams {
    n: u32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    // 0: L2 penalty added to the gradient (torch.optim.Adam); 1: decoupled (torch.optim.AdamW).
    decoupled: u32,
    // Per-replica strides (elements) of params, grads, m1 and m2.
    params_rs: u32,
    grads_rs: u32,
    m_rs: u32,
    v_rs: u32,
    _pad0: u32,
    _pad1: u32,
    // Each replica's learning rate, four a vector (`kernels::MAX_REPLICAS` in all).
    lrs: array<vec4<f32>, 256>,
}

@group(0) @binding(0) var<uniform> p: AdamParams;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<atomic<u32>>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn adam_step(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    // Two-dimensional grid so models past 65 535 × 256 parameters still fit one dispatch.
    let i = num_flat_index(gid, groups, WG);
    if (i >= p.n) {
        return;
    }
    let r = gid.z;
    let st = r * NUM_STATE_LEN;
    // A replica that stopped (diverged, or frozen by the host) keeps its parameters exactly.
    if (num_adam_skips(atomicLoad(&state[st + NUM_STATE_FLAGS]))) {
        return;
    }
    let lr = p.lrs[r / 4u][r % 4u];
    let step = atomicLoad(&state[st + NUM_STATE_STEP]);
    let t = f32(step + 1u);
    let pi = r * p.params_rs + i;
    let mi = r * p.m_rs + i;
    let vi = r * p.v_rs + i;
    var g = grads[r * p.grads_rs + i];
    var w = params[pi];
    if (p.decoupled == 1u) {
        w = w * (1.0 - lr * p.weight_decay);
    } else {
        g = g + p.weight_decay * w;
    }
    let mt = p.beta1 * m1[mi] + (1.0 - p.beta1) * g;
    let vt = p.beta2 * m2[vi] + (1.0 - p.beta2) * g * g;
    let bc1 = 1.0 - pow(p.beta1, t);
    let bc2 = 1.0 - pow(p.beta2, t);
    let denom = sqrt(vt) / sqrt(bc2) + p.eps;
    w = w - (lr / bc1) * mt / denom;
    m1[mi] = mt;
    m2[vi] = vt;
    params[pi] = w;
    if (!num_is_finite(w) || !num_is_finite(g)) {
        atomicOr(&state[st + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_PARAM);
        atomicMin(&state[st + NUM_STATE_FIRST_BAD_STEP], step);
    }
}

// The end of a step, replica gid.z: its step counter advances, and a replica that ended the
// step with a flag raised is marked halted, so Adam skips it from the next step on.
@compute @workgroup_size(1)
fn tick(@builtin(global_invocation_id) gid: vec3<u32>) {
    let st = gid.z * NUM_STATE_LEN;
    atomicAdd(&state[st + NUM_STATE_STEP], 1u);
    if (atomicLoad(&state[st + NUM_STATE_FLAGS]) != 0u) {
        atomicOr(&state[st + NUM_STATE_FLAGS], NUM_FLAG_HALTED);
    }
}
