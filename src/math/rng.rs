//! Counter-based random numbers shared bit-for-bit between the CPU reference
//! backend and the WGSL kernels (`shaders/rng.wgsl`).
//!
//! Every random quantity in a training run is a pure function of
//! `(seed, purpose, step, index)`. There is no generator state to carry across
//! kernel launches or to keep in sync between backends: the GPU and the CPU
//! reference can each recompute exactly the same minibatch indices,
//! permutations and Gaussian samples, which is what makes the CPU backend a
//! usable oracle for the GPU one.
//!
//! Integer outputs ([`draw`], [`bounded`], [`Permutation`], [`derangement`])
//! are bit-identical between this file and the WGSL port. Float outputs that go
//! through transcendental functions ([`normal_pair_f32`], [`normal_f32`]) are
//! only equal up to the GPU's `log`/`sqrt`/`sin`/`cos` accuracy; the uniform
//! conversions are exact on both sides.
//!
//! Everything here is written with 32-bit arithmetic only (no `u64` in the
//! hot paths) so that the WGSL port, which has no 64-bit integers, can be a
//! line-by-line transcription.

/// First Philox4x32 multiplier (Random123 `PHILOX_M4x32_0`).
const PHILOX_M0: u32 = 0xD251_1F53;
/// Second Philox4x32 multiplier (Random123 `PHILOX_M4x32_1`).
const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Key-schedule increment for key word 0 (golden ratio, `PHILOX_W32_0`).
const PHILOX_W0: u32 = 0x9E37_79B9;
/// Key-schedule increment for key word 1 (sqrt(3) - 1, `PHILOX_W32_1`).
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Philox4x32-10 (Salmon et al. 2011, Random123), the standard constants.
///
/// Ten rounds, with the key bumped by the Weyl constants before rounds 2..10,
/// exactly as Random123's `philox4x32_R(10, ctr, key)`, so the published
/// known-answer vectors apply. The multiply uses [`mulhi32`] rather than a
/// `u64` product so the code path is the one WGSL runs.
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let hi0 = mulhi32(PHILOX_M0, c[0]);
        let lo0 = PHILOX_M0.wrapping_mul(c[0]);
        let hi1 = mulhi32(PHILOX_M1, c[2]);
        let lo1 = PHILOX_M1.wrapping_mul(c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// What a draw is for; part of the counter so streams never overlap.
///
/// Giving each use its own counter word means that, for example, drawing more
/// Gaussian noise can never shift or correlate with the minibatch indices of
/// the same step. The discriminants are part of the on-GPU format: they must
/// match the `RNG_*` constants in `shaders/rng.wgsl` and must never be
/// renumbered, or previously recorded runs stop being reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Purpose {
    /// Sampling which rows form a training minibatch.
    Minibatch = 1,
    /// Choosing the negative (shuffled / product-of-marginals) pairs.
    Negatives = 2,
    /// Gaussian noise (synthetic data, reparameterised samples).
    Gaussian = 3,
    /// Parameter initialisation.
    Init = 4,
    /// Train / validation / test splitting.
    Split = 5,
    /// Proposal samples (e.g. importance-sampled negatives).
    Proposal = 6,
}

/// Key from a u64 seed: `[low 32 bits, high 32 bits]`.
///
/// Philox's key is two 32-bit words; splitting the seed this way keeps all
/// 64 bits significant and lets the host hand the GPU a plain `vec2<u32>`.
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// One block of four u32 words: counter = `[index, step, purpose as u32, 0]`,
/// key = `seed_key(seed)`.
///
/// `index` is the fastest-varying word so that GPU invocation `i` naturally
/// owns block `i`; the last counter word is left at zero as headroom for a
/// future sub-stream without breaking existing streams.
pub fn draw(seed: u64, purpose: Purpose, step: u32, index: u32) -> [u32; 4] {
    philox4x32_10([index, step, purpose as u32, 0], seed_key(seed))
}

/// 2^-24, the spacing of the 24-bit uniform grid (exactly representable).
const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

/// `u` -> f32 in `[0, 1)`: `(u >> 8) as f32 * 2^-24`.
///
/// Only the top 24 bits are used because that is exactly an f32 mantissa:
/// every result is exactly representable, so the conversion is exact and
/// identical on CPU and GPU, and it can never round up to 1.0.
pub fn uniform_f32(u: u32) -> f32 {
    (u >> 8) as f32 * TWO_POW_M24
}

