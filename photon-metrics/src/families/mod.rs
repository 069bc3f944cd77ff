//! Your own families, with the catalog's guarantees.
//!
//! Declare a family with [`family!`](crate::family) and its label types
//! with [`derive(Label)`](crate::Label): an enum for a closed set, a newtype
//! around [`OpenValue`](crate::labels::OpenValue) for an open, validated,
//! capped, retirable one. The catalog's label types ([`Target`],
//! [`Status`], …) work too.
//!
//! ```
//! use photon_metrics::family;
//! use photon_metrics::labels::{OpenValue, Status, Target};
//! use photon_metrics::Label;
//!
//! /// The dialect a kernel was lowered from.
//! #[derive(Label, Clone, Copy, Debug, PartialEq, Eq)]
//! #[label(name = "dialect")]
//! enum Dialect {
//!     Linalg,
//!     Tosa,
//! }
//!
//! /// The tenant a request belongs to: open, at most 100 at once.
//! #[derive(Label, Clone, Copy, PartialEq, Eq, Hash)]
//! #[label(name = "tenant", cap = 100)]
//! struct Tenant(OpenValue);
//!
//! family! {
//!     /// Kernels launched, by dialect, tenant and outcome.
//!     #[family(name = "app_kernel_launches_total", unit = count)]
//!     static KERNELS: Counter<(Dialect, Tenant, Status)>;
//!
//!     /// Time a kernel waits for the device, by dialect and target.
//!     #[family(name = "app_queue_wait_seconds", unit = seconds,
//!              buckets = [0.0001, 0.001, 0.01, 0.1, 1.0])]
//!     static QUEUE_WAIT: Histogram<(Dialect, Target)>;
//! }
//!
//! KERNELS.register()?; // optional: a store registers every family! itself; this shows a refusal as an error
//! let tenant = Tenant::new("acme")?;
//! KERNELS.inc((Dialect::Tosa, tenant, Status::Success));
//! let timer = QUEUE_WAIT.start_timer((Dialect::Tosa, Target::new("mzi-64x64")?));
//! drop(timer); // observes the time waited
//! tenant.retire(); // its series leave the exposition; its slot is reused
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a declared family gets
//!
//! The same as a catalog family, because the catalog is declared with the
//! same macro (`photon-metrics/src/catalog/declared.rs`) and the store
//! knows one kind of family:
//!
//! * **The direct record path**: a record into photon's global store is the
//!   same index arithmetic and one atomic (benches: `own_families`).
//! * **Presence from install**: every `family!` in the program is
//!   registered when a store is made (collected at link time), so the first
//!   scrape has its `# HELP` and `# TYPE`, and every series of a family with
//!   only closed labels at 0. [`Counter::register`] (and siblings) does it
//!   earlier, for [`catalog::families`](crate::catalog::families)
//!   before install or to see a refusal as an error. (A declaration in a
//!   library crate that nothing in the program uses may be left out by the
//!   linker with the rest of its code; `register()` such a family at
//!   start-up if it must be served before anything records into it.)
//! * **Caps, overflow and lifecycle**: an open label folds values past its
//!   cap into `__overflow__` and counts them in
//!   `photon_metrics_label_overflow_total{label="tenant"}`; its headroom is
//!   in `photon_metrics_label_values` and `photon_metrics_label_cap`;
//!   `retire()` removes its series in every family, catalog ones included.
//! * **Exemplars** on counters and histogram buckets when a sampled span is
//!   current, and native buckets where the declaration asks for them.
//! * **A memory bound**: [`FamilySpec::max_memory_bytes`].
//! * **A listing**: [`catalog::families`](crate::catalog::families), after
//!   the catalog's, for dashboard and alert checks.
//! * **Compile-time checks**: a name Prometheus refuses, a kind's reserved
//!   suffix (`_total` on a gauge, none on a counter, `_bucket`/`_count`/`_sum`),
//!   a unit the name disagrees with, unordered buckets, two labels of one
//!   name, more than [`MAX_LABELS`](crate::labels::MAX_LABELS) labels, or a
//!   clash with a catalog name do not compile.
//!
//! # From other languages
//!
//! [`Dynamic`] reaches any family by name with label values as raw
//! handles, and [`DynamicLabel`] makes those values for any label by its
//! name: the C ABI's `photon_family_*` and `photon_label_*` functions, the
//! C++ wrapper's `photon::Family` and `photon::LabelValue`, and Python's
//! `photon_metrics.Family` and `LabelValue` are this one table-driven
//! path, so a family or label added to the catalog, or declared by an
//! application, needs no binding of its own in any of them.
//!
//! [`Target`]: crate::labels::Target
//! [`Status`]: crate::labels::Status
//! [`FamilySpec::max_memory_bytes`]: crate::catalog::FamilySpec::max_memory_bytes

mod dynamic;
mod label_values;

pub use dynamic::{Dynamic, DynamicError};
pub use label_values::DynamicLabel;

