// Random draws on the device with the counter-based generator of rng.wgsl (prepended):
// minibatches and negatives for training, and raw streams that tests compare with Rust.

struct SampleParams {
    // Data rows (gather) or elements to draw (fills).
    n: u32,
    // Batch size (gather).
    k: u32,
    dx: u32,
    dy: u32,
    key: vec2<u32>,
    // Row stride of the gathered batch (dx + dy).
    ld: u32,
    // Purpose (fills).
    purpose: u32,
    // Step (fills; gather reads it from `state`).
    step: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ys: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;

// A batch of K joint rows [x_i ; y_i] followed by K product rows [x_i ; y_π(i)], where the
// batch is the first K entries of a fresh random permutation of the n data rows (no repeats
// within a batch) and π is a random cyclic derangement of the batch (MINE-style negatives).
@compute @workgroup_size(64)
fn gather_shuffled(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= 2u * p.k) {
        return;
    }
    let step = state[0];
    let batch = rng_perm_new(p.key, RNG_MINIBATCH, step, p.n);
    let i = r % p.k;
    let xi = rng_perm_apply(batch, i);
    var yi = xi;
    if (r >= p.k) {
        let negatives = rng_perm_new(p.key, RNG_NEGATIVES, step, p.k);
        yi = rng_perm_apply(batch, rng_derangement(negatives, i));
    }
    for (var c = 0u; c < p.dx; c++) {
        out[r * p.ld + c] = xs[xi * p.dx + c];
    }
    for (var c = 0u; c < p.dy; c++) {
        out[r * p.ld + p.dx + c] = ys[yi * p.dy + c];
    }
}

// out[i] = the i-th standard normal of stream (key, purpose, step).
@compute @workgroup_size(64)
fn fill_normal(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    out[i] = rng_normal(p.key, p.purpose, p.step, i);
}

// out[4i .. 4i+4] = the raw words of block i, as f32 bit patterns (tests compare bits).
@compute @workgroup_size(64)
fn fill_words(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    let w = rng_draw(p.key, p.purpose, p.step, i);
    for (var j = 0u; j < 4u; j++) {
        out[4u * i + j] = bitcast<f32>(w[j]);
    }
}

// out[i] = σ(i) for a permutation of [0, n), and out[n + i] = the derangement π(i), as bit patterns.
@compute @workgroup_size(64)
fn fill_permutation(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    let perm = rng_perm_new(p.key, p.purpose, p.step, p.n);
    out[i] = bitcast<f32>(rng_perm_apply(perm, i));
    out[p.n + i] = bitcast<f32>(rng_derangement(perm, i));
}
