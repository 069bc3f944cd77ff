//! One catalog family's series: a flat array of cells addressed by label
//! slots, allocated in chunks on first use.
//!
//! # Why it looks like this
//!
//! * A series is found by arithmetic, not by hashing: each label
//!   contributes its slot (enum index or interned id), combined mixed-radix
//!   into one flat index. Recording is two loads (chunk, then the series'
//!   stamp) and the cell's own atomic.
//! * The stamp says which lives of its labels' slots a series belongs to
//!   ([`crate::labels::LabelSet::stamp`]). The record compares it with its
//!   handles' stamp, one compare where a "created" check used to be: so a
//!   handle to a retired value, whose slot now serves another value, never
//!   reaches that value's cell, at no cost on the record path. Anything
//!   else (no series yet, a stale handle, a sweep's idle mark) takes the
//!   cold path.
//! * Series come and go (retirement, idle expiry) under the table's lock,
//!   which a scrape holds for reading while it walks the table: a scrape
//!   shows a series whole or not at all, never one value's label text with
//!   another value's numbers. Records into existing series never take it.
//! * Memory is bounded by design: a family can never hold more than the
//!   product of its labels' slots (caps for open labels, set sizes for
//!   closed ones), and only the chunks actually touched are allocated.
//! * Each series keeps its label text, escaped and joined with the global
//!   labels exactly once, when the series is created; a scrape copies it.

use super::cell::{Cell, Shape};
use super::escape;
use super::native;
use crate::catalog::FamilySpec;
use crate::labels::{stamp, LabelName, OpenLabel, MAX_LABELS};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Series per lazily allocated chunk.
pub(crate) const CHUNK: usize = 64;

/// How a family's label slots map to one flat series index: fixed once the
/// labels' caps are frozen (when the table is created).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    labels: usize,
    pub(crate) radix: [usize; MAX_LABELS],
    /// `strides[i]` = product of `radix[i + 1..]`.
    pub(crate) strides: [usize; MAX_LABELS],
    total: usize,
}

impl Layout {
    /// Freezes the caps of the family's open labels.
    pub(crate) fn new(spec: &FamilySpec) -> Self {
        let mut radix = [1; MAX_LABELS];
        for (r, label) in radix.iter_mut().zip(spec.labels) {
            *r = slots(*label);
        }
        let mut strides = [0; MAX_LABELS];
        let mut total = 1;
        for i in (0..spec.labels.len()).rev() {
            strides[i] = total;
            total *= radix[i];
        }
        Layout {
            labels: spec.labels.len(),
            radix,
            strides,
            total,
        }
    }

    /// The label slots of a flat index.
    fn slots(&self, mut index: usize) -> [usize; MAX_LABELS] {
        let mut slots = [0; MAX_LABELS];
        for i in (0..self.labels).rev() {
            slots[i] = index % self.radix[i];
            index /= self.radix[i];
        }
        slots
    }
}

/// Slots a label contributes; freezes an open label's cap.
fn slots(label: LabelName) -> usize {
    match label.open() {
        Some(open) => crate::labels::intern_slots(open),
        None => label.value_slots(),
    }
}

/// [`CHUNK`] series: their stamps apart from their cells, so the line a
/// record reads to check its series is never the line another thread is
/// writing to.
pub(crate) struct Chunk<C> {
    /// 0: no series; otherwise the series' stamp (see [`stamp`]).
    stamps: [AtomicU64; CHUNK],
    cells: [C; CHUNK],
}

/// What a scrape needs of one series besides its cell, made once when the
/// series is created.
#[derive(Debug)]
pub(crate) struct Series {
    /// The labels as exposition text (`name="value",…`, escaped).
    pub(crate) text: Box<str>,
    /// The labels as protobuf `LabelPair` fields of a `Metric` (tag,
    /// length, message), ready to copy.
    pub(crate) pairs: Box<[u8]>,
    /// When the series was created, in nanoseconds since the Unix epoch:
    /// its start (`_created`, `created_timestamp`), so a series re-created
    /// at 0 is an explicit reset.
    pub(crate) created_ns: u64,
}

