// The global L2 norm of a gradient and its rescaling: recorded every training step, a max-norm
// clip before Adam, and Belghazi et al.'s adaptive clip of an MI gradient against a main
// loss's gradient norm (SPEC-free helpers; see src/clip.rs for the formulas).
//
// The norm is a deterministic two-stage reduction (no float atomics): stage 1 folds a fixed
// strided subset per invocation and a fixed tree per workgroup; stage 2 folds the partials in
// one workgroup. Partials are (scale, Σ (x/scale)²) pairs, as BLAS nrm2 keeps them, so no
// square overflows or underflows f32 before the square root.
//
// The scratch buffer `part` holds 2·groups partial values, then the norm, then the factor
// the gradient is multiplied by.
//
// Replicas: the grid's z is the replica r (one for a solo run): replica r's gradient (n
// elements), scratch and limit start *_rs elements after replica r − 1's, its norm history at
// r · hist_len and its state at r · NUM_STATE_LEN. Each replica's norm is its own reduction,
// in the same fixed order as a solo run's.

struct ClipParams {
    // Elements of the gradient (of one replica).
    n: u32,
    // Workgroups of stage 1.
    groups: u32,
    // Norm history slots (record_norm writes slot step % hist_len).
    hist_len: u32,
    // 0: factor 1 (norm only); 1: max-norm clip to limit[0]; 2: adaptive, min(limit[0], ‖g‖)/‖g‖.
    mode: u32,
    // Per-replica strides (elements) of grads, part and limit.
    grads_rs: u32,
    part_rs: u32,
    limit_rs: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ClipParams;
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> limit: array<f32>;

const WG: u32 = 256u;

// (scale, Σ (x/scale)²) of one value.
fn lift(v: f32) -> vec2<f32> {
    let a = abs(v);
    if (a == 0.0) {
        return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(a, 1.0);
}

fn combine(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    let s = max(x.x, y.x);
    if (s == 0.0) {
        return vec2<f32>(0.0, 0.0);
    }
    let rx = x.x / s;
    let ry = y.x / s;
    return vec2<f32>(s, x.y * rx * rx + y.y * ry * ry);
}

var<workgroup> scratch: array<vec2<f32>, 256>;

fn tree(t: u32, mine: vec2<f32>) -> vec2<f32> {
    scratch[t] = mine;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (t < s) {
            scratch[t] = combine(scratch[t], scratch[t + s]);
        }
        workgroupBarrier();
    }
    return scratch[0];
}

// Stage 1: workgroup g folds elements g·WG + t + r·groups·WG, then its tree.
@compute @workgroup_size(256)
fn norm_partial(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let t = lid.x;
    let g0 = wg.z * p.grads_rs;
    let part0 = wg.z * p.part_rs;
    var acc = vec2<f32>(0.0, 0.0);
    for (var i = wg.x * WG + t; i < p.n; i += p.groups * WG) {
        acc = combine(acc, lift(grads[g0 + i]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        part[part0 + 2u * wg.x] = total.x;
        part[part0 + 2u * wg.x + 1u] = total.y;
    }
}

// Stage 2: the norm from the partials, and the factor the mode asks for.
@compute @workgroup_size(256)
fn norm_finish(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let t = lid.x;
    let part0 = wg.z * p.part_rs;
    var acc = vec2<f32>(0.0, 0.0);
    for (var i = t; i < p.groups; i += WG) {
        acc = combine(acc, vec2<f32>(part[part0 + 2u * i], part[part0 + 2u * i + 1u]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        let lim = limit[wg.z * p.limit_rs];
        let norm = total.x * sqrt(total.y);
        var factor = 1.0;
        if (norm > 0.0) {
            if (p.mode == 1u && norm > lim) {
                factor = lim / norm;
            }
            if (p.mode == 2u) {
                factor = min(lim, norm) / norm;
            }
        }
        part[part0 + 2u * p.groups] = norm;
        part[part0 + 2u * p.groups + 1u] = factor;
    }
}

// The step's norm into the history, at the device step counter. A non-finite norm raises the
// state's flag before Adam runs, so Adam leaves the parameters of that step alone.
@compute @workgroup_size(1)
fn record_norm(@builtin(workgroup_id) wg: vec3<u32>) {
    let st = wg.z * NUM_STATE_LEN;
    let step = atomicLoad(&state[st + NUM_STATE_STEP]);
    let norm = part[wg.z * p.part_rs + 2u * p.groups];
    hist[wg.z * p.hist_len + step % p.hist_len] = norm;
    if (!num_is_finite(norm)) {
        atomicOr(&state[st + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_GRAD);
        atomicMin(&state[st + NUM_STATE_FIRST_BAD_STEP], step);
    }
}

// g ← factor · g over a two-dimensional grid.
@compute @workgroup_size(256)
fn scale_grads(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = num_flat_index(gid, groups, WG);
    if (i >= p.n) {
        return;
    }
    let g = gid.z * p.grads_rs + i;
    grads[g] = grads[g] * part[gid.z * p.part_rs + 2u * p.groups + 1u];
}
