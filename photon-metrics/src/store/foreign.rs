//! Series that arrive through the `metrics` facade under names outside the
//! catalog (`metrics::counter!("my_app_requests_total")` in a dependency):
//! they land in the same store and the same `/metrics`.
//!
//! Registration (what `counter!` does on every call) takes a read lock and
//! one hash lookup; a new key takes the write lock once and is encoded then.
//! Handles that were registered record with atomics only, like the catalog's
//! cells.

use super::cell::{Cell, CounterCell, GaugeCell, HistogramCell};
use super::escape;
use super::table::push_label;
use crate::catalog::Kind;
use metrics::{Key, SharedString, Unit};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// One foreign series: its encoded labels and its cell.
#[derive(Debug)]
pub(crate) struct Series<C> {
    pub(crate) text: Box<str>,
    pub(crate) cell: C,
}

/// A registered series of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Handle {
    Counter(Arc<Series<CounterCell>>),
    Gauge(Arc<Series<GaugeCell>>),
    Histogram(Arc<Series<HistogramCell>>),
}

impl Handle {
    fn kind(&self) -> Kind {
        match self {
            Handle::Counter(_) => Kind::Counter,
            Handle::Gauge(_) => Kind::Gauge,
            Handle::Histogram(_) => Kind::Histogram,
        }
    }
}

/// Every series of one foreign name.
#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) kind: Kind,
    pub(crate) series: Vec<Handle>,
}

/// What `describe_*` said about a name.
#[derive(Debug, Clone)]
pub(crate) struct Description {
    pub(crate) unit: Option<Unit>,
    pub(crate) help: SharedString,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<Key, Handle>,
    /// By exported (sanitized) name, so the exposition is sorted.
    families: BTreeMap<String, Family>,
    descriptions: HashMap<String, Description>,
}

/// The foreign part of a store.
pub(crate) struct Foreign {
    inner: RwLock<Inner>,
    globals: Vec<(String, String)>,
    bounds: &'static [f64],
}

impl Foreign {
    /// `bounds` are the buckets of every foreign histogram. They are leaked:
    /// a few bytes per store built, and cells borrow them for free.
    pub(crate) fn new(globals: Vec<(String, String)>, bounds: Vec<f64>) -> Self {
        Foreign {
            inner: RwLock::default(),
            globals,
            bounds: Box::leak(bounds.into_boxed_slice()),
        }
    }

    /// The series of `key`, created on first use; `None` when the name is
    /// already used by a family of another kind (logged once per name).
    pub(crate) fn register(&self, key: &Key, kind: Kind) -> Option<Handle> {
        {
            let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some(handle) = inner.by_key.get(key) {
                return (handle.kind() == kind).then(|| handle.clone());
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = inner.by_key.get(key) {
            return (handle.kind() == kind).then(|| handle.clone());
        }
        let name = escape::metric_name(key.name());
        if let Some(existing) = inner.families.get(&name) {
            if existing.kind != kind {
                tracing::error!(
                    metric = %name,
                    registered_as = existing.kind.as_str(),
                    requested_as = kind.as_str(),
                    "photon-metrics: a metric name is used as two kinds; the later kind's records are dropped"
                );
                return None;
            }
        }
        let text = self.encode(key);
        let handle = match kind {
            Kind::Counter => Handle::Counter(Arc::new(Series {
                text,
                cell: CounterCell::new(&[]),
            })),
            Kind::Gauge => Handle::Gauge(Arc::new(Series {
                text,
                cell: GaugeCell::new(&[]),
            })),
            Kind::Histogram => Handle::Histogram(Arc::new(Series {
                text,
                cell: HistogramCell::new(self.bounds),
            })),
        };
        inner.by_key.insert(key.clone(), handle.clone());
        inner
            .families
            .entry(name)
            .or_insert_with(|| Family {
                kind,
                series: Vec::new(),
            })
            .series
            .push(handle.clone());
        Some(handle)
    }

    /// Keeps the help text and unit of `name` (the latest description wins).
    pub(crate) fn describe(&self, name: &str, unit: Option<Unit>, help: SharedString) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner
            .descriptions
            .insert(escape::metric_name(name), Description { unit, help });
    }

    /// Calls `f` for every family, sorted by name, with its description.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &Family, Option<&Description>)) {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        for (name, family) in &inner.families {
            f(name, family, inner.descriptions.get(name));
        }
    }

    fn encode(&self, key: &Key) -> Box<str> {
        let mut text = String::new();
        let mut names = Vec::new();
        for label in key.labels() {
            let name = escape::label_name(label.key());
            push_label(&mut text, &name, label.value());
            names.push(name);
        }
        for (name, value) in &self.globals {
            if !names.contains(name) {
                push_label(&mut text, name, value);
            }
        }
        text.into_boxed_str()
    }
}