/// `u` -> f32 in `(0, 1]`: `((u >> 8) + 1) as f32 * 2^-24`.
///
/// The same exact 24-bit grid shifted by one step, so it is never zero and
/// `ln` of it is always finite (used by Box–Muller).
pub fn uniform_open_f32(u: u32) -> f32 {
    ((u >> 8) + 1) as f32 * TWO_POW_M24
}

/// 2π in f32. The WGSL writes it as the literal `6.283185307179586`, which
/// rounds to the same f32 (`0x40C90FDB`) as `TAU`.
const TWO_PI_F32: f32 = std::f32::consts::TAU;

/// Box–Muller on two words, computed in f32:
/// `r = sqrt(-2 ln(uniform_open_f32(u0)))`, `t = 2π·uniform_f32(u1)`;
/// returns `(r cos t, r sin t)`.
///
/// Implementation detail, mathematically the same value: the angle is
/// evaluated as `2π·v` with `v = uniform_f32(u1) - 1` when `uniform_f32(u1) ≥
/// 0.5` (an exact subtraction on the 2^-24 grid), i.e. `t` is reduced into
/// `[-π, π)`. WGSL only bounds the error of `sin`/`cos` inside `[-π, π]`, so
/// reducing the argument first keeps the GPU accurate, and doing the same here
/// keeps the CPU and GPU arguments bit-identical. `-2 ln u` is clamped at 0
/// because a GPU `log` may return a tiny positive value for `u = 1`.
pub fn normal_pair_f32(u0: u32, u1: u32) -> (f32, f32) {
    let r = (-2.0 * uniform_open_f32(u0).ln()).max(0.0).sqrt();
    let mut v = uniform_f32(u1);
    if v >= 0.5 {
        v -= 1.0;
    }
    let t = TWO_PI_F32 * v;
    (r * t.cos(), r * t.sin())
}

/// The i-th standard normal of a stream: index `i` uses block
/// `draw(seed, purpose, step, i/2)` words 0,1 and takes the cos (`i` even) or
/// sin (`i` odd) output.
///
/// Pairing consecutive indices on one block means both Box–Muller outputs are
/// used while any single normal stays computable in isolation (one Philox call).
pub fn normal_f32(seed: u64, purpose: Purpose, step: u32, i: u32) -> f32 {
    let b = draw(seed, purpose, step, i / 2);
    let (c, s) = normal_pair_f32(b[0], b[1]);
    if i & 1 == 0 {
        c
    } else {
        s
    }
}

/// High 32 bits of the 64-bit product `a*b`, computed WITHOUT u64 (four 16-bit
/// partial products) exactly as WGSL must do it.
///
/// Each 16×16 partial product fits in a u32, and the middle column sum is at
/// most 3·(2^16 - 1), so nothing overflows; every partial sum of the final
/// line is bounded by the true high word, so it cannot overflow either.
pub fn mulhi32(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xFFFF;
    let a_hi = a >> 16;
    let b_lo = b & 0xFFFF;
    let b_hi = b >> 16;
    let p00 = a_lo * b_lo;
    let p01 = a_lo * b_hi;
    let p10 = a_hi * b_lo;
    let p11 = a_hi * b_hi;
    let mid = (p00 >> 16) + (p01 & 0xFFFF) + (p10 & 0xFFFF);
    p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16)
}

/// Lemire's multiply-shift: uniform-ish in `[0, n)` as `mulhi32(u, n)`.
/// `n ≥ 1`.
///
/// No rejection loop, so every invocation does the same amount of work and the
/// result is a pure function of one word. The price is a small bias: each
/// output value receives either `floor(2^32 / n)` or `ceil(2^32 / n)` of the
/// 2^32 inputs, so its probability differs from `1/n` by less than `1/2^32`,
/// and the total-variation distance from uniform is at most `n / 2^32`
/// (≈ 2.3e-4 for n = 10^6), far below minibatch sampling noise.
pub fn bounded(u: u32, n: u32) -> u32 {
    debug_assert!(n >= 1, "bounded: n must be >= 1");
    mulhi32(u, n)
}

