//! Series that arrive through the `metrics` facade under names outside the
//! catalog (`metrics::counter!("my_app_requests_total")` in a dependency):
//! they land in the same store and the same `/metrics`.
//!
//! # What a key becomes
//!
//! A `metrics` key is any text; an exposition line is not. Each key is made
//! into a valid series once, when it is first seen, and these rules keep
//! every scrape valid and every series unique (the exporter's module docs
//! list them for users):
//!
//! * names are sanitized ([`escape::metric_name`], [`escape::label_name`]);
//!   names that sanitize alike are one family if of one kind;
//! * a label name that occurs twice (or sanitizes like an earlier one) keeps
//!   its first value; `le` on a histogram and names starting with `__` are
//!   renamed `exported_…`, as Prometheus' `honor_labels: false` does; labels
//!   are sorted by name and empty values dropped (Prometheus treats an empty
//!   value as no label), so a key is one series however it is spelled;
//! * a family whose sample names (`_total`, `_bucket`, `_sum`, `_count`,
//!   OpenMetrics' `_created`, and the OpenMetrics name of a counter) would collide with another family's,
//!   the catalog's included, is refused, and so is a name used as a second
//!   kind: their records are dropped, with one warning per name.
//!
//! # Why it looks like this
//!
//! Registration (what `counter!` does on every call) takes a read lock and
//! one hash lookup; only a key that needs a new series (or a family's first
//! overflow, or a first refusal) takes the write lock, once. A refused or
//! overflowing key is never stored, so a loop of them neither grows the
//! store nor contends on the lock, and its warning is a flag flipped once.
//! Handles that were registered record with atomics only, like the catalog's
//! cells.
//!
//! Cardinality is capped like the catalog's: at most [`Limits::per_family`]
//! series per family and [`Limits::series`] in all (each family's
//! `__overflow__` series included); a key past either cap records into its
//! family's `__overflow__` series, so no record of an existing family is lost.

mod limits;
mod names;
mod series;

pub(crate) use limits::{Limits, MAX_NAME_BYTES};
pub(crate) use names::{claims, Claims, DEFAULT_HELP};
pub(crate) use series::{Handle, Series};
use series::{OWN, TIME, TOUCHED};

use super::cell::{Cell, CounterCell, GaugeCell, HistogramCell, Shape};
use super::escape;
use super::keys::{KeyMap, MAX_KEY_BYTES};
use super::table::push_label;
use crate::catalog::Kind;
use crate::labels::OVERFLOW_VALUE;
use metrics::{Key, SharedString, Unit};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A foreign name: every series of one name the `metrics` facade
/// brought that no family declares.
#[derive(Debug)]
pub(crate) struct ForeignName {
    pub(crate) kind: Kind,
    /// The name as first recorded, when it is not a valid legacy name (it
    /// was sanitized into the family's key): what a scraper that allows
    /// UTF-8 names sees, and what other escapings are applied to.
    pub(crate) original: Option<Box<str>>,
    /// In creation order, the `__overflow__` series (if any) among them.
    pub(crate) series: Vec<Handle>,
    /// Each series by its label text: keys spelled differently that make
    /// the same series share it.
    by_text: HashMap<Arc<str>, Handle>,
    /// Series other than `__overflow__`.
    distinct: usize,
    overflow: Option<Handle>,
    warned_kind: AtomicBool,
    warned_labels: AtomicBool,
    warned_overflow: AtomicBool,
}

impl ForeignName {
    fn new(kind: Kind, original: Option<Box<str>>) -> Self {
        ForeignName {
            kind,
            original,
            series: Vec::new(),
            by_text: HashMap::new(),
            distinct: 0,
            overflow: None,
            warned_kind: AtomicBool::new(false),
            warned_labels: AtomicBool::new(false),
            warned_overflow: AtomicBool::new(false),
        }
    }
}

/// What `describe_*` said about a name.
#[derive(Debug, Clone)]
pub(crate) struct Description {
    pub(crate) unit: Option<Unit>,
    pub(crate) help: SharedString,
}

