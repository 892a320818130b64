//! Each task's own Philox key, so that no two tasks of a suite share a draw.
//!
//! Every suite generator draws from the counter-based stream (`crate::math::rng`) of a key derived
//! from the suite's seed and the task's name. Tasks of one family (and a mapped task and its
//! base) would otherwise read the same normals at the same step words, and their errors would
//! be correlated. Within a task the step words tell the draws apart: 0 for the Gaussian z
//! ([`crate::experiments::tasks::gaussian_with_covariance`]), 2 for the additive-uniform words
//! ([`crate::experiments::tasks::additive_uniform`]), [`super::student::STREAM_CHI_SQUARE`] for the χ²
//! normals of the t.

/// 64-bit FNV-1a of `s`: a fixed, platform-independent hash (std's `DefaultHasher` may change
/// between Rust releases, which would change every task's data).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijection of u64 that mixes every bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of task `name` in a suite seeded with `seed`: mix(seed ⊕ mix(FNV-1a(name))).
/// For one name it is a bijection of the seed, so different seeds always give different keys.
pub fn task_seed(seed: u64, name: &str) -> u64 {
    mix(seed ^ mix(fnv1a(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_seed_and_by_name() {
        // FNV-1a's published test vector.
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        let a = task_seed(0, "gauss-dense-2x2");
        assert_eq!(a, task_seed(0, "gauss-dense-2x2"));
        assert_ne!(a, task_seed(1, "gauss-dense-2x2"));
        assert_ne!(a, task_seed(0, "gauss-sparse-2x2"));
    }
}