/// `lowbias32` integer hash (Chris Wellons' hash-prospector), used as the
/// Feistel round function because it is cheap, has good avalanche, and uses
/// only 32-bit wrapping multiplies available in WGSL.
fn lowbias32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// A keyed pseudo-random permutation of `[0, n)`: a balanced 4-round Feistel
/// network on `2h` bits (`h = max(1, ceil(bits(n-1)/2))`, i.e. the smallest
/// even-width power-of-two domain ≥ n) with cycle walking (repeat until the
/// value is `< n`).
///
/// Round keys are the four words of `draw(seed, purpose, step, 0xFFFF_FFFF)`;
/// round function `F(r, x) = lowbias32(x ^ k_r) & half_mask`.
///
/// This gives random access to a shuffle (`sigma(i)` and `sigma^{-1}(j)` in
/// O(1) expected time, no table), so each GPU invocation can find its own
/// element without materialising or sorting the permutation. The domain is at
/// most 4n, so cycle walking takes at most 4 Feistel passes on average. It is
/// a pseudo-random permutation of good statistical quality, not a uniformly
/// random one, which is all minibatching and negative sampling need.
#[derive(Clone, Copy, Debug)]
pub struct Permutation {
    /// Size of the permuted range `[0, n)`.
    n: u32,
    /// `h`: bits per Feistel half, in `1..=16`.
    half_bits: u32,
    /// One key per Feistel round.
    keys: [u32; 4],
}

impl Permutation {
    /// The permutation keyed by `(seed, purpose, step)` on `[0, n)`, `n ≥ 1`.
    ///
    /// `h` is at most 16 (for n up to 2^32 - 1), which keeps every shift in
    /// the WGSL port strictly below 32.
    pub fn new(seed: u64, purpose: Purpose, step: u32, n: u32) -> Self {
        assert!(n >= 1, "Permutation::new: n must be >= 1");
        let bits = 32 - (n - 1).leading_zeros(); // bits(n - 1); 0 for n = 1
        let half_bits = bits.div_ceil(2).max(1);
        let keys = draw(seed, purpose, step, 0xFFFF_FFFF);
        Permutation { n, half_bits, keys }
    }

    /// Mask selecting one Feistel half (`h ≤ 16`, so the shift is legal).
    fn half_mask(&self) -> u32 {
        (1u32 << self.half_bits) - 1
    }

    /// One pass of the 4-round Feistel network on the `2h`-bit domain.
    fn feistel(&self, x: u32) -> u32 {
        let mask = self.half_mask();
        let mut l = x >> self.half_bits;
        let mut r = x & mask;
        for k in self.keys {
            let f = lowbias32(r ^ k) & mask;
            let nl = r;
            r = l ^ f;
            l = nl;
        }
        (l << self.half_bits) | r
    }

    /// Inverse of [`Self::feistel`]: the rounds run backwards, each undoing
    /// `(l, r) -> (r, l ^ F(r))`.
    fn feistel_inv(&self, y: u32) -> u32 {
        let mask = self.half_mask();
        let mut l = y >> self.half_bits;
        let mut r = y & mask;
        for k in self.keys.iter().rev() {
            let f = lowbias32(l ^ k) & mask;
            let pr = l;
            l = r ^ f;
            r = pr;
        }
        (l << self.half_bits) | r
    }

    /// `sigma(i)` for `i < n`.
    ///
    /// Cycle walking: re-apply the Feistel permutation of the larger domain
    /// until the value lands in `[0, n)`. Starting inside `[0, n)` this always
    /// terminates (the cycle through `i` returns to `i`) and restricts the
    /// domain permutation to a permutation of `[0, n)`.
    pub fn apply(&self, i: u32) -> u32 {
        debug_assert!(i < self.n, "Permutation::apply: index out of range");
        let mut x = i;
        loop {
            x = self.feistel(x);
            if x < self.n {
                return x;
            }
        }
    }

    /// `sigma^{-1}(j)` for `j < n` (inverse Feistel rounds with cycle walking,
    /// which walks the same cycle backwards).
    pub fn invert(&self, j: u32) -> u32 {
        debug_assert!(j < self.n, "Permutation::invert: index out of range");
        let mut x = j;
        loop {
            x = self.feistel_inv(x);
            if x < self.n {
                return x;
            }
        }
    }

