//! The metric catalog: the single source of truth for every family.
//!
//! Each [`FamilySpec`] fixes a family's name, help text, unit, kind, label
//! names and (for histograms) bucket bounds. The typed record helpers in
//! [`compiler`](crate::compiler), [`hardware`](crate::hardware) and
//! [`runtime`](crate::runtime) are built from these entries, the Prometheus
//! exporter takes its buckets from them, and the tests under `monitoring/`
//! check every dashboard and alert query against [`families()`].
//!
//! ```
//! let names: Vec<&str> = photon_metrics::catalog::families().iter().map(|f| f.name).collect();
//! assert!(names.contains(&"photon_compilations_total"));
//! let f = photon_metrics::catalog::family("photon_compilation_duration_seconds").unwrap();
//! assert_eq!(f.buckets.unwrap()[0], 0.1);
//! ```

mod spec;

pub use spec::{FamilySpec, Kind, NativeBuckets, Subsystem, Unit};

use crate::labels::LabelName;

/// The native buckets of the catalog's latency histograms: schema 3 (each
/// bucket 9 % wider than the one below), the zero bucket of the Go client
/// (`2^-128`), at most 160 buckets a series (client_golang's usual limit).
pub const LATENCY_NATIVE_BUCKETS: NativeBuckets = NativeBuckets {
    schema: 3,
    zero_threshold: 2.938_735_877_055_719e-39,
    max_buckets: 160,
};

/// Bucket bounds of `photon_compilation_duration_seconds`, from the design.
pub const COMPILATION_DURATION_BUCKETS: &[f64] =
    &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// Bucket bounds of `photon_inference_latency_seconds`: photonic inference
/// runs from single microseconds (one pass through an MZI mesh) to whole
/// seconds (a large batch with host round-trips), so the buckets step
/// 1-2.5-5 per decade from 1 µs to 5 s.
pub const INFERENCE_LATENCY_BUCKETS: &[f64] = &[
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
];

/// Bucket bounds of `photon_pass_duration_seconds`: one MLIR pass on one
/// operation runs from tens of microseconds (`cse` on a small function) to
/// minutes (a whole-module pass on a large model), so the buckets step
/// 1-2.5-5 per decade from 10 µs to 5 min.
pub const PASS_DURATION_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

macro_rules! families {
    (@native) => { None };
    (@native $native:expr) => { Some($native) };
    ($( $(#[$doc:meta])* $ident:ident = {
        name: $name:literal, kind: $kind:ident, unit: $unit:ident, subsystem: $sub:ident,
        labels: [$($label:ident),*], buckets: $buckets:expr, $(native: $native:expr,)?
        help: $help:literal, query: $query:literal $(,)?
    } )*) => {
        /// Index of every family in [`CATALOG`]; the typed helpers use it to
        /// reach their family's handle table without a name lookup.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        #[non_exhaustive]
        pub enum FamilyId {
            $(
                $(#[$doc])*
                #[doc = ""]
                #[doc = $help]
                #[doc = ""]
                #[doc = concat!(
                    "Kind: ", stringify!($kind), "; unit: ", stringify!($unit),
                    "; labels: ", stringify!($($label)*), "."
                )]
                #[doc = ""]
                #[doc = concat!("Example PromQL: `", $query, "`")]
                $ident,
            )*
        }

        impl FamilyId {
            /// Every family, in catalog order.
            pub const ALL: &'static [FamilyId] = &[$(FamilyId::$ident),*];

            /// This family's catalog entry.
            pub const fn spec(self) -> &'static FamilySpec {
                &CATALOG[self as usize]
            }
        }

        /// Every family photon-metrics exports, in a fixed order.
        pub const CATALOG: &[FamilySpec] = &[$(
            FamilySpec {
                name: $name,
                help: $help,
                unit: Unit::$unit,
                kind: Kind::$kind,
                labels: &[$(LabelName::$label),*],
                buckets: $buckets,
                native: families!(@native $($native)?),
                subsystem: Subsystem::$sub,
                example_query: $query,
            },
        )*];
    };
}

