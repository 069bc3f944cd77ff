//! The record engine behind every family: the catalog's and the
//! applications' alike (the public wrappers in [`crate::families`] hold one).
//!
//! An engine is typed by its cell and the Rust types of its labels,
//! `Engine<CounterCell, (Target, Status, ModelType)>`, and its `const`
//! constructor checks both against the family's spec: a wrong kind, label
//! order or label count does not compile.
//!
//! Words: a *family* is what a `family!` declares (a name, labels, a
//! kind); its *engine* is this record path; [`crate::families`] holds the
//! typed wrappers applications record through; a *foreign name* is a
//! series name the `metrics` facade brought that no family declares.
//!
//! # Why the record path looks like this
//!
//! * When photon's store is the global recorder, a record is: the facade's
//!   thread-local check for a local recorder (`metrics::with_recorder`), one
//!   pointer comparison, a cached table pointer, the series index by
//!   multiply-add and its stamp by shift-or (which lives of the label
//!   slots the handles belong to), two loads to reach the cell (the second
//!   compares the series' stamp with the handles'), and the cell's atomic.
//!   No hashing, no lock, no allocation, no facade handle, and no extra
//!   cache line for the retirement check.
//! * A handle to a retired value records nothing: its stamp no longer
//!   matches, so the record falls to the cold path, which counts it in
//!   `photon_metrics_stale_records_total{label}` and drops it (its text is
//!   gone; re-creating "its" series would need a value that no longer
//!   exists).
//! * Under any other recorder (a local one, a foreign global one, the no-op
//!   recorder before install) the series is registered through that recorder
//!   on every record, like `metrics::counter!` does: slower, always correct,
//!   and it never needs to know whether that recorder is global (which
//!   `metrics` does not say, and which once cost a probe thread per record).

use crate::catalog::FamilySpec;
use crate::handle::{Placeholder, Route};
use crate::labels::{same_names, LabelSet};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::table::Table;
use crate::store::{global, Registered, TableCell};
use metrics::{Key, KeyName, Metadata, Recorder, SharedString};
use std::marker::PhantomData;
use std::sync::OnceLock;

static METADATA: Metadata<'static> =
    Metadata::new("photon_metrics", metrics::Level::INFO, Some(module_path!()));

/// One family, typed by its cell and its labels: the catalog's and an
/// application's alike (both are declared with `family!`). It takes its
/// place in the process's registry on first use, or when a store is made.
pub(crate) struct Engine<C: TableCell, L: LabelSet> {
    spec: FamilySpec,
    /// Its index in the registry, or `None` if it could not register.
    index: OnceLock<Option<usize>>,
    /// The global recorder's address and its store's table for this family,
    /// once bound. There is at most one global photon store per process, so
    /// the binding never changes; one load serves both checks.
    bound: OnceLock<(usize, &'static Table<C>)>,
    labels: PhantomData<fn(L)>,
}

impl<C: TableCell, L: LabelSet> Engine<C, L> {
    /// Checks, at compile time when used in a `static`, that `C` and `L`
    /// match `spec`. (Those checks that need the tokens, no duplicate
    /// label and no catalog name, `family!` makes at the user's tokens.)
    pub(crate) const fn new(spec: FamilySpec) -> Self {
        assert!(
            same_names(L::NAMES, spec.labels),
            "the family's label types differ from its labels"
        );
        assert!(
            C::KIND as u8 == spec.kind as u8,
            "the family's cell type differs from its kind"
        );
        Engine {
            spec,
            index: OnceLock::new(),
            bound: OnceLock::new(),
            labels: PhantomData,
        }
    }

    /// The family's spec.
    pub(crate) fn spec(&'static self) -> &'static FamilySpec {
        &self.spec
    }

    /// Takes the family's place in the registry (once).
    pub(crate) fn register(&'static self) -> Result<(), crate::registry::RegisterError> {
        self.registered().map(drop)
    }

    /// The family as the store knows it, by its registry index
    /// (registering it on first use; a refusal is logged once and returned
    /// every time).
    pub(crate) fn registered(&'static self) -> Result<Registered, crate::registry::RegisterError> {
        let spec = &self.spec;
        let mut refusal = None;
        let index = self
            .index
            .get_or_init(|| match crate::registry::register(spec) {
                Ok(i) => Some(i),
                Err(e) => {
                    tracing::error!(family = spec.name, "{e}; its records are dropped");
                    refusal = Some(e);
                    None
                }
            });
        match (index, refusal) {
            (Some(i), _) => Ok(Registered { index: *i, spec }),
            (None, Some(e)) => Err(e),
            (None, None) => Err(crate::registry::RegisterError::Refused { name: spec.name }),
        }
    }

    /// The family's table in `store`, if it could register.
    pub(crate) fn table_in<'s>(
        &'static self,
        store: &'s crate::store::Store,
    ) -> Option<&'s Table<C>> {
        self.registered()
            .ok()
            .map(|family| family.table::<C>(store))
    }