    /// `n`, the size of the permuted range.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Always false (`n ≥ 1` is enforced by [`Self::new`]); provided because
    /// a `len` without `is_empty` trips clippy.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The four Feistel round keys, for uploading to the GPU (`RngPerm.keys`).
    pub fn round_keys(&self) -> [u32; 4] {
        self.keys
    }

    /// `h`, bits per Feistel half (`RngPerm.half_bits` on the GPU).
    pub fn half_bits(&self) -> u32 {
        self.half_bits
    }
}

/// A random cyclic derangement of `[0, k)` (`k ≥ 2`):
/// `pi(i) = sigma((sigma^{-1}(i) + 1) mod k)` with
/// `sigma = Permutation::new(seed, purpose, step, k)`. Never a fixed point.
///
/// Used to pair each sample with a different one (negatives): walking one
/// step along a single random k-cycle guarantees no element is paired with
/// itself, which a plain shuffle would do with probability ≈ 1 - 1/e.
/// It builds the permutation on every call; hot loops should hold a
/// [`Permutation`] instead (as the WGSL `rng_derangement` does).
pub fn derangement(seed: u64, purpose: Purpose, step: u32, k: u32, i: u32) -> u32 {
    assert!(k >= 2, "derangement: k must be >= 2");
    let sigma = Permutation::new(seed, purpose, step, k);
    derange_with(&sigma, i)
}

/// The derangement step given a prebuilt permutation (mirrors `rng_derangement`).
fn derange_with(sigma: &Permutation, i: u32) -> u32 {
    // sigma^{-1}(i) <= k - 1 <= 2^32 - 2, so the +1 cannot overflow.
    let mut pos = sigma.invert(i) + 1;
    if pos == sigma.len() {
        pos = 0;
    }
    sigma.apply(pos)
}

/// A host-side stream for things drawn once on the CPU (e.g. parameter
/// initialisation): successive blocks of `draw(seed, purpose, step = 0,
/// index = 0, 1, 2, …)`, handing out words in order.
///
/// Being a view of the same counter-based function keeps host-side draws
/// reproducible from the seed alone and independent of other purposes.
/// The stream repeats after 2^34 words, far beyond any initialisation.
#[derive(Clone, Debug)]
pub struct Stream {
    /// Seed of the underlying counter-based generator.
    seed: u64,
    /// Purpose word of the underlying counter.
    purpose: Purpose,
    /// Index of the next block to draw.
    block: u32,
    /// The current block of four words.
    buf: [u32; 4],
    /// Next word of `buf` to hand out; 4 means "draw a new block".
    pos: usize,
}

impl Stream {
    /// A stream at the start of `(seed, purpose)` (block 0, word 0).
    pub fn new(seed: u64, purpose: Purpose) -> Self {
        Stream {
            seed,
            purpose,
            block: 0,
            buf: [0; 4],
            pos: 4,
        }
    }

    /// The next raw word.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == 4 {
            self.buf = draw(self.seed, self.purpose, 0, self.block);
            self.block = self.block.wrapping_add(1);
            self.pos = 0;
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    /// The next uniform in `[0, 1)` ([`uniform_f32`] of the next word).
    pub fn next_f32(&mut self) -> f32 {
        uniform_f32(self.next_u32())
    }

    /// The next standard normal: Box–Muller on the next two words, returning
    /// the cos output. The sin output is discarded rather than cached so the
    /// stream position is always a whole number of words (simpler to reason
    /// about than a hidden spare); the cost is irrelevant for one-off draws.
    pub fn next_normal(&mut self) -> f32 {
        let u0 = self.next_u32();
        let u1 = self.next_u32();
        normal_pair_f32(u0, u1).0
    }

