//! The rows of an estimate (SPEC §6): training rows, and the held-out rows cut in two at
//! random, the part that chooses the step and the part that reports it.

use crate::math::rng::{Permutation, Purpose};

/// The rows of an estimate: training, and the held-out rows cut in two at random (SPEC §6):
/// the part that chooses the step and the part that reports it.
pub(crate) struct Rows {
    pub(crate) train: Vec<usize>,
    pub(crate) select: Vec<usize>,
    pub(crate) report: Vec<usize>,
}

impl Rows {
    /// The split of [`split_rows`], its held-out rows halved in the order the split's
    /// permutation drew them (the selection part gets the odd row).
    pub(crate) fn split(n: usize, fraction: f64, seed: u64) -> Self {
        let (train, test, order) = split_with_order(n, fraction, seed);
        let half = test.len().div_ceil(2);
        let (mut select, mut report) = (order[..half].to_vec(), order[half..].to_vec());
        select.sort_unstable();
        report.sort_unstable();
        Self {
            train,
            select,
            report,
        }
    }
}

/// Rows held out of n at `fraction`.
pub(crate) fn held_out_count(n: usize, fraction: f64) -> usize {
    (n as f64 * fraction).round() as usize
}

/// A random split of 0..n into (train, test) rows, the test share `fraction`, from the
/// stream (seed, Split).
pub fn split_rows(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let (train, test, _) = split_with_order(n, fraction, seed);
    (train, test)
}

/// [`split_rows`], with the test rows also in the order the permutation drew them.
fn split_with_order(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let perm = Permutation::new(seed, Purpose::Split, 0, n.max(1) as u32);
    let order: Vec<usize> = (0..n as u32).map(|i| perm.apply(i) as usize).collect();
    let test = held_out_count(n, fraction);
    let (te, tr) = order.split_at(test);
    let drawn = te.to_vec();
    let (mut tr, mut te) = (tr.to_vec(), te.to_vec());
    tr.sort_unstable();
    te.sort_unstable();
    (tr, te, drawn)
}
