//! What a family is: its kind, unit, subsystem, labels, buckets and
//! native layout. The catalog's entries and every `family!` declaration
//! are values of these types; they import nothing but the label names, so
//! everything that reads a family (the registry, the store, the encoders)
//! stands above them.

use crate::labels::LabelName;

/// What kind of Prometheus metric a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A monotonically increasing count; exported as a Prometheus `counter`.
    Counter,
    /// A value that goes up and down; exported as a Prometheus `gauge`.
    Gauge,
    /// A distribution over fixed buckets; exported as a Prometheus `histogram`
    /// (never a summary) with the catalog's buckets.
    Histogram,
}

impl Kind {
    /// The `# TYPE` word Prometheus uses for this kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The unit a family's values are measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// A plain count of events or things.
    Count,
    /// Seconds of wall-clock time.
    Seconds,
    /// Bytes of memory.
    Bytes,
    /// Optical power in milliwatts.
    Milliwatts,
    /// Temperature in degrees Celsius.
    Celsius,
    /// A dimensionless ratio (calibration drift: 0 is perfectly calibrated).
    Ratio,
    /// Operations per second.
    OpsPerSecond,
    /// A state encoded as a number (0 = down, 1 = up).
    State,
}

impl Unit {
    /// Human-readable unit, as printed in help texts and docs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
            Unit::Milliwatts => "milliwatts",
            Unit::Celsius => "degrees Celsius",
            Unit::Ratio => "ratio",
            Unit::OpsPerSecond => "operations per second",
            Unit::State => "state (0 = down, 1 = up)",
        }
    }

    /// The unit as it ends a family's name, written as OpenMetrics' `# UNIT`
    /// (`None` for units no name carries: counts, ratios, states, rates).
    pub const fn suffix(self) -> Option<&'static str> {
        match self {
            Unit::Seconds => Some("seconds"),
            Unit::Bytes => Some("bytes"),
            Unit::Celsius => Some("celsius"),
            Unit::Milliwatts => Some("mw"),
            Unit::Count | Unit::Ratio | Unit::OpsPerSecond | Unit::State => None,
        }
    }

    /// The closest unit of the `metrics` facade, if it has one.
    pub(crate) const fn to_metrics(self) -> Option<metrics::Unit> {
        match self {
            Unit::Count => Some(metrics::Unit::Count),
            Unit::Seconds => Some(metrics::Unit::Seconds),
            Unit::Bytes => Some(metrics::Unit::Bytes),
            Unit::OpsPerSecond => Some(metrics::Unit::CountPerSecond),
            Unit::Milliwatts | Unit::Celsius | Unit::Ratio | Unit::State => None,
        }
    }
}

/// Which part of the system a family describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subsystem {
    /// The MLIR compiler: compilations, errors, cache, memory.
    Compiler,
    /// Photonic devices: status, optics, temperature, calibration, latency.
    Hardware,
    /// The inference runtime: sessions, throughput, queue, errors.
    Runtime,
    /// photon-metrics' own health (cardinality headroom and overflows, stale records, dropped spans).
    SelfMonitoring,
    /// An application's own family, declared with [`family!`](crate::family).
    Application,
}

/// One metric family: everything an exporter, a dashboard or an alert needs to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilySpec {
    /// The exported name, e.g. `photon_compilations_total`.
    pub name: &'static str,
    /// The `# HELP` text. It names the unit.
    pub help: &'static str,
    /// What the values measure.
    pub unit: Unit,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Label names, in the order the record helpers take them.
    pub labels: &'static [LabelName],
    /// Upper bucket bounds (histograms only), strictly increasing; `+Inf` is implicit.
    pub buckets: Option<&'static [f64]>,
    /// Native (sparse exponential) buckets kept beside the classic ones
    /// (histograms only); served in the protobuf exposition.
    pub native: Option<NativeBuckets>,
    /// Where the family belongs.
    pub subsystem: Subsystem,
    /// How the processes of one service combine a gauge's values (see
    /// [`crate::shared`]); counters and histograms always add up.
    pub merge: Merge,
    /// A PromQL query a dashboard or an operator would run against this family.
    pub example_query: &'static str,
}