    /// A uniform in `[lo, hi)`: `lo + (hi - lo) * next_f32()`. Float rounding
    /// can occasionally produce exactly `hi` when the interval is wide relative
    /// to its endpoints.
    pub fn uniform_range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123 known-answer vectors for philox4x32 with R = 10.
    ///
    /// The first three are the vectors of Random123's `kat_vectors` file
    /// (also used by Random123-Boost's KAT test); the rest are from the
    /// extended table in girving/random123-manual `examples/kat_vectors`.
    const KAT: &[([u32; 4], [u32; 2], [u32; 4])] = &[
        (
            [0, 0, 0, 0],
            [0, 0],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
            [0xffffffff, 0xffffffff],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
        (
            [1, 0, 0, 0],
            [1, 0],
            [0xac08141b, 0xdfc5ccbe, 0x79c07a47, 0xa7f66093],
        ),
        (
            [0, 0, 0, 0x80000000],
            [0, 1],
            [0x0436a39b, 0x31be9efa, 0x6abd0c76, 0xe7a68f83],
        ),
        (
            [0x452821e6, 0x38d01377, 0xbe5466cf, 0x34e90c6c],
            [0, 0x80000000],
            [0x94ca5566, 0x14924b2f, 0x28214292, 0x59faeaee],
        ),
    ];

    /// Tiny xorshift for test inputs, deliberately independent of Philox.
    fn xorshift(state: &mut u32) -> u32 {
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *state = x;
        x
    }

    #[test]
    fn philox_known_answers() {
        for (ctr, key, want) in KAT {
            assert_eq!(
                philox4x32_10(*ctr, *key),
                *want,
                "ctr {ctr:08x?} key {key:08x?}"
            );
        }
    }

    #[test]
    fn draw_layout_and_seed_key() {
        assert_eq!(seed_key(0x0123_4567_89ab_cdef), [0x89ab_cdef, 0x0123_4567]);
        let seed = 0xdead_beef_0bad_f00d;
        let got = draw(seed, Purpose::Negatives, 7, 42);
        let want = philox4x32_10([42, 7, 2, 0], [0x0bad_f00d, 0xdead_beef]);
        assert_eq!(got, want);
        // Purposes are distinct streams.
        assert_ne!(draw(seed, Purpose::Minibatch, 7, 42), got);
        assert_eq!(Purpose::Minibatch as u32, 1);
        assert_eq!(Purpose::Proposal as u32, 6);
    }

    #[test]
    fn mulhi32_exact() {
        let edges = [
            0u32,
            1,
            2,
            3,
            0x7fff,
            0x8000,
            0xffff,
            0x1_0000,
            0x1_0001,
            0x7fff_ffff,
            0x8000_0000,
            0x8000_0001,
            0xffff_0000,
            0x0000_ffff,
            0xfffe_ffff,
            0xffff_fffe,
            0xffff_ffff,
            PHILOX_M0,
            PHILOX_M1,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(
                    mulhi32(a, b),
                    ((a as u64 * b as u64) >> 32) as u32,
                    "{a:#x}*{b:#x}"
                );
            }
        }
        let mut s = 0x1234_5678;
        for _ in 0..1_000_000 {
            let a = xorshift(&mut s);
            let b = xorshift(&mut s);
            assert_eq!(
                mulhi32(a, b),
                ((a as u64 * b as u64) >> 32) as u32,
                "{a:#x}*{b:#x}"
            );
        }
    }

