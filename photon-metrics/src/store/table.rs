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
//! * A retired value's series leave the table at once (its handles record
//!   nothing from then on and its slot rests), but what was recorded since
//!   the last scrape is not lost: the series' final values are copied into
//!   the table's [`Departed`] list, which every render shows after the live
//!   series and the next scrape ends ([`Table::forget_departed`]). The lists
//!   are bounded ([`DEPARTED_MAX`] a family, [`DEPARTED_BUDGET`] bytes in
//!   all, [`DEPARTED_GRACE`]) so a churn faster than scrapes costs a fixed
//!   amount of memory, outside every family's own bound.

use super::cell::{Cell, Shape};
use super::escape;
use super::native;
use crate::catalog::FamilySpec;
use crate::labels::{stamp, LabelName, OpenLabel, MAX_LABELS};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

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

/// The most retired series one family keeps for their last scrape: past
/// it, the oldest go unserved (a warning says so once).
pub(crate) const DEPARTED_MAX: usize = CHUNK;

/// The most bytes all families' retired series may hold together while
/// they wait for their last scrape (a counter's takes about 250 bytes, a
/// histogram's one to a few KiB): a constant beside the families' bounds.
pub(crate) const DEPARTED_BUDGET: usize = 1 << 20;

/// Bytes the retired series waiting for their last scrape hold now.
static DEPARTED_BYTES: AtomicUsize = AtomicUsize::new(0);

/// How long a retired series waits for its last scrape when nobody
/// scrapes: longer than any scrape interval in use.
pub(crate) const DEPARTED_GRACE: Duration = Duration::from_secs(10 * 60);

/// Numbers departures in order, across tables: a render serves what
/// departed before it began.
static DEPARTURES: AtomicU64 = AtomicU64::new(0);

/// The number of the latest departure: what a render starting now serves.
pub(crate) fn departures() -> u64 {
    DEPARTURES.load(Ordering::Acquire)
}

/// A retired value's series with its final values, until a scrape has
/// served them.
pub(crate) struct Departed<C> {
    number: u64,
    at: Instant,
    /// What it holds, counted in [`DEPARTED_BYTES`] while it lives.
    bytes: usize,
    series: Series,
    cell: Box<C>,
}

