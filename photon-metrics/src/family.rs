//! The handle table behind every typed family.
//!
//! A family's series are addressed by the slots of its labels (enum index or
//! interned id), combined mixed-radix into one flat index. Each flat index
//! owns one `metrics` handle, registered through the facade on first use and
//! kept for the life of the recorder that issued it.
//!
//! # Why the record path looks like this
//!
//! * No hashing, no locks, no allocation once a series exists: the path is a
//!   thread-local read (`metrics::with_recorder`), one pointer comparison, two
//!   `OnceLock` reads and the handle's own atomic update.
//! * Handles never stay bound to the no-op recorder: a table remembers which
//!   recorder issued its handles, and every call compares that with the
//!   recorder the facade hands out *now*. Installing an exporter after
//!   recording has started therefore rebinds on the next call.
//! * Only the global recorder's handles are cached. A thread-local recorder
//!   (`metrics::with_local_recorder`, used by tests) may be freed and another
//!   allocated at the same address, so calls under one register afresh each
//!   time: slower, always correct.
//! * A replaced table is leaked rather than freed, because another thread may
//!   still be reading it. Replacement happens once per family per global
//!   recorder change (no-op → installed), so the leak is bounded.

use crate::catalog::{FamilyId, FamilySpec, CATALOG};
use crate::labels::LabelName;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Cells per lazily allocated chunk: a family with a few hot series
/// touches a few KiB.
const CHUNK: usize = 256;

/// Chunks kept inside the table itself, so the common case reaches its
/// chunk without loading a separate array pointer first (one dependent load
/// less on the hot path). 32 × 256 cells cover every family at its default
/// caps; larger caps spill into a heap array.
const INLINE_CHUNKS: usize = 32;

static METADATA: Metadata<'static> =
    Metadata::new("photon_metrics", metrics::Level::INFO, Some(module_path!()));

/// A `metrics` handle type a family can hold.
pub(crate) trait Handle: Send + Sync + Sized + 'static {
    fn register(recorder: &dyn Recorder, key: &Key) -> Self;
}

impl Handle for Counter {
    fn register(recorder: &dyn Recorder, key: &Key) -> Self {
        recorder.register_counter(key, &METADATA)
    }
}

impl Handle for Gauge {
    fn register(recorder: &dyn Recorder, key: &Key) -> Self {
        recorder.register_gauge(key, &METADATA)
    }
}

impl Handle for Histogram {
    fn register(recorder: &dyn Recorder, key: &Key) -> Self {
        recorder.register_histogram(key, &METADATA)
    }
}

/// A lazily allocated run of [`CHUNK`] handle cells; a fixed-size array so
/// the cell index needs a mask, not a bounds check.
type Chunk<H> = OnceLock<Box<[OnceLock<H>; CHUNK]>>;

/// The most labels any family has.
const MAX_LABELS: usize = 3;

/// How a family's label slots map to one flat series index: fixed once the
/// labels' caps are frozen, the same for every recorder.
#[derive(Clone, Copy)]
struct Layout {
    /// Labels the family has.
    labels: usize,
    /// Slots per label, in catalog label order.
    radix: [usize; MAX_LABELS],
    /// `strides[i]` = product of `radix[i + 1..]`: the flat index is a dot
    /// product, kept inline so the hot path does not chase a pointer for it.
    strides: [usize; MAX_LABELS],
    /// Series the family can hold.
    total: usize,
}

