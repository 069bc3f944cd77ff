//! One series recorded through the facade, and a handle of any kind to
//! one: its labels, its cell, and the marks idle expiry reads.

use crate::catalog::Kind;
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One foreign series: its encoded labels, its cell, and when it was last
/// recorded.
#[derive(Debug)]
pub(crate) struct Series<C> {
    pub(crate) text: Arc<str>,
    /// The labels as protobuf label pairs (see [`super::table::Series`]).
    pub(crate) pairs: Box<[u8]>,
    /// When the series was created, in ns since the Unix epoch.
    pub(crate) created_ns: u64,
    pub(crate) cell: C,
    /// [`TOUCHED`] (a record or registration since the last sweep), [`OWN`]
    /// (a key's own series, counted in its family's `distinct`) and, below
    /// them, the [`now_ms`](crate::labels::now_ms) at which a sweep last
    /// found it touched. One word, so a series costs 8 bytes more.
    pub(super) seen: AtomicU64,
}

/// Set by a record; read and cleared by an idle sweep.
pub(super) const TOUCHED: u64 = 1 << 63;
/// Set at creation on a series a key got for itself (not an `__overflow__` one).
pub(super) const OWN: u64 = 1 << 62;
pub(super) const TIME: u64 = OWN - 1;

impl<C> Series<C> {
    /// Marks the series recorded. On the record path: one relaxed load that
    /// finds the flag set (the line stays shared) except once per sweep.
    #[inline(always)]
    pub(crate) fn touch(&self) {
        if self.seen.load(Ordering::Relaxed) & TOUCHED == 0 {
            self.seen.fetch_or(TOUCHED, Ordering::Relaxed);
        }
    }

    /// One sweep's look at the series at `now`: whether it was idle for
    /// `expiry` ms (a touched one is noted as seen now instead).
    pub(super) fn idle(&self, now: u64, expiry: u64) -> bool {
        let seen = self.seen.load(Ordering::Relaxed);
        if seen & TOUCHED != 0 {
            // Only sweeps clear the flag, and they hold the store's lock.
            let _ = self.seen.compare_exchange(
                seen,
                (seen & OWN) | now,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            return false;
        }
        now.saturating_sub(seen & TIME) >= expiry
    }

    pub(super) fn own(&self) -> bool {
        self.seen.load(Ordering::Relaxed) & OWN != 0
    }
}

/// A registered series of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Handle {
    Counter(Arc<Series<CounterCell>>),
    Gauge(Arc<Series<GaugeCell>>),
    Histogram(Arc<Series<HistogramCell>>),
}

impl Handle {
    pub(super) fn touch(&self) {
        match self {
            Handle::Counter(s) => s.touch(),
            Handle::Gauge(s) => s.touch(),
            Handle::Histogram(s) => s.touch(),
        }
    }

    pub(super) fn idle(&self, now: u64, expiry: u64) -> bool {
        match self {
            Handle::Counter(s) => s.idle(now, expiry),
            Handle::Gauge(s) => s.idle(now, expiry),
            Handle::Histogram(s) => s.idle(now, expiry),
        }
    }

    pub(super) fn own(&self) -> bool {
        match self {
            Handle::Counter(s) => s.own(),
            Handle::Gauge(s) => s.own(),
            Handle::Histogram(s) => s.own(),
        }
    }

    /// The series' address: which handles are one series.
    pub(super) fn addr(&self) -> *const () {
        match self {
            Handle::Counter(s) => Arc::as_ptr(s).cast(),
            Handle::Gauge(s) => Arc::as_ptr(s).cast(),
            Handle::Histogram(s) => Arc::as_ptr(s).cast(),
        }
    }

    pub(super) fn kind(&self) -> Kind {
        match self {
            Handle::Counter(_) => Kind::Counter,
            Handle::Gauge(_) => Kind::Gauge,
            Handle::Histogram(_) => Kind::Histogram,
        }
    }
}