struct Inner {
    /// Keys that got a series of their own (never refused or folded ones).
    /// Compared label by label in order (see [`KeyMap`]).
    by_key: KeyMap<Handle>,
    /// By exported (sanitized) name, so the exposition is sorted.
    families: BTreeMap<String, ForeignName>,
    descriptions: HashMap<String, Description>,
    /// Every sample and OpenMetrics family name in use → the family using it.
    claims: HashMap<String, String>,
    /// Exported names refused for a collision (warned already).
    refused: HashSet<String>,
    /// Series in all, `__overflow__` ones included.
    total: usize,
    /// Families without their `__overflow__` series yet: each may still
    /// create one, so new series leave room for them under the cap.
    reserved: usize,
}

/// A key made into a series: its label text and what had to change.
struct Encoded {
    text: Arc<str>,
    /// The label names after renaming and deduplication, sorted.
    names: Vec<String>,
    /// A label was renamed or dropped as a repeat.
    altered: bool,
    /// Over [`MAX_KEY_BYTES`].
    oversize: bool,
}

/// The foreign part of a store.
pub(crate) struct Foreign {
    inner: RwLock<Inner>,
    globals: Vec<(String, String)>,
    bounds: &'static [f64],
    limits: Limits,
    /// How long a series may go unrecorded before a render removes it, in ms.
    idle_expiry: Option<u64>,
    warned_full: AtomicBool,
    warned_long: AtomicBool,
}

impl Foreign {
    /// `bounds` are the buckets of every foreign histogram. They are leaked:
    /// a few bytes per store built, and cells borrow them for free.
    pub(crate) fn new(
        globals: Vec<(String, String)>,
        bounds: Vec<f64>,
        limits: Limits,
        idle_expiry: Option<Duration>,
    ) -> Self {
        let mut claimed = HashMap::new();
        for spec in crate::registry::specs() {
            for claim in claims(spec.name, spec.kind) {
                claimed.insert(claim, spec.name.to_string());
            }
        }
        Foreign {
            inner: RwLock::new(Inner {
                by_key: KeyMap::new(),
                families: BTreeMap::new(),
                descriptions: HashMap::new(),
                claims: claimed,
                refused: HashSet::new(),
                total: 0,
                reserved: 0,
            }),
            globals,
            bounds: Box::leak(bounds.into_boxed_slice()),
            limits,
            idle_expiry: idle_expiry.map(|d| d.as_millis().min(TIME as u128) as u64),
            warned_full: AtomicBool::new(false),
            warned_long: AtomicBool::new(false),
        }
    }

