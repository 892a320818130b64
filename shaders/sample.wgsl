// Random draws on the device with the counter-based generator of rng.wgsl (prepended):
// minibatches and negatives for training, synthetic batches of the staircase task (SPEC §4),
// and raw streams that tests compare with Rust. Twins: src/cpu/ops.rs (gather_shuffled) and
// src/cpu/sample.rs (the rest). Every entry runs on the two-dimensional grid of
// GpuContext::grid (num_flat_index), so a launch past 65 535 workgroups folds into y.
//
// Replicas: the grid's z is the replica r (one for a solo run, and for the fills). Replica r
// draws with its own key (keys, below) and its own state (at r · NUM_STATE_LEN); its outputs
// start *_rs elements after replica r − 1's; its data rows are rows r · rows_rs .. of xs and
// ys (rows_rs = 0: all replicas draw from the same rows), its ρ schedule at r · rho_rs.

struct SampleParams {
    // Data rows (gathers), elements to draw (fills) or entries of the ρ schedule (synthetic).
    n: u32,
    // Batch size K (gathers, synthetic).
    k: u32,
    // Columns of x and of y (gathers); both d (synthetic).
    dx: u32,
    dy: u32,
    // Row stride of the shuffled layout (dx + dy).
    ld: u32,
    // Purpose (fills).
    purpose: u32,
    // Step (fills; gathers and synthetic batches read it from `state`).
    step: u32,
    // Data rows in each part of xs and ys but the last (gathers; see x_at).
    rows_per_part: u32,
    // Per-replica strides: elements of out and out_y, data rows, entries of rho.
    out_rs: u32,
    out_y_rs: u32,
    rows_rs: u32,
    rho_rs: u32,
    // Each replica's key, the host's seed_key(seed), two a vector: replica r's is
    // keys[r / 2].xy for even r, .zw for odd r (`kernels::MAX_REPLICAS` in all).
    keys: array<vec4<u32>, 512>,
}

@group(0) @binding(0) var<uniform> p: SampleParams;
// The data, split by rows over up to four bindings each when larger than one binding allows
// (src/gpu/rows.rs): part q holds rows q·rows_per_part.. . Unused parts repeat the last.
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ys: array<f32>;
@group(0) @binding(7) var<storage, read> xs1: array<f32>;
@group(0) @binding(8) var<storage, read> xs2: array<f32>;
@group(0) @binding(9) var<storage, read> xs3: array<f32>;
@group(0) @binding(10) var<storage, read> ys1: array<f32>;
@group(0) @binding(11) var<storage, read> ys2: array<f32>;
@group(0) @binding(12) var<storage, read> ys3: array<f32>;
// The shuffled layout, the x half of a split batch, or a fill.
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;
// The y half of a split batch (gather_batch, sample_gaussian_batch).
@group(0) @binding(5) var<storage, read_write> out_y: array<f32>;
// The per-step ρ schedule of the synthetic Gaussian (p.n entries).
@group(0) @binding(6) var<storage, read> rho: array<f32>;

// The map applied to synthetic y: 0 identity, 1 cube (`Transform::shader_code`).
override TRANSFORM: u32 = 0u;

// The invocation's replica's key, offsets and first data row (`enter`).
var<private> key: vec2<u32>;
var<private> out0: u32;
var<private> out_y0: u32;
var<private> row0: u32;
var<private> rho0: u32;
var<private> st0: u32;

fn enter(r: u32) {
    let pair = p.keys[r / 2u];
    key = select(pair.xy, pair.zw, (r & 1u) == 1u);
    out0 = r * p.out_rs;
    out_y0 = r * p.out_y_rs;
    row0 = r * p.rows_rs;
    rho0 = r * p.rho_rs;
    st0 = r * NUM_STATE_LEN;
}

// First normal index of the synthetic noise ε (`cpu::sample::NOISE_OFFSET`): x uses indices
// below it, ε above, so the two never share a draw while K·d ≤ 2^31 (checked by the host).
const NOISE_OFFSET: u32 = 0x80000000u;

// Element (row, c) of the replica's data x: the part that holds the row, then the row within
// it.
fn x_at(row_in: u32, c: u32) -> f32 {
    let row = row0 + row_in;
    let q = row / p.rows_per_part;
    let i = (row - q * p.rows_per_part) * p.dx + c;
    switch q {
        case 0u: { return xs[i]; }
        case 1u: { return xs1[i]; }
        case 2u: { return xs2[i]; }
        default: { return xs3[i]; }
    }
}

// Element (row, c) of the replica's data y (see x_at).
fn y_at(row_in: u32, c: u32) -> f32 {
    let row = row0 + row_in;
    let q = row / p.rows_per_part;
    let i = (row - q * p.rows_per_part) * p.dy + c;
    switch q {
        case 0u: { return ys[i]; }
        case 1u: { return ys1[i]; }
        case 2u: { return ys2[i]; }
        default: { return ys3[i]; }
    }
}

// The step's minibatch: a fresh permutation σ of the n data rows; batch entry i is row σ(i),
// so a batch never repeats a row. gather_shuffled and gather_batch share it, so both
// layouts of one step hold the same rows.
fn minibatch(step: u32) -> RngPerm {
    return rng_perm_new(key, RNG_MINIBATCH, step, p.n);
}

// Row r of the shuffled layout (2K rows) pairs batch entries (i, j): i = r mod K, and j = i
// for the K joint rows, j = π(i) for the K product rows, π the step's random cyclic
// derangement of the batch (MINE-style negatives, never a row with itself).
fn shuffled_pair(step: u32, r: u32) -> vec2<u32> {
    let i = r % p.k;
    var j = i;
    if (r >= p.k) {
        j = rng_derangement(rng_perm_new(key, RNG_NEGATIVES, step, p.k), i);
    }
    return vec2<u32>(i, j);
}

