//! photon's own Prometheus store: every catalog family as a table of
//! atomic cells, plus the series other code records through the `metrics`
//! facade.
//!
//! * [`cell`] — counter, gauge and fixed-bucket histogram cells (atomics only).
//! * [`table`] — one catalog family: series addressed by label slots.
//! * [`foreign`] — facade series outside the catalog.
//! * [`exemplar`] — the latest trace of a counter or bucket.
//! * [`recorder`] — the store as a `metrics::Recorder`.
//! * [`global`] — which store, if any, is the process-wide recorder.
//! * [`saved`] — a store's series as bytes another process reads.
//! * [`merged`] — the series of a service's processes, added up.
//! * [`view`] — what the encoders walk: a store's tables or merged series.
//!
//! The encoders in [`crate::export::encode`] read it; nothing here knows about
//! formats beyond the escaping of label text, which happens once per series.

pub(crate) mod cell;
pub(crate) mod escape;
pub(crate) mod exemplar;
pub(crate) mod foreign;
pub(crate) mod global;
pub(crate) mod keys;
pub(crate) mod merged;
pub(crate) mod native;
pub(crate) mod recorder;
pub(crate) mod saved;
pub(crate) mod table;
pub(crate) mod view;

pub(crate) use table::departures;
pub(crate) use view::{Families, Source, Tables};

use crate::catalog::{FamilySpec, Kind};
use crate::labels::OpenLabel;
use cell::{CounterCell, GaugeCell, HistogramCell};
use std::sync::OnceLock;
use table::Table;

/// The buckets of histograms outside the catalog unless configured: the
/// Prometheus client libraries' defaults.
pub(crate) const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How a store is set up.
#[derive(Debug, Clone)]
pub(crate) struct StoreConfig {
    pub(crate) global_labels: Vec<(String, String)>,
    pub(crate) default_buckets: Vec<f64>,
    pub(crate) foreign_limits: foreign::Limits,
    /// How long a foreign series may go unrecorded before a render removes it.
    pub(crate) foreign_idle_expiry: Option<std::time::Duration>,
}

/// A registered family: its index in the registry, which its table in
/// every store is found by, and its spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registered {
    pub(crate) index: usize,
    pub(crate) spec: &'static FamilySpec,
}

impl Registered {
    /// The family's table in `store`, created on first use.
    pub(crate) fn table<C: TableCell>(self, store: &Store) -> &table::Table<C> {
        store.table::<C>(self.index, self.spec)
    }

    /// The registered family called `name` (a lookup every facade call
    /// with a name no cache knows makes: most foreign names have a length
    /// no family has, which one load tells).
    pub(crate) fn named(name: &str) -> Option<Registered> {
        crate::registry::find(name).map(|(index, spec)| Registered { index, spec })
    }
}

/// One family's table, created on first record (which freezes its
/// open labels' caps) or at once for families without open labels.
pub(crate) enum AnyTable {
    Counter(OnceLock<Table<CounterCell>>),
    Gauge(OnceLock<Table<GaugeCell>>),
    Histogram(OnceLock<Table<HistogramCell>>),
}

impl AnyTable {
    /// A table slot of `kind`, with no table yet.
    fn empty(kind: Kind) -> Self {
        match kind {
            Kind::Counter => AnyTable::Counter(OnceLock::new()),
            Kind::Gauge => AnyTable::Gauge(OnceLock::new()),
            Kind::Histogram => AnyTable::Histogram(OnceLock::new()),
        }
    }
}

/// A cell type that catalog families of one kind use.
pub(crate) trait TableCell: cell::Cell {
    /// The kind of family that holds this cell.
    const KIND: Kind;
    /// This kind's table, if `table` is of this kind.
    fn select(table: &AnyTable) -> Option<&OnceLock<Table<Self>>>;
}

macro_rules! table_cell {
    ($cell:ty, $kind:ident) => {
        impl TableCell for $cell {
            const KIND: Kind = Kind::$kind;
            #[inline(always)]
            fn select(table: &AnyTable) -> Option<&OnceLock<Table<Self>>> {
                match table {
                    AnyTable::$kind(t) => Some(t),
                    _ => None,
                }
            }
        }
    };
}

table_cell!(CounterCell, Counter);
table_cell!(GaugeCell, Gauge);
table_cell!(HistogramCell, Histogram);

/// What a store of one of a service's processes renders instead of its own
/// families: the service's merged series.
pub(crate) type ServiceView = Box<dyn Fn(&Store) -> merged::Merged + Send + Sync>;

/// The store: one table per registered family, the catalog's and the
/// applications' alike (see [`crate::families`]), and the foreign series.
pub(crate) struct Store {
    /// Every family's table, by registry index.
    tables: Box<[OnceLock<AnyTable>]>,
    pub(crate) foreign: foreign::Foreign,
    global_labels: Vec<(String, String)>,
    /// Runs before every render: the exporter's process sampler.
    refresh: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// When this process is one of a service's ([`crate::shared`]): the
    /// service's series, which every render serves instead of this
    /// store's families.
    service: OnceLock<ServiceView>,
}