    /// The series `key` records into, created on first use; `None` when its
    /// records are dropped (a second kind for a name, a name colliding with
    /// another family's samples, or no room for a new family), warned once
    /// per name.
    ///
    /// The series is touched under the lock that found it: an idle sweep
    /// (which removes under the write lock) either ran before, and the key
    /// got a new series, or runs after and sees this one recorded; so the
    /// record that follows a `counter!` never goes into a removed series.
    pub(crate) fn register(&self, key: &Key, kind: Kind) -> Option<Handle> {
        {
            let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = self.known(&inner, key, kind) {
                return touched(found);
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = self.known(&inner, key, kind) {
            return touched(found);
        }
        touched(self.create(&mut inner, key, kind))
    }

    /// What `key` resolves to without changing anything, if that is known
    /// (`Some(None)`: dropped); `None` when it needs the write lock.
    fn known(&self, inner: &Inner, key: &Key, kind: Kind) -> Option<Option<Handle>> {
        if let Some(handle) = inner.by_key.get(key) {
            if handle.kind() == kind {
                return Some(Some(handle.clone()));
            }
        }
        if key.name().len() > MAX_NAME_BYTES {
            // Never stored, so never a family whose name alone is unbounded.
            if !self.warned_long.swap(true, Ordering::Relaxed) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        bytes = key.name().len(),
                        max = MAX_NAME_BYTES,
                        "photon-metrics: a metric name recorded through the metrics facade is too long; its records are dropped (warned once)"
                    );
                });
            }
            return Some(None);
        }
        let name = escape::metric_name(key.name());
        let Some(family) = inner.families.get(&name) else {
            if inner.refused.contains(&name) {
                return Some(None);
            }
            return None;
        };
        if family.kind != kind {
            if !family.warned_kind.swap(true, Ordering::Relaxed) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        metric = %name,
                        registered_as = family.kind.as_str(),
                        requested_as = kind.as_str(),
                        "photon-metrics: a metric name is used as two kinds; the later kind's records are dropped (warned once per name)"
                    );
                });
            }
            return Some(None);
        }
        let encoded = self.encode(key, kind);
        if let Some(handle) = family.by_text.get(&encoded.text) {
            if encoded.altered {
                warn_labels(family, &name);
            }
            return Some(Some(handle.clone()));
        }
        if !self.fits(inner, family, &encoded) {
            if let Some(overflow) = &family.overflow {
                return Some(Some(overflow.clone()));
            }
        }
        None
    }

    /// Whether a new series for `encoded` may be created in `family`.
    fn fits(&self, inner: &Inner, family: &ForeignName, encoded: &Encoded) -> bool {
        !encoded.oversize
            && family.distinct < self.limits.per_family
            && inner.total + inner.reserved < self.limits.series
    }

    /// Creates what [`known`](Self::known) could not resolve, under the
    /// write lock: a family, a series, a family's `__overflow__` series, or
    /// a refusal.
    fn create(&self, inner: &mut Inner, key: &Key, kind: Kind) -> Option<Handle> {
        let name = escape::metric_name(key.name());
        if !inner.families.contains_key(&name) {
            let claims = claims(&name, kind);
            if let Some(owner) = claims.iter().find_map(|c| inner.claims.get(c)) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        metric = %name,
                        kind = kind.as_str(),
                        collides_with = %owner,
                        "photon-metrics: a metric's sample names would collide with another family's; its records are dropped (warned once per name)"
                    );
                });
                inner.refused.insert(name);
                return None;
            }
            // Room for the family's first series and its `__overflow__`.
            if inner.total + inner.reserved + 2 > self.limits.series {
                if !self.warned_full.swap(true, Ordering::Relaxed) {
                    crate::warning::warn(|| {
                        tracing::warn!(
                            metric = %name,
                            cap = self.limits.series,
                            "photon-metrics: the cap on series recorded through the metrics facade is reached; records of new metric names are dropped (warned once)"
                        );
                    });
                }
                return None;
            }
            for claim in claims {
                inner.claims.insert(claim, name.clone());
            }
            let original = (key.name() != name).then(|| key.name().into());
            inner
                .families
                .insert(name.clone(), ForeignName::new(kind, original));
            inner.reserved += 1;
        }
        let encoded = self.encode(key, kind);
        let fits = {
            let family = &inner.families[&name];
            self.fits(inner, family, &encoded)
        };
        let family = inner.families.get_mut(&name).expect("created above");
        if fits {
            let handle = self.handle(kind, encoded.text.clone(), OWN);
            family.by_text.insert(encoded.text, handle.clone());
            family.series.push(handle.clone());
            family.distinct += 1;
            if encoded.altered {
                warn_labels(family, &name);
            }
            inner.total += 1;
            inner.by_key.insert(key.clone(), handle.clone());
            return Some(handle);
        }
        if !family.warned_overflow.swap(true, Ordering::Relaxed) {
            crate::warning::warn(|| {
                tracing::warn!(
                    metric = %name,
                    family_cap = self.limits.per_family,
                    cap = self.limits.series,
                    key_bytes_max = MAX_KEY_BYTES,
                    "photon-metrics: a metric recorded through the metrics facade reached a cardinality cap (or a key is too long); its new series are recorded as one series with every label `__overflow__` (warned once per name)"
                );
            });
        }
        let text = self.overflow_text(&encoded);
        let overflow = match family.by_text.get(&text) {
            Some(existing) => existing.clone(),
            None => {
                let handle = self.handle(kind, text.clone(), 0);
                family.by_text.insert(text, handle.clone());
                family.series.push(handle.clone());
                inner.total += 1;
                handle
            }
        };
        family.overflow = Some(overflow.clone());
        inner.reserved -= 1;
        Some(overflow)
    }

    /// A new series (`own`: [`OWN`] or 0), touched: it counts as recorded
    /// until the next sweep.
    fn handle(&self, kind: Kind, text: Arc<str>, own: u64) -> Handle {
        let seen = AtomicU64::new(TOUCHED | own | crate::labels::now_ms());
        let mut pairs = Vec::new();
        for (name, value) in escape::parse_labels(&text) {
            escape::label_pair(&mut pairs, &name, &value);
        }
        let pairs = pairs.into_boxed_slice();
        let created_ns = super::table::now_ns();
        match kind {
            Kind::Counter => Handle::Counter(Arc::new(Series {
                text,
                pairs,
                created_ns,
                cell: CounterCell::new(Shape::classic(&[])),
                seen,
            })),
            Kind::Gauge => Handle::Gauge(Arc::new(Series {
                text,
                pairs,
                created_ns,
                cell: GaugeCell::new(Shape::classic(&[])),
                seen,
            })),
            Kind::Histogram => Handle::Histogram(Arc::new(Series {
                text,
                pairs,
                created_ns,
                cell: HistogramCell::new(Shape::classic(self.bounds)),
                seen,
            })),
        }
    }

    /// The idle-expiry pass a render makes first (nothing without an
    /// expiry): every series recorded since the previous pass is noted as
    /// seen now, and those unrecorded for the expiry are removed from the
    /// store, their room given back to the caps. The look is under the
    /// read lock (registrations go on); only a pass that finds an expired
    /// series takes the write lock.
    ///
    /// A removed series is only detached: handles still holding it record
    /// into it harmlessly and it is never rendered again, while the next
    /// registration of its key creates a new series from 0.
    pub(crate) fn sweep_idle(&self) {
        let Some(expiry) = self.idle_expiry else {
            return;
        };
        let now = crate::labels::now_ms();
        {
            let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
            let mut expired = false;
            for family in inner.families.values() {
                for handle in &family.series {
                    // Every series is looked at: each touched one is noted.
                    expired |= handle.idle(now, expiry);
                }
            }
            if !expired {
                return;
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *inner;
        let mut removed = HashSet::new();
        let mut empty = Vec::new();
        for (name, family) in inner.families.iter_mut() {
            family.series.retain(|handle| {
                // Looked at again: it may have been recorded since.
                if !handle.idle(now, expiry) {
                    return true;
                }
                removed.insert(handle.addr());
                if handle.own() {
                    family.distinct -= 1;
                    inner.total -= 1;
                }
                if family.overflow.as_ref().map(Handle::addr) == Some(handle.addr()) {
                    family.overflow = None;
                    // The family may make a new one: room is kept for it.
                    inner.reserved += 1;
                    if !handle.own() {
                        inner.total -= 1;
                    }
                }
                false
            });
            family.by_text.retain(|_, h| !removed.contains(&h.addr()));
            if family.series.is_empty() {
                empty.push((name.clone(), family.kind));
            }
        }
        if removed.is_empty() {
            return;
        }
        inner.by_key.retain(|_, h| !removed.contains(&h.addr()));
        // A family without series goes too, with the room kept for its
        // `__overflow__` series and its names, so churn of names does not
        // fill the cap either. Its description stays.
        for (name, kind) in empty {
            inner.families.remove(&name);
            inner.reserved -= 1;
            for claim in claims(&name, kind) {
                inner.claims.remove(&claim);
            }
        }
    }

    /// Keeps the help text and unit of `name` (the latest description wins).
    pub(crate) fn describe(&self, name: &str, unit: Option<Unit>, help: SharedString) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner
            .descriptions
            .insert(escape::metric_name(name), Description { unit, help });
    }

    /// Calls `f` for every family, sorted by name, with its description.
    pub(crate) fn for_each(
        &self,
        mut f: impl FnMut(&str, &ForeignName, Option<&Description>, &Claims<'_>),
    ) {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let claims = Claims(&inner.claims);
        for (name, family) in &inner.families {
            f(name, family, inner.descriptions.get(name), &claims);
        }
    }

    fn encode(&self, key: &Key, kind: Kind) -> Encoded {
        let mut bytes = key.name().len();
        let mut altered = false;
        let mut labels: Vec<(String, &str)> = Vec::new();
        for label in key.labels() {
            bytes +=
                label.key().len() + label.value().len() + std::mem::size_of::<metrics::Label>();
            let mut name = escape::label_name(label.key());
            if name.starts_with("__") || (kind == Kind::Histogram && name == "le") {
                name.insert_str(0, "exported_");
                altered = true;
            }
            if labels.iter().any(|(n, _)| *n == name) {
                altered = true;
                continue;
            }
            labels.push((name, label.value()));
        }
        labels.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut text = String::new();
        for (name, value) in &labels {
            if !value.is_empty() {
                push_label(&mut text, name, value);
            }
        }
        self.push_globals(&mut text, |g| labels.iter().any(|(n, _)| n == g));
        Encoded {
            text: text.into(),
            names: labels.into_iter().map(|(n, _)| n).collect(),
            altered,
            oversize: bytes > MAX_KEY_BYTES,
        }
    }

    /// The label text of a family's `__overflow__` series: the names of the
    /// key that overflowed first, every value `__overflow__` (none for a key
    /// too long to keep).
    fn overflow_text(&self, encoded: &Encoded) -> Arc<str> {
        let names: &[String] = if encoded.oversize {
            &[]
        } else {
            &encoded.names
        };
        let mut text = String::new();
        for name in names {
            push_label(&mut text, name, OVERFLOW_VALUE);
        }
        self.push_globals(&mut text, |g| names.iter().any(|n| n == g));
        text.into()
    }

    /// Appends the global labels a series' own labels do not override.
    fn push_globals(&self, text: &mut String, overridden: impl Fn(&str) -> bool) {
        for (name, value) in &self.globals {
            if !overridden(name) {
                push_label(text, name, value);
            }
        }
    }
}

/// The most bytes the foreign series can occupy at `limits`, with
/// histograms of `bounds` bounds and no global labels (each global label
/// adds its text to every series): every series a histogram with the
/// longest key, and as many families as the cap allows (two series each:
/// one and its `__overflow__`) with the longest names. Hash maps and vectors
/// are counted at their worst fill (just after growing).
pub(crate) fn max_memory_bytes(limits: Limits, bounds: usize) -> usize {
    use std::mem::size_of;
    // A hash map holds at most 7/8 of its buckets and doubles when full: at
    // worst 16/7 buckets per entry, each with a control byte.
    let map = |entry: usize| (entry + 1) * 16 / 7 + 1;
    let arc = 2 * size_of::<usize>();
    let per_series = size_of::<Key>()
        + MAX_KEY_BYTES // the key kept for lookup: its strings and labels
        + map(size_of::<(Key, Handle)>())
        + map(size_of::<(Arc<str>, Handle)>())
        + 2 * size_of::<Handle>() // the family's series list
        + arc
        + 2 * MAX_KEY_BYTES // label text: every value byte escaped
        + MAX_KEY_BYTES // protobuf label pairs: names, values, tags, lengths
        + arc
        + size_of::<Series<HistogramCell>>()
        + HistogramCell::classic_heap_bytes(bounds);
    let name = MAX_NAME_BYTES + 1;
    let claims = 5 * (map(size_of::<(String, String)>()) + 2 * (name + "_created".len()));
    // B-tree nodes are at least half full; the name as first recorded too.
    let per_family = 2 * size_of::<(String, ForeignName)>() + 2 * name + claims;
    limits.series * per_series + limits.series / 2 * per_family
}

fn touched(handle: Option<Handle>) -> Option<Handle> {
    if let Some(handle) = &handle {
        handle.touch();
    }
    handle
}

fn warn_labels(family: &ForeignName, name: &str) {
    if !family.warned_labels.swap(true, Ordering::Relaxed) {
        crate::warning::warn(|| {
            tracing::warn!(
                metric = %name,
                kind = family.kind.as_str(),
                "photon-metrics: a series' label names were changed to keep it valid: a repeated name keeps its first value; `le` on a histogram and names starting with `__` are renamed `exported_…` (warned once per name)"
            );
        });
    }
}
