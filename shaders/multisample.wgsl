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
//
// Replicas: the grid's z is the replica r (one for a solo run). Replica r draws with its own
// key (keys, below) and state (at r · NUM_STATE_LEN); its operands start *_rs elements after
// replica r − 1's, its history at r · hist_len.

struct MsParams {
    // Rows of the batch (B), proposals a row (K), columns of x and y.
    b: u32,
    k: u32,
    dx: u32,
    dy: u32,
    hist_len: u32,
    // Per-replica strides (elements) of each storage operand.
    xb_rs: u32,
    yb_rs: u32,
    dec_rs: u32,
    rows_rs: u32,
    scores_rs: u32,
    dscores_rs: u32,
    dprop_rs: u32,
    ddec_rs: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // Each replica's key, two a vector: replica r's is keys[r / 2].xy for even r, .zw for odd
    // r (`kernels::MAX_REPLICAS` in all).
    keys: array<vec4<u32>, 512>,
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

// Replica r's key.
fn replica_key(r: u32) -> vec2<u32> {
    let pair = p.keys[r / 2u];
    return select(pair.xy, pair.zw, (r & 1u) == 1u);
}

@compute @workgroup_size(64)
fn proposals(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    let kk = p.k + 1u;
    if (row >= p.b * kk) {
        return;
    }
    let r = gid.z;
    let key = replica_key(r);
    let xb0 = r * p.xb_rs;
    let yb0 = r * p.yb_rs;
    let dec0 = r * p.dec_rs;
    let rows0 = r * p.rows_rs;
    let i = row / kk;
    let k = row % kk;
    let ld = p.dx + p.dy;
    let step = atomicLoad(&state[r * NUM_STATE_LEN + NUM_STATE_STEP]);
    for (var c = 0u; c < p.dx; c++) {
        rows[rows0 + row * ld + c] = xb[xb0 + i * p.dx + c];
    }
    for (var c = 0u; c < p.dy; c++) {
        var v = yb[yb0 + i * p.dy + c];
        if (k > 0u) {
            let at = dec0 + i * 2u * p.dy + c;
            let eps = rng_normal(key, RNG_PROPOSAL, step, (i * p.k + k - 1u) * p.dy + c);
            v = dec[at] + exp(min(dec[at + p.dy], NUM_EXP_CLIP)) * eps;
        }
        rows[rows0 + row * ld + p.dx + c] = v;
    }
}

@compute @workgroup_size(64)
fn proposal_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if (e >= p.b * p.dy) {
        return;
    }
    let r = gid.z;
    let key = replica_key(r);
    let i = e / p.dy;
    let c = e % p.dy;
    let kk = p.k + 1u;
    let at = i * 2u * p.dy + c;
    let dprop0 = r * p.dprop_rs;
    let ddec0 = r * p.ddec_rs;
    let log_s = dec[r * p.dec_rs + at + p.dy];
    let s = exp(min(log_s, NUM_EXP_CLIP));
    let step = atomicLoad(&state[r * NUM_STATE_LEN + NUM_STATE_STEP]);
    var gm = 0.0;
    var gs = 0.0;
    for (var k = 1u; k < kk; k++) {
        let g = dprop[dprop0 + (i * kk + k) * p.dy + c];
        let eps = rng_normal(key, RNG_PROPOSAL, step, (i * p.k + k - 1u) * p.dy + c);
        gm += g;
        gs += g * eps;
    }
    ddec[ddec0 + at] += gm;
    // σ = e^min(log σ, clip): no gradient flows where the clip holds.
    if (log_s < NUM_EXP_CLIP) {
        ddec[ddec0 + at + p.dy] += gs * s;
    }
}

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn multisample(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let r = wg.z;
    let scores0 = r * p.scores_rs;
    let dscores0 = r * p.dscores_rs;
    let st = r * NUM_STATE_LEN;
    let t = lid.x;
    let kk = p.k + 1u;
    let bf = f32(p.b);
    var acc = 0.0;
    for (var i = t; i < p.b; i += WG) {
        let base = scores0 + i * kk;
        let dbase = dscores0 + i * kk;
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
            dscores[dbase + k] = (exp(scores[base + k] - lse) - select(0.0, 1.0, k == 0u)) / bf;
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
        let step = atomicLoad(&state[st + NUM_STATE_STEP]);
        let slot = r * p.hist_len + step % p.hist_len;
        let value = hist[slot] + sums[0] / bf;
        hist[slot] = value;
        if (!num_is_finite(value)) {
            atomicOr(&state[st + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_VALUE);
            atomicMin(&state[st + NUM_STATE_FIRST_BAD_STEP], step);
        }
    }
}
