//! The store as a `metrics::Recorder`: the facade stays the front door.
//!
//! Keys named after a catalog family are routed to that family's table (so
//! `with_local_recorder` and third-party `metrics::counter!` calls reach the
//! same cells as the typed helpers); every other key is a foreign series.

use super::cell::{CounterCell, GaugeCell, HistogramCell};
use super::foreign::{Handle, Series};
use super::keys::KeyCache;
use super::Registered;
use super::{Store, TableCell};
use crate::catalog::Kind;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// photon's store as a `metrics` recorder.
///
/// Built by [`PrometheusExporterBuilder::build_recorder`]; install it
/// yourself, compose it with other recorders, or use it with
/// `metrics::with_local_recorder`. Everything it receives is served by the
/// [`PrometheusExporter`] built with it.
///
/// [`PrometheusExporterBuilder::build_recorder`]: crate::export::prometheus::PrometheusExporterBuilder::build_recorder
/// [`PrometheusExporter`]: crate::export::prometheus::PrometheusExporter
#[derive(Clone)]
pub struct PhotonRecorder {
    pub(crate) store: Arc<Store>,
    /// What keys resolved to, shared by the recorder's clones.
    keys: Arc<KeyCache<Resolved>>,
}

/// What a facade key of a catalog or application family resolved to, as
/// kept in the recorder's key cache: a series of a family of `kind`, valid
/// while its slot holds the series' stamp (see [`Typed::live`]).
///
/// Foreign keys are not kept: their series already has its key in the
/// foreign map, which one lookup of the name (lock-free) leads to, and a
/// second copy of every foreign key here measurably slowed renders (the
/// copies' allocations scattered the foreign series across the heap).
#[derive(Clone)]
struct Resolved {
    kind: Kind,
    handle: Arc<Typed>,
}

impl std::fmt::Debug for PhotonRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotonRecorder").finish_non_exhaustive()
    }
}

/// A catalog or application series handed out through the facade.
struct Typed {
    store: Arc<Store>,
    family: Registered,
    index: usize,
    /// Which lives of its label values the series is for: a handle kept
    /// past a retirement records nothing rather than into the slot's next value.
    stamp: u64,
}

impl Typed {
    fn cell<C: TableCell>(&self) -> Option<&C> {
        self.family
            .table::<C>(&self.store)
            .cell(self.index, self.stamp)
    }

    /// Whether its slot still holds its series (idle or not), as it did when
    /// the key was resolved: else the key is resolved again, since a value
    /// retired or expired since then has a new life (or none) now.
    fn live<C: TableCell>(&self) -> bool {
        let table = self.family.table::<C>(&self.store);
        let Some(word) = table.stamp_at(self.index) else {
            return false;
        };
        if word == self.stamp {
            return true;
        }
        // Marked idle by a sweep: a registration counts as activity, as a
        // resolution from scratch would (this clears the mark).
        word == self.stamp | crate::labels::stamp::IDLE
            && table.cell(self.index, self.stamp).is_some()
    }
}

impl CounterFn for Typed {
    fn increment(&self, value: u64) {
        if let Some(c) = self.cell::<CounterCell>() {
            c.add(value);
        }
    }
    fn absolute(&self, value: u64) {
        if let Some(c) = self.cell::<CounterCell>() {
            c.absolute(value);
        }
    }
}

impl GaugeFn for Typed {
    fn increment(&self, value: f64) {
        if let Some(c) = self.cell::<GaugeCell>() {
            c.add(value);
        }
    }
    fn decrement(&self, value: f64) {
        if let Some(c) = self.cell::<GaugeCell>() {
            c.add(-value);
        }
    }
    fn set(&self, value: f64) {
        if let Some(c) = self.cell::<GaugeCell>() {
            c.set(value);
        }
    }
}

impl HistogramFn for Typed {
    fn record(&self, value: f64) {
        if let Some(c) = self.cell::<HistogramCell>() {
            c.observe(value);
        }
    }
    fn record_many(&self, value: f64, count: usize) {
        if let Some(c) = self.cell::<HistogramCell>() {
            c.observe_many(value, count as u64);
        }
    }
}

impl CounterFn for Series<CounterCell> {
    fn increment(&self, value: u64) {
        self.touch();
        self.cell.add(value);
    }
    fn absolute(&self, value: u64) {
        self.touch();
        self.cell.absolute(value);
    }
}

impl GaugeFn for Series<GaugeCell> {
    fn increment(&self, value: f64) {
        self.touch();
        self.cell.add(value);
    }
    fn decrement(&self, value: f64) {
        self.touch();
        self.cell.add(-value);
    }
    fn set(&self, value: f64) {
        self.touch();
        self.cell.set(value);
    }
}

impl HistogramFn for Series<HistogramCell> {
    fn record(&self, value: f64) {
        self.touch();
        self.cell.observe(value);
    }
    fn record_many(&self, value: f64, count: usize) {
        self.touch();
        self.cell.observe_many(value, count as u64);
    }
}

/// One warning per family whose name arrived with the wrong kind or
/// labels, so a `counter!` in a loop does not flood the log.
static WARNED: [AtomicBool; crate::registry::MAX_FAMILIES] =
    [const { AtomicBool::new(false) }; crate::registry::MAX_FAMILIES];

impl PhotonRecorder {
    /// The recorder of `store`, with a key cache of its own.
    pub(crate) fn new(store: Arc<Store>) -> Self {
        PhotonRecorder {
            store,
            keys: Arc::new(KeyCache::new()),
        }
    }

