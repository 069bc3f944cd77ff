//! The value cells of one series: counter, gauge and fixed-bucket histogram.
//!
//! # Why the histogram looks like this
//!
//! A scrape must never see `_count` differ from the `+Inf` bucket, buckets
//! that are not monotone, or a count that went down; and no observation may
//! ever be lost. The Go client (and tikv's port of it) get a consistent
//! snapshot with hot/cold shards: every observation does three or four
//! atomic read-modify-writes (a shared observation counter that also holds
//! the hot index, the bucket, the sum, the shard's count), and a scrape
//! swaps the shards and waits for in-flight writers to finish.
//!
//! Here the cell stores **no count at all**: each observation adds one to
//! exactly one non-cumulative bucket (one atomic add) and adds its value to
//! the sum (one compare-and-swap). A scrape reads every bucket once and
//! accumulates them, so `_count` *is* the `+Inf` bucket, the buckets are
//! monotone by construction, and since every bucket only grows, nothing a
//! later scrape reports is smaller than what an earlier one did. That costs
//! half the atomics of hot/cold, and a scrape never waits for a writer.
//! The one thing it does not give is a `_sum` frozen at exactly the counted
//! observations: the sum is added *before* the bucket (release/acquire), so
//! a scrape's `_sum` includes every counted observation plus at most the
//! ones in flight on other threads at that instant.

use super::exemplar::{Exemplar, ExemplarSlot};
use std::sync::atomic::{AtomicU64, Ordering};

/// A cell type a series can hold.
pub(crate) trait Cell: Send + Sync + Sized + 'static {
    /// A zeroed cell; `bounds` are the bucket bounds (histograms only).
    fn new(bounds: &'static [f64]) -> Self;
}

/// A monotonic count with the latest exemplar.
#[derive(Debug, Default)]
pub(crate) struct CounterCell {
    value: AtomicU64,
    exemplar: ExemplarSlot,
}

impl Cell for CounterCell {
    fn new(_: &'static [f64]) -> Self {
        Self::default()
    }
}

impl CounterCell {
    #[inline(always)]
    pub(crate) fn add(&self, n: u64) {
        self.value.fetch_add(n, Ordering::Relaxed);
        self.exemplar.offer(n as f64);
    }

    /// Sets the count outright (`metrics`' `Counter::absolute`); never lowers it.
    pub(crate) fn absolute(&self, n: u64) {
        self.value.fetch_max(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.read()
    }
}

/// A value that goes up and down, as `f64` bits.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
}

impl Cell for GaugeCell {
    fn new(_: &'static [f64]) -> Self {
        Self::default()
    }
}

impl GaugeCell {
    #[inline(always)]
    pub(crate) fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }

    #[inline(always)]
    pub(crate) fn add(&self, delta: f64) {
        add_f64(&self.bits, delta, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

#[inline(always)]
fn add_f64(bits: &AtomicU64, delta: f64, order: Ordering) {
    let mut current = bits.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match bits.compare_exchange_weak(current, next, order, Ordering::Relaxed) {
            Ok(_) => return,
            Err(now) => current = now,
        }
    }
}

/// The bytes one histogram bucket takes (count and exemplar slot).
pub(crate) const BUCKET_BYTES: usize = std::mem::size_of::<Bucket>();

/// One non-cumulative bucket and its latest exemplar.
#[derive(Debug, Default)]
struct Bucket {
    count: AtomicU64,
    exemplar: ExemplarSlot,
}

/// A fixed-bucket histogram; see the module docs for why it has no count.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    bounds: &'static [f64],
    /// `bounds.len() + 1` buckets, the last one `+Inf`.
    buckets: Box<[Bucket]>,
    sum: AtomicU64,
}

impl Cell for HistogramCell {
    fn new(bounds: &'static [f64]) -> Self {
        let mut buckets = Vec::with_capacity(bounds.len() + 1);
        buckets.resize_with(bounds.len() + 1, Bucket::default);
        HistogramCell {
            bounds,
            buckets: buckets.into_boxed_slice(),
            sum: AtomicU64::new(0),
        }
    }
}

/// What a scrape reads from a histogram.
pub(crate) struct HistogramSnapshot {
    /// Cumulative counts, one per bound plus `+Inf`.
    pub cumulative: Vec<u64>,
    pub exemplars: Vec<Option<Exemplar>>,
    pub sum: f64,
}

impl HistogramCell {
    /// The bucket of `value`: the first bound at or above it, `+Inf` past the
    /// last. NaN compares with nothing and lands in `+Inf`, as in the Go
    /// client, instead of the first bucket.
    #[inline(always)]
    fn bucket(&self, value: f64) -> usize {
        use std::cmp::Ordering::{Equal, Less};
        self.bounds
            .partition_point(|bound| !matches!(value.partial_cmp(bound), Some(Less | Equal)))
    }

    #[inline(always)]
    pub(crate) fn observe(&self, value: f64) {
        let i = self.bucket(value);
        add_f64(&self.sum, value, Ordering::Relaxed);
        // SAFETY of the invariant, not of memory: the release here pairs with
        // the scrape's acquire, so a counted observation's sum is visible.
        let bucket = &self.buckets[i];
        bucket.count.fetch_add(1, Ordering::Release);
        bucket.exemplar.offer(value);
    }

    /// Adds `count` observations of `value` at once (`record_many`).
    pub(crate) fn observe_many(&self, value: f64, count: u64) {
        let i = self.bucket(value);
        add_f64(&self.sum, value * count as f64, Ordering::Relaxed);
        self.buckets[i].count.fetch_add(count, Ordering::Release);
        self.buckets[i].exemplar.offer(value);
    }

    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0u64;
        let mut cumulative = Vec::with_capacity(self.buckets.len());
        let mut exemplars = Vec::with_capacity(self.buckets.len());
        for bucket in self.buckets.iter() {
            total += bucket.count.load(Ordering::Acquire);
            cumulative.push(total);
            exemplars.push(bucket.exemplar.read());
        }
        HistogramSnapshot {
            cumulative,
            exemplars,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds_and_nan_goes_to_inf() {
        let h = HistogramCell::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 2.0, 3.0, f64::NAN] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative, [2, 4, 6]);
        assert!(s.sum.is_nan());
    }

    #[test]
    fn many_observations_count_each() {
        let h = HistogramCell::new(&[1.0]);
        h.observe_many(0.25, 4);
        let s = h.snapshot();
        assert_eq!(s.cumulative, [4, 4]);
        assert_eq!(s.sum, 1.0);
    }

    #[test]
    fn gauges_add_and_set() {
        let g = GaugeCell::new(&[]);
        g.add(1.5);
        g.add(-0.5);
        assert_eq!(g.get(), 1.0);
        g.set(-3.0);
        assert_eq!(g.get(), -3.0);
    }
}