// A batch of K joint rows [x_i ; y_i] followed by K product rows [x_i ; y_π(i)] of the data,
// one invocation a row (the permutation is walked once per row, not once per element).
@compute @workgroup_size(64)
fn gather_shuffled(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let r = num_flat_index(gid, groups, 64u);
    if (r >= 2u * p.k) {
        return;
    }
    let step = state[st0 + NUM_STATE_STEP];
    let batch = minibatch(step);
    let pair = shuffled_pair(step, r);
    let xi = rng_perm_apply(batch, pair.x);
    var yi = xi;
    if (pair.y != pair.x) {
        yi = rng_perm_apply(batch, pair.y);
    }
    for (var c = 0u; c < p.dx; c++) {
        out[out0 + r * p.ld + c] = x_at(xi, c);
    }
    for (var c = 0u; c < p.dy; c++) {
        out[out0 + r * p.ld + p.dx + c] = y_at(yi, c);
    }
}

// The same batch for the full-matrix critics: out = Xb (K × dx) and out_y = Yb (K × dy),
// row i from data row σ(i), i.e. the joint rows of gather_shuffled at the same step.
@compute @workgroup_size(64)
fn gather_batch(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let i = num_flat_index(gid, groups, 64u);
    if (i >= p.k) {
        return;
    }
    let row = rng_perm_apply(minibatch(state[st0 + NUM_STATE_STEP]), i);
    for (var c = 0u; c < p.dx; c++) {
        out[out0 + i * p.dx + c] = x_at(row, c);
    }
    for (var c = 0u; c < p.dy; c++) {
        out_y[out_y0 + i * p.dy + c] = y_at(row, c);
    }
}

// ρ of the step; steps past the schedule keep its last entry.
fn gauss_rho(step: u32) -> f32 {
    return rho[rho0 + min(step, p.n - 1u)];
}

// Element e = i·d + c of the synthetic x: normal e of (key, Gaussian, step).
fn gauss_x(step: u32, e: u32) -> f32 {
    return rng_normal(key, RNG_GAUSSIAN, step, e);
}

// y = transform(ρx + √(1−ρ²) ε); max(.., 0) keeps |ρ| = 1 finite (y = ±x).
fn gauss_y_from(x: f32, noise: f32, r: f32) -> f32 {
    let y = r * x + sqrt(max(1.0 - r * r, 0.0)) * noise;
    if (TRANSFORM == 1u) {
        return y * y * y;
    }
    return y;
}

// Element e of the synthetic y, recomputing its x (a pure function, so the product rows of
// the shuffled layout get exactly the y of the joint row they borrow).
fn gauss_y(step: u32, e: u32, r: f32) -> f32 {
    let noise = rng_normal(key, RNG_GAUSSIAN, step, NOISE_OFFSET + e);
    return gauss_y_from(gauss_x(step, e), noise, r);
}

// The staircase on the device, one invocation an element: out = Xb (K × d) standard normals,
// out_y = Yb (K × d) their correlated partners, for the step in state[st0 + NUM_STATE_STEP].
@compute @workgroup_size(64)
fn sample_gaussian_batch(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let e = num_flat_index(gid, groups, 64u);
    if (e >= p.k * p.dx) {
        return;
    }
    let step = state[st0 + NUM_STATE_STEP];
    let x = gauss_x(step, e);
    let noise = rng_normal(key, RNG_GAUSSIAN, step, NOISE_OFFSET + e);
    out[out0 + e] = x;
    out_y[out_y0 + e] = gauss_y_from(x, noise, gauss_rho(step));
}

// The same draws in gather_shuffled's layout (2K × 2d): row r = [x_i ; y_j] with (i, j) from
// shuffled_pair, so the joint critic can train on the staircase. One invocation an element.
@compute @workgroup_size(64)
fn sample_gaussian_shuffled(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let e = num_flat_index(gid, groups, 64u);
    let d = p.dx;
    if (e >= 4u * p.k * d) {
        return;
    }
    let step = state[st0 + NUM_STATE_STEP];
    let r = e / (2u * d);
    let c = e % (2u * d);
    let pair = shuffled_pair(step, r);
    if (c < d) {
        out[out0 + e] = gauss_x(step, pair.x * d + c);
    } else {
        out[out0 + e] = gauss_y(step, pair.y * d + c - d, gauss_rho(step));
    }
}

// out[i] = the i-th standard normal of stream (key, purpose, step).
@compute @workgroup_size(64)
fn fill_normal(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let i = num_flat_index(gid, groups, 64u);
    if (i >= p.n) {
        return;
    }
    out[i] = rng_normal(key, p.purpose, p.step, i);
}

// out[4i .. 4i+4] = the raw words of block i, as f32 bit patterns (tests compare bits).
@compute @workgroup_size(64)
fn fill_words(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let i = num_flat_index(gid, groups, 64u);
    if (i >= p.n) {
        return;
    }
    let w = rng_draw(key, p.purpose, p.step, i);
    for (var j = 0u; j < 4u; j++) {
        out[4u * i + j] = bitcast<f32>(w[j]);
    }
}

// out[i] = σ(i) for a permutation of [0, n), and out[n + i] = the derangement π(i), as bit patterns.
@compute @workgroup_size(64)
fn fill_permutation(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z);
    let i = num_flat_index(gid, groups, 64u);
    if (i >= p.n) {
        return;
    }
    let perm = rng_perm_new(key, p.purpose, p.step, p.n);
    out[i] = bitcast<f32>(rng_perm_apply(perm, i));
    out[p.n + i] = bitcast<f32>(rng_derangement(perm, i));
}
