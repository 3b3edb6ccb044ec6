//! Per-thread shards in front of the Prometheus exporter: where the hot paths' samples
//! and counts wait until they are folded into the exporter's series.
//!
//! Why: the exporter keeps each histogram's samples in one lock-free bucket shared by
//! every thread, and a counter is one shared atomic. A feed request records four
//! samples and a count; pushed straight in from two HTTP workers at once, the cache
//! lines those live on move between the cores on every request, which doubled what
//! the metrics cost per feed (`spoofify bench metrics`: README "Hot paths"). Here each
//! thread records into a shard of its own (a mutex only the owning thread takes, save
//! a drain), and [`drain`] moves every shard's samples into the exporter in one go
//! from one thread: before each scrape (so a scrape sees everything recorded before
//! it) and from the upkeep thread every few seconds (so memory stays bounded, with a
//! shard that fills up draining itself at once).
//!
//! Nothing is lost: a thread that exits leaves its shard in the registry until the
//! next drain, and its running totals move to the retired totals then.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use metrics::{Counter, Histogram};

/// Samples a shard holds before it drains itself (16 bytes each).
const DRAIN_AT: usize = 4096;

/// Running totals for the operator page: requests, interactions, and requests by
/// latency bucket (`N` = the buckets + one above them all).
#[derive(Debug, Clone, Copy)]
pub struct Totals<const N: usize> {
    pub requests: u64,
    pub interactions: u64,
    pub latency: [u64; N],
}

impl<const N: usize> Totals<N> {
    const ZERO: Self = Self {
        requests: 0,
        interactions: 0,
        latency: [0; N],
    };

    fn add(&mut self, other: &Self) {
        self.requests += other.requests;
        self.interactions += other.interactions;
        for (a, b) in self.latency.iter_mut().zip(other.latency.iter()) {
            *a += b;
        }
    }
}

/// One thread's waiting samples and counts, and its running totals.
pub struct Shard<const N: usize> {
    samples: Vec<(&'static Histogram, f64)>,
    counts: Vec<(&'static Counter, u64)>,
    pub totals: Totals<N>,
}

impl<const N: usize> Shard<N> {
    const fn new() -> Self {
        Self {
            samples: Vec::new(),
            counts: Vec::new(),
            totals: Totals::ZERO,
        }
    }

    pub fn sample(&mut self, histogram: &'static Histogram, value: f64) {
        self.samples.push((histogram, value));
        if self.samples.len() >= DRAIN_AT {
            self.drain();
        }
    }

    pub fn count(&mut self, counter: &'static Counter) {
        match self
            .counts
            .iter_mut()
            .find(|(c, _)| std::ptr::eq(*c, counter))
        {
            Some((_, n)) => *n += 1,
            None => self.counts.push((counter, 1)),
        }
    }

    /// Moves what waits here into the exporter's series.
    fn drain(&mut self) {
        for (h, v) in self.samples.drain(..) {
            h.record(v);
        }
        for (c, n) in self.counts.drain(..) {
            c.increment(n);
        }
    }
}

/// Every thread's shard, and the totals of threads that have exited.
pub struct Shards<const N: usize> {
    live: Mutex<Vec<Arc<Mutex<Shard<N>>>>>,
    retired: Mutex<Totals<N>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<const N: usize> Shards<N> {
    pub const fn new() -> Self {
        Self {
            live: Mutex::new(Vec::new()),
            retired: Mutex::new(Totals::ZERO),
        }
    }

    /// A new shard for the calling thread, registered for drains.
    pub fn register(&self) -> Arc<Mutex<Shard<N>>> {
        let shard = Arc::new(Mutex::new(Shard::new()));
        lock(&self.live).push(shard.clone());
        shard
    }

    /// Runs `f` on `shard` (the calling thread's own).
    pub fn with(shard: &Mutex<Shard<N>>, f: impl FnOnce(&mut Shard<N>)) {
        f(&mut lock(shard));
    }

    /// Moves every shard's waiting samples and counts into the exporter; forgets the
    /// shards of threads that have exited, keeping their totals.
    pub fn drain(&self) {
        let mut live = lock(&self.live);
        for shard in live.iter() {
            lock(shard).drain();
        }
        let mut retired = lock(&self.retired);
        // Only the registry holds a shard whose thread is gone.
        live.retain(|shard| {
            let gone = Arc::strong_count(shard) == 1;
            if gone {
                retired.add(&lock(shard).totals);
            }
            !gone
        });
    }

    /// The running totals over every thread, exited ones included.
    pub fn totals(&self) -> Totals<N> {
        let live = lock(&self.live);
        let mut sum = *lock(&self.retired);
        for shard in live.iter() {
            sum.add(&lock(shard).totals);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_of_exited_threads_are_kept() {
        static SHARDS: Shards<2> = Shards::new();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mine = SHARDS.register();
                    for _ in 0..5 {
                        Shards::with(&mine, |sh| {
                            sh.totals.requests += 1;
                            sh.totals.latency[1] += 1;
                        });
                    }
                });
            }
        });
        assert_eq!(SHARDS.totals().requests, 15);
        SHARDS.drain();
        assert!(
            lock(&SHARDS.live).is_empty(),
            "exited threads' shards forgotten"
        );
        let t = SHARDS.totals();
        assert_eq!((t.requests, t.latency), (15, [0, 15]));
    }
}
