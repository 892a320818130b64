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

struct ClipParams {
    // Elements of the gradient.
    n: u32,
    // Workgroups of stage 1.
    groups: u32,
    // Norm history slots (record_norm writes slot step % hist_len).
    hist_len: u32,
    // 0: factor 1 (norm only); 1: max-norm clip to limit[0]; 2: adaptive, min(limit[0], ‖g‖)/‖g‖.
    mode: u32,
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
    var acc = vec2<f32>(0.0, 0.0);
    for (var i = wg.x * WG + t; i < p.n; i += p.groups * WG) {
        acc = combine(acc, lift(grads[i]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        part[2u * wg.x] = total.x;
        part[2u * wg.x + 1u] = total.y;
    }
}

// Stage 2: the norm from the partials, and the factor the mode asks for.
@compute @workgroup_size(256)
fn norm_finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    var acc = vec2<f32>(0.0, 0.0);
    for (var i = t; i < p.groups; i += WG) {
        acc = combine(acc, vec2<f32>(part[2u * i], part[2u * i + 1u]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        let norm = total.x * sqrt(total.y);
        var factor = 1.0;
        if (norm > 0.0) {
            if (p.mode == 1u && norm > limit[0]) {
                factor = limit[0] / norm;
            }
            if (p.mode == 2u) {
                factor = min(limit[0], norm) / norm;
            }
        }
        part[2u * p.groups] = norm;
        part[2u * p.groups + 1u] = factor;
    }
}

// The step's norm into the history, at the device step counter.
@compute @workgroup_size(1)
fn record_norm() {
    let step = atomicLoad(&state[NUM_STATE_STEP]);
    hist[step % p.hist_len] = part[2u * p.groups];
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
    grads[i] = grads[i] * part[2u * p.groups + 1u];
}