impl Store {
    /// Sets what runs before every render (once; later calls are ignored).
    pub(crate) fn on_render(&self, hook: Box<dyn Fn() + Send + Sync>) {
        let _ = self.refresh.set(hook);
    }

    /// Makes every render serve what `view` gives (once; later calls are
    /// ignored): the merged series of a service's processes.
    pub(crate) fn serve_service(&self, view: ServiceView) {
        let _ = self.service.set(view);
    }

    /// The service's merged series, if this store is one process's of a
    /// service.
    pub(crate) fn service_view(&self) -> Option<merged::Merged> {
        self.service.get().map(|view| view(self))
    }

    /// Runs the render hook, if any.
    pub(crate) fn refresh(&self) {
        if let Some(hook) = self.refresh.get() {
            hook();
        }
    }

    pub(crate) fn new(config: StoreConfig) -> Self {
        crate::registry::register_declared();
        // Every registered family's open labels are in use from here: their
        // caps and headroom are served from the first scrape.
        for spec in crate::registry::specs() {
            for open in spec.labels.iter().filter_map(|l| l.open()) {
                crate::labels::register_label(open);
            }
        }
        Store {
            tables: (0..crate::registry::MAX_FAMILIES)
                .map(|_| OnceLock::new())
                .collect(),
            foreign: foreign::Foreign::new(
                config.global_labels.clone(),
                config.default_buckets,
                config.foreign_limits,
                config.foreign_idle_expiry,
            ),
            global_labels: config.global_labels,
            refresh: OnceLock::new(),
            service: OnceLock::new(),
        }
    }

    /// The table of the family registered at `index` as `spec`, created on
    /// first use.
    ///
    /// # Panics
    /// When `C` is not the family's kind: typed families check that at
    /// compile time, the recorder before calling.
    pub(crate) fn table<C: TableCell>(&self, index: usize, spec: &'static FamilySpec) -> &Table<C> {
        let table = self.tables[index].get_or_init(|| AnyTable::empty(spec.kind));
        C::select(table)
            .expect("the family's kind matches its cell type")
            .get_or_init(|| Table::new(spec, &self.global_labels))
    }

    /// Every registered family, the catalog's in catalog order and then the
    /// applications' in registration order, with its table slot; a family
    /// with only closed labels gets its table (its series at 0) here, the
    /// first time a store looks.
    fn all(&self) -> impl Iterator<Item = (&'static FamilySpec, &AnyTable)> {
        crate::registry::specs()
            .into_iter()
            .enumerate()
            .map(|(index, spec)| {
                if spec.all_labels_closed() {
                    match spec.kind {
                        Kind::Counter => drop(self.table::<CounterCell>(index, spec)),
                        Kind::Gauge => drop(self.table::<GaugeCell>(index, spec)),
                        Kind::Histogram => drop(self.table::<HistogramCell>(index, spec)),
                    }
                }
                (
                    spec,
                    self.tables[index].get_or_init(|| AnyTable::empty(spec.kind)),
                )
            })
    }

    /// Every family's table that exists, catalog then application, for
    /// what series lifecycle does to all kinds alike.
    fn existing(&self) -> impl Iterator<Item = (&'static FamilySpec, &dyn Lifecycle)> {
        self.all().filter_map(|(spec, table)| {
            let table: &dyn Lifecycle = match table {
                AnyTable::Counter(t) => t.get()?,
                AnyTable::Gauge(t) => t.get()?,
                AnyTable::Histogram(t) => t.get()?,
            };
            Some((spec, table))
        })
    }

    /// Removes every series, in every family, whose `label` holds
    /// `slot`; returns how many there were.
    pub(crate) fn remove_value(&self, label: OpenLabel, slot: usize) -> usize {
        let mut removed = 0;
        for (spec, table) in self.existing() {
            for (position, name) in spec.labels.iter().enumerate() {
                if name.open() == Some(label) {
                    removed += table.remove(position, slot);
                }
            }
        }
        removed
    }

    /// Zeroes every family's series (see [`Table::zero`]); takes no lock,
    /// not even the registry's: a forked child calls it before it runs
    /// anything else.
    pub(crate) fn zero_after_fork(&self) {
        for table in self.tables.iter().filter_map(OnceLock::get) {
            match table {
                AnyTable::Counter(t) => t.get().map(Table::zero),
                AnyTable::Gauge(t) => t.get().map(Table::zero),
                AnyTable::Histogram(t) => t.get().map(Table::zero),
            };
        }
    }

    /// Ends, in every family, the retired series a render that began at
    /// departure `served` showed ([`table::departures`]).
    pub(crate) fn forget_departed(&self, served: u64) {
        for (_, table) in self.existing() {
            table.forget_departed(served);
        }
    }

    /// One idle-expiry pass over the families that carry a label in
    /// `expiring` (see [`table::Table::sweep`]).
    pub(crate) fn sweep(&self, expiring: &[OpenLabel], now_ms: u64) {
        for (spec, table) in self.existing() {
            let positions: Vec<(usize, OpenLabel)> = spec
                .labels
                .iter()
                .enumerate()
                .filter_map(|(i, name)| name.open().map(|open| (i, open)))
                .filter(|(_, open)| expiring.contains(open))
                .collect();
            if !positions.is_empty() {
                table.sweep(&positions, now_ms);
            }
        }
    }