/// Nanoseconds since the Unix epoch now.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One family's series.
pub(crate) struct Table<C> {
    pub(crate) spec: &'static FamilySpec,
    pub(crate) layout: Layout,
    /// The global labels that apply to this family, encoded
    /// (`name="value",…`); a family label of the same name wins.
    globals: Box<str>,
    /// The same as protobuf label pairs.
    global_pairs: Box<[u8]>,
    chunks: Box<[OnceLock<Box<Chunk<C>>>]>,
    /// The encoded labels of every series that exists, by flat index.
    /// Written when a series is created or removed, read by scrapes.
    series: RwLock<BTreeMap<usize, Series>>,
}

impl<C: Cell> Table<C> {
    pub(crate) fn new(spec: &'static FamilySpec, globals: &[(String, String)]) -> Self {
        let layout = Layout::new(spec);
        let mut encoded = String::new();
        let mut pairs = Vec::new();
        for (name, value) in globals {
            if spec.labels.iter().any(|l| l.as_str() == name) {
                continue;
            }
            push_label(&mut encoded, name, value);
            escape::label_pair(&mut pairs, name, value);
        }
        let mut chunks = Vec::new();
        chunks.resize_with(layout.total.div_ceil(CHUNK), OnceLock::new);
        let table = Table {
            spec,
            layout,
            globals: encoded.into_boxed_str(),
            global_pairs: pairs.into_boxed_slice(),
            chunks: chunks.into_boxed_slice(),
            series: RwLock::new(BTreeMap::new()),
        };
        if spec.all_labels_closed() {
            // Every series of a family with only closed labels (or none)
            // exists from the start, at 0.
            // (The `label` label's room for applications' open labels
            // fills as they are declared, not before.)
            for index in 0..table.layout.total {
                let slots = table.layout.slots(index);
                if spec
                    .labels
                    .iter()
                    .zip(slots)
                    .all(|(l, slot)| l.has_value(slot))
                {
                    table.cell(index, stamp::LIVE);
                }
            }
        }
        table
    }

    /// The cell of the series at `index` (a flat index from the layout)
    /// for label values stamped `stamp`, created on first use; `None` when
    /// a value behind `stamp` was retired (the record is counted as stale).
    #[inline(always)]
    pub(crate) fn cell(&self, index: usize, stamp: u64) -> Option<&C> {
        if let Some(chunk) = self.chunks.get(index / CHUNK).and_then(OnceLock::get) {
            let i = index % CHUNK;
            if chunk.stamps[i].load(Ordering::Acquire) == stamp {
                return Some(&chunk.cells[i]);
            }
        }
        self.slow(index, stamp)
    }

    /// The chunk holding `index`, allocated on first use.
    fn chunk(&self, index: usize) -> Option<&Chunk<C>> {
        let shape = shape(self.spec);
        let chunk = self.chunks.get(index / CHUNK)?.get_or_init(|| {
            Box::new(Chunk {
                stamps: std::array::from_fn(|_| AtomicU64::new(0)),
                cells: std::array::from_fn(|_| C::new(shape)),
            })
        });
        Some(chunk)
    }

    /// The stamp word of the slot at `index`, if its chunk exists: which
    /// label values' series it holds (and whether it is marked idle).
    #[inline(always)]
    pub(crate) fn stamp_at(&self, index: usize) -> Option<u64> {
        let chunk = self.chunks.get(index / CHUNK)?.get()?;
        Some(chunk.stamps[index % CHUNK].load(Ordering::Acquire))
    }

    /// The stamp word and the cell of the series at `index` (whether or
    /// not a series is there), for a handle to check and record through.
    ///
    /// # Panics
    /// When `index` is outside the layout (a label set's flat index never is).
    pub(crate) fn slot(&self, index: usize) -> (&AtomicU64, &C) {
        let chunk = self.chunk(index).expect("a flat index within the layout");
        let i = index % CHUNK;
        (&chunk.stamps[i], &chunk.cells[i])
    }