/// How the processes of one service ([`crate::shared`]) combine a gauge
/// they all set: `family!`'s `merge = …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Merge {
    /// The sum over the live processes (sessions open, requests queued):
    /// an exited process's value leaves with it. The default.
    Sum,
    /// The largest value among the live processes.
    Max,
    /// The smallest value among the live processes.
    Min,
    /// The value of the process that changed it most recently (a device's
    /// temperature, which whichever process reads it sets), as of that
    /// process's latest publication.
    Last,
    /// One series per live process, with a `pid` label.
    PerProcess,
}

impl FamilySpec {
    /// The largest number of series this family can ever hold: the product of
    /// its labels' value counts (closed sets by their size, open sets by their
    /// cardinality cap plus the overflow value). Histograms multiply this by
    /// `buckets + 3` lines in the exposition.
    pub fn max_series(&self) -> usize {
        self.labels.iter().map(|l| l.value_slots()).product()
    }

    /// Whether every label is a closed set (or there are none): such a
    /// family's series are all known up front, and exist at 0 from install.
    pub fn all_labels_closed(&self) -> bool {
        self.labels.iter().all(|l| l.open().is_none())
    }

    /// Whether the family is an integer gauge: a catalog gauge of whole
    /// things ([`Unit::Count`]: sessions, queued requests, devices, label
    /// values). Its series hold an `i64`, so adding to it is one atomic add
    /// rather than a compare-and-swap loop over `f64` bits; an `f64` given
    /// to it (through the `metrics` facade, say) is rounded to the nearest
    /// whole number. Application gauges keep `f64` values whatever their
    /// unit.
    pub const fn integer(&self) -> bool {
        matches!(self.kind, Kind::Gauge)
            && matches!(self.unit, Unit::Count)
            && !matches!(self.subsystem, Subsystem::Application)
    }
}

/// The native-histogram buckets of a histogram family: Prometheus' sparse
/// exponential buckets, served in the protobuf exposition next to the
/// classic ones (which the text formats, and long-term stores that keep only
/// classic histograms, still get).
///
/// At schema `s` a bucket's upper bound is `2^(2^-s)` times its lower one,
/// so a quantile estimated from it is off by at most that factor less one
/// (schema 3: 9.05 %), whatever the values' range.
///
/// ```
/// let f = photon_metrics::catalog::family("photon_inference_latency_seconds").unwrap();
/// let native = f.native.unwrap();
/// assert_eq!(native.schema, 3);
/// assert!((native.relative_error() - 0.0905).abs() < 1e-4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeBuckets {
    /// The resolution (-4 to 8): bucket bounds are the powers `2^(k/2^schema)`.
    pub schema: i8,
    /// Observations with `|v|` at or below this count in the zero bucket.
    pub zero_threshold: f64,
    /// The most buckets one series shows; a scrape that finds more halves
    /// the resolution (merges neighbouring buckets) until they fit.
    pub max_buckets: u32,
}

impl NativeBuckets {
    /// The widest relative error of a quantile read from these buckets:
    /// the ratio of a bucket's bounds, less one.
    pub fn relative_error(&self) -> f64 {
        (-f64::from(self.schema)).exp2().exp2() - 1.0
    }
}

/// The native buckets of the catalog's latency histograms: schema 3 (each
/// bucket 9 % wider than the one below), the zero bucket of the Go client
/// (`2^-128`), at most 160 buckets a series (client_golang's usual limit).
pub const LATENCY_NATIVE_BUCKETS: NativeBuckets = NativeBuckets {
    schema: 3,
    zero_threshold: 2.938_735_877_055_719e-39,
    max_buckets: 160,
};
