// Barber–Agakov (SPEC §8) with a learned diagonal-Gaussian decoder q(y|x) = N(μ(x), diag σ(x)²)
// and the standard normal marginal p(y) = N(0, I):
//
//     V = mean_i Σ_d [ −½ z_id² − log σ_id + ½ y_id² ],   z_id = (y_id − μ_id) / σ_id
//
// (the ½ log 2π of both densities cancel), or, with KNOWN_MARGINAL, a per-row marginal whose
// log-densities log p(y_i) were gathered with the batch into `lp` (K values):
//
//     V = mean_i [ Σ_d ( −½ z_id² − log σ_id − ½ log 2π ) − log p(y_i) ].
//
// log p(y) touches no gradient, so ∂V is the same either way. The decoder's output row i holds μ_i (dy values)
// then log σ_i (dy values). Writes V to hist[step % hist_len] (a non-finite V raises the
// state's flag) and ∂(−V)/∂(μ, log σ) = (−z/σ, 1 − z²)/K to `dout`, same layout.
//
// One workgroup: each invocation folds a fixed strided subset of rows, then a fixed tree
// combines them, so the value is deterministic (no float atomics). 1/σ = e^(−log σ) is clipped
// at NUM_EXP_CLIP (numerics.wgsl, prepended).
//
// Replicas: the grid's z is the replica r (one workgroup each; one for a solo run); replica
// r's dec, y, dout and lp start *_rs elements after replica r − 1's, its history at
// r · hist_len, its state at r · NUM_STATE_LEN.

struct DecoderParams {
    k: u32,
    dy: u32,
    hist_len: u32,
    // Per-replica strides (elements) of dec, y, dout and lp.
    dec_rs: u32,
    y_rs: u32,
    dout_rs: u32,
    lp_rs: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: DecoderParams;
@group(0) @binding(1) var<storage, read> dec: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> hist: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<atomic<u32>>;
// log p(y_i) of the batch's rows (KNOWN_MARGINAL; otherwise bound to any buffer, never read).
@group(0) @binding(6) var<storage, read> lp: array<f32>;

// 1: the marginal is `lp` a row; 0: the standard normal.
override KNOWN_MARGINAL: u32 = 0u;

const HALF_LN_2PI: f32 = 0.9189385332046727;

const WG: u32 = 256u;

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn barber_agakov(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let r = wg.z;
    let dec0 = r * p.dec_rs;
    let y0 = r * p.y_rs;
    let dout0 = r * p.dout_rs;
    let st = r * NUM_STATE_LEN;
    let t = lid.x;
    let k = p.k;
    let dy = p.dy;
    let kf = f32(k);
    var acc = 0.0;
    for (var i = t; i < k; i += WG) {
        for (var c = 0u; c < dy; c++) {
            let at = i * 2u * dy + c;
            let mu = dec[dec0 + at];
            let log_s = dec[dec0 + at + dy];
            let yv = y[y0 + i * dy + c];
            let inv_s = exp(min(-log_s, NUM_EXP_CLIP));
            let z = (yv - mu) * inv_s;
            if (KNOWN_MARGINAL == 1u) {
                acc += -0.5 * z * z - log_s - HALF_LN_2PI;
            } else {
                acc += -0.5 * z * z - log_s + 0.5 * yv * yv;
            }
            dout[dout0 + at] = -z * inv_s / kf;
            dout[dout0 + at + dy] = (1.0 - z * z) / kf;
        }
        if (KNOWN_MARGINAL == 1u) {
            acc -= lp[r * p.lp_rs + i];
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
        let value = sums[0] / kf;
        hist[r * p.hist_len + step % p.hist_len] = value;
        if (!num_is_finite(value)) {
            atomicOr(&state[st + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_VALUE);
            atomicMin(&state[st + NUM_STATE_FIRST_BAD_STEP], step);
        }
    }
}