impl Layout {
    fn new(spec: &FamilySpec) -> Self {
        assert!(
            spec.labels.len() <= MAX_LABELS,
            "{} has too many labels",
            spec.name
        );
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

    #[inline(always)]
    fn flat<const N: usize>(&self, slots: [usize; N]) -> usize {
        let mut index = 0;
        for (slot, stride) in slots.iter().zip(self.strides) {
            index += slot * stride;
        }
        index
    }

    /// Rebuilds a series key from its flat index (slow path only).
    fn key(&self, spec: &FamilySpec, mut index: usize) -> Key {
        let mut labels = Vec::with_capacity(self.labels);
        for (label, radix) in spec.labels.iter().zip(&self.radix[..self.labels]).rev() {
            let slot = index % radix;
            index /= radix;
            labels.push(Label::from_static_parts(
                label.as_str(),
                label.slot_text(slot),
            ));
        }
        labels.reverse();
        Key::from_parts(spec.name, labels)
    }
}

/// One family's handles, bound to one recorder.
struct Table<H> {
    recorder: usize,
    layout: Layout,
    inline: [Chunk<H>; INLINE_CHUNKS],
    spill: Box<[Chunk<H>]>,
}

impl<H: Handle> Table<H> {
    fn new(layout: Layout, recorder: usize) -> Self {
        let mut spill = Vec::new();
        spill.resize_with(
            layout.total.div_ceil(CHUNK).saturating_sub(INLINE_CHUNKS),
            OnceLock::new,
        );
        Table {
            recorder,
            layout,
            inline: std::array::from_fn(|_| OnceLock::new()),
            spill: spill.into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn chunk(&self, chunk: usize) -> Option<&Chunk<H>> {
        match self.inline.get(chunk) {
            Some(inline) => Some(inline),
            None => self.spill.get(chunk - INLINE_CHUNKS),
        }
    }

    #[inline(always)]
    fn handle(&self, family: FamilyId, index: usize, recorder: &dyn Recorder) -> &H {
        // Fast path: both levels already initialised, two loads and a test
        // each; everything else is out of line.
        if let Some(chunk) = self.chunk(index / CHUNK).and_then(OnceLock::get) {
            if let Some(handle) = chunk[index % CHUNK].get() {
                return handle;
            }
        }
        self.init(family.spec(), index, recorder)
    }

    #[cold]
    #[inline(never)]
    fn init(&self, spec: &FamilySpec, index: usize, recorder: &dyn Recorder) -> &H {
        let chunk = self
            .chunk(index / CHUNK)
            .expect("slots are always within their label's cap")
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        chunk[index % CHUNK].get_or_init(|| H::register(recorder, &self.layout.key(spec, index)))
    }
}

/// Slots a label contributes; freezes an open label's cap.
fn slots(label: LabelName) -> usize {
    match label.open() {
        Some(open) => crate::labels::intern_slots(open),
        None => label.value_slots(),
    }
}

/// A typed family's entry point: a pointer to the table bound to the
/// recorder that was global when it was last used.
pub(crate) struct Family<H> {
    id: FamilyId,
    table: AtomicPtr<Table<H>>,
}

impl<H: Handle> Family<H> {
    pub(crate) const fn new(id: FamilyId) -> Self {
        Family {
            id,
            table: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Runs `f` with the handle of the series at `slots` (one slot per label,
    /// in catalog order) from the recorder currently in force.
    #[inline]
    pub(crate) fn with<const N: usize>(&self, slots: [usize; N], f: impl FnOnce(&H)) {
        metrics::with_recorder(|recorder| {
            let id = recorder_id(recorder);
            // SAFETY: tables are leaked, never freed, so a non-null pointer
            // loaded here stays valid for the life of the process.
            if let Some(table) = unsafe { self.table.load(Ordering::Acquire).as_ref() } {
                if table.recorder == id {
                    let index = table.layout.flat(slots);
                    return f(table.handle(self.id, index, recorder));
                }
            }
            self.slow(recorder, id, slots, f)
        })
    }

    #[cold]
    #[inline(never)]
    fn slow<const N: usize>(
        &self,
        recorder: &dyn Recorder,
        id: usize,
        slots: [usize; N],
        f: impl FnOnce(&H),
    ) {
        let spec = self.id.spec();
        debug_assert_eq!(N, spec.labels.len(), "{}: wrong label count", spec.name);
        if !is_global(id) {
            describe(recorder, spec);
            // Uncached: only the layout is needed, not a table of cells.
            let layout = Layout::new(spec);
            return f(&H::register(
                recorder,
                &layout.key(spec, layout.flat(slots)),
            ));
        }
        describe_all_once(recorder, id);
        let fresh = Box::into_raw(Box::new(Table::<H>::new(Layout::new(spec), id)));
        let mut current = self.table.load(Ordering::Acquire);
        let table = loop {
            // SAFETY: see `with`; `fresh` is ours until published.
            if let Some(existing) = unsafe { current.as_ref() } {
                if existing.recorder == id {
                    // Another thread bound this recorder first; use its table.
                    drop(unsafe { Box::from_raw(fresh) });
                    break existing;
                }
            }
            match self
                .table
                .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // The previous table (if any) is leaked: see the module docs.
                Ok(_) => break unsafe { &*fresh },
                Err(now) => current = now,
            }
        };
        let index = table.layout.flat(slots);
        f(table.handle(self.id, index, recorder))
    }
}

fn recorder_id(recorder: &dyn Recorder) -> usize {
    recorder as *const dyn Recorder as *const () as usize
}

/// The last global recorder seen by a probe, and whether it can still change.
static GLOBAL_SEEN: AtomicUsize = AtomicUsize::new(0);
static GLOBAL_FINAL: AtomicBool = AtomicBool::new(false);

/// Whether `id` is the process-wide recorder (installed, or the no-op one).
///
/// `metrics` does not say whether the recorder it hands out is global or
/// thread-local, so ask from a fresh thread, which has no local recorder.
/// The global recorder changes at most once (no-op → installed); after a
/// probe has seen it change, it is final and probing stops.
fn is_global(id: usize) -> bool {
    if GLOBAL_SEEN.load(Ordering::Acquire) == id {
        return true;
    }
    if GLOBAL_FINAL.load(Ordering::Acquire) {
        return false;
    }
    let probed = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("photon-metrics-probe".into())
            .spawn_scoped(s, || metrics::with_recorder(recorder_id))
            .ok()
            .and_then(|h| h.join().ok())
    });
    let Some(global) = probed else { return false };
    let before = GLOBAL_SEEN.swap(global, Ordering::AcqRel);
    if before != 0 && before != global {
        GLOBAL_FINAL.store(true, Ordering::Release);
    }
    global == id
}

/// Registers help text and units for one family with `recorder`.
pub(crate) fn describe(recorder: &dyn Recorder, spec: &FamilySpec) {
    let name = KeyName::from_const_str(spec.name);
    let unit = spec.unit.to_metrics();
    let help = SharedString::const_str(spec.help);
    match spec.kind {
        crate::catalog::Kind::Counter => recorder.describe_counter(name, unit, help),
        crate::catalog::Kind::Gauge => recorder.describe_gauge(name, unit, help),
        crate::catalog::Kind::Histogram => recorder.describe_histogram(name, unit, help),
    }
}

/// Describes every family once per global recorder, so the exposition has
/// `# HELP` for all of them no matter which one is recorded first.
fn describe_all_once(recorder: &dyn Recorder, id: usize) {
    static DESCRIBED_FOR: AtomicUsize = AtomicUsize::new(0);
    if DESCRIBED_FOR.swap(id, Ordering::AcqRel) != id {
        for spec in CATALOG {
            describe(recorder, spec);
        }
    }
}
