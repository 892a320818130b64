// Bound values and their gradients with respect to the critic's scores, for a batch scored
// as K joint pairs followed by K product-of-marginals pairs (shuffled negatives, SPEC §3).
//
// One workgroup: each invocation folds a fixed strided subset of the scores, then a fixed tree
// combines them, so the statistics are deterministic (no float atomics). Every exp is
// max-shifted (log-sum-exp) or clipped.
//
// Writes the bound's value V to hist[step % hist_len] and d(−L)/ds to dscores, where L is the
// bound's training objective (SPEC §2): Adam minimises −L.

struct BoundParams {
    k: u32,
    hist_len: u32,
    // SMILE's clip.
    tau: f32,
    _pad: u32,
}

// 0: NWJ, 1: DV, 2: JS (f-GAN objective, tight read-out), 3: SMILE(τ) (JS objective).
override BOUND: u32 = 0u;

@group(0) @binding(0) var<uniform> p: BoundParams;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<atomic<u32>>;

const WG: u32 = 256u;
const LOWEST: f32 = -3.4028234e38;
const EXP_CLIP: f32 = 80.0;
const FLAG_NONFINITE_VALUE: u32 = 1u;

fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

fn sigmoid(x: f32) -> f32 {
    let e = exp(-abs(x));
    return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// Online log-sum-exp: (max, Σ exp(v − max)).
fn lse_push(acc: vec2<f32>, v: f32) -> vec2<f32> {
    let m = max(acc.x, v);
    return vec2<f32>(m, acc.y * exp(acc.x - m) + exp(v - m));
}

fn lse_merge(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let m = max(a.x, b.x);
    return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

// sums: (Σ pos, Σ softplus(−pos), Σ softplus(neg), 0); lses: (LSE(neg), LSE(clip(neg, ±τ))).
var<workgroup> sums: array<vec4<f32>, 256>;
var<workgroup> lses: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn shuffled_bound(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    let k = p.k;
    var s = vec4<f32>(0.0);
    var neg = vec2<f32>(LOWEST, 0.0);
    var clipped = vec2<f32>(LOWEST, 0.0);
    for (var i = t; i < k; i += WG) {
        let pos = scores[i];
        let ng = scores[k + i];
        s += vec4<f32>(pos, softplus(-pos), softplus(ng), 0.0);
        neg = lse_push(neg, ng);
        clipped = lse_push(clipped, clamp(ng, -p.tau, p.tau));
    }
    sums[t] = s;
    lses[t] = vec4<f32>(neg, clipped);
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            sums[t] = sums[t] + sums[t + stride];
            let a = lses[t];
            let b = lses[t + stride];
            lses[t] = vec4<f32>(lse_merge(a.xy, b.xy), lse_merge(a.zw, b.zw));
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
        var value: f32;
        switch BOUND {
            // exp of a log-mean-exp: it overflows only when the bound really is −∞,
            // and the flag below then stops the run.
            case 0u: { value = mean_pos - exp(lme_neg - 1.0); }
            case 1u: { value = mean_pos - lme_neg; }
            case 2u: { value = 1.0 + mean_pos - exp(lme_neg); }
            default: { value = mean_pos - lme_clip; }
        }
        let step = atomicLoad(&state[0]);
        hist[step % p.hist_len] = value;
        if (!is_finite(value)) {
            atomicOr(&state[1], FLAG_NONFINITE_VALUE);
            atomicMin(&state[2], step);
        }
    }

    for (var i = t; i < k; i += WG) {
        let pos = scores[i];
        let ng = scores[k + i];
        var d_pos: f32;
        var d_neg: f32;
        switch BOUND {
            case 0u: {
                d_pos = -1.0 / kf;
                d_neg = exp(min(ng - 1.0 - log_k, EXP_CLIP));
            }
            case 1u: {
                d_pos = -1.0 / kf;
                d_neg = exp(ng - l.x) / l.y;
            }
            default: {
                d_pos = -sigmoid(-pos) / kf;
                d_neg = sigmoid(ng) / kf;
            }
        }
        dscores[i] = d_pos;
        dscores[k + i] = d_neg;
    }
}
