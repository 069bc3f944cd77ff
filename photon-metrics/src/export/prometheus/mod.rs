//! The Prometheus exporter: photon's own store, served on a hardened
//! `/metrics` listener, rendered into your server, or pushed.
//!
//! Serve `/metrics` on a listener:
//!
//! ```no_run
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let exporter = PrometheusExporterBuilder::new()
//!     .listen_on("0.0.0.0:8080")?
//!     .global_label("service", "photon-compiler")
//!     .install()?;
//! println!("scrape http://{}/metrics", exporter.local_addr().unwrap());
//! # Ok::<(), photon_metrics::export::ExportError>(())
//! ```
//!
//! Or render into your own HTTP server: pass the request's `Accept` header
//! and answer with the body and content type you get back (OpenMetrics with
//! exemplars when the scraper asks for it, text 0.0.4 otherwise):
//!
//! ```
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
//! metrics::with_local_recorder(&recorder, || {
//!     photon_metrics::runtime::set_queue_depth(3);
//! });
//! let (body, content_type) = exporter.render_for(Some("text/plain"));
//! assert!(body.contains("photon_queue_depth 3"));
//! assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
//! ```
//!
//! What the store guarantees:
//! - every catalog family is exposed with `# HELP` and `# TYPE` (and
//!   `# UNIT` where its name ends in one) from install on; families whose
//!   labels are all closed, or that have none, are present at 0;
//! - histograms are real Prometheus histograms with the catalog's buckets,
//!   updated with atomics at record time: no observation is ever buffered
//!   or lost, and no scrape sees `_count` differ from the `+Inf` bucket;
//! - label values are escaped once, exactly, when their series is created;
//! - series other code records through the `metrics` facade are served too
//!   (histograms with [`PrometheusExporterBuilder::default_buckets`]).
//!
//! # Memory
//!
//! Memory is bounded by design. A family can never hold more series than the
//! product of its labels' value counts (a closed set's size; an open label's
//! cap plus `__overflow__`), and a series never grows after it is created.
//! The worst case per family at the default caps ([`max_memory_bytes`]
//! computes it at the caps in force; a test keeps this table honest):
//!
//! | family | series at most | memory at most |
//! |---|---|---|
//! | `photon_compilations_total` | 8580 | 7661 KiB |
//! | `photon_compilation_duration_seconds` | 66 | 106 KiB |
//! | `photon_compilation_errors_total` | 2145 | 1358 KiB |
//! | `photon_cache_hits_total` | 33 | 13 KiB |
//! | `photon_cache_misses_total` | 33 | 13 KiB |
//! | `photon_memory_usage_bytes` | 66 | 39 KiB |
//! | `photon_memory_limit_bytes` | 1 | 1 KiB |
//! | `photon_device_status` | 5125 | 3025 KiB |
//! | `photon_optical_power_mw` | 1025 | 334 KiB |
//! | `photon_device_temperature_celsius` | 1025 | 334 KiB |
//! | `photon_calibration_drift` | 1025 | 334 KiB |
//! | `photon_inference_latency_seconds` | 5 | 11 KiB |
//! | `photon_active_devices` | 325 | 192 KiB |
//! | `photon_active_sessions` | 1 | 1 KiB |
//! | `photon_throughput_ops_per_second` | 1 | 1 KiB |
//! | `photon_inference_ops_total` | 5 | 2 KiB |
//! | `photon_queue_depth` | 1 | 1 KiB |
//! | `photon_runtime_errors_total` | 65 | 25 KiB |
//! | `photon_metrics_label_overflow_total` | 5 | 2 KiB |
//! | `photon_metrics_label_values` | 5 | 2 KiB |
//! | `photon_metrics_label_cap` | 5 | 2 KiB |
//! | `photon_metrics_stale_records_total` | 5 | 2 KiB |
//! | `photon_otlp_spans_dropped_total` | 2 | 1 KiB |
//!
//! Series are allocated in chunks of 64 as they are first recorded, so a
//! process pays for what it touches: the demo's whole store is well under
//! 1 MiB. Nothing is buffered per observation, and nothing runs in the
//! background to drain anything.

mod builder;
mod exporter;

pub use crate::store::recorder::PhotonRecorder;
pub use builder::PrometheusExporterBuilder;
pub use exporter::PrometheusExporter;

use super::encode::Format;

/// The most memory the store can ever use for `spec`'s series at the
/// current cardinality caps, in bytes (see the table above for the default
/// caps). Raise a cap with [`crate::labels::set_cap`] and this grows with it.
pub fn max_memory_bytes(spec: &crate::catalog::FamilySpec) -> usize {
    crate::store::max_memory_bytes(spec)
}

/// The listen address from the design: all interfaces, port 8080.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The `Content-Type` of the text exposition format (what
/// [`PrometheusExporter::render`] returns).
pub const CONTENT_TYPE: &str = Format::Text.content_type();

/// The memory table in this module's docs, one row per family.
#[cfg(test)]
fn memory_table() -> String {
    let mut out = String::new();
    for spec in crate::catalog::families() {
        out.push_str(&format!(
            "//! | `{}` | {} | {} |\n",
            spec.name,
            spec.max_series(),
            kib(max_memory_bytes(spec))
        ));
    }
    out
}

#[cfg(test)]
fn kib(bytes: usize) -> String {
    format!("{} KiB", bytes.div_ceil(1024))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_memory_bounds_are_the_computed_ones() {
        let table = super::memory_table();
        let docs = include_str!("mod.rs");
        assert!(
            docs.contains(&table),
            "update the memory table in export/prometheus/mod.rs:\n{table}"
        );
        let total: usize = crate::catalog::families()
            .iter()
            .map(super::max_memory_bytes)
            .sum();
        let readme = include_str!("../../../../README.md");
        let claim = format!(
            "at most {:.1} MiB for all families",
            total as f64 / (1 << 20) as f64
        );
        assert!(readme.contains(&claim), "README should say `{claim}`");
    }
}
