// rng.wgsl: counter-based random numbers, the WGSL twin of src/rng.rs.
//
// Library only: this text is prepended to other shader modules, so it defines
// no entry points, no bindings, and only names prefixed `rng_` / `RNG_` /
// `RngPerm` to stay out of the way of the including module.
//
// Every value is a pure function of (key, purpose, step, index), so each
// invocation can compute its own draws with no shared generator state, and the
// CPU reference (src/rng.rs) computes the very same numbers.
//
// Parity with Rust:
//   * integer results (rng_philox, rng_draw, rng_mulhi32, rng_bounded,
//     rng_lowbias32, rng_perm_*, rng_derangement) are bit-identical;
//   * rng_uniform / rng_uniform_open are exact conversions, bit-identical;
//   * rng_normal_pair / rng_normal go through log/sqrt/cos/sin, whose GPU
//     accuracy is implementation-defined, so they match Rust only to within
//     a few ulp (worse, in absolute terms, for very small radii, see below).
//
// WGSL has no 64-bit integers: the Philox high-word multiply is built from
// four 16x16-bit partial products (rng_mulhi32). `u32 * u32` wraps modulo
// 2^32 in WGSL, which is exactly the low word Philox needs.

// Purpose words: the third counter word, so streams for different uses never
// overlap. Must match `enum Purpose` in src/rng.rs and never be renumbered.
const RNG_MINIBATCH: u32 = 1u;
const RNG_NEGATIVES: u32 = 2u;
const RNG_GAUSSIAN: u32 = 3u;
const RNG_INIT: u32 = 4u;
const RNG_SPLIT: u32 = 5u;
const RNG_PROPOSAL: u32 = 6u;

// Philox4x32 constants (Random123): round multipliers and Weyl key increments.
const RNG_PHILOX_M0: u32 = 0xD2511F53u;
const RNG_PHILOX_M1: u32 = 0xCD9E8D57u;
const RNG_PHILOX_W0: u32 = 0x9E3779B9u;
const RNG_PHILOX_W1: u32 = 0xBB67AE85u;

// 2^-24, the spacing of the 24-bit uniform grid; exactly representable.
const RNG_TWO_POW_M24: f32 = 5.9604644775390625e-8;
// 2*pi; rounds to the same f32 (0x40C90FDB) as Rust's f32::consts::TAU.
const RNG_TWO_PI: f32 = 6.283185307179586;