    #[inline(always)]
    fn record(
        &'static self,
        labels: L,
        direct: impl FnOnce(&C),
        through: impl FnOnce(&dyn Recorder, &Key),
    ) {
        self.resolve(labels, direct, through);
    }

    /// Like [`record`](Self::record), returning what the record reached:
    /// `None` for a stale label (a retired value records nothing).
    #[inline(always)]
    fn resolve<R>(
        &'static self,
        labels: L,
        direct: impl FnOnce(&'static C) -> R,
        through: impl FnOnce(&dyn Recorder, &Key) -> R,
    ) -> Option<R> {
        metrics::with_recorder(|recorder| {
            let table = match self.current(recorder) {
                Bound::Photon(table) => table,
                Bound::Other => return self.through(recorder, labels, through),
                Bound::Unregistered => return None,
            };
            table
                .cell(labels.flat(&table.layout.strides), labels.stamp())
                .map(direct)
        })
    }

    /// Where a handle for the series at `labels` records, resolved under
    /// the recorder current now (see [`crate::handle`]); `through` makes
    /// another recorder's handle.
    pub(crate) fn route<T>(
        &'static self,
        labels: L,
        through: impl FnOnce(&dyn Recorder, &Key) -> T,
    ) -> Route<C, T>
    where
        C: Placeholder,
    {
        metrics::with_recorder(|recorder| {
            let table = match self.current(recorder) {
                Bound::Photon(table) => table,
                Bound::Other => {
                    return match self.through(recorder, labels, through) {
                        Some(handle) => Route::through(handle),
                        // A retired value (counted by `through`): each record counts again.
                        None => Route::dropped(labels.stale().and_then(|l| l.open())),
                    };
                }
                Bound::Unregistered => return Route::dropped(None),
            };
            let index = labels.flat(&table.layout.strides);
            Route::direct(table, index, labels.stamp())
        })
    }

    /// What to record into under `recorder`: the bound table when it is
    /// photon's global recorder (one load, one comparison), else [`bind`](Self::bind).
    #[inline(always)]
    fn current(&'static self, recorder: &dyn Recorder) -> Bound<C> {
        match self.bound.get() {
            Some((global, table)) if *global == global::address(recorder) => Bound::Photon(table),
            _ => self.bind(recorder),
        }
    }

    /// The table to record into directly if `recorder` is photon's global one.
    #[cold]
    #[inline(never)]
    fn bind(&'static self, recorder: &dyn Recorder) -> Bound<C> {
        let Ok(family) = self.registered() else {
            return Bound::Unregistered;
        };
        let Some(store) = global::store_for(recorder) else {
            return Bound::Other;
        };
        let (_, table) = self
            .bound
            .get_or_init(|| (global::address(recorder), family.table::<C>(store)));
        Bound::Photon(table)
    }

    #[cold]
    #[inline(never)]
    fn through<R>(
        &'static self,
        recorder: &dyn Recorder,
        labels: L,
        f: impl FnOnce(&dyn Recorder, &Key) -> R,
    ) -> Option<R> {
        if let Some(label) = labels.stale() {
            // The same rule as photon's own store: a retired value records nothing.
            if let Some(open) = label.open() {
                crate::labels::count_stale(open);
            }
            return None;
        }
        let spec = self.spec();
        describe(recorder, spec);
        Some(f(recorder, &Key::from_parts(spec.name, labels.to_labels())))
    }
}

impl<L: LabelSet> Engine<CounterCell, L> {
    /// A handle to the series at `labels`.
    pub(crate) fn handle(&'static self, labels: L) -> crate::handle::CounterHandle {
        crate::handle::CounterHandle(
            self.route(labels, |r, key| r.register_counter(key, &METADATA)),
        )
    }

    /// Adds `n` to the series at `labels`.
    #[inline(always)]
    pub(crate) fn add(&'static self, labels: L, n: u64) {
        self.record(
            labels,
            |c| c.add(n),
            |r, key| r.register_counter(key, &METADATA).increment(n),
        );
    }
}

impl<L: LabelSet> Engine<GaugeCell, L> {
    /// A handle to the series at `labels` of an `f64` gauge.
    ///
    /// # Panics
    /// For an integer gauge (a catalog family's accessor never asks).
    pub(crate) fn handle(&'static self, labels: L) -> crate::handle::GaugeHandle {
        assert!(!self.spec().integer(), "an f64 handle to an integer gauge");
        crate::handle::GaugeHandle(self.route(labels, |r, key| r.register_gauge(key, &METADATA)))
    }

