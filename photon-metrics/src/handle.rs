//! Pre-resolved series: a handle finds its series once and records at the
//! cost of the cell's own atomic.
//!
//! Every catalog family has a function that returns one
//! ([`compiler::compilations`](crate::compiler::compilations),
//! [`runtime::active_sessions`](crate::runtime::active_sessions), …), and
//! so does every application family ([`Counter::handle`](crate::families::Counter::handle),
//! …). Use a handle where one series is recorded in a loop; the record
//! helpers (`compiler::record_compilation(…)`) are the same records,
//! resolved on every call.
//!
//! ```
//! use photon_metrics::compiler;
//! use photon_metrics::labels::{ModelType, Status, Target};
//!
//! let target = Target::new("mzi-64x64")?;
//! let compiled = compiler::compilations(target, Status::Success, ModelType::new("resnet50")?);
//! for _ in 0..3 {
//!     compiled.inc(); // photon_compilations_total{target="mzi-64x64",status="success",model_type="resnet50"}
//! }
//! # Ok::<(), photon_metrics::labels::LabelError>(())
//! ```
//!
//! # What a handle keeps of the helpers
//!
//! * **The recorder current when it is made.** Under photon's global
//!   exporter a handle points at its series' cell; under any other
//!   recorder (a local one, a foreign global one, or none yet, the no-op)
//!   it holds that recorder's own handle, exactly as `metrics::counter!`
//!   would. Like a `metrics::Counter`, a handle made before the exporter
//!   is installed keeps recording into the recorder of that moment (the
//!   no-op one): make handles after [`install`](crate::export::prometheus::PrometheusExporterBuilder::install).
//! * **The series exists from the moment the handle does** (at 0 for a
//!   counter), as with prometheus-client's `get_or_create`.
//! * **Exemplars**: a counter increment or a histogram observation made
//!   inside a sampled span carries that span's trace, as the helpers' do.
//! * **Retirement**: a handle records only while every label value it was
//!   made with lives. Once one is retired (or its series expires idle and
//!   the value with it), the handle's records are counted in
//!   `photon_metrics_stale_records_total{label}` and dropped; they never
//!   reach the series of the value that takes the slot next. An idle mark
//!   (the sweep's "not recorded since") is cleared by the handle's next
//!   record, as by a helper's.
//! * **Caps**: a handle is made from label values, which were admitted
//!   under their caps when they were made.
//!
//! # Why it costs what the bare atomic does
//!
//! A record loads the series' stamp word (on a line apart from the cells,
//! that only series creation and retirement write), compares it with the
//! handle's, and does the cell's operation: for a counter one atomic add
//! and the exemplar check (a thread-local load and a branch), for a gauge's
//! `set` one plain store. No facade, no recorder check, no index
//! arithmetic. Anything else (idle mark, retired value) takes a cold call
//! that the helpers' slow path already handles.

use crate::labels::OpenLabel;
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::table::Table;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a handle's records go, laid out so the common case is one
/// comparison: `word` and `stamp` match only while the handle's series of
/// photon's store is live, and then `cell` is that series' cell. Every
/// other case (an idle mark to clear, a retired value, another recorder,
/// nowhere) fails the comparison and takes [`Route::cold`]: for those,
/// `word` is [`NEVER`] and `cell` a placeholder no record reaches.
pub(crate) struct Route<C: 'static, T> {
    word: &'static AtomicU64,
    stamp: u64,
    cell: &'static C,
    other: Other<C, T>,
}

/// The word of a route that is not photon's store: always 0, which no
/// such route's stamp (`u64::MAX`) equals.
static NEVER: AtomicU64 = AtomicU64::new(0);

/// What a route is besides its fast path.
enum Other<C: 'static, T> {
    /// A series of photon's global store: where to look again when the
    /// stamp differs.
    Photon {
        table: &'static Table<C>,
        index: usize,
    },
    /// Another recorder's handle.
    Through(T),
    /// Nowhere: a retired label value under another recorder (each record
    /// counted as stale), or an application family that could not
    /// register (`None`).
    Dropped(Option<OpenLabel>),
}

