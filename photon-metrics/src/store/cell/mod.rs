//! The value cells of one series, one file a kind: [`CounterCell`],
//! [`GaugeCell`] and [`HistogramCell`] (fixed buckets, and native ones
//! where the family has them), behind the [`Cell`] trait the tables hold
//! them by.

mod counter;
mod gauge;
mod histogram;

pub(crate) use counter::CounterCell;
pub(crate) use gauge::GaugeCell;
pub(crate) use histogram::HistogramCell;

use super::native;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a histogram series counts in: its classic bounds and, if it has
/// them, its native buckets' layout (ignored by counters and gauges).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) bounds: &'static [f64],
    pub(crate) native: Option<native::Layout>,
    /// Gauges only: the series holds an `i64` (see [`GaugeCell`]).
    pub(crate) integer: bool,
}

impl Shape {
    /// Classic buckets only (and what counters and gauges take).
    pub(crate) const fn classic(bounds: &'static [f64]) -> Self {
        Shape {
            bounds,
            native: None,
            integer: false,
        }
    }
}

/// A cell type a series can hold.
pub(crate) trait Cell: Send + Sync + Sized + 'static {
    /// A zeroed cell of `shape` (bounds and native layout: histograms only).
    fn new(shape: Shape) -> Self;
    /// Zeroes the cell again, for a series created where a retired one was.
    fn reset(&self);
    /// Adds `other`'s values to this cell's: counts and sums add, a gauge
    /// takes `other`'s value, each exemplar slot keeps the newer exemplar.
    /// Into a new cell, it is a copy: a retired series' final values.
    fn add_from(&self, other: &Self);
    /// Heap bytes the cell holds now (its buckets, for a histogram).
    fn heap_bytes(&self) -> usize {
        0
    }
    /// Appends the cell's values as words, as [`add_saved`](Cell::add_saved)
    /// reads them back in another process (see [`crate::store::saved`]).
    fn save(&self, out: &mut Vec<u64>);
    /// Adds the values a cell of the same family [`save`](Cell::save)d, as
    /// [`add_from`](Cell::add_from) adds a cell's (a gauge adds too: the
    /// service's merge picks gauge values itself). `None`, having added a
    /// part or nothing, when the words are not such values.
    fn add_saved(&self, words: &mut std::slice::Iter<'_, u64>) -> Option<()>;
}

/// The next five words, an exemplar slot's.
pub(super) fn exemplar_words(words: &mut std::slice::Iter<'_, u64>) -> Option<[u64; 5]> {
    let mut out = [0; 5];
    for w in &mut out {
        *w = *words.next()?;
    }
    Some(out)
}

/// Adds `delta` to the `f64` whose bits `bits` holds: a compare-and-swap
/// loop (gauges' `add`, histograms' sums).
#[inline(always)]
pub(super) fn add_f64(bits: &AtomicU64, delta: f64, order: Ordering) {
    let mut current = bits.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match bits.compare_exchange_weak(current, next, order, Ordering::Relaxed) {
            Ok(_) => return,
            Err(now) => current = now,
        }
    }
}
