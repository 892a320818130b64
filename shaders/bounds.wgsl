// Bound values and their gradients with respect to the critic's scores, for a batch scored
// as K joint pairs followed by K product-of-marginals pairs (shuffled negatives, SPEC §3).
//
// One workgroup: each invocation folds a fixed strided subset of the scores, then a fixed tree
// combines them, so the statistics are deterministic (no float atomics). Every exp is
// max-shifted (log-sum-exp) or clipped.
//
// Writes the bound's value V to hist[step % hist_len] and d(−L)/ds to dscores, where L is the
// bound's training objective (SPEC §2): Adam minimises −L. TUBA also writes d(−L)/db for its
// log-baseline b(y) of the 2K scored pairs; MINE keeps its moving average in state[3].
//
// Replicas: the grid's z is the replica r (one workgroup each; one for a solo run). Replica
// r's scores, gradients and baseline start *_rs elements after replica r − 1's, its history
// at r · hist_len, its state at r · NUM_STATE_LEN, and its τ and γ are reps[r].

struct BoundParams {
    k: u32,
    hist_len: u32,
    // Per-replica strides (elements) of scores, dscores, baseline and dbaseline.
    scores_rs: u32,
    dscores_rs: u32,
    baseline_rs: u32,
    dbaseline_rs: u32,
    _pad0: u32,
    _pad1: u32,
    // Each replica's (SMILE's clip τ, α (unused here), MINE's EMA decay γ in (0, 1), 0).
    reps: array<vec4<f32>, 1024>,
}

// `Bound::code` (a test in src/gpu/shaders.rs holds them to it): NWJ, DV, JS (f-GAN objective,
// tight read-out), SMILE(τ) (JS objective), TUBA, MINE (DV value, EMA-corrected gradient).
const NWJ: u32 = 0u;
const DV: u32 = 1u;
const JS: u32 = 2u;
const SMILE: u32 = 3u;
const TUBA: u32 = 5u;
const MINE: u32 = 6u;
// Lautum information (SPEC §8): mean(neg) − log mean exp(pos), resp. mean(neg) − e^(−1) mean
// exp(pos). The second log-sum-exp (SMILE's clipped negatives) runs over pos for them.
const LAUTUM_DV: u32 = 9u;
const LAUTUM_NWJ: u32 = 10u;
fn lautum() -> bool {
    return BOUND == LAUTUM_DV || BOUND == LAUTUM_NWJ;
}
override BOUND: u32 = 0u;

@group(0) @binding(0) var<uniform> p: BoundParams;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<atomic<u32>>;
// TUBA's b(y) (2K, the scores' order) and d(−L)/db; the other bounds bind placeholders here
// and never touch them.
@group(0) @binding(5) var<storage, read> baseline: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbaseline: array<f32>;

const WG: u32 = 256u;

// The workgroup's replica's offsets into each operand and its parameters (`enter`).
var<private> s0: u32;
var<private> ds0: u32;
var<private> b0: u32;
var<private> db0: u32;
var<private> st0: u32;
var<private> hist0: u32;
var<private> tau: f32;
var<private> gamma: f32;

fn enter(r: u32) {
    s0 = r * p.scores_rs;
    ds0 = r * p.dscores_rs;
    b0 = r * p.baseline_rs;
    db0 = r * p.dbaseline_rs;
    st0 = r * NUM_STATE_LEN;
    hist0 = r * p.hist_len;
    tau = p.reps[r].x;
    gamma = p.reps[r].z;
}

// Joint score i and negative i as the bound sees them: TUBA subtracts the baseline.
fn pos_at(i: u32) -> f32 {
    if (BOUND == TUBA) {
        return scores[s0 + i] - baseline[b0 + i];
    }
    return scores[s0 + i];
}

fn neg_at(i: u32) -> f32 {
    if (BOUND == TUBA) {
        return scores[s0 + p.k + i] - baseline[b0 + p.k + i];
    }
    return scores[s0 + p.k + i];
}

// sums: (Σ pos, Σ softplus(−pos), Σ softplus(neg), Σ neg); lses: (LSE(neg), LSE(clip(neg, ±τ)),
// or LSE(pos) for the Lautum bounds), with TUBA's scores less the baseline.
var<workgroup> sums: array<vec4<f32>, 256>;
var<workgroup> lses: array<vec4<f32>, 256>;
// MINE's log m_t, from thread 0 to the gradient loop.
var<workgroup> mine_log_m: f32;

