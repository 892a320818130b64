// Adam over every parameter of a model in one dispatch (PyTorch semantics), and the device
// step counter that every kernel of a training step reads. The state buffer's layout is
// numerics.wgsl's NUM_STATE_* (prepended).

struct AdamParams {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    // 0: L2 penalty added to the gradient (torch.optim.Adam); 1: decoupled (torch.optim.AdamW).
    decoupled: u32,
    _pad: u32,
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
    let step = atomicLoad(&state[NUM_STATE_STEP]);
    let t = f32(step + 1u);
    var g = grads[i];
    var w = params[i];
    if (p.decoupled == 1u) {
        w = w * (1.0 - p.lr * p.weight_decay);
    } else {
        g = g + p.weight_decay * w;
    }
    let mt = p.beta1 * m1[i] + (1.0 - p.beta1) * g;
    let vt = p.beta2 * m2[i] + (1.0 - p.beta2) * g * g;
    let bc1 = 1.0 - pow(p.beta1, t);
    let bc2 = 1.0 - pow(p.beta2, t);
    let denom = sqrt(vt) / sqrt(bc2) + p.eps;
    w = w - (p.lr / bc1) * mt / denom;
    m1[i] = mt;
    m2[i] = vt;
    params[i] = w;
    if (!num_is_finite(w) || !num_is_finite(g)) {
        atomicOr(&state[NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_PARAM);
        atomicMin(&state[NUM_STATE_FIRST_BAD_STEP], step);
    }
}

@compute @workgroup_size(1)
fn tick() {
    atomicAdd(&state[NUM_STATE_STEP], 1u);
}