    /// A handle to the series at `labels` of an integer gauge.
    ///
    /// # Panics
    /// For an `f64` gauge (a catalog family's accessor never asks).
    pub(crate) fn int_handle(&'static self, labels: L) -> crate::handle::IntGaugeHandle {
        assert!(self.spec().integer(), "an integer handle to an f64 gauge");
        crate::handle::IntGaugeHandle(self.route(labels, |r, key| r.register_gauge(key, &METADATA)))
    }

    /// Sets the series at `labels` to a whole `value` (saturating at
    /// `i64::MAX`): exact in an integer gauge.
    #[inline(always)]
    pub(crate) fn set_count(&'static self, labels: L, value: u64) {
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        self.record(
            labels,
            |g| g.set_int(value),
            |r, key| r.register_gauge(key, &METADATA).set(value as f64),
        );
    }

    /// Sets the series at `labels` to `value`.
    #[inline(always)]
    pub(crate) fn set(&'static self, labels: L, value: f64) {
        self.record(
            labels,
            |g| g.set(value),
            |r, key| r.register_gauge(key, &METADATA).set(value),
        );
    }
}

impl<L: LabelSet> Engine<GaugeCell, L> {
    /// Adds `delta` to the series at `labels` in the recorder current now
    /// and returns that series, for a drop guard to undo the change on the
    /// same recorder: one that starts before the exporter is installed (or
    /// inside `with_local_recorder`) and ends after must not leave the
    /// exporter's gauge at −1.
    #[inline(always)]
    pub(crate) fn add_held(&'static self, labels: L, delta: f64) -> HeldGauge {
        self.resolve(
            labels,
            |g| {
                g.add(delta);
                HeldGauge::Direct(g)
            },
            |r, key| {
                let gauge = r.register_gauge(key, &METADATA);
                gauge.increment(delta);
                HeldGauge::Through(gauge)
            },
        )
        .unwrap_or(HeldGauge::Stale)
    }
}

/// What a family records into under the current recorder.
enum Bound<C: 'static> {
    /// photon's global store: this table, directly.
    Photon(&'static Table<C>),
    /// Another recorder: through the facade.
    Other,
    /// An application family that could not register: nothing.
    Unregistered,
}

/// One gauge series as it was reached when a guard started; see
/// [`Engine::add_held`].
#[derive(Debug)]
pub(crate) enum HeldGauge {
    /// A cell of photon's global store: no facade handle on the hot path.
    Direct(&'static GaugeCell),
    /// The handle another recorder (or the no-op one) gave out.
    Through(metrics::Gauge),
    /// A retired label value's series: nothing to undo.
    Stale,
}

impl HeldGauge {
    /// Adds `delta` to the series this was taken from.
    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        match self {
            HeldGauge::Direct(cell) => cell.add(delta),
            HeldGauge::Through(gauge) => gauge.increment(delta),
            HeldGauge::Stale => {}
        }
    }
}

impl<L: LabelSet> Engine<HistogramCell, L> {
    /// A handle to the series at `labels`.
    pub(crate) fn handle(&'static self, labels: L) -> crate::handle::HistogramHandle {
        crate::handle::HistogramHandle(
            self.route(labels, |r, key| r.register_histogram(key, &METADATA)),
        )
    }

    /// Observes `value` in the series at `labels`.
    #[inline(always)]
    pub(crate) fn observe(&'static self, labels: L, value: f64) {
        self.record(
            labels,
            |h| h.observe(value),
            |r, key| r.register_histogram(key, &METADATA).record(value),
        );
    }
}

/// Registers help text and units for one family with `recorder`.
pub(crate) fn describe(recorder: &dyn Recorder, spec: &crate::catalog::FamilySpec) {
    let name = KeyName::from_const_str(spec.name);
    let unit = spec.unit.to_metrics();
    let help = SharedString::const_str(spec.help);
    match spec.kind {
        crate::catalog::Kind::Counter => recorder.describe_counter(name, unit, help),
        crate::catalog::Kind::Gauge => recorder.describe_gauge(name, unit, help),
        crate::catalog::Kind::Histogram => recorder.describe_histogram(name, unit, help),
    }
}