families! {
    /// `photon_compilations_total`
    Compilations = {
        name: "photon_compilations_total", kind: Counter, unit: Count, subsystem: Compiler,
        labels: [Target, Status, ModelType], buckets: None,
        help: "Compilations finished, by target, outcome (success, error, panic, cancelled) and model type.",
        query: "sum by (target) (rate(photon_compilations_total[5m]))",
    }
    /// `photon_compilation_duration_seconds`
    CompilationDuration = {
        name: "photon_compilation_duration_seconds", kind: Histogram, unit: Seconds, subsystem: Compiler,
        labels: [Target, ModelSize], buckets: Some(COMPILATION_DURATION_BUCKETS),
        native: LATENCY_NATIVE_BUCKETS,
        help: "Wall-clock time of one compilation in seconds, by target and model size (large above 100000 parameters).",
        query: "histogram_quantile(0.95, sum by (le, target) (rate(photon_compilation_duration_seconds_bucket[5m])))",
    }
    /// `photon_compilation_errors_total`
    CompilationErrors = {
        name: "photon_compilation_errors_total", kind: Counter, unit: Count, subsystem: Compiler,
        labels: [Target, ErrorKind], buckets: None,
        help: "Failed compilations, by target and error kind.",
        query: "sum by (error_kind) (increase(photon_compilation_errors_total[1h]))",
    }
    /// `photon_cache_hits_total`
    CacheHits = {
        name: "photon_cache_hits_total", kind: Counter, unit: Count, subsystem: Compiler,
        labels: [Target], buckets: None,
        help: "Compilation cache lookups that found a compiled artifact, by target.",
        query: "sum(rate(photon_cache_hits_total[5m])) / (sum(rate(photon_cache_hits_total[5m])) + sum(rate(photon_cache_misses_total[5m])))",
    }
    /// `photon_cache_misses_total`
    CacheMisses = {
        name: "photon_cache_misses_total", kind: Counter, unit: Count, subsystem: Compiler,
        labels: [Target], buckets: None,
        help: "Compilation cache lookups that found nothing and compiled, by target.",
        query: "sum by (target) (rate(photon_cache_misses_total[5m]))",
    }
    /// `photon_memory_usage_bytes`
    MemoryUsage = {
        name: "photon_memory_usage_bytes", kind: Gauge, unit: Bytes, subsystem: Compiler,
        labels: [Target, MemoryStat], buckets: None,
        help: "Compiler memory in bytes, by target; memory=current is the resident size now, memory=peak the high-water mark of the last compilation.",
        query: "max by (target) (photon_memory_usage_bytes{memory=\"peak\"})",
    }
    /// `photon_memory_limit_bytes`
    MemoryLimit = {
        name: "photon_memory_limit_bytes", kind: Gauge, unit: Bytes, subsystem: Compiler,
        labels: [], buckets: None,
        help: "Memory the compiler process may use in bytes, as configured by the application (the denominator of the HighMemoryUsage alert).",
        query: "max(photon_memory_usage_bytes{memory=\"current\"}) / scalar(photon_memory_limit_bytes)",
    }
    /// `photon_pass_duration_seconds`
    PassDuration = {
        name: "photon_pass_duration_seconds", kind: Histogram, unit: Seconds, subsystem: Compiler,
        labels: [Pass, Target], buckets: Some(PASS_DURATION_BUCKETS),
        help: "Wall-clock time of one compiler pass run on one operation in seconds, by pass and target (a function pass run on 100 functions counts 100).",
        query: "histogram_quantile(0.95, sum by (le, pass) (rate(photon_pass_duration_seconds_bucket[5m])))",
    }
    /// `photon_pass_failures_total`
    PassFailures = {
        name: "photon_pass_failures_total", kind: Counter, unit: Count, subsystem: Compiler,
        labels: [Pass, Target], buckets: None,
        help: "Compiler pass runs that signalled failure, by pass and target.",
        query: "sum by (pass) (increase(photon_pass_failures_total[1h])) > 0",
    }
    /// `photon_device_status`
    DeviceStatus = {
        name: "photon_device_status", kind: Gauge, unit: State, subsystem: Hardware,
        labels: [DeviceId, DeviceType], buckets: None,
        help: "Photonic device health: 1 = up, 0 = down.",
        query: "photon_device_status == 0",
    }
    /// `photon_optical_power_mw`
    OpticalPower = {
        name: "photon_optical_power_mw", kind: Gauge, unit: Milliwatts, subsystem: Hardware,
        labels: [DeviceId], buckets: None,
        help: "Optical power delivered by the device's laser source in milliwatts.",
        query: "avg_over_time(photon_optical_power_mw[5m])",
    }
    /// `photon_device_temperature_celsius`
    DeviceTemperature = {
        name: "photon_device_temperature_celsius", kind: Gauge, unit: Celsius, subsystem: Hardware,
        labels: [DeviceId], buckets: None,
        help: "Device temperature in degrees Celsius.",
        query: "max by (device_id) (photon_device_temperature_celsius)",
    }
    /// `photon_calibration_drift`
    CalibrationDrift = {
        name: "photon_calibration_drift", kind: Gauge, unit: Ratio, subsystem: Hardware,
        labels: [DeviceId], buckets: None,
        help: "Relative calibration drift of the device's phase shifters as a ratio (0 = freshly calibrated).",
        query: "deriv(photon_calibration_drift[15m])",
    }
    /// `photon_inference_latency_seconds`
    InferenceLatency = {
        name: "photon_inference_latency_seconds", kind: Histogram, unit: Seconds, subsystem: Hardware,
        labels: [DeviceType], buckets: Some(INFERENCE_LATENCY_BUCKETS),
        native: LATENCY_NATIVE_BUCKETS,
        help: "Latency of one inference call in seconds, by device type.",
        query: "histogram_quantile(0.99, sum by (le, device_type) (rate(photon_inference_latency_seconds_bucket[5m])))",
    }
    /// `photon_active_devices`
    ActiveDevices = {
        name: "photon_active_devices", kind: Gauge, unit: Count, subsystem: Hardware,
        labels: [DeviceType, Location], buckets: None,
        help: "Photonic devices currently serving, by device type and location.",
        query: "sum by (location) (photon_active_devices)",
    }
    /// `photon_active_sessions`
    ActiveSessions = {
        name: "photon_active_sessions", kind: Gauge, unit: Count, subsystem: Runtime,
        labels: [], buckets: None,
        help: "Inference sessions in flight.",
        query: "max_over_time(photon_active_sessions[5m])",
    }
    /// `photon_throughput_ops_per_second`
    Throughput = {
        name: "photon_throughput_ops_per_second", kind: Gauge, unit: OpsPerSecond, subsystem: Runtime,
        labels: [], buckets: None,
        help: "Operations per second of the most recent inference call; use rate(photon_inference_ops_total) for averages.",
        query: "photon_throughput_ops_per_second",
    }
    /// `photon_inference_ops_total`
    InferenceOps = {
        name: "photon_inference_ops_total", kind: Counter, unit: Count, subsystem: Runtime,
        labels: [DeviceType], buckets: None,
        help: "Operations executed by inference calls, by device type.",
        query: "sum(rate(photon_inference_ops_total[5m]))",
    }
    /// `photon_queue_depth`
    QueueDepth = {
        name: "photon_queue_depth", kind: Gauge, unit: Count, subsystem: Runtime,
        labels: [], buckets: None,
        help: "Inference requests waiting in the runtime queue.",
        query: "avg_over_time(photon_queue_depth[5m])",
    }
    /// `photon_runtime_errors_total`
    RuntimeErrors = {
        name: "photon_runtime_errors_total", kind: Counter, unit: Count, subsystem: Runtime,
        labels: [ErrorKind], buckets: None,
        help: "Errors raised by the inference runtime, by error kind.",
        query: "sum by (error_kind) (rate(photon_runtime_errors_total[5m]))",
    }
    /// `photon_metrics_label_overflow_total`
    LabelOverflow = {
        name: "photon_metrics_label_overflow_total", kind: Counter, unit: Count, subsystem: SelfMonitoring,
        labels: [Label], buckets: None,
        help: "Foldings into the __overflow__ value because a label was at its cardinality cap, by label name: each creation (or facade record) of a value that did not fit counts once, so one value made twice counts 2.",
        query: "sum by (label) (increase(photon_metrics_label_overflow_total[1h])) > 0",
    }
    /// `photon_metrics_label_values`
    LabelValues = {
        name: "photon_metrics_label_values", kind: Gauge, unit: Count, subsystem: SelfMonitoring,
        labels: [Label], buckets: None,
        help: "Values of each open label live now (interned and not retired, __overflow__ not counted), by label name; compare with photon_metrics_label_cap.",
        query: "photon_metrics_label_values / photon_metrics_label_cap",
    }
    /// `photon_metrics_label_cap`
    LabelCap = {
        name: "photon_metrics_label_cap", kind: Gauge, unit: Count, subsystem: SelfMonitoring,
        labels: [Label], buckets: None,
        help: "The cardinality cap of each open label: how many values it holds at once before new ones fold into __overflow__, by label name.",
        query: "photon_metrics_label_cap - photon_metrics_label_values",
    }
    /// `photon_metrics_stale_records_total`
    StaleRecords = {
        name: "photon_metrics_stale_records_total", kind: Counter, unit: Count, subsystem: SelfMonitoring,
        labels: [Label], buckets: None,
        help: "Records dropped because the label value they were made with had been retired (a handle kept past its retirement or idle expiry), by label name.",
        query: "sum by (label) (rate(photon_metrics_stale_records_total[5m]))",
    }
    /// `photon_otlp_spans_dropped_total`
    SpansDropped = {
        name: "photon_otlp_spans_dropped_total", kind: Counter, unit: Count, subsystem: SelfMonitoring,
        labels: [DropReason], buckets: None,
        help: "Spans that never reached the OTLP collector, by reason (queue_full: the collector is slower than the application; export_failed: unreachable or refused).",
        query: "sum by (reason) (rate(photon_otlp_spans_dropped_total[5m]))",
    }
}