    /// Calls `f` for every family, the catalog's in catalog order and then
    /// the applications' in registration order, with its table if any
    /// series can exist yet.
    pub(crate) fn for_each_family(&self, f: &mut dyn FnMut(&'static FamilySpec, Tables<'_>)) {
        for (spec, table) in self.all() {
            let tables = match table {
                AnyTable::Counter(t) => Tables::Counter(t.get().map(Source::Table)),
                AnyTable::Gauge(t) => Tables::Gauge(t.get().map(Source::Table)),
                AnyTable::Histogram(t) => Tables::Histogram(t.get().map(Source::Table)),
            };
            f(spec, tables);
        }
    }
}

/// What series lifecycle does to a table of any kind.
trait Lifecycle {
    fn remove(&self, position: usize, slot: usize) -> usize;
    fn sweep(&self, positions: &[(usize, OpenLabel)], now_ms: u64);
    fn forget_departed(&self, served: u64);
}

impl<C: cell::Cell> Lifecycle for Table<C> {
    fn remove(&self, position: usize, slot: usize) -> usize {
        Table::remove(self, position, slot)
    }
    fn sweep(&self, positions: &[(usize, OpenLabel)], now_ms: u64) {
        Table::sweep(self, positions, now_ms)
    }
    fn forget_departed(&self, served: u64) {
        Table::forget_departed(self, served)
    }
}

/// The most bytes a catalog family's series can occupy in the store at the
/// current caps, as the table allocates them: every chunk the family's
/// series can touch, allocated whole ([`table::CHUNK`] cells with their
/// histogram buckets and exemplars, even when the family has fewer series),
/// the chunk index, and for every series that can exist (the product of its
/// labels' slots) the longest label text it could have (every value at the
/// 128-byte limit and every byte escaped).
pub(crate) fn max_memory_bytes(spec: &FamilySpec) -> usize {
    use std::mem::size_of;
    let series = spec.max_series();
    // Whole chunks, as the table allocates them (a chunk holds its cells'
    // stamps too).
    let chunks = series.div_ceil(table::CHUNK);
    let chunk = match spec.kind {
        Kind::Counter => size_of::<table::Chunk<CounterCell>>(),
        Kind::Gauge => size_of::<table::Chunk<GaugeCell>>(),
        Kind::Histogram => {
            size_of::<table::Chunk<HistogramCell>>()
                + table::CHUNK * HistogramCell::heap_bytes(&table::shape(spec))
        }
    };
    // Native buckets at their worst, for every series that can exist (a
    // slot with no series never records): every chunk of both signs, as
    // values of every magnitude would allocate them.
    let native = table::shape(spec)
        .native
        .map_or(0, |l| series * native::NativeCell::max_heap_bytes(&l));
    // Each series' entry in the table's map of label texts (a B-tree node
    // holds at least half its capacity, so at most twice the entry).
    let entry = 2 * size_of::<(usize, table::Series)>();
    // The label text (every byte escaped at worst) and the protobuf label
    // pairs (name, value and at most 3 bytes of tags and lengths each).
    let text: usize = spec
        .labels
        .iter()
        .map(|l| {
            (l.as_str().len() + 4 + 2 * crate::labels::MAX_VALUE_LEN)
                + (l.as_str().len() + crate::labels::MAX_VALUE_LEN + 9)
        })
        .sum();
    let index = chunks * size_of::<OnceLock<Box<()>>>();
    chunks * chunk + series * (text + entry) + index + native
}

// The store knows what a family costs, so the method lives here: the
// catalog, below the store, imports nothing of it.
impl FamilySpec {
    /// The most bytes this family's series can occupy in a store at the
    /// current caps: every chunk its series can touch, allocated whole,
    /// their histogram buckets and exemplars, and the longest label text
    /// each series could carry. The README's memory table sums these.
    pub fn max_memory_bytes(&self) -> usize {
        max_memory_bytes(self)
    }
}

impl Families for Store {
    fn for_each_family(&self, f: &mut dyn FnMut(&'static FamilySpec, Tables<'_>)) {
        Store::for_each_family(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_name_and_no_other_names_its_family() {
        for (index, spec) in crate::registry::catalog().into_iter().enumerate() {
            assert!(
                matches!(Registered::named(spec.name), Some(found) if found.index == index && std::ptr::eq(found.spec, spec))
            );
            // Same length, one byte off; a prefix; one byte longer.
            let mut near = spec.name.to_string().into_bytes();
            *near.last_mut().unwrap() ^= 1;
            let near = String::from_utf8(near).unwrap();
            for other in [
                near,
                spec.name[..spec.name.len() - 1].to_string(),
                format!("{}x", spec.name),
            ] {
                assert!(Registered::named(&other).is_none(), "{other}");
            }
        }
        assert!(Registered::named("").is_none());
        assert!(Registered::named(&"p".repeat(500)).is_none());
    }
}
