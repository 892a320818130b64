// The multisample bound V_MS (SPEC §8, seed 001) with the decoder q as proposal: K proposals
// y_ik = μ_i + σ_i ε_ik (k = 1…K; y_i0 = y_i) and a critic f,
//
//     V_MS = V_BA + mean_i [ f_i0 − log( 1/(K+1) Σ_{k=0..K} e^(f_ik) ) ]
//
// with V_BA the Barber–Agakov value `decoder.wgsl` wrote to this step's history slot before
// (`multisample` adds its term to it). By default the proposals are held fixed: no gradient
// flows through y_ik to μ and σ, so the decoder learns from the Barber–Agakov term alone and
// the critic from the multisample term. Reparameterised (`TrainSpec::reparameterised`),
// `proposal_grads` adds the path through y_ik = μ_i + σ_i ε_ik: ∂/∂μ_i += Σ_k ∂/∂y_ik and
// ∂/∂log σ_i += Σ_k ∂/∂y_ik · σ_i ε_ik (zero where log σ is clipped). f ≡ 0 gives V_BA for any
// K; q = p(y) makes V_BA vanish and leaves InfoNCE over K + 1 candidates.
//
//   proposals       one invocation a critic row   the rows [x_i ; y_ik], row i·(K+1) + k
//   multisample     one workgroup                 the term (fixed-tree sum) and ∂(−V)/∂f
//   proposal_grads  one invocation an (i, c)      the sums over k (fixed order) into ∂dec
//
// ε_ik,c is the normal of index (i·K + k − 1)·dy + c of the step's RNG_PROPOSAL stream
// (rng.wgsl, prepended; twin: src/cpu/sample.rs). Every exp is max-shifted or clipped.

struct MsParams {
    // Rows of the batch (B), proposals a row (K), columns of x and y.
    b: u32,
    k: u32,
    dx: u32,
    dy: u32,
    key: vec2<u32>,
    hist_len: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: MsParams;
@group(0) @binding(1) var<storage, read> xb: array<f32>;
@group(0) @binding(2) var<storage, read> yb: array<f32>;
// The decoder's output: μ_i then log σ_i (dy values each) a row.
@group(0) @binding(3) var<storage, read> dec: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<atomic<u32>>;
// f_ik, row i·(K+1) + k, and ∂(−V)/∂f_ik.
@group(0) @binding(6) var<storage, read> scores: array<f32>;
@group(0) @binding(7) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(8) var<storage, read_write> hist: array<f32>;
// ∂(−V)/∂y_ik, row i·(K+1) + k, dy values a row (the critic's input gradient, y columns).
@group(0) @binding(9) var<storage, read> dprop: array<f32>;
// ∂(−V)/∂(μ, log σ), the decoder output's layout; `proposal_grads` adds to it.
@group(0) @binding(10) var<storage, read_write> ddec: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(64)
fn proposals(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    let kk = p.k + 1u;
    if (r >= p.b * kk) {
        return;
    }
    let i = r / kk;
    let k = r % kk;
    let ld = p.dx + p.dy;
    let step = atomicLoad(&state[NUM_STATE_STEP]);
    for (var c = 0u; c < p.dx; c++) {
        rows[r * ld + c] = xb[i * p.dx + c];
    }
    for (var c = 0u; c < p.dy; c++) {
        var v = yb[i * p.dy + c];
        if (k > 0u) {
            let at = i * 2u * p.dy + c;
            let eps = rng_normal(p.key, RNG_PROPOSAL, step, (i * p.k + k - 1u) * p.dy + c);
            v = dec[at] + exp(min(dec[at + p.dy], NUM_EXP_CLIP)) * eps;
        }
        rows[r * ld + p.dx + c] = v;
    }
}

@compute @workgroup_size(64)
fn proposal_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if (e >= p.b * p.dy) {
        return;
    }
    let i = e / p.dy;
    let c = e % p.dy;
    let kk = p.k + 1u;
    let at = i * 2u * p.dy + c;
    let log_s = dec[at + p.dy];
    let s = exp(min(log_s, NUM_EXP_CLIP));
    let step = atomicLoad(&state[NUM_STATE_STEP]);
    var gm = 0.0;
    var gs = 0.0;
    for (var k = 1u; k < kk; k++) {
        let g = dprop[(i * kk + k) * p.dy + c];
        let eps = rng_normal(p.key, RNG_PROPOSAL, step, (i * p.k + k - 1u) * p.dy + c);
        gm += g;
        gs += g * eps;
    }
    ddec[at] += gm;
    // σ = e^min(log σ, clip): no gradient flows where the clip holds.
    if (log_s < NUM_EXP_CLIP) {
        ddec[at + p.dy] += gs * s;
    }
}

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn multisample(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    let kk = p.k + 1u;
    let bf = f32(p.b);
    var acc = 0.0;
    for (var i = t; i < p.b; i += WG) {
        let base = i * kk;
        var m = NUM_LOWEST;
        for (var k = 0u; k < kk; k++) {
            m = max(m, scores[base + k]);
        }
        var s = 0.0;
        for (var k = 0u; k < kk; k++) {
            s += exp(scores[base + k] - m);
        }
        let lse = m + log(s);
        acc += scores[base] - lse + log(f32(kk));
        for (var k = 0u; k < kk; k++) {
            // e^(f_ik − LSE_i) ≤ 1
            dscores[base + k] = (exp(scores[base + k] - lse) - select(0.0, 1.0, k == 0u)) / bf;
        }
    }
    sums[t] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            sums[t] = sums[t] + sums[t + stride];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        let step = atomicLoad(&state[NUM_STATE_STEP]);
        let slot = step % p.hist_len;
        let value = hist[slot] + sums[0] / bf;
        hist[slot] = value;
        if (!num_is_finite(value)) {
            atomicOr(&state[NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_VALUE);
            atomicMin(&state[NUM_STATE_FIRST_BAD_STEP], step);
        }
    }
}