    #[cold]
    #[inline(never)]
    fn slow(&self, index: usize, stamp: u64) -> Option<&C> {
        let chunk = self.chunk(index)?;
        let i = index % CHUNK;
        let word = &chunk.stamps[i];
        // A sweep marked the series idle: this record is what it looks for.
        if word
            .compare_exchange(
                stamp | stamp::IDLE,
                stamp,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            return Some(&chunk.cells[i]);
        }
        let mut series = self.write();
        if word.load(Ordering::Acquire) & !stamp::IDLE == stamp {
            word.fetch_and(!stamp::IDLE, Ordering::AcqRel);
            return Some(&chunk.cells[i]);
        }
        // Under the lock, so a retirement (which ends the value's life
        // first, then removes its series under this lock) either sees this
        // series and removes it, or this check sees the life ended.
        let entry = match self.encode(index, stamp) {
            Ok(entry) => entry,
            Err(label) => {
                drop(series);
                crate::labels::count_stale(label);
                return None;
            }
        };
        // Zeroed now rather than at removal: nothing of the slot's
        // previous value survives into this one.
        chunk.cells[i].reset();
        series.insert(index, entry);
        word.store(stamp, Ordering::Release);
        Some(&chunk.cells[i])
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<usize, Series>> {
        // Poisoning: every write below leaves the map consistent.
        self.series.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<usize, Series>> {
        self.series.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The labels of the series at `index` for the values stamped
    /// `stamp`, or the first open label whose value's life is over.
    fn encode(&self, index: usize, stamp: u64) -> Result<Series, OpenLabel> {
        let slots = self.layout.slots(index);
        let mut text = String::new();
        let mut pairs = Vec::new();
        for (i, (label, slot)) in self.spec.labels.iter().zip(slots).enumerate() {
            let value = label.slot_text(slot, stamp::generation(stamp, i));
            match (value, label.open()) {
                (Some(value), _) => {
                    push_label(&mut text, label.as_str(), value);
                    escape::label_pair(&mut pairs, label.as_str(), value);
                }
                (None, Some(open)) => return Err(open),
                (None, None) => unreachable!("closed labels have no lives"),
            }
        }
        if !self.globals.is_empty() {
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(&self.globals);
        }
        pairs.extend_from_slice(&self.global_pairs);
        Ok(Series {
            text: text.into_boxed_str(),
            pairs: pairs.into_boxed_slice(),
            created_ns: now_ns(),
        })
    }

    /// Removes every series whose label in `position` holds `slot`; returns
    /// how many there were.
    pub(crate) fn remove(&self, position: usize, slot: usize) -> usize {
        let stride = self.layout.strides[position];
        let block = stride * self.layout.radix[position];
        let mut series = self.write();
        let mut removed = 0;
        for high in (0..self.layout.total).step_by(block) {
            for low in 0..stride {
                let index = high + slot * stride + low;
                if series.remove(&index).is_some() {
                    if let Some(chunk) = self.chunks[index / CHUNK].get() {
                        chunk.stamps[index % CHUNK].store(0, Ordering::Release);
                    }
                    removed += 1;
                }
            }
        }
        removed
    }

    /// One idle-expiry pass: every series recorded since the previous pass
    /// (idle mark cleared) reports its values in `positions` as seen at
    /// `now_ms`, and every series is marked idle again.
    pub(crate) fn sweep(&self, positions: &[(usize, OpenLabel)], now_ms: u64) {
        let series = self.read();
        for &index in series.keys() {
            let Some(chunk) = self.chunks[index / CHUNK].get() else {
                continue;
            };
            let word = &chunk.stamps[index % CHUNK];
            let current = word.load(Ordering::Acquire);
            if current == 0 || current & stamp::IDLE != 0 {
                continue;
            }
            let slots = self.layout.slots(index);
            for &(position, label) in positions {
                let generation = stamp::generation(current, position);
                crate::labels::seen(label, slots[position], generation, now_ms);
            }
            let _ = word.compare_exchange(
                current,
                current | stamp::IDLE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// Every existing series, in index order: its labels and cell. The
    /// table's lock is held for reading throughout, so no series is
    /// removed or re-created while `f` looks at it.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Series, &C)) {
        let series = self.read();
        for (&index, entry) in series.iter() {
            if let Some(chunk) = self.chunks[index / CHUNK].get() {
                f(entry, &chunk.cells[index % CHUNK]);
            }
        }
    }
}

/// The cells a family's series hold: its classic bounds and native layout.
pub(crate) fn shape(spec: &FamilySpec) -> Shape {
    let bounds = spec.buckets.unwrap_or(&[]);
    Shape {
        bounds,
        native: spec.native.map(|n| {
            native::Layout::new(
                n.schema,
                n.zero_threshold,
                n.max_buckets,
                bounds.first().copied().unwrap_or(1.0),
            )
        }),
        integer: spec.integer(),
    }
}

/// Appends `name="escaped value"`, comma-separated from what is there.
pub(crate) fn push_label(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
    escape::label_value(out, value);
    out.push('"');
}
