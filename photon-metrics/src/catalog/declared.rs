//! Photon's families, declared as an application declares its own: one
//! `family!` invocation, marked `#![catalog]` so that these register first
//! and in this order, and so that no other declaration may take their
//! names. Their label types are `derive(Label)` types in
//! [`crate::labels`]. The typed helpers in [`crate::compiler`],
//! [`crate::hardware`] and [`crate::runtime`] record into these statics.
//!
//! Adding a family to the catalog is adding a declaration here: the
//! registry, every store, the exposition, [`families()`](super::families),
//! the memory table's test and the C, C++ and Python `Family` bindings
//! (which reach every family by name) pick it up.

use crate::labels::{
    DeviceId, DeviceType, DropReason, ErrorKind, Location, MemoryStat, ModelSize, ModelType,
    MonitoredLabel, Pass, Status, Target,
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

crate::family! {
    #![catalog]

    /// Compilations finished, by target, outcome (success, error, panic, cancelled) and model type.
    #[family(
        name = "photon_compilations_total",
        unit = count,
        subsystem = compiler,
        query = "sum by (target) (rate(photon_compilations_total[5m]))",
    )]
    pub(crate) static COMPILATIONS: Counter<(Target, Status, ModelType)>;

    /// Wall-clock time of one compilation in seconds, by target and model size (large above 100000
    /// parameters).
    #[family(
        name = "photon_compilation_duration_seconds",
        unit = seconds,
        subsystem = compiler,
        buckets = COMPILATION_DURATION_BUCKETS,
        native(schema = 3, max_buckets = 160),
        query = "histogram_quantile(0.95, sum by (le, target) (rate(photon_compilation_duration_seconds_bucket[5m])))",
    )]
    pub(crate) static COMPILATION_DURATION: Histogram<(Target, ModelSize)>;

    /// Failed compilations, by target and error kind.
    #[family(
        name = "photon_compilation_errors_total",
        unit = count,
        subsystem = compiler,
        query = "sum by (error_kind) (increase(photon_compilation_errors_total[1h]))",
    )]
    pub(crate) static COMPILATION_ERRORS: Counter<(Target, ErrorKind)>;

    /// Compilation cache lookups that found a compiled artifact, by target.
    #[family(
        name = "photon_cache_hits_total",
        unit = count,
        subsystem = compiler,
        query = "sum(rate(photon_cache_hits_total[5m])) / (sum(rate(photon_cache_hits_total[5m])) + sum(rate(photon_cache_misses_total[5m])))",
    )]
    pub(crate) static CACHE_HITS: Counter<(Target,)>;

    /// Compilation cache lookups that found nothing and compiled, by target.
    #[family(
        name = "photon_cache_misses_total",
        unit = count,
        subsystem = compiler,
        query = "sum by (target) (rate(photon_cache_misses_total[5m]))",
    )]
    pub(crate) static CACHE_MISSES: Counter<(Target,)>;

    /// Compiler memory in bytes, by target; memory=current is the resident size now, memory=peak
    /// the high-water mark of the last compilation.
    #[family(
        name = "photon_memory_usage_bytes",
        unit = bytes,
        subsystem = compiler,
        query = "max by (target) (photon_memory_usage_bytes{memory=\"peak\"})",
    )]
    pub(crate) static MEMORY_USAGE: Gauge<(Target, MemoryStat)>;

    /// Memory the compiler process may use in bytes, as configured by the application (the
    /// denominator of the HighMemoryUsage alert).
    #[family(
        name = "photon_memory_limit_bytes",
        unit = bytes,
        subsystem = compiler,
        merge = max,
        query = "max(photon_memory_usage_bytes{memory=\"current\"}) / scalar(photon_memory_limit_bytes)",
    )]
    pub(crate) static MEMORY_LIMIT: Gauge<()>;

    /// Wall-clock time of one compiler pass run on one operation in seconds, by pass and target (a
    /// function pass run on 100 functions counts 100).
    #[family(
        name = "photon_pass_duration_seconds",
        unit = seconds,
        subsystem = compiler,
        buckets = PASS_DURATION_BUCKETS,
        query = "histogram_quantile(0.95, sum by (le, pass) (rate(photon_pass_duration_seconds_bucket[5m])))",
    )]
    pub(crate) static PASS_DURATION: Histogram<(Pass, Target)>;

    /// Compiler pass runs that signalled failure, by pass and target.
    #[family(
        name = "photon_pass_failures_total",
        unit = count,
        subsystem = compiler,
        query = "sum by (pass) (increase(photon_pass_failures_total[1h])) > 0",
    )]
    pub(crate) static PASS_FAILURES: Counter<(Pass, Target)>;

    /// Photonic device health: 1 = up, 0 = down.
    #[family(
        name = "photon_device_status",
        unit = state,
        subsystem = hardware,
        merge = last,
        query = "photon_device_status == 0",
    )]
    pub(crate) static DEVICE_STATUS: Gauge<(DeviceId, DeviceType)>;

    /// Optical power delivered by the device's laser source in milliwatts.
    #[family(
        name = "photon_optical_power_mw",
        unit = milliwatts,
        subsystem = hardware,
        merge = last,
        query = "avg_over_time(photon_optical_power_mw[5m])",
    )]
    pub(crate) static OPTICAL_POWER: Gauge<(DeviceId,)>;

    /// Device temperature in degrees Celsius.
    #[family(
        name = "photon_device_temperature_celsius",
        unit = celsius,
        subsystem = hardware,
        merge = last,
        query = "max by (device_id) (photon_device_temperature_celsius)",
    )]
    pub(crate) static DEVICE_TEMPERATURE: Gauge<(DeviceId,)>;

    /// Relative calibration drift of the device's phase shifters as a ratio (0 = freshly
    /// calibrated).
    #[family(
        name = "photon_calibration_drift",
        unit = ratio,
        subsystem = hardware,
        merge = last,
        query = "deriv(photon_calibration_drift[15m])",
    )]
    pub(crate) static CALIBRATION_DRIFT: Gauge<(DeviceId,)>;

    /// Latency of one inference call in seconds, by device type.
    #[family(
        name = "photon_inference_latency_seconds",
        unit = seconds,
        subsystem = hardware,
        buckets = INFERENCE_LATENCY_BUCKETS,
        native(schema = 3, max_buckets = 160),
        query = "histogram_quantile(0.99, sum by (le, device_type) (rate(photon_inference_latency_seconds_bucket[5m])))",
    )]
    pub(crate) static INFERENCE_LATENCY: Histogram<(DeviceType,)>;

    /// Photonic devices currently serving, by device type and location.
    #[family(
        name = "photon_active_devices",
        unit = count,
        subsystem = hardware,
        merge = max,
        query = "sum by (location) (photon_active_devices)",
    )]
    pub(crate) static ACTIVE_DEVICES: Gauge<(DeviceType, Location)>;

    /// Inference sessions in flight.
    #[family(
        name = "photon_active_sessions",
        unit = count,
        subsystem = runtime,
        query = "max_over_time(photon_active_sessions[5m])",
    )]
    pub(crate) static ACTIVE_SESSIONS: Gauge<()>;

    /// Operations per second of the most recent inference call; use
    /// rate(photon_inference_ops_total) for averages.
    #[family(
        name = "photon_throughput_ops_per_second",
        unit = ops_per_second,
        subsystem = runtime,
        query = "photon_throughput_ops_per_second",
    )]
    pub(crate) static THROUGHPUT: Gauge<()>;

    /// Operations executed by inference calls, by device type.
    #[family(
        name = "photon_inference_ops_total",
        unit = count,
        subsystem = runtime,
        query = "sum(rate(photon_inference_ops_total[5m]))",
    )]
    pub(crate) static INFERENCE_OPS: Counter<(DeviceType,)>;

    /// Inference requests waiting in the runtime queue.
    #[family(
        name = "photon_queue_depth",
        unit = count,
        subsystem = runtime,
        query = "avg_over_time(photon_queue_depth[5m])",
    )]
    pub(crate) static QUEUE_DEPTH: Gauge<()>;

    /// Errors raised by the inference runtime, by error kind.
    #[family(
        name = "photon_runtime_errors_total",
        unit = count,
        subsystem = runtime,
        query = "sum by (error_kind) (rate(photon_runtime_errors_total[5m]))",
    )]
    pub(crate) static RUNTIME_ERRORS: Counter<(ErrorKind,)>;

    /// Foldings into the __overflow__ value because a label was at its cardinality cap, by label
    /// name: each creation (or facade record) of a value that did not fit counts once, so one value
    /// made twice counts 2.
    #[family(
        name = "photon_metrics_label_overflow_total",
        unit = count,
        subsystem = self_monitoring,
        query = "sum by (label) (increase(photon_metrics_label_overflow_total[1h])) > 0",
    )]
    pub(crate) static LABEL_OVERFLOW: Counter<(MonitoredLabel,)>;

    /// Values of each open label live now (interned and not retired, __overflow__ not counted), by
    /// label name; compare with photon_metrics_label_cap.
    #[family(
        name = "photon_metrics_label_values",
        unit = count,
        subsystem = self_monitoring,
        merge = max,
        query = "photon_metrics_label_values / photon_metrics_label_cap",
    )]
    pub(crate) static LABEL_VALUES: Gauge<(MonitoredLabel,)>;

    /// The cardinality cap of each open label: how many values it holds at once before new ones
    /// fold into __overflow__, by label name.
    #[family(
        name = "photon_metrics_label_cap",
        unit = count,
        subsystem = self_monitoring,
        merge = max,
        query = "photon_metrics_label_cap - photon_metrics_label_values",
    )]
    pub(crate) static LABEL_CAP: Gauge<(MonitoredLabel,)>;

    /// Records dropped because the label value they were made with had been retired (a handle kept
    /// past its retirement or idle expiry), by label name.
    #[family(
        name = "photon_metrics_stale_records_total",
        unit = count,
        subsystem = self_monitoring,
        query = "sum by (label) (rate(photon_metrics_stale_records_total[5m]))",
    )]
    pub(crate) static STALE_RECORDS: Counter<(MonitoredLabel,)>;

    /// Spans that never reached the OTLP collector, by reason (queue_full: the collector is slower
    /// than the application; export_failed: unreachable or refused).
    #[family(
        name = "photon_otlp_spans_dropped_total",
        unit = count,
        subsystem = self_monitoring,
        query = "sum by (reason) (rate(photon_otlp_spans_dropped_total[5m]))",
    )]
    pub(crate) static SPANS_DROPPED: Counter<(DropReason,)>;
}