/// What the record reaches when the fast path does not.
enum Slow<'a, C: 'static, T> {
    Cell(&'static C),
    Through(&'a T),
    Nothing,
}

impl<C: Placeholder, T> Route<C, T> {
    /// The route to the series at `index` of `table` for labels stamped
    /// `stamp`; creates the series (or counts the stale record of a
    /// retired value) now.
    pub(crate) fn direct(table: &'static Table<C>, index: usize, stamp: u64) -> Self {
        let _ = table.cell(index, stamp);
        let (word, cell) = table.slot(index);
        Route {
            word,
            stamp,
            cell,
            other: Other::Photon { table, index },
        }
    }

    /// A route through another recorder's handle.
    pub(crate) fn through(handle: T) -> Self {
        Self::other(Other::Through(handle))
    }

    /// A route that records nothing (see [`Other::Dropped`]).
    pub(crate) fn dropped(stale: Option<OpenLabel>) -> Self {
        Self::other(Other::Dropped(stale))
    }

    fn other(other: Other<C, T>) -> Self {
        Route {
            word: &NEVER,
            stamp: u64::MAX,
            cell: C::placeholder(),
            other,
        }
    }

    /// Records through `direct` into photon's cell, or through `through`
    /// into another recorder's handle.
    #[inline(always)]
    fn record(&self, direct: impl FnOnce(&C), through: impl FnOnce(&T)) {
        if self.word.load(Ordering::Acquire) == self.stamp {
            direct(self.cell);
        } else {
            match self.cold() {
                Slow::Cell(cell) => direct(cell),
                Slow::Through(t) => through(t),
                Slow::Nothing => {}
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn cold(&self) -> Slow<'_, C, T> {
        match &self.other {
            // An idle mark to clear, a series to re-create, or a retired value.
            Other::Photon { table, index } => match table.cell(*index, self.stamp) {
                Some(cell) => Slow::Cell(cell),
                None => Slow::Nothing,
            },
            Other::Through(t) => Slow::Through(t),
            Other::Dropped(label) => {
                if let Some(label) = label {
                    crate::labels::count_stale(*label);
                }
                Slow::Nothing
            }
        }
    }

    fn describe(&self) -> &'static str {
        match &self.other {
            Other::Photon { table, .. } => table.spec.name,
            Other::Through(_) => "another recorder",
            Other::Dropped(_) => "nowhere",
        }
    }
}

impl<C, T: Clone> Clone for Route<C, T> {
    fn clone(&self) -> Self {
        Route {
            word: self.word,
            stamp: self.stamp,
            cell: self.cell,
            other: match &self.other {
                Other::Photon { table, index } => Other::Photon {
                    table,
                    index: *index,
                },
                Other::Through(t) => Other::Through(t.clone()),
                Other::Dropped(l) => Other::Dropped(*l),
            },
        }
    }
}

/// A cell type's placeholder: what a route that is not photon's store
/// points at, never recorded into.
pub(crate) trait Placeholder: crate::store::cell::Cell {
    fn placeholder() -> &'static Self;
}

macro_rules! placeholder {
    ($cell:ty) => {
        impl Placeholder for $cell {
            fn placeholder() -> &'static Self {
                static CELL: std::sync::OnceLock<$cell> = std::sync::OnceLock::new();
                CELL.get_or_init(|| {
                    <$cell as crate::store::cell::Cell>::new(
                        crate::store::cell::Shape::classic(&[]),
                    )
                })
            }
        }
    };
}

placeholder!(CounterCell);
placeholder!(GaugeCell);
placeholder!(HistogramCell);

macro_rules! debug {
    ($ty:ident) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.0.describe())
                    .finish()
            }
        }
    };
}

/// One counter series, resolved once; see the [module docs](self).
#[derive(Clone)]
pub struct CounterHandle(pub(crate) Route<CounterCell, metrics::Counter>);
debug!(CounterHandle);

impl CounterHandle {
    /// Adds 1.
    #[inline(always)]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.record(|cell| cell.add(n), |h| h.increment(n))
    }
}

/// One gauge series, resolved once; see the [module docs](self).
///
/// The catalog's integer gauges ([`FamilySpec::integer`](crate::catalog::FamilySpec::integer))
/// give an [`IntGaugeHandle`] instead.
#[derive(Clone)]
pub struct GaugeHandle(pub(crate) Route<GaugeCell, metrics::Gauge>);
debug!(GaugeHandle);

impl GaugeHandle {
    /// Sets the value: one store.
    #[inline(always)]
    pub fn set(&self, value: f64) {
        self.0
            .record(|cell| cell.raw_set_f64(value), |h| h.set(value))
    }

    /// Adds `delta` (which may be negative): a compare-and-swap loop, as
    /// for every `f64` gauge.
    #[inline(always)]
    pub fn add(&self, delta: f64) {
        self.0
            .record(|cell| cell.raw_add_f64(delta), |h| h.increment(delta))
    }

    /// Subtracts `delta`.
    #[inline(always)]
    pub fn sub(&self, delta: f64) {
        self.add(-delta);
    }
}

/// One series of an integer gauge (sessions, queue depth, active devices),
/// resolved once: `add` and `sub` are one atomic add, `set` one store.
/// Under another recorder the values go to its `f64` gauge.
#[derive(Clone)]
pub struct IntGaugeHandle(pub(crate) Route<GaugeCell, metrics::Gauge>);
debug!(IntGaugeHandle);

impl IntGaugeHandle {
    /// Sets the value: one store.
    #[inline(always)]
    pub fn set(&self, value: i64) {
        self.0
            .record(|cell| cell.raw_set_int(value), |h| h.set(value as f64))
    }

    /// Adds `delta` (which may be negative): one atomic add.
    #[inline(always)]
    pub fn add(&self, delta: i64) {
        self.0.record(
            |cell| cell.raw_add_int(delta),
            |h| h.increment(delta as f64),
        )
    }

    /// Subtracts `delta`.
    #[inline(always)]
    pub fn sub(&self, delta: i64) {
        self.add(delta.wrapping_neg());
    }

    /// Adds 1.
    #[inline(always)]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts 1.
    #[inline(always)]
    pub fn dec(&self) {
        self.add(-1);
    }
}

/// One histogram series, resolved once; see the [module docs](self).
#[derive(Clone)]
pub struct HistogramHandle(pub(crate) Route<HistogramCell, metrics::Histogram>);
debug!(HistogramHandle);

impl HistogramHandle {
    /// Observes `value`.
    #[inline(always)]
    pub fn observe(&self, value: f64) {
        self.0
            .record(|cell| cell.observe(value), |h| h.record(value))
    }
}