    /// The flat index and stamp of a catalog key, creating its series, and
    /// whether an open value went to `__overflow__`; `None` (logged once per
    /// family) when the kind, label names or a value do not fit.
    fn typed<C: TableCell>(&self, family: Registered, key: &Key) -> Option<(usize, u64, bool)> {
        let spec = family.spec;
        let refuse = |why: String| {
            if !WARNED[family.index].swap(true, Ordering::Relaxed) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        metric = spec.name,
                        "photon-metrics: `{}` is a declared family; records that do not fit it are dropped: {why}",
                        spec.name
                    );
                });
            }
            None
        };
        if C::KIND != spec.kind {
            return refuse(format!(
                "it is a {}, not a {}",
                spec.kind.as_str(),
                C::KIND.as_str()
            ));
        }
        if key.labels().count() != spec.labels.len() {
            return refuse(format!(
                "it takes the labels {:?}",
                spec.labels.iter().map(|l| l.as_str()).collect::<Vec<_>>()
            ));
        }
        let table = family.table::<C>(&self.store);
        let mut index = 0;
        let mut stamp = crate::labels::stamp::LIVE;
        let mut overflowed = false;
        for (i, label) in spec.labels.iter().enumerate() {
            let Some(value) = key.labels().find(|l| l.key() == label.as_str()) else {
                return refuse(format!("the label `{}` is missing", label.as_str()));
            };
            match crate::labels::slot_of(*label, value.value()) {
                Ok((slot, generation)) => {
                    // An open label's slot 0 is its overflow.
                    overflowed |= slot == 0 && label.open().is_some();
                    index += slot * table.layout.strides[i];
                    stamp |= crate::labels::stamp::part(i, generation);
                }
                Err(e) => return refuse(e.to_string()),
            }
        }
        table.cell(index, stamp);
        Some((index, stamp, overflowed))
    }

    /// The typed series `key` names (`Some(None)`: a family's, but refused),
    /// or `None` for a foreign key; from the key cache when it is there and
    /// still current.
    fn typed_handle<C: TableCell>(&self, key: &Key) -> Option<Option<Arc<Typed>>> {
        if let Some(Resolved { kind, handle }) = self.keys.get(key) {
            if kind == C::KIND && handle.live::<C>() {
                return Some(Some(handle));
            }
        }
        let family = Registered::named(key.name())?;
        let Some((index, stamp, overflowed)) = self.typed::<C>(family, key) else {
            return Some(None);
        };
        let handle = Arc::new(Typed {
            store: self.store.clone(),
            family,
            index,
            stamp,
        });
        // An overflowed key is not kept: once a value retires and frees a
        // slot, the key gets a series of its own, as without the cache.
        if !overflowed {
            let kept = Resolved {
                kind: C::KIND,
                handle: handle.clone(),
            };
            self.keys.insert(key, kept);
        }
        Some(Some(handle))
    }

    fn describe(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        // Catalog families keep the catalog's help text.
        if Registered::named(name.as_str()).is_none() {
            self.store.foreign.describe(name.as_str(), unit, help);
        }
    }
}

impl Recorder for PhotonRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if let Some(typed) = self.typed_handle::<CounterCell>(key) {
            return typed.map_or_else(Counter::noop, Counter::from_arc);
        }
        match self.store.foreign.register(key, Kind::Counter) {
            Some(Handle::Counter(series)) => Counter::from_arc(series),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        if let Some(typed) = self.typed_handle::<GaugeCell>(key) {
            return typed.map_or_else(Gauge::noop, Gauge::from_arc);
        }
        match self.store.foreign.register(key, Kind::Gauge) {
            Some(Handle::Gauge(series)) => Gauge::from_arc(series),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if let Some(typed) = self.typed_handle::<HistogramCell>(key) {
            return typed.map_or_else(Histogram::noop, Histogram::from_arc);
        }
        match self.store.foreign.register(key, Kind::Histogram) {
            Some(Handle::Histogram(series)) => Histogram::from_arc(series),
            _ => Histogram::noop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::export::prometheus::PrometheusExporterBuilder;
    use metrics::{Key, Label, Level, Metadata, Recorder};

    #[test]
    fn the_key_cache_keeps_family_keys_only() {
        let (recorder, exporter) = PrometheusExporterBuilder::new()
            .without_listener()
            .build_recorder();
        let metadata = Metadata::new(module_path!(), Level::INFO, None);
        let foreign = Key::from_parts("cache_test_total", vec![Label::new("k", "v")]);
        let catalog = Key::from_parts(
            "photon_compilations_total",
            vec![
                Label::new("target", "cache-test"),
                Label::new("status", "success"),
                Label::new("model_type", "cache-test"),
            ],
        );
        for _ in 0..3 {
            recorder.register_counter(&foreign, &metadata).increment(1);
            recorder.register_counter(&catalog, &metadata).increment(1);
        }
        // The foreign series keeps its key in the foreign map, not twice.
        assert_eq!(recorder.keys.len(), 1);
        assert!(recorder.keys.get(&catalog).is_some());
        let text = exporter.render();
        assert!(text.contains("cache_test_total{k=\"v\"} 3\n"), "{text}");
        assert!(
            text.contains(
                "photon_compilations_total{target=\"cache-test\",status=\"success\",model_type=\"cache-test\"} 3\n"
            ),
            "{text}"
        );
    }
}