pub use crate::registry::{Declared, RegisterError, MAX_APPLICATION_FAMILIES};

use crate::catalog::FamilySpec;
use crate::engine::Engine;
use crate::labels::LabelSet;
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use quanta::Instant;

macro_rules! common {
    ($ty:ident, $cell:ty) => {
        impl<L: LabelSet> $ty<L> {
            #[doc(hidden)]
            pub const fn __new(spec: FamilySpec) -> Self {
                $ty(Engine::new(spec))
            }

            /// The family's name, help, unit, kind, labels and buckets.
            pub fn spec(&'static self) -> &'static FamilySpec {
                self.0.spec()
            }

            /// Takes the family's place in the registry now (a store does
            /// it for every `family!` when it is made, and a record when
            /// none was): from here on every store exports it. It fails
            /// only for a second family of the same name, or past
            /// [`MAX_APPLICATION_FAMILIES`]; call it at start-up to see that as an
            /// error rather than a log line.
            pub fn register(&'static self) -> Result<(), RegisterError> {
                self.0.register()
            }
        }

        impl<L: LabelSet> std::fmt::Debug for $ty<L> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    };
}

/// An application counter family; declare it with [`family!`](crate::family).
pub struct Counter<L: LabelSet>(pub(crate) Engine<CounterCell, L>);
common!(Counter, CounterCell);

impl<L: LabelSet> Counter<L> {
    /// Adds 1 to the series at `labels`.
    #[inline]
    pub fn inc(&'static self, labels: L) {
        self.0.add(labels, 1);
    }

    /// Adds `n` to the series at `labels`.
    #[inline]
    pub fn add(&'static self, labels: L, n: u64) {
        self.0.add(labels, n);
    }

    /// The series at `labels`, resolved once: see [`crate::handle`].
    pub fn handle(&'static self, labels: L) -> crate::handle::CounterHandle {
        self.0.handle(labels)
    }
}

/// An application gauge family; declare it with [`family!`](crate::family).
pub struct Gauge<L: LabelSet>(pub(crate) Engine<GaugeCell, L>);
common!(Gauge, GaugeCell);

impl<L: LabelSet> Gauge<L> {
    /// Sets the series at `labels` to `value`.
    #[inline]
    pub fn set(&'static self, labels: L, value: f64) {
        self.0.set(labels, value);
    }

    /// Adds `delta` (which may be negative) to the series at `labels`.
    #[inline]
    pub fn add(&'static self, labels: L, delta: f64) {
        drop(self.0.add_held(labels, delta));
    }

    /// The series at `labels`, resolved once: see [`crate::handle`].
    pub fn handle(&'static self, labels: L) -> crate::handle::GaugeHandle {
        self.0.handle(labels)
    }

    /// Adds 1 to the series at `labels` until the returned guard drops,
    /// on every path (panic and cancellation included): an in-flight gauge.
    pub fn track(&'static self, labels: L) -> GaugeGuard {
        GaugeGuard(self.0.add_held(labels, 1.0))
    }
}

/// Undoes a [`Gauge::track`] when dropped, in the store it was made in.
#[must_use = "the gauge goes back down when the guard is dropped"]
#[derive(Debug)]
pub struct GaugeGuard(crate::engine::HeldGauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.add(-1.0);
    }
}

/// An application histogram family; declare it with [`family!`](crate::family).
pub struct Histogram<L: LabelSet>(pub(crate) Engine<HistogramCell, L>);
common!(Histogram, HistogramCell);

impl<L: LabelSet> Histogram<L> {
    /// Observes `value` in the series at `labels`.
    #[inline]
    pub fn observe(&'static self, labels: L, value: f64) {
        self.0.observe(labels, value);
    }

    /// The series at `labels`, resolved once: see [`crate::handle`].
    pub fn handle(&'static self, labels: L) -> crate::handle::HistogramHandle {
        self.0.handle(labels)
    }

    /// Starts timing: the returned guard observes the seconds elapsed when
    /// it drops, on every path (panic and cancellation included), the way
    /// the catalog's timers do.
    #[inline]
    pub fn start_timer(&'static self, labels: L) -> HistogramTimer<L> {
        HistogramTimer {
            family: self,
            labels,
            start: Instant::now(),
        }
    }
}

/// Observes the time since [`Histogram::start_timer`] when dropped.
#[must_use = "the time is observed when the timer is dropped"]
pub struct HistogramTimer<L: LabelSet> {
    family: &'static Histogram<L>,
    labels: L,
    start: Instant,
}

impl<L: LabelSet> HistogramTimer<L> {
    /// The seconds since the timer started.
    pub fn elapsed_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

impl<L: LabelSet> std::fmt::Debug for HistogramTimer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistogramTimer")
            .field("family", &self.family.spec().name)
            .finish_non_exhaustive()
    }
}

impl<L: LabelSet> Drop for HistogramTimer<L> {
    fn drop(&mut self) {
        self.family.observe(self.labels, self.elapsed_seconds());
    }
}
