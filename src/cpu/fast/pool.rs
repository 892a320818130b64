//! The fast backend's threads, and the one way work is split over them: blocks fixed by the
//! shapes alone. A block is always computed whole, by one thread, in index order, and sums
//! over blocks are added in block order afterwards, so the bits of every result are the same
//! whichever thread ran which block and however many threads there are.

use rayon::prelude::*;

/// A pool of worker threads (rayon's, private to the trainer that owns it).
pub struct Pool {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
}

/// Work below this many flops (or elements) runs on the calling thread: waking the pool
/// costs a few microseconds, more than the work. Where work runs never changes its bits.
pub const SERIAL_WORK: usize = 1 << 15;

impl Pool {
    /// A pool of `threads` threads; 0 takes one a core. Falls back to running on the calling
    /// thread alone when the system refuses to start threads (the bits are the same).
    pub fn new(threads: usize) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("infobound-cpu-{i}"))
                    .build()
                    .ok()
            })
            .flatten();
        let threads = if pool.is_some() { threads } else { 1 };
        Self { pool, threads }
    }

    /// Threads that run blocks.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f(b)` for every block `b < blocks`, in parallel when `work` (flops or elements
    /// in all) is worth it.
    pub fn for_each(&self, blocks: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
        match &self.pool {
            Some(pool) if blocks > 1 && work >= SERIAL_WORK => {
                pool.install(|| (0..blocks).into_par_iter().for_each(f))
            }
            _ => (0..blocks).for_each(f),
        }
    }

    /// `f(b)` for every block `b < blocks`, in block order.
    pub fn map<T: Send>(
        &self,
        blocks: usize,
        work: usize,
        f: impl Fn(usize) -> T + Sync + Send,
    ) -> Vec<T> {
        match &self.pool {
            Some(pool) if blocks > 1 && work >= SERIAL_WORK => {
                pool.install(|| (0..blocks).into_par_iter().map(f).collect())
            }
            _ => (0..blocks).map(f).collect(),
        }
    }

    /// Runs `f(b, chunk)` on consecutive chunks of `data`, `len` elements each (the last may
    /// be shorter).
    pub fn chunks_mut<T: Send>(
        &self,
        data: &mut [T],
        len: usize,
        work: usize,
        f: impl Fn(usize, &mut [T]) + Sync + Send,
    ) {
        let len = len.max(1);
        match &self.pool {
            Some(pool) if data.len() > len && work >= SERIAL_WORK => pool.install(|| {
                data.par_chunks_mut(len)
                    .enumerate()
                    .for_each(|(b, c)| f(b, c))
            }),
            _ => data.chunks_mut(len).enumerate().for_each(|(b, c)| f(b, c)),
        }
    }

    /// `f(b, chunk)` on consecutive chunks of `data` as [`Pool::chunks_mut`], its results in
    /// chunk order.
    pub fn map_chunks_mut<T: Send, R: Send>(
        &self,
        data: &mut [T],
        len: usize,
        work: usize,
        f: impl Fn(usize, &mut [T]) -> R + Sync + Send,
    ) -> Vec<R> {
        let len = len.max(1);
        match &self.pool {
            Some(pool) if data.len() > len && work >= SERIAL_WORK => pool.install(|| {
                data.par_chunks_mut(len)
                    .enumerate()
                    .map(|(b, c)| f(b, c))
                    .collect()
            }),
            _ => data
                .chunks_mut(len)
                .enumerate()
                .map(|(b, c)| f(b, c))
                .collect(),
        }
    }

    /// Runs `f(b, a, b', c)` on the b-th chunks (`len` elements each) of three buffers of one
    /// length, as [`Pool::chunks_mut`] does for one.
    pub fn chunks3_mut<T: Send>(
        &self,
        (a, b, c): (&mut [T], &mut [T], &mut [T]),
        len: usize,
        work: usize,
        f: impl Fn(usize, &mut [T], &mut [T], &mut [T]) + Sync + Send,
    ) {
        let len = len.max(1);
        match &self.pool {
            Some(pool) if a.len() > len && work >= SERIAL_WORK => pool.install(|| {
                a.par_chunks_mut(len)
                    .zip(b.par_chunks_mut(len))
                    .zip(c.par_chunks_mut(len))
                    .enumerate()
                    .for_each(|(i, ((a, b), c))| f(i, a, b, c))
            }),
            _ => a
                .chunks_mut(len)
                .zip(b.chunks_mut(len))
                .zip(c.chunks_mut(len))
                .enumerate()
                .for_each(|(i, ((a, b), c))| f(i, a, b, c)),
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads)
            .finish()
    }
}

/// Splits `n` items into blocks of `len` (the last shorter): (block count, range of block b).
pub fn blocks(n: usize, len: usize) -> (usize, impl Fn(usize) -> std::ops::Range<usize>) {
    let len = len.max(1);
    (n.div_ceil(len), move |b: usize| {
        b * len..((b + 1) * len).min(n)
    })
}