    #[test]
    fn bounded_range_and_uniformity() {
        for n in [1u32, 2, 3, 7, 1000, 0x8000_0001, u32::MAX] {
            for u in [0u32, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
                assert!(bounded(u, n) < n, "bounded({u:#x}, {n}) out of range");
            }
        }
        assert_eq!(bounded(u32::MAX, u32::MAX), u32::MAX - 1);
        // Chi-square with n - 1 = 9 degrees of freedom (mean 9, sd ~4.2).
        let n = 10u32;
        let draws = 100_000u32;
        let mut counts = [0u32; 10];
        for i in 0..draws / 4 {
            for w in draw(99, Purpose::Minibatch, 0, i) {
                let b = bounded(w, n);
                assert!(b < n);
                counts[b as usize] += 1;
            }
        }
        let expected = draws as f64 / n as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 40.0, "chi2 = {chi2}, counts = {counts:?}");
    }

    #[test]
    fn two_pi_literal_matches_wgsl() {
        // The WGSL literal must round to the same f32 bits as TAU.
        #[allow(clippy::excessive_precision, clippy::approx_constant)]
        let wgsl_literal: f32 = 6.283185307179586;
        assert_eq!(TWO_PI_F32.to_bits(), wgsl_literal.to_bits());
        assert_eq!(TWO_PI_F32.to_bits(), 0x40C9_0FDB);
    }

    #[test]
    fn uniform_ranges() {
        assert_eq!(uniform_f32(0), 0.0);
        assert!(uniform_f32(u32::MAX) < 1.0);
        assert_eq!(uniform_f32(u32::MAX), 1.0 - TWO_POW_M24);
        assert_eq!(uniform_open_f32(0), TWO_POW_M24);
        assert_eq!(uniform_open_f32(u32::MAX), 1.0);
        let mut st = Stream::new(5, Purpose::Init);
        let mut sum = 0.0f64;
        for _ in 0..100_000 {
            let u = st.next_f32();
            assert!((0.0..1.0).contains(&u));
            sum += u as f64;
            let w = st.uniform_range(-3.0, 2.0);
            assert!((-3.0..=2.0).contains(&w));
        }
        assert!((sum / 100_000.0 - 0.5).abs() < 0.01);
    }

    #[test]
    fn normal_extremes_are_finite() {
        for u0 in [0u32, 1, 0xff, 0x100, u32::MAX - 0xff, u32::MAX] {
            for u1 in [0u32, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
                let (a, b) = normal_pair_f32(u0, u1);
                assert!(a.is_finite() && b.is_finite(), "({u0:#x}, {u1:#x})");
                assert!(a.abs() <= 5.8 && b.abs() <= 5.8);
            }
        }
        // u0 = 0 is the smallest open uniform: r = sqrt(-2 ln 2^-24) = sqrt(48 ln 2).
        let (c, _) = normal_pair_f32(0, 0);
        assert!((c - (48.0f32 * std::f32::consts::LN_2).sqrt()).abs() < 1e-5);
        // The reduced angle is the same angle: u1 = 3/4 turn gives (0, -r).
        let (c, s) = normal_pair_f32(0, 0xC000_0000);
        let r = (48.0f32 * std::f32::consts::LN_2).sqrt();
        assert!(c.abs() < 1e-5 && (s + r).abs() < 1e-5, "({c}, {s})");
    }

    #[test]
    fn normal_moments() {
        let n = 100_000u32;
        let (mut s1, mut s2, mut s4) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let z = normal_f32(2024, Purpose::Gaussian, 3, i) as f64;
            assert!(z.is_finite());
            s1 += z;
            s2 += z * z;
            s4 += z * z * z * z;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        let kurt = s4 / n as f64;
        // Standard errors: mean ~0.0032, var ~0.0045, E[z^4] ~0.03.
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
        assert!((kurt - 3.0).abs() < 0.2, "E z^4 {kurt}");
        // Pairing: consecutive indices share a block.
        let b = draw(2024, Purpose::Gaussian, 3, 5);
        let (c, s) = normal_pair_f32(b[0], b[1]);
        assert_eq!(normal_f32(2024, Purpose::Gaussian, 3, 10), c);
        assert_eq!(normal_f32(2024, Purpose::Gaussian, 3, 11), s);
    }

    #[test]
    fn stream_normals() {
        let mut st = Stream::new(77, Purpose::Init);
        let n = 100_000;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let z = st.next_normal() as f64;
            s1 += z;
            s2 += z * z;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
    }

    #[test]
    fn stream_follows_draw() {
        let mut st = Stream::new(11, Purpose::Split);
        for block in 0..5 {
            for w in draw(11, Purpose::Split, 0, block) {
                assert_eq!(st.next_u32(), w);
            }
        }
    }

    #[test]
    fn half_bits_choice() {
        let cases = [
            (1u32, 1u32),
            (2, 1),
            (3, 1),
            (4, 1),
            (5, 2),
            (16, 2),
            (17, 3),
            (64, 3),
            (65, 4),
            (256, 4),
            (257, 5),
            (1 << 16, 8),
            ((1 << 16) + 1, 9),
            (3_000_000_000, 16),
            (u32::MAX, 16),
        ];
        for (n, h) in cases {
            let p = Permutation::new(1, Purpose::Minibatch, 0, n);
            assert_eq!(p.half_bits(), h, "n = {n}");
            // The domain 2^(2h) covers n and is the smallest even-width one.
            let dom = 1u64 << (2 * h);
            assert!(dom >= n as u64);
            assert!(h == 1 || (1u64 << (2 * h - 2)) < n as u64);
        }
    }

    #[test]
    fn feistel_is_invertible_on_domain() {
        for n in [1u32, 5, 65, 4097] {
            let p = Permutation::new(3, Purpose::Negatives, 1, n);
            let dom = 1u32 << (2 * p.half_bits());
            let mut seen = vec![false; dom as usize];
            for x in 0..dom {
                let y = p.feistel(x);
                assert!(y < dom);
                assert!(!seen[y as usize]);
                seen[y as usize] = true;
                assert_eq!(p.feistel_inv(y), x);
            }
        }
    }

    #[test]
    fn permutation_is_bijection() {
        for n in [1u32, 2, 3, 5, 17, 64, 65, 257, 1000, 4097] {
            for step in [0u32, 1, 12345] {
                let p = Permutation::new(0xfeed, Purpose::Minibatch, step, n);
                assert_eq!(p.len(), n);
                assert!(!p.is_empty());
                let mut seen = vec![false; n as usize];
                for i in 0..n {
                    let j = p.apply(i);
                    assert!(j < n, "n={n} i={i} j={j}");
                    assert!(!seen[j as usize], "n={n}: {j} hit twice");
                    seen[j as usize] = true;
                    assert_eq!(p.invert(j), i, "n={n}: invert(apply({i}))");
                }
            }
        }
    }

    #[test]
    fn permutation_depends_on_key() {
        let n = 1000;
        let a = Permutation::new(9, Purpose::Minibatch, 0, n);
        let b = Permutation::new(9, Purpose::Minibatch, 1, n);
        let c = Permutation::new(9, Purpose::Split, 0, n);
        let d = Permutation::new(10, Purpose::Minibatch, 0, n);
        assert_eq!(a.round_keys(), draw(9, Purpose::Minibatch, 0, 0xFFFF_FFFF));
        for other in [b, c, d] {
            assert_ne!(a.round_keys(), other.round_keys());
            let same = (0..n).filter(|&i| a.apply(i) == other.apply(i)).count();
            // Two independent random permutations agree in ~1 place.
            assert!(same < 20, "{same} agreements");
        }
        // Not the identity either.
        let fixed = (0..n).filter(|&i| a.apply(i) == i).count();
        assert!(fixed < 20, "{fixed} fixed points");
    }

    #[test]
    fn permutation_large_n() {
        let n = 3_000_000_000u32;
        let p = Permutation::new(42, Purpose::Split, 0, n);
        assert_eq!(p.half_bits(), 16);
        let mut s = 0x9e37_79b9;
        let mut outs = Vec::new();
        for i in [0u32, 1, 2, n / 2, n - 2, n - 1]
            .into_iter()
            .chain((0..200).map(|_| xorshift(&mut s) % n))
        {
            let j = p.apply(i);
            assert!(j < n);
            assert_eq!(p.invert(j), i);
            outs.push((i, j));
        }
        let mut js: Vec<u32> = outs.iter().map(|&(_, j)| j).collect();
        let mut is: Vec<u32> = outs.iter().map(|&(i, _)| i).collect();
        is.sort_unstable();
        is.dedup();
        js.sort_unstable();
        js.dedup();
        assert_eq!(
            is.len(),
            js.len(),
            "distinct inputs must map to distinct outputs"
        );
        // Also the maximal n.
        let q = Permutation::new(42, Purpose::Split, 0, u32::MAX);
        for i in [0u32, 7, u32::MAX - 1] {
            let j = q.apply(i);
            assert!(j < u32::MAX);
            assert_eq!(q.invert(j), i);
        }
    }

    #[test]
    fn derangement_no_fixed_points() {
        for k in [2u32, 3, 17, 64, 257] {
            for step in [0u32, 5] {
                let mut seen = vec![false; k as usize];
                for i in 0..k {
                    let j = derangement(31, Purpose::Negatives, step, k, i);
                    assert!(j < k);
                    assert_ne!(j, i, "k={k}: fixed point at {i}");
                    assert!(!seen[j as usize], "k={k}: {j} hit twice");
                    seen[j as usize] = true;
                }
                // It is a single k-cycle.
                let mut x = 0;
                for len in 1..=k {
                    x = derangement(31, Purpose::Negatives, step, k, x);
                    if x == 0 {
                        assert_eq!(len, k, "k={k}: cycle of length {len}");
                    }
                }
                assert_eq!(x, 0);
            }
        }
        assert_eq!(derangement(1, Purpose::Negatives, 0, 2, 0), 1);
        assert_eq!(derangement(1, Purpose::Negatives, 0, 2, 1), 0);
    }
}