impl<C> Drop for Departed<C> {
    fn drop(&mut self) {
        DEPARTED_BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
    }
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
    /// Retired series waiting for their last scrape, oldest first.
    departed: Mutex<VecDeque<Departed<C>>>,
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
            departed: Mutex::new(VecDeque::new()),
        };
        if spec.all_labels_closed() {
            // Every series of a family with only closed labels (or none)
            // exists from the start, at 0.
            for index in 0..table.layout.total {
                table.cell(index, stamp::LIVE);
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
        // A value that comes back before its retired series was served:
        // two series of one label set would fail the whole scrape, so the
        // live one wins.
        self.departed().retain(|d| d.series.text != entry.text);
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

    fn departed(&self) -> MutexGuard<'_, VecDeque<Departed<C>>> {
        // Poisoning: every change below leaves the list consistent.
        self.departed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a removed series' final values for the next scrape.
    fn depart(&self, series: Series, cell: &C) {
        let copy = Box::new(C::new(shape(self.spec)));
        copy.add_from(cell);
        let bytes = std::mem::size_of::<Departed<C>>()
            + std::mem::size_of::<C>()
            + copy.heap_bytes()
            + series.text.len()
            + series.pairs.len();
        let mut departed = self.departed();
        let now = Instant::now();
        while departed
            .front()
            .is_some_and(|d| now.duration_since(d.at) >= DEPARTED_GRACE)
        {
            departed.pop_front();
        }
        // Room: this family's oldest go first, unserved.
        while !departed.is_empty()
            && (departed.len() >= DEPARTED_MAX
                || DEPARTED_BYTES.load(Ordering::Relaxed) + bytes > DEPARTED_BUDGET)
        {
            departed.pop_front();
            unserved(self.spec.name);
        }
        if DEPARTED_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes > DEPARTED_BUDGET {
            // Other families' retired series hold the budget: this one
            // leaves unserved.
            DEPARTED_BYTES.fetch_sub(bytes, Ordering::Relaxed);
            unserved(self.spec.name);
            return;
        }
        departed.push_back(Departed {
            number: DEPARTURES.fetch_add(1, Ordering::AcqRel) + 1,
            at: now,
            bytes,
            series,
            cell: copy,
        });
    }

    /// Ends the retired series a render that began at departure `served`
    /// showed (see [`departures`]), and those past their grace period.
    pub(crate) fn forget_departed(&self, served: u64) {
        let mut departed = self.departed();
        if departed.is_empty() {
            return;
        }
        let now = Instant::now();
        departed.retain(|d| d.number > served && now.duration_since(d.at) < DEPARTED_GRACE);
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
                    push_label(&mut text, label.as_str(), &value);
                    escape::label_pair(&mut pairs, label.as_str(), &value);
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
                if let Some(entry) = series.remove(&index) {
                    if let Some(chunk) = self.chunks[index / CHUNK].get() {
                        chunk.stamps[index % CHUNK].store(0, Ordering::Release);
                        // After the stamp: records from here on are stale.
                        self.depart(entry, &chunk.cells[index % CHUNK]);
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

    /// Zeroes every series' values and forgets the retired series waiting
    /// for a scrape, taking no lock that another thread could hold: what a
    /// forked child does to the copy of its parent's store (the parent's
    /// records stay the parent's).
    pub(crate) fn zero(&self) {
        for chunk in self.chunks.iter().filter_map(OnceLock::get) {
            for (stamp, cell) in chunk.stamps.iter().zip(chunk.cells.iter()) {
                if stamp.load(Ordering::Relaxed) != 0 {
                    cell.reset();
                }
            }
        }
        if let Ok(mut departed) = self.departed.try_lock() {
            departed.clear();
        }
    }

    /// Every existing series, in index order: its labels and cell; then
    /// the retired series still waiting for their last scrape, with their
    /// final values. The table's lock is held for reading throughout, so
    /// no series is removed or re-created while `f` looks at it.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Series, &C)) {
        let series = self.read();
        for (&index, entry) in series.iter() {
            if let Some(chunk) = self.chunks[index / CHUNK].get() {
                f(entry, &chunk.cells[index % CHUNK]);
            }
        }
        for departed in self.departed().iter() {
            f(&departed.series, &departed.cell);
        }
    }
}

/// Says once per process that retired series went unserved.
#[cold]
fn unserved(family: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        crate::warning::warn(|| {
            tracing::warn!(
                family,
                "more series of `{family}` were retired between two scrapes than wait for one ({DEPARTED_MAX} a family, {} KiB in all); the oldest left before a scrape showed their final values", DEPARTED_BUDGET / 1024
            );
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cell::{Cell, CounterCell, HistogramCell};

    fn series(text: &str) -> Series {
        Series {
            text: text.into(),
            pairs: Box::new([]),
            created_ns: 0,
        }
    }

    fn spec(name: &str) -> &'static FamilySpec {
        crate::registry::find(name).unwrap().1
    }

    /// The retired series of `table` waiting for a render: their texts
    /// (what `for_each` shows after the live series).
    fn waiting<C: Cell>(table: &Table<C>) -> Vec<String> {
        let live = table.read().len();
        let mut shown = Vec::new();
        table.for_each(|s, _| shown.push(s.text.to_string()));
        shown.split_off(live)
    }

    #[test]
    fn a_retired_series_waits_its_grace_period_for_a_scrape_and_no_longer() {
        let table: Table<CounterCell> = Table::new(spec("photon_cache_hits_total"), &[]);
        let cell = CounterCell::new(shape(table.spec));
        cell.add(5);
        table.depart(series("target=\"old\""), &cell);
        table.depart(series("target=\"recent\""), &cell);
        assert_eq!(waiting(&table), ["target=\"old\"", "target=\"recent\""]);
        // No scrape came (nothing was served: departure 0), and the first
        // left a grace period ago.
        let now = Instant::now();
        table.departed()[0].at = now.checked_sub(DEPARTED_GRACE).unwrap();
        table.forget_departed(0);
        assert_eq!(
            waiting(&table),
            ["target=\"recent\""],
            "the old one's grace is over"
        );
        // Just inside its grace a series still waits.
        table.departed()[0].at = now
            .checked_sub(DEPARTED_GRACE - Duration::from_secs(1))
            .unwrap();
        table.forget_departed(0);
        assert_eq!(waiting(&table), ["target=\"recent\""]);
        // A new departure also ends what waited past its grace.
        table.departed()[0].at = now.checked_sub(DEPARTED_GRACE).unwrap();
        table.depart(series("target=\"newest\""), &cell);
        assert_eq!(waiting(&table), ["target=\"newest\""]);
    }

    #[test]
    fn retired_series_never_hold_more_than_the_budget() {
        // Histograms whose native buckets span every magnitude: a few KiB
        // each, so 16 families' 64 retired series each would be several
        // MiB without the budget.
        let spec = spec("photon_inference_latency_seconds");
        let tables: Vec<Table<HistogramCell>> = (0..16).map(|_| Table::new(spec, &[])).collect();
        let cell = HistogramCell::new(shape(spec));
        for e in -60..60 {
            cell.observe(2f64.powi(e));
            cell.observe(1.5 * 2f64.powi(e));
        }
        // What one retired copy holds (the copy is made as `depart` does).
        let copy = HistogramCell::new(shape(spec));
        copy.add_from(&cell);
        let each = std::mem::size_of::<Departed<HistogramCell>>() + copy.heap_bytes();
        assert!(each > 2048, "{each} bytes a series");
        let mut departed = 0;
        for (t, table) in tables.iter().enumerate() {
            for i in 0..DEPARTED_MAX {
                table.depart(series(&format!("device_type=\"{t}-{i}\"")), &cell);
                departed += 1;
                // Other tests of this process may hold some of it too: the
                // bound is for all of them together.
                assert!(
                    DEPARTED_BYTES.load(Ordering::Relaxed) <= DEPARTED_BUDGET,
                    "{} bytes after {departed} departures",
                    DEPARTED_BYTES.load(Ordering::Relaxed)
                );
            }
        }
        let kept: usize = tables.iter().map(|t| waiting(t).len()).sum();
        assert!(
            kept * each <= DEPARTED_BUDGET && kept > DEPARTED_BUDGET / each / 2,
            "{kept} of {departed} kept, {each} bytes each"
        );
        // Within a family the newest wait (its oldest made room).
        let first = waiting(&tables[0]);
        assert_eq!(
            first.last().map(String::as_str),
            Some(format!("device_type=\"0-{}\"", DEPARTED_MAX - 1).as_str())
        );
        drop(tables);
    }
}