// High 32 bits of the 64-bit product a*b without u64. Each 16x16 partial
// product fits in a u32, the middle column sum is at most 3*(2^16-1), and each
// partial sum of the result is bounded by the true high word: nothing wraps.
fn rng_mulhi32(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let p00 = a_lo * b_lo;
    let p01 = a_lo * b_hi;
    let p10 = a_hi * b_lo;
    let p11 = a_hi * b_hi;
    let mid = (p00 >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
    return p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

// Philox4x32-10 (Salmon et al. 2011), key bumped before rounds 2..10, exactly
// Random123's philox4x32_R(10, ctr, key); passes the published KAT vectors
// (checked on the Rust side, which this transcribes line by line).
fn rng_philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = ctr;
    var k = key;
    for (var r = 0u; r < 10u; r += 1u) {
        if (r > 0u) {
            k = k + vec2<u32>(RNG_PHILOX_W0, RNG_PHILOX_W1); // wraps
        }
        let hi0 = rng_mulhi32(RNG_PHILOX_M0, c.x);
        let lo0 = RNG_PHILOX_M0 * c.x;
        let hi1 = rng_mulhi32(RNG_PHILOX_M1, c.z);
        let lo1 = RNG_PHILOX_M1 * c.z;
        c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// One block of four words: counter = [index, step, purpose, 0]. `key` is the
// host's seed_key(seed) = [low 32 bits, high 32 bits] of the u64 seed.
fn rng_draw(key: vec2<u32>, purpose: u32, step: u32, index: u32) -> vec4<u32> {
    return rng_philox(vec4<u32>(index, step, purpose, 0u), key);
}

// u -> [0, 1) on the exact 24-bit grid: (u >> 8) * 2^-24. Exact, never 1.0.
fn rng_uniform(u: u32) -> f32 {
    return f32(u >> 8u) * RNG_TWO_POW_M24;
}

// u -> (0, 1]: ((u >> 8) + 1) * 2^-24. Exact, never 0, so log() is finite.
fn rng_uniform_open(u: u32) -> f32 {
    return f32((u >> 8u) + 1u) * RNG_TWO_POW_M24;
}

// Box-Muller: r = sqrt(-2 ln(uniform_open(u0))), t = 2*pi*uniform(u1);
// returns (r cos t, r sin t). As in Rust, the angle is reduced to [-pi, pi)
// by subtracting one turn from the uniform when it is >= 0.5 (exact on the
// 2^-24 grid), because WGSL only bounds sin/cos error inside [-pi, pi]; the
// CPU does the same, so both sides feed sin/cos the identical argument.
// The max(.., 0) guards u = 1, where a GPU log may be slightly positive.
// Note: WGSL's log has an absolute (not relative) error bound of 2^-21 near 1,
// so radii close to 0 can differ from the CPU by up to ~1e-3 in absolute terms.
fn rng_normal_pair(u0: u32, u1: u32) -> vec2<f32> {
    let r = sqrt(max(-2.0 * log(rng_uniform_open(u0)), 0.0));
    var v = rng_uniform(u1);
    if (v >= 0.5) {
        v = v - 1.0;
    }
    let t = RNG_TWO_PI * v;
    return vec2<f32>(r * cos(t), r * sin(t));
}

// The i-th standard normal of a stream: block rng_draw(key, purpose, step, i/2)
// words x, y; cos output for even i, sin output for odd i.
fn rng_normal(key: vec2<u32>, purpose: u32, step: u32, i: u32) -> f32 {
    let b = rng_draw(key, purpose, step, i >> 1u);
    let z = rng_normal_pair(b.x, b.y);
    return select(z.y, z.x, (i & 1u) == 0u);
}

// Lemire's multiply-shift: [0, n) without a rejection loop (uniform work per
// invocation). Bias: each value's probability is within 2^-32 of 1/n; total
// variation from uniform <= n / 2^32. Requires n >= 1.
fn rng_bounded(u: u32, n: u32) -> u32 {
    return rng_mulhi32(u, n);
}

// lowbias32 integer hash (hash-prospector); the Feistel round function.
fn rng_lowbias32(x_in: u32) -> u32 {
    var x = x_in;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

// A keyed pseudo-random permutation of [0, n): 4-round balanced Feistel network
// on 2*half_bits bits (the smallest even-width power-of-two domain >= n, at
// least 4) with cycle walking. Build it once per kernel with rng_perm_new, or
// upload Permutation::{len, half_bits, round_keys} from the host.
struct RngPerm {
    n: u32,
    half_bits: u32,
    keys: vec4<u32>,
}

// h = max(1, ceil(bits(n - 1) / 2)) <= 16, so every shift below is < 32.
// Round keys are the block at index 0xFFFFFFFF of (key, purpose, step).
// Requires n >= 1 (n = 0 would make apply/invert loop forever).
fn rng_perm_new(key: vec2<u32>, purpose: u32, step: u32, n: u32) -> RngPerm {
    let bits = 32u - countLeadingZeros(n - 1u); // countLeadingZeros(0u) == 32u
    let half_bits = max(1u, (bits + 1u) / 2u);
    return RngPerm(n, half_bits, rng_draw(key, purpose, step, 0xFFFFFFFFu));
}

// One Feistel round: (l, r) -> (r, l ^ F(r)), F(x) = lowbias32(x ^ k) & mask.
fn rng_feistel_round(lr: vec2<u32>, k: u32, mask: u32) -> vec2<u32> {
    return vec2<u32>(lr.y, lr.x ^ (rng_lowbias32(lr.y ^ k) & mask));
}

// Inverse round: (l', r') -> (r' ^ F(l'), l').
fn rng_feistel_round_inv(lr: vec2<u32>, k: u32, mask: u32) -> vec2<u32> {
    return vec2<u32>(lr.y ^ (rng_lowbias32(lr.x ^ k) & mask), lr.x);
}

// One pass of the Feistel permutation of the 2h-bit domain (rounds unrolled).
fn rng_perm_feistel(p: RngPerm, x: u32) -> u32 {
    let mask = (1u << p.half_bits) - 1u;
    var lr = vec2<u32>(x >> p.half_bits, x & mask);
    lr = rng_feistel_round(lr, p.keys.x, mask);
    lr = rng_feistel_round(lr, p.keys.y, mask);
    lr = rng_feistel_round(lr, p.keys.z, mask);
    lr = rng_feistel_round(lr, p.keys.w, mask);
    return (lr.x << p.half_bits) | lr.y;
}

// Inverse of rng_perm_feistel: the same rounds, undone in reverse key order.
fn rng_perm_feistel_inv(p: RngPerm, y: u32) -> u32 {
    let mask = (1u << p.half_bits) - 1u;
    var lr = vec2<u32>(y >> p.half_bits, y & mask);
    lr = rng_feistel_round_inv(lr, p.keys.w, mask);
    lr = rng_feistel_round_inv(lr, p.keys.z, mask);
    lr = rng_feistel_round_inv(lr, p.keys.y, mask);
    lr = rng_feistel_round_inv(lr, p.keys.x, mask);
    return (lr.x << p.half_bits) | lr.y;
}

// sigma(i), i < n. Cycle walking: re-apply until the value is back in [0, n);
// the domain is < 4n, so this takes under 4 passes on average.
fn rng_perm_apply(p: RngPerm, i: u32) -> u32 {
    var x = i;
    loop {
        x = rng_perm_feistel(p, x);
        if (x < p.n) {
            break;
        }
    }
    return x;
}

// sigma^{-1}(j), j < n: the inverse rounds walk the same cycle backwards.
fn rng_perm_invert(p: RngPerm, j: u32) -> u32 {
    var x = j;
    loop {
        x = rng_perm_feistel_inv(p, x);
        if (x < p.n) {
            break;
        }
    }
    return x;
}

// Cyclic derangement of [0, n) (n >= 2): pi(i) = sigma((sigma^{-1}(i) + 1) mod n).
// One step along a single random n-cycle, so never a fixed point (negatives
// are never paired with themselves). sigma^{-1}(i) + 1 <= n cannot overflow.
fn rng_derangement(p: RngPerm, i: u32) -> u32 {
    var pos = rng_perm_invert(p, i) + 1u;
    if (pos == p.n) {
        pos = 0u;
    }
    return rng_perm_apply(p, pos);
}