/// Every family photon-metrics exports.
///
/// ```
/// for family in photon_metrics::catalog::families() {
///     assert!(family.name.starts_with("photon_"));
///     assert!(!family.help.is_empty());
/// }
/// ```
pub fn families() -> &'static [FamilySpec] {
    CATALOG
}

/// Looks a family up by its exported name.
pub fn family(name: &str) -> Option<&'static FamilySpec> {
    CATALOG.iter().find(|f| f.name == name)
}

/// The families applications declared with [`family!`](crate::family)
/// and registered so far (explicitly with
/// [`Counter::register`](crate::families::Counter::register) and siblings, or by their first
/// record), in registration order. Every store exports them after the
/// catalog's.
pub fn own_families() -> Vec<&'static FamilySpec> {
    crate::registry::specs()
}

/// The catalog's families, then [`own_families`]: what a dashboard or
/// alert check should accept.
pub fn all_families() -> Vec<&'static FamilySpec> {
    let mut all: Vec<&'static FamilySpec> = CATALOG.iter().collect();
    all.extend(own_families());
    all
}

/// The names a family's series take besides its own.
const SERIES_SUFFIXES: &[&str] = &["_bucket", "_count", "_sum", "_created", "_total"];

/// Whether `name`, or a series name of a family called `name`, is a
/// catalog family's name or one of its series' names. Usable in `const`
/// assertions, which is how [`family!`](crate::family) refuses a clash at
/// compile time.
pub const fn is_catalog_name(name: &str) -> bool {
    let mut i = 0;
    while i < CATALOG.len() {
        let catalog = CATALOG[i].name;
        if crate::labels::same_str(name, catalog)
            || suffixed(name, catalog)
            || suffixed(catalog, name)
        {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `long` is `short` followed by one of [`SERIES_SUFFIXES`].
const fn suffixed(long: &str, short: &str) -> bool {
    let (l, s) = (long.as_bytes(), short.as_bytes());
    if l.len() <= s.len() {
        return false;
    }
    let mut i = 0;
    while i < s.len() {
        if l[i] != s[i] {
            return false;
        }
        i += 1;
    }
    let mut k = 0;
    while k < SERIES_SUFFIXES.len() {
        let suffix = SERIES_SUFFIXES[k].as_bytes();
        if l.len() - s.len() == suffix.len() {
            let mut j = 0;
            let mut same = true;
            while j < suffix.len() {
                if l[s.len() + j] != suffix[j] {
                    same = false;
                }
                j += 1;
            }
            if same {
                return true;
            }
        }
        k += 1;
    }
    false
}

const _: () = {
    let mut i = 0;
    while i < CATALOG.len() {
        assert!(
            CATALOG[i].labels.len() <= crate::labels::MAX_LABELS,
            "a catalog family has more labels than a stamp holds"
        );
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_catalog_order() {
        for (i, id) in FamilyId::ALL.iter().enumerate() {
            assert_eq!(*id as usize, i);
            assert_eq!(id.spec().name, CATALOG[i].name);
        }
    }

    #[test]
    fn names_are_unique_prometheus_names_with_unit_suffixes() {
        let mut seen = std::collections::HashSet::new();
        for f in CATALOG {
            assert!(seen.insert(f.name), "duplicate family {}", f.name);
            assert!(
                f.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                f.name
            );
            match f.kind {
                Kind::Counter => assert!(f.name.ends_with("_total"), "{}", f.name),
                Kind::Gauge | Kind::Histogram => assert!(!f.name.ends_with("_total"), "{}", f.name),
            }
            if f.unit == Unit::Seconds {
                assert!(f.name.ends_with("_seconds"), "{}", f.name);
            }
            if f.unit == Unit::Bytes {
                assert!(f.name.ends_with("_bytes"), "{}", f.name);
            }
        }
    }

    #[test]
    fn histograms_and_only_histograms_have_increasing_buckets() {
        for f in CATALOG {
            match (f.kind, f.buckets) {
                (Kind::Histogram, Some(b)) => {
                    assert!(!b.is_empty());
                    assert!(
                        b.windows(2).all(|w| w[0] < w[1]),
                        "{} buckets not increasing",
                        f.name
                    );
                }
                (Kind::Histogram, None) => panic!("{} has no buckets", f.name),
                (_, Some(_)) => panic!("{} is not a histogram but has buckets", f.name),
                _ => {}
            }
        }
    }

    #[test]
    fn design_buckets_are_exact() {
        assert_eq!(
            family("photon_compilation_duration_seconds")
                .unwrap()
                .buckets
                .unwrap(),
            &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0]
        );
        let lat = family("photon_inference_latency_seconds")
            .unwrap()
            .buckets
            .unwrap();
        assert_eq!(lat[0], 1e-6);
        assert!(*lat.last().unwrap() >= 1.0);
    }

    #[test]
    fn every_example_query_names_its_family() {
        for f in CATALOG {
            assert!(
                f.example_query.contains(f.name),
                "{}: {}",
                f.name,
                f.example_query
            );
        }
    }
}