@compute @workgroup_size(256)
fn shuffled_bound(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    enter(wg.z);
    let t = lid.x;
    let k = p.k;
    var s = vec4<f32>(0.0);
    var neg = vec2<f32>(NUM_LOWEST, 0.0);
    var clipped = vec2<f32>(NUM_LOWEST, 0.0);
    for (var i = t; i < k; i += WG) {
        let pos = pos_at(i);
        let ng = neg_at(i);
        s += vec4<f32>(pos, num_softplus(-pos), num_softplus(ng), ng);
        neg = num_lse_push(neg, ng);
        clipped = num_lse_push(clipped, select(clamp(ng, -tau, tau), pos, lautum()));
    }
    sums[t] = s;
    lses[t] = vec4<f32>(neg, clipped);
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            sums[t] = sums[t] + sums[t + stride];
            let a = lses[t];
            let b = lses[t + stride];
            lses[t] = vec4<f32>(num_lse_merge(a.xy, b.xy), num_lse_merge(a.zw, b.zw));
        }
        workgroupBarrier();
    }
    let total = sums[0];
    let l = lses[0];
    let kf = f32(k);
    let log_k = log(kf);
    let mean_pos = total.x / kf;
    // log mean exp of the negatives and of the clipped negatives
    let lme_neg = l.x + log(l.y) - log_k;
    let lme_clip = l.z + log(l.w) - log_k;

    if (t == 0u) {
        let step = atomicLoad(&state[st0 + NUM_STATE_STEP]);
        var value: f32;
        switch BOUND {
            // exp of a log-mean-exp: it overflows only when the bound really is −∞,
            // and the flag below then stops the run.
            case NWJ: { value = mean_pos - exp(lme_neg - 1.0); }
            case DV: { value = mean_pos - lme_neg; }
            case JS, TUBA: { value = 1.0 + mean_pos - exp(lme_neg); }
            case MINE: {
                value = mean_pos - lme_neg;
                // log m_t = logaddexp(log γ + log m_{t−1}, log(1−γ) + LME(neg)), m_0 = the
                // first batch's Z: keyed on the device step counter, so training starts at 0.
                var log_m = lme_neg;
                if (step > 0u) {
                    let prev = bitcast<f32>(atomicLoad(&state[st0 + NUM_STATE_MINE_LOG_EMA]));
                    log_m = num_log_add_exp(log(gamma) + prev, log(1.0 - gamma) + lme_neg);
                }
                atomicStore(&state[st0 + NUM_STATE_MINE_LOG_EMA], bitcast<u32>(log_m));
                mine_log_m = log_m;
            }
            // lme_clip is log mean exp(pos) here.
            case LAUTUM_DV: { value = total.w / kf - lme_clip; }
            case LAUTUM_NWJ: { value = total.w / kf - exp(lme_clip - 1.0); }
            case SMILE, default: { value = mean_pos - lme_clip; }
        }
        hist[hist0 + step % p.hist_len] = value;
        if (!num_is_finite(value)) {
            atomicOr(&state[st0 + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_VALUE);
            atomicMin(&state[st0 + NUM_STATE_FIRST_BAD_STEP], step);
        }
    }

    workgroupBarrier();
    let log_m = mine_log_m;
    for (var i = t; i < k; i += WG) {
        let pos = pos_at(i);
        let ng = neg_at(i);
        var d_pos = -1.0 / kf;
        var d_neg: f32;
        switch BOUND {
            case NWJ: { d_neg = exp(min(ng - 1.0 - log_k, NUM_EXP_CLIP)); }
            case DV: { d_neg = exp(ng - l.x) / l.y; }
            case TUBA: {
                d_neg = exp(min(ng - log_k, NUM_EXP_CLIP));
                // The baseline enters as S − b: its gradient is the scores' negated.
                dbaseline[db0 + i] = -d_pos;
                dbaseline[db0 + k + i] = -d_neg;
            }
            // ∇Z/m_t with m_t held, Z = mean exp(neg).
            case MINE: { d_neg = exp(min(ng - log_k - log_m, NUM_EXP_CLIP)); }
            case LAUTUM_DV: {
                d_neg = -1.0 / kf;
                d_pos = exp(pos - l.z) / l.w;
            }
            case LAUTUM_NWJ: {
                d_neg = -1.0 / kf;
                d_pos = exp(min(pos - 1.0 - log_k, NUM_EXP_CLIP));
            }
            // JS and SMILE train on the JS objective.
            case JS, SMILE, default: {
                d_pos = -num_sigmoid(-pos) / kf;
                d_neg = num_sigmoid(ng) / kf;
            }
        }
        dscores[ds0 + i] = d_pos;
        dscores[ds0 + k + i] = d_neg;
    }
}
